/*
 * idle.c with a real event loop: the countdown never comes before its
 * deadline, also when it was started late in a loop iteration (libevent
 * counts a timer from the time it cached when the loop woke, and the
 * supervisor may have worked for a while since); cancelling it from its
 * own callback.
 */

#include <sys/types.h>

#include <event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "vmlaunch.h"
#include "unit.h"

struct countdown {
	struct event	 start_ev;
	long long	 busy_ms;	/* work before idle_start, in the cb */
	long long	 pause_ms, stop_ms;
	long long	 t0;		/* the clock idle_start read */
	long long	 t_pause, t_stop;
	int		 done;
	int		 cancel_at_pause;
	struct idle	*idle;
};

static void
due_cb(enum idle_due due, void *arg)
{
	struct countdown	*c = arg;

	if (due == IDLE_PAUSE) {
		c->t_pause = now_ms();
		if (c->cancel_at_pause) {
			idle_cancel(c->idle);
			c->idle = NULL;
			c->done = 1;
		}
		return;
	}
	c->t_stop = now_ms();
	c->done = 1;
}

/* A loop callback that works busy_ms, then starts the countdown. */
static void
start_cb(int fd, short ev, void *arg)
{
	struct countdown	*c = arg;
	long long		 until = now_ms() + c->busy_ms;

	while (now_ms() < until)
		;
	c->t0 = now_ms();
	c->idle = idle_start("unit", c->pause_ms, c->stop_ms, NULL, 0,
	    due_cb, c);
}

static void
run(struct countdown *c, long long busy, long long pause, long long stop)
{
	struct timeval	 tv = { 0, 1000 };

	memset(c, 0, sizeof(*c));
	c->busy_ms = busy;
	c->pause_ms = pause;
	c->stop_ms = stop;
	c->t_pause = c->t_stop = -1;
	evtimer_set(&c->start_ev, start_cb, c);
	evtimer_add(&c->start_ev, &tv);
}

int
main(void)
{
	struct countdown	 c;

	log_init(1, 0);
	signal(SIGPIPE, SIG_IGN);
	event_init();

	/* Started at once: the stop comes after stop_ms. */
	run(&c, 0, -1, 200);
	unit_loop_until(&c.done, 5000);
	CHECK(c.t_stop != -1, "the stop came");
	CHECK(c.t_stop - c.t0 >= 200, "stop after %lld ms, not before 200",
	    c.t_stop - c.t0);
	idle_cancel(c.idle);

	/*
	 * Started 150 ms into a loop iteration: still not before its
	 * deadline (libevent alone would fire it about 150 ms early).
	 */
	run(&c, 150, -1, 300);
	unit_loop_until(&c.done, 5000);
	CHECK(c.t_stop != -1, "late start: the stop came");
	CHECK(c.t_stop - c.t0 >= 300, "late start: stop after %lld ms, not "
	    "before 300", c.t_stop - c.t0);
	CHECK(c.t_stop - c.t0 < 2000, "late start: stop after %lld ms",
	    c.t_stop - c.t0);
	idle_cancel(c.idle);

	/* Pause, then stop: neither before its time. */
	run(&c, 150, 200, 400);
	unit_loop_until(&c.done, 5000);
	CHECK(c.t_pause != -1 && c.t_pause - c.t0 >= 200,
	    "pause after %lld ms, not before 200", c.t_pause - c.t0);
	CHECK(c.t_stop != -1 && c.t_stop - c.t0 >= 400,
	    "stop after %lld ms, not before 400", c.t_stop - c.t0);
	CHECK(c.t_stop >= c.t_pause, "the stop after the pause");
	idle_cancel(c.idle);

	/* Cancelled from its own callback: nothing more comes. */
	run(&c, 0, 100, 200);
	c.cancel_at_pause = 1;
	unit_loop_until(&c.done, 5000);
	c.done = 0;
	unit_loop_until(&c.done, 500);
	CHECK(c.t_pause != -1 && c.t_stop == -1,
	    "cancelled at the pause: no stop");

	history_free_all();
	return (unit_end("t_idle"));
}
