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
 * The supervisor's lives, as supervisor.c lives them, with the same
 * calls in the same order: a start (configure everyone, read the state
 * file, adopt), SIGHUP (parse, configure everyone, free the old
 * config), SIGTERM (peers told, vm_shutdown, exit when vm_busy() says
 * so), lingering and exiting when nothing is left to watch, and a kill
 * -9, after which the next one starts from the state file in a
 * temporary directory.  A kill is simulated by freeing what the dead
 * process held without running any of its code: vm_free_all() and the
 * other shutdown functions, with the job layer turning cancels into
 * orphans (its children live on).
 *
 * Also here: supervisor_check_exit() and supervisor_shutting_down() for
 * vm.c and autostart.c, and the wrappers (owner.h) through which vm.c,
 * state.c and autostart.c reach the backend, so that each request's
 * owner is known.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <event.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

#define LINGER_FIRST		10000	/* as supervisor.c */
#define LINGER			2000

struct wrap {
	LIST_ENTRY(wrap)	 entry;
	struct backend_req	*req;
	backend_cb		 cb;
	void			*arg;
	int			 status;
	int			 by_vm;		/* vm.c asked */
	int			 by_state;	/* state.c asked */
	char			 name[VM_NAME_MAX];	/* "": every VM */
	char			 what[96];
};

static struct {
	const struct sim_run	*run;
	char			 dir[256];
	char			 files[SIM_CONFS_MAX][PATH_MAX];
	int			 conf_idx;
	struct config		*conf;
	int			 gen;
	int			 alive;
	int			 down;
	int			 exiting;
	int			 lingered;
	long long		 t_start;
	long long		 t_reload;
	long long		 idle[SIM_VMS_MAX];	/* what vm.c applies */
	int			 lost[SIM_VMS_MAX];	/* commands unknown */
	int			 lost_boot[SIM_VMS_MAX];	/* ... in that boot */
	struct event		 ev_linger;
	struct event		 ev_restart;
} h;

static LIST_HEAD(, wrap) wraps = LIST_HEAD_INITIALIZER(wraps);

static void	 harness_linger(int, short, void *);
static void	 harness_restart(int, short, void *);
static void	 harness_exit(void);

/* A directory for the state file and the configs, one per run. */
void
harness_reset(const struct sim_run *run)
{
	const char	*tmp;
	FILE		*fp;
	int		 i;

	memset(&h, 0, sizeof(h));
	h.run = run;
	if ((tmp = getenv("SIM_TMPDIR")) == NULL)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(h.dir, sizeof(h.dir), "%s/vmlaunch-sim.XXXXXX", tmp);
	if (mkdtemp(h.dir) == NULL)
		fatal("mkdtemp %s", h.dir);
	for (i = 0; i < run->nconfs; i++) {
		snprintf(h.files[i], sizeof(h.files[i]), "%s/conf%d", h.dir,
		    i);
		if ((fp = fopen(h.files[i], "w")) == NULL)
			fatal("%s", h.files[i]);
		gen_write_config(fp, run, i, h.dir);
		fclose(fp);
	}
	evtimer_set(&h.ev_linger, harness_linger, NULL);
	clock_harness(&h.ev_linger);
	evtimer_set(&h.ev_restart, harness_restart, NULL);
	clock_harness(&h.ev_restart);
}

/* The run is over: its directory goes. */
void
harness_cleanup(void)
{
	char	 path[PATH_MAX];
	int	 i;

	for (i = 0; i < h.run->nconfs; i++)
		unlink(h.files[i]);
	snprintf(path, sizeof(path), "%s/state", h.dir);
	unlink(path);
	if (rmdir(h.dir) == -1)
		log_sim("rmdir %s: %s", h.dir, strerror(errno));
	for (i = 0; i < h.run->nconfs; i++)
		h.files[i][0] = '\0';
}

int
harness_alive(void)
{
	return (h.alive);
}

int
harness_down(void)
{
	return (h.alive && h.down);
}

int
harness_gen(void)
{
	return (h.gen);
}

long long
harness_t_start(void)
{
	return (h.t_start);
}

long long
harness_t_reload(void)
{
	return (h.t_reload);
}

