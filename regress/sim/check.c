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
 * The invariants, each with a name.  They are stated about the world
 * (what vmd did, who uses what), not about vm.c's beliefs, and each
 * only as strongly as the world lets the code know:
 *
 * one-start-per-boot	A start is never begun while another start of
 *			that VM may still act (any supervisor's, orphans
 *			included), nor while a boot that vmlaunch began
 *			is under way.
 * no-stop-in-use	A stop (or stop -f) is never begun while a session
 *			relays to that VM's guest (one whose keeper has
 *			not come back after a kill counts), except by
 *			SIGTERM, whose purpose it is.
 * no-stop-foreign	A stop is never begun of a boot that vmlaunch did
 *			not begin, unless nothing vmlaunch was told could
 *			tell it from one of its own (vmd keeps a VM's id
 *			across boots): a person started it after vmlaunch's
 *			boot ended and before two statuses said so (vm.c
 *			believes the second), or while
 *			vmlaunch's own start ran and its answer was lost
 *			or said nothing (timed out).
 *			Those are counted, not failed.
 * idle-stop		A boot that vmlaunch began and nobody uses ends
 *			within check_idle_bound() of the moment it was last
 *			used (or began, or a supervisor started, or the
 *			config changed, or vmd became healthy again), while
 *			a supervisor runs; idle timeout never exempts it,
 *			and so does a VM whose block a reload removed
 *			before its supervisor was replaced, if a command
 *			backend's (no process knows its commands) or if no
 *			VM configured uses vmd (the adoption does not ask
 *			vmctl): known gaps, counted.
 * session-answer	A session that waits is answered (ready or failed)
 *			within check_answer_bound() of asking.
 * owner-lifetime	No timer, job, probe, backend request or session
 *			callback outlives its owner: checked when an owner
 *			is freed (owner.c), when a callback is about to
 *			run, and when a supervisor is gone (nothing of it
 *			may be left), down to the sockets handed out.
 * right-guest		A session is given a socket to its own VM's guest.
 * no-fatal		The code under test never calls fatal().
 * no-stop-held		No stop (or stop -f) and no pause of a VM is begun
 *			while a hold on it is open (vmlaunch -k, from the
 *			moment it was asked to its end), except by SIGTERM,
 *			which ends the holds with the VMs (vmlaunch.1; -X,
 *			the other exception, is not simulated).  A hold
 *			whose VM could not be brought up goes (hold.c): one
 *			the supervisor no longer counts is counted, not
 *			failed.
 * unpause-before-stop	A VM that vmlaunch paused is not stopped (nor
 *			stopped -f) before vmlaunch has begun to unpause it
 *			(vmlaunch.conf.5: "when it expires, the virtual
 *			machine is unpaused and then stopped"; VMCTL.md: a
 *			paused guest cannot act on a stop).  An unpause
 *			that fails is tried, and the stop goes on.
 * no-pause-in-use	No pause is begun while a session relays to that
 *			VM (its keeper not back yet included), nor of a
 *			boot a person began (as no-stop-foreign, with its
 *			excuses), except by SIGTERM.
 * busy			Once the idle check of a VM says busy, no stop or
 *			pause of it is begun on that verdict: not before the
 *			next check of it begins, a use of it, a reload or
 *			another supervisor, except by SIGTERM, and but for a
 *			guest that no longer answers (no idle decision:
 *			"its guest never answered").  idle-stop
 *			counts from the verdict, as the product promises
 *			("the idle countdown starts over").
 */

#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* The code's constants the bounds are made of (vm.c, state.c, probe.c). */
#define RESUME_GRACE_MS		5000
#define STATE_RETRY_MAX_MS	30000
#define STATE_START_GRACE_MS	5000
#define PROBE_SESSION_MS	3000
#define APP_BACKOFF_MAX_MS	60000
#define POLL_SLACK_MS		3000	/* polls: 100, 500, 1000 ms apart */

int			 check_failed;
int			 check_blind;	/* stops no-stop-foreign excuses */
static int		 check_blind_boot[SIM_VMS_MAX];
int			 check_lost;	/* idle-stop excused: a VM no process
					   can reach */
