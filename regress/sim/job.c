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
 * job.c's API for the simulation: a job is a process of the simulated
 * world.  vmctl (status, start, stop, stop -f), a command backend's
 * commands (/bin/sh -c ... vmlaunch-backend NAME) and an app's ssh are
 * told apart by their argv, as the real programs would be.
 *
 * A command acts on the world once (a status takes its snapshot, a
 * start starts) and exits later.  While the world is healthy both
 * happen on their own, within WORLD_LATENCY_MAX (or half the time
 * limit); a command begun while vmd misbehaves waits for an EV_ANSWER
 * that says what it does: answer now, answer with an old snapshot,
 * fail, print garbage, act and hang, or do nothing at all.  The time
 * limit kills what has not exited, as job.c would, and a killed command
 * does not act afterwards (PROMISE_LATE_START).
 *
 * The process outlives its job: cancelled, it is killed; orphaned (the
 * supervisor was killed), it goes on without anyone to hear it, and a
 * start still starts.  job.c's contract holds: job_run() never calls
 * back, done_cb runs once from the loop unless the job was cancelled,
 * the job is freed when done_cb returns, and job_cancel() of the job
 * from its own callback is safe.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include <errno.h>
#include <event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

#define APP_SESSION_MS		100	/* an app's ssh connects after this */
#define APP_EXIT_MS		20	/* and exits this long after its end */
#define LATE_START_MS		20000	/* a killed start acts after all */

struct job {
	LIST_ENTRY(job)		 entry;
	enum proc_kind		 kind;
	struct wvm		*vm;		/* NULL: vmctl status of all */
	int			 command;	/* a backend command */
	int			 gen;		/* the supervisor that ran it */
	int			 attached;	/* its supervisor waits for it */
	int			 faulty;	/* begun while vmd misbehaved */
	int			 acted;
	long long		 t_act;
	int			 never;		/* told it does nothing */
	int			 hangs;		/* acted, never exits */
	int			 answered;	/* by an EV_ANSWER */
	int			 exited;
	int			 dead;		/* killed: acts no more */
	int			 delivered;
	int			 busy;		/* in its done_cb */
	long long		 t_issue;
	long long		 timeout_ms;
	enum answer_outcome	 how;
	char			*name;
	pid_t			 pid;
	int			 status;
	int			 timed_out;
	char			*out;
	size_t			 outlen;
	char			*err;
	size_t			 errlen;
	int			 errfile;	/* job_run_to(): stderr's file */
	long long		 t_told;	/* start: its VM's id known as of */
	char			*stale;		/* status: when it began */
	size_t			 stalelen;
	unsigned int		 stopped;	/* status: VMs it saw stopped */
	long long		 t_snap;	/* and when */
	unsigned int		 stale_stopped;
	int			 app_user;	/* its session, -1 none */
	struct event		 ev_act;
	struct event		 ev_exit;
	struct event		 ev_limit;
	job_line_cb		 linecb;
	job_done_cb		 donecb;
	void			*arg;
};

static LIST_HEAD(, job)	 jobs = LIST_HEAD_INITIALIZER(jobs);
static pid_t		 job_pids = 20000;
static int		 job_crashing;	/* cancels orphan, not kill */
static int		 job_draining;	/* apps exit at once */

static void	 job_act(struct job *);
static int	 job_busy_act(struct job *);
static unsigned int job_stopped_now(struct job *);
static void	 job_act_cb(int, short, void *);
static void	 job_exit_cb(int, short, void *);
static void	 job_limit_cb(int, short, void *);
static void	 job_release(struct job *);

static const char *const job_kinds[] = {
	[PROC_STATUS] = "status",
	[PROC_START] = "start",
	[PROC_STOP] = "stop",
	[PROC_KILL] = "stop -f",
	[PROC_APP] = "app",
	[PROC_PAUSE] = "pause",
	[PROC_UNPAUSE] = "unpause",
	[PROC_BUSY] = "check"
};

