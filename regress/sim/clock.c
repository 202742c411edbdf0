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
 * Simulated time, and the part of libevent 1.4 that the linked files use
 * (regress/libevent14/event.h, timers only), on it.  Time moves only
 * when the harness says so: clock_run() fires every timer that is due,
 * in deadline order, timers with the same deadline in the order they
 * were added, setting the clock to each deadline as it goes.  A list of
 * events therefore replays exactly.
 *
 * The harness's own timers (the world's, the users') share the queue,
 * marked with clock_harness(), so that a product timer left behind when
 * its owner is gone can be told from them.
 */

#include <sys/types.h>

#include <event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* What the simulation keeps in struct event's private words. */
#define EVP_INDEX	0	/* position in the heap, plus one */
#define EVP_SEQ		1	/* order of insertion */
#define EVP_HARNESS	2	/* not a product timer */

static struct event	**clock_heap;
static size_t		 clock_n, clock_size;
static uint64_t		 clock_seq;
static long long	 clock_ms;

static long long
clock_deadline(const struct event *ev)
{
	return ((long long)ev->ev_timeout.tv_sec * 1000 +
	    ev->ev_timeout.tv_usec / 1000);
}

static int
clock_before(const struct event *a, const struct event *b)
{
	long long	 da = clock_deadline(a), db = clock_deadline(b);

	if (da != db)
		return (da < db);
	return ((uintptr_t)a->ev_private[EVP_SEQ] <
	    (uintptr_t)b->ev_private[EVP_SEQ]);
}

static void
clock_place(size_t i, struct event *ev)
{
	clock_heap[i] = ev;
	ev->ev_private[EVP_INDEX] = (void *)(uintptr_t)(i + 1);
}

static void
clock_up(size_t i)
{
	struct event	*ev = clock_heap[i];

	while (i > 0 && clock_before(ev, clock_heap[(i - 1) / 2])) {
		clock_place(i, clock_heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	clock_place(i, ev);
}

static void
clock_down(size_t i)
{
	struct event	*ev = clock_heap[i];
	size_t		 c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= clock_n)
			break;
		if (c + 1 < clock_n && clock_before(clock_heap[c + 1],
		    clock_heap[c]))
			c++;
		if (!clock_before(clock_heap[c], ev))
			break;
		clock_place(i, clock_heap[c]);
		i = c;
	}
	clock_place(i, ev);
}

static int
clock_queued(const struct event *ev)
{
	return (ev->ev_private[EVP_INDEX] != NULL);
}

static void
clock_remove(struct event *ev)
{
	size_t	 i = (uintptr_t)ev->ev_private[EVP_INDEX] - 1;
	struct event *last;

	ev->ev_private[EVP_INDEX] = NULL;
	last = clock_heap[--clock_n];
	if (i == clock_n)
		return;
	clock_place(i, last);
	clock_up(i);
	clock_down((uintptr_t)last->ev_private[EVP_INDEX] - 1);
}

long long
clock_now(void)
{
	return (clock_ms);
}

void
clock_reset(void)
{
	clock_drop_all();
	free(clock_heap);
	clock_heap = NULL;
	clock_size = 0;
	clock_seq = 0;
	clock_ms = 0;
}

/* Forget every timer (after a run, whatever it left). */
void
clock_drop_all(void)
{
	while (clock_n > 0)
		clock_remove(clock_heap[0]);
}

/* ev belongs to the harness, not to the code under test. */
void
clock_harness(struct event *ev)
{
	ev->ev_private[EVP_HARNESS] = ev;
}

/*
 * Fire the next timer due at or before until, if any (1), else move the
 * clock to until (0).
 */
int
clock_run(long long until)
{
	struct event	*ev;

	if (clock_n == 0 || clock_deadline(clock_heap[0]) > until) {
		if (until > clock_ms)
			clock_ms = until;
		return (0);
	}
	ev = clock_heap[0];
	clock_remove(ev);
	if (clock_deadline(ev) > clock_ms)
		clock_ms = clock_deadline(ev);
	ev->ev_res = EV_TIMEOUT;
	ev->ev_callback(ev->ev_fd, EV_TIMEOUT, ev->ev_arg);
	return (1);
}

