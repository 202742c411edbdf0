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
 * A stop in progress, verified: the backend's graceful stop, then its
 * status, polled until it says the VM is gone; after `stop wait` a forced
 * stop, and the stop wait again.  Ours, the stop is written to the state
 * file before it is asked for, and a VM that we paused (or may have) is
 * unpaused first, since a paused guest cannot act on the request.  One of
 * a predecessor's is finished where it was; someone else's is only
 * waited for.  What comes of it, the VM (vm.c) decides.
 *
 * Lifetime: a halt belongs to its VM from halt_start() until its
 * callback has reported the end, or halt_cancel().  It owns its request
 * (the unpause, the stop or the forced stop), its status poll and its two
 * timers.  The callback runs from the event loop, once; the halt is
 * freed when it returns.
 */

#include <sys/types.h>

#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "vmlaunch.h"

#define HALT_POLL_INTERVAL	500	/* ms: status while stopping */
#define HALT_POLL_FIRST		100	/* ms after the stop returned */

struct halt {
	char			 name[VM_NAME_MAX];
	enum halt_kind		 kind;
	int			 forced;
	int			 has_id;
	unsigned int		 id;
	long long		 wait_ms;	/* stop wait */
	long long		 t_began;	/* this stop, or the forced */
	long long		 t_watch;	/* the watch was asked */
	struct backend_req	*req;		/* unpause, stop, force */
	struct backend_req	*watch;		/* status */
	struct event		 ev_deadline;
	struct event		 ev_poll;
	enum vmd_state		 last;		/* last seen */
	int			 incb;		/* in its HALT_ID callback */
	int			 cancelled;	/* ... and cancelled there */
	halt_cb			 cb;
	void			*arg;
};

static void	 halt_ask(struct halt *);
static void	 halt_unpaused(const struct backend_result *, void *);
static void	 halt_asked(const struct backend_result *, void *);
static void	 halt_poll(int, short, void *);
static void	 halt_polled(const struct backend_result *, void *);
static void	 halt_deadline(int, short, void *);
static void	 halt_end(struct halt *, enum halt_end);

/*
 * Stop vm name as kind says, the stop wait wait_ms from now; a stop of a
 * predecessor (HALT_ADOPTED) began elapsed ms ago.
 */
struct halt *
halt_start(const char *name, enum halt_kind kind, int has_id,
    unsigned int id, long long wait_ms, long long elapsed, halt_cb cb,
    void *arg)
{
	struct halt	*h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		fatal("halt");
	(void)strlcpy(h->name, name, sizeof(h->name));
	h->kind = kind;
	h->has_id = has_id;
	h->id = id;
	h->wait_ms = wait_ms;
	h->t_began = now_ms() - elapsed;
	h->last = VMD_UNKNOWN;
	h->cb = cb;
	h->arg = arg;
	evtimer_set(&h->ev_deadline, halt_deadline, h);
	evtimer_set(&h->ev_poll, halt_poll, h);
	timer_ms(&h->ev_deadline, wait_ms - elapsed);
	switch (kind) {
	case HALT_UNPAUSE:
		h->req = backend_pause(name, 0, halt_unpaused, h);
		break;
	case HALT_OURS:
		halt_ask(h);
		break;
	case HALT_ADOPTED:
		timer_ms(&h->ev_poll, 0);
		break;
	case HALT_THEIRS:
		timer_ms(&h->ev_poll, HALT_POLL_INTERVAL);
		break;
	}
	return (h);
}

void
halt_cancel(struct halt *h)
{
	if (h == NULL)
		return;
	if (h->incb) {
		h->cancelled = 1;
		return;
	}
	evtimer_del(&h->ev_deadline);
	evtimer_del(&h->ev_poll);
	backend_cancel(h->req);
	backend_cancel(h->watch);
	free(h);
}

/* Since when this stop (or its forced stop) runs, now_ms(). */
long long
halt_began(struct halt *h)
{
	return (h->t_began);
}

/* Someone else's stop, only waited for. */
int
halt_theirs(struct halt *h)
{
	return (h != NULL && h->kind == HALT_THEIRS);
}

/* Since when the status that answered last was asked, now_ms(). */
long long
halt_watched(struct halt *h)
{
	return (h != NULL ? h->t_watch : now_ms());
}

/* The VM's id, as the VM decided after HALT_ID. */
void
halt_id(struct halt *h, int has_id, unsigned int id)
{
	if (h == NULL)
		return;
	h->has_id = has_id;
	h->id = id;
}

/*
 * The VM is no longer ours (its id was dealt to another): the stop is
 * someone else's from now on, only waited for, never forced.
 */
