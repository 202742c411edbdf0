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
 * What vmlaunch learns of a VM before and as it starts it: the status
 * check that decides what a session's VM needs (found running, stopped,
 * stopping, paused, gone: believed the second time in a row), the start,
 * and what the start's answer says (a start that failed or timed out is
 * followed by a look before ownership is given up).  The states are
 * vm.c's; see its head comment.
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

/* Ask the backend what state the VM is in, then act on the answer. */
void
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
	    !state_undecided(vm->name, STATE_PAUSED) &&
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
	    (state_starting(vm->name) || state_undecided(vm->name,
	    STATE_PAUSED) || (row == NULL && state_unlisted(vm->name)))) {
		history_add(vm->name, LOG_INFO, "a previous supervisor's start "
		    "or pause may still be under way, or it is not listed "
		    "yet; looking again");
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
		if (state_undecided(vm->name, STATE_PAUSED)) {
			/*
			 * A predecessor's pause may yet act: its guest would
			 * go silent under a boot wait.  Adoption decides.
			 */
			vm_set_state(vm, VM_CHECKING);
			timer_ms(&vm->ev_poll, STARTING_RECHECK);
			break;
		}
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

void
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

void
vm_start(struct vm *vm)
{
	int	 n = session_count(vm, SESSIONS_WAITING), answer;

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
	/* vmctl's answer is kept where a successor can read it. */
	answer = vm_command(vm) ? -1 : state_answer_open(vm->name);
	state_set(vm->name, STATE_STARTING, vm->has_id, vm->id);
	vm->req = backend_start(vm->name, answer, vm_start_done, vm);
}

void
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
void
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
