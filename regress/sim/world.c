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
 * The simulated vmd, by the facts of /work/shared/VMCTL.md: each VM's
 * state and id, who began its current boot (vmlaunch or a person: what
 * the invariants are about), its guest, and what vmctl and a command
 * backend print about it.  A VM that starts is missing from the status
 * for a moment; its guest comes up after a while of its own; a graceful
 * stop ends when the guest acknowledges it, or vmd forces it off after
 * 3 s when it does not; a forced stop is quick; ids stay across stop
 * and start and change when vmd restarts.  The details (how long a boot
 * takes, whether the guest acknowledges) are a hash of the run's seed,
 * the VM and its boot, so that they replay.
 *
 * Healthy or faulty: while healthy, every command answers on its own
 * within WORLD_LATENCY_MAX (job.c); while faulty, only when an event
 * says how.  The invariants that need the backend to work count from
 * the moment it became healthy again.
 */

#include <sys/types.h>

#include <netinet/in.h>

#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define WORLD_FOREIGN		"other"		/* not vmlaunch's */
#define WORLD_PREFIX		0x64400000	/* 100.64.0.0/10 */
#define WORLD_FIXED		0x0a090000	/* 10.9.0.0: command VMs */
#define WORLD_SUBS_MAX		4
#define WORLD_START_BURST	6000	/* ms: vmd refuses a third start
					   within this of each other */

struct wvm {
	int			 idx;
	char			 name[VM_NAME_MAX];
	int			 command;	/* a command backend's VM */
	int			 known;		/* vmd has it */
	unsigned int		 id;
	enum wstate		 state;
	int			 boot;		/* boots so far */
	enum wby		 by;		/* who began this one */
	long long		 t_boot;
	long long		 t_listed;	/* vmctl lists it from then */
	long long		 t_starts[2];	/* the two starts before */
	unsigned int		 pid;		/* of this boot */
	enum guest_mode		 guest;
	int			 guest_up;	/* came up this boot */
	int			 guest_set;	/* an event decided */
	int			 conn;		/* bumps: connections drop */
	long long		 t_stopped;	/* the last boot ended */
	int			 prev_ours;	/* vmlaunch began that boot */
	int			 seen;		/* answers since that said so */
	int			 blind;		/* a person's boot vmlaunch
						   cannot tell from its own */
	int			 race;		/* begun while vmlaunch's start
						   ran: its answer not heard */
	long long		 t_unheard;	/* an orphaned start may have
						   acted until then, -1 none */
	int			 unheard_orphan;	/* its supervisor died */
	long long		 t_told;	/* vmlaunch last learnt its id */
	int			 untold;	/* this boot's start said no id
						   to anyone, and the record's id
						   is from before vmd restarted */
	int			 hand_paused;	/* paused by a person */
	long long		 t_unpaused;	/* a person unpaused it */
	int			 our_paused;	/* paused by vmlaunch */
	long long		 t_paused;	/* ... then */
	long long		 t_unpause;	/* vmlaunch's unpause of it
						   last began */
	enum busy_mode		 busy;		/* its idle check's verdict */
	struct event		 ev_guest;	/* it comes up */
	struct event		 ev_stop;	/* the stop ends */
};

static struct wvm	 world_vms[SIM_VMS_MAX];
static int		 world_n;
static uint64_t		 world_seed;
static int		 world_oldfmt;
static int		 world_bad;	/* faulty */
static long long	 world_healthy;	/* healthy since */
static long long	 world_dealt = -1;	/* vmd last dealt ids */
static unsigned int	 world_pids = 4000;
static void		(*world_subs[WORLD_SUBS_MAX])(void);
static int		 world_nsubs;

static void	 world_guest_cb(int, short, void *);
static void	 world_stop_cb(int, short, void *);
static void	 world_set_state(struct wvm *, enum wstate);

static const char *const world_states[] = {
	[W_STOPPED] = "stopped",
	[W_RUNNING] = "running",
	[W_STOPPING] = "stopping",
	[W_PAUSED] = "paused"
};

const char *
world_state_name(enum wstate st)
{
	return (world_states[st]);
}

