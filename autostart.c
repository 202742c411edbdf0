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
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	struct job		*checkjob;	/* is the VM still running? */
	pid_t			 pid;
	int			 status;	/* last wait status */
	long long		 t_start;
	struct event		 ev_restart;
};

extern char	**environ;

static void	 app_launch(struct app *);
static void	 app_done(struct job *, void *);
static void	 app_line(struct job *, int, const char *, void *);
static void	 app_restart(int, short, void *);
static void	 app_restart_check(const struct vmctl_result *, void *);
static void	 app_free(struct app *);

/* The name ssh is given: NAME.DOMAIN with the first domain, else NAME. */
static char *
app_host(struct vm *vm)
{
	struct domain	*d;
	char		*h;

	if ((d = TAILQ_FIRST(&sv.conf->domains)) != NULL) {
		if (asprintf(&h, "%s.%s", vm->name, d->name) == -1)
			fatal("asprintf");
	} else if ((h = strdup(vm->name)) == NULL)
		fatal("strdup");
	return (h);
}

/* The supervisor's environment with the booting session's display. */
static char **
app_env(struct vm *vm)
{
	char	**env;
	size_t	  n = 0, i, j = 0;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 3, sizeof(*env))) == NULL)
		fatal("calloc");
	for (i = 0; i < n; i++) {
		if (strncmp(environ[i], "DISPLAY=", 8) == 0 ||
		    strncmp(environ[i], "XAUTHORITY=", 11) == 0)
			continue;
		env[j++] = environ[i];
	}
	if (asprintf(&env[j++], "DISPLAY=%s", vm->display) == -1)
		fatal("asprintf");
	if (vm->xauthority[0] != '\0' &&
	    asprintf(&env[j++], "XAUTHORITY=%s", vm->xauthority) == -1)
		fatal("asprintf");
	env[j] = NULL;
	return (env);
}

static void
app_env_free(char **env)
{
	size_t	 i;

	for (i = 0; env[i] != NULL; i++)
		if (strncmp(env[i], "DISPLAY=", 8) == 0 ||
		    strncmp(env[i], "XAUTHORITY=", 11) == 0)
			free(env[i]);
	free(env);
}

void
autostart_vm_ready(struct vm *vm)
{
	struct autostart	*as;
	struct app		*app;
	int			 n = 0;

	/*
	 * Apps of an earlier boot are still listed when the VM stopped
	 * without vmlaunch stopping it (vmctl stop by hand): end them, so
	 * that each autostart runs once per boot.
	 */
	if (!TAILQ_EMPTY(&vm->apps))
		autostart_vm_stopped(vm);
	if (vm->conf == NULL || TAILQ_EMPTY(&vm->conf->autostarts))
		return;
	TAILQ_FOREACH(as, &vm->conf->autostarts, entry)
		n++;
	if (vm->display[0] == '\0') {
		log_info("vm %s: the session that booted it has no DISPLAY; "
		    "%d autostart app%s skipped", vm->name, n,
		    n == 1 ? "" : "s");
		return;
	}
	TAILQ_FOREACH(as, &vm->conf->autostarts, entry) {
		if ((app = calloc(1, sizeof(*app))) == NULL ||
		    (app->command = strdup(as->command)) == NULL)
			fatal("calloc");
		app->vm = vm;
		app->restart = as->restart;
		app->restart_max = as->restart_max;
		app->backoff = APP_BACKOFF_MIN;
		evtimer_set(&app->ev_restart, app_restart, app);
		TAILQ_INSERT_TAIL(&vm->apps, app, entry);
		app_launch(app);
	}
}

static void
app_launch(struct app *app)
{
	struct vm	*vm = app->vm;
	const char	*extra[8];
	char		**argv, **env, *host;

	host = app_host(vm);
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
	if ((argv = vmctl_argv(sv.conf->ssh, extra)) == NULL)
		fatal("argv");
	env = app_env(vm);
	app->job = job_run(argv, env, 0, app_line, app_done, app);
	app_env_free(env);
	vmctl_argv_free(argv);
	free(host);
	app->t_start = now_ms();
	if (app->job == NULL) {
		log_warnx("vm %s: app \"%s\": could not start", vm->name,
		    app->command);
		app->state = APP_EXITED;
		return;
	}
	app->state = APP_RUNNING;
	app->pid = job_pid(app->job);
	log_info("vm %s: app \"%s\" started (pid %ld) on display %s",
	    vm->name, app->command, (long)app->pid, vm->display);
}

static void
app_line(struct job *job, int fd, const char *line, void *arg)
{
	struct app	*app = arg;

	log_info("vm %s: app \"%s\": %s", app->vm->name, app->command, line);
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
		log_info("vm %s: app \"%s\" ended (%s)", vm->name,
		    app->command, how);
		app->state = APP_EXITED;
		return;
	}
	if (!app->restart || (vm->state != VM_READY &&
	    vm->state != VM_IDLE) || sv.shutdown) {
		log_info("vm %s: app \"%s\" %s", vm->name, app->command, how);
		app->state = APP_EXITED;
		return;
	}
	if (app->restarts >= app->restart_max) {
		log_warnx("vm %s: app \"%s\" %s; restarted %d times "
		    "already, giving up", vm->name, app->command, how,
		    app->restarts);
		app->state = APP_EXITED;
		return;
	}
	if ((now_ms() - app->t_start) / 1000 >= APP_STABLE)
		app->backoff = APP_BACKOFF_MIN;
	log_info("vm %s: app \"%s\" %s; restarting it in %ds (%d of %d)",
	    vm->name, app->command, how, app->backoff, app->restarts + 1,
	    app->restart_max);
	app->state = APP_RESTARTING;
	{
		struct timeval	tv = { app->backoff, 0 };

		evtimer_add(&app->ev_restart, &tv);
	}
	app->backoff *= 2;
	if (app->backoff > APP_BACKOFF_MAX)
		app->backoff = APP_BACKOFF_MAX;
}

