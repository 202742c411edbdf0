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
 * The idle countdown of a VM that vmlaunch started and nobody uses:
 * when it is paused (idle pause) and when it is stopped (idle timeout),
 * both counted from the moment it became unused.  When the first of the
 * two deadlines comes while the guest runs, its busy check (busy.c), if
 * it has one, asks the guest first: busy starts the countdown over, from
 * now; idle, or a check that could not say, lets the deadline pass.  A
 * paused guest runs nothing, so the stop after a pause is not checked
 * again.  What happens at a deadline is the VM's business (vm.c): it is
 * told through the callback.
 *
 * Lifetime: a countdown belongs to its VM from idle_start() until
 * idle_cancel(), which the VM calls as soon as the countdown no longer
 * applies (a session came, a stop began, the VM goes); it owns its timer
 * and its check, never more than one.  The callback runs from the event
 * loop, once per deadline, and may cancel the countdown.
 */

#include <sys/types.h>

#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "vmlaunch.h"

struct idle {
	char			 name[VM_NAME_MAX];
	long long		 pause_ms;	/* the periods; -1 none */
	long long		 stop_ms;
	long long		 pause_at;	/* now_ms() deadlines or -1 */
	long long		 stop_at;
	char			*check;		/* NULL: none */
	long long		 check_ms;
	struct busy		*busy;		/* the check that runs */
	enum idle_due		 checking;	/* for which deadline */
	struct event		 ev;
	idle_cb			 cb;
	void			*arg;
	int			 paused;	/* the guest runs nothing */
	int			 incb;		/* in the callback */
	int			 cancelled;	/* ... and cancelled there */
};

static void	 idle_arm(struct idle *);
static void	 idle_timer(int, short, void *);
static void	 idle_checked(int, const char *, void *);
static void	 idle_due(struct idle *, enum idle_due);

/* "pausing in 1m and stopping in 10m", for the log. */
void
idle_describe(struct idle *id, char *buf, size_t len)
{
	char	 p[32], s[32];

	print_duration(id->pause_ms / 1000, p, sizeof(p));
	print_duration(id->stop_ms / 1000, s, sizeof(s));
	if (id->pause_at != -1 && id->stop_at != -1)
		snprintf(buf, len, "pausing in %s and stopping in %s", p, s);
	else if (id->pause_at != -1)
		snprintf(buf, len, "pausing in %s", p);
	else
		snprintf(buf, len, "stopping in %s", s);
}

/*
 * Count down from now: pause after pause_ms, stop after stop_ms (-1:
 * never), not before not_before (now_ms()), asking check first.
 */
struct idle *
idle_start(const char *name, long long pause_ms, long long stop_ms,
    const struct idlecheck *check, long long not_before, idle_cb cb,
    void *arg)
{
	struct idle	*id;
	long long	 first;

	if ((id = calloc(1, sizeof(*id))) == NULL)
		fatal("idle");
	(void)strlcpy(id->name, name, sizeof(id->name));
	id->pause_ms = pause_ms;
	id->stop_ms = stop_ms;
	if (check != NULL && check->command != NULL) {
		if ((id->check = strdup(check->command)) == NULL)
			fatal("idle");
		id->check_ms = check->timeout * 1000;
	}
	id->cb = cb;
	id->arg = arg;
	evtimer_set(&id->ev, idle_timer, id);
	id->pause_at = pause_ms < 0 ? -1 : now_ms() + pause_ms;
	id->stop_at = stop_ms < 0 ? -1 : now_ms() + stop_ms;
	/* Not before not_before: the whole countdown moves, pause and all. */
	first = id->pause_at != -1 ? id->pause_at : id->stop_at;
	if (first != -1 && first < not_before) {
		if (id->pause_at != -1)
			id->pause_at += not_before - first;
		if (id->stop_at != -1)
			id->stop_at += not_before - first;
	}
	idle_arm(id);
	return (id);
}

void
idle_cancel(struct idle *id)
{
	if (id == NULL)
		return;
	if (id->incb) {
		id->cancelled = 1;
		return;
	}
	evtimer_del(&id->ev);
	busy_cancel(id->busy);
	free(id->check);
	free(id);
}

/* The VM is paused now: the guest runs nothing, the stop goes unchecked. */
void
idle_paused(struct idle *id)
{
	if (id != NULL)
		id->paused = 1;
}

/* Not paused after all (a pause that failed): the stop is checked again. */
void
idle_running(struct idle *id)
{
	if (id != NULL)
		id->paused = 0;
}

/* Milliseconds until the stop, -1 if none. */
long long
idle_left(struct idle *id)
{
	long long	 left;

	if (id == NULL || id->stop_at == -1)
		return (-1);
	left = id->stop_at - now_ms();
	return (left < 0 ? 0 : left);
}

static void
idle_arm(struct idle *id)
{
	long long	 at;

	at = id->pause_at != -1 ? id->pause_at : id->stop_at;
	if (at != -1)
		timer_ms(&id->ev, at - now_ms());
}

static void
idle_timer(int fd, short ev, void *arg)
{
	struct idle	*id = arg;
	enum idle_due	 due = id->pause_at != -1 ? IDLE_PAUSE : IDLE_STOP;

	/* At least "idle pause" or "idle timeout" unused: never early. */
	if (timer_early(&id->ev, due == IDLE_PAUSE ? id->pause_at :
	    id->stop_at))
		return;
	if (due == IDLE_PAUSE)
		id->pause_at = -1;
	if (id->check == NULL || id->paused || id->busy != NULL) {
		idle_due(id, due);
		return;
	}
	id->checking = due;
	if ((id->busy = busy_start(id->name, id->check, id->check_ms,
	    idle_checked, id)) == NULL) {
		history_add(id->name, LOG_WARNING, "idle check could not "
		    "run: taken as idle");
		idle_due(id, due);
	}
}

static void
idle_checked(int busy, const char *why, void *arg)
{
	struct idle	*id = arg;
	char		 plan[96];

	id->busy = NULL;
	if (!busy) {
		history_add(id->name, LOG_INFO, "idle: %s", why);
		idle_due(id, id->checking);
		return;
	}
	/* In use after all: as if the last session had just ended. */
	id->pause_at = id->pause_ms < 0 ? -1 : now_ms() + id->pause_ms;
	id->stop_at = id->stop_ms < 0 ? -1 : now_ms() + id->stop_ms;
	idle_describe(id, plan, sizeof(plan));
	history_add(id->name, LOG_INFO, "busy: %s; %s unless used", why,
	    plan);
	idle_arm(id);
}

/* Tell the VM; then, unless it cancelled us, wait for the stop. */
static void
idle_due(struct idle *id, enum idle_due due)
{
	id->incb = 1;
	id->cb(due, id->arg);
	id->incb = 0;
	if (id->cancelled) {
		idle_cancel(id);
		return;
	}
	if (due == IDLE_PAUSE)
		idle_arm(id);
	else
		id->stop_at = -1;
}
