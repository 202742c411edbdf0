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
 * Holds, as the users ask for them (vmlaunch -k DURATION, -k never,
 * -k 0), played against hold.c as peer.c plays them: the request names
 * a host, the supervisor (started if need be) looks it up in its config
 * and sets or releases the hold.  What this file keeps is the users'
 * side, which the invariants are about: the holds asked for and when
 * each ends, by its time (the whole second hold.c counts to, never
 * before), a release, SIGTERM, or the supervisor telling that it no
 * longer counts it (its VM could not be brought up: hold.c drops it).
 * The client's own wait for the VM (CTL_FLAG_UP) is not simulated.
 */

#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "sim.h"

struct holds_vm {
	int		 open;
	long long	 t_set;		/* asked (the last time) */
	long long	 t_end;		/* ms, -1: until released */
	long long	 t_ended;	/* the last one ended, 0 none */
};

static struct holds_vm	 holds[SIM_VMS_MAX];
int			 holds_dropped;	/* by the supervisor: not counted */

void
holds_reset(void)
{
	memset(holds, 0, sizeof(holds));
	holds_dropped = 0;
}

static void
holds_end(int vm, long long t, const char *why)
{
	if (!holds[vm].open)
		return;
	holds[vm].open = 0;
	holds[vm].t_ended = t;
	log_sim("hold on %s: %s", gen_vm(vm), why);
}

/* The supervisor's vmconf for vm, or NULL as peer_vm() refuses. */
static struct vmconf *
holds_vmconf(int vm)
{
	harness_ensure();
	if (harness_down()) {
		log_sim("hold on %s: refused, the supervisor is shutting down",
		    gen_vm(vm));
		return (NULL);
	}
	return (config_lookup_host(harness_config(), gen_vm(vm)));
}

/* EV_HOLD: vmlaunch -k secs (-1: never) for vm. */
void
holds_take(int vm, long long secs)
{
	struct vmconf	*vmc;
	char		 msg[512];

	if ((vmc = holds_vmconf(vm)) == NULL) {
		log_sim("hold on %s: refused", gen_vm(vm));
		return;
	}
	(void)hold_set(vmc, secs == -1 ? HOLD_FOREVER : secs, msg,
	    sizeof(msg));
	log_sim("vmlaunch -k: %s", msg);
	if (!holds[vm].open)
		holds[vm].t_set = clock_now();
	holds[vm].open = 1;
	/* hold.c: until the whole second now_wall() + secs. */
	holds[vm].t_end = secs == -1 ? -1 :
	    (clock_now() / 1000 + secs) * 1000;
	check_busy_moot(vm);
	supervisor_check_exit();
}

/* EV_RELEASE: vmlaunch -k 0. */
void
holds_release(int vm)
{
	struct vmconf	*vmc;
	char		 msg[512];

	if ((vmc = holds_vmconf(vm)) == NULL) {
		log_sim("release of %s: refused", gen_vm(vm));
		return;
	}
	(void)hold_release(vmc->name, msg, sizeof(msg));
	log_sim("vmlaunch -k 0: %s", msg);
	holds_end(vm, clock_now(), "released");
	supervisor_check_exit();
}

/* SIGTERM ends them, with the VMs. */
void
holds_term(void)
{
	int	 i;

	for (i = 0; i < SIM_VMS_MAX; i++)
		holds_end(i, clock_now(), "ended by SIGTERM");
}

/*
 * A supervisor started and read the state file: a hold on a VM its
 * config does not have is dropped (hold_restore).
 */
void
holds_started(void)
{
	int	 i;

	for (i = 0; i < world_nvms(); i++)
		if (holds[i].open && config_lookup_host(harness_config(),
		    gen_vm(i)) == NULL)
			holds_end(i, clock_now(), "dropped by the next "
			    "supervisor: not in its config");
}

/*
 * Is a hold on w open now?  *t_ended: when the last one ended.  One
 * that the running supervisor no longer counts (hold_status) was dropped
 * by it, its VM having failed to come up: counted, and ended here.
 */
int
holds_open(struct wvm *w, long long *t_ended)
{
	struct holds_vm		*h = &holds[world_index(w)];
	struct ctl_status_vm	 row;

	if (h->open && h->t_end != -1 && clock_now() >= h->t_end)
		holds_end(world_index(w), h->t_end, "its time ran out");
	if (h->open && harness_alive()) {
		memset(&row, 0, sizeof(row));
		hold_status(world_name(w), &row);
		if (!row.held) {
			holds_dropped++;
			holds_end(world_index(w), clock_now(), "dropped by "
			    "the supervisor (its vm did not come up)");
		}
	}
	*t_ended = h->t_ended;
	return (h->open);
}

/* When the hold open on w was asked (not renewed). */
long long
holds_since(struct wvm *w)
{
	return (holds[world_index(w)].t_set);
}

/* Holds open, for the generator. */
int
holds_count(void)
{
	long long	 t;
	int		 i, n = 0;

	for (i = 0; i < world_nvms(); i++)
		n += holds_open(world_vm(i), &t);
	return (n);
}