static void
job_after(struct event *ev, long long ms)
{
	struct timeval	 tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

static void
job_describe_sim(struct job *job, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s%s%s (pid %ld, gen %d)", job->command ?
	    "command" : job->kind == PROC_APP || job->kind == PROC_BUSY ?
	    "ssh" : "vmctl",
	    job_kinds[job->kind], job->vm != NULL ? " " : "",
	    job->vm != NULL ? world_name(job->vm) : "", (long)job->pid,
	    job->gen);
}

/* What argv runs, as the program would see it. */
static int
job_classify(struct job *job, char *const *argv, char *const *env)
{
	const char	*action = NULL, *name = NULL;
	size_t		 i, n;

	for (n = 0; argv[n] != NULL; n++)
		;
	if (n >= 5 && strcmp(argv[0], BACKEND_SHELL) == 0 &&
	    strcmp(argv[3], "vmlaunch-backend") == 0) {
		job->command = 1;
		name = argv[4];
		for (i = 0; env != NULL && env[i] != NULL; i++)
			if (strncmp(env[i], "VMLAUNCH_ACTION=", 16) == 0)
				action = env[i] + 16;
		if (action == NULL)
			return (-1);
		if (strcmp(action, "status") == 0)
			job->kind = PROC_STATUS;
		else if (strcmp(action, "start") == 0)
			job->kind = PROC_START;
		else if (strcmp(action, "stop") == 0)
			job->kind = PROC_STOP;
		else if (strcmp(action, "kill") == 0)
			job->kind = PROC_KILL;
		else if (strcmp(action, "pause") == 0)
			job->kind = PROC_PAUSE;
		else if (strcmp(action, "unpause") == 0)
			job->kind = PROC_UNPAUSE;
		else
			return (-1);
	} else if (n >= 2 && strcmp(argv[0], "vmctl") == 0) {
		if (strcmp(argv[1], "status") == 0 && n == 2)
			job->kind = PROC_STATUS;
		else if (strcmp(argv[1], "start") == 0 && n == 3) {
			job->kind = PROC_START;
			name = argv[2];
		} else if (strcmp(argv[1], "stop") == 0 && n == 3) {
			job->kind = PROC_STOP;
			name = argv[2];
		} else if (strcmp(argv[1], "stop") == 0 && n == 4 &&
		    strcmp(argv[2], "-f") == 0) {
			job->kind = PROC_KILL;
			name = argv[3];
		} else if ((strcmp(argv[1], "pause") == 0 ||
		    strcmp(argv[1], "unpause") == 0) && n == 3) {
			job->kind = argv[1][0] == 'p' ? PROC_PAUSE :
			    PROC_UNPAUSE;
			name = argv[2];
		} else
			return (-1);
	} else if (n == 7 && strcmp(argv[0], "ssh") == 0) {
		job->kind = PROC_APP;
		name = argv[5];
	} else if (n == 6 && strcmp(argv[0], "ssh") == 0 &&
	    strcmp(argv[1], "-T") == 0) {
		/* The idle check: ssh -T -o BatchMode=yes HOST COMMAND. */
		job->kind = PROC_BUSY;
		name = argv[4];
	} else
		return (-1);
	if (name != NULL && (job->vm = world_find(name)) == NULL)
		return (-1);
	return (0);
}

static uint64_t
job_rand(struct job *job, uint64_t what)
{
	return (sim_hash(sim_current()->seed ^ (uint64_t)job->t_issue,
	    ((uint64_t)job->kind << 32) ^ (job->vm != NULL ?
	    sim_hash_str(world_name(job->vm)) : 0) ^ what));
}

