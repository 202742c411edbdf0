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
 * Autostart: the apps a vm block names, run in the guest over ssh -X
 * when vmlaunch boots that VM, on the display of the session that booted
 * it.  Each is a child of the supervisor; its output goes to the log, and
 * an app marked `restart` is started again, with a backoff and a limit,
 * while its VM runs.  When the VM stops, its apps end.
 *
 * An app's ssh comes back through vmlaunch (ProxyCommand) as a session
 * of its VM, marked (VMLAUNCH_SESSION=app in its environment) so that it
 * never boots the VM: an app restarted after its VM was stopped by hand
 * fails, rather than booting the VM again.  Apps waiting for a restart
 * count as use of the VM (autostart_pending), and vm.c is told when
 * that changes.  What happens to each app goes into its VM's history.
 *
 * Lifetime: apps belong to this file, listed by their VM; an app owns
 * its job and its restart timer.  vm.c calls autostart_vm_gone() before
 * a VM is freed, which frees its apps.
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
#include <syslog.h>
#include <unistd.h>

#include "vmlaunch.h"

#define APP_BACKOFF_MIN		1	/* s before the first restart */
#define APP_BACKOFF_MAX		60
#define APP_STABLE		60	/* s: a run this long resets backoff */

enum app_state {
	APP_RUNNING,
	APP_RESTARTING,		/* exited, restart timer running */
	APP_EXITED,		/* exited, not restarted */
	APP_STOPPING		/* its VM stops: ended, not restarted */
};

struct app {
	TAILQ_ENTRY(app)	 entry;
	struct vm		*vm;
	char			*command;
	int			 restart;
	int			 restart_max;
	int			 restarts;
	int			 backoff;
	enum app_state		 state;
	struct job		*job;
	struct backend_req	*check;		/* is the VM still running? */
	pid_t			 pid;
	int			 status;	/* last wait status */
	long long		 t_start;
	struct event		 ev_restart;
};

static TAILQ_HEAD(, app) apps = TAILQ_HEAD_INITIALIZER(apps);
static struct config	*autostart_conf;

static void	 app_launch(struct app *);
static void	 app_done(struct job *, void *);
static void	 app_line(struct job *, int, const char *, void *);
static void	 app_restart(int, short, void *);
static void	 app_restart_check(const struct backend_result *, void *);
static void	 app_free(struct app *);

void
autostart_configure(struct config *conf)
{
	autostart_conf = conf;
}

void
autostart_vm_ready(struct vm *vm, struct vmconf *vmc)
{
	struct autostart	*as;
	struct app		*app;
	int			 n = 0;

	/*
	 * Apps of an earlier boot are still listed when the VM stopped
	 * without vmlaunch stopping it (vmctl stop by hand): end them, so
	 * that each autostart runs once per boot.
	 */
	autostart_vm_gone(vm);
	if (vmc == NULL || TAILQ_EMPTY(&vmc->autostarts))
		return;
	TAILQ_FOREACH(as, &vmc->autostarts, entry)
		n++;
	if (*vm_display(vm) == '\0') {
		history_add(vm_name(vm), LOG_INFO, "the session that booted "
		    "it has no DISPLAY; %d autostart app%s skipped", n,
		    n == 1 ? "" : "s");
		return;
	}
	TAILQ_FOREACH(as, &vmc->autostarts, entry) {
		if ((app = calloc(1, sizeof(*app))) == NULL ||
		    (app->command = strdup(as->command)) == NULL)
			fatal("calloc");
		app->vm = vm;
		app->restart = as->restart;
		app->restart_max = as->restart_max;
		app->backoff = APP_BACKOFF_MIN;
		evtimer_set(&app->ev_restart, app_restart, app);
		TAILQ_INSERT_TAIL(&apps, app, entry);
		app_launch(app);
	}
}