void
halt_disown(struct halt *h)
{
	if (h == NULL || h->kind == HALT_THEIRS)
		return;
	h->kind = HALT_THEIRS;
	backend_cancel(h->req);
	h->req = NULL;
}

/* Ours: the state file first, then the request. */
static void
halt_ask(struct halt *h)
{
	h->kind = HALT_OURS;
	state_set(h->name, STATE_STOPPING, h->has_id, h->id);
	h->req = backend_stop(h->name, 0, halt_asked, h);
}

static void
halt_unpaused(const struct backend_result *res, void *arg)
{
	struct halt	*h = arg;

	h->req = NULL;
	if (!res->ok)
		history_add(h->name, LOG_ERR, "unpause before the stop "
		    "failed: %s; stopping it anyway", res->msg);
	halt_ask(h);
}

static void
halt_asked(const struct backend_result *res, void *arg)
{
	struct halt	*h = arg;

	h->req = NULL;
	if (!res->ok)
		history_add(h->name, LOG_ERR, "%s: %s", h->forced ?
		    "forced stop" : "stop", res->msg);
	else
		log_debug("vm %s: stop: %s", h->name, res->msg);
	/* Whatever it said, the status tells whether it stopped. */
	if (!evtimer_pending(&h->ev_poll, NULL) && h->watch == NULL)
		timer_ms(&h->ev_poll, res->ok ? HALT_POLL_FIRST : 0);
}

static void
halt_poll(int fd, short ev, void *arg)
{
	struct halt	*h = arg;

	if (h->watch != NULL)
		return;
	h->t_watch = now_ms();
	h->watch = backend_status(h->name, BACKEND_FRESH, halt_polled, h);
}

static void
halt_polled(const struct backend_result *res, void *arg)
{
	struct halt		*h = arg;
	const struct vmd_row	*row = res->row;

	h->watch = NULL;
	if (!res->ok) {
		log_debug("vm %s: status: %s", h->name, res->msg);
		timer_ms(&h->ev_poll, HALT_POLL_INTERVAL);
		return;
	}
	h->last = row != NULL ? row->state : VMD_ABSENT;
	if (row != NULL && row->has_id && (!h->has_id || h->id != row->id)) {
		/*
		 * The VM decides whether that is still the VM being stopped
		 * (halt_id), and may end this stop there.
		 */
		h->incb = 1;
		h->cb(HALT_ID, row, h->arg);
		h->incb = 0;
		if (h->cancelled) {
			halt_cancel(h);
			return;
		}
	}
	if (h->last == VMD_ABSENT || h->last == VMD_STOPPED) {
		history_add(h->name, LOG_INFO, "stopped after %.1fs%s",
		    (now_ms() - h->t_began) / 1000.0, h->forced ?
		    " (forced)" : "");
		halt_end(h, HALT_STOPPED);
		return;
	}
	if (h->last == VMD_RUNNING && h->kind == HALT_THEIRS) {
		/* Someone else's stop ended with it running. */
		history_add(h->name, LOG_INFO, "running again");
		halt_end(h, HALT_RUNNING);
		return;
	}
	timer_ms(&h->ev_poll, HALT_POLL_INTERVAL);
}

/* The stop wait passed: force ours, or give up waiting. */
static void
halt_deadline(int fd, short ev, void *arg)
{
	struct halt	*h = arg;
	char		 d[32];

	if (timer_early(&h->ev_deadline, h->t_began + h->wait_ms))
		return;
	print_duration(h->wait_ms / 1000, d, sizeof(d));
	if (h->kind == HALT_THEIRS) {
		history_add(h->name, LOG_ERR, "still stopping after %s, "
		    "stopped by someone else", d);
		halt_end(h, HALT_STUCK);
		return;
	}
	if (h->forced) {
		history_add(h->name, LOG_ERR, "still %s after a forced stop",
		    vmd_state_name(h->last));
		halt_end(h, HALT_STUCK);
		return;
	}
	history_add(h->name, LOG_ERR, "still running %s after the stop "
	    "request, forcing it", d);
	h->forced = 1;
	h->kind = HALT_OURS;
	h->t_began = now_ms();
	backend_cancel(h->req);
	h->req = backend_stop(h->name, 1, halt_asked, h);
	timer_ms(&h->ev_deadline, h->wait_ms);
}

static void
halt_end(struct halt *h, enum halt_end end)
{
	struct vmd_row	 row;

	memset(&row, 0, sizeof(row));
	(void)strlcpy(row.name, h->name, sizeof(row.name));
	row.state = h->last;
	row.has_id = h->has_id;
	row.id = h->id;
	evtimer_del(&h->ev_deadline);
	evtimer_del(&h->ev_poll);
	backend_cancel(h->req);
	backend_cancel(h->watch);
	h->cb(end, &row, h->arg);
	free(h);
}