int
harness_conf(void)
{
	return (h.conf_idx);
}

struct config *
harness_config(void)
{
	return (h.conf);
}

const struct sim_conf *
harness_sim_conf(int i)
{
	return (&h.run->confs[i]);
}

/*
 * The idle timeout vm.c applies to each VM: its block's, the last one it
 * had if a reload removed it, the default if it was adopted without one.
 */
static void
harness_policies(int start)
{
	const struct sim_conf	*c = &h.run->confs[h.conf_idx];
	int			 i, vmd = 0;

	for (i = 0; i < h.run->nvms; i++)
		if ((c->vms & (1U << i)) && !h.run->vms[i].command)
			vmd = 1;
	for (i = 0; i < h.run->nvms; i++) {
		if (c->vms & (1U << i)) {
			h.idle[i] = c->idle;
			/*
			 * A boot whose record was dropped meanwhile stays
			 * unknown when its block comes back.
			 */
			if (world_boot(world_vm(i)) != h.lost_boot[i] ||
			    world_state(world_vm(i)) == W_STOPPED)
				h.lost[i] = 0;
		} else if (start) {
			h.idle[i] = DEFAULT_IDLE_TIMEOUT;
			/*
			 * Its commands were in a config no process has now; or
			 * no VM configured uses vmd, so its status of all
			 * (adoption's) does not ask vmctl.
			 */
			h.lost[i] = h.run->vms[i].command || !vmd;
			h.lost_boot[i] = world_boot(world_vm(i));
		}
	}
}

/* A command VM whose commands this supervisor cannot know. */
int
harness_commands_lost(int vm)
{
	return (h.lost[vm]);
}

long long
harness_idle(int vm)
{
	return (h.idle[vm]);
}

/* Everyone who keeps a pointer to the config gets it (supervisor.c). */
static void
harness_configure(struct config *conf)
{
	h.conf = conf;
	backend_configure(conf);
	vm_configure(conf);
	autostart_configure(conf);
	busy_configure(conf);
	hold_configure(conf);
	state_configure(conf);
}

/* A supervisor starts: supervisor_main() up to its loop. */
void
harness_start(void)
{
	struct config	*conf;

	if ((conf = parse_config(h.files[h.conf_idx])) == NULL)
		fatalx("%s does not parse", h.files[h.conf_idx]);
	h.gen++;
	h.alive = 1;
	h.down = h.exiting = h.lingered = 0;
	h.t_start = clock_now();
	log_sim("supervisor %d starts (config %d)", h.gen, h.conf_idx);
	harness_policies(1);
	harness_configure(conf);
	state_init(conf);
	state_adopt();
	holds_started();
	check_busy_moot_all();
	supervisor_check_exit();
}

/* A client finds no supervisor: it starts one. */
void
harness_ensure(void)
{
	if (!h.alive) {
		evtimer_del(&h.ev_restart);
		harness_start();
	}
}

static void
harness_restart(int fd, short ev, void *arg)
{
	harness_ensure();
}

/* What nobody may still hold once a supervisor is gone. */
static void
harness_leftovers(const char *when)
{
	char	 what[160];

	if (clock_product_timers(what, sizeof(what)) > 0)
		check_fail(INV_OWNER, "%s: %s is still pending", when, what);
	if (job_sim_attached(what, sizeof(what)) > 0)
		check_fail(INV_OWNER, "%s: %s is still waited for", when, what);
	if (probe_sim_live(what, sizeof(what)) > 0)
		check_fail(INV_OWNER, "%s: %s is still running", when, what);
	if (harness_wraps(what, sizeof(what)) > 0)
		check_fail(INV_OWNER, "%s: %s is still pending", when, what);
	if (backend_status_running() > 0)
		check_fail(INV_OWNER, "%s: a status batch is still running",
		    when);
}