static struct job *
job_begin(char *const *argv, char *const *env, long long timeout_ms,
    int errfile, job_line_cb linecb, job_done_cb donecb, void *arg)
{
	struct job	*job;
	char		 what[128];
	long long	 lat;

	if ((job = calloc(1, sizeof(*job))) == NULL)
		fatal("job");
	job->errfile = errfile;
	if (job_classify(job, argv, env) == -1)
		fatalx("job_run: %s: not a program the simulation knows",
		    argv[0]);
	if ((job->name = strdup(argv[0])) == NULL)
		fatal("job");
	job->gen = harness_gen();
	job->attached = 1;
	job->t_issue = clock_now();
	job->timeout_ms = timeout_ms;
	job->pid = ++job_pids;
	job->linecb = linecb;
	job->donecb = donecb;
	job->arg = arg;
	job->app_user = -1;
	evtimer_set(&job->ev_act, job_act_cb, job);
	clock_harness(&job->ev_act);
	evtimer_set(&job->ev_exit, job_exit_cb, job);
	clock_harness(&job->ev_exit);
	evtimer_set(&job->ev_limit, job_limit_cb, job);
	clock_harness(&job->ev_limit);
	job_describe_sim(job, what, sizeof(what));
	log_sim("job: %s begins", what);
	if (job->kind == PROC_START) {
		job->t_told = world_t_told(job->vm);
		check_start_issued(job->vm);
		world_start_begins(job->vm);
	}
	if (job->kind == PROC_STOP || job->kind == PROC_KILL)
		check_stop_issued(job->vm, job->kind == PROC_KILL);
	if (job->kind == PROC_PAUSE)
		check_pause_issued(job->vm);
	if (job->kind == PROC_UNPAUSE)
		world_unpause_begins(job->vm);
	if (job->kind == PROC_BUSY)
		check_busy_begins(job->vm);
	LIST_INSERT_HEAD(&jobs, job, entry);

	if (job->kind == PROC_APP) {
		if (job_draining) {
			/* The users have gone home: it exits at once. */
			job->status = W_EXITCODE(1, 0);
			job_after(&job->ev_exit, APP_SESSION_MS);
		} else
			job_after(&job->ev_act, APP_SESSION_MS);
		return (job);
	}
	if (job->kind == PROC_STATUS && !job->command) {
		world_status(-1, 0, clock_now(), 0, &job->stale,
		    &job->stalelen);
		job->stale_stopped = job_stopped_now(job);
	}
	if (timeout_ms > 0)
		job_after(&job->ev_limit, timeout_ms);
	/* The idle check asks the guest, not vmd. */
	if (world_faulty() && job->kind != PROC_BUSY) {
		job->faulty = 1;
		return (job);
	}
	lat = WORLD_LATENCY_MAX;
	if (timeout_ms > 0 && lat > timeout_ms / 2)
		lat = timeout_ms / 2;
	job->how = OUT_OK;
	job_after(&job->ev_act, job_rand(job, 1) % (lat / 2 + 1));
	job_after(&job->ev_exit, lat / 2 + job_rand(job, 2) % (lat / 2 + 1));
	return (job);
}

struct job *
job_run(char *const *argv, char *const *env, long long timeout_ms,
    job_line_cb linecb, job_done_cb donecb, void *arg)
{
	return (job_begin(argv, env, timeout_ms, -1, linecb, donecb, arg));
}

/*
 * Its stderr to a file: what it says when it exits reaches the file
 * whether or not its supervisor still listens (a successor reads it).
 */
struct job *
job_run_to(char *const *argv, char *const *env, long long timeout_ms,
    int errfd, job_done_cb donecb, void *arg)
{
	return (job_begin(argv, env, timeout_ms, errfd, NULL, donecb, arg));
}

static void
job_set_output(char **p, size_t *len, const char *s, size_t n)
{
	free(*p);
	if ((*p = malloc(n + 1)) == NULL)
		fatal("job");
	memcpy(*p, s, n);
	(*p)[n] = '\0';
	*len = n;
}

/* The VMs this status shows stopped (or does not list), now. */
static unsigned int
job_stopped_now(struct job *job)
{
	unsigned int	 m = 0;
	int		 i;

	for (i = 0; i < world_nvms(); i++) {
		if (job->vm != NULL ? job->vm != world_vm(i) :
		    world_command(world_vm(i)))
			continue;
		if (world_state(world_vm(i)) == W_STOPPED)
			m |= 1U << i;
	}
	return (m);
}

/*
 * A start cancelled or orphaned leaves its record to state.c (of this
 * supervisor's successor), which believes it may act until its time
 * limit and STATE_START_GRACE have passed since it was written.
 */
static long long
job_decided(struct job *job)
{
	return (job->t_issue + job->timeout_ms + SIM_START_GRACE);
}

