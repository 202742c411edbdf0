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
 * log.c for the simulation: the same API, every line stamped with
 * simulated time and kept in a ring, so that a failing run can show
 * what led to it (with -v it goes to stderr as it happens).  The
 * harness's own lines (log_sim) go to the same ring, marked "sim:", so
 * that the world's doings and the code's read as one story.  The clocks
 * are the simulated one: now_ms() and now_wall().
 */

#include <errno.h>
#include <event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

#define LOG_RING	4096	/* lines kept */
#define LOG_LINE	320

static char	 log_ring[LOG_RING][LOG_LINE];
static size_t	 log_next;	/* lines written so far */

void
log_reset(void)
{
	log_next = 0;
}

static void
log_put(const char *who, const char *msg)
{
	long long	 t = clock_now();
	char		*line = log_ring[log_next++ % LOG_RING];

	snprintf(line, LOG_LINE, "%7lld.%03lld %s%s", t / 1000, t % 1000, who,
	    msg);
	if (sim_verbose)
		fprintf(stderr, "%s\n", line);
}

/* The last n lines (all that are kept if n is 0). */
void
log_dump(FILE *fp, size_t n)
{
	size_t	 i, first;

	if (n == 0 || n > LOG_RING)
		n = LOG_RING;
	first = log_next > n ? log_next - n : 0;
	for (i = first; i < log_next; i++)
		fprintf(fp, "%s\n", log_ring[i % LOG_RING]);
}

void
log_sim(const char *fmt, ...)
{
	char	 msg[LOG_LINE];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_put("sim: ", msg);
}

void
log_init(int to_stderr, int facility)
{
}

void
log_setverbose(int v)
{
}

void
log_settime(int on)
{
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	 msg[LOG_LINE];
	int	 saved_errno = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_put("", msg);
	errno = saved_errno;
}

void
logit(int pri, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *emsg, ...)
{
	char	 msg[LOG_LINE];
	va_list	 ap;
	int	 saved_errno = errno;

	va_start(ap, emsg);
	vsnprintf(msg, sizeof(msg), emsg, ap);
	va_end(ap);
	logit(0, "%s: %s", msg, strerror(saved_errno));
	errno = saved_errno;
}

void
log_warnx(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vlog(0, emsg, ap);
	va_end(ap);
}

void
log_info(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vlog(0, emsg, ap);
	va_end(ap);
}

/* Kept too: the transitions are what a failing run is read by. */
void
log_debug(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vlog(0, emsg, ap);
	va_end(ap);
}

/* The code gave up: an invariant of its own, the run fails. */
static __dead void
log_fatal(int code, const char *emsg, va_list ap)
{
	char	 msg[LOG_LINE];

	vsnprintf(msg, sizeof(msg), emsg, ap);
	if (code)
		check_fail(INV_FATAL, "fatal: %s: %s", msg, strerror(code));
	else
		check_fail(INV_FATAL, "fatal: %s", msg);
	sim_abort();
}

void
fatal(const char *emsg, ...)
{
	va_list	 ap;
	int	 code = errno;

	va_start(ap, emsg);
	log_fatal(code, emsg, ap);
	va_end(ap);
}

void
fatalx(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	log_fatal(0, emsg, ap);
	va_end(ap);
}

/* As log.c's: fire ev in ms milliseconds (now, if not positive). */
void
timer_ms(struct event *ev, long long ms)
{
	struct timeval	 tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

/*
 * A timer's callback whose deadline is a promise ("idle timeout 2s",
 * "stop wait", "boot wait") asks this first.  libevent counts a timer
 * from the time it cached when its loop woke, which is earlier than the
 * now_ms() the deadline was counted from by however long the loop had
 * worked: the timer may come that much early.  1 if deadline at (on
 * now_ms()'s clock) is still ahead, and ev is armed again for the rest.
 */
int
timer_early(struct event *ev, long long at)
{
	long long	 left = at - now_ms();

	if (left <= 0)
		return (0);
	timer_ms(ev, left);
	return (1);
}

long long
now_ms(void)
{
	return (clock_now());
}

time_t
now_wall(void)
{
	return ((time_t)(SIM_EPOCH + clock_now() / 1000));
}