/* kill -9: nothing of its code runs; its children live on. */
void
harness_crash(long long delay)
{
	struct timeval	 tv;

	if (!h.alive)
		return;
	log_sim("supervisor %d killed; the next one in %lld ms", h.gen,
	    delay);
	users_crash(clock_now() + delay);
	job_sim_crash(1);
	users_status_crash();
	hold_free_all();
	session_free_all();
	vm_free_all();
	state_shutdown();
	history_free_all();
	autostart_shutdown();
	backend_shutdown();
	job_sim_crash(0);
	evtimer_del(&h.ev_linger);
	harness_leftovers("after a kill");
	config_free(h.conf);
	h.conf = NULL;
	h.alive = 0;
	world_supervisor_gone();
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	evtimer_add(&h.ev_restart, &tv);
}

/* SIGTERM (supervisor_shutdown). */
void
harness_term(void)
{
	if (!h.alive)
		return;
	if (h.down++) {
		log_info("already shutting down");
		return;
	}
	log_info("SIGTERM: stopping the vms vmlaunch started, then exiting");
	evtimer_del(&h.ev_linger);
	users_shutdown();
	holds_term();
	vm_shutdown();
	hold_shutdown();
	supervisor_check_exit();
}

/* SIGHUP with config i on disk (supervisor_reload). */
void
harness_reload(int i)
{
	struct config	*nconf, *oconf = h.conf;

	h.conf_idx = i;
	if (!h.alive)
		return;		/* the next one reads it */
	log_info("SIGHUP: reloading %s", h.files[i]);
	if ((nconf = parse_config(h.files[i])) == NULL)
		fatalx("%s does not parse", h.files[i]);
	harness_policies(0);
	harness_configure(nconf);
	config_free(oconf);
	h.t_reload = clock_now();
	check_busy_moot_all();
	log_info("reload: configuration from %s in effect", nconf->file);
	users_reload();
	supervisor_check_exit();
}

/* The loop has returned: supervisor_main()'s end. */
static void
harness_exit(void)
{
	log_sim("supervisor %d exits", h.gen);
	evtimer_del(&h.ev_linger);
	job_kill_all(SIGKILL);
	users_exit();
	hold_free_all();
	session_free_all();
	vm_free_all();
	state_shutdown();
	history_free_all();
	address_shutdown();
	autostart_shutdown();
	backend_shutdown();
	harness_leftovers("after its exit");
	config_free(h.conf);
	h.conf = NULL;
	h.alive = 0;
	h.exiting = 0;
	world_supervisor_gone();
}

/* event_loopexit() takes effect once the callback returns. */
void
harness_after_event(void)
{
	if (h.alive && h.exiting)
		harness_exit();
}

/* The end of a run: whatever supervisor runs exits. */
void
harness_finish(void)
{
	evtimer_del(&h.ev_restart);
	if (h.alive)
		harness_exit();
}

/*
 * supervisor.c's part for vm.c and autostart.c.
 */

static int
harness_busy(void)
{
	return (users_count_live() > 0 || vm_busy() || state_pending() > 0 ||
	    job_count() > 0);
}

void
supervisor_check_exit(void)
{
	struct timeval	 tv;
	long		 ms;

	if (!h.alive || h.exiting)
		return;
	if (h.down) {
		if (!vm_busy()) {
			log_info("shutdown complete");
			h.exiting = 1;
		}
		return;
	}
	if (harness_busy()) {
		h.lingered = 1;
		evtimer_del(&h.ev_linger);
		return;
	}
	if (evtimer_pending(&h.ev_linger, NULL))
		return;
	ms = h.lingered ? LINGER : LINGER_FIRST;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(&h.ev_linger, &tv);
}

static void
harness_linger(int fd, short ev, void *arg)
{
	if (harness_busy())
		return;
	log_info("nothing left to watch, exiting");
	h.exiting = 1;
}

int
supervisor_shutting_down(void)
{
	return (h.down);
}

void
supervisor_reload_if_changed(void)
{
}

/*
 * The backend as vm.c, state.c and autostart.c see it (owner.h): each
 * request remembered with its owner until it answers or is cancelled.
 */

