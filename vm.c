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
 * The VMs: a state machine per VM, which decides what each VM does next.
 * Its sessions (session.c) are what uses it: a session opens (wanting a
 * connected guest socket, or no socket, or the VM stopped), a session
 * closes; the VM tells its sessions that it is ready, stopped, failed
 * (here is why) or that its progress changed.  The work is done by
 * objects the VM owns, one at a time, each with a file of its own: the
 * backend's requests (backend.c), the wait for a guest (boot.c), a stop
 * (halt.c), the idle countdown (idle.c); the state file is state.c's.
 *
 * States, and what ends each one when vmlaunch owns a running VM:
 *
 *	STOPPED		not running as far as we know; owns nothing
 *	CHECKING	a status request runs (req), or ev_poll to ask again:
 *			the backend's time limit
 *	STARTING	the start runs (req): the backend's time limit
 *	BOOTING		the wait for its guest (boot): the boot wait
 *	READY		serving; ours and unused only with idle timeout never
 *	IDLE		ours, unused: the idle countdown (idle: idle pause,
 *			idle timeout, the busy check), or ev_deadline, a
 *			stop to try again
 *	PAUSING		the pause runs (req): the backend's time limit
 *	PAUSED		paused by us: the idle countdown's stop (idle)
 *	RESUMING	the unpause for a session runs (req): the backend's
 *			time limit, then BOOTING for the banner
 *	STOPPING	a stop runs (halt): the stop wait, forced, the stop
 *			wait again, then back to IDLE to try again one stop
 *			wait later
 *
 * Ownership ("owned": vmlaunch started the VM, or adopted it from the
 * state file) is what makes a VM ours to stop, or to pause.  It is
 * written to the state file before each start, pause and stop, and
 * given up only once two answers in a row say the VM is gone.
 *
 * Lifetime: a VM owns its request, boot, halt, idle countdown and
 * timers, and cancels them (vm_quiet) when it leaves the state they
 * belong to; a struct vm is freed only when none is left and no session
 * refers to it.
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
#include <syslog.h>
#include <unistd.h>

#include "vmlaunch.h"

#define RECHECK_INTERVAL	500	/* ms: a second opinion */
#define STARTING_RECHECK	1000	/* ms: a predecessor's start may come */
#define RESUME_GRACE		5000	/* ms: sessions of a dead supervisor
					   come back within this */

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
	long long		 id_at;		/* learnt as of then */
	long long		 t_req;		/* req asked */
	int			 odd;		/* answers in a row that say
						   it is gone */
	int			 start_unsure;	/* a start failed, not refused */
	int			 abandoned;	/* exiting, its stop left undone */
	int			 paused_here;	/* we paused it */
	int			 resumed;	/* its boot is a resume */
	int			 stop_due;	/* stop due while pausing */
	struct idle		*idle;		/* the idle countdown */
	struct halt		*halt;		/* the stop in progress */
	struct backend_req	*req;
	struct boot		*boot;		/* the wait for the guest */
	struct event		 ev_deadline;
	struct event		 ev_poll;
	int			 lastport;
	long long		 idle_at;
	char			 probeaddr[128];
	char			 failwhy[256];	/* a start's, a resume's */
	char			 stopwhy[128];
	char			 forwhom[64];	/* the session that waits */
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
static void	 vm_boot_cb(enum boot_event, int, const char *,
		    const struct vmd_row *, void *);
static void	 vm_ready(struct vm *, int);
static void	 vm_settle(struct vm *);
static void	 vm_stop(struct vm *, const char *);
static void	 vm_stopped(struct vm *);
static void	 vm_deadline(int, short, void *);
static void	 vm_poll(int, short, void *);
static void	 vm_gc(struct vm *);
static void	 vm_set_state(struct vm *, enum vm_state);
static void	 vm_fail_waiters(struct vm *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	 vm_changed(struct vm *);
static void	 vm_idle_due(enum idle_due, void *);
static void	 vm_pause(struct vm *);
static void	 vm_pause_done(const struct backend_result *, void *);
static void	 vm_resume(struct vm *);
static void	 vm_resume_done(const struct backend_result *, void *);
static void	 vm_resume_check_done(const struct backend_result *, void *);
static void	 vm_resumed(struct vm *);
static void	 vm_unidle(struct vm *);
static void	 vm_quiet(struct vm *);
static void	 vm_stopping(struct vm *, long long);
static void	 vm_halted(enum halt_end, const struct vmd_row *, void *);
static void	 vm_down_answer(struct vm *);
static void	 vm_paused_at_rest(struct vm *, long long);
static int	 vm_row_id(struct vm *, const struct vmd_row *, long long);
static void	 vm_id_claimed(struct vm *);
static void	 vm_id_doubt(struct vm *);

static const char *const vm_states[] = {
	[VM_STOPPED] = "stopped",
	[VM_CHECKING] = "checking",
	[VM_STARTING] = "starting",
	[VM_BOOTING] = "booting",
	[VM_READY] = "ready",
	[VM_IDLE] = "idle",
	[VM_PAUSING] = "pausing",
	[VM_PAUSED] = "paused",
	[VM_RESUMING] = "resuming",
	[VM_STOPPING] = "stopping"
};

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
		/* An idle timeout that was never, or is now: it applies. */
		vm_settle(vm);
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

/* How long a backend command may run, in ms. */
static long long
vm_limit_ms(void)
{
	return ((vm_conf != NULL && vm_conf->vmctl_timeout > 0 ?
	    vm_conf->vmctl_timeout : DEFAULT_VMCTL_TIMEOUT) * 1000LL);
}

/* Its own commands: its id names a run, not a vmd VM. */
static int
vm_command(struct vm *vm)
{
	return (vm->conf != NULL && vm->conf->backend.type == BACKEND_COMMAND);
}

/* What runs this VM's commands, for messages. */
static const char *
vm_backend(struct vm *vm)
{
	return (vm_command(vm) ? "backend" : "vmctl");
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
	char		 err[128];

	TAILQ_FOREACH(vm, &vms, entry)
		if (strcmp(vm->name, name) == 0)
			return (vm);
	if (!create)
		return (NULL);
	if ((vm = calloc(1, sizeof(*vm))) == NULL)
		fatal("vm");
	(void)strlcpy(vm->name, name, sizeof(vm->name));
	vm->state = VM_STOPPED;
	vm->lastport = SSH_PORT;
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
		vm->pol.idle_pause = DURATION_NEVER;	/* not 0: at once */
		vm->pol.boot_wait = DEFAULT_BOOT_WAIT;
		vm->pol.stop_wait = DEFAULT_STOP_WAIT;
		vm->pol.addr = ADDR_LOCAL;
		if (address_parse_prefix(DEFAULT_LOCAL_PREFIX,
		    &vm->pol.addr_prefix, &vm->pol.addr_prefixlen, err,
		    sizeof(err)) == -1)
			fatalx("%s", err);
	}
	TAILQ_INSERT_TAIL(&vms, vm, entry);
	return (vm);
}