/* A number from the seed, this VM, its boot and a purpose. */
static uint64_t
world_rand(struct wvm *w, uint64_t what)
{
	return (sim_hash(world_seed ^ sim_hash_str(w->name),
	    ((uint64_t)w->boot << 16) ^ what));
}

static void
world_changed(void)
{
	int	 i;

	for (i = 0; i < world_nsubs; i++)
		world_subs[i]();
}

void
world_subscribe(void (*fn)(void))
{
	if (world_nsubs < WORLD_SUBS_MAX)
		world_subs[world_nsubs++] = fn;
}

void
world_init(const struct sim_run *run)
{
	struct wvm	*w;
	int		 i;

	world_free();
	world_seed = run->seed;
	world_oldfmt = run->oldfmt;
	world_n = run->nvms;
	for (i = 0; i < world_n; i++) {
		w = &world_vms[i];
		memset(w, 0, sizeof(*w));
		w->idx = i;
		(void)strlcpy(w->name, run->vms[i].name, sizeof(w->name));
		w->command = run->vms[i].command;
		w->known = run->vms[i].vmd_knows || w->command;
		w->id = i + 1;
		w->state = W_STOPPED;
		w->t_starts[0] = w->t_starts[1] = -WORLD_START_BURST;
		w->t_unheard = -1;
		evtimer_set(&w->ev_guest, world_guest_cb, w);
		clock_harness(&w->ev_guest);
		evtimer_set(&w->ev_stop, world_stop_cb, w);
		clock_harness(&w->ev_stop);
	}
	world_bad = 0;
	world_healthy = 0;
	world_dealt = -1;
}

void
world_free(void)
{
	int	 i;

	for (i = 0; i < world_n; i++) {
		evtimer_del(&world_vms[i].ev_guest);
		evtimer_del(&world_vms[i].ev_stop);
	}
	world_n = 0;
	world_nsubs = 0;
}

int
world_nvms(void)
{
	return (world_n);
}

struct wvm *
world_vm(int i)
{
	return (i >= 0 && i < world_n ? &world_vms[i] : NULL);
}

struct wvm *
world_find(const char *name)
{
	int	 i;

	for (i = 0; i < world_n; i++)
		if (strcmp(world_vms[i].name, name) == 0)
			return (&world_vms[i]);
	return (NULL);
}

/* The guest at an IPv4 address (host order), if any VM has it. */
struct wvm *
world_by_address(uint32_t a)
{
	int	 i;

	for (i = 0; i < world_n; i++) {
		if (world_vms[i].command) {
			if (a == WORLD_FIXED + (uint32_t)i + 1)
				return (&world_vms[i]);
		} else if (world_vms[i].known &&
		    a == WORLD_PREFIX + (world_vms[i].id << 8) + 3)
			return (&world_vms[i]);
	}
	return (NULL);
}

const char *
world_name(struct wvm *w)
{
	return (w->name);
}

int
world_index(struct wvm *w)
{
	return (w->idx);
}

enum wstate
world_state(struct wvm *w)
{
	return (w->state);
}

enum wby
world_by(struct wvm *w)
{
	return (w->by);
}

int
world_boot(struct wvm *w)
{
	return (w->boot);
}

long long
world_t_boot(struct wvm *w)
{
	return (w->t_boot);
}

/*
 * Paused by vmlaunch (since *t_paused), and no unpause of vmlaunch's has
 * begun since: a stop now would be of a paused guest.
 */
int
world_our_pause(struct wvm *w, long long *t_paused)
{
	*t_paused = w->t_paused;
	return (w->state == W_PAUSED && w->our_paused &&
	    w->t_unpause < w->t_paused);
}

long long
world_t_unpause(struct wvm *w)
{
	return (w->t_unpause);
}

/* vmlaunch begins an unpause of w. */
void
world_unpause_begins(struct wvm *w)
{
	w->t_unpause = clock_now();
}

/*
 * vmctl pause and unpause (VMCTL.md), or a command backend's: exit status
 * and stderr.
 */