int			 check_paused;	/* idle-stop excused: a VM paused by
					   hand */
int			 check_untold;	/* idle-stop excused: a boot whose
					   start's answer was lost */
static enum inv		 check_inv;
static char		 check_msg[512];
static long long	 check_t;

static const char *const check_names[INV_MAX] = {
	[INV_NONE] = "none",
	[INV_ONE_START] = "one-start-per-boot",
	[INV_STOP_IN_USE] = "no-stop-in-use",
	[INV_STOP_FOREIGN] = "no-stop-foreign",
	[INV_IDLE_STOP] = "idle-stop",
	[INV_ANSWER] = "session-answer",
	[INV_OWNER] = "owner-lifetime",
	[INV_RIGHT_GUEST] = "right-guest",
	[INV_FATAL] = "no-fatal",
	[INV_STOP_HELD] = "no-stop-held",
	[INV_UNPAUSE] = "unpause-before-stop",
	[INV_PAUSE_IN_USE] = "no-pause-in-use",
	[INV_BUSY] = "busy"
};

/* The last verdicts of the idle checks, per VM. */
static int		 check_busy_stands[SIM_VMS_MAX];
static long long	 check_busy_t[SIM_VMS_MAX];	/* the last "busy" */
static long long	 check_stop_t[SIM_VMS_MAX];	/* the last stop */

void
check_reset(void)
{
	check_failed = 0;
	check_blind = 0;
	check_lost = 0;
	check_paused = 0;
	check_untold = 0;
	memset(check_blind_boot, 0, sizeof(check_blind_boot));
	memset(check_busy_stands, 0, sizeof(check_busy_stands));
	memset(check_busy_t, 0, sizeof(check_busy_t));
	memset(check_stop_t, 0, sizeof(check_stop_t));
	check_inv = INV_NONE;
	check_msg[0] = '\0';
}

/* The first failure is the one a run is about. */
void
check_fail(enum inv inv, const char *fmt, ...)
{
	char	 msg[sizeof(check_msg)];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_sim("INVARIANT %s: %s", check_names[inv], msg);
	if (check_failed)
		return;
	check_failed = 1;
	check_inv = inv;
	check_t = clock_now();
	(void)strlcpy(check_msg, msg, sizeof(check_msg));
	sim_failed();
}

const char *
check_name(enum inv inv)
{
	return (inv >= 0 && inv < INV_MAX ? check_names[inv] : "?");
}

enum inv
check_by_name(const char *name)
{
	int	 i;

	for (i = 0; i < INV_MAX; i++)
		if (strcmp(check_names[i], name) == 0)
			return (i);
	return (INV_NONE);
}

enum inv
check_which(void)
{
	return (check_inv);
}

const char *
check_message(void)
{
	return (check_msg);
}

long long
check_time(void)
{
	return (check_t);
}

/*
 * The policies a VM has had in any config of the run: the largest of
 * each, and whether the current one says idle timeout never.  A VM in
 * no config (adopted after its block went) has the defaults.
 */
struct check_pol {
	long long	 idle;	/* ms, finite */
	long long	 boot;
	long long	 stop;
	long long	 vmctl;
	int		 pause;	/* an idle pause in some config */
	long long	 check;	/* ms: the idle check's limit, 0 none */
};

static void
check_policies(int vm, struct check_pol *p)
{
	const struct sim_run	*run = sim_current();
	const struct sim_conf	*c;
	int			 i;

	p->idle = DEFAULT_IDLE_TIMEOUT * 1000LL;
	p->boot = DEFAULT_BOOT_WAIT * 1000LL;
	p->stop = DEFAULT_STOP_WAIT * 1000LL;
	p->vmctl = 0;
	p->pause = 0;
	p->check = 0;
	for (i = 0; i < run->nconfs; i++) {
		c = &run->confs[i];
		if (c->vmctl * 1000 > p->vmctl)
			p->vmctl = c->vmctl * 1000;
		if (!(c->vms & (1U << vm)))
			continue;
		if (c->idle != DURATION_NEVER && c->idle * 1000 > p->idle)
			p->idle = c->idle * 1000;
		if (c->boot * 1000 > p->boot)
			p->boot = c->boot * 1000;
		if (c->stop * 1000 > p->stop)
			p->stop = c->stop * 1000;
		if (c->pause > 0)
			p->pause = 1;
		if (c->check * 1000 > p->check)
			p->check = c->check * 1000;
	}
}

