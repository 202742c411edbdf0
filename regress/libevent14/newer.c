/*
 * The check's own test: libevent 2 calls that OpenBSD's libevent 1.4
 * lacks.  "make check-libevent14" must refuse this file; if it compiles,
 * the real headers are in reach and the check proves nothing.
 */
#include <stddef.h>

#include <event.h>

static struct event	 ev;

static void
newer_cb(int fd, short what, void *arg)
{
}

void	newer(void);

void
newer(void)
{
	struct event_base	*base;

	base = event_base_new();
	evtimer_assign(&ev, base, newer_cb, NULL);
}