/* Nothing of the VM's runs any more: timers, requests, probe, waits. */
static void
vm_quiet(struct vm *vm)
{
	evtimer_del(&vm->ev_deadline);
	evtimer_del(&vm->ev_poll);
	backend_cancel(vm->req);
	vm->req = NULL;
	boot_cancel(vm->boot);
	vm->boot = NULL;
	idle_cancel(vm->idle);
	vm->idle = NULL;
	halt_cancel(vm->halt);
	vm->halt = NULL;
}

static void
vm_free(struct vm *vm)
{
	TAILQ_REMOVE(&vms, vm, entry);
	vm_quiet(vm);
	autostart_vm_gone(vm);
	free(vm->pol.addr_host);
	free(vm);
}

/* In use: a session that waits or is open, or an app to restart. */
static int
vm_inuse(struct vm *vm)
{
	return (session_count(vm, SESSIONS_USING) > 0 ||
	    autostart_pending(vm) > 0);
}

/*
 * Forget a VM that a reload removed, once it needs no watching: not
 * ours, nothing in flight, no session.  A configured VM stays known
 * (vmlaunch -s shows what it last saw).
 */
static void
vm_gc(struct vm *vm)
{
	if (vm->conf != NULL || vm->owned ||
	    session_count(vm, SESSIONS_ANY) > 0 ||
	    vm->req != NULL || vm->boot != NULL || vm->halt != NULL ||
	    (vm->state != VM_STOPPED && vm->state != VM_READY))
		return;
	history_add(vm->name, LOG_INFO, "no longer configured, forgotten");
	vm_free(vm);
}

/* Tell the sessions that wait that there is news to show. */
static void
vm_changed(struct vm *vm)
{
	session_notify(vm);
}

/* Sessions that must not boot the VM (an app's, a check's) fail. */
static void
vm_fail_noboot(struct vm *vm)
{
	char	 msg[128];

	snprintf(msg, sizeof(msg), "%s: the vm is not running", vm->name);
	session_fail_noboot(vm, msg);
}

static void
vm_fail_waiters(struct vm *vm, const char *fmt, ...)
{
	char		 msg[512], full[600];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s: %s", vm->name, msg);
	session_fail_waiting(vm, full, SESSIONS_FAIL_ALL);
}

/*
 * Sessions (session.c) ask and tell.
 */

struct vm *
vm_find(const char *name)
{
	return (vm_get(name, 1));
}

/*
 * The guest port a session asked for, unless the VM has its own; 0 asks
 * for the port it was last reached on.
 */
int
vm_port(struct vm *vm, int asked)
{
	if (asked != 0 || vm->pol.port != 0)
		vm->lastport = vm->pol.port ? vm->pol.port : asked;
	return (vm->lastport);
}

/*
 * The idle countdown (or a stop to retry) ends: the VM is used.  It may
 * run while a check looks at the VM, so it ends whatever the state.
 */
static void
vm_unidle(struct vm *vm)
{
	idle_cancel(vm->idle);
	vm->idle = NULL;
	vm->stop_due = 0;
	if (vm->state != VM_IDLE)
		return;
	evtimer_del(&vm->ev_deadline);
	vm_set_state(vm, VM_READY);
}

/*
 * vmlaunch -x (-X: force): stop now a VM that we started, unless it is
 * in use.  The session waits for the stop, or is refused with msg.
 */
static enum vm_session_answer
vm_down_asked(struct vm *vm, int flags, char *msg, size_t msglen)
{
	int	 users = session_count(vm, SESSIONS_USERS);
	int	 holds = session_count(vm, SESSIONS_HOLDS);
	char	 open[64];

	if (!vm->owned && vm->state == VM_STOPPED) {
		vm_check(vm);	/* then vm_down_answer() */
		return (VM_SESSION_WAIT);
	}
	if (!vm->owned) {
		snprintf(msg, msglen, "%s: vmlaunch did not start this vm, so "
		    "it does not stop it", vm->name);
		return (VM_SESSION_REFUSED);
	}
	if (vm->state == VM_STOPPING && !halt_theirs(vm->halt))
		return (VM_SESSION_WAIT);
	if (vm->state == VM_CHECKING || vm->state == VM_STARTING) {
		snprintf(msg, msglen, "%s: the vm is being started, not "
		    "stopped", vm->name);
		return (VM_SESSION_REFUSED);
	}
	/* One hold at most. */
	if (users > 0 && holds > 0)
		snprintf(open, sizeof(open), "%d session%s and a hold", users,
		    users == 1 ? "" : "s");
	else if (holds > 0)
		(void)strlcpy(open, "a hold", sizeof(open));
	else
		snprintf(open, sizeof(open), "%d session%s", users,
		    users == 1 ? "" : "s");
	if ((users > 0 || holds > 0) && !(flags & CTL_FLAG_FORCE)) {
		snprintf(msg, msglen, "%s: %s open, not stopped (vmlaunch -X "
		    "stops it anyway)", vm->name, open);
		history_add(vm->name, LOG_INFO, "vmlaunch -x refused: %s open",
		    open);
		return (VM_SESSION_REFUSED);
	}
	if (users > 0 || holds > 0) {
		snprintf(msg, msglen, "%s: stopped by vmlaunch -X", vm->name);
		session_fail_waiting(vm, msg, SESSIONS_FAIL_UP);
	}
	snprintf(vm->stopwhy, sizeof(vm->stopwhy), "%s%s%s%s",
	    flags & CTL_FLAG_FORCE ? "vmlaunch -X" : "vmlaunch -x",
	    users > 0 || holds > 0 ? ", with " : "",
	    users > 0 || holds > 0 ? open : "",
	    users > 0 || holds > 0 ? " open" : "");
	vm_stop(vm, vm->stopwhy);
	return (VM_SESSION_WAIT);
}

/* Those who asked for a stop of a VM that is not ours learn why not. */
static void
vm_down_answer(struct vm *vm)
{
	char	 msg[256];

	if (vm->owned || session_count(vm, SESSIONS_DOWN) == 0)
		return;
	if (vm->state == VM_STOPPED)
		snprintf(msg, sizeof(msg), "%s: not running, nothing to stop",
		    vm->name);
	else
		snprintf(msg, sizeof(msg), "%s: vmlaunch did not start this "
		    "vm, so it does not stop it", vm->name);
	session_fail_waiting(vm, msg, SESSIONS_FAIL_DOWN);
}