/* The command does what it does to the world. */
static void
job_act(struct job *job)
{
	char		 msg[512], *text;
	size_t		 len;
	int		 rc = 0, odd;

	if (job->acted || job->never || job->dead || job->kind == PROC_APP)
		return;
	job->acted = 1;
	job->t_act = clock_now();
	switch (job->kind) {
	case PROC_STATUS:
		job->t_snap = clock_now();
		job->stopped = job_stopped_now(job);
		if (job->command) {
			world_command_status(job->vm, msg, sizeof(msg));
			job_set_output(&job->out, &job->outlen, msg,
			    strlen(msg));
			break;
		}
		if (job->how == OUT_STALE) {
			job_set_output(&job->out, &job->outlen, job->stale,
			    job->stalelen);
			job->t_snap = job->t_issue;
			job->stopped = job->stale_stopped;
			break;
		}
		odd = job->how == OUT_ODD ? (int)(job_rand(job, 3) %
		    world_nvms()) : -1;
		world_status(odd, job_rand(job, 4) % 10 == 0, clock_now(),
		    job_rand(job, 5), &text, &len);
		free(job->out);
		job->out = text;
		job->outlen = len;
		break;
	case PROC_START:
		rc = world_start(job->vm, BY_VMLAUNCH, msg, sizeof(msg));
		job_set_output(&job->err, &job->errlen, msg, strlen(msg));
		/* Recorded with an id vmd has dealt again since? */
		if (rc == 0 && !job->command && world_dealt_since(job->t_told))
			world_boot_untold(job->vm, 1);
		break;
	case PROC_STOP:
	case PROC_KILL:
		rc = world_stop(job->vm, job->kind == PROC_KILL, msg,
		    sizeof(msg));
		job_set_output(&job->err, &job->errlen, msg, strlen(msg));
		break;
	case PROC_PAUSE:
	case PROC_UNPAUSE:
		rc = world_pause(job->vm, job->kind == PROC_PAUSE, msg,
		    sizeof(msg));
		job_set_output(&job->err, &job->errlen, msg, strlen(msg));
		break;
	case PROC_BUSY:
		rc = job_busy_act(job);
		break;
	default:
		break;
	}
	job->status = W_EXITCODE(rc, 0);
}

/*
 * The idle check's ssh: through vmlaunch to the guest's sshd (refused:
 * 255; a guest that says nothing, paused or hung: it hangs), then the
 * command, which finds what the last EV_BUSY said.
 */
static int
job_busy_act(struct job *job)
{
	static const char refused[] = "kex_exchange_identification: "
	    "Connection closed by remote host\n";
	static const char notfound[] = "sh: busy-check: not found\n";
	int	 conn;

	switch (world_guest_answers(job->vm, &conn)) {
	case -1:
		job_set_output(&job->err, &job->errlen, refused,
		    sizeof(refused) - 1);
		return (255);
	case 0:
		job->hangs = 1;
		return (0);
	default:
		break;
	}
	switch (world_busy_mode(job->vm)) {
	case BUSY_BUSY:
		job_set_output(&job->out, &job->outlen, "make\n", 5);
		return (0);
	case BUSY_FAIL:
		job_set_output(&job->err, &job->errlen, notfound,
		    sizeof(notfound) - 1);
		return (127);
	case BUSY_HANG:
		job->hangs = 1;
		return (0);
	default:
		return (1);
	}
}

static void
job_act_cb(int fd, short ev, void *arg)
{
	struct job	*job = arg;

	if (job->kind == PROC_APP) {
		/* Its ssh comes back through vmlaunch: a session. */
		job->app_user = users_app_open(job->vm, job);
		return;
	}
	job_act(job);
}

/*
 * When the latest status that reached the supervisor was taken, of those
 * that showed each VM stopped: harness.c passes it on to the world when
 * the answer reaches vm.c or state.c (not only vmlaunch -s).
 */
static long long	 job_snaps[SIM_VMS_MAX];	/* showed it stopped */
static long long	 job_snaps_any[SIM_VMS_MAX];	/* showed it at all */

