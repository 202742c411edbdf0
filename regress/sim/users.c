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
 * The users: what peer.c and the clients do with sessions, played
 * against vm.c's session API.  A user opens a session (as ssh does, as
 * an app's ssh does with NOBOOT, as a check does with NOTUSE), waits for
 * its answer, relays until it closes or its guest goes away, and is
 * told again to a new supervisor (RESUME) when its supervisor is
 * killed; one that waited when that happened asks again.  SIGTERM's
 * error ends a keeper: its session is no longer counted.  vmlaunch -s
 * asks for the status of every VM.
 *
 * A user is never freed before the run ends: a callback that reaches
 * one whose session is closed is caught, not a use after free.  Every
 * step of a user's own happens from its timer, never inside a callback
 * of vm.c (a session's callbacks may not close their own session).
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

#define USER_CLOSE_MS		10	/* an answered error: the peer goes */
#define USER_GONE_MS		50	/* a relay notices its guest is gone */
#define USER_RETRY_MAX		3000	/* a waiting client asks again */
#define USER_APP_ID		100000	/* apps' sessions are numbered here */

enum user_state {
	U_WAITING,	/* for its answer */
	U_OPEN,		/* relaying, counted by the supervisor */
	U_DETACHED,	/* relaying, its supervisor gone: resumes */
	U_FAILED,	/* answered with an error, closing */
	U_CLOSED
};

enum user_next {
	NEXT_NONE,
	NEXT_CLOSE,	/* its peer goes */
	NEXT_RESUME,	/* its keeper tells the new supervisor */
	NEXT_RETRY	/* it asks again, after its supervisor died */
};

struct user {
	TAILQ_ENTRY(user)	 entry;
	int			 id;
	int			 vm;		/* world index */
	int			 flags;		/* CTL_FLAG_* */
	enum user_flavour	 flavour;
	enum user_state		 state;
	struct session		*s;		/* in the supervisor, if any */
	int			 opening;	/* inside vm_session_open */
	int			 untracked;	/* SIGTERM ended its keeper */
	long long		 t_open;	/* this session asked */
	long long		 wait_bound;	/* ms: its answer's deadline */
	int			 boot;		/* the guest it relays to */
	int			 conn;
	struct job		*app;		/* an app's ssh */
	enum user_next		 next;
	struct event		 ev_next;
};
TAILQ_HEAD(userlist, user);

/* vmlaunch -s: a peer with a status request. */
struct user_status {
	LIST_ENTRY(user_status)	 entry;
	struct backend_req	*req;
	int			 rows;
};

static struct userlist	 users = TAILQ_HEAD_INITIALIZER(users);
static LIST_HEAD(, user_status) user_statuses =
    LIST_HEAD_INITIALIZER(user_statuses);
static long long	 users_t_free[SIM_VMS_MAX];	/* use last ended */
static long long	 users_t_app[SIM_VMS_MAX];	/* an app last ended */
static int		 users_napps;
static int		 users_changed_early;
static int		 users_blind;	/* right-guest excused */

static void	 user_ready(void *, int, const char *);
static void	 user_fail(void *, const char *);
static void	 user_changed(void *);
static void	 user_next_cb(int, short, void *);
static void	 user_open_session(struct user *, int);

static const struct session_ops user_ops = {
	user_ready,
	user_fail,
	user_changed
};

static const char *const user_flavours[] = {
	[USER_NORMAL] = "normal",
	[USER_X] = "x",
	[USER_NOBOOT] = "noboot",
	[USER_NOTUSE] = "notuse",
	[USER_CHECK] = "check"
};

static struct user *
user_find(int id)
{
	struct user	*u;

	TAILQ_FOREACH(u, &users, entry)
		if (u->id == id)
			return (u);
	return (NULL);
}

/* Does it keep its VM up, from the world's point of view? */
static int
user_uses(struct user *u)
{
	struct wvm	*w = world_vm(u->vm);

	if (u->untracked || (u->flags & CTL_FLAG_NOTUSE))
		return (0);
	if (u->state == U_WAITING)
		return (1);
	if (u->state != U_OPEN && u->state != U_DETACHED)
		return (0);
	return (world_boot(w) == u->boot && world_conn_alive(w, u->conn));
}

static void
user_set_state(struct user *u, enum user_state st)
{
	int	 used = user_uses(u);

	u->state = st;
	if (used && !user_uses(u))
		users_t_free[u->vm] = clock_now();
}

static void
user_later(struct user *u, enum user_next next, long long ms)
{
	struct timeval	 tv;

	if (ms < 0)
		ms = 0;
	u->next = next;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(&u->ev_next, &tv);
}

static struct user *
user_new(int id, int vm, enum user_flavour flavour)
{
	struct user	*u;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		fatal("user");
	u->id = id;
	u->vm = vm;
	u->flavour = flavour;
	switch (flavour) {
	case USER_NOBOOT:
		u->flags = CTL_FLAG_NOBOOT;
		break;
	case USER_NOTUSE:
		u->flags = CTL_FLAG_NOTUSE;
		break;
	case USER_CHECK:
		u->flags = CTL_FLAG_NOBOOT | CTL_FLAG_NOTUSE;
		break;
	default:
		break;
	}
	u->state = U_CLOSED;
	evtimer_set(&u->ev_next, user_next_cb, u);
	clock_harness(&u->ev_next);
	TAILQ_INSERT_TAIL(&users, u, entry);
	return (u);
}

/* Is a callback about u one that may come? */
static int
user_callback_ok(struct user *u, const char *what)
{
	if (u->s == NULL && !u->opening) {
		check_fail(INV_OWNER, "user s%d (vm %s): %s after its session "
		    "was closed", u->id, gen_vm(u->vm), what);
		return (0);
	}
	return (1);
}

static void
user_ready(void *arg, int fd, const char *addr)
{
	struct user	*u = arg;
	int		 vm, boot, conn;

	if (!user_callback_ok(u, "ready")) {
		close(fd);
		return;
	}
	if (u->state != U_WAITING)
		check_fail(INV_OWNER, "user s%d: ready twice", u->id);
	vm = probe_sim_fd_guest(fd, &boot, &conn);
	probe_sim_fd_closed(fd);
	close(fd);
	if (vm != u->vm && vm != -1 && world_id_stale(world_vm(u->vm)) &&
	    world_id_stale(world_vm(vm))) {
		/* vmd dealt the ids again; nothing since told vmlaunch. */
		log_sim("known: user s%d of vm %s was given %s's guest, by an "
		    "id vmd dealt again unbeknown to vmlaunch", u->id,
		    gen_vm(u->vm), gen_vm(vm));
		users_blind++;
	} else if (vm != u->vm)
		check_fail(INV_RIGHT_GUEST, "user s%d of vm %s was given a "
		    "socket to %s", u->id, gen_vm(u->vm), vm == -1 ?
		    "nothing the probe made" : gen_vm(vm));
	u->boot = boot;
	u->conn = conn;
	log_sim("user s%d: ready (%s)", u->id, addr);
	user_set_state(u, U_OPEN);
	users_world_changed();
}

static void
user_fail(void *arg, const char *msg)
{
	struct user	*u = arg;

	if (!user_callback_ok(u, "fail"))
		return;
	if (u->state != U_WAITING)
		check_fail(INV_OWNER, "user s%d: told it failed while %s",
		    u->id, u->state == U_OPEN ? "open" : "not waiting");
	log_sim("user s%d: failed: %s", u->id, msg);
	user_set_state(u, U_FAILED);
	user_later(u, NEXT_CLOSE, USER_CLOSE_MS);
}

/* As peer.c: the progress is sent, so vm.c is asked for it. */
static void
user_changed(void *arg)
{
	struct user		*u = arg;
	struct ctl_progress	 pr;

	if (!user_callback_ok(u, "changed"))
		return;
	if (u->s == NULL) {
		/*
		 * From inside vm_session_open(): the opener has no session
		 * to ask about yet.  peer.c would pass NULL on here.
		 */
		users_changed_early++;
		return;
	}
	if (u->state == U_WAITING)
		session_progress(u->s, clock_now(), &pr);
}

static void
user_close_session(struct user *u)
{
	struct session	*s = u->s;

	if (s == NULL)
		return;
	u->s = NULL;
	session_close(s);
	supervisor_check_exit();
}

static void
user_end(struct user *u)
{
	evtimer_del(&u->ev_next);
	u->next = NEXT_NONE;
	user_close_session(u);
	user_set_state(u, U_CLOSED);
	if (u->app != NULL) {
		users_t_app[u->vm] = clock_now();
		job_sim_app_session_gone(u->app);
		u->app = NULL;
	}
}

/* Ask the supervisor for a session, as a client or a keeper does. */
static void
user_open_session(struct user *u, int resume)
{
	struct vmconf	*vmc;
	struct session	*s;
	const struct sim_conf *sc;

	harness_ensure();
	u->t_open = clock_now();
	if (harness_down()) {
		log_sim("user s%d: refused, the supervisor is shutting down",
		    u->id);
		user_end(u);
		return;
	}
	if ((vmc = config_lookup_host(harness_config(),
	    gen_vm(u->vm))) == NULL) {
		log_sim("user s%d: refused, no vm %s", u->id, gen_vm(u->vm));
		user_end(u);
		return;
	}
	sc = harness_sim_conf(harness_conf());
	u->wait_bound = check_answer_bound(u->vm, sc->boot);
	if (!(u->flags & CTL_FLAG_NOTUSE))
		check_busy_moot(u->vm);
	u->opening = 1;
	s = session_open(vmc, 22, u->flags | (resume ? CTL_FLAG_RESUME :
	    0), u->flavour == USER_X ? ":0" : "", u->flavour == USER_X ?
	    "/tmp/xauth" : "", &user_ops, u);
	u->opening = 0;
	u->s = s;
	supervisor_check_exit();
}

/* EV_OPEN */
void
users_open(int id, int vm, enum user_flavour flavour, struct job *app)
{
	struct user	*u;

	if (user_find(id) != NULL || world_vm(vm) == NULL)
		return;
	u = user_new(id, vm, flavour);
	u->app = app;
	log_sim("user s%d: opens a %s session on %s", id,
	    user_flavours[flavour], gen_vm(vm));
	u->state = U_WAITING;
	user_open_session(u, 0);
}

/* An app's ssh comes back through vmlaunch: its session (NOBOOT). */
int
users_app_open(struct wvm *w, struct job *app)
{
	int	 id = USER_APP_ID + users_napps++;

	users_open(id, world_index(w), USER_NOBOOT, app);
	return (id);
}

/* An app's ssh is gone: so is its session. */
void
users_app_ended(int id)
{
	struct user	*u = user_find(id);

	if (u == NULL || u->state == U_CLOSED)
		return;
	u->app = NULL;
	users_t_app[u->vm] = clock_now();
	user_later(u, NEXT_CLOSE, USER_GONE_MS);
}

/* EV_CLOSE: the user's ssh ends, however it got. */
void
users_close(int id)
{
	struct user	*u = user_find(id);

	if (u == NULL || u->state == U_CLOSED)
		return;
	log_sim("user s%d: closes", id);
	user_end(u);
}

static void
user_next_cb(int fd, short ev, void *arg)
{
	struct user	*u = arg;
	enum user_next	 next = u->next;

	u->next = NEXT_NONE;
	switch (next) {
	case NEXT_CLOSE:
		log_sim("user s%d: its peer goes", u->id);
		user_end(u);
		break;
	case NEXT_RESUME:
		if (u->state != U_DETACHED)
			break;
		if (!world_conn_alive(world_vm(u->vm), u->conn) ||
		    world_boot(world_vm(u->vm)) != u->boot) {
			user_end(u);
			break;
		}
		log_sim("user s%d: its keeper resumes", u->id);
		user_set_state(u, U_OPEN);
		user_open_session(u, 1);
		break;
	case NEXT_RETRY:
		if (u->state != U_WAITING)
			break;
		log_sim("user s%d: asks again", u->id);
		user_open_session(u, 0);
		break;
	default:
		break;
	}
}

/*
 * The supervisor was killed: its peers see EOF.  Relays go on and their
 * keepers come back to the next one (within the grace of RESUME, as
 * promised); those that waited ask again; those answered are done.
 */
void
users_crash(long long t_restart)
{
	struct user	*u;
	long long	 ms;

	TAILQ_FOREACH(u, &users, entry) {
		u->s = NULL;
		ms = t_restart - clock_now() + (long long)(sim_hash(
		    sim_current()->seed, u->id + clock_now()) %
		    WORLD_RESUME_MAX);
		if ((u->state == U_OPEN || u->state == U_DETACHED) &&
		    u->next == NEXT_CLOSE) {
			/* Its relay was ending anyway: no keeper comes back. */
			user_end(u);
			continue;
		}
		switch (u->state) {
		case U_OPEN:
			user_set_state(u, U_DETACHED);
			/* FALLTHROUGH */
		case U_DETACHED:
			if (!(sim_current()->promises & PROMISE_RESUME))
				ms = t_restart - clock_now() + 6000;
			user_later(u, NEXT_RESUME, ms);
			break;
		case U_WAITING:
			user_later(u, NEXT_RETRY, ms);
			break;
		case U_FAILED:
			user_end(u);
			break;
		default:
			break;
		}
	}
}

/* SIGTERM: every session is told so; keepers do not come back. */
void
users_shutdown(void)
{
	struct user	*u;

	TAILQ_FOREACH(u, &users, entry) {
		if (u->s == NULL || u->state != U_OPEN)
			continue;
		u->untracked = 1;
		users_t_free[u->vm] = clock_now();
		user_later(u, NEXT_CLOSE, 1);
	}
}

/* The supervisor exits: whatever peers are left are freed. */
void
users_exit(void)
{
	struct user		*u;
	struct user_status	*st;

	TAILQ_FOREACH(u, &users, entry) {
		if (u->s == NULL)
			continue;
		u->untracked = 1;
		user_end(u);
	}
	while ((st = LIST_FIRST(&user_statuses)) != NULL) {
		backend_cancel(st->req);
		LIST_REMOVE(st, entry);
		free(st);
	}
}

/* The supervisor was killed: a vmlaunch -s sees EOF. */
void
users_status_crash(void)
{
	struct user_status	*st;

	while ((st = LIST_FIRST(&user_statuses)) != NULL) {
		backend_cancel(st->req);
		LIST_REMOVE(st, entry);
		free(st);
	}
}

static void
user_status_row(const struct ctl_status_vm *row, void *arg)
{
	struct user_status	*st = arg;

	st->rows++;
}

static void
user_status_done(const struct backend_result *res, void *arg)
{
	struct user_status	*st = arg;

	st->req = NULL;
	vm_status_rows(res, user_status_row, st);
	log_sim("vmlaunch -s: %d rows", st->rows);
	LIST_REMOVE(st, entry);
	free(st);
	supervisor_check_exit();
}

/* EV_STATUS */
void
users_status(void)
{
	struct user_status	*st;

	harness_ensure();
	if (harness_down())
		return;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		fatal("status");
	LIST_INSERT_HEAD(&user_statuses, st, entry);
	st->req = backend_status(NULL, 0, user_status_done, st);
}

/* A reload may lengthen a boot wait: waiting sessions get it too. */
void
users_reload(void)
{
	struct user		*u;
	const struct sim_conf	*sc = harness_sim_conf(harness_conf());
	long long		 b;

	TAILQ_FOREACH(u, &users, entry) {
		if (u->state != U_WAITING)
			continue;
		b = check_answer_bound(u->vm, sc->boot);
		if (u->t_open + b > u->t_open + u->wait_bound)
			u->wait_bound = b;
	}
}

/* The users leave (the end of a run): every session closes. */
void
users_close_all(void)
{
	struct user	*u;

	TAILQ_FOREACH(u, &users, entry)
		if (u->state != U_CLOSED)
			user_end(u);
}

/* Peers the supervisor has: sessions and status requests. */
int
users_count_live(void)
{
	struct user		*u;
	struct user_status	*st;
	int			 n = 0;

	TAILQ_FOREACH(u, &users, entry)
		if (u->s != NULL)
			n++;
	LIST_FOREACH(st, &user_statuses, entry)
		n++;
	return (n);
}

/* Users a close may name: those not closed yet. */
int
users_count_open(void)
{
	struct user	*u;
	int		 n = 0;

	TAILQ_FOREACH(u, &users, entry)
		if (u->state != U_CLOSED && u->id < USER_APP_ID)
			n++;
	return (n);
}

/* The k-th of them: its number. */
int
users_pick_open(int k)
{
	struct user	*u;

	TAILQ_FOREACH(u, &users, entry)
		if (u->state != U_CLOSED && u->id < USER_APP_ID && k-- == 0)
			return (u->id);
	return (-1);
}

/* An app's ssh exited: autostart may restart it (use, for a while). */
void
users_app_exited(struct wvm *w)
{
	users_t_app[world_index(w)] = clock_now();
}

/*
 * Is w in use now (sessions that wait or relay to its guest, apps)?
 * *t_free: when the last use ended, or an app last ended.
 */
int
users_in_use(struct wvm *w, long long *t_free, long long *t_app)
{
	struct user	*u;
	int		 n = 0;

	TAILQ_FOREACH(u, &users, entry)
		if (u->vm == world_index(w) && user_uses(u))
			n++;
	*t_free = users_t_free[world_index(w)];
	*t_app = users_t_app[world_index(w)];
	return (n + job_sim_apps(w));
}

/* Sessions open on w's guest (relaying): a stop now cuts them. */
int
users_open_on(struct wvm *w, char *what, size_t len)
{
	struct user	*u;
	int		 n = 0;

	TAILQ_FOREACH(u, &users, entry) {
		if (u->vm != world_index(w) || u->state == U_WAITING ||
		    !user_uses(u))
			continue;
		if (n++ == 0)
			snprintf(what, len, "s%d (%s%s)", u->id,
			    user_flavours[u->flavour], u->state == U_DETACHED ?
			    ", its keeper not back yet" : "");
	}
	return (n);
}

/* session-answer: no session waits longer than its bound. */
void
users_check_waiting(void)
{
	struct user	*u;

	TAILQ_FOREACH(u, &users, entry) {
		if (u->state != U_WAITING || u->s == NULL)
			continue;
		if (clock_now() - u->t_open > u->wait_bound)
			check_fail(INV_ANSWER, "user s%d on vm %s waits since "
			    "%lld ms, longer than its bound of %lld ms",
			    u->id, gen_vm(u->vm), u->t_open, u->wait_bound);
	}
}

/* A relay whose guest is gone ends (ssh notices, then its client). */
void
users_world_changed(void)
{
	struct user	*u;
	struct wvm	*w;

	TAILQ_FOREACH(u, &users, entry) {
		if (u->state != U_OPEN && u->state != U_DETACHED)
			continue;
		w = world_vm(u->vm);
		if ((world_boot(w) == u->boot && world_conn_alive(w, u->conn)) ||
		    u->next == NEXT_CLOSE)
			continue;
		if (!u->untracked)
			users_t_free[u->vm] = clock_now();
		log_sim("user s%d: its guest is gone", u->id);
		user_later(u, NEXT_CLOSE, USER_GONE_MS);
	}
}

int
users_changed_during_open(void)
{
	return (users_changed_early);
}

/* Guests reached by an id vmlaunch could not know was dealt again. */
int
users_guests_excused(void)
{
	return (users_blind);
}

void
users_reset(void)
{
	struct user		*u;
	struct user_status	*st;

	while ((u = TAILQ_FIRST(&users)) != NULL) {
		evtimer_del(&u->ev_next);
		TAILQ_REMOVE(&users, u, entry);
		free(u);
	}
	while ((st = LIST_FIRST(&user_statuses)) != NULL) {
		LIST_REMOVE(st, entry);
		free(st);
	}
	memset(users_t_free, 0, sizeof(users_t_free));
	memset(users_t_app, 0, sizeof(users_t_app));
	users_napps = 0;
	users_changed_early = 0;
	users_blind = 0;
	world_subscribe(users_world_changed);
}