static void
app_launch(struct app *app)
{
	struct vm	*vm = app->vm;
	const char	*extra[7];
	char		**argv, **env, *host, *set[4];

	host = config_app_host(autostart_conf, vm_name(vm));
	/*
	 * The command goes to the guest's shell as ssh's remote command;
	 * no shell runs it here.  BatchMode: never wait for a password.
	 */
	extra[0] = "-X";
	extra[1] = "-T";
	extra[2] = "-o";
	extra[3] = "BatchMode=yes";
	extra[4] = host;
	extra[5] = app->command;
	extra[6] = NULL;
	if ((argv = job_argv(config_ssh(autostart_conf), extra)) == NULL)
		fatal("argv");
	/* The booting session's display; an app never boots its VM. */
	if (asprintf(&set[0], "DISPLAY=%s", vm_display(vm)) == -1)
		fatal("asprintf");
	if (*vm_xauthority(vm) == '\0')
		set[1] = strdup("XAUTHORITY");
	else if (asprintf(&set[1], "XAUTHORITY=%s", vm_xauthority(vm)) == -1)
		set[1] = NULL;
	set[2] = strdup("VMLAUNCH_SESSION=app");
	set[3] = NULL;
	if (set[1] == NULL || set[2] == NULL ||
	    (env = job_env(set)) == NULL)
		fatal("environment");
	app->job = job_run(argv, env, 0, app_line, app_done, app);
	job_argv_free(env);
	free(set[0]);
	free(set[1]);
	free(set[2]);
	job_argv_free(argv);
	free(host);
	app->t_start = now_ms();
	if (app->job == NULL) {
		history_add(vm_name(vm), LOG_ERR, "app \"%s\": could not start",
		    app->command);
		app->state = APP_EXITED;
		return;
	}
	app->state = APP_RUNNING;
	app->pid = job_pid(app->job);
	history_add(vm_name(vm), LOG_INFO, "app \"%s\" started (pid %ld) on "
	    "display %s", app->command, (long)app->pid, vm_display(vm));
}

static void
app_line(struct job *job, int fd, const char *line, void *arg)
{
	struct app	*app = arg;

	log_info("vm %s: app \"%s\": %s", vm_name(app->vm), app->command,
	    line);
}

static void
app_done(struct job *job, void *arg)
{
	struct app	*app = arg;
	struct vm	*vm = app->vm;
	char		 how[128];

	app->job = NULL;
	app->status = job_status(job);
	job_describe(job, how, sizeof(how));
	if (app->state == APP_STOPPING) {
		history_add(vm_name(vm), LOG_INFO, "app \"%s\" ended (%s)",
		    app->command, how);
		app->state = APP_EXITED;
		return;
	}
	if (!app->restart || !vm_serving(vm) || supervisor_shutting_down()) {
		history_add(vm_name(vm), LOG_INFO, "app \"%s\" %s",
		    app->command, how);
		app->state = APP_EXITED;
		return;
	}
	if (app->restarts >= app->restart_max) {
		history_add(vm_name(vm), LOG_ERR, "app \"%s\" %s; restarted "
		    "%d times already, giving up", app->command, how,
		    app->restarts);
		app->state = APP_EXITED;
		return;
	}
	if ((now_ms() - app->t_start) / 1000 >= APP_STABLE)
		app->backoff = APP_BACKOFF_MIN;
	history_add(vm_name(vm), LOG_INFO, "app \"%s\" %s; restarting it in "
	    "%ds (%d of %d)", app->command, how, app->backoff,
	    app->restarts + 1, app->restart_max);
	app->state = APP_RESTARTING;
	timer_ms(&app->ev_restart, app->backoff * 1000LL);
	app->backoff *= 2;
	if (app->backoff > APP_BACKOFF_MAX)
		app->backoff = APP_BACKOFF_MAX;
	vm_use_changed(vm);
}

static void
app_restart(int fd, short ev, void *arg)
{
	struct app	*app = arg;

	if (app->state != APP_RESTARTING)
		return;
	if (!vm_serving(app->vm)) {
		history_add(vm_name(app->vm), LOG_INFO, "app \"%s\" not "
		    "restarted: the vm is not running", app->command);
		app->state = APP_EXITED;
		vm_use_changed(app->vm);
		return;
	}
	/*
	 * The VM may have been stopped behind our back (its apps then fail
	 * too): ask first, rather than run an app that cannot reach it.
	 */
	if (app->check == NULL)
		app->check = backend_status(vm_name(app->vm), BACKEND_FRESH,
		    app_restart_check, app);
}