/* A session opened: what it does now. */
enum vm_session_answer
vm_session_opened(struct vm *vm, unsigned int id, int flags,
    const char *display, const char *xauthority, char *msg, size_t msglen)
{
	if (flags & CTL_FLAG_DOWN)
		return (vm_down_asked(vm, flags, msg, msglen));
	if (flags & CTL_FLAG_RESUME) {
		/* Relaying since before we started: the VM runs. */
		history_add(vm->name, LOG_INFO, "%s of a previous supervisor "
		    "is counted again", session_kind(flags));
		if (vm->state == VM_STOPPED)
			vm_set_state(vm, VM_READY);
		/* One that does not keep the VM up leaves its idle stop. */
		if (!(flags & CTL_FLAG_NOTUSE))
			vm_unidle(vm);
		else
			vm_settle(vm);
		return (VM_SESSION_OPEN);
	}
	log_debug("vm %s: session request, port %d: %s (#%u)", vm->name,
	    vm->lastport, session_kind(flags), id);
	if (!(flags & CTL_FLAG_NOTUSE) && vm->state == VM_IDLE &&
	    vm->vmd == VMD_STOPPING) {
		/*
		 * Our stop did not finish in its time and vmd still said
		 * stopping: the guest may be going down.  Look again before
		 * serving anyone; a VM still stopping is waited for (and
		 * forced), then started again for the session.
		 */
		idle_cancel(vm->idle);
		vm->idle = NULL;
		evtimer_del(&vm->ev_deadline);
		history_add(vm->name, LOG_INFO, "%s (#%u) while its stop is "
		    "unfinished: asking %s again", session_kind(flags), id,
		    vm_backend(vm));
		vm_check(vm);
	} else if (!(flags & CTL_FLAG_NOTUSE) && vm->state == VM_IDLE) {
		vm_unidle(vm);
		history_add(vm->name, LOG_INFO, "%s (#%u), idle stop "
		    "cancelled", session_kind(flags), id);
	} else if (!(flags & CTL_FLAG_NOTUSE) && vm->state != VM_PAUSED &&
	    vm->state != VM_PAUSING)
		vm_unidle(vm);	/* a countdown a check came between */
	if (display != NULL && *display != '\0' && vm->display[0] == '\0' &&
	    !(flags & CTL_FLAG_NOBOOT)) {
		(void)strlcpy(vm->display, display, sizeof(vm->display));
		(void)strlcpy(vm->xauthority, xauthority,
		    sizeof(vm->xauthority));
	}
	if (session_count(vm, SESSIONS_WAITING) == 1)
		snprintf(vm->forwhom, sizeof(vm->forwhom), "%s (#%u)",
		    session_kind(flags), id);
	switch (vm->state) {
	case VM_READY:
	case VM_IDLE:		/* a check's session: no use */
		return (VM_SESSION_CONNECT);
	case VM_STOPPED:
		vm_check(vm);
		break;
	case VM_PAUSED:
		if (flags & CTL_FLAG_NOTUSE) {
			snprintf(msg, msglen, "%s: the vm is paused",
			    vm->name);
			return (VM_SESSION_REFUSED);
		}
		vm_resume(vm);
		break;
	default:
		break;	/* it waits for what runs */
	}
	return (VM_SESSION_WAIT);
}

void
vm_session_closed(struct vm *vm)
{
	vm_settle(vm);
	vm_gc(vm);
}

/* A session's connect to the guest. */
struct probe *
vm_connect(struct vm *vm, int port, probe_cb cb, void *arg)
{
	return (probe_start(&vm->pol, vm->name, vm->has_id, vm->id, port,
	    PROBE_CONNECT, cb, arg));
}

/*
 * What a client that waits since t_start (with a session of these
 * flags) should show now.
 */
