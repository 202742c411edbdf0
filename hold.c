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
 * Holds: a VM kept up without an ssh session (vmlaunch -k), for a
 * duration or until released, for the work that outlives a session.  A
 * hold is a session of its own (session.c) that wants no socket: it
 * boots the VM if need be, keeps it from an idle pause or stop, and
 * counts when vmlaunch -x asks whether the VM is in use.  One hold per
 * VM; setting it again sets its end anew.  Holds are written to the
 * state file (state.c) and restored from it by a new supervisor, as
 * sessions of a previous one are; SIGTERM ends them with the VMs.
 *
 * Lifetime: a hold owns its session (closed when the hold ends) and its
 * timer (the end, or, after its session failed, the moment it goes,
 * since a session callback must not close the session).  hold_end() is
 * the one way out.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "vmlaunch.h"

struct hold {
	LIST_ENTRY(hold)	 entry;
	char			 name[VM_NAME_MAX];
	time_t			 until;		/* 0: until released */
	struct session		*session;
	struct event		 ev;
	char			 failed[256];	/* why its session failed */
};

static LIST_HEAD(, hold) holds = LIST_HEAD_INITIALIZER(holds);
static struct config	*hold_conf;

static void	 hold_ready(void *, int, const char *);
static void	 hold_fail(void *, const char *);
static void	 hold_changed(void *);
static void	 hold_timer(int, short, void *);
static void	 hold_end(struct hold *, const char *);

static const struct session_ops hold_ops = {
	hold_ready,
	hold_fail,
	hold_changed
};

void
hold_configure(struct config *conf)
{
	hold_conf = conf;
}

static struct hold *
hold_find(const char *name)
{
	struct hold	*h;

	LIST_FOREACH(h, &holds, entry)
		if (strcmp(h->name, name) == 0)
			return (h);
	return (NULL);
}

/* "until Nov 30 16:04", or "until released". */
static void
hold_until(time_t until, char *buf, size_t len)
{
	struct tm	 tm;
	char		 t[32];

	if (until == 0) {
		(void)strlcpy(buf, "until released", len);
		return;
	}
	localtime_r(&until, &tm);
	strftime(t, sizeof(t), "%b %e %H:%M", &tm);
	snprintf(buf, len, "until %s", t);
}

static void
hold_arm(struct hold *h)
{
	evtimer_del(&h->ev);
	if (h->until != 0)
		timer_ms(&h->ev, (h->until - time(NULL)) * 1000LL);
}

static struct hold *
hold_new(struct vmconf *vmc, time_t until, int flags)
{
	struct hold	*h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		fatal("hold");
	(void)strlcpy(h->name, vmc->name, sizeof(h->name));
	h->until = until;
	evtimer_set(&h->ev, hold_timer, h);
	LIST_INSERT_HEAD(&holds, h, entry);
	/* Port 0: the port the VM was last reached on. */
	h->session = session_open(vmc, 0, SESSION_HOLD | flags, NULL, NULL,
	    &hold_ops, h);
	return (h);
}

/*
 * Hold the VM up for secs (HOLD_FOREVER: until released), from now,
 * booting it if need be; msg says so.
 */
int
hold_set(struct vmconf *vmc, long long secs, char *msg, size_t len)
{
	struct hold	*h;
	time_t		 until = secs == HOLD_FOREVER ? 0 : time(NULL) + secs;
	char		 u[48], d[32];

	/* One whose VM failed to come up is about to go: replace it. */
	if ((h = hold_find(vmc->name)) != NULL && h->failed[0] != '\0') {
		hold_end(h, NULL);
		h = NULL;
	}
	hold_until(until, u, sizeof(u));
	state_hold(vmc->name, until);
	if (secs == HOLD_FOREVER)
		snprintf(msg, len, "%s: held %s", vmc->name, u);
	else
		snprintf(msg, len, "%s: held for %s, %s", vmc->name,
		    print_duration(secs, d, sizeof(d)), u);
	history_add(vmc->name, LOG_INFO, "%s", strchr(msg, ' ') + 1);
	if (h != NULL) {
		h->until = until;
		hold_arm(h);
		return (0);
	}
	h = hold_new(vmc, until, 0);
	hold_arm(h);
	return (0);
}

/* End the hold on vm name, if any: 1 if there was one. */
int
hold_release(const char *name, char *msg, size_t len)
{
	struct hold	*h;

	if ((h = hold_find(name)) == NULL) {
		snprintf(msg, len, "%s: no hold to release", name);
		return (0);
	}
	snprintf(msg, len, "%s: hold released", name);
	hold_end(h, "hold released");
	return (1);
}

/*
 * A hold of a previous supervisor, from the state file: counted again at
 * once, as its sessions are.  -1 if it is to be forgotten.
 */
int
hold_restore(const char *name, time_t until)
{
	struct vmconf	*vmc;
	struct hold	*h;
	char		 u[48];

	if (hold_conf == NULL || (vmc = config_find_vm(hold_conf, name)) ==
	    NULL) {
		log_info("vm %s: a hold of a previous supervisor dropped: no "
		    "such vm in the configuration", name);
		return (-1);
	}
	if (hold_find(name) != NULL)
		return (0);
	hold_until(until, u, sizeof(u));
	history_add(name, LOG_INFO, "held %s, restored from the state file", u);
	h = hold_new(vmc, until, CTL_FLAG_RESUME);
	hold_arm(h);
	return (0);
}

static void
hold_end(struct hold *h, const char *why)
{
	if (why != NULL)
		history_add(h->name, LOG_INFO, "%s", why);
	evtimer_del(&h->ev);
	LIST_REMOVE(h, entry);
	state_hold(h->name, -1);
	session_close(h->session);
	free(h);
}

static void
hold_timer(int fd, short ev, void *arg)
{
	struct hold	*h = arg;
	char		 why[300];

	if (h->failed[0] != '\0')
		snprintf(why, sizeof(why), "hold dropped: %s", h->failed);
	else
		(void)strlcpy(why, "hold ended: its time ran out", sizeof(why));
	hold_end(h, why);
}

static void
hold_ready(void *arg, int fd, const char *addr)
{
	if (fd != -1)
		close(fd);
}

/* The VM could not be brought up for it: the hold goes, from the loop. */
static void
hold_fail(void *arg, const char *msg)
{
	struct hold	*h = arg;

	(void)strlcpy(h->failed, msg, sizeof(h->failed));
	evtimer_del(&h->ev);
	timer_ms(&h->ev, 0);
}

static void
hold_changed(void *arg)
{
}

void
hold_status(const char *name, struct ctl_status_vm *row)
{
	struct hold	*h;
	time_t		 now = time(NULL);

	if ((h = hold_find(name)) == NULL || h->failed[0] != '\0')
		return;
	row->held = 1;
	if (h->until == 0)
		row->hold_left = -1;
	else
		row->hold_left = h->until > now ? h->until - now : 0;
}

/* SIGTERM: the VMs stop, and the holds on them end. */
void
hold_shutdown(void)
{
	struct hold	*h;

	while ((h = LIST_FIRST(&holds)) != NULL)
		hold_end(h, "hold ended: the supervisor is shutting down");
}

/* At exit, before the sessions are freed: nothing of ours is left. */
void
hold_free_all(void)
{
	struct hold	*h;

	while ((h = LIST_FIRST(&holds)) != NULL) {
		evtimer_del(&h->ev);
		LIST_REMOVE(h, entry);
		free(h);
	}
}
