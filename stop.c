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
 * A VM's stop, as the state machine decides it: vmlaunch -x and -X (a
 * session that wants the VM stopped), the idle stop, what comes of a
 * stop in progress (halt.c does the work: graceful, verified, forced)
 * and the VM stopped at last.  The states are vm.c's.
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
#include <time.h>
#include <unistd.h>

#include "vmlaunch.h"
#include "vm.h"

/*
 * vmlaunch -x (-X: force): stop now a VM that we started, unless it is
 * in use.  The session waits for the stop, or is refused with msg.
 */
enum vm_session_answer
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
void
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

/*
 * Stop a VM we own: graceful, verified, forced after stop wait (halt.c).
 * A paused guest cannot hear the request: one we paused (or may have) is
 * unpaused first.
 */
void
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
void
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
void
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
		/* Still paused, maybe, if its unpause failed: it says so. */
		state_set(vm->name, vm->paused_here ? STATE_PAUSED :
		    STATE_RUNNING, vm->has_id, vm->id);
		vm_set_state(vm, VM_IDLE);
		vm->idle_at = now_ms() + vm->pol.stop_wait * 1000;
		timer_ms(&vm->ev_deadline, vm->pol.stop_wait * 1000);
	}
}

void
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