void
vm_progress(struct vm *vm, long long now, long long t_start, int flags,
    struct ctl_progress *pr)
{
	memset(pr, 0, sizeof(*pr));
	pr->elapsed_ms = now - t_start;
	switch (vm->state) {
	case VM_STOPPED:
	case VM_CHECKING:
		pr->phase = PHASE_STATUS;
		(void)strlcpy(pr->text, "checking the vm's state",
		    sizeof(pr->text));
		break;
	case VM_STARTING:
		pr->phase = PHASE_STARTING;
		(void)strlcpy(pr->text, "starting the vm", sizeof(pr->text));
		pr->elapsed_ms = now - vm->t_boot;
		pr->deadline_ms = vm->pol.boot_wait * 1000;
		break;
	case VM_BOOTING:
		pr->phase = vm->resumed ? PHASE_RESUMING : PHASE_BOOTING;
		snprintf(pr->text, sizeof(pr->text), "%s%s%s", vm->resumed ?
		    "resumed" : "booting", vm->probeaddr[0] != '\0' ?
		    ", waiting for " : "", vm->probeaddr);
		pr->elapsed_ms = now - vm->t_boot;
		pr->deadline_ms = vm->pol.boot_wait * 1000;
		break;
	case VM_PAUSING:
	case VM_PAUSED:
	case VM_RESUMING:
		pr->phase = PHASE_RESUMING;
		(void)strlcpy(pr->text, vm->state == VM_PAUSING ? "waiting "
		    "for the vm to pause first" : "resuming the vm",
		    sizeof(pr->text));
		if (vm->state == VM_RESUMING)
			pr->elapsed_ms = now - vm->t_boot;
		break;
	case VM_STOPPING:
		pr->phase = PHASE_STOPPING;
		(void)strlcpy(pr->text, flags & CTL_FLAG_DOWN ? "stopping "
		    "the vm" : "waiting for the vm to stop first",
		    sizeof(pr->text));
		pr->elapsed_ms = now - (vm->halt != NULL ?
		    halt_began(vm->halt) : vm->t_phase);
		if (halt_theirs(vm->halt) || (flags & CTL_FLAG_DOWN))
			pr->deadline_ms = vm->pol.stop_wait * 1000;
		break;
	case VM_READY:
	case VM_IDLE:
		pr->phase = PHASE_CONNECTING;
		(void)strlcpy(pr->text, "connecting", sizeof(pr->text));
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
	/* It may share a status begun before: as old as vmctl's limit. */
	vm->t_req = now_ms() - vm_limit_ms();
	vm->req = backend_status(vm->name, 0, vm_check_done, vm);
}

/*
 * A status row's id, the row as of t.  vmd keeps a VM's id while it
 * runs and deals new ones only when it restarts, which ends every VM; a
 * command backend's id names one run.  Either way a VM of ours seen
 * under another id is another boot, not ours: 1 when that is what it
 * says.
 */
static int
vm_row_id(struct vm *vm, const struct vmd_row *row, long long t)
{
	struct vm	*o;
	int		 lost = 0;

	if (row == NULL || !row->has_id)
		return (0);
	if (vm->has_id && vm->id == row->id) {
		if (t > vm->id_at)
			vm->id_at = t;
		return (0);
	}
	/*
	 * The row is as of t at least, and may be older: an id learnt since
	 * (by another VM's start, or by this one) says more than it does.
	 */
	TAILQ_FOREACH(o, &vms, entry) {
		if (o == vm || !o->has_id || o->id != row->id ||
		    o->id_at <= t || vm_command(o) || vm_command(vm))
			continue;
		/*
		 * Either may be right: no guest for the other until an
		 * answer newer than both says.
		 */
		log_debug("vm %s: a status older than vm %s's id %u, not "
		    "taken; vm %s looks again", vm->name, o->name, o->id,
		    o->name);
		vm_id_doubt(o);
		return (0);
	}
	if (vm->has_id && vm->id_at > t)
		return (0);
	if (vm->owned && vm->has_id) {
		history_add(vm->name, LOG_INFO, "now id %u, not %u as when "
		    "vmlaunch started it: another boot, not vmlaunch's",
		    row->id, vm->id);
		vm->owned = 0;
		vm->booted_here = 0;
		vm->paused_here = 0;
		state_clear(vm->name);
		halt_disown(vm->halt);
		lost = 1;
	}
	vm->id = row->id;
	vm->has_id = 1;
	vm->id_at = t;
	vm_id_claimed(vm);
	return (lost);
}

/* Its id may be another's: no guest by it until a status tells. */
static void
vm_id_doubt(struct vm *vm)
{
	if (vm->state == VM_BOOTING)
		boot_doubt(vm->boot);	/* its watch tells */
	else if (vm->state == VM_READY || vm->state == VM_IDLE)
		vm_check(vm);
}

/*
 * vm has this id now.  Another VM believed to have it lost it when vmd
 * restarted (which ended every VM): look at that one again before a
 * session is sent to the guest at its address, vm's.
 */
static void
vm_id_claimed(struct vm *vm)
{
	struct vm	*o;
	int		 doubt = 0;

	TAILQ_FOREACH(o, &vms, entry) {
		if (o == vm || !o->has_id || o->id != vm->id ||
		    vm_command(o) || vm_command(vm))
			continue;
		if (o->id_at >= vm->id_at) {
			/*
			 * Learnt as late: either may have it.  No guest for
			 * either until a status newer than both says.
			 */
			log_debug("vm %s: id %u, as vm %s's, in doubt",
			    vm->name, vm->id, o->name);
			vm_id_doubt(o);
			doubt = 1;
			continue;
		}
		history_add(o->name, LOG_INFO, "id %u is vm %s's now: vmd "
		    "restarted, which ended the boot it had; looking again",
		    o->id, vm->name);
		if (o->owned) {
			o->owned = 0;
			o->booted_here = 0;
			o->paused_here = 0;
			state_clear(o->name);
			/* A stop of it is no longer ours to make. */
			halt_disown(o->halt);
		}
		/* Its id now is for a status to tell. */
		o->has_id = 0;
		o->id = 0;
		vm_id_doubt(o);
	}
	if (doubt)
		vm_id_doubt(vm);
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

/* The status says the VM is not running: start it if asked to. */
static void
vm_check_gone(struct vm *vm, const struct vmd_row *row, int waiters)
{
	if (!vm_really_gone(vm)) {
		vm_set_state(vm, VM_CHECKING);
		timer_ms(&vm->ev_poll, RECHECK_INTERVAL);
		return;
	}
	if (vm->owned) {
		history_add(vm->name, LOG_INFO, "stopped behind vmlaunch's "
		    "back");
		vm->owned = 0;
		state_clear(vm->name);
	} else if (!state_starting(vm->name) &&
	    (row != NULL || !state_unlisted(vm->name))) {
		/*
		 * A predecessor's record of it, still undecided, is decided:
		 * whatever runs under its name later is not the boot it
		 * recorded.  (A start may yet act; a VM started a moment
		 * ago may not be listed yet.)
		 */
		state_clear(vm->name);
	}
	idle_cancel(vm->idle);
	vm->idle = NULL;
	vm->stop_due = 0;
	vm->odd = 0;
	vm->paused_here = 0;
	autostart_vm_gone(vm);
	vm->booted_here = 0;
	if (row == NULL && waiters > 0) {
		history_add(vm->name, LOG_ERR, "%s status does not list it",
		    vm_backend(vm));
		vm_fail_waiters(vm, "%s status does not list this vm",
		    vm_backend(vm));
	}
	vm_set_state(vm, VM_STOPPED);
	vm_fail_noboot(vm);
	if (session_count(vm, SESSIONS_WAITING) > 0 &&
	    (state_starting(vm->name) || (row == NULL &&
	    state_unlisted(vm->name)))) {
		history_add(vm->name, LOG_INFO, "a previous supervisor's start "
		    "may still be under way, or not listed yet; looking again");
		vm_set_state(vm, VM_CHECKING);
		timer_ms(&vm->ev_poll, STARTING_RECHECK);
		return;
	}
	if (session_count(vm, SESSIONS_WAITING) > 0)
		vm_start(vm);
}

/* The status says the VM exists in state st. */
static void
vm_check_found(struct vm *vm, enum vmd_state st, int waiters)
{
	switch (st) {
	case VMD_RUNNING:
		if (waiters == 0) {
			vm_set_state(vm, VM_READY);
			vm_settle(vm);
			break;
		}
		history_add(vm->name, LOG_INFO, "found running%s, waiting for "
		    "its guest", vm->owned ? "" : " (not started by vmlaunch, "
		    "it will not be stopped)");
		vm_boot(vm);
		break;
	case VMD_STOPPING:
		history_add(vm->name, LOG_INFO, "is stopping, waiting before "
		    "starting it again");
		vm_stopping(vm, 0);
		break;
	case VMD_PAUSED:
		if (vm->owned && vm->paused_here) {
			vm_paused_at_rest(vm, 0);
			break;
		}
		if (state_undecided(vm->name, STATE_PAUSED)) {
			/* Paused by a predecessor: adoption decides first. */
			vm_set_state(vm, VM_CHECKING);
			timer_ms(&vm->ev_poll, STARTING_RECHECK);
			break;
		}
		/* Paused by someone else: left so, and said so. */
		history_add(vm->name, LOG_ERR, "is paused, not by vmlaunch: "
		    "not resuming it");
		vm_fail_waiters(vm, "vm is paused, not by vmlaunch, which "
		    "leaves it so");
		vm_set_state(vm, vm->owned ? VM_READY : VM_STOPPED);
		vm_settle(vm);
		break;
	default:
		history_add(vm->name, LOG_ERR, "is %s, not starting it",
		    vmd_state_name(st));
		vm_fail_waiters(vm, "vm is %s", vmd_state_name(st));
		vm_set_state(vm, vm->owned ? VM_READY : VM_STOPPED);
		vm_settle(vm);
		break;
	}
}

static void
vm_check_done(const struct backend_result *res, void *arg)
{
	struct vm		*vm = arg;
	const struct vmd_row	*row = res->row;
	int			 waiters;

	vm->req = NULL;
	waiters = session_count(vm, SESSIONS_WAITING);
	if (!res->ok) {
		history_add(vm->name, LOG_ERR, "%s status failed: %s",
		    vm_backend(vm), res->msg);
		vm_fail_waiters(vm, "%s", res->msg);
		if (vm->owned && vm->odd > 0) {
			/*
			 * It was said to be gone once: a second opinion is
			 * owed before it is ours to keep (or to stop) again.
			 */
			vm_set_state(vm, VM_CHECKING);
			timer_ms(&vm->ev_poll, RECHECK_INTERVAL);
		} else {
			vm_set_state(vm, vm->owned ? VM_READY : VM_STOPPED);
			vm_settle(vm);
		}
	} else {
		vm->vmd = row != NULL ? row->state : VMD_ABSENT;
		(void)vm_row_id(vm, row, vm->t_req);
		if (row == NULL || row->state == VMD_STOPPED)
			vm_check_gone(vm, row, waiters);
		else {
			vm->odd = 0;
			vm_check_found(vm, row->state, waiters);
		}
	}
	vm_down_answer(vm);
	vm_gc(vm);
	supervisor_check_exit();
}

static void
vm_start(struct vm *vm)
{
	int	 n = session_count(vm, SESSIONS_WAITING);

	if (vm_down) {
		vm_fail_waiters(vm, "the supervisor is shutting down");
		return;
	}
	vm_set_state(vm, VM_STARTING);
	vm->t_boot = now_ms();
	vm_changed(vm);
	if (n > 1)
		history_add(vm->name, LOG_INFO, "starting it for %s and %d "
		    "more waiting", vm->forwhom, n - 1);
	else
		history_add(vm->name, LOG_INFO, "starting it for %s",
		    vm->forwhom);
	/*
	 * Ours from now on, should we die before the start returns: with
	 * vmd's id (it keeps it across boots), or none for a command
	 * backend, whose id names one run and this one has none yet.
	 */
	if (vm_command(vm))
		vm->has_id = 0;
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
		history_add(vm->name, LOG_ERR, "start failed: %s; checking its "
		    "state", res->msg);
		(void)strlcpy(vm->failwhy, res->msg, sizeof(vm->failwhy));
		vm->start_unsure = res->err != BACKEND_FAILED;
		/* Refused: whatever runs now is not ours, even if we die. */
		if (!vm->start_unsure)
			state_clear(vm->name);
		vm->t_req = now_ms();
		vm->req = backend_status(vm->name, BACKEND_FRESH,
		    vm_start_check_done, vm);
		return;
	}
	history_add(vm->name, LOG_INFO, "started (%s)", res->msg);
	vm->owned = 1;
	vm->odd = 0;
	vm->booted_here = 1;
	/*
	 * The id of this boot, or none yet: an earlier one's is not it.  As
	 * of when the start was asked: it may have acted before vmd
	 * restarted and dealt its id again.
	 */
	vm->has_id = res->has_id;
	vm->id = res->has_id ? res->id : 0;
	vm->id_at = vm->t_boot;
	state_set(vm->name, STATE_RUNNING, vm->has_id, vm->id);
	vm_boot(vm);
	if (vm->has_id)
		vm_id_claimed(vm);
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
	if (res->ok)
		(void)vm_row_id(vm, row, vm->t_req);
	/* Paused or queued by vmd, it is there as much as running. */
	if (res->ok && row != NULL && (row->state == VMD_RUNNING ||
	    row->state == VMD_PAUSED || row->state == VMD_WAITING)) {
		if (ours) {
			history_add(vm->name, LOG_INFO, "running after all: "
			    "the start worked");
			vm->owned = 1;
			vm->booted_here = 1;
			state_set(vm->name, STATE_RUNNING, vm->has_id, vm->id);
		} else {
			history_add(vm->name, LOG_INFO, "running, started by "
			    "someone else");
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
	if ((!res->ok || (row != NULL && row->state == VMD_UNKNOWN)) &&
	    ours) {
		/*
		 * It may be running, ours, and only an answer tells: ask
		 * again, its record kept meanwhile.  Those waiting are told.
		 */
		history_add(vm->name, LOG_ERR, "%s status: %s; asking again "
		    "whether the start worked", vm_backend(vm), res->msg);
		vm_fail_waiters(vm, "%s", vm->failwhy);
		vm->start_unsure = 1;
		timer_ms(&vm->ev_poll, RECHECK_INTERVAL);
		return;
	}
	state_clear(vm->name);
	vm_fail_waiters(vm, "%s", vm->failwhy);
	vm_set_state(vm, VM_STOPPED);
	vm_gc(vm);
	supervisor_check_exit();
}

/* Wait for the guest (boot.c): its banner, its status meanwhile. */
static void
vm_boot(struct vm *vm)
{
	int	 port = vm->pol.port ? vm->pol.port : vm->lastport;

	if (vm->state != VM_STARTING && vm->state != VM_RESUMING)
		vm->t_boot = now_ms();
	vm_set_state(vm, VM_BOOTING);
	boot_cancel(vm->boot);
	vm->boot = boot_start(&vm->pol, vm->name, vm->owned, vm->has_id,
	    vm->id, port, vm->t_boot, vm_boot_cb, vm, vm->probeaddr,
	    sizeof(vm->probeaddr));
	vm_changed(vm);
}

static void
vm_boot_cb(enum boot_event ev, int fd, const char *text,
    const struct vmd_row *row, void *arg)
{
	struct vm	*vm = arg;

	switch (ev) {
	case BOOT_ADDRESS:
		(void)strlcpy(vm->probeaddr, text, sizeof(vm->probeaddr));
		vm_changed(vm);
		return;
	case BOOT_ID:
		(void)vm_row_id(vm, row, boot_asked(vm->boot));
		if (vm->owned)
			state_set(vm->name, STATE_RUNNING, vm->has_id, vm->id);
		/*
		 * A local address follows the id (vmd deals new ids when it
		 * restarts): the old one may be another VM's guest now.
		 */
		boot_reprobe(vm->boot, vm->has_id, vm->id);
		return;
	case BOOT_READY:
		vm->boot = NULL;
		vm_ready(vm, fd);
		return;
	case BOOT_GONE:
		vm->boot = NULL;
		vm->vmd = row->state;
		history_add(vm->name, LOG_ERR, "%s while booting",
		    row->state == VMD_ABSENT ? "disappeared from the status" :
		    vmd_state_name(row->state));
		vm_fail_waiters(vm, "vm %s while booting", row->state ==
		    VMD_ABSENT ? "disappeared" : vmd_state_name(row->state));
		if (row->state == VMD_STOPPING)
			vm_stopping(vm, 0);
		else
			vm_stopped(vm);
		return;
	case BOOT_TIMEOUT:
		vm->boot = NULL;
		history_add(vm->name, LOG_ERR, "%s", text);
		vm_fail_waiters(vm, "%s", text);
		/*
		 * Ours and of no use: stop it, whoever booted it.  Sessions
		 * that relay to it are of use, however its guest treats new
		 * ones.
		 */
		if (vm->owned && !vm_inuse(vm)) {
			vm_stop(vm, "its guest never answered");
			return;
		}
		vm_set_state(vm, VM_READY);
		vm_settle(vm);
		vm_gc(vm);
		supervisor_check_exit();
		return;
	}
}

/* The guest answered with its banner on fd. */
static void
vm_ready(struct vm *vm, int fd)
{
	int	 port = vm->pol.port ? vm->pol.port : vm->lastport;

	vm_set_state(vm, VM_READY);
	vm->resumed = 0;
	history_add(vm->name, LOG_INFO, "guest %s ready after %.1fs",
	    vm->probeaddr, (now_ms() - vm->t_boot) / 1000.0);
	session_vm_ready(vm, fd, port, vm->probeaddr);
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
	long long	 pause, stop, not_before;
	char		 plan[96];

	if (vm->state != VM_READY && vm->state != VM_IDLE)
		return;
	if (vm_inuse(vm) || !vm->owned || vm_down) {
		vm_unidle(vm);
		return;
	}
	if (vm->stop_due) {
		/* Its idle stop came due while a check ran. */
		vm_set_state(vm, VM_IDLE);
		vm_idle_due(IDLE_STOP, vm);
		return;
	}
	if (vm->idle != NULL || evtimer_pending(&vm->ev_deadline, NULL)) {
		/* Unused all along (a check came between): it goes on. */
		vm_set_state(vm, VM_IDLE);
		return;
	}
	pause = vm->pol.idle_pause == DURATION_NEVER ? -1 :
	    vm->pol.idle_pause * 1000;
	stop = vm->pol.idle_timeout == DURATION_NEVER ? -1 :
	    vm->pol.idle_timeout * 1000;
	if (pause == -1 && stop == -1) {
		history_add(vm->name, LOG_INFO, "no sessions; idle timeout "
		    "never, left running");
		return;
	}
	vm_set_state(vm, VM_IDLE);
	not_before = vm_t0 + RESUME_GRACE;
	vm->idle = idle_start(vm->name, pause, stop,
	    vm->conf != NULL ? &vm->conf->check : NULL, not_before,
	    vm_idle_due, vm);
	idle_describe(vm->idle, plan, sizeof(plan));
	history_add(vm->name, LOG_INFO, "no sessions, %s unless used", plan);
}

/* The idle countdown says: pause it now, or stop it now. */
static void
vm_idle_due(enum idle_due due, void *arg)
{
	struct vm	*vm = arg;
	char		 d[32];

	if (due == IDLE_PAUSE) {
		if (vm->state == VM_IDLE && vm->owned && !vm_inuse(vm))
			vm_pause(vm);
		return;
	}
	if (vm->state == VM_PAUSING) {
		vm->stop_due = 1;	/* once the pause is done */
		return;
	}
	idle_cancel(vm->idle);
	vm->idle = NULL;
	if (vm->state == VM_CHECKING && vm->owned) {
		vm->stop_due = 1;	/* once the check says it runs */
		return;
	}
	vm->stop_due = 0;
	if (!vm->owned || vm_inuse(vm) || (vm->state != VM_IDLE &&
	    vm->state != VM_PAUSED)) {
		/* No longer ours, or used: never a stop of that. */
		vm_settle(vm);
		return;
	}
	snprintf(vm->stopwhy, sizeof(vm->stopwhy), "no session for %s",
	    print_duration(vm->pol.idle_timeout, d, sizeof(d)));
	vm_stop(vm, vm->stopwhy);
}

/* Pause a VM we own, at rest: the state file says so first. */
static void
vm_pause(struct vm *vm)
{
	char	 d[32];

	vm_set_state(vm, VM_PAUSING);
	vm->stop_due = 0;
	history_add(vm->name, LOG_INFO, "pausing it: no session for %s",
	    print_duration(vm->pol.idle_pause, d, sizeof(d)));
	state_set(vm->name, STATE_PAUSED, vm->has_id, vm->id);
	vm->req = backend_pause(vm->name, 1, vm_pause_done, vm);
}

static void
vm_pause_done(const struct backend_result *res, void *arg)
{
	struct vm	*vm = arg;

	vm->req = NULL;
	if (!res->ok) {
		/* Not paused: running as it was; the stop comes as planned. */
		history_add(vm->name, LOG_ERR, "pause failed: %s", res->msg);
		state_set(vm->name, STATE_RUNNING, vm->has_id, vm->id);
		vm_set_state(vm, VM_IDLE);
	} else {
		history_add(vm->name, LOG_INFO, "paused (%s)", res->msg);
		vm->paused_here = 1;
		vm->vmd = VMD_PAUSED;
		vm_set_state(vm, VM_PAUSED);
		idle_paused(vm->idle);
	}
	if (vm->stop_due)
		vm_idle_due(IDLE_STOP, vm);
	else if (vm_inuse(vm) && vm->state == VM_PAUSED)
		vm_resume(vm);
	else if (vm_inuse(vm))
		vm_settle(vm);
}

/*
 * The VM we paused, found paused: resume it for the sessions that wait,
 * else its idle stop comes once the idle timeout has passed (paused
 * elapsed ms ago).
 */
static void
vm_paused_at_rest(struct vm *vm, long long elapsed)
{
	long long	 stop = -1;
	char		 d[32];

	vm_unidle(vm);
	vm_set_state(vm, VM_PAUSED);
	if (vm_inuse(vm)) {
		vm_resume(vm);
		return;
	}
	if (vm->pol.idle_timeout != DURATION_NEVER) {
		stop = (vm->pol.idle_timeout - (vm->pol.idle_pause ==
		    DURATION_NEVER ? 0 : vm->pol.idle_pause)) * 1000 - elapsed;
		if (stop < 0)
			stop = 0;
	}
	vm->idle = idle_start(vm->name, -1, stop, NULL, vm_t0 + RESUME_GRACE,
	    vm_idle_due, vm);
	idle_paused(vm->idle);
	if (stop != -1)
		history_add(vm->name, LOG_INFO, "paused, stopping in %s unless "
		    "used", print_duration((idle_left(vm->idle) + 999) / 1000,
		    d, sizeof(d)));
}

/* A session came for the VM we paused: unpause, then its banner. */
static void
vm_resume(struct vm *vm)
{
	idle_cancel(vm->idle);
	vm->idle = NULL;
	vm_set_state(vm, VM_RESUMING);
	vm->t_boot = now_ms();
	history_add(vm->name, LOG_INFO, "resuming it for %s", vm->forwhom);
	vm->req = backend_pause(vm->name, 0, vm_resume_done, vm);
	vm_changed(vm);
}

static void
vm_resume_done(const struct backend_result *res, void *arg)
{
	struct vm	*vm = arg;

	vm->req = NULL;
	if (!res->ok) {
		/* Someone else may have unpaused it meanwhile: look. */
		history_add(vm->name, LOG_ERR, "resume failed: %s; checking "
		    "its state", res->msg);
		(void)strlcpy(vm->failwhy, res->msg, sizeof(vm->failwhy));
		vm->req = backend_status(vm->name, BACKEND_FRESH,
		    vm_resume_check_done, vm);
		return;
	}
	history_add(vm->name, LOG_INFO, "resumed after %.1fs (%s)",
	    (now_ms() - vm->t_boot) / 1000.0, res->msg);
	vm_resumed(vm);
}

/* After a failed unpause: running after all, or still paused. */
static void
vm_resume_check_done(const struct backend_result *res, void *arg)
{
	struct vm	*vm = arg;

	vm->req = NULL;
	if (res->ok && res->row != NULL && res->row->state == VMD_RUNNING) {
		history_add(vm->name, LOG_INFO, "running after all");
		vm_resumed(vm);
		return;
	}
	vm_fail_waiters(vm, "could not resume the vm: %s", vm->failwhy);
	if (!res->ok || res->row == NULL ||
	    res->row->state != VMD_PAUSED) {
		vm_check(vm);
		return;
	}
	/* Still paused: its stop comes later. */
	vm_paused_at_rest(vm, 0);
}

/* Unpaused: wait for the banner, as after a boot, but start no app. */
static void
vm_resumed(struct vm *vm)
{
	vm->paused_here = 0;
	vm->vmd = VMD_RUNNING;
	state_set(vm->name, STATE_RUNNING, vm->has_id, vm->id);
	vm->resumed = 1;
	vm_boot(vm);
}

/* Autostart's restarts count as use: they changed. */
void
vm_use_changed(struct vm *vm)
{
	vm_settle(vm);
}

/*
 * Something (an app that saw it gone, a failed connect) suggests a look
 * at the VM: 1 if a look begins.
 */
int
vm_suspect(struct vm *vm)
{
	if (vm->state != VM_READY && vm->state != VM_IDLE)
		return (0);
	vm_check(vm);
	return (1);
}

/*
 * Stop a VM we own: graceful, verified, forced after stop wait (halt.c).
 * A paused guest cannot hear the request: one we paused (or may have) is
 * unpaused first.
 */
static void
vm_stop(struct vm *vm, const char *why)
{
	int	 paused = vm->paused_here || vm->state == VM_PAUSING ||
		    vm->state == VM_RESUMING;

	if (vm->state == VM_STOPPING && !halt_theirs(vm->halt))
		return;
	vm_quiet(vm);
	if (why != vm->stopwhy)
		(void)strlcpy(vm->stopwhy, why, sizeof(vm->stopwhy));
	/* Its apps end first: they would only fail once it is gone. */
	autostart_vm_stopping(vm);
	history_add(vm->name, LOG_INFO, "stopping it: %s%s", vm->stopwhy,
	    paused ? " (unpausing it first)" : "");
	vm_set_state(vm, VM_STOPPING);
	vm->halt = halt_start(vm->name, paused ? HALT_UNPAUSE : HALT_OURS,
	    vm->has_id, vm->id, vm->pol.stop_wait * 1000, 0, vm_halted, vm);
	vm_changed(vm);
}

/*
 * A stop that we did not ask for, seen under way: someone else's, only
 * waited for, or, for a VM we own, finished as ours (it began elapsed ms
 * ago).
 */
static void
vm_stopping(struct vm *vm, long long elapsed)
{
	vm_quiet(vm);
	vm_set_state(vm, VM_STOPPING);
	vm->halt = halt_start(vm->name, vm->owned ? HALT_ADOPTED : HALT_THEIRS,
	    vm->has_id, vm->id, vm->pol.stop_wait * 1000, elapsed, vm_halted,
	    vm);
	vm_changed(vm);
}

/* How the stop ended. */
static void
vm_halted(enum halt_end end, const struct vmd_row *row, void *arg)
{
	struct vm	*vm = arg;
	char		 d[32];
	long long	 t = halt_watched(vm->halt);

	if (end == HALT_ID) {
		/* Its stop goes on, unless the VM it stops is gone. */
		if (vm_row_id(vm, row, t)) {
			history_add(vm->name, LOG_INFO, "what runs now is not "
			    "the vm vmlaunch was stopping");
			vm_stopped(vm);
			return;
		}
		if (vm->owned)
			state_set(vm->name, STATE_STOPPING, vm->has_id,
			    vm->id);
		halt_id(vm->halt, vm->has_id, vm->id);
		return;
	}
	vm->halt = NULL;
	vm->vmd = row->state;
	(void)vm_row_id(vm, row, t);
	print_duration(vm->pol.stop_wait, d, sizeof(d));
	if (end == HALT_STOPPED) {
		vm_stopped(vm);
	} else if (end == HALT_RUNNING) {
		/* Someone else's stop ended with it running. */
		if (session_count(vm, SESSIONS_WAITING) > 0)
			vm_boot(vm);
		else {
			vm_set_state(vm, VM_READY);
			vm_settle(vm);
		}
	} else if (!vm->owned) {
		/* Not ours to force: give up waiting for it. */
		vm_fail_waiters(vm, "vm is still stopping after %s (stopped "
		    "by someone else)", d);
		vm_set_state(vm, VM_STOPPED);
		vm_gc(vm);
		supervisor_check_exit();
	} else if (vm_down) {
		/*
		 * Exiting, and the stop does not finish: the state file says
		 * it was stopping, so the next supervisor finishes it.
		 */
		history_add(vm->name, LOG_ERR, "leaving its stop to the next "
		    "supervisor");
		vm->abandoned = 1;
		supervisor_check_exit();
	} else {
		history_add(vm->name, LOG_ERR, "trying to stop it again in %s",
		    d);
		vm_fail_waiters(vm, "vm did not stop");
		/*
		 * Running and idle again, as the state file says too: a
		 * session may take it up before the next try, and a
		 * successor must not finish a stop that nobody is making.
		 */
		state_set(vm->name, STATE_RUNNING, vm->has_id, vm->id);
		vm_set_state(vm, VM_IDLE);
		vm->idle_at = now_ms() + vm->pol.stop_wait * 1000;
		timer_ms(&vm->ev_deadline, vm->pol.stop_wait * 1000);
	}
}

/* The state's deadline passed. */
static void
vm_deadline(int fd, short ev, void *arg)
{
	struct vm	*vm = arg;

	switch (vm->state) {
	case VM_IDLE:
		/* A stop that failed, to try again. */
		if (vm_inuse(vm) || !vm->owned) {
			vm_settle(vm);
			break;
		}
		vm_stop(vm, vm->stopwhy);
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

	if (vm->req != NULL)
		return;
	switch (vm->state) {
	case VM_CHECKING:
		vm->t_req = now_ms();
		vm->req = backend_status(vm->name, BACKEND_FRESH,
		    vm_check_done, vm);
		break;
	case VM_STARTING:
		/* A start that failed unsure: did it start it? */
		vm->t_req = now_ms();
		vm->req = backend_status(vm->name, BACKEND_FRESH,
		    vm_start_check_done, vm);
		break;
	default:
		break;
	}
}

static void
vm_stopped(struct vm *vm)
{
	char	 msg[128];

	vm_quiet(vm);
	autostart_vm_gone(vm);
	if (vm->owned) {
		vm->owned = 0;
		state_clear(vm->name);
	}
	vm->display[0] = '\0';
	vm->xauthority[0] = '\0';
	vm->booted_here = 0;
	vm->paused_here = 0;
	vm->resumed = 0;
	vm_set_state(vm, VM_STOPPED);
	snprintf(msg, sizeof(msg), "%s: stopped", vm->name);
	session_vm_stopped(vm, msg);
	vm_fail_noboot(vm);
	if (session_count(vm, SESSIONS_WAITING) > 0 && !vm_down) {
		history_add(vm->name, LOG_INFO, "sessions are waiting, "
		    "starting it again");
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
	int		 soon = 0;

	vm->owned = 1;
	vm->odd = 0;
	if (has_id) {
		vm->id = id;
		vm->has_id = 1;
		/* From a status of all, which may be as old as its limit. */
		vm->id_at = now_ms() - vm_limit_ms();
	}
	if (phase == STATE_STOPPING && vmd != VMD_STOPPING && vm_inuse(vm)) {
		/* Its stop never happened, and it has sessions again. */
		history_add(vm->name, LOG_INFO, "a previous supervisor was "
		    "stopping it; in use now, so it is left running");
		phase = STATE_RUNNING;
		state_set(vm->name, STATE_RUNNING, vm->has_id, vm->id);
	}
	if (phase == STATE_STOPPING && vmd != VMD_STOPPING &&
	    now_ms() < vm_t0 + RESUME_GRACE) {
		/*
		 * Its sessions may come back yet: stop it once they had time,
		 * or (something under way) at its idle timeout.  Running, as
		 * far as a successor is concerned, until that stop begins.
		 */
		phase = STATE_RUNNING;
		state_set(vm->name, STATE_RUNNING, vm->has_id, vm->id);
		soon = vm->state == VM_STOPPED || vm->state == VM_READY ||
		    vm->state == VM_IDLE;
	}
	if (soon) {
		history_add(vm->name, LOG_INFO, "adopted from a previous "
		    "supervisor (id %u), which was stopping it; stopping it "
		    "unless used", vm->id);
		vm_unidle(vm);
		(void)strlcpy(vm->stopwhy, "a previous supervisor was stopping "
		    "it", sizeof(vm->stopwhy));
		vm_set_state(vm, VM_IDLE);
		vm->idle_at = vm_t0 + RESUME_GRACE;
		timer_ms(&vm->ev_deadline, vm->idle_at - now_ms());
		return;
	}
	if (phase == STATE_STOPPING && vmd != VMD_STOPPING) {
		/* Its stop may never have reached the VM: ask again. */
		history_add(vm->name, LOG_INFO, "adopted from a previous "
		    "supervisor (id %u), which was stopping it", vm->id);
		vm_stop(vm, "a previous supervisor was stopping it");
		return;
	}
	if (phase == STATE_STOPPING) {
		history_add(vm->name, LOG_INFO, "adopted from a previous "
		    "supervisor (id %u), which was stopping it; finishing the "
		    "stop", vm->id);
		(void)strlcpy(vm->stopwhy, "a previous supervisor's stop",
		    sizeof(vm->stopwhy));
		vm_stopping(vm, elapsed);
		return;
	}
	if (phase == STATE_PAUSED && vmd == VMD_PAUSED) {
		history_add(vm->name, LOG_INFO, "adopted from a previous "
		    "supervisor (id %u), which had paused it", vm->id);
		vm->paused_here = 1;
		vm->vmd = VMD_PAUSED;
		if (vm->state == VM_STOPPED || vm->state == VM_READY ||
		    vm->state == VM_IDLE)
			vm_paused_at_rest(vm, elapsed);
		return;		/* or a check that runs decides */
	}
	history_add(vm->name, LOG_INFO, "adopted from a previous supervisor "
	    "(id %u)", vm->id);
	switch (vm->state) {
	case VM_STOPPED:
		if (session_count(vm, SESSIONS_WAITING) > 0)
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
	unsigned int		 id;
	int			 has_id;

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
	row->hold_left = -1;
	row->configured = config_find_vm(vm_conf, name) != NULL;
	hold_status(name, row);
	history_status(name, row);
	if (vm == NULL) {
		(void)strlcpy(row->state, "-", sizeof(row->state));
		(void)strlcpy(row->address, "-", sizeof(row->address));
		return;
	}
	(void)strlcpy(row->state, vm_states[vm->state], sizeof(row->state));
	row->sessions = session_count(vm, SESSIONS_SHOWN);
	row->started = vm->owned;
	if (vm->idle != NULL && (left = idle_left(vm->idle)) != -1)
		row->idle_left = (left + 999) / 1000;
	else if (vm->state == VM_IDLE) {
		left = (vm->idle_at - now_ms() + 999) / 1000;
		row->idle_left = left < 0 ? 0 : left;
	}
	/* The address by the id shown; the VM is left as it is. */
	has_id = r != NULL && r->has_id ? 1 : vm->has_id;
	id = r != NULL && r->has_id ? r->id : vm->id;
	switch (address_guest(&vm->pol, vm->name, has_id, id,
	    vm->pol.port ? vm->pol.port : vm->lastport, &ss, &sl, err,
	    sizeof(err))) {
	case ADDRESS_OK:
		address_print(&ss, sl, row->address, sizeof(row->address));
		break;
	case ADDRESS_PENDING:
		/* Not asked again for a status: where the guest answered. */
		if (vm_serving(vm) && vm->probeaddr[0] != '\0') {
			(void)strlcpy(row->address, vm->probeaddr,
			    sizeof(row->address));
			break;
		}
		/* FALLTHROUGH */
	case ADDRESS_ERROR:
		(void)strlcpy(row->address, "-", sizeof(row->address));
		break;
	}
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
		    halt_theirs(vm->halt))) {
			vm_stop(vm, "the supervisor is shutting down");
			continue;
		}
		if (vm->owned)
			continue;	/* its stop goes on */
		vm_quiet(vm);
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
		    vm->boot != NULL || vm->halt != NULL ||
		    (vm->state != VM_STOPPED && vm->state != VM_READY))
			return (1);
	}
	return (0);
}

/*
 * At exit (after the sessions), so that nothing is left to find; vm.c
 * is then as it was before the first vm_configure() (the simulation
 * starts it again, as a new supervisor).
 */
void
vm_free_all(void)
{
	struct vm	*vm;

	while ((vm = TAILQ_FIRST(&vms)) != NULL)
		vm_free(vm);
	vm_conf = NULL;
	vm_down = 0;
}