/* Describe the product timers that live in [p, p + len). */
int
clock_timers_in(const void *p, size_t len, char *what, size_t whatlen)
{
	const char	*lo = p, *at;
	size_t		 i;
	int		 n = 0;

	for (i = 0; i < clock_n; i++) {
		at = (const char *)clock_heap[i];
		if (clock_heap[i]->ev_private[EVP_HARNESS] != NULL ||
		    at < lo || at >= lo + len)
			continue;
		if (n++ == 0)
			snprintf(what, whatlen, "a timer at offset %zu, due at "
			    "%lld ms", (size_t)(at - lo),
			    clock_deadline(clock_heap[i]));
	}
	return (n);
}

/*
 * Take the product timers in [p, p + len) off the queue: their owner is
 * being freed (a failure already), and the queue must not walk freed
 * memory for the run to report it.
 */
void
clock_drop_in(const void *p, size_t len)
{
	const char	*lo = p, *at;
	size_t		 i = 0;

	while (i < clock_n) {
		at = (const char *)clock_heap[i];
		if (clock_heap[i]->ev_private[EVP_HARNESS] == NULL &&
		    at >= lo && at < lo + len) {
			clock_remove(clock_heap[i]);
			i = 0;
			continue;
		}
		i++;
	}
}

/* The product timers still queued (none once everything is freed). */
int
clock_product_timers(char *what, size_t whatlen)
{
	size_t	 i;
	int	 n = 0;

	for (i = 0; i < clock_n; i++) {
		if (clock_heap[i]->ev_private[EVP_HARNESS] != NULL)
			continue;
		if (n++ == 0)
			snprintf(what, whatlen, "a timer at %p due at %lld ms",
			    (void *)clock_heap[i],
			    clock_deadline(clock_heap[i]));
	}
	return (n);
}

/*
 * The API.
 */

struct event_base *
event_init(void)
{
	return (NULL);
}

int
event_reinit(struct event_base *base)
{
	return (0);
}

int
event_dispatch(void)
{
	fatalx("event_dispatch: the simulation runs the loop");
}

int
event_loop(int flags)
{
	fatalx("event_loop: the simulation runs the loop");
}

int
event_loopexit(const struct timeval *tv)
{
	fatalx("event_loopexit: not simulated");
}

int
event_loopbreak(void)
{
	fatalx("event_loopbreak: not simulated");
}

void
event_set(struct event *ev, int fd, short events,
    void (*cb)(int, short, void *), void *arg)
{
	if (fd != -1 || events != 0)
		fatalx("event_set: only timers are simulated");
	if ((ev->ev_flags & EVLIST_INIT) && clock_queued(ev))
		check_fail(INV_OWNER, "event_set on a timer that is pending");
	memset(ev, 0, sizeof(*ev));
	ev->ev_fd = fd;
	ev->ev_events = events;
	ev->ev_callback = cb;
	ev->ev_arg = arg;
	ev->ev_flags = EVLIST_INIT;
}

int
event_add(struct event *ev, const struct timeval *tv)
{
	long long	 due;

	if (!(ev->ev_flags & EVLIST_INIT))
		fatalx("event_add: the timer was never set");
	if (tv == NULL)
		fatalx("event_add: a timer without a time");
	if (clock_queued(ev))
		clock_remove(ev);
	due = clock_ms + (long long)tv->tv_sec * 1000 + tv->tv_usec / 1000;
	ev->ev_timeout.tv_sec = due / 1000;
	ev->ev_timeout.tv_usec = (due % 1000) * 1000;
	ev->ev_private[EVP_SEQ] = (void *)(uintptr_t)++clock_seq;
	if (clock_n == clock_size) {
		clock_size = clock_size ? clock_size * 2 : 64;
		if ((clock_heap = reallocarray(clock_heap, clock_size,
		    sizeof(*clock_heap))) == NULL)
			fatal("clock");
	}
	clock_place(clock_n++, ev);
	clock_up(clock_n - 1);
	return (0);
}

int
event_del(struct event *ev)
{
	if (clock_queued(ev))
		clock_remove(ev);
	return (0);
}

int
event_pending(struct event *ev, short what, struct timeval *tv)
{
	long long	 left;

	if (!(what & EV_TIMEOUT) || !clock_queued(ev))
		return (0);
	if (tv != NULL) {
		left = clock_deadline(ev) - clock_ms;
		tv->tv_sec = left / 1000;
		tv->tv_usec = (left % 1000) * 1000;
	}
	return (EV_TIMEOUT);
}