int
world_pause(struct wvm *w, int pause, char *msg, size_t msglen)
{
	const char	*what = pause ? "pause" : "unpause";

	if (!w->known) {
		snprintf(msg, msglen, w->command ? "no such vm\n" :
		    "vmctl: %s vm command failed: Invalid argument\n", what);
		return (1);
	}
	if (w->state != (pause ? W_RUNNING : W_PAUSED)) {
		snprintf(msg, msglen, w->command ? "not %s\n" :
		    "vmctl: %s vm command failed: Invalid argument\n",
		    w->command ? (pause ? "running" : "paused") : what);
		return (1);
	}
	if (w->command)
		*msg = '\0';
	else
		snprintf(msg, msglen, "vmctl: %sd vm %u successfully\n", what,
		    w->id);
	if (pause) {
		world_set_state(w, W_PAUSED);
		w->our_paused = 1;
		w->t_paused = clock_now();
	} else
		world_set_state(w, W_RUNNING);
	return (0);
}

/* EV_BUSY: what its idle check finds in the guest from now on. */
void
world_busy(struct wvm *w, enum busy_mode mode)
{
	w->busy = mode;
}

enum busy_mode
world_busy_mode(struct wvm *w)
{
	return (w->busy);
}

/* Paused by a person (vmlaunch leaves it so); unpaused by one then. */
int
world_hand_paused(struct wvm *w, long long *t_unpaused)
{
	*t_unpaused = w->t_unpaused;
	return (w->state == W_PAUSED && w->hand_paused);
}

unsigned int
world_id(struct wvm *w)
{
	return (w->id);
}

/*
 * Would a connection to its guest get the banner now (1), hang (0), or
 * be refused (-1)?  *conn says which connections are alive.
 */
int
world_guest_answers(struct wvm *w, int *conn)
{
	*conn = w->conn;
	if (w->state == W_PAUSED)
		return (0);
	if (w->state != W_RUNNING)
		return (-1);
	if (w->guest == GUEST_SILENT)
		return (0);
	if (w->guest == GUEST_DEAD || !w->guest_up)
		return (-1);
	return (1);
}

/*
 * Does a connection made at conn still carry bytes?  Not once the guest
 * shuts down: its sshd goes first.
 */
int
world_conn_alive(struct wvm *w, int conn)
{
	return ((w->state == W_RUNNING || w->state == W_PAUSED) &&
	    w->conn == conn);
}

/* Whatever ran on the guest is gone: its connections drop. */
static void
world_drop(struct wvm *w)
{
	w->conn++;
}

static void
world_guest_cb(int fd, short ev, void *arg)
{
	struct wvm	*w = arg;

	w->guest_up = 1;
	log_sim("world: vm %s: guest up (boot %d)", w->name, w->boot);
	world_changed();
}

static void
world_set_state(struct wvm *w, enum wstate st)
{
	if (w->state == st)
		return;
	log_sim("world: vm %s: %s -> %s", w->name, world_states[w->state],
	    world_states[st]);
	if (w->state == W_PAUSED && w->hand_paused) {
		/* No longer as a person left it: the countdown is owed. */
		w->hand_paused = 0;
		w->t_unpaused = clock_now();
	}
	if (w->state == W_PAUSED)
		w->our_paused = 0;
	w->state = st;
	if (st == W_STOPPED) {
		evtimer_del(&w->ev_guest);
		evtimer_del(&w->ev_stop);
		w->t_stopped = clock_now();
		/* One vmlaunch could not tell from its own counts too. */
		w->prev_ours = w->by == BY_VMLAUNCH || w->blind || w->race;
		w->seen = 0;
		w->by = BY_NOBODY;
		w->guest_up = 0;
		world_drop(w);
	}
	world_changed();
}

static void
world_stop_cb(int fd, short ev, void *arg)
{
	world_set_state(arg, W_STOPPED);
}

