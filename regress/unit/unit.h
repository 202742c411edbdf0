/*
 * A few lines of test harness shared by the unit tests: CHECK counts and
 * reports, and the program ends with a line that run.sh adds up.
 */

#include <sys/time.h>

#include <event.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int	 unit_pass, unit_fail;

static void __attribute__((__format__ (printf, 4, 5)))
unit_check(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list	 ap;

	if (ok) {
		unit_pass++;
		return;
	}
	unit_fail++;
	printf("FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

#define CHECK(c, ...)	unit_check((c) != 0, __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_STR(a, b, what)						\
	do {								\
		const char *a_ = (a), *b_ = (b);			\
		CHECK(a_ != NULL && strcmp(a_, b_) == 0,		\
		    "%s: got \"%s\", want \"%s\"", (what),		\
		    a_ == NULL ? "(null)" : a_, b_);			\
	} while (0)

static long long __attribute__((__unused__))
unit_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1000LL + ts.tv_nsec / 1000000);
}

/* Run the event loop until *flag is set or ms have passed. */
static void __attribute__((__unused__))
unit_loop_until(int *flag, long long ms)
{
	long long	 deadline = unit_now_ms() + ms;
	struct timeval	 tv = { 0, 20000 };

	while (!*flag && unit_now_ms() < deadline) {
		event_loopexit(&tv);
		event_dispatch();
	}
}

static int
unit_end(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, unit_pass, unit_fail);
	printf("RESULT %d %d\n", unit_pass, unit_fail);
	return (unit_fail != 0);
}
