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
 * Which VM is ours.  vmd's id tells one run of a VM from another: an id
 * is learnt as of a time (a status row or a start's message), and an
 * older answer does not override a newer id; an id that another VM
 * claims is in doubt.  Adoption: a VM that a previous supervisor started
 * (state.c reads its record) is taken over once one status decides it.
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
 * A status row's id, the row as of t.  vmd keeps a VM's id while it
 * runs and deals new ones only when it restarts, which ends every VM; a
 * command backend's id names one run.  Either way a VM of ours seen
 * under another id is another boot, not ours: 1 when that is what it
 * says.
 */
int
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
void
vm_id_doubt(struct vm *vm)
{
	session_vm_doubt(vm);
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
void
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
	/* Our stop of a VM we paused: its unpause may not have happened. */
	if (phase == STATE_STOPPING && vmd == VMD_PAUSED)
		vm->paused_here = 1;
	if (phase == STATE_STOPPING && vmd != VMD_STOPPING && vm_inuse(vm)) {
		/* Its stop never happened, and it has sessions again. */
		history_add(vm->name, LOG_INFO, "a previous supervisor was "
		    "stopping it; in use now, so it is left running");
		phase = STATE_RUNNING;
		state_set(vm->name, vm->paused_here ? STATE_PAUSED :
		    STATE_RUNNING, vm->has_id, vm->id);
	}
	if (phase == STATE_STOPPING && vmd != VMD_STOPPING &&
	    now_ms() < vm_t0 + RESUME_GRACE) {
		/*
		 * Its sessions may come back yet: stop it once they had time,
		 * or (something under way) at its idle timeout.  Running, as
		 * far as a successor is concerned, until that stop begins.
		 */
		phase = STATE_RUNNING;
		state_set(vm->name, vm->paused_here ? STATE_PAUSED :
		    STATE_RUNNING, vm->has_id, vm->id);
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
	/*
	 * Running, as a status without the STATE column (vmctl up to 2018)
	 * shows a paused VM: the record, written first, says we paused it.
	 */
	if (phase == STATE_PAUSED && (vmd == VMD_PAUSED ||
	    vmd == VMD_RUNNING)) {
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
