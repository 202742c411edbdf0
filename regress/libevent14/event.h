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
 * Declarations only, for "make check-libevent14": the part of libevent
 * 1.4's <event.h> (the one OpenBSD ships in base) that vmlaunch may use,
 * the one global event base of STYLE.md.  Every file is compiled against
 * this header alone, the real one out of reach, so a call from libevent 2
 * (evtimer_assign, event_new, event_base_*, bufferevent_socket_new, any
 * <event2/...>) fails the build here, on Linux, before it fails on
 * OpenBSD.  OpenBSD's header declares more (event_base_* from 1.4.x,
 * bufferevents, evbuffers); add a name here only when vmlaunch needs it
 * and OpenBSD's base libevent has it.
 *
 * struct event is complete, so that it can be embedded, but its layout
 * is this file's own: nothing may use a member other than through the
 * macros below.
 */

#ifndef VMLAUNCH_LIBEVENT14_EVENT_H
#define VMLAUNCH_LIBEVENT14_EVENT_H

#include <sys/types.h>
#include <sys/time.h>

#define EV_TIMEOUT	0x01
#define EV_READ		0x02
#define EV_WRITE	0x04
#define EV_SIGNAL	0x08
#define EV_PERSIST	0x10

#define EVLIST_INIT	0x80

#define EVLOOP_ONCE	0x01
#define EVLOOP_NONBLOCK	0x02

struct event_base;

struct event {
	void		*ev_private[8];	/* queues, heap index, base */
	int		 ev_fd;
	short		 ev_events;
	short		 ev_ncalls;
	struct timeval	 ev_timeout;
	void		(*ev_callback)(int, short, void *);
	void		*ev_arg;
	int		 ev_res;
	int		 ev_flags;
};

#define EVENT_FD(ev)		((int)(ev)->ev_fd)
#define EVENT_SIGNAL(ev)	((int)(ev)->ev_fd)

struct event_base *event_init(void);
int		 event_reinit(struct event_base *);
int		 event_dispatch(void);
int		 event_loop(int);
int		 event_loopexit(const struct timeval *);
int		 event_loopbreak(void);

void		 event_set(struct event *, int, short,
		    void (*)(int, short, void *), void *);
int		 event_add(struct event *, const struct timeval *);
int		 event_del(struct event *);
int		 event_pending(struct event *, short, struct timeval *);
#define event_initialized(ev)	((ev)->ev_flags & EVLIST_INIT)

#define evtimer_set(ev, cb, arg)	event_set((ev), -1, 0, (cb), (arg))
#define evtimer_add(ev, tv)		event_add((ev), (tv))
#define evtimer_del(ev)			event_del(ev)
#define evtimer_pending(ev, tv)		event_pending((ev), EV_TIMEOUT, (tv))
#define evtimer_initialized(ev)		event_initialized(ev)

#define signal_set(ev, sig, cb, arg)	\
	event_set((ev), (sig), EV_SIGNAL | EV_PERSIST, (cb), (arg))
#define signal_add(ev, tv)		event_add((ev), (tv))
#define signal_del(ev)			event_del(ev)
#define signal_pending(ev, tv)		event_pending((ev), EV_SIGNAL, (tv))
#define signal_initialized(ev)		event_initialized(ev)

#endif /* VMLAUNCH_LIBEVENT14_EVENT_H */