/* vmctl start: exit status, and what it prints on stderr. */
int
world_start(struct wvm *w, enum wby by, char *msg, size_t msglen)
{
	struct timeval	 tv;
	long long	 now = clock_now(), ms;

	if (!w->known) {
		snprintf(msg, msglen, w->command ? "no such vm\n" :
		    "vmctl: start vm command failed: Operation not "
		    "permitted\n");
		return (1);
	}
	if (w->state != W_STOPPED) {
		snprintf(msg, msglen, w->command ? "already running\n" :
		    "vmctl: start vm command failed: Operation already in "
		    "progress\n");
		return (1);
	}
	if (!w->command && now - w->t_starts[0] < WORLD_START_BURST &&
	    now - w->t_starts[1] < WORLD_START_BURST) {
		snprintf(msg, msglen, "vmctl: start vm command failed: "
		    "Operation not permitted\n");
		return (1);
	}
	w->t_starts[0] = w->t_starts[1];
	w->t_starts[1] = now;
	w->boot++;
	w->by = by;
	/*
	 * Started by hand after vmlaunch's boot ended, before any status
	 * told vmlaunch it had: the same name, the same id, and nothing
	 * that vmlaunch reads tells the two apart.
	 */
	w->blind = by == BY_PERSON && w->prev_ours && w->seen < 2;
	w->race = by == BY_PERSON && (job_sim_starts_pending(w, &ms, 0) > 0 ||
	    w->t_unheard >= 0);
	w->t_boot = now;
	w->untold = 0;
	w->pid = ++world_pids;
	w->guest_up = 0;
	w->guest_set = 0;
	w->guest = GUEST_UP;
	/* Missing from vmctl status for a moment, as VMCTL.md says. */
	w->t_listed = now + world_rand(w, 1) % 800;
	/* Most guests boot in seconds; some take longer than a boot wait. */
	ms = 300 + world_rand(w, 2) % (world_rand(w, 3) % 8 == 0 ? 90000 :
	    12000);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(&w->ev_guest, &tv);
	log_sim("world: vm %s: started by %s (boot %d, id %u)", w->name,
	    by == BY_VMLAUNCH ? "vmlaunch" : "a person", w->boot, w->id);
	world_set_state(w, W_RUNNING);
	if (w->command)
		*msg = '\0';
	else
		snprintf(msg, msglen, "vmctl: started vm %u successfully, "
		    "tty /dev/ttyp%u\n", w->id, w->id % 10);
	return (0);
}

int
world_command(struct wvm *w)
{
	return (w->command);
}

int
world_blind(struct wvm *w)
{
	return (w->blind || w->race);
}

/*
 * A supervisor is gone: the records of starts it could not decide are
 * its successor's state.c's now, which waits STATE_START_GRACE longer.
 */
void
world_supervisor_gone(void)
{
	struct wvm	*w;
	int		 i;

	for (i = 0; i < world_n; i++) {
		w = &world_vms[i];
		if (w->t_unheard < 0 || w->unheard_orphan)
			continue;
		w->unheard_orphan = 1;
		w->t_unheard += SIM_START_GRACE;
	}
}

/* vmlaunch begins a start of w: one that finds it a person's. */
void
world_start_begins(struct wvm *w)
{
	if (w->state != W_STOPPED && w->by == BY_PERSON)
		w->race = 1;
}

/* vmlaunch heard how its start of w went. */
void
world_start_heard(struct wvm *w)
{
	w->race = 0;
}

/* A status taken at t that showed w stopped reached vmlaunch. */
void
world_seen_stopped(struct wvm *w, long long t, int by_state, int by_vm)
{
	/*
	 * vm.c believes a VM of its own gone on the second answer that says
	 * so (it may be missing for a moment after a start): so does this.
	 */
	if (by_vm && t >= w->t_stopped)
		w->seen++;
	/*
	 * A record left behind is state.c's to decide, by its own status;
	 * a start that ended unsure is vm.c's, by its.
	 */
	if (w->t_unheard >= 0 && t >= w->t_unheard &&
	    (w->unheard_orphan ? by_state : by_vm)) {
		w->t_unheard = -1;
		w->unheard_orphan = 0;
	}
}

/*
 * A start of w ended without saying (killed at its limit) or lost its
 * supervisor: until a status taken after it could act (until) shows w
 * stopped, a boot of w may be that start's for all vmlaunch can tell.
 */
void
world_start_orphaned(struct wvm *w, long long until, int orphan)
{
	if (until > w->t_unheard)
		w->t_unheard = until;
	w->unheard_orphan |= orphan;
	if (w->t_unheard == -1)
		w->unheard_orphan = 0;
}

