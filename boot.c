/*
 * Copyright (c) 2026 The vmlaunch authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/*
 * The wait for a guest, after a start or a resume: its port is probed
 * until the banner comes (probe.c), and meanwhile the backend's status
 * is asked once a second at first, then every quarter of the time it has
 * been booting, at most every BOOT_WATCH_MAX (boot_watch_ms), so that a
 * VM that stops or vanishes while it boots fails its waiters within that
 * instead of at the boot wait, and a long boot costs a status every 4 s
 * rather than every second.  A VM may
 * be missing from the status for a moment right after its start; one of
 * ours that the status says is gone is believed the second time in a
 * row.  The boot wait ends it.
 *
 * Lifetime: a boot belongs to its VM (vm.c) from boot_start() until its
 * callback has reported the end (BOOT_READY, BOOT_GONE, BOOT_TIMEOUT), or
 * boot_cancel().  It owns its probe, its status poll and its two timers.
 * The callback runs from the event loop: with BOOT_ADDRESS and BOOT_ID as
 * often as there is news, once with an end, after which the boot is
 * freed; it may cancel the boot after news, not after an end.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmlaunch.h"

#define BOOT_WATCH_INTERVAL	1000	/* ms: status while booting, */
#define BOOT_WATCH_MAX		4000	/* growing to this (boot_watch_ms) */
#define BOOT_RECHECK		500	/* ms: a second opinion */
#define BOOT_ABSENT_GRACE	3000	/* ms: a new VM may be missing */

struct boot {
	char			 name[VM_NAME_MAX];
	int			 owned;
	int			 has_id;
	unsigned int		 id;
	long long		 t_boot;	/* the start or resume began */
	long long		 wait_ms;	/* boot wait */
	int			 odd;		/* answers in a row: gone */
	char			 addr[128];	/* being probed */
	char			 why[256];	/* not ready, last reason */
	const struct policy	*pol;		/* the VM's */
	int			 port;
	long long		 t_watch;	/* the watch was asked */
	long long		 t_doubt;	/* its id was put in doubt */
	struct probe		*probe;
	struct backend_req	*watch;
	struct event		 ev_deadline;
	struct event		 ev_poll;
	boot_cb			 cb;
	void			*arg;
};

static void	 boot_probe_cb(enum probe_event, int, const char *, void *);
static void	 boot_poll(int, short, void *);
static void	 boot_polled(const struct backend_result *, void *);
static void	 boot_deadline(int, short, void *);
static void	 boot_end(struct boot *, enum boot_event, int, const char *,
		    const struct vmd_row *);

/*
 * Until the next status: a quarter of the time it has been booting, at
 * least BOOT_WATCH_INTERVAL, at most BOOT_WATCH_MAX.  A VM that dies
 * while booting fails its waiters within that after its death, plus the
 * second opinion (BOOT_RECHECK) and the status runs.
 */
static long long
boot_watch_ms(const struct boot *b)
{
	long long	 ms = (now_ms() - b->t_boot) / 4;

	if (ms < BOOT_WATCH_INTERVAL)
		ms = BOOT_WATCH_INTERVAL;
	if (ms > BOOT_WATCH_MAX)
		ms = BOOT_WATCH_MAX;
	return (ms);
}

/*
 * Wait for vm name's guest on port, until t_boot (now_ms()) plus the
 * boot wait of pol.  *addr is the address when it is known now.
 */
struct boot *
boot_start(const struct policy *pol, const char *name, int owned, int has_id,
    unsigned int id, int port, long long t_boot, boot_cb cb, void *arg,
    char *addr, size_t addrlen)
{
	struct sockaddr_storage	 ss;
	struct boot		*b;
	socklen_t		 sl;
	char			 err[256];

	if ((b = calloc(1, sizeof(*b))) == NULL)
		fatal("boot");
	(void)strlcpy(b->name, name, sizeof(b->name));
	b->owned = owned;
	b->has_id = has_id;
	b->id = id;
	b->t_boot = t_boot;
	b->wait_ms = pol->boot_wait * 1000;
	b->cb = cb;
	b->arg = arg;
	b->pol = pol;
	b->port = port;
	/* The address, when it is known now, shows in the first progress. */
	if (address_guest(pol, name, has_id, id, port, &ss, &sl, err,
	    sizeof(err)) == ADDRESS_OK)
		address_print(&ss, sl, b->addr, sizeof(b->addr));
	(void)strlcpy(addr, b->addr, addrlen);
	evtimer_set(&b->ev_deadline, boot_deadline, b);
	evtimer_set(&b->ev_poll, boot_poll, b);
	timer_ms(&b->ev_deadline, b->wait_ms - (now_ms() - t_boot));
	timer_ms(&b->ev_poll, boot_watch_ms(b));
	b->probe = probe_start(pol, name, has_id, id, port, PROBE_BANNER,
	    boot_probe_cb, b);
	return (b);
}

/* Since when the status that answered last was asked, now_ms(). */
long long
boot_asked(struct boot *b)
{
	return (b->t_watch);
}

/* The VM's id is this now: the probe looks at its address. */
void
boot_reprobe(struct boot *b, int has_id, unsigned int id)
{
	if (b == NULL || (b->probe != NULL && b->has_id == has_id &&
	    b->id == id))
		return;
	b->has_id = has_id;
	b->id = id;
	probe_cancel(b->probe);
	b->probe = probe_start(b->pol, b->name, has_id, id, b->port,
	    PROBE_BANNER, boot_probe_cb, b);
}