static void
app_restart_check(const struct backend_result *res, void *arg)
{
	struct app	*app = arg;
	struct vm	*vm = app->vm;

	app->check = NULL;
	if (app->state != APP_RESTARTING)
		return;
	if (!res->ok || res->row == NULL ||
	    res->row->state != VMD_RUNNING) {
		history_add(vm_name(vm), LOG_INFO, "app \"%s\" not "
		    "restarted: the vm is %s", app->command, !res->ok ?
		    "in an unknown state" : res->row == NULL ? "gone" :
		    vmd_state_name(res->row->state));
		app->state = APP_EXITED;
		vm_use_changed(vm);
		/* Let the VM see the change for itself. */
		vm_suspect(vm);
		return;
	}
	app->restarts++;
	app_launch(app);
	vm_use_changed(vm);
}

/* The VM is about to stop: end its apps, restart none. */
void
autostart_vm_stopping(struct vm *vm)
{
	struct app	*app;

	TAILQ_FOREACH(app, &apps, entry) {
		if (app->vm != vm)
			continue;
		evtimer_del(&app->ev_restart);
		if (app->job != NULL) {
			history_add(vm_name(vm), LOG_INFO, "ending app \"%s\" "
			    "(pid %ld)", app->command, (long)app->pid);
			app->state = APP_STOPPING;
			job_signal(app->job, SIGTERM);
		} else {
			if (app->state == APP_RESTARTING)
				history_add(vm_name(vm), LOG_INFO, "app "
				    "\"%s\": restart cancelled, the vm stops",
				    app->command);
			app->state = APP_EXITED;
		}
	}
}

static void
app_free(struct app *app)
{
	evtimer_del(&app->ev_restart);
	if (app->job != NULL)
		job_cancel(app->job);
	backend_cancel(app->check);
	TAILQ_REMOVE(&apps, app, entry);
	free(app->command);
	free(app);
}

/* The VM is gone: whatever is left of its apps is killed and reaped. */
void
autostart_vm_gone(struct vm *vm)
{
	struct app	*app, *tapp;

	TAILQ_FOREACH_SAFE(app, &apps, entry, tapp) {
		if (app->vm != vm)
			continue;
		if (app->job != NULL)
			history_add(vm_name(vm), LOG_INFO, "killing app \"%s\" "
			    "(pid %ld)", app->command, (long)app->pid);
		app_free(app);
	}
}

/* Apps about to be restarted keep their VM from an idle stop. */
int
autostart_pending(struct vm *vm)
{
	struct app	*app;
	int		 n = 0;

	TAILQ_FOREACH(app, &apps, entry)
		if (app->vm == vm && app->state == APP_RESTARTING)
			n++;
	return (n);
}

void
autostart_status(struct vm *vm, struct ctl_status_vm *row)
{
	struct ctl_status_app	*sa;
	struct app		*app;
	char			 how[64];

	TAILQ_FOREACH(app, &apps, entry) {
		if (app->vm != vm)
			continue;
		if (row->napps >= STATUS_APPS_MAX)
			break;
		sa = &row->apps[row->napps++];
		(void)strlcpy(sa->command, app->command, sizeof(sa->command));
		sa->restarts = app->restarts;
		sa->pid = app->job != NULL ? (int32_t)app->pid : -1;
		switch (app->state) {
		case APP_RUNNING:
			(void)strlcpy(sa->state, "running", sizeof(sa->state));
			break;
		case APP_RESTARTING:
			(void)strlcpy(sa->state, "restarting",
			    sizeof(sa->state));
			break;
		case APP_STOPPING:
			(void)strlcpy(sa->state, "stopping",
			    sizeof(sa->state));
			break;
		case APP_EXITED:
			if (WIFEXITED(app->status))
				snprintf(how, sizeof(how), "exited %d",
				    WEXITSTATUS(app->status));
			else if (WIFSIGNALED(app->status))
				snprintf(how, sizeof(how), "killed %d",
				    WTERMSIG(app->status));
			else
				(void)strlcpy(how, "exited", sizeof(how));
			(void)strlcpy(sa->state, how, sizeof(sa->state));
			break;
		}
	}
}

/* At exit: every app killed and freed. */
void
autostart_shutdown(void)
{
	struct app	*app;

	while ((app = TAILQ_FIRST(&apps)) != NULL)
		app_free(app);
}