static long long
check_max(long long a, long long b)
{
	return (a > b ? a : b);
}

/*
 * idle-stop's bound, from the moment of reference (ms).  Each term is
 * a wait that may lie between that moment and the VM being gone, taken
 * at its longest (T is vmctl's time limit, a command's longest run):
 *
 *	T		a command begun before that moment runs out its
 *			limit
 *	30 s + T	a predecessor's VM is adopted: the adoption's retry
 *			timer (STATE_RETRY_MAX), then its status
 *	max(B, 2T)	a boot under way ends, by the banner or the boot
 *			wait, counted from its start; or a start fails and
 *			is checked
 *	max(I, 5 s)	the idle timeout, never shorter than RESUME_GRACE
 *	3 S + 2 T	the stop: stop wait, forced, stop wait (and once
 *			more from idle, after a forced stop that did not
 *			finish while vmd misbehaved), each with its command
 *	3 s		polls (100, 500, 1000 ms apart) and their answers
 *	T		an idle pause: the pause runs when the stop comes
 *			due (the unpause before the stop is within its stop
 *			wait)
 *	C		an idle check: the one at the first deadline runs
 *			out its limit (its verdict "busy" is a new moment
 *			of reference)
 *
 * The policies are the largest the VM had in any config of the run: a
 * timer armed under an old config keeps its length.
 */
long long
check_idle_bound(int vm)
{
	struct check_pol	 p;

	check_policies(vm, &p);
	return (p.vmctl + STATE_RETRY_MAX_MS + p.vmctl +
	    check_max(p.boot, 2 * p.vmctl) +
	    check_max(p.idle, RESUME_GRACE_MS) + 3 * p.stop + 2 * p.vmctl +
	    POLL_SLACK_MS + (p.pause ? p.vmctl : 0) + p.check);
}

/*
 * session-answer's bound: its boot wait plus a margin made of the waits
 * that may come first or after (the configs' largest T and S):
 *
 *	2T + 0.5 s	its status (its own, or one it joined that began
 *			earlier), and a second opinion for an owned VM
 *	30 s + T + 5 s	a predecessor's start undecided: the adoption's
 *			retry, its status, STATE_START_GRACE
 *	2 S		a stop under way first: stop wait, forced, stop wait
 *	2T		then its status again
 *	max(B, 2T)	the boot wait, from the start (or the start's failure
 *			and its check)
 *	3 s		the session's own connect (PROBE_SESSION_MS)
 *	3 s		polls and their answers
 */
long long
check_answer_bound(int vm, long long boot)
{
	struct check_pol	 p;

	check_policies(vm, &p);
	return (check_max(boot * 1000, 2 * p.vmctl) + 5 * p.vmctl +
	    STATE_RETRY_MAX_MS + STATE_START_GRACE_MS + 2 * p.stop +
	    PROBE_SESSION_MS + POLL_SLACK_MS + 500);
}

/* A start of w begins (before it is counted among the pending ones). */
void
check_start_issued(struct wvm *w)
{
	long long	 t;

	if (job_sim_starts_pending(w, &t, 1) > 0)
		check_fail(INV_ONE_START, "vm %s: a start begins while a "
		    "start begun at %lld ms may still act", world_name(w), t);
	else if (world_state(w) != W_STOPPED && world_by(w) == BY_VMLAUNCH)
		check_fail(INV_ONE_START, "vm %s: a start begins while the "
		    "boot vmlaunch began at %lld ms is %s", world_name(w),
		    world_t_boot(w), world_state_name(world_state(w)));
}

/*
 * A stop or a pause of w begins: what is common to both.  0 if it is
 * vmlaunch's own boot to act on (or an excused one).
 */