/* What a status answer tells its owner: these VMs' boots are over. */
static void
wrap_seen(const struct wrap *w, const struct backend_result *res)
{
	const struct vmd_row	*row;
	struct wvm		*v;
	int			 i;

	if (!w->status || !res->ok)
		return;
	for (i = 0; i < world_nvms(); i++) {
		v = world_vm(i);
		if (w->name[0] != '\0') {
			if (strcmp(w->name, world_name(v)) != 0)
				continue;
			row = res->row;
		} else
			row = vmctl_find_row(res->rows, res->nrows,
			    world_name(v));
		/*
		 * What vm.c learns, vm.c knows; state.c's answers decide only
		 * the records it reads.
		 */
		if ((row == NULL || row->state == VMD_STOPPED) &&
		    (w->by_vm || w->by_state))
			world_seen_stopped(v, job_sim_snap_stopped(v),
			    w->by_state, w->by_vm);
		if (w->by_vm && row != NULL && row->has_id)
			world_id_told(v, job_sim_snap(v));
	}
}

static void
wrap_done(const struct backend_result *res, void *arg)
{
	struct wrap	*w = arg;
	backend_cb	 cb = w->cb;
	void		*owner = w->arg;
	char		 site[128];

	LIST_REMOVE(w, entry);
	if (owner_freed(owner, site, sizeof(site))) {
		check_fail(INV_OWNER, "%s: its callback would reach a freed "
		    "owner (%s)", w->what, site);
		free(w);
		return;
	}
	wrap_seen(w, res);
	free(w);
	cb(res, owner);
}

static struct wrap *
wrap_new(const char *what, const char *name, backend_cb cb, void *arg,
    const char *file)
{
	struct wrap	*w;
	const char	*base = strrchr(file, '/');

	base = base != NULL ? base + 1 : file;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("wrap");
	/* vm.c, and what it owns: its boot's and its stop's watches. */
	w->by_vm = strcmp(base, "vm.c") == 0 || strcmp(base, "boot.c") == 0 ||
	    strcmp(base, "halt.c") == 0;
	w->by_state = strcmp(base, "state.c") == 0;
	snprintf(w->what, sizeof(w->what), "a %s request for %s", what,
	    name != NULL ? name : "every vm");
	if (name != NULL)
		(void)strlcpy(w->name, name, sizeof(w->name));
	w->cb = cb;
	w->arg = arg;
	LIST_INSERT_HEAD(&wraps, w, entry);
	return (w);
}

struct backend_req *
wrap_backend_status(const char *name, int flags, backend_cb cb, void *arg,
    const char *file)
{
	struct wrap	*w = wrap_new("status", name, cb, arg, file);

	w->status = 1;
	return (w->req = backend_status(name, flags, wrap_done, w));
}

struct backend_req *
wrap_backend_start(const char *name, int answer, backend_cb cb, void *arg,
    const char *file)
{
	struct wrap	*w = wrap_new("start", name, cb, arg, file);

	return (w->req = backend_start(name, answer, wrap_done, w));
}

struct backend_req *
wrap_backend_stop(const char *name, int force, backend_cb cb, void *arg,
    const char *file)
{
	struct wrap	*w = wrap_new(force ? "forced stop" : "stop", name, cb,
			    arg, file);

	return (w->req = backend_stop(name, force, wrap_done, w));
}

struct backend_req *
wrap_backend_pause(const char *name, int pause, backend_cb cb, void *arg,
    const char *file)
{
	struct wrap	*w = wrap_new(pause ? "pause" : "unpause", name, cb,
			    arg, file);

	return (w->req = backend_pause(name, pause, wrap_done, w));
}

void
wrap_backend_cancel(struct backend_req *req)
{
	struct wrap	*w;

	if (req == NULL)
		return;
	LIST_FOREACH(w, &wraps, entry)
		if (w->req == req)
			break;
	if (w == NULL) {
		check_fail(INV_OWNER, "backend_cancel of a request that "
		    "already answered or was cancelled");
		return;
	}
	LIST_REMOVE(w, entry);
	free(w);
	backend_cancel(req);
}

/* Requests whose callback would reach owner (any, if NULL). */
int
harness_wraps_for(const void *owner, char *what, size_t len)
{
	struct wrap	*w;
	int		 n = 0;

	LIST_FOREACH(w, &wraps, entry)
		if ((owner == NULL || w->arg == owner) && n++ == 0)
			(void)strlcpy(what, w->what, len);
	return (n);
}

int
harness_wraps(char *what, size_t len)
{
	return (harness_wraps_for(NULL, what, len));
}
