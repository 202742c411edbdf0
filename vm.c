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
 * The VMs: a state machine per VM, and the sessions that use it.  The
 * interface is narrow: a session opens (wanting a connected guest
 * socket, or already holding one), a session closes; the VM tells the
 * session it is ready (here is your socket), failed (here is why) or that
 * its progress changed.  Everything else is inside: the backend's
 * commands (backend.c), the readiness probe (probe.c), the state file
 * (state.c), the timers.
 *
 * States, and what ends each one when vmlaunch owns a running VM:
 *
 *	STOPPED		not running as far as we know; owns nothing
 *	CHECKING	a status request runs: the backend's time limit
 *	STARTING	the start runs: the backend's time limit
 *	BOOTING		probing for the banner: ev_deadline, the boot wait
 *	READY		serving; ours and unused only with idle timeout never
 *	IDLE		ours, unused: ev_deadline, the idle timeout
 *	STOPPING	a stop runs or is polled: ev_deadline, the stop wait,
 *			then a forced stop and the stop wait again, then back
 *			to IDLE to try again one stop wait later
 *
 * Ownership ("owned": vmlaunch started the VM, or adopted it from the
 * state file) is what makes a VM ours to stop.  It is written to the
 * state file before each start and stop, and given up only once two
 * answers in a row say the VM is gone.
 *
 * Lifetime: a VM owns its requests (req: the one start, stop or status
 * that decides its next state; watch: the status polls while it boots
 * or stops), its probe and its timers, and cancels them when it leaves
 * the state they belong to; a struct vm is freed only when none is left
 * and no session refers to it.  A session belongs to its opener (a
 * peer) until vm_session_close(); its connect (a probe) is its own and
 * goes with it.  Callbacks of the session ops may close any session but
 * their own.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"

#define WATCH_INTERVAL		1000	/* ms: status while booting, */
#define WATCH_MAX		4000	/* growing to this (vm_watch_ms) */
#define STOP_POLL_INTERVAL	500	/* ms: status while stopping */
#define STOP_POLL_FIRST		100	/* ms after the stop returned */
#define RECHECK_INTERVAL	500	/* ms: a second opinion */
#define STARTING_RECHECK	1000	/* ms: a predecessor's start may come */
#define ABSENT_GRACE		3000	/* ms: a new VM may be missing */
#define RESUME_GRACE		5000	/* ms: sessions of a dead supervisor
					   come back within this */

enum session_state {
	SESSION_WAITING,	/* for its VM to be ready */
	SESSION_CONNECTING,	/* its connect to the guest runs */
	SESSION_OPEN,		/* has its guest socket */
	SESSION_FAILED		/* told why not; counts for nothing */
};

struct session {
	TAILQ_ENTRY(session)	 entry;
	struct vm		*vm;
	enum session_state	 state;
	int			 port;
	int			 flags;		/* CTL_FLAG_* */
	struct probe		*conn;
	const struct session_ops *ops;
	void			*arg;
	long long		 t_start;
};
TAILQ_HEAD(sessionlist, session);

enum stop_kind {
	STOP_OURS,		/* our graceful stop */
	STOP_FORCED,		/* our forced stop */
	STOP_THEIRS		/* someone else's: waited for */
};

struct vm {
	TAILQ_ENTRY(vm)		 entry;
	char			 name[VM_NAME_MAX];
	struct vmconf		*conf;		/* NULL: removed by a reload */
	struct policy		 pol;		/* a copy, for a removed VM */
	enum vm_state		 state;
	long long		 t_phase;	/* the state began */
	long long		 t_boot;	/* the boot began */
	enum vmd_state		 vmd;		/* last seen */
	int			 owned;		/* ours to stop */
	int			 booted_here;	/* start its apps when ready */
	int			 has_id;
	unsigned int		 id;
	int			 odd;		/* answers in a row that say
						   it is gone */
	int			 start_unsure;	/* a start failed, not refused */
	int			 abandoned;	/* exiting, its stop left undone */
	enum stop_kind		 stop;
	struct sessionlist	 sessions;
	struct backend_req	*req;
	struct backend_req	*watch;
	struct probe		*probe;
	struct event		 ev_deadline;
	struct event		 ev_poll;
	int			 lastport;
	long long		 idle_at;
	char			 probeaddr[128];
	char			 probeerr[256];
	char			 stopwhy[128];
	char			 display[256];	/* of the session that booted */
	char			 xauthority[1024];
};
TAILQ_HEAD(vmlist, vm);

static struct vmlist	 vms = TAILQ_HEAD_INITIALIZER(vms);
static struct config	*vm_conf;
static long long	 vm_t0;		/* this supervisor began */
static int		 vm_down;	/* shutting down */

