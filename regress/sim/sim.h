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
 * The simulation of the VM state machine: the real vm.c, state.c,
 * backend.c, vmctl.c, autostart.c and parse.y, linked with simulated
 * seams (this directory) instead of the files that touch the system:
 *
 *	clock.c		the libevent 1.4 timer API on a simulated clock
 *	log.c		logging stamped with simulated time; now_ms, now_wall
 *	job.c		the job API: vmctl, backend commands and apps are
 *			processes of the simulated world
 *	world.c		the simulated vmd: VMs, their ids, their guests, what
 *			vmctl prints
 *	probe.c		the probe and address APIs, against the world's guests
 *	users.c		the peers' side: sessions opened, answered, closed,
 *			resumed after a crash; vmlaunch -s
 *	harness.c	the supervisor: started, reloaded, killed, shut down;
 *			supervisor_check_exit and the backend's wrappers
 *	check.c		the invariants
 *	owner.c		which objects the product allocated are alive
 *	gen.c		random event lists, their text form
 *	sim.c		main: sequences, replay, shrinking
 *
 * Everything runs in one thread on simulated time: an event list (gen.c)
 * says what happens from outside (sessions, guests, people, signals,
 * vmctl's answers while vmd misbehaves) and when; everything in between
 * is decided by the code and by the world's own rules, so that a list
 * replays exactly.
 */

#ifndef SIM_H
#define SIM_H

#include <sys/types.h>
#include <stdint.h>

#include "vmlaunch.h"

#define SIM_EPOCH		1796000000LL	/* the wall clock at time 0 */
#define SIM_VMS_MAX		8
#define SIM_CONFS_MAX		4

/* The world's promises while healthy (see world.c). */
#define WORLD_LATENCY_MAX	1500	/* ms: a vmctl answers within this */
#define WORLD_RESUME_MAX	3000	/* ms: a keeper is back within this */
#define WORLD_FORCE_MS		200	/* ms: a forced stop takes effect */
#define WORLD_VMD_FORCE_MS	3000	/* ms: vmd forces off a guest that
					   does not acknowledge a stop */
#define WORLD_ACK_STOP_MAX	120000	/* ms: one that does gets this */
#define SIM_START_GRACE		5000	/* ms: state.c's STATE_START_GRACE */

/* The world's promises, each of which a run may break (-b). */
#define PROMISE_LATE_START	0x01	/* a killed start never acts later */
#define PROMISE_RESUME		0x02	/* keepers resume within the grace */
#define PROMISE_ORPHAN		0x04	/* an orphaned start acts within its
					   time limit or never */
#define PROMISE_STOP		0x08	/* a stop of vmlaunch's ends it */
#define PROMISE_ALL		0x0f

/* What a run is made of: the world, the configs, the events. */
struct sim_vmparam {
	char			 name[VM_NAME_MAX];
	int			 command;	/* backend command */
	int			 vmd_knows;	/* in vm.conf: vmctl lists it */
};

struct sim_conf {
	long long		 idle;		/* s, or DURATION_NEVER */
	long long		 boot;		/* s */
	long long		 stop;		/* s */
	long long		 vmctl;		/* s: vmctl timeout */
	unsigned int		 vms;		/* bit i: vm i is configured */
	unsigned int		 apps;		/* bit i: vm i has an app */
	unsigned int		 restart;	/* bit i: its app restarts */
	long long		 pause;		/* s: idle pause, 0 none */
	long long		 check;		/* s: idle check's timeout, 0
						   no check */
};

enum sim_kind {
	EV_OPEN,	/* user vm flags: a session opens */
	EV_CLOSE,	/* user: it ends */
	EV_GUEST,	/* vm mode: the guest comes up, is silent, dies */
	EV_PERSON,	/* vm op: someone runs vmctl by hand */
	EV_VMD,		/* vmd restarts: every VM stops, ids change */
	EV_FAULT,	/* on|off: vmctl answers only when told */
	EV_ANSWER,	/* cmd vm outcome: a vmctl answers, while faulty */
	EV_APPEXIT,	/* vm: its app exits */
	EV_RELOAD,	/* conf: SIGHUP with another config */
	EV_CRASH,	/* delay: kill -9, a new one after delay ms */
	EV_TERM,	/* SIGTERM */
	EV_STATUS,	/* vmlaunch -s */
	EV_HOLD,	/* vm secs: vmlaunch -k (-1: never) */
	EV_RELEASE,	/* vm: vmlaunch -k 0 */
	EV_BUSY,	/* vm mode: what its idle check finds in the guest */
	EV_NKINDS
};

struct sim_event {
	long long		 t;		/* ms */
	enum sim_kind		 kind;
	int			 vm;		/* index, -1 none */
	int			 user;		/* EV_OPEN, EV_CLOSE */
	int			 arg;		/* per kind */
};

/* Session flavours for EV_OPEN. */
enum user_flavour {
	USER_NORMAL,
	USER_X,		/* with a DISPLAY: its VM's apps start */
	USER_NOBOOT,	/* an app's session */
	USER_NOTUSE,	/* does not keep the VM up */
	USER_CHECK,	/* NOBOOT | NOTUSE */
	USER_NFLAVOURS
};

enum guest_mode {
	GUEST_UP,	/* sshd answers with its banner */
	GUEST_SILENT,	/* accepts, says nothing (paused, hung) */
	GUEST_DEAD,	/* refuses; its connections drop */
	GUEST_NMODES
};

enum person_op {
	PERSON_START,
	PERSON_STOP,
	PERSON_KILL,
	PERSON_PAUSE,
	PERSON_UNPAUSE,
	PERSON_NOPS
};

/* What the guest's idle check does (EV_BUSY). */
enum busy_mode {
	BUSY_IDLE,	/* exits 1 */
	BUSY_BUSY,	/* exits 0 */
	BUSY_FAIL,	/* the command fails: exits 127 */
	BUSY_HANG,	/* never exits: its limit kills it */
	BUSY_NMODES
};

enum answer_cmd {
	ANSWER_STATUS,
	ANSWER_START,
	ANSWER_STOP,
	ANSWER_KILL,
	ANSWER_PAUSE,
	ANSWER_UNPAUSE,
	ANSWER_NCMDS
};

enum answer_outcome {
	OUT_OK,		/* acts now, exits 0 (status: a fresh snapshot) */
	OUT_STALE,	/* status: the world as it was when it began */
	OUT_ODD,	/* status: an "unknown" row for its VM */
	OUT_FAIL,	/* exits 1, having done nothing */
	OUT_GARBAGE,	/* prints nonsense, exits 0 */
	OUT_HANG,	/* acts, then never exits (its limit kills it) */
	OUT_LOST,	/* never acts, never exits */
	OUT_NOUTCOMES
};

struct sim_run {
	uint64_t		 seed;		/* world details, per job */
	int			 nvms;
	struct sim_vmparam	 vms[SIM_VMS_MAX];
	int			 oldfmt;	/* vmctl before 2018 */
	int			 nconfs;
	struct sim_conf		 confs[SIM_CONFS_MAX];
	int			 promises;	/* PROMISE_*: kept */
	struct sim_event	*ev;
	size_t			 nev;
	size_t			 evsize;
};

/* sim.c */
extern int		 sim_verbose;
uint64_t		 sim_hash(uint64_t, uint64_t);
uint64_t		 sim_hash_str(const char *);
const struct sim_run	*sim_current(void);
__dead void		 sim_abort(void);
void			 sim_failed(void);

/* log.c: the log of a run, stamped with simulated time */
void			 log_reset(void);
void			 log_dump(FILE *, size_t);
void			 log_sim(const char *, ...)
			    __attribute__((__format__ (printf, 1, 2)));

/* clock.c: simulated time and the timer API */
long long		 clock_now(void);
void			 clock_reset(void);
void			 clock_drop_all(void);
void			 clock_harness(struct event *);
int			 clock_run(long long);
int			 clock_timers_in(const void *, size_t, char *, size_t);
void			 clock_drop_in(const void *, size_t);
int			 clock_product_timers(char *, size_t);

/* owner.c: the product's calloc'd objects, alive or freed (owner.h) */
void			*owner_calloc(size_t, size_t, const char *, int);
void			 owner_free(void *);
int			 owner_freed(const void *, char *, size_t);
size_t			 owner_live(void);
void			 owner_release(void);

/* world.c: the simulated vmd */
enum wstate {
	W_STOPPED,
	W_RUNNING,
	W_STOPPING,
	W_PAUSED
};
enum wby {
	BY_NOBODY,
	BY_VMLAUNCH,
	BY_PERSON
};
struct wvm;
void			 world_init(const struct sim_run *);
void			 world_free(void);
void			 world_subscribe(void (*)(void));
int			 world_nvms(void);
struct wvm		*world_vm(int);
struct wvm		*world_find(const char *);
struct wvm		*world_by_address(uint32_t);
const char		*world_name(struct wvm *);
int			 world_index(struct wvm *);
enum wstate		 world_state(struct wvm *);
const char		*world_state_name(enum wstate);
enum wby		 world_by(struct wvm *);
int			 world_boot(struct wvm *);
long long		 world_t_boot(struct wvm *);
unsigned int		 world_id(struct wvm *);
int			 world_hand_paused(struct wvm *, long long *);
int			 world_our_pause(struct wvm *, long long *);
void			 world_unpause_begins(struct wvm *);
long long		 world_t_unpause(struct wvm *);
int			 world_pause(struct wvm *, int, char *, size_t);
void			 world_busy(struct wvm *, enum busy_mode);
enum busy_mode		 world_busy_mode(struct wvm *);
int			 world_guest_answers(struct wvm *, int *);
int			 world_conn_alive(struct wvm *, int);
int			 world_blind(struct wvm *);
void			 world_start_heard(struct wvm *);
void			 world_start_begins(struct wvm *);
void			 world_start_orphaned(struct wvm *, long long, int);
void			 world_supervisor_gone(void);
void			 world_id_told(struct wvm *, long long);
long long		 world_t_told(struct wvm *);
int			 world_dealt_since(long long);
void			 world_boot_untold(struct wvm *, int);
int			 world_untold(struct wvm *);
int			 world_id_stale(struct wvm *);
int			 world_command(struct wvm *);
void			 world_seen_stopped(struct wvm *, long long, int, int);
int			 world_start(struct wvm *, enum wby, char *, size_t);
int			 world_stop(struct wvm *, int, char *, size_t);
void			 world_status(int, int, long long, unsigned int,
			    char **, size_t *);
void			 world_command_status(struct wvm *, char *, size_t);
void			 world_person(struct wvm *, enum person_op);
void			 world_guest(struct wvm *, enum guest_mode);
void			 world_vmd_restart(void);
void			 world_set_faulty(int);
int			 world_faulty(void);
long long		 world_t_healthy(void);

/* job.c: the processes behind the job API */
struct job;
enum proc_kind {
	PROC_STATUS,
	PROC_START,
	PROC_STOP,
	PROC_KILL,
	PROC_APP,		/* ssh running an app */
	PROC_PAUSE,
	PROC_UNPAUSE,
	PROC_BUSY		/* ssh running the idle check */
};
void			 job_sim_reset(void);
void			 job_sim_crash(int);
void			 job_sim_drain(void);
int			 job_sim_answer(enum answer_cmd, int,
			    enum answer_outcome);
int			 job_sim_pending_faulty(int *, int *, int);
int			 job_sim_starts_pending(struct wvm *, long long *, int);
int			 job_sim_apps(struct wvm *);
int			 job_sim_app_exit(struct wvm *);
void			 job_sim_app_session_gone(struct job *);
int			 job_sim_attached_to(const void *, char *, size_t);
int			 job_sim_attached(char *, size_t);
long long		 job_sim_snap_stopped(struct wvm *);
long long		 job_sim_snap(struct wvm *);

/* probe.c: the probes and the sockets they hand out */
void			 probe_sim_reset(void);
int			 probe_sim_live_for(const void *, char *, size_t);
int			 probe_sim_live(char *, size_t);
int			 probe_sim_fd_guest(int, int *, int *);
void			 probe_sim_fd_closed(int);
int			 probe_sim_fds_open(void);

/* users.c: sessions and their clients */
void			 users_reset(void);
void			 users_open(int, int, enum user_flavour, struct job *);
int			 users_app_open(struct wvm *, struct job *);
void			 users_app_ended(int);
void			 users_app_exited(struct wvm *);
void			 users_close(int);
void			 users_crash(long long);
void			 users_status_crash(void);
void			 users_shutdown(void);
void			 users_exit(void);
void			 users_status(void);
void			 users_reload(void);
void			 users_close_all(void);
int			 users_count_live(void);
int			 users_count_open(void);
int			 users_pick_open(int);
int			 users_in_use(struct wvm *, long long *, long long *);
int			 users_open_on(struct wvm *, char *, size_t);
void			 users_check_waiting(void);
void			 users_world_changed(void);
int			 users_changed_during_open(void);
int			 users_guests_excused(void);

/* harness.c: the supervisor's lives */
void			 harness_reset(const struct sim_run *);
void			 harness_cleanup(void);
int			 harness_alive(void);
int			 harness_down(void);
int			 harness_gen(void);
long long		 harness_t_start(void);
long long		 harness_t_reload(void);
int			 harness_conf(void);
long long		 harness_idle(int);
int			 harness_commands_lost(int);
struct config		*harness_config(void);
const struct sim_conf	*harness_sim_conf(int);
void			 harness_start(void);
void			 harness_ensure(void);
void			 harness_crash(long long);
void			 harness_term(void);
void			 harness_reload(int);
void			 harness_after_event(void);
void			 harness_finish(void);
int			 harness_wraps_for(const void *, char *, size_t);
int			 harness_wraps(char *, size_t);
struct backend_req	*wrap_backend_status(const char *, int, backend_cb,
			    void *, const char *);
struct backend_req	*wrap_backend_start(const char *, int, backend_cb, void *,
			    const char *);
struct backend_req	*wrap_backend_stop(const char *, int, backend_cb,
			    void *, const char *);
struct backend_req	*wrap_backend_pause(const char *, int, backend_cb,
			    void *, const char *);
void			 wrap_backend_cancel(struct backend_req *);

/* holds.c: vmlaunch -k, as the users ask for it */
void			 holds_reset(void);
void			 holds_take(int, long long);
void			 holds_release(int);
void			 holds_term(void);
void			 holds_started(void);
int			 holds_open(struct wvm *, long long *);
int			 holds_count(void);
long long		 holds_since(struct wvm *);
extern int		 holds_dropped;

/* check.c: the invariants */
enum inv {
	INV_NONE = 0,
	INV_ONE_START,		/* one-start-per-boot */
	INV_STOP_IN_USE,	/* no-stop-in-use */
	INV_STOP_FOREIGN,	/* no-stop-foreign */
	INV_IDLE_STOP,		/* idle-stop */
	INV_ANSWER,		/* session-answer */
	INV_OWNER,		/* owner-lifetime */
	INV_RIGHT_GUEST,	/* right-guest */
	INV_FATAL,		/* no-fatal */
	INV_STOP_HELD,		/* no-stop-held */
	INV_UNPAUSE,		/* unpause-before-stop */
	INV_PAUSE_IN_USE,	/* no-pause-in-use */
	INV_BUSY,		/* busy */
	INV_MAX
};
extern int		 check_failed;
extern int		 check_blind;
extern int		 check_lost;
extern int		 check_paused;
extern int		 check_untold;
void			 check_reset(void);
void			 check_fail(enum inv, const char *, ...)
			    __attribute__((__format__ (printf, 2, 3)));
const char		*check_name(enum inv);
enum inv		 check_by_name(const char *);
enum inv		 check_which(void);
const char		*check_message(void);
long long		 check_time(void);
long long		 check_idle_bound(int);
long long		 check_answer_bound(int, long long);
void			 check_start_issued(struct wvm *);
void			 check_stop_issued(struct wvm *, int);
void			 check_pause_issued(struct wvm *);
void			 check_busy_begins(struct wvm *);
void			 check_busy_verdict(struct wvm *, int);
void			 check_busy_moot(int);
void			 check_busy_moot_all(void);
void			 check_owner_freed(const void *, size_t, const char *);
void			 check_step(void);
void			 check_final(void);

/* gen.c: runs and their text */
const char		*gen_vm(int);
void			 gen_params(struct sim_run *, uint64_t);
void			 gen_start(uint64_t);
void			 gen_next(const struct sim_run *, long long,
			    struct sim_event *);
void			 gen_add(struct sim_run *, const struct sim_event *);
void			 gen_free(struct sim_run *);
void			 gen_event_str(const struct sim_run *,
			    const struct sim_event *, char *, size_t);
void			 gen_print(FILE *, const struct sim_run *,
			    const char *);
int			 gen_parse(FILE *, struct sim_run *, char *, size_t,
			    char *, size_t);
void			 gen_write_config(FILE *, const struct sim_run *, int,
			    const char *);

#endif /* SIM_H */