static void
app_restart(int fd, short ev, void *arg)
{
	struct app	*app = arg;

	if (app->state != APP_RESTARTING)
		return;
	if (app->vm->state != VM_READY && app->vm->state != VM_IDLE) {
		app->state = APP_EXITED;
		return;
	}
	/*
	 * The VM may have been stopped behind our back (its apps then fail
	 * too): ask first, or the app's own ssh would boot it again.
	 */
	if (app->checkjob == NULL)
		app->checkjob = vmctl_status(sv.conf, app->vm->name,
		    app_restart_check, app);
	if (app->checkjob == NULL) {
		log_warnx("vm %s: app \"%s\": cannot check the vm, not "
		    "restarted", app->vm->name, app->command);
		app->state = APP_EXITED;
	}
}

static void
app_restart_check(const struct vmctl_result *res, void *arg)
{
	struct app	*app = arg;
	struct vm	*vm = app->vm;

	app->checkjob = NULL;
	if (app->state != APP_RESTARTING)
		return;
	if (!res->ok || res->row == NULL ||
	    res->row->state != VMD_RUNNING) {
		log_info("vm %s: app \"%s\" not restarted: the vm is %s",
		    vm->name, app->command, !res->ok ? "in an unknown state" :
		    res->row == NULL ? "gone" :
		    vmd_state_name(res->row->state));
		app->state = APP_EXITED;
		/* Let the supervisor see the change for itself. */
		if (vm->state == VM_READY || vm->state == VM_IDLE)
			vm_check(vm);
		return;
	}
	app->restarts++;
	app_launch(app);
}

/* The VM is about to stop: end its apps, restart none. */
void
autostart_vm_stopping(struct vm *vm)
{
	struct app	*app;

	TAILQ_FOREACH(app, &vm->apps, entry) {
		evtimer_del(&app->ev_restart);
		if (app->job != NULL) {
			log_info("vm %s: ending app \"%s\" (pid %ld)",
			    vm->name, app->command, (long)app->pid);
			app->state = APP_STOPPING;
			job_signal(app->job, SIGTERM);
		} else {
			if (app->state == APP_RESTARTING)
				log_info("vm %s: app \"%s\": restart "
				    "cancelled, the vm stops", vm->name,
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
	if (app->checkjob != NULL)
		job_cancel(app->checkjob);
	TAILQ_REMOVE(&app->vm->apps, app, entry);
	free(app->command);
	free(app);
}

/* The VM is gone: whatever is left of its apps is killed and reaped. */
void
autostart_vm_stopped(struct vm *vm)
{
	struct app	*app;

	while ((app = TAILQ_FIRST(&vm->apps)) != NULL) {
		if (app->job != NULL)
			log_info("vm %s: killing app \"%s\" (pid %ld)",
			    vm->name, app->command, (long)app->pid);
		app_free(app);
	}
}

/* Apps about to be restarted keep their VM from an idle stop. */
int
autostart_pending(struct vm *vm)
{
	struct app	*app;
	int		 n = 0;

	TAILQ_FOREACH(app, &vm->apps, entry)
		if (app->state == APP_RESTARTING)
			n++;
	return (n);
}

int
autostart_running(struct vm *vm)
{
	struct app	*app;
	int		 n = 0;

	TAILQ_FOREACH(app, &vm->apps, entry)
		if (app->job != NULL)
			n++;
	return (n);
}

void
autostart_status(struct vm *vm, struct ctl_status_vm *row)
{
	struct ctl_status_app	*sa;
	struct app		*app;
	char			 how[64];

	TAILQ_FOREACH(app, &vm->apps, entry) {
		if (row->napps >= STATUS_APPS_MAX)
			break;
		sa = &row->apps[row->napps++];
		strlcpy(sa->command, app->command, sizeof(sa->command));
		sa->restarts = app->restarts;
		sa->pid = app->job != NULL ? (int32_t)app->pid : -1;
		switch (app->state) {
		case APP_RUNNING:
			strlcpy(sa->state, "running", sizeof(sa->state));
			break;
		case APP_RESTARTING:
			strlcpy(sa->state, "restarting", sizeof(sa->state));
			break;
		case APP_STOPPING:
			strlcpy(sa->state, "stopping", sizeof(sa->state));
			break;
		case APP_EXITED:
			if (WIFEXITED(app->status))
				snprintf(how, sizeof(how), "exited %d",
				    WEXITSTATUS(app->status));
			else if (WIFSIGNALED(app->status))
				snprintf(how, sizeof(how), "killed %d",
				    WTERMSIG(app->status));
			else
				strlcpy(how, "exited", sizeof(how));
			strlcpy(sa->state, how, sizeof(sa->state));
			break;
		}
	}
}

/* Running apps keep the command they were started with. */
void
autostart_reload(void)
{
}

void
autostart_shutdown(void)
{
	struct vm	*vm;

	TAILQ_FOREACH(vm, &sv.vms, entry)
		autostart_vm_stopping(vm);
}