static int
check_ours(struct wvm *w, const char *what)
{
	if (world_by(w) != BY_VMLAUNCH && world_blind(w)) {
		/* Counted once a boot (its stop may be tried again). */
		if (check_blind_boot[world_index(w)] != world_boot(w))
			check_blind++;
		check_blind_boot[world_index(w)] = world_boot(w);
		log_sim("known: vm %s: a %s of a person's boot that vmlaunch "
		    "could not tell from its own", world_name(w), what);
		return (-1);
	} else if (world_by(w) != BY_VMLAUNCH) {
		check_fail(INV_STOP_FOREIGN, "vm %s: a %s of the boot begun "
		    "at %lld ms by a person", world_name(w), what,
		    world_t_boot(w));
		return (-1);
	}
	return (0);
}

/*
 * Held, or a verdict of busy stands: nothing of the idle countdown.  A
 * forced stop goes on with the stop before it (after), decided then: a
 * hold asked meanwhile waits for its end, as a session would.
 */
static void
check_held_busy(struct wvm *w, const char *what, long long after)
{
	long long	 t;
	int		 conn;

	if (harness_down())
		return;		/* SIGTERM: its purpose */
	if (world_state(w) == W_STOPPING)
		return;		/* a stop under way, decided before */
	if (holds_open(w, &t) && holds_since(w) <= after)
		check_fail(INV_STOP_HELD, "vm %s: a %s while a hold on it is "
		    "open", world_name(w), what);
	else if (check_busy_stands[world_index(w)] &&
	    world_guest_answers(w, &conn) == 1)
		check_fail(INV_BUSY, "vm %s: a %s after its idle check said "
		    "busy at %lld ms", world_name(w), what,
		    check_busy_t[world_index(w)]);
}

/*
 * A stop of a VM vmlaunch paused begins with its unpause: a hold asked
 * after that, as the stop's command begins, waits for the stop's end.
 * An unpause begun within vmctl's limit before counts as that one.
 */
static long long
check_unpaused(struct wvm *w)
{
	struct check_pol	 p;
	long long		 t = world_t_unpause(w);

	check_policies(world_index(w), &p);
	if (t > 0 && clock_now() - t <= p.vmctl)
		return (t);
	return (clock_now());
}

/* A stop of w begins. */
void
check_stop_issued(struct wvm *w, int force)
{
	const char	*what = force ? "forced stop" : "stop";
	char		 who[128];
	long long	 t;

	if (world_state(w) == W_STOPPED)
		return;		/* vmctl says no; nothing happens */
	if (check_ours(w, what) == -1)
		return;
	if (!harness_down() && users_open_on(w, who, sizeof(who)) > 0)
		check_fail(INV_STOP_IN_USE, "vm %s: a %s while session %s "
		    "relays to it", world_name(w), what, who);
	else if (world_our_pause(w, &t))
		check_fail(INV_UNPAUSE, "vm %s: a %s of the guest vmlaunch "
		    "paused at %lld ms, with no unpause begun since",
		    world_name(w), what, t);
	else
		check_held_busy(w, what, force ?
		    check_stop_t[world_index(w)] : check_unpaused(w));
	/* Where the stop began: its unpause, if it had one. */
	if (!force)
		check_stop_t[world_index(w)] = check_unpaused(w);
}

/* A pause of w begins. */
void
check_pause_issued(struct wvm *w)
{
	char	 who[128];

	if (world_state(w) != W_RUNNING)
		return;		/* vmctl says no; nothing happens */
	if (check_ours(w, "pause") == -1)
		return;
	if (!harness_down() && users_open_on(w, who, sizeof(who)) > 0)
		check_fail(INV_PAUSE_IN_USE, "vm %s: a pause while session %s "
		    "relays to it", world_name(w), who);
	else
		check_held_busy(w, "pause", clock_now());
}

/* An idle check of w begins: the next decision. */
void
check_busy_begins(struct wvm *w)
{
	check_busy_stands[world_index(w)] = 0;
}

/* Its verdict reached the supervisor. */
void
check_busy_verdict(struct wvm *w, int busy)
{
	log_sim("vm %s: its idle check says %s", world_name(w), busy ?
	    "busy" : "idle");
	if (!busy)
		return;
	check_busy_stands[world_index(w)] = 1;
	check_busy_t[world_index(w)] = clock_now();
}