/* Its id may be another VM's: no probe until the watch says it runs. */
void
boot_doubt(struct boot *b)
{
	if (b == NULL)
		return;
	probe_cancel(b->probe);
	b->probe = NULL;
	/* Which id it has is for a status newer than this to tell. */
	b->has_id = 0;
	b->t_doubt = now_ms();
	if (b->watch == NULL) {
		evtimer_del(&b->ev_poll);
		timer_ms(&b->ev_poll, 0);
	}
}

void
boot_cancel(struct boot *b)
{
	if (b == NULL)
		return;
	evtimer_del(&b->ev_deadline);
	evtimer_del(&b->ev_poll);
	probe_cancel(b->probe);
	backend_cancel(b->watch);
	free(b);
}

static void
boot_probe_cb(enum probe_event ev, int fd, const char *text, void *arg)
{
	struct boot	*b = arg;

	switch (ev) {
	case PROBE_ADDRESS:
		if (strcmp(b->addr, text) == 0)
			break;
		(void)strlcpy(b->addr, text, sizeof(b->addr));
		b->cb(BOOT_ADDRESS, -1, b->addr, NULL, b->arg);
		break;
	case PROBE_WAITING:
		log_debug("vm %s: probe: %s", b->name, text);
		(void)strlcpy(b->why, text, sizeof(b->why));
		break;
	case PROBE_READY:
		b->probe = NULL;
		boot_end(b, BOOT_READY, fd, b->addr, NULL);
		break;
	case PROBE_FAILED:
		b->probe = NULL;	/* not in banner mode */
		break;
	}
}

static void
boot_poll(int fd, short ev, void *arg)
{
	struct boot	*b = arg;

	if (b->watch != NULL)
		return;
	b->t_watch = now_ms();
	b->watch = backend_status(b->name, BACKEND_FRESH, boot_polled, b);
}

/* Is the VM still there? */
static void
boot_polled(const struct backend_result *res, void *arg)
{
	struct boot		*b = arg;
	const struct vmd_row	*row = res->row;
	struct vmd_row		 gone;
	enum vmd_state		 st;

	b->watch = NULL;
	if (!res->ok) {
		log_debug("vm %s: status: %s", b->name, res->msg);
		timer_ms(&b->ev_poll, boot_watch_ms(b));
		return;
	}
	if (b->t_watch < b->t_doubt) {
		/* Asked before its id came into doubt: it may not know. */
		timer_ms(&b->ev_poll, 0);
		return;
	}
	st = row != NULL ? row->state : VMD_ABSENT;
	/* The VM decides which id it has, and tells (boot_reprobe). */
	if (row != NULL && row->has_id && (!b->has_id || b->id != row->id))
		b->cb(BOOT_ID, -1, NULL, row, b->arg);
	/*
	 * Paused, waiting or unknown is not gone (the boot wait decides);
	 * stopped, stopping or missing for long is.
	 */
	if (st == VMD_RUNNING || st == VMD_PAUSED || st == VMD_WAITING ||
	    st == VMD_UNKNOWN || (st == VMD_ABSENT &&
	    now_ms() - b->t_boot < BOOT_ABSENT_GRACE)) {
		b->odd = 0;
		/* Its id was in doubt: this answer is newer. */
		if (b->probe == NULL)
			b->probe = probe_start(b->pol, b->name, b->has_id,
			    b->id, b->port, PROBE_BANNER, boot_probe_cb, b);
		timer_ms(&b->ev_poll, boot_watch_ms(b));
		return;
	}
	if (b->owned && ++b->odd < 2) {
		log_info("vm %s: the status says it is not running; asking "
		    "again", b->name);
		timer_ms(&b->ev_poll, BOOT_RECHECK);
		return;
	}
	memset(&gone, 0, sizeof(gone));
	(void)strlcpy(gone.name, b->name, sizeof(gone.name));
	gone.state = st;
	boot_end(b, BOOT_GONE, -1, NULL, &gone);
}

static void
boot_deadline(int fd, short ev, void *arg)
{
	struct boot	*b = arg;
	char		 d[32], msg[512];

	if (timer_early(&b->ev_deadline, b->t_boot + b->wait_ms))
		return;
	print_duration(b->wait_ms / 1000, d, sizeof(d));
	if (b->addr[0] != '\0')
		snprintf(msg, sizeof(msg), "guest %s did not answer within %s",
		    b->addr, d);
	else
		snprintf(msg, sizeof(msg), "no guest address within %s: %s",
		    d, b->why);
	if (b->addr[0] != '\0' && b->why[0] != '\0')
		log_info("vm %s: guest %s, last: %s", b->name, b->addr,
		    b->why);
	boot_end(b, BOOT_TIMEOUT, -1, msg, NULL);
}

static void
boot_end(struct boot *b, enum boot_event ev, int fd, const char *text,
    const struct vmd_row *row)
{
	evtimer_del(&b->ev_deadline);
	evtimer_del(&b->ev_poll);
	probe_cancel(b->probe);
	backend_cancel(b->watch);
	b->cb(ev, fd, text, row, b->arg);
	free(b);
}