static void
job_seen(struct job *job)
{
	int	 i;

	for (i = 0; i < world_nvms(); i++) {
		if (job->vm != NULL ? job->vm != world_vm(i) :
		    world_command(world_vm(i)))
			continue;
		job_snaps_any[i] = job->t_snap;
		if (job->stopped & (1U << i))
			job_snaps[i] = job->t_snap;
	}
}

long long
job_sim_snap_stopped(struct wvm *w)
{
	return (job_snaps[world_index(w)]);
}

long long
job_sim_snap(struct wvm *w)
{
	return (job_snaps_any[world_index(w)]);
}

/* The process is gone: tell its supervisor, if it still listens. */
static void
job_end(struct job *job)
{
	char	 site[128], what[128];

	if (job->exited)
		return;
	job->exited = 1;
	if (job->errfile != -1 && !job->dead && !job->timed_out &&
	    job->errlen > 0 && write(job->errfile, job->err, job->errlen) !=
	    (ssize_t)job->errlen)
		fatal("job: its answer's file");
	/* Heard by its supervisor, or its file says the id. */
	if (job->kind == PROC_START && job->acted && (job->attached ||
	    (job->errfile != -1 && !job->dead && !job->timed_out &&
	    job->status == 0 && job->how != OUT_GARBAGE)))
		world_boot_untold(job->vm, 0);
	evtimer_del(&job->ev_act);
	evtimer_del(&job->ev_exit);
	evtimer_del(&job->ev_limit);
	job_describe_sim(job, what, sizeof(what));
	log_sim("job: %s ends (status %d%s)%s", what, job->status,
	    job->timed_out ? ", timed out" : "", job->attached ? "" :
	    ", nobody listens");
	if (job->kind == PROC_APP) {
		users_app_exited(job->vm);
		if (job->app_user != -1)
			users_app_ended(job->app_user);
	}
	if (!job->attached) {
		job_release(job);
		return;
	}
	if (owner_freed(job->arg, site, sizeof(site))) {
		check_fail(INV_OWNER, "%s: its callback would reach a freed "
		    "owner (%s)", what, site);
		return;
	}
	if (job->kind == PROC_STATUS && job->status == 0 && !job->timed_out)
		job_seen(job);
	if (job->kind == PROC_BUSY)
		check_busy_verdict(job->vm, job->status == 0 &&
		    !job->timed_out);
	if (job->kind == PROC_START && !job->timed_out) {
		world_start_heard(job->vm);
		/* vmctl's "started vm N": the id, unless it said nonsense. */
		if (job->status == 0 && job->acted && !job->command &&
		    job->how != OUT_GARBAGE)
			world_id_told(job->vm, job->t_act);
	}
	job->attached = 0;
	job->delivered = 1;
	job->busy = 1;
	job->donecb(job, job->arg);
	job->busy = 0;
	job_release(job);
}

static void
job_exit_cb(int fd, short ev, void *arg)
{
	struct job	*job = arg;

	job_act(job);
	if (job->hangs)
		return;		/* its time limit kills it */
	job_end(job);
}

/* The time limit: killed, and it does nothing afterwards. */
static void
job_limit_cb(int fd, short ev, void *arg)
{
	struct job	*job = arg;

	if (!job->attached) {
		/* An orphan: its own limit, which vmctl has by promise. */
		if (!(sim_current()->promises & PROMISE_ORPHAN) &&
		    job->kind == PROC_START && !job->acted) {
			log_sim("job: an orphaned start acts late (promise "
			    "broken)");
			job_after(&job->ev_act, LATE_START_MS);
			return;
		}
		job->dead = 1;
		job->status = SIGKILL;
		job_end(job);
		return;
	}
	job->timed_out = 1;
	job->status = SIGTERM;	/* WIFSIGNALED */
	job->dead = 1;
	if (job->kind == PROC_START && !job->acted)
		world_start_orphaned(job->vm, clock_now(), 0);
	if (!(sim_current()->promises & PROMISE_LATE_START) &&
	    job->kind == PROC_START && !job->acted) {
		/* vmd got the request: it starts the VM after all. */
		job->dead = 0;
		job_after(&job->ev_act, LATE_START_MS);
		log_sim("job: a killed start will act late (promise broken)");
	}
	job_end(job);
}