/* A use of vm (a session, a hold) begins: a new countdown after it. */
void
check_busy_moot(int vm)
{
	check_busy_stands[vm] = 0;
}

/* A reload, another supervisor: the countdowns begin anew. */
void
check_busy_moot_all(void)
{
	memset(check_busy_stands, 0, sizeof(check_busy_stands));
}

/* An owner is being freed: nothing may still refer to it. */
void
check_owner_freed(const void *p, size_t size, const char *site)
{
	char	 what[160];

	if (clock_timers_in(p, size, what, sizeof(what)) > 0) {
		check_fail(INV_OWNER, "%s freed with %s pending", site, what);
		clock_drop_in(p, size);
	}
	if (job_sim_attached_to(p, what, sizeof(what)) > 0)
		check_fail(INV_OWNER, "%s freed while %s would call it back",
		    site, what);
	if (probe_sim_live_for(p, what, sizeof(what)) > 0)
		check_fail(INV_OWNER, "%s freed while %s would call it back",
		    site, what);
	if (harness_wraps_for(p, what, sizeof(what)) > 0)
		check_fail(INV_OWNER, "%s freed while %s would call it back",
		    site, what);
}

/* idle-stop for every VM. */
static void
check_idle(void)
{
	const struct sim_conf	*c;
	struct wvm		*w;
	long long		 t_ref, t_free, t_app, t_unpaused, t_held, bound;
	int			 i;

	if (!harness_alive() || world_faulty())
		return;
	c = harness_sim_conf(harness_conf());
	for (i = 0; i < world_nvms(); i++) {
		w = world_vm(i);
		if (world_state(w) == W_STOPPED || world_by(w) != BY_VMLAUNCH)
			continue;
		if (users_in_use(w, &t_free, &t_app) > 0)
			continue;
		if (holds_open(w, &t_held))
			continue;
		if (harness_idle(i) == DURATION_NEVER)
			continue;
		if (harness_commands_lost(i)) {
			/* Known: nothing here can stop it (see the report). */
			check_lost = 1;
			continue;
		}
		if (world_hand_paused(w, &t_unpaused)) {
			/*
			 * Designed: a VM paused by hand is left so, and a
			 * successor does not adopt it until it runs again.
			 */
			check_paused = 1;
			continue;
		}
		t_ref = check_max(world_t_boot(w), t_free);
		t_ref = check_max(t_ref, t_unpaused);
		t_ref = check_max(t_ref, harness_t_start());
		t_ref = check_max(t_ref, harness_t_reload());
		t_ref = check_max(t_ref, world_t_healthy());
		t_ref = check_max(t_ref, t_held);
		t_ref = check_max(t_ref, check_busy_t[i]);
		if (t_app > 0)
			t_ref = check_max(t_ref, t_app + APP_BACKOFF_MAX_MS +
			    c->vmctl * 1000);
		bound = check_idle_bound(i);
		if (clock_now() > t_ref + bound && world_untold(w)) {
			/*
			 * Known: its record has the id before vmd restarted
			 * and its start told nobody the new one; vmlaunch
			 * takes such a boot for someone else's.
			 */
			check_untold = 1;
			continue;
		}
		if (clock_now() > t_ref + bound)
			check_fail(INV_IDLE_STOP, "vm %s: began by vmlaunch "
			    "at %lld ms, unused since %lld ms, still %s after "
			    "its bound of %lld ms", world_name(w),
			    world_t_boot(w), t_ref,
			    world_state_name(world_state(w)), bound);
	}
}

/* After every event. */
void
check_step(void)
{
	users_check_waiting();
	check_idle();
}

/* The run is over and every supervisor gone. */
void
check_final(void)
{
	int	 n;

	if ((n = probe_sim_fds_open()) > 0)
		check_fail(INV_OWNER, "%d socket%s handed out and never "
		    "closed", n, n == 1 ? "" : "s");
	if (owner_live() > 0)
		check_fail(INV_OWNER, "%zu object%s the code allocated never "
		    "freed", owner_live(), owner_live() == 1 ? "" : "s");
}