/* vmctl stop [-f]: exit status and stderr. */
int
world_stop(struct wvm *w, int force, char *msg, size_t msglen)
{
	struct timeval	 tv = { 0, 0 };
	long long	 ms;
	int		 acks;

	if (!w->known) {
		snprintf(msg, msglen, w->command ? "no such vm\n" :
		    "stopping vm %s: vm not found\n", w->name);
		return (1);
	}
	if (w->state == W_STOPPED) {
		snprintf(msg, msglen, w->command ? "not running\n" :
		    "stopping vm %s: failed: Invalid argument\n", w->name);
		return (1);
	}
	if (!force && w->state == W_STOPPING) {
		snprintf(msg, msglen, w->command ? "already stopping\n" :
		    "stopping vm %s: failed: Operation already in progress\n",
		    w->name);
		return (1);
	}
	if (w->command)
		*msg = '\0';
	else
		snprintf(msg, msglen, "stopping vm %s: requested to shutdown "
		    "vm %u\n", w->name, w->id);
	if (!(sim_current()->promises & PROMISE_STOP)) {
		log_sim("world: vm %s: the stop does nothing (promise broken)",
		    w->name);
		return (0);
	}
	if (force) {
		ms = WORLD_FORCE_MS;
	} else {
		acks = w->state == W_RUNNING && w->guest == GUEST_UP &&
		    w->guest_up && world_rand(w, 4) % 4 != 0;
		if (acks)
			ms = 300 + world_rand(w, 5) % (world_rand(w, 6) % 6 ==
			    0 ? WORLD_ACK_STOP_MAX : 20000);
		else
			ms = WORLD_VMD_FORCE_MS;
	}
	if (!evtimer_pending(&w->ev_stop, NULL) || force) {
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		evtimer_add(&w->ev_stop, &tv);
	}
	world_set_state(w, W_STOPPING);
	return (0);
}

static void
world_row(char **out, size_t *len, struct wvm *w, int odd, int longowner)
{
	const char	*owner = longowner ? "averyveryverylongusername:wheel" :
			    "joe";
	const char	*st = odd ? "unknown" : world_states[w->state];
	char		*line = NULL, pid[16];
	int		 n, up = w->state != W_STOPPED;

	snprintf(pid, sizeof(pid), "%u", w->pid);
	if (world_oldfmt)
		n = asprintf(&line, "%5u %5s %5d %7s %7s %7s %12s %s%s\n",
		    w->id, up ? pid : "-", 1, "1.0G", up ? "1.0G" : "-",
		    up ? "ttyp1" : "-", owner, w->name,
		    w->state == W_STOPPING ? " - stopping" : "");
	else
		n = asprintf(&line, "%5u %5s %5d %7s %7s %7s %12s %8s %s\n",
		    w->id, up ? pid : "-", 1, "1.0G", up ? "1.0G" : "-",
		    up ? "ttyp1" : "-", owner, st, w->name);
	if (n == -1 || (*out = realloc(*out, *len + n + 1)) == NULL)
		fatal("world");
	memcpy(*out + *len, line, n + 1);
	*len += n;
	free(line);
}

/*
 * What `vmctl status` prints now: the header, the running VMs, then the
 * others, each vmd VM and the one that is not vmlaunch's.  odd_vm (an
 * index, or -1) shows as unknown; variant picks the details (a long
 * owner name that pushes the columns right).
 */
void
world_status(int odd_vm, int longowner, long long now, unsigned int variant,
    char **out, size_t *len)
{
	static struct wvm	 foreign;
	int			 pass, i;

	*len = 0;
	if ((*out = strdup(world_oldfmt ?
	    "   ID   PID VCPUS  MAXMEM  CURMEM     TTY        OWNER NAME\n" :
	    "   ID   PID VCPUS  MAXMEM  CURMEM     TTY        OWNER    STATE "
	    "NAME\n")) == NULL)
		fatal("world");
	*len = strlen(*out);
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < world_n; i++) {
			struct wvm	*w = &world_vms[i];

			if (!w->known || w->command || now < w->t_listed ||
			    (w->state == W_STOPPED) != pass)
				continue;
			world_row(out, len, w, i == odd_vm, longowner);
		}
	}
	(void)strlcpy(foreign.name, WORLD_FOREIGN, sizeof(foreign.name));
	foreign.id = world_n + 1;
	foreign.state = variant % 3 == 0 ? W_RUNNING : W_STOPPED;
	foreign.pid = 99;
	world_row(out, len, &foreign, 0, longowner);
}