/* Freed once nobody waits for it and it can do nothing more. */
static void
job_release(struct job *job)
{
	if (job->attached || job->busy)
		return;
	if (!job->exited && !job->dead)
		return;
	if (job->kind == PROC_START && !job->acted && !job->dead &&
	    evtimer_pending(&job->ev_act, NULL))
		return;
	evtimer_del(&job->ev_act);
	evtimer_del(&job->ev_exit);
	evtimer_del(&job->ev_limit);
	LIST_REMOVE(job, entry);
	if (job->errfile != -1)
		close(job->errfile);
	free(job->name);
	free(job->out);
	free(job->err);
	free(job->stale);
	free(job);
}

void
job_cancel(struct job *job)
{
	char	 what[128];

	if (job == NULL || !job->attached)
		return;
	job->attached = 0;
	job_describe_sim(job, what, sizeof(what));
	if (job_crashing) {
		/* An app runs on too: its session resumes. */
		log_sim("job: %s orphaned", what);
		if (job->kind == PROC_START && !job->exited)
			world_start_orphaned(job->vm, job_decided(job), 1);
		return;
	}
	log_sim("job: %s cancelled: killed", what);
	if (job->kind == PROC_APP) {
		/* It dies; its session ends from the loop, as EOF would. */
		job->status = SIGKILL;
		evtimer_del(&job->ev_act);
		job_after(&job->ev_exit, APP_EXIT_MS);
		return;
	}
	if (!job->exited) {
		job->dead = 1;
		job->status = SIGKILL;
		/* Acted or not: its record says only that it began. */
		if (job->kind == PROC_START)
			world_start_orphaned(job->vm, job_decided(job), 1);
		if (!(sim_current()->promises & PROMISE_LATE_START) &&
		    job->kind == PROC_START && !job->acted) {
			job->dead = 0;
			job_after(&job->ev_act, LATE_START_MS);
			evtimer_del(&job->ev_exit);
			evtimer_del(&job->ev_limit);
			return;
		}
		job_end(job);
		return;
	}
	job_release(job);
}

void
job_signal(struct job *job, int sig)
{
	if (job->exited || job->dead)
		return;
	if (job->kind != PROC_APP)
		fatalx("job_signal: only apps are signalled");
	job->status = sig;
	evtimer_del(&job->ev_act);
	job_after(&job->ev_exit, APP_EXIT_MS);
}

void
job_reap(void)
{
}

int
job_count(void)
{
	struct job	*job;
	int		 n = 0;

	LIST_FOREACH(job, &jobs, entry)
		if (job->attached)
			n++;
	return (n);
}

/* At the supervisor's exit: every child dies, none acts afterwards. */
void
job_kill_all(int sig)
{
	struct job	*job;

	LIST_FOREACH(job, &jobs, entry) {
		if (!job->attached || job->exited)
			continue;
		job->dead = 1;
		job->status = sig;
		/* Acted or not: its record says only that it began. */
		if (job->kind == PROC_START)
			world_start_orphaned(job->vm, job_decided(job), 1);
		evtimer_del(&job->ev_act);
		evtimer_del(&job->ev_exit);
		evtimer_del(&job->ev_limit);
	}
}

pid_t
job_pid(struct job *job)
{
	return (job->pid);
}

const char *
job_name(struct job *job)
{
	return (job->name);
}

int
job_status(struct job *job)
{
	return (job->status);
}

int
job_timed_out(struct job *job)
{
	return (job->timed_out);
}

int
job_exec_errno(struct job *job)
{
	return (0);
}

long long
job_timeout(struct job *job)
{
	return (job->timeout_ms);
}

const char *
job_output(struct job *job, int which, size_t *len)
{
	if (which == 1) {
		*len = job->outlen;
		return (job->out != NULL ? job->out : "");
	}
	*len = job->errlen;
	return (job->err != NULL ? job->err : "");
}

const char *
job_describe(struct job *job, char *buf, size_t len)
{
	if (WIFSIGNALED(job->status))
		snprintf(buf, len, "killed by signal %d",
		    WTERMSIG(job->status));
	else
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(job->status));
	return (buf);
}

