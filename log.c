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
 * Logging for the supervisor: stderr in the foreground (-d), syslog
 * otherwise.  -v raises the verbosity so log_debug is shown.  And the
 * clocks: now_ms() for every timer and deadline, now_wall() for the
 * state file's time stamps; one function each, so that a simulation
 * (regress/sim) runs the same code on clocks of its own.
 */

#include <errno.h>
#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "vmlaunch.h"

static int	 log_debugging;	/* log to stderr */
static int	 log_verbose;
static int	 log_stamped;	/* stderr lines start with the time */
static const char *log_procname = "vmlaunch";

void
log_init(int to_stderr, int facility)
{
	log_debugging = to_stderr;
	if (!log_debugging)
		openlog("vmlaunch", LOG_PID | LOG_NDELAY, facility);
	tzset();
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

/*
 * A supervisor in the foreground stamps its lines with the wall-clock
 * time, to the millisecond, as syslog would stamp them.
 */
void
log_settime(int on)
{
	log_stamped = on;
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	 msg[2048];
	int	 saved_errno = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_debugging && log_stamped) {
		struct timespec	 ts;
		struct tm	 tm;
		char		 t[16];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(t, sizeof(t), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %s: %s\n", t, ts.tv_nsec / 1000000,
		    log_procname, msg);
		fflush(stderr);
	} else if (log_debugging) {
		fprintf(stderr, "%s: %s\n", log_procname, msg);
		fflush(stderr);
	} else
		syslog(pri, "%s", msg);
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
	char	 msg[2048];
	va_list	 ap;
	int	 saved_errno = errno;

	va_start(ap, emsg);
	vsnprintf(msg, sizeof(msg), emsg, ap);
	va_end(ap);
	logit(LOG_ERR, "%s: %s", msg, strerror(saved_errno));
	errno = saved_errno;
}

void
log_warnx(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vlog(LOG_ERR, emsg, ap);
	va_end(ap);
}

void
log_info(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vlog(LOG_INFO, emsg, ap);
	va_end(ap);
}

void
log_debug(const char *emsg, ...)
{
	va_list	 ap;

	if (log_verbose) {
		va_start(ap, emsg);
		vlog(LOG_DEBUG, emsg, ap);
		va_end(ap);
	}
}

static __dead void
vfatalc(int code, const char *emsg, va_list ap)
{
	char	 msg[2048];

	vsnprintf(msg, sizeof(msg), emsg, ap);
	if (code)
		logit(LOG_CRIT, "fatal: %s: %s", msg, strerror(code));
	else
		logit(LOG_CRIT, "fatal: %s", msg);
	exit(1);
}

void
fatal(const char *emsg, ...)
{
	va_list	 ap;
	int	 code = errno;

	va_start(ap, emsg);
	vfatalc(code, emsg, ap);
	va_end(ap);
}

void
fatalx(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vfatalc(0, emsg, ap);
	va_end(ap);
}

/* Fire ev in ms milliseconds (now, if ms is not positive). */
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

/* Milliseconds on the monotonic clock. */
long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Seconds of the epoch, for what outlives the process (the state file). */
time_t
now_wall(void)
{
	return (time(NULL));
}
