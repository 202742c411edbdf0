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
 * Idle pause: the VM that vmlaunch started is paused once it has had no
 * session for "idle pause" (written ahead in the state file), resumed
 * for the next session (then its banner is waited for as after a boot,
 * with no app started), and, paused at its idle timeout, unpaused before
 * the stop (halt.c).  A VM that someone else paused is never touched.
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

static void	 vm_paused(struct vm *);

/* Pause a VM we own, at rest: the state file says so first. */
void
vm_pause(struct vm *vm)
{
	char	 d[32];

	vm_set_state(vm, VM_PAUSING);
	vm->stop_due = 0;
	history_add(vm->name, LOG_INFO, "pausing it: no session for %s",
	    print_duration(vm->pol.idle_pause, d, sizeof(d)));
	state_set(vm->name, STATE_PAUSED, vm->has_id, vm->id);
	/*
	 * Decided: no busy check while the pause runs (one that said busy
	 * would not undo it), nor before the stop of the paused VM.
	 */
	idle_paused(vm->idle);
	vm->req = backend_pause(vm->name, 1, vm_pause_done, vm);
}

void
vm_pause_done(const struct backend_result *res, void *arg)
{
	struct vm	*vm = arg;

	vm->req = NULL;
	if (!res->ok) {
		/*
		 * A pause that timed out or said nonsense may have paused it
		 * all the same: look, as after a failed resume.
		 */
		history_add(vm->name, LOG_ERR, "pause failed: %s; checking "
		    "its state", res->msg);
		vm->req = backend_status(vm->name, BACKEND_FRESH,
		    vm_pause_check_done, vm);
		return;
	}
	history_add(vm->name, LOG_INFO, "paused (%s)", res->msg);
	vm_paused(vm);
}

/* After a failed pause: paused after all, or running as it was. */
void
vm_pause_check_done(const struct backend_result *res, void *arg)
{
	struct vm	*vm = arg;

	vm->req = NULL;
	/*
	 * No answer, or a status without the STATE column: paused, maybe.
	 * Taken as paused, it is unpaused before its stop or for a session,
	 * and an unpause of a VM that runs only fails.
	 */
	if (!res->ok || (res->row != NULL && (res->row->state == VMD_PAUSED ||
	    (res->row->nostate && res->row->state == VMD_RUNNING)))) {
		history_add(vm->name, LOG_INFO, "paused after all");
		vm_paused(vm);
		return;
	}
	/* Not paused: running as it was; the stop comes as planned. */
	state_set(vm->name, STATE_RUNNING, vm->has_id, vm->id);
	idle_running(vm->idle);
	vm_set_state(vm, VM_IDLE);
	if (session_count(vm, SESSIONS_WAITING) > 0) {
		/* Those that came meanwhile get its guest. */
		vm_unidle(vm);
		vm_boot(vm);
	} else if (vm->stop_due)
		vm_idle_due(IDLE_STOP, vm);
	else if (vm_inuse(vm))
		vm_settle(vm);
}

/*
 * Paused by us: resumed for the sessions that came meanwhile (even if
 * its stop came due: they use it now), else its stop at the idle
 * timeout.
 */
static void
vm_paused(struct vm *vm)
{
	vm->paused_here = 1;
	vm->vmd = VMD_PAUSED;
	vm_set_state(vm, VM_PAUSED);
	idle_paused(vm->idle);
	if (vm_inuse(vm)) {
		vm->stop_due = 0;
		vm_resume(vm);
		return;
	}
	/* Those that came meanwhile and are no use (a check): told so. */
	if (session_count(vm, SESSIONS_WAITING) > 0)
		vm_fail_waiters(vm, "the vm is paused");
	if (vm->stop_due)
		vm_idle_due(IDLE_STOP, vm);
}

/*
 * The VM we paused, found paused: resume it for the sessions that wait,
 * else its idle stop comes once the idle timeout has passed (paused
 * elapsed ms ago).
 */
void
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
	/* Those that wait and are no use (a check) would wait for ever. */
	if (session_count(vm, SESSIONS_WAITING) > 0)
		vm_fail_waiters(vm, "the vm is paused");
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
void
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

void
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
void
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
void
vm_resumed(struct vm *vm)
{
	vm->paused_here = 0;
	vm->vmd = VMD_RUNNING;
	state_set(vm->name, STATE_RUNNING, vm->has_id, vm->id);
	vm->resumed = 1;
	vm_boot(vm);
}