/* What a command backend's status prints for w. */
void
world_command_status(struct wvm *w, char *buf, size_t len)
{
	if (w->state == W_STOPPED)
		snprintf(buf, len, "stopped\n");
	else
		snprintf(buf, len, "%s %u\n", world_states[w->state], w->pid);
}

/* Someone runs vmctl by hand. */
void
world_person(struct wvm *w, enum person_op op)
{
	char	 msg[256];
	int	 rc = 0;

	switch (op) {
	case PERSON_START:
		rc = world_start(w, BY_PERSON, msg, sizeof(msg));
		break;
	case PERSON_STOP:
	case PERSON_KILL:
		rc = world_stop(w, op == PERSON_KILL, msg, sizeof(msg));
		break;
	case PERSON_PAUSE:
		if (w->state == W_RUNNING) {
			w->hand_paused = 1;
			world_set_state(w, W_PAUSED);
		}
		break;
	case PERSON_UNPAUSE:
		if (w->state == W_PAUSED)
			world_set_state(w, W_RUNNING);
		break;
	default:
		break;
	}
	if (rc != 0)
		log_sim("world: a person's vmctl on %s failed: %s", w->name,
		    msg);
}

/* The guest comes up, goes silent or dies, from now on this boot. */
void
world_guest(struct wvm *w, enum guest_mode mode)
{
	if (w->state == W_STOPPED)
		return;
	log_sim("world: vm %s: guest %s", w->name, mode == GUEST_UP ? "up" :
	    mode == GUEST_SILENT ? "silent" : "dead");
	if (mode == GUEST_DEAD && w->guest != GUEST_DEAD)
		world_drop(w);
	w->guest = mode;
	w->guest_set = 1;
	if (mode == GUEST_UP) {
		evtimer_del(&w->ev_guest);
		w->guest_up = 1;
	}
	world_changed();
}

/* vmd restarts: every VM stops, and the ids are dealt again. */
void
world_vmd_restart(void)
{
	int	 i, j;
	unsigned int	 t;

	log_sim("world: vmd restarts");
	for (i = 0; i < world_n; i++)
		if (!world_vms[i].command)
			world_set_state(&world_vms[i], W_STOPPED);
	for (i = world_n - 1; i > 0; i--) {
		j = sim_hash(world_seed, world_pids + i) % (i + 1);
		if (world_vms[i].command || world_vms[j].command)
			continue;
		t = world_vms[i].id;
		world_vms[i].id = world_vms[j].id;
		world_vms[j].id = t;
	}
	world_pids += 100;
	world_dealt = clock_now();
	world_changed();
}

/* vmlaunch learnt w's id as it was at t, or that it was not running. */
void
world_id_told(struct wvm *w, long long t)
{
	if (t > w->t_told)
		w->t_told = t;
}

long long
world_t_told(struct wvm *w)
{
	return (w->t_told);
}

/* Has vmd dealt new ids since t? */
int
world_dealt_since(long long t)
{
	return (world_dealt >= 0 && world_dealt > t);
}

/*
 * vmlaunch's start of w began this boot and may never tell anyone its
 * id (on), or has told it after all (off).
 */
void
world_boot_untold(struct wvm *w, int on)
{
	w->untold = on;
}

/*
 * A boot of vmlaunch's that vmlaunch cannot know as its own: the start
 * was recorded with the id from before vmd restarted, and its answer,
 * which would have said the new one, reached no supervisor and said
 * nothing in its file (nonsense, or it never ended).
 */
int
world_untold(struct wvm *w)
{
	return (w->untold && w->state != W_STOPPED && w->by == BY_VMLAUNCH);
}

/*
 * Might vmlaunch still believe in an id that w had before vmd last
 * restarted, with nothing it was told since to say otherwise?
 */
int
world_id_stale(struct wvm *w)
{
	return (world_dealt >= 0 && w->t_told <= world_dealt);
}

void
world_set_faulty(int on)
{
	if (on == world_bad)
		return;
	world_bad = on;
	if (!on)
		world_healthy = clock_now();
	log_sim("world: vmd %s", on ? "misbehaves: vmctl answers only when "
	    "told" : "healthy again");
}

int
world_faulty(void)
{
	return (world_bad);
}

long long
world_t_healthy(void)
{
	return (world_healthy);
}
