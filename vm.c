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
 * The machine's own code is in five files that share vm.h: this one
 * (the states, sessions, readiness, the idle decision, -s rows), start.c
 * (the status check and the start), adopt.c (ids and adoption),
 * pause.c (idle pause and resume) and stop.c (a VM's stop).
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
#include "vm.h"

struct vmlist	 vms = TAILQ_HEAD_INITIALIZER(vms);
struct config	*vm_conf;
long long	 vm_t0;		/* this supervisor began */
int		 vm_down;	/* shutting down */

static void	 vm_boot_cb(enum boot_event, int, const char *,
		    const struct vmd_row *, void *);
static void	 vm_ready(struct vm *, int);

static void	 vm_deadline(int, short, void *);
static void	 vm_poll(int, short, void *);

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
		/*
		 * A countdown begun under idle timeout never (an idle pause
		 * alone) stops nothing: under a finite one it begins anew.
		 */
		if (vm->idle != NULL && idle_left(vm->idle) == -1 &&
		    vm->pol.idle_timeout != DURATION_NEVER) {
			if (vm->state == VM_PAUSED)
				vm_paused_at_rest(vm, 0);
			else if (vm->state == VM_IDLE) {
				idle_cancel(vm->idle);
				vm->idle = NULL;
			}
		}
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
long long
vm_limit_ms(void)
{
	return ((vm_conf != NULL && vm_conf->vmctl_timeout > 0 ?
	    vm_conf->vmctl_timeout : DEFAULT_VMCTL_TIMEOUT) * 1000LL);
}

/* Its own commands: its id names a run, not a vmd VM. */
int
vm_command(struct vm *vm)
{
	return (vm->conf != NULL && vm->conf->backend.type == BACKEND_COMMAND);
}

/* What runs this VM's commands, for messages. */
const char *
vm_backend(struct vm *vm)
{
	return (vm_command(vm) ? "backend" : "vmctl");
}

void
vm_set_state(struct vm *vm, enum vm_state st)
{
	if (vm->state != st)
		log_debug("vm %s: %s -> %s", vm->name, vm_states[vm->state],
		    vm_states[st]);
	vm->state = st;
	vm->t_phase = now_ms();
}

struct vm *
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
void
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
int
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
void
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
void
vm_changed(struct vm *vm)
{
	session_notify(vm);
}

/* Sessions that must not boot the VM (an app's, a check's) fail. */
void
vm_fail_noboot(struct vm *vm)
{
	char	 msg[128];

	snprintf(msg, sizeof(msg), "%s: the vm is not running", vm->name);
	session_fail_noboot(vm, msg);
}

void
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
void
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

/* Wait for the guest (boot.c): its banner, its status meanwhile. */
void
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
void
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
void
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

/* Autostart's restarts count as use: they changed. */
void
vm_use_changed(struct vm *vm)
{
	vm_settle(vm);
}

/*
 * Something (an app that saw it gone, a failed connect) suggests a look
 * at the VM: 1 if a look begins, or those waiting were answered.
 */
int
vm_suspect(struct vm *vm)
{
	if (vm->state == VM_PAUSED && session_count(vm,
	    SESSIONS_WAITING) > 0) {
		/*
		 * Paused by us while the connect ran (it was no use: a
		 * check): resumed for a use, else those waiting are told.
		 */
		if (vm_inuse(vm))
			vm_resume(vm);
		else
			vm_fail_waiters(vm, "the vm is paused");
		return (1);
	}
	if (vm->state == VM_STOPPED && session_count(vm,
	    SESSIONS_WAITING) > 0) {
		/*
		 * Found stopped while the connect ran (vmd restarted and
		 * ended it): what a check decides, a start for those waiting.
		 */
		vm_check(vm);
		return (1);
	}
	if (vm->state != VM_READY && vm->state != VM_IDLE)
		return (0);
	vm_check(vm);
	return (1);
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