static struct vm *vm_get(const char *, int);
static void	 vm_check(struct vm *);
static void	 vm_check_done(const struct backend_result *, void *);
static void	 vm_start(struct vm *);
static void	 vm_start_done(const struct backend_result *, void *);
static void	 vm_start_check_done(const struct backend_result *, void *);
static void	 vm_boot(struct vm *);
static void	 vm_boot_deadline(struct vm *);
static void	 vm_probe_cb(enum probe_event, int, const char *, void *);
static void	 vm_ready(struct vm *, int);
static void	 vm_settle(struct vm *);
static void	 vm_stop(struct vm *, const char *);
static void	 vm_stop_done(const struct backend_result *, void *);
static void	 vm_stop_deadline(struct vm *);
static void	 vm_poll_done(const struct backend_result *, void *);
static void	 vm_stopped(struct vm *);
static void	 vm_deadline(int, short, void *);
static void	 vm_poll(int, short, void *);
static void	 vm_gc(struct vm *);
static void	 vm_set_state(struct vm *, enum vm_state);
static void	 vm_fail_waiters(struct vm *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	 vm_changed(struct vm *);
static void	 session_connect(struct session *);

static const char *const vm_states[] = {
	[VM_STOPPED] = "stopped",
	[VM_CHECKING] = "checking",
	[VM_STARTING] = "starting",
	[VM_BOOTING] = "booting",
	[VM_READY] = "ready",
	[VM_IDLE] = "idle",
	[VM_STOPPING] = "stopping"
};

static void
timer_ms(struct event *ev, long long ms)
{
	struct timeval	 tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

void
vm_configure(struct config *conf)
{
	struct vm	*vm, *tvm;

	if (vm_conf == NULL)
		vm_t0 = now_ms();
	vm_conf = conf;
	TAILQ_FOREACH_SAFE(vm, &vms, entry, tvm) {
		vm->conf = config_find_vm(conf, vm->name);
		if (vm->conf == NULL) {
			log_info("reload: vm %s removed from the "
			    "configuration; managed until it stops, no new "
			    "sessions", vm->name);
			continue;
		}
		free(vm->pol.addr_host);
		vm->pol = vm->conf->pol;
		if (vm->pol.addr_host != NULL &&
		    (vm->pol.addr_host = strdup(vm->pol.addr_host)) == NULL)
			fatal("strdup");
		vm_gc(vm);
	}
}

const char *
vm_name(struct vm *vm)
{
	return (vm->name);
}

const char *
vm_display(struct vm *vm)
{
	return (vm->display);
}

const char *
vm_xauthority(struct vm *vm)
{
	return (vm->xauthority);
}

/* Running and serving: its apps may run. */
int
vm_serving(struct vm *vm)
{
	return (vm->state == VM_READY || vm->state == VM_IDLE);
}

/* What runs this VM's commands, for messages. */
static const char *
vm_backend(struct vm *vm)
{
	if (vm->conf != NULL && vm->conf->backend.type == BACKEND_COMMAND)
		return ("backend");
	return ("vmctl");
}

static void
vm_set_state(struct vm *vm, enum vm_state st)
{
	if (vm->state != st)
		log_debug("vm %s: %s -> %s", vm->name, vm_states[vm->state],
		    vm_states[st]);
	vm->state = st;
	vm->t_phase = now_ms();
}

static struct vm *
vm_get(const char *name, int create)
{
	struct vm	*vm;

	TAILQ_FOREACH(vm, &vms, entry)
		if (strcmp(vm->name, name) == 0)
			return (vm);
	if (!create)
		return (NULL);
	if ((vm = calloc(1, sizeof(*vm))) == NULL)
		fatal("vm");
	(void)strlcpy(vm->name, name, sizeof(vm->name));
	TAILQ_INIT(&vm->sessions);
	vm->state = VM_STOPPED;
	vm->lastport = 22;
	evtimer_set(&vm->ev_deadline, vm_deadline, vm);
	evtimer_set(&vm->ev_poll, vm_poll, vm);
	vm->conf = config_find_vm(vm_conf, name);
	if (vm->conf != NULL) {
		vm->pol = vm->conf->pol;
		if (vm->pol.addr_host != NULL &&
		    (vm->pol.addr_host = strdup(vm->pol.addr_host)) == NULL)
			fatal("strdup");
	} else {
		/* Not configured (adopted after its block went): defaults. */
		memset(&vm->pol, 0, sizeof(vm->pol));
		vm->pol.idle_timeout = DEFAULT_IDLE_TIMEOUT;
		vm->pol.boot_wait = DEFAULT_BOOT_WAIT;
		vm->pol.stop_wait = DEFAULT_STOP_WAIT;
		vm->pol.addr = ADDR_LOCAL;
		(void)address_parse_prefix(DEFAULT_LOCAL_PREFIX,
		    &vm->pol.addr_prefix, &vm->pol.addr_prefixlen);
	}
	TAILQ_INSERT_TAIL(&vms, vm, entry);
	return (vm);
}

static void
vm_free(struct vm *vm)
{
	TAILQ_REMOVE(&vms, vm, entry);
	evtimer_del(&vm->ev_deadline);
	evtimer_del(&vm->ev_poll);
	backend_cancel(vm->req);
	backend_cancel(vm->watch);
	probe_cancel(vm->probe);
	autostart_vm_gone(vm);
	free(vm->pol.addr_host);
	free(vm);
}

/* In use: a session that waits or is open, or an app to restart. */
static int
vm_inuse(struct vm *vm)
{
	struct session	*s;

	TAILQ_FOREACH(s, &vm->sessions, entry)
		if (s->state != SESSION_FAILED &&
		    !(s->flags & CTL_FLAG_NOTUSE))
			return (1);
	return (autostart_pending(vm) > 0);
}

static int
vm_count(struct vm *vm, enum session_state st)
{
	struct session	*s;
	int		 n = 0;

	TAILQ_FOREACH(s, &vm->sessions, entry)
		if (s->state == st)
			n++;
	return (n);
}

/*
 * Forget a VM that a reload removed, once it needs no watching: not
 * ours, nothing in flight, no session.  A configured VM stays known
 * (vmlaunch -s shows what it last saw).
 */
static void
vm_gc(struct vm *vm)
{
	if (vm->conf != NULL || vm->owned || !TAILQ_EMPTY(&vm->sessions) ||
	    vm->req != NULL || vm->watch != NULL || vm->probe != NULL ||
	    (vm->state != VM_STOPPED && vm->state != VM_READY))
		return;
	log_info("vm %s: no longer configured, forgotten", vm->name);
	vm_free(vm);
}

/* Tell the sessions that wait that there is news to show. */
static void
vm_changed(struct vm *vm)
{
	struct session	*s, *ts;

	TAILQ_FOREACH_SAFE(s, &vm->sessions, entry, ts)
		if (s->state == SESSION_WAITING)
			s->ops->changed(s->arg);
}

/* Sessions that must not boot the VM (an app's, a check's) fail. */
static void
vm_fail_noboot(struct vm *vm)
{
	struct session	*s, *ts;
	char		 msg[128];

	snprintf(msg, sizeof(msg), "%s: the vm is not running", vm->name);
	TAILQ_FOREACH_SAFE(s, &vm->sessions, entry, ts) {
		if (s->state != SESSION_WAITING ||
		    !(s->flags & CTL_FLAG_NOBOOT))
			continue;
		s->state = SESSION_FAILED;
		s->ops->fail(s->arg, msg);
	}
}

static void
vm_fail_waiters(struct vm *vm, const char *fmt, ...)
{
	struct session	*s, *ts;
	char		 msg[512], full[600];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s: %s", vm->name, msg);
	TAILQ_FOREACH_SAFE(s, &vm->sessions, entry, ts) {
		if (s->state != SESSION_WAITING &&
		    s->state != SESSION_CONNECTING)
			continue;
		probe_cancel(s->conn);
		s->conn = NULL;
		s->state = SESSION_FAILED;
		s->ops->fail(s->arg, full);
	}
}

/*
 * Sessions.
 */

struct session *
vm_session_open(struct vmconf *vmc, int port, int flags, const char *display,
    const char *xauthority, const struct session_ops *ops, void *arg)
{
	struct session	*s;
	struct vm	*vm;

	vm = vm_get(vmc->name, 1);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("session");
	s->vm = vm;
	s->port = vm->pol.port ? vm->pol.port : port;
	s->flags = flags;
	s->ops = ops;
	s->arg = arg;
	s->t_start = now_ms();
	vm->lastport = s->port;
	TAILQ_INSERT_TAIL(&vm->sessions, s, entry);

	if (flags & CTL_FLAG_RESUME) {
		/* Relaying since before we started: the VM runs. */
		s->state = SESSION_OPEN;
		log_info("vm %s: a session of a previous supervisor is "
		    "counted again", vm->name);
		if (vm->state == VM_STOPPED)
			vm_set_state(vm, VM_READY);
		if (vm->state == VM_IDLE) {
			evtimer_del(&vm->ev_deadline);
			vm_set_state(vm, VM_READY);
		}
		return (s);
	}
	s->state = SESSION_WAITING;
	log_debug("vm %s: session request, port %d", vm->name, s->port);
	if (vm->state == VM_IDLE) {
		evtimer_del(&vm->ev_deadline);
		log_info("vm %s: new session, idle stop cancelled", vm->name);
		vm_set_state(vm, VM_READY);
	}
	if (display != NULL && *display != '\0' && vm->display[0] == '\0' &&
	    !(flags & CTL_FLAG_NOBOOT)) {
		(void)strlcpy(vm->display, display, sizeof(vm->display));
		(void)strlcpy(vm->xauthority, xauthority,
		    sizeof(vm->xauthority));
	}
	switch (vm->state) {
	case VM_READY:
		session_connect(s);
		break;
	case VM_STOPPED:
		vm_check(vm);
		break;
	default:
		break;	/* it waits for what runs */
	}
	return (s);
}

void
vm_session_close(struct session *s)
{
	struct vm	*vm = s->vm;

	TAILQ_REMOVE(&vm->sessions, s, entry);
	probe_cancel(s->conn);
	log_debug("vm %s: session ended, %d open, %d waiting", vm->name,
	    vm_count(vm, SESSION_OPEN), vm_count(vm, SESSION_WAITING));
	free(s);
	vm_settle(vm);
	vm_gc(vm);
}

const char *
vm_session_vm(struct session *s)
{
	return (s->vm->name);
}

static void
session_probe_cb(enum probe_event ev, int fd, const char *text, void *arg)
{
	struct session	*s = arg;
	struct vm	*vm = s->vm;

	if (ev != PROBE_READY && ev != PROBE_FAILED)
		return;
	s->conn = NULL;
	if (ev == PROBE_READY) {
		s->state = SESSION_OPEN;
		log_debug("vm %s: session connected to %s", vm->name, text);
		s->ops->ready(s->arg, fd, text);
		return;
	}
	log_info("vm %s: connect failed (%s), checking its state", vm->name,
	    text);
	s->state = SESSION_WAITING;
	if (vm->state == VM_READY || vm->state == VM_IDLE)
		vm_check(vm);
	else
		s->ops->changed(s->arg);
}

/* The VM is ready: connect this session to its guest. */
static void
session_connect(struct session *s)
{
	struct vm	*vm = s->vm;

	s->state = SESSION_CONNECTING;
	s->conn = probe_start(&vm->pol, vm->name, vm->has_id, vm->id,
	    s->port, PROBE_CONNECT, session_probe_cb, s);
}

/* What a waiting session's client should show now. */
void
vm_session_progress(struct session *s, long long now,
    struct ctl_progress *pr)
{
	struct vm	*vm = s->vm;

	memset(pr, 0, sizeof(*pr));
	switch (vm->state) {
	case VM_STOPPED:
	case VM_CHECKING:
		pr->phase = PHASE_STATUS;
		(void)strlcpy(pr->text, "checking the vm's state",
		    sizeof(pr->text));
		pr->elapsed_ms = now - s->t_start;
		break;
	case VM_STARTING:
		pr->phase = PHASE_STARTING;
		(void)strlcpy(pr->text, "starting the vm", sizeof(pr->text));
		pr->elapsed_ms = now - vm->t_boot;
		pr->deadline_ms = vm->pol.boot_wait * 1000;
		break;
	case VM_BOOTING:
		pr->phase = PHASE_BOOTING;
		if (vm->probeaddr[0] != '\0')
			snprintf(pr->text, sizeof(pr->text),
			    "booting, waiting for %s", vm->probeaddr);
		else
			(void)strlcpy(pr->text, "booting", sizeof(pr->text));
		pr->elapsed_ms = now - vm->t_boot;
		pr->deadline_ms = vm->pol.boot_wait * 1000;
		break;
	case VM_STOPPING:
		pr->phase = PHASE_STOPPING;
		(void)strlcpy(pr->text, "waiting for the vm to stop first",
		    sizeof(pr->text));
		pr->elapsed_ms = now - vm->t_phase;
		if (vm->stop == STOP_THEIRS)
			pr->deadline_ms = vm->pol.stop_wait * 1000;
		break;
	case VM_READY:
	case VM_IDLE:
		pr->phase = PHASE_CONNECTING;
		(void)strlcpy(pr->text, "connecting", sizeof(pr->text));
		pr->elapsed_ms = now - s->t_start;
		break;
	}
}

/*
 * The state machine.
 */

/* Ask the backend what state the VM is in, then act on the answer. */
static void
vm_check(struct vm *vm)
{
	if (vm->req != NULL)
		return;		/* what runs decides, then looks again */
	vm_set_state(vm, VM_CHECKING);
	vm_changed(vm);
	log_debug("vm %s: asking %s for its state", vm->name,
	    vm_backend(vm));
	vm->req = backend_status(vm->name, 0, vm_check_done, vm);
}

/* A status says our VM is gone: believe it the second time in a row. */
static int
vm_really_gone(struct vm *vm)
{
	if (!vm->owned || ++vm->odd >= 2)
		return (1);
	log_info("vm %s: %s says it is not running; asking again", vm->name,
	    vm_backend(vm));
	return (0);
}

static void
vm_check_done(const struct backend_result *res, void *arg)
{
	struct vm		*vm = arg;
	const struct vmd_row	*row = res->row;
	int			 waiters;

	vm->req = NULL;
	waiters = vm_count(vm, SESSION_WAITING);
	if (!res->ok) {
		log_warnx("vm %s: %s status failed: %s", vm->name,
		    vm_backend(vm), res->msg);
		vm_fail_waiters(vm, "%s", res->msg);
		vm_set_state(vm, vm->owned ? VM_READY : VM_STOPPED);
		vm_settle(vm);
		goto done;
	}
	vm->vmd = row != NULL ? row->state : VMD_ABSENT;
	if (row != NULL && row->has_id) {
		vm->id = row->id;
		vm->has_id = 1;
	}
	if (row == NULL || row->state == VMD_STOPPED) {
		if (!vm_really_gone(vm)) {
			vm_set_state(vm, VM_CHECKING);
			timer_ms(&vm->ev_poll, RECHECK_INTERVAL);
			goto done;
		}
		if (vm->owned) {
			log_info("vm %s: stopped behind vmlaunch's back",
			    vm->name);
			vm->owned = 0;
			state_clear(vm->name);
		}
		vm->odd = 0;
		autostart_vm_gone(vm);
		vm->booted_here = 0;
		if (row == NULL && waiters > 0) {
			log_warnx("vm %s: %s status does not list it",
			    vm->name, vm_backend(vm));
			vm_fail_waiters(vm, "%s status does not list this vm",
			    vm_backend(vm));
		}
		vm_set_state(vm, VM_STOPPED);
		vm_fail_noboot(vm);
		if (vm_count(vm, SESSION_WAITING) > 0 &&
		    state_starting(vm->name)) {
			log_info("vm %s: a previous supervisor's start may "
			    "still be under way; looking again", vm->name);
			vm_set_state(vm, VM_CHECKING);
			timer_ms(&vm->ev_poll, STARTING_RECHECK);
			goto done;
		}
		if (vm_count(vm, SESSION_WAITING) > 0)
			vm_start(vm);
		goto done;
	}
	vm->odd = 0;
	switch (row->state) {
	case VMD_RUNNING:
		if (waiters == 0) {
			vm_set_state(vm, VM_READY);
			vm_settle(vm);
			break;
		}
		log_info("vm %s: found running%s, waiting for its guest",
		    vm->name, vm->owned ? "" :
		    " (not started by vmlaunch, it will not be stopped)");
		vm_boot(vm);
		break;
	case VMD_STOPPING:
		log_info("vm %s: is stopping, waiting before starting it "
		    "again", vm->name);
		vm_set_state(vm, VM_STOPPING);
		vm->stop = STOP_THEIRS;
		timer_ms(&vm->ev_deadline, vm->pol.stop_wait * 1000);
		timer_ms(&vm->ev_poll, STOP_POLL_INTERVAL);
		vm_changed(vm);
		break;
	default:
		log_warnx("vm %s: is %s, not starting it", vm->name,
		    vmd_state_name(row->state));
		vm_fail_waiters(vm, "vm is %s", vmd_state_name(row->state));
		vm_set_state(vm, vm->owned ? VM_READY : VM_STOPPED);
		vm_settle(vm);
		break;
	}
 done:
	vm_gc(vm);
	supervisor_check_exit();
}

static void
vm_start(struct vm *vm)
{
	int	 n = vm_count(vm, SESSION_WAITING);

	if (vm_down) {
		vm_fail_waiters(vm, "the supervisor is shutting down");
		return;
	}
	vm_set_state(vm, VM_STARTING);
	vm->t_boot = now_ms();
	vm_changed(vm);
	log_info("vm %s: starting it for %d waiting session%s", vm->name, n,
	    n == 1 ? "" : "s");
	/* Ours from now on, should we die before the start returns. */
	state_set(vm->name, STATE_STARTING, vm->has_id, vm->id);
	vm->req = backend_start(vm->name, vm_start_done, vm);
}

static void
vm_start_done(const struct backend_result *res, void *arg)
{
	struct vm	*vm = arg;

	vm->req = NULL;
	if (!res->ok) {
		/*
		 * A start that failed may still have started it (one that
		 * timed out, say): look before giving it up.
		 */
		log_warnx("vm %s: start failed: %s; checking its state",
		    vm->name, res->msg);
		(void)strlcpy(vm->probeerr, res->msg, sizeof(vm->probeerr));
		vm->start_unsure = res->err != BACKEND_FAILED;
		vm->req = backend_status(vm->name, BACKEND_FRESH,
		    vm_start_check_done, vm);
		return;
	}
	log_info("vm %s: started (%s)", vm->name, res->msg);
	vm->owned = 1;
	vm->odd = 0;
	vm->booted_here = 1;
	if (res->has_id) {
		vm->id = res->id;
		vm->has_id = 1;
	}
	state_set(vm->name, STATE_RUNNING, vm->has_id, vm->id);
	vm_boot(vm);
}

/*
 * After a failed start.  Running: the start worked after all (it timed
 * out, was killed), so the VM is ours; or someone else started it in
 * between (vmd said no), so it is not.
 */
static void
vm_start_check_done(const struct backend_result *res, void *arg)
{
	struct vm		*vm = arg;
	const struct vmd_row	*row = res->row;
	int			 ours = vm->start_unsure;

	vm->req = NULL;
	vm->start_unsure = 0;
	if (res->ok && row != NULL && row->state == VMD_RUNNING) {
		if (row->has_id) {
			vm->id = row->id;
			vm->has_id = 1;
		}
		if (ours) {
			log_info("vm %s: running after all: the start worked",
			    vm->name);
			vm->owned = 1;
			vm->booted_here = 1;
			state_set(vm->name, STATE_RUNNING, vm->has_id, vm->id);
		} else {
			log_info("vm %s: running, started by someone else",
			    vm->name);
			state_clear(vm->name);
		}
		vm_boot(vm);
		return;
	}
	if (res->ok && row != NULL && row->state == VMD_STOPPING && ours) {
		vm->owned = 1;
		state_set(vm->name, STATE_RUNNING, vm->has_id, vm->id);
		vm_stop(vm, "its start failed");
		return;
	}
	state_clear(vm->name);
	vm_fail_waiters(vm, "%s", vm->probeerr);
	vm_set_state(vm, VM_STOPPED);
	vm_gc(vm);
	supervisor_check_exit();
}

/*
 * Until the next status while booting: a quarter of the time it has
 * been booting, at least WATCH_INTERVAL, at most WATCH_MAX.  A VM that
 * dies while booting fails its clients within that after its death,
 * plus the second opinion (RECHECK_INTERVAL) and the status runs; a
 * long boot costs a vmctl every 4 s instead of every second.
 */
static long long
vm_watch_ms(struct vm *vm)
{
	long long	 ms = (now_ms() - vm->t_boot) / 4;

	if (ms < WATCH_INTERVAL)
		ms = WATCH_INTERVAL;
	if (ms > WATCH_MAX)
		ms = WATCH_MAX;
	return (ms);
}

/* Wait for the guest: probe for its banner, watch the status. */
static void
vm_boot(struct vm *vm)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	char			 err[256];
	int			 port = vm->pol.port ? vm->pol.port :
				    vm->lastport;

	if (vm->state != VM_STARTING)
		vm->t_boot = now_ms();
	vm_set_state(vm, VM_BOOTING);
	vm->probeaddr[0] = '\0';
	vm->probeerr[0] = '\0';
	/* The address, when it is known now, shows in the first progress. */
	if (address_guest(&vm->pol, vm->name, vm->has_id, vm->id, port, &ss,
	    &sl, err, sizeof(err)) == ADDRESS_OK)
		address_print(&ss, sl, vm->probeaddr, sizeof(vm->probeaddr));
	timer_ms(&vm->ev_deadline, vm->pol.boot_wait * 1000 -
	    (now_ms() - vm->t_boot));
	timer_ms(&vm->ev_poll, vm_watch_ms(vm));
	probe_cancel(vm->probe);
	vm->probe = probe_start(&vm->pol, vm->name, vm->has_id, vm->id,
	    port, PROBE_BANNER, vm_probe_cb, vm);
	vm_changed(vm);
}

static void
vm_probe_cb(enum probe_event ev, int fd, const char *text, void *arg)
{
	struct vm	*vm = arg;

	switch (ev) {
	case PROBE_ADDRESS:
		if (strcmp(vm->probeaddr, text) == 0)
			break;
		(void)strlcpy(vm->probeaddr, text, sizeof(vm->probeaddr));
		vm_changed(vm);
		break;
	case PROBE_WAITING:
		log_debug("vm %s: probe: %s", vm->name, text);
		(void)strlcpy(vm->probeerr, text, sizeof(vm->probeerr));
		break;
	case PROBE_READY:
		vm->probe = NULL;
		vm_ready(vm, fd);
		break;
	case PROBE_FAILED:
		vm->probe = NULL;	/* not in banner mode */
		break;
	}
}

static void
vm_boot_deadline(struct vm *vm)
{
	char	 d[32];

	print_duration(vm->pol.boot_wait, d, sizeof(d));
	probe_cancel(vm->probe);
	vm->probe = NULL;
	evtimer_del(&vm->ev_poll);
	backend_cancel(vm->watch);
	vm->watch = NULL;
	if (vm->probeaddr[0] != '\0') {
		log_warnx("vm %s: guest %s did not answer within %s (%s)",
		    vm->name, vm->probeaddr, d, vm->probeerr);
		vm_fail_waiters(vm, "guest %s did not answer within %s",
		    vm->probeaddr, d);
	} else {
		log_warnx("vm %s: no guest address within %s: %s", vm->name,
		    d, vm->probeerr);
		vm_fail_waiters(vm, "no guest address within %s: %s", d,
		    vm->probeerr);
	}
	/* Ours and of no use: stop it, whoever booted it. */
	if (vm->owned) {
		vm_stop(vm, "its guest never answered");
		return;
	}
	vm_set_state(vm, VM_READY);
	vm_settle(vm);
	vm_gc(vm);
	supervisor_check_exit();
}

/* The guest answered with its banner on fd. */
static void
vm_ready(struct vm *vm, int fd)
{
	struct session	*s, *ts;
	int		 port = vm->pol.port ? vm->pol.port : vm->lastport;

	evtimer_del(&vm->ev_deadline);
	evtimer_del(&vm->ev_poll);
	backend_cancel(vm->watch);
	vm->watch = NULL;
	vm_set_state(vm, VM_READY);
	log_info("vm %s: guest %s ready after %.1fs", vm->name,
	    vm->probeaddr, (now_ms() - vm->t_boot) / 1000.0);
	TAILQ_FOREACH_SAFE(s, &vm->sessions, entry, ts) {
		if (s->state != SESSION_WAITING)
			continue;
		if (fd != -1 && s->port == port) {
			s->state = SESSION_OPEN;
			s->ops->ready(s->arg, fd, vm->probeaddr);
			fd = -1;
		} else
			session_connect(s);
	}
	if (fd != -1)
		close(fd);
	if (vm->booted_here) {
		vm->booted_here = 0;
		autostart_vm_ready(vm, vm->conf);
	}
	vm_settle(vm);
	supervisor_check_exit();
}

/*
 * A running VM at rest decides whether its idle timer runs: ours and
 * unused, yes (not before the sessions of a dead supervisor had their
 * chance to come back); anything else, no.
 */
static void
vm_settle(struct vm *vm)
{
	long long	 ms;
	char		 d[32];

	if (vm->state != VM_READY && vm->state != VM_IDLE)
		return;
	if (vm_inuse(vm) || !vm->owned || vm_down) {
		if (vm->state == VM_IDLE) {
			evtimer_del(&vm->ev_deadline);
			vm_set_state(vm, VM_READY);
		}
		return;
	}
	if (vm->pol.idle_timeout == DURATION_NEVER) {
		if (vm->state == VM_IDLE)
			evtimer_del(&vm->ev_deadline);
		vm_set_state(vm, VM_READY);
		log_info("vm %s: no sessions; idle timeout never, left "
		    "running", vm->name);
		return;
	}
	if (vm->state == VM_IDLE && evtimer_pending(&vm->ev_deadline, NULL))
		return;
	vm_set_state(vm, VM_IDLE);
	ms = vm->pol.idle_timeout * 1000;
	if (now_ms() + ms < vm_t0 + RESUME_GRACE)
		ms = vm_t0 + RESUME_GRACE - now_ms();
	vm->idle_at = now_ms() + ms;
	timer_ms(&vm->ev_deadline, ms);
	log_info("vm %s: no sessions, stopping in %s unless used", vm->name,
	    print_duration(vm->pol.idle_timeout, d, sizeof(d)));
}

/* Autostart's restarts count as use: they changed. */
void
vm_use_changed(struct vm *vm)
{
	vm_settle(vm);
}

/* Something (an app that saw it gone) suggests a look at the VM. */
void
vm_suspect(struct vm *vm)
{
	if (vm->state == VM_READY || vm->state == VM_IDLE)
		vm_check(vm);
}

/* Stop a VM we own: graceful, verified, forced after stop wait. */
static void
vm_stop(struct vm *vm, const char *why)
{
	if (vm->state == VM_STOPPING && vm->stop != STOP_THEIRS)
		return;
	evtimer_del(&vm->ev_deadline);
	evtimer_del(&vm->ev_poll);
	probe_cancel(vm->probe);
	vm->probe = NULL;
	backend_cancel(vm->req);
	vm->req = NULL;
	backend_cancel(vm->watch);
	vm->watch = NULL;
	(void)strlcpy(vm->stopwhy, why, sizeof(vm->stopwhy));
	/* Its apps end first: they would only fail once it is gone. */
	autostart_vm_stopping(vm);
	log_info("vm %s: stopping it: %s", vm->name, why);
	vm_set_state(vm, VM_STOPPING);
	vm->stop = STOP_OURS;
	state_set(vm->name, STATE_STOPPING, vm->has_id, vm->id);
	vm->req = backend_stop(vm->name, 0, vm_stop_done, vm);
	timer_ms(&vm->ev_deadline, vm->pol.stop_wait * 1000);
	vm_changed(vm);
}

static void
vm_stop_done(const struct backend_result *res, void *arg)
{
	struct vm	*vm = arg;

	vm->req = NULL;
	if (!res->ok)
		log_warnx("vm %s: %s stop: %s", vm->name, vm_backend(vm),
		    res->msg);
	else
		log_debug("vm %s: %s stop: %s", vm->name, vm_backend(vm),
		    res->msg);
	/* Whatever it said, the status tells whether it stopped. */
	if (!evtimer_pending(&vm->ev_poll, NULL) && vm->watch == NULL)
		timer_ms(&vm->ev_poll, res->ok ? STOP_POLL_FIRST : 0);
}

static void
vm_stop_deadline(struct vm *vm)
{
	char	 d[32];

	print_duration(vm->pol.stop_wait, d, sizeof(d));
	if (vm->stop == STOP_THEIRS && !vm->owned) {
		/* Not ours to force: give up waiting for it. */
		log_warnx("vm %s: still stopping after %s, stopped by "
		    "someone else", vm->name, d);
		vm_fail_waiters(vm, "vm is still stopping after %s (stopped "
		    "by someone else)", d);
		evtimer_del(&vm->ev_poll);
		backend_cancel(vm->watch);
		vm->watch = NULL;
		vm_set_state(vm, VM_STOPPED);
		vm_gc(vm);
		supervisor_check_exit();
		return;
	}
	if (vm->stop != STOP_FORCED) {
		log_warnx("vm %s: still running %s after the stop request, "
		    "forcing it", vm->name, d);
		vm->stop = STOP_FORCED;
		vm->t_phase = now_ms();
		backend_cancel(vm->req);
		vm->req = backend_stop(vm->name, 1, vm_stop_done, vm);
		timer_ms(&vm->ev_deadline, vm->pol.stop_wait * 1000);
		return;
	}
	if (vm_down) {
		/*
		 * Exiting, and the stop does not finish: the state file says
		 * it was stopping, so the next supervisor finishes it.
		 */
		log_warnx("vm %s: still %s after a forced stop; leaving it "
		    "to the next supervisor", vm->name,
		    vmd_state_name(vm->vmd));
		evtimer_del(&vm->ev_poll);
		backend_cancel(vm->watch);
		vm->watch = NULL;
		backend_cancel(vm->req);
		vm->req = NULL;
		vm->abandoned = 1;
		supervisor_check_exit();
		return;
	}
	log_warnx("vm %s: still %s after a forced stop; trying again in %s",
	    vm->name, vmd_state_name(vm->vmd), d);
	vm_fail_waiters(vm, "vm did not stop");
	evtimer_del(&vm->ev_poll);
	backend_cancel(vm->watch);
	vm->watch = NULL;
	backend_cancel(vm->req);
	vm->req = NULL;
	vm_set_state(vm, VM_IDLE);
	vm->idle_at = now_ms() + vm->pol.stop_wait * 1000;
	timer_ms(&vm->ev_deadline, vm->pol.stop_wait * 1000);
}

/* The state's deadline passed. */
static void
vm_deadline(int fd, short ev, void *arg)
{
	struct vm	*vm = arg;
	char		 d[32];

	switch (vm->state) {
	case VM_BOOTING:
		vm_boot_deadline(vm);
		break;
	case VM_IDLE:
		if (vm_inuse(vm) || !vm->owned) {
			vm_settle(vm);
			break;
		}
		snprintf(vm->stopwhy, sizeof(vm->stopwhy),
		    "no session for %s", print_duration(vm->pol.idle_timeout,
		    d, sizeof(d)));
		vm_stop(vm, vm->stopwhy);
		break;
	case VM_STOPPING:
		vm_stop_deadline(vm);
		break;
	default:
		break;
	}
}

/* Time to ask again: while booting, stopping, or for a second opinion. */
static void
vm_poll(int fd, short ev, void *arg)
{
	struct vm	*vm = arg;

	switch (vm->state) {
	case VM_CHECKING:
		if (vm->req == NULL)
			vm->req = backend_status(vm->name, BACKEND_FRESH,
			    vm_check_done, vm);
		break;
	case VM_BOOTING:
	case VM_STOPPING:
		if (vm->watch == NULL)
			vm->watch = backend_status(vm->name, BACKEND_FRESH,
			    vm_poll_done, vm);
		break;
	default:
		break;
	}
}

/* While booting: is the VM still there?  While stopping: gone yet? */
static void
vm_poll_done(const struct backend_result *res, void *arg)
{
	struct vm		*vm = arg;
	const struct vmd_row	*row = res->row;
	enum vmd_state		 st;

	vm->watch = NULL;
	if (!res->ok) {
		log_debug("vm %s: %s status: %s", vm->name, vm_backend(vm),
		    res->msg);
		timer_ms(&vm->ev_poll, vm->state == VM_BOOTING ?
		    vm_watch_ms(vm) : STOP_POLL_INTERVAL);
		return;
	}
	st = row != NULL ? row->state : VMD_ABSENT;
	vm->vmd = st;
	if (row != NULL && row->has_id && (!vm->has_id ||
	    vm->id != row->id)) {
		vm->id = row->id;
		vm->has_id = 1;
		if (vm->owned)
			state_set(vm->name, vm->state == VM_STOPPING ?
			    STATE_STOPPING : STATE_RUNNING, 1, vm->id);
	}
	if (vm->state == VM_STOPPING) {
		if (st == VMD_ABSENT || st == VMD_STOPPED) {
			log_info("vm %s: stopped after %.1fs%s", vm->name,
			    (now_ms() - vm->t_phase) / 1000.0,
			    vm->stop == STOP_FORCED ? " (forced)" : "");
			vm_stopped(vm);
			return;
		}
		if (st == VMD_RUNNING && vm->stop == STOP_THEIRS &&
		    !vm->owned) {
			/* Someone else's stop ended with it running. */
			log_info("vm %s: running again", vm->name);
			evtimer_del(&vm->ev_deadline);
			if (vm_count(vm, SESSION_WAITING) > 0)
				vm_boot(vm);
			else {
				vm_set_state(vm, VM_READY);
				vm_settle(vm);
			}
			return;
		}
		timer_ms(&vm->ev_poll, STOP_POLL_INTERVAL);
		return;
	}
	/* Booting. */
	if (st == VMD_RUNNING || (st == VMD_ABSENT &&
	    now_ms() - vm->t_boot < ABSENT_GRACE)) {
		vm->odd = 0;
		timer_ms(&vm->ev_poll, vm_watch_ms(vm));
		return;
	}
	if (!vm_really_gone(vm)) {
		timer_ms(&vm->ev_poll, RECHECK_INTERVAL);
		return;
	}
	vm->odd = 0;
	probe_cancel(vm->probe);
	vm->probe = NULL;
	evtimer_del(&vm->ev_deadline);
	log_warnx("vm %s: %s while booting", vm->name, st == VMD_ABSENT ?
	    "disappeared from vmctl status" : vmd_state_name(st));
	vm_fail_waiters(vm, "vm %s while booting", st == VMD_ABSENT ?
	    "disappeared" : vmd_state_name(st));
	if (st == VMD_STOPPING) {
		vm_set_state(vm, VM_STOPPING);
		vm->stop = STOP_THEIRS;
		timer_ms(&vm->ev_deadline, vm->pol.stop_wait * 1000);
		timer_ms(&vm->ev_poll, STOP_POLL_INTERVAL);
		return;
	}
	vm_stopped(vm);
}

static void
vm_stopped(struct vm *vm)
{
	evtimer_del(&vm->ev_deadline);
	evtimer_del(&vm->ev_poll);
	backend_cancel(vm->req);
	vm->req = NULL;
	backend_cancel(vm->watch);
	vm->watch = NULL;
	autostart_vm_gone(vm);
	if (vm->owned) {
		vm->owned = 0;
		state_clear(vm->name);
	}
	vm->display[0] = '\0';
	vm->xauthority[0] = '\0';
	vm->booted_here = 0;
	vm_set_state(vm, VM_STOPPED);
	vm_fail_noboot(vm);
	if (vm_count(vm, SESSION_WAITING) > 0 && !vm_down) {
		log_info("vm %s: sessions are waiting, starting it again",
		    vm->name);
		vm_check(vm);
		return;
	}
	vm_gc(vm);
	supervisor_check_exit();
}

/*
 * Adoption (state.c decided): the VM is ours, in that phase; a stop
 * began elapsed ms ago.
 */
void
vm_adopt(const char *name, enum state_phase phase, int has_id,
    unsigned int id, enum vmd_state vmd, long long elapsed)
{
	struct vm	*vm = vm_get(name, 1);
	long long	 left;

	vm->owned = 1;
	vm->odd = 0;
	if (has_id) {
		vm->id = id;
		vm->has_id = 1;
	}
	if (phase == STATE_STOPPING && vmd == VMD_RUNNING) {
		/* Its stop may never have reached the VM: ask again. */
		log_info("vm %s: adopted from a previous supervisor (id %u), "
		    "which was stopping it", vm->name, vm->id);
		vm_stop(vm, "a previous supervisor was stopping it");
		return;
	}
	if (phase == STATE_STOPPING) {
		log_info("vm %s: adopted from a previous supervisor (id %u), "
		    "which was stopping it; finishing the stop", vm->name,
		    vm->id);
		probe_cancel(vm->probe);
		vm->probe = NULL;
		backend_cancel(vm->req);
		vm->req = NULL;
		evtimer_del(&vm->ev_deadline);
		vm_set_state(vm, VM_STOPPING);
		vm->t_phase -= elapsed;
		vm->stop = STOP_OURS;
		(void)strlcpy(vm->stopwhy, "a previous supervisor's stop",
		    sizeof(vm->stopwhy));
		left = vm->pol.stop_wait * 1000 - elapsed;
		timer_ms(&vm->ev_deadline, left);
		timer_ms(&vm->ev_poll, 0);
		return;
	}
	log_info("vm %s: adopted from a previous supervisor (id %u)",
	    vm->name, vm->id);
	switch (vm->state) {
	case VM_STOPPED:
		if (vm_count(vm, SESSION_WAITING) > 0)
			vm_boot(vm);
		else {
			vm_set_state(vm, VM_READY);
			vm_settle(vm);
		}
		break;
	case VM_READY:
	case VM_IDLE:
		vm_settle(vm);
		break;
	default:
		break;		/* what runs decides */
	}
}

/*
 * Status rows: every configured VM, then those a reload removed that
 * are still managed, with vmctl's view from res.
 */
static void
vm_status_row(struct vm *vm, const char *name,
    const struct backend_result *res, struct ctl_status_vm *row)
{
	const struct vmd_row	*r = NULL;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	char			 err[128];
	long long		 left;

	memset(row, 0, sizeof(*row));
	(void)strlcpy(row->name, name, sizeof(row->name));
	if (res != NULL && res->ok)
		r = vmctl_find_row(res->rows, res->nrows, name);
	if (res == NULL || !res->ok)
		(void)strlcpy(row->vmd_state, "?", sizeof(row->vmd_state));
	else
		(void)strlcpy(row->vmd_state, r != NULL ?
		    vmd_state_name(r->state) : "absent",
		    sizeof(row->vmd_state));
	row->idle_left = -1;
	row->configured = config_find_vm(vm_conf, name) != NULL;
	if (vm == NULL) {
		(void)strlcpy(row->state, "-", sizeof(row->state));
		(void)strlcpy(row->address, "-", sizeof(row->address));
		return;
	}
	(void)strlcpy(row->state, vm_states[vm->state], sizeof(row->state));
	row->sessions = vm_count(vm, SESSION_OPEN) +
	    vm_count(vm, SESSION_WAITING) + vm_count(vm, SESSION_CONNECTING);
	row->started = vm->owned;
	if (vm->state == VM_IDLE) {
		left = (vm->idle_at - now_ms() + 999) / 1000;
		row->idle_left = left < 0 ? 0 : left;
	}
	if (r != NULL && r->has_id) {
		vm->id = r->id;
		vm->has_id = 1;
	}
	if (address_guest(&vm->pol, vm->name, vm->has_id, vm->id,
	    vm->pol.port ? vm->pol.port : vm->lastport, &ss, &sl, err,
	    sizeof(err)) == ADDRESS_OK)
		address_print(&ss, sl, row->address, sizeof(row->address));
	else
		(void)strlcpy(row->address, "-", sizeof(row->address));
	autostart_status(vm, row);
}

void
vm_status_rows(const struct backend_result *res,
    void (*emit)(const struct ctl_status_vm *, void *), void *arg)
{
	struct ctl_status_vm	 row;
	struct vmconf		*vmc;
	struct vm		*vm;

	TAILQ_FOREACH(vmc, &vm_conf->vms, entry) {
		vm_status_row(vm_get(vmc->name, 0), vmc->name, res, &row);
		emit(&row, arg);
	}
	TAILQ_FOREACH(vm, &vms, entry) {
		if (config_find_vm(vm_conf, vm->name) != NULL)
			continue;
		vm_status_row(vm, vm->name, res, &row);
		emit(&row, arg);
	}
}

/*
 * SIGTERM: fail what waits, stop what is ours (whatever it is doing),
 * let go of the rest.  vm_busy() says when the stops are done.
 */
void
vm_shutdown(void)
{
	struct vm	*vm, *tvm;

	vm_down = 1;
	TAILQ_FOREACH_SAFE(vm, &vms, entry, tvm) {
		vm_fail_waiters(vm, "the supervisor is shutting down");
		if (vm->owned && (vm->state != VM_STOPPING ||
		    vm->stop == STOP_THEIRS)) {
			vm_stop(vm, "the supervisor is shutting down");
			continue;
		}
		if (vm->owned)
			continue;	/* its stop goes on */
		evtimer_del(&vm->ev_deadline);
		evtimer_del(&vm->ev_poll);
		probe_cancel(vm->probe);
		vm->probe = NULL;
		backend_cancel(vm->req);
		vm->req = NULL;
		backend_cancel(vm->watch);
		vm->watch = NULL;
		autostart_vm_stopping(vm);
		vm_set_state(vm, VM_STOPPED);
	}
}

/*
 * Is there anything to watch?  A VM we own, in use, or with something
 * in flight; once shutting down, only our stops.
 */
int
vm_busy(void)
{
	struct vm	*vm;

	TAILQ_FOREACH(vm, &vms, entry) {
		if (vm_down) {
			if (vm->owned && vm->state == VM_STOPPING &&
			    !vm->abandoned)
				return (1);
			continue;
		}
		if (vm->owned || vm_inuse(vm) || vm->req != NULL ||
		    vm->watch != NULL ||
		    (vm->state != VM_STOPPED && vm->state != VM_READY))
			return (1);
	}
	return (0);
}

/* At exit, so that nothing is left for a leak check to find. */
void
vm_free_all(void)
{
	struct vm	*vm;
	struct session	*s;

	while ((vm = TAILQ_FIRST(&vms)) != NULL) {
		while ((s = TAILQ_FIRST(&vm->sessions)) != NULL) {
			TAILQ_REMOVE(&vm->sessions, s, entry);
			probe_cancel(s->conn);
			free(s);
		}
		vm_free(vm);
	}
}