/* Not simulated: only the synchronous status (vmlaunch -s alone). */
pid_t
job_spawn(char *const *argv, char *const *envp, int *outfd, int *errfd,
    int *exec_errno)
{
	fatalx("job_spawn: not simulated");
}

/* A command line split on blanks, then the extra arguments. */
char **
job_argv(const char *cmd, const char *const *extra)
{
	char		**argv = NULL, *copy, *p, *w;
	size_t		 n = 0, i;

	if ((copy = strdup(cmd)) == NULL)
		return (NULL);
	for (p = copy; (w = strsep(&p, " \t")) != NULL; ) {
		if (*w == '\0')
			continue;
		if ((argv = reallocarray(argv, n + 2, sizeof(*argv))) == NULL ||
		    (argv[n++] = strdup(w)) == NULL)
			fatal("job_argv");
	}
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		if ((argv = reallocarray(argv, n + 2, sizeof(*argv))) == NULL ||
		    (argv[n++] = strdup(extra[i])) == NULL)
			fatal("job_argv");
	free(copy);
	if (argv == NULL)
		return (NULL);
	argv[n] = NULL;
	return (argv);
}

void
job_argv_free(char **argv)
{
	size_t	 i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* Only what is set: the simulated programs see nothing else. */
char **
job_env(char *const *set)
{
	char	**env;
	size_t	 n, i;

	for (n = 0; set != NULL && set[n] != NULL; n++)
		;
	if ((env = calloc(n + 1, sizeof(*env))) == NULL)
		return (NULL);
	for (i = 0; i < n; i++)
		if ((env[i] = strdup(set[i])) == NULL)
			fatal("job_env");
	return (env);
}

/*
 * The harness's side.
 */

/* A supervisor is killed: its children go on, nobody hears them. */
void
job_sim_crash(int on)
{
	job_crashing = on;
}

/* The run's end: apps started from now on exit at once. */
void
job_sim_drain(void)
{
	job_draining = 1;
}

/* An EV_ANSWER: the oldest command of that kind that waits for one. */
int
job_sim_answer(enum answer_cmd cmd, int vm, enum answer_outcome how)
{
	static const enum proc_kind kinds[] = {
		[ANSWER_STATUS] = PROC_STATUS,
		[ANSWER_START] = PROC_START,
		[ANSWER_STOP] = PROC_STOP,
		[ANSWER_KILL] = PROC_KILL,
		[ANSWER_PAUSE] = PROC_PAUSE,
		[ANSWER_UNPAUSE] = PROC_UNPAUSE
	};
	struct job	*job, *oldest = NULL;
	char		 what[128];

	LIST_FOREACH(job, &jobs, entry) {
		if (!job->faulty || job->exited || job->dead || job->answered ||
		    job->kind != kinds[cmd])
			continue;
		if (vm == -1 ? job->vm != NULL : (job->vm == NULL ||
		    world_index(job->vm) != vm))
			continue;
		if (oldest == NULL || job->t_issue <= oldest->t_issue)
			oldest = job;
	}
	if ((job = oldest) == NULL)
		return (0);
	job_describe_sim(job, what, sizeof(what));
	log_sim("job: %s answers: %d", what, how);
	job->how = how;
	job->answered = 1;
	switch (how) {
	case OUT_OK:
	case OUT_STALE:
	case OUT_ODD:
		job_act(job);
		job_end(job);
		break;
	case OUT_FAIL:
		job->never = 1;
		job_set_output(&job->err, &job->errlen, "vmctl: connect: "
		    "/var/run/vmd.sock: Connection refused\n", 50);
		job->status = W_EXITCODE(1, 0);
		job_end(job);
		break;
	case OUT_GARBAGE:
		job_act(job);
		if (job->kind == PROC_STATUS)
			job_set_output(&job->out, &job->outlen,
			    "vmctl: imsg_read: \x01\x02 lost\n", 26);
		else
			job_set_output(&job->err, &job->errlen,
			    "vmctl: ??? \x7f\n", 13);
		job_end(job);
		break;
	case OUT_HANG:
		job_act(job);
		break;
	case OUT_LOST:
		job->never = 1;
		break;
	default:
		break;
	}
	return (1);
}

/*
 * Starts of w that have not acted and still may (truly: may_act), or
 * that may as far as vmlaunch can tell.
 */
int
job_sim_starts_pending(struct wvm *w, long long *t_issue, int may_act)
{
	struct job	*job;
	int		 n = 0;

	LIST_FOREACH(job, &jobs, entry) {
		if (job->kind != PROC_START || job->vm != w || job->acted ||
		    (may_act && job->never) ||
		    (job->dead && !evtimer_pending(&job->ev_act, NULL)) ||
		    (job->faulty && job->exited))
			continue;
		if (n++ == 0)
			*t_issue = job->t_issue;
	}
	return (n);
}

/* Apps whose ssh runs on w. */
int
job_sim_apps(struct wvm *w)
{
	struct job	*job;
	int		 n = 0;

	LIST_FOREACH(job, &jobs, entry)
		if (job->kind == PROC_APP && job->vm == w && !job->exited)
			n++;
	return (n);
}

/* EV_APPEXIT: the oldest app on w exits by itself. */
int
job_sim_app_exit(struct wvm *w)
{
	struct job	*job, *oldest = NULL;

	LIST_FOREACH(job, &jobs, entry)
		if (job->kind == PROC_APP && job->vm == w && !job->exited &&
		    (oldest == NULL || job->t_issue <= oldest->t_issue))
			oldest = job;
	if (oldest == NULL)
		return (0);
	oldest->status = W_EXITCODE(0, 0);
	job_after(&oldest->ev_exit, 0);
	return (1);
}

/* An app's session is over: its ssh exits. */
void
job_sim_app_session_gone(struct job *job)
{
	if (job->exited || evtimer_pending(&job->ev_exit, NULL))
		return;
	job->app_user = -1;
	job->status = W_EXITCODE(255, 0);
	job_after(&job->ev_exit, APP_EXIT_MS);
}

/* Jobs whose callback would reach p. */
int
job_sim_attached_to(const void *p, char *what, size_t len)
{
	struct job	*job;
	int		 n = 0;

	LIST_FOREACH(job, &jobs, entry)
		if (job->attached && job->arg == p && n++ == 0)
			job_describe_sim(job, what, len);
	return (n);
}

/* Jobs someone still waits for (none once the supervisor is gone). */
int
job_sim_attached(char *what, size_t len)
{
	struct job	*job;
	int		 n = 0;

	LIST_FOREACH(job, &jobs, entry)
		if (job->attached && n++ == 0)
			job_describe_sim(job, what, len);
	return (n);
}

/* Commands that wait for an EV_ANSWER, for the generator. */
int
job_sim_pending_faulty(int *cmd, int *vm, int pick)
{
	struct job	*job;
	int		 n = 0;

	LIST_FOREACH(job, &jobs, entry) {
		if (!job->faulty || job->exited || job->dead || job->answered ||
		    job->kind == PROC_APP || job->kind == PROC_BUSY)
			continue;
		if (n++ == pick) {
			*cmd = job->kind == PROC_STATUS ? ANSWER_STATUS :
			    job->kind == PROC_START ? ANSWER_START :
			    job->kind == PROC_STOP ? ANSWER_STOP :
			    job->kind == PROC_KILL ? ANSWER_KILL :
			    job->kind == PROC_PAUSE ? ANSWER_PAUSE :
			    ANSWER_UNPAUSE;
			*vm = job->vm != NULL ? world_index(job->vm) : -1;
		}
	}
	return (n);
}

/* The run is over: every process goes. */
void
job_sim_reset(void)
{
	struct job	*job;

	while ((job = LIST_FIRST(&jobs)) != NULL) {
		evtimer_del(&job->ev_act);
		evtimer_del(&job->ev_exit);
		evtimer_del(&job->ev_limit);
		LIST_REMOVE(job, entry);
		free(job->name);
		free(job->out);
		free(job->err);
		free(job->stale);
		free(job);
	}
	job_crashing = 0;
	job_draining = 0;
	memset(job_snaps, 0, sizeof(job_snaps));
	memset(job_snaps_any, 0, sizeof(job_snaps_any));
}
