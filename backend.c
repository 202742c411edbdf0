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
 * The backends behind one API: vmd through vmctl (an argv, never a
 * shell), or, for a VM with `backend command`, the user's commands, run
 * as /bin/sh -c COMMAND vmlaunch-backend NAME.  Every command runs as a
 * job (job.c) with the `vmctl timeout` limit; vmctl.c tells what its
 * output means, so that the callers cannot tell the backends apart.
 *
 * Requests and their lifetime: every asynchronous call returns a struct
 * backend_req that belongs to the caller until its callback has run or
 * the caller has passed it to backend_cancel().  The callback runs
 * exactly once, always from the event loop (never from inside the call,
 * also when no process could be started), unless the request is
 * cancelled first; the request is freed when the callback returns, so
 * the caller drops its pointer there.  A callback may start or cancel
 * any request.
 *
 * Status requests are batched: `vmctl status` lists every VM whatever it
 * is asked, so all status requests for vmd VMs share one vmctl process
 * at a time.  A request joins the status that is running, unless it
 * asks for a fresh answer (BACKEND_FRESH: taken after the request was
 * made, for a VM that was just started or stopped); those wait for the
 * next one, which starts as soon as the running one ends.  A command
 * VM's status is batched the same way, per VM.  The status of every VM
 * is made of the vmd part and each command VM's part.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include <errno.h>
#include <event.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"

#define BACKEND_OUTPUT_MAX	(256 * 1024)	/* kept per stream, sync */
#define BACKEND_GRACE_MS	1000	/* pipes kept open after the exit */
#define BACKEND_ARGV0		"vmlaunch-backend"	/* $0 of a command */

/* What each backend command is called: $VMLAUNCH_ACTION, vmctl's words. */
static const struct backend_cmdname {
	const char		*action;
	const char		*args[3];
} backend_cmds[BACKEND_NCMDS] = {
	[BACKEND_START] =	{ "start",	{ "start" } },
	[BACKEND_STOP] =	{ "stop",	{ "stop" } },
	[BACKEND_KILL] =	{ "kill",	{ "stop", "-f" } },
	[BACKEND_STATUS] =	{ "status",	{ "status" } },
	[BACKEND_PAUSE] =	{ "pause",	{ "pause" } },
	[BACKEND_UNPAUSE] =	{ "unpause",	{ "unpause" } }
};

struct backend_batch;

/* One request's share of a status: a vmd part, or a command VM's. */
struct backend_part {
	TAILQ_ENTRY(backend_part) entry;
	struct backend_parthead	*list;		/* the list it is on */
	struct backend_req	*req;
	struct backend_batch	*batch;
	int			 done;
};
TAILQ_HEAD(backend_parthead, backend_part);

/*
 * The status process of vmd (name "") or of one command VM, and the
 * requests that share it or wait for the next one.
 */
struct backend_batch {
	LIST_ENTRY(backend_batch) entry;
	char			 name[VM_NAME_MAX];
	int			 command;
	struct job		*job;
	struct backend_parthead	 running;	/* share the job */
	struct backend_parthead	 next;		/* fresh: the next job */
};
static LIST_HEAD(, backend_batch) backend_batches =
    LIST_HEAD_INITIALIZER(backend_batches);

struct backend_req {
	enum backend_cmd	 cmd;
	char			 name[VM_NAME_MAX];	/* "": every VM */
	int			 flags;
	backend_cb		 cb;
	void			*arg;
	struct job		*job;		/* not status: its own */
	struct event		 ev_later;	/* an answer made here */
	int			 later;
	struct backend_result	 res;		/* that answer */

	/* Status. */
	struct backend_part	*parts;
	size_t			 nparts;
	size_t			 pending;
	int			 vmd_failed;
	char			 vmd_msg[512];
	struct vmd_row		*rows;
	size_t			 nrows;
	size_t			 size;
};

/*
 * The command backend of each VM this process has run a command for:
 * a VM that a reload removed is still stopped with its own commands.
 */
struct backend_known {
	LIST_ENTRY(backend_known) entry;
	char			 name[VM_NAME_MAX];
	char			*cmd[BACKEND_NCMDS];
};
static LIST_HEAD(, backend_known) backend_knowns =
    LIST_HEAD_INITIALIZER(backend_knowns);

static struct config	*backend_conf;

static char *const *backend_commands(struct config *, const char *);
static void	 backend_part_answer(struct backend_part *, int,
		    const struct vmd_row *, size_t, const char *);
static void	 backend_batch_done(struct job *, void *);

/*
 * The backend commands of vm name, or NULL when it uses vmd.  A VM that a
 * reload removed keeps the commands it was last run with.
 */
static char *const *
backend_commands(struct config *conf, const char *name)
{
	struct vmconf		*vm;
	struct backend_known	*k;
	char			*p;
	int			 i;

	if (conf == NULL || name == NULL || *name == '\0')
		return (NULL);
	LIST_FOREACH(k, &backend_knowns, entry)
		if (strcmp(k->name, name) == 0)
			break;
	vm = config_find_vm(conf, name);
	if (vm == NULL)
		return (k != NULL ? k->cmd : NULL);
	if (vm->backend.type != BACKEND_COMMAND) {
		if (k != NULL) {
			LIST_REMOVE(k, entry);
			for (i = 0; i < BACKEND_NCMDS; i++)
				free(k->cmd[i]);
			free(k);
		}
		return (NULL);
	}
	if (k == NULL) {
		if ((k = calloc(1, sizeof(*k))) == NULL)
			return (vm->backend.cmd);
		(void)strlcpy(k->name, name, sizeof(k->name));
		LIST_INSERT_HEAD(&backend_knowns, k, entry);
	}
	for (i = 0; i < BACKEND_NCMDS; i++) {
		if (vm->backend.cmd[i] == NULL || (k->cmd[i] != NULL &&
		    strcmp(k->cmd[i], vm->backend.cmd[i]) == 0))
			continue;
		if ((p = strdup(vm->backend.cmd[i])) == NULL)
			return (vm->backend.cmd);
		free(k->cmd[i]);
		k->cmd[i] = p;
	}
	return (k->cmd);
}

/* Forget the commands of VMs that are gone: at exit, for leak checks. */
void
backend_shutdown(void)
{
	struct backend_known	*k;
	int			 i;

	while ((k = LIST_FIRST(&backend_knowns)) != NULL) {
		LIST_REMOVE(k, entry);
		for (i = 0; i < BACKEND_NCMDS; i++)
			free(k->cmd[i]);
		free(k);
	}
}

/* Does the status of every VM need vmctl? */
static int
backend_needs_vmd(struct config *conf)
{
	struct vmconf	*vm;

	/* With no VM configured, vmctl's view is all there is to show. */
	if (TAILQ_EMPTY(&conf->vms))
		return (1);
	TAILQ_FOREACH(vm, &conf->vms, entry)
		if (vm->backend.type != BACKEND_COMMAND)
			return (1);
	return (0);
}

/*
 * /bin/sh -c COMMAND vmlaunch-backend NAME: the name is $1 and in the
 * environment, never part of the command text.  argv is the caller's
 * array of six.
 */
static char **
backend_command_argv(char *const *cmds, enum backend_cmd cmd, char *name,
    char *argv[6])
{
	argv[0] = BACKEND_SHELL;
	argv[1] = "-c";
	argv[2] = cmds[cmd];
	argv[3] = BACKEND_ARGV0;
	argv[4] = name;
	argv[5] = NULL;
	return (argv);
}

/* The environment of a command: ours, with VMLAUNCH_VM and _ACTION. */
static char **
backend_command_env(const char *name, enum backend_cmd cmd)
{
	char	*set[3];
	char	**env;

	if (asprintf(&set[0], "VMLAUNCH_VM=%s", name) == -1)
		return (NULL);
	if (asprintf(&set[1], "VMLAUNCH_ACTION=%s",
	    backend_cmds[cmd].action) == -1) {
		free(set[0]);
		return (NULL);
	}
	set[2] = NULL;
	env = job_env(set);
	free(set[0]);
	free(set[1]);
	return (env);
}

/* vmctl's own argv: the configured command, the subcommand, the name. */
static char **
backend_vmd_argv(struct config *conf, enum backend_cmd cmd, const char *name)
{
	const char	*extra[5];
	size_t		 n = 0, i;

	for (i = 0; i < nitems(backend_cmds[cmd].args) &&
	    backend_cmds[cmd].args[i] != NULL; i++)
		extra[n++] = backend_cmds[cmd].args[i];
	if (name != NULL && *name != '\0')
		extra[n++] = name;
	extra[n] = NULL;
	return (job_argv(conf->vmctl != NULL ? conf->vmctl : VMCTL_PATH,
	    extra));
}

static long long
backend_timeout_ms(struct config *conf)
{
	if (conf == NULL || conf->vmctl_timeout <= 0)
		return (DEFAULT_VMCTL_TIMEOUT * 1000LL);
	return (conf->vmctl_timeout * 1000LL);
}

/* The status of every VM: a command that failed shows as unknown. */
static void
backend_add_row(struct vmd_row **rows, size_t *nrows, size_t *size,
    const struct vmd_row *row)
{
	struct vmd_row	*p;
	size_t		 nsize;

	if (*nrows == *size) {
		nsize = *size ? *size * 2 : 8;
		if ((p = reallocarray(*rows, nsize, sizeof(*p))) == NULL)
			fatal("backend: status rows");
		*rows = p;
		*size = nsize;
	}
	(*rows)[(*nrows)++] = *row;
}

static void
backend_add_failed(struct vmd_row **rows, size_t *nrows, size_t *size,
    const char *name, const char *why)
{
	struct vmd_row	 row;

	log_warnx("vm %s: %s", name, why);
	memset(&row, 0, sizeof(row));
	(void)strlcpy(row.name, name, sizeof(row.name));
	row.state = VMD_UNKNOWN;
	backend_add_row(rows, nrows, size, &row);
}

/* A job's end as a struct backend_ran. */
static void
backend_ran_job(struct job *job, struct backend_ran *ran)
{
	int	 status = job_status(job);

	memset(ran, 0, sizeof(*ran));
	ran->out = job_output(job, 1, &ran->outlen);
	ran->err = job_output(job, 2, &ran->errlen);
	ran->prog = job_name(job);
	ran->timeout_ms = job_timeout(job);
	if (job_exec_errno(job) != 0) {
		ran->how = BACKEND_EXEC;
		ran->code = job_exec_errno(job);
	} else if (job_timed_out(job))
		ran->how = BACKEND_TIMEOUT;
	else if (WIFSIGNALED(status)) {
		ran->how = BACKEND_SIGNALED;
		ran->code = WTERMSIG(status);
	} else if (WIFEXITED(status))
		ran->code = WEXITSTATUS(status);
	else {
		ran->how = BACKEND_SIGNALED;
		ran->code = 0;
	}
}

/*
 * Requests.
 */

void
backend_configure(struct config *conf)
{
	backend_conf = conf;
}

static struct backend_req *
backend_req_new(enum backend_cmd cmd, const char *name, int flags,
    backend_cb cb, void *arg)
{
	struct backend_req	*req;

	if ((req = calloc(1, sizeof(*req))) == NULL)
		fatal("backend request");
	req->cmd = cmd;
	req->flags = flags;
	req->cb = cb;
	req->arg = arg;
	if (name != NULL)
		(void)strlcpy(req->name, name, sizeof(req->name));
	return (req);
}

static void
backend_req_free(struct backend_req *req)
{
	if (req->later)
		evtimer_del(&req->ev_later);
	free(req->parts);
	free(req->rows);
	free(req->res.rows);
	free(req);
}

/* The answer in req->res, made here: call back from the loop. */
static void
backend_later_cb(int fd, short ev, void *arg)
{
	struct backend_req	*req = arg;

	req->later = 0;
	if (req->cb != NULL)
		req->cb(&req->res, req->arg);
	backend_req_free(req);
}

static void
backend_later(struct backend_req *req)
{
	evtimer_set(&req->ev_later, backend_later_cb, req);
	timer_ms(&req->ev_later, 0);
	req->later = 1;
}

/* No process could be started for req: say so, from the loop. */
static void
backend_req_fail(struct backend_req *req, const char *prog, int error)
{
	memset(&req->res, 0, sizeof(req->res));
	req->res.err = BACKEND_EXEC;
	snprintf(req->res.msg, sizeof(req->res.msg), "could not run %s: %s",
	    prog, strerror(error));
	backend_later(req);
}

/* start, stop, pause...: the job ended. */
static void
backend_cmd_done(struct job *job, void *arg)
{
	struct backend_req	*req = arg;
	struct backend_ran	 ran;
	struct vmd_row		 row;

	req->job = NULL;
	backend_ran_job(job, &ran);
	memset(&req->res, 0, sizeof(req->res));
	if (backend_commands(backend_conf, req->name) != NULL)
		vmctl_outcome_command(req->cmd, req->name, &ran, &req->res,
		    &row);
	else
		vmctl_outcome(req->cmd, &ran, &req->res);
	if (req->cb != NULL)
		req->cb(&req->res, req->arg);
	backend_req_free(req);
}

/*
 * Run a command that is not a status for vm name; vmctl's stderr to
 * errfd (a file, which this takes) if not -1.
 */
static struct backend_req *
backend_cmd(enum backend_cmd cmd, const char *name, int errfd, backend_cb cb,
    void *arg)
{
	struct backend_req	*req;
	char *const		*cmds;
	char			**argv, *cargv[6], **env = NULL;
	const char		*prog;
	int			 saved;

	req = backend_req_new(cmd, name, 0, cb, arg);
	if ((cmds = backend_commands(backend_conf, name)) != NULL) {
		if (errfd != -1)
			close(errfd);	/* only vmctl's answer is kept */
		errfd = -1;
		if (cmds[cmd] == NULL) {
			backend_req_fail(req, config_backend_word(cmd), ENOTSUP);
			return (req);
		}
		argv = backend_command_argv(cmds, cmd, req->name, cargv);
		if ((env = backend_command_env(name, cmd)) == NULL)
			fatal("backend: environment");
	} else if ((argv = backend_vmd_argv(backend_conf, cmd, name)) == NULL)
		fatal("backend: argv");
	prog = argv[0];
	if (errfd != -1)
		req->job = job_run_to(argv, env,
		    backend_timeout_ms(backend_conf), errfd, backend_cmd_done,
		    req);
	else
		req->job = job_run(argv, env, backend_timeout_ms(backend_conf),
		    NULL, backend_cmd_done, req);
	saved = errno;
	if (req->job == NULL)
		backend_req_fail(req, prog, saved);
	job_argv_free(env);
	if (cmds == NULL)
		job_argv_free(argv);
	return (req);
}

/*
 * vmctl start's stderr goes to answer (a file, taken; -1: a pipe), so
 * that a successor can read what it said if this supervisor dies first.
 */
struct backend_req *
backend_start(const char *name, int answer, backend_cb cb, void *arg)
{
	return (backend_cmd(BACKEND_START, name, answer, cb, arg));
}

/* Never -w: a stop returns at once, the caller polls the status. */
struct backend_req *
backend_stop(const char *name, int force, backend_cb cb, void *arg)
{
	return (backend_cmd(force ? BACKEND_KILL : BACKEND_STOP, name, -1,
	    cb, arg));
}

/* Pause or unpause (resume) vm name: vmctl pause, or the command's. */
struct backend_req *
backend_pause(const char *name, int pause, backend_cb cb, void *arg)
{
	return (backend_cmd(pause ? BACKEND_PAUSE : BACKEND_UNPAUSE, name,
	    -1, cb, arg));
}

/*
 * Status batches.
 */

static struct backend_batch *
backend_batch_get(const char *name, int command)
{
	struct backend_batch	*b;

	LIST_FOREACH(b, &backend_batches, entry)
		if (b->command == command && strcmp(b->name, name) == 0)
			return (b);
	if ((b = calloc(1, sizeof(*b))) == NULL)
		fatal("backend batch");
	(void)strlcpy(b->name, name, sizeof(b->name));
	b->command = command;
	TAILQ_INIT(&b->running);
	TAILQ_INIT(&b->next);
	LIST_INSERT_HEAD(&backend_batches, b, entry);
	return (b);
}

static void
backend_batch_gc(struct backend_batch *b)
{
	if (b->job != NULL || !TAILQ_EMPTY(&b->running) ||
	    !TAILQ_EMPTY(&b->next))
		return;
	LIST_REMOVE(b, entry);
	free(b);
}


static void
backend_part_move(struct backend_part *p, struct backend_parthead *to)
{
	TAILQ_REMOVE(p->list, p, entry);
	TAILQ_INSERT_TAIL(to, p, entry);
	p->list = to;
}

/* Start the batch's status process for the requests in b->running. */
static void
backend_batch_spawn(struct backend_batch *b)
{
	struct backend_part	*p;
	char *const		*cmds = NULL;
	char			**argv, *cargv[6], **env = NULL, msg[512];
	char			 name[VM_NAME_MAX];
	int			 saved;

	if (b->command) {
		(void)strlcpy(name, b->name, sizeof(name));
		if ((cmds = backend_commands(backend_conf, b->name)) == NULL ||
		    cmds[BACKEND_STATUS] == NULL) {
			snprintf(msg, sizeof(msg), "no status command");
			goto fail;
		}
		argv = backend_command_argv(cmds, BACKEND_STATUS, name, cargv);
		if ((env = backend_command_env(b->name, BACKEND_STATUS)) == NULL)
			fatal("backend: environment");
	} else if ((argv = backend_vmd_argv(backend_conf, BACKEND_STATUS,
	    NULL)) == NULL)
		fatal("backend: argv");
	b->job = job_run(argv, env, backend_timeout_ms(backend_conf), NULL,
	    backend_batch_done, b);
	saved = errno;
	if (b->job == NULL)
		snprintf(msg, sizeof(msg), "could not run %s: %s", argv[0],
		    strerror(saved));
	job_argv_free(env);
	if (!b->command)
		job_argv_free(argv);
	if (b->job != NULL)
		return;
 fail:
	/* Every request waiting on it learns why, from the loop. */
	while ((p = TAILQ_FIRST(&b->running)) != NULL)
		backend_part_answer(p, 0, NULL, 0, msg);
}

static void
backend_batch_done(struct job *job, void *arg)
{
	struct backend_batch	*b = arg;
	struct backend_parthead	 answered;
	struct backend_part	*p;
	struct backend_ran	 ran;
	struct backend_result	 res;
	struct vmd_row		*rows = NULL, row;
	size_t			 nrows = 0;
	char			 msg[512];
	int			 ok;

	b->job = NULL;
	backend_ran_job(job, &ran);
	memset(&res, 0, sizeof(res));
	if (b->command) {
		vmctl_outcome_command(BACKEND_STATUS, b->name, &ran, &res,
		    &row);
		ok = res.ok;
		if (ok) {
			rows = &row;
			nrows = 1;
		}
		(void)strlcpy(msg, res.msg, sizeof(msg));
	} else
		ok = vmctl_outcome_status(&ran, &rows, &nrows, msg,
		    sizeof(msg)) == 0;

	/*
	 * Answer those that shared this one; the fresh ones go next.  The
	 * answers call back later, from the loop, so nothing can change
	 * these lists meanwhile.
	 */
	TAILQ_INIT(&answered);
	while ((p = TAILQ_FIRST(&b->running)) != NULL)
		backend_part_move(p, &answered);
	if (!TAILQ_EMPTY(&b->next)) {
		while ((p = TAILQ_FIRST(&b->next)) != NULL)
			backend_part_move(p, &b->running);
		backend_batch_spawn(b);
	}
	while ((p = TAILQ_FIRST(&answered)) != NULL)
		backend_part_answer(p, ok, rows, nrows, msg);
	if (!b->command)
		free(rows);
	backend_batch_gc(b);
}

/* Join a batch: share what runs, or wait for the next fresh one. */
static void
backend_part_join(struct backend_part *p, int fresh)
{
	struct backend_batch	*b = p->batch;

	if (b->job == NULL) {
		p->list = &b->running;
		TAILQ_INSERT_TAIL(&b->running, p, entry);
		backend_batch_spawn(b);
	} else if (fresh) {
		p->list = &b->next;
		TAILQ_INSERT_TAIL(&b->next, p, entry);
	} else {
		p->list = &b->running;
		TAILQ_INSERT_TAIL(&b->running, p, entry);
	}
}

/* The whole answer of a status request. */
static void
backend_status_answer(struct backend_req *req)
{
	struct backend_result	*res = &req->res;

	memset(res, 0, sizeof(*res));
	if (req->vmd_failed) {
		res->err = BACKEND_FAILED;
		(void)strlcpy(res->msg, req->vmd_msg, sizeof(res->msg));
	} else {
		res->ok = 1;
		res->rows = req->rows;
		res->nrows = req->nrows;
		req->rows = NULL;
		if (req->name[0] != '\0')
			res->row = vmctl_find_row(res->rows, res->nrows,
			    req->name);
	}
	backend_later(req);
}

/*
 * A batch answered one part of a request (ok with rows, or why not).
 * The vmd part's rows count except for the command VMs' names; a
 * command VM's row counts, or shows as unknown in a status of all.
 */
static void
backend_part_answer(struct backend_part *p, int ok, const struct vmd_row *rows,
    size_t nrows, const char *msg)
{
	struct backend_req	*req = p->req;
	struct backend_batch	*b = p->batch;
	size_t			 i;

	TAILQ_REMOVE(p->list, p, entry);
	p->list = NULL;
	p->done = 1;
	if (!b->command && !ok) {
		req->vmd_failed = 1;
		(void)strlcpy(req->vmd_msg, msg, sizeof(req->vmd_msg));
	} else if (!b->command) {
		for (i = 0; i < nrows; i++)
			if (backend_commands(backend_conf, rows[i].name) == NULL)
				backend_add_row(&req->rows, &req->nrows,
				    &req->size, &rows[i]);
	} else if (ok)
		backend_add_row(&req->rows, &req->nrows, &req->size, &rows[0]);
	else if (req->name[0] == '\0')
		backend_add_failed(&req->rows, &req->nrows, &req->size, b->name,
		    msg);
	else {
		/* A command VM asked about alone: its failure is the answer. */
		req->vmd_failed = 1;
		(void)strlcpy(req->vmd_msg, msg, sizeof(req->vmd_msg));
	}
	if (--req->pending == 0)
		backend_status_answer(req);
}

/*
 * The status of vm name (its row in res->row, NULL when vmctl does not
 * list it), or of every VM when name is NULL (res->rows).
 */
struct backend_req *
backend_status(const char *name, int flags, backend_cb cb, void *arg)
{
	struct backend_req	*req;
	struct vmconf		*vm;
	size_t			 n = 0;

	req = backend_req_new(BACKEND_STATUS, name, flags, cb, arg);
	if (name != NULL && *name != '\0') {
		req->nparts = 1;
		if ((req->parts = calloc(1, sizeof(*req->parts))) == NULL)
			fatal("backend status");
		/* A vmd VM shares vmd's batch: its row is in every status. */
		if (backend_commands(backend_conf, name) != NULL)
			req->parts[0].batch = backend_batch_get(name, 1);
		else
			req->parts[0].batch = backend_batch_get("", 0);
	} else {
		req->nparts = backend_needs_vmd(backend_conf);
		TAILQ_FOREACH(vm, &backend_conf->vms, entry)
			if (vm->backend.type == BACKEND_COMMAND)
				req->nparts++;
		if ((req->parts = calloc(req->nparts,
		    sizeof(*req->parts))) == NULL)
			fatal("backend status");
		if (backend_needs_vmd(backend_conf))
			req->parts[n++].batch = backend_batch_get("", 0);
		TAILQ_FOREACH(vm, &backend_conf->vms, entry) {
			if (vm->backend.type != BACKEND_COMMAND)
				continue;
			(void)backend_commands(backend_conf, vm->name);
			req->parts[n++].batch = backend_batch_get(vm->name, 1);
		}
	}
	req->pending = req->nparts;
	for (n = 0; n < req->nparts; n++) {
		req->parts[n].req = req;
		backend_part_join(&req->parts[n], flags & BACKEND_FRESH);
	}
	return (req);
}

/* Stop a request: no callback, its process (if only its) killed. */
void
backend_cancel(struct backend_req *req)
{
	struct backend_batch	*b;
	size_t			 i;

	if (req == NULL)
		return;
	if (req->job != NULL)
		job_cancel(req->job);
	for (i = 0; i < req->nparts; i++) {
		if (req->parts[i].done || req->parts[i].list == NULL)
			continue;
		b = req->parts[i].batch;
		TAILQ_REMOVE(req->parts[i].list, &req->parts[i], entry);
		if (b->job != NULL && TAILQ_EMPTY(&b->running)) {
			/* Nobody wants this answer any more. */
			job_cancel(b->job);
			b->job = NULL;
			if (!TAILQ_EMPTY(&b->next)) {
				struct backend_part	*p;

				while ((p = TAILQ_FIRST(&b->next)) != NULL)
					backend_part_move(p, &b->running);
				backend_batch_spawn(b);
			}
		}
		backend_batch_gc(b);
	}
	backend_req_free(req);
}

/* How many status processes run now (for the benchmarks and tests). */
int
backend_status_running(void)
{
	struct backend_batch	*b;
	int			 n = 0;

	LIST_FOREACH(b, &backend_batches, entry)
		if (b->job != NULL)
			n++;
	return (n);
}

/*
 * What is ready on one of a synchronous run's pipes, into its buffer (the
 * rest of a long output is read and dropped); at its end, close it.
 */
static void
backend_sync_read(struct pollfd *pfd, int *fd, char *buf, size_t *len)
{
	char	 tmp[16384];
	ssize_t	 n;

	if (pfd->fd == -1 || pfd->revents == 0)
		return;
	n = read(pfd->fd, tmp, sizeof(tmp));
	if (n == -1 && errno == EINTR)
		return;
	if (n <= 0) {
		close(pfd->fd);
		pfd->fd = *fd = -1;
		return;
	}
	if ((size_t)n > BACKEND_OUTPUT_MAX - *len)
		n = BACKEND_OUTPUT_MAX - *len;
	memcpy(buf + *len, tmp, n);
	*len += n;
}

/*
 * Without an event loop (vmlaunch -s when no supervisor answers): run
 * argv to its end under the time limit, then kill its whole group.  -1
 * with errno for a system error; otherwise *ran tells how it ended and
 * the output stays in bufs until the caller frees them.
 */
static int
backend_sync_run(struct config *conf, char **argv, char **envp,
    struct backend_ran *ran, char *bufs[2])
{
	struct pollfd	 pfd[2];
	size_t		 len[2] = { 0, 0 };
	long long	 deadline, grace = -1, now, ms;
	int		 fds[2] = { -1, -1 }, i, reaped = 0, rc = -1, saved;
	int		 status = 0, exec_errno = 0, timed_out = 0;
	pid_t		 pid = -1;

	memset(ran, 0, sizeof(*ran));
	ran->prog = argv[0];
	ran->timeout_ms = backend_timeout_ms(conf);
	bufs[0] = bufs[1] = NULL;
	for (i = 0; i < 2; i++) {
		if ((bufs[i] = malloc(BACKEND_OUTPUT_MAX + 1)) == NULL)
			goto done;
	}
	if ((pid = job_spawn(argv, envp, &fds[0], &fds[1],
	    &exec_errno)) == -1)
		goto done;

	deadline = now_ms() + ran->timeout_ms;
	for (i = 0; i < 2; i++) {
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	while (pfd[0].fd != -1 || pfd[1].fd != -1) {
		now = now_ms();
		if (!reaped && waitpid(pid, &status, WNOHANG) == pid) {
			reaped = 1;
			grace = now + BACKEND_GRACE_MS;
		}
		if (!reaped && now >= deadline) {
			timed_out = 1;
			(void)killpg(pid, SIGKILL);
			break;
		}
		if (reaped && now >= grace)
			break;	/* a grandchild holds the pipes */
		/* Wake up now and then to notice the exit. */
		ms = (reaped ? grace : deadline) - now;
		if (ms > 100)
			ms = 100;
		if (poll(pfd, 2, (int)ms) == -1) {
			if (errno == EINTR)
				continue;
			goto done;
		}
		for (i = 0; i < 2; i++)
			backend_sync_read(&pfd[i], &fds[i], bufs[i], &len[i]);
	}
	while (!reaped && waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			goto done;
	}
	reaped = 1;
	for (i = 0; i < 2; i++)
		bufs[i][len[i]] = '\0';
	ran->out = bufs[0];
	ran->outlen = len[0];
	ran->err = bufs[1];
	ran->errlen = len[1];
	if (exec_errno != 0) {
		ran->how = BACKEND_EXEC;
		ran->code = exec_errno;
	} else if (timed_out)
		ran->how = BACKEND_TIMEOUT;
	else if (WIFSIGNALED(status)) {
		ran->how = BACKEND_SIGNALED;
		ran->code = WTERMSIG(status);
	} else
		ran->code = WEXITSTATUS(status);
	rc = 0;

done:
	saved = errno;
	if (!reaped && pid > 0) {
		(void)killpg(pid, SIGKILL);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
	}
	for (i = 0; i < 2; i++)
		if (fds[i] != -1)
			close(fds[i]);
	if (rc == -1) {
		free(bufs[0]);
		free(bufs[1]);
		bufs[0] = bufs[1] = NULL;
	}
	errno = saved;
	return (rc);
}

/* `vmctl status` for backend_status_sync(). */
static int
backend_status_sync_vmd(struct config *conf, struct vmd_row **rows,
    size_t *nrows, char *err, size_t errlen)
{
	struct backend_ran	 ran;
	char			**argv, *bufs[2];
	int			  rc = -1;

	if ((argv = backend_vmd_argv(conf, BACKEND_STATUS, NULL)) == NULL) {
		snprintf(err, errlen, "vmctl: %s", strerror(errno));
		return (-1);
	}
	if (backend_sync_run(conf, argv, NULL, &ran, bufs) == -1)
		snprintf(err, errlen, "vmctl status: %s", strerror(errno));
	else {
		rc = vmctl_outcome_status(&ran, rows, nrows, err, errlen);
		free(bufs[0]);
		free(bufs[1]);
	}
	job_argv_free(argv);
	return (rc);
}

/* A status command for backend_status_sync(): its row, unknown on error. */
static void
backend_status_sync_command(struct config *conf, const char *name,
    struct vmd_row **rows, size_t *nrows, size_t *size)
{
	struct backend_result	 res;
	struct backend_ran	 ran;
	struct vmd_row		 row;
	char *const		*cmds;
	char			*argv[6], **envp, nm[VM_NAME_MAX], *bufs[2];

	memset(&res, 0, sizeof(res));
	(void)strlcpy(nm, name, sizeof(nm));
	if ((cmds = backend_commands(conf, name)) == NULL ||
	    cmds[BACKEND_STATUS] == NULL) {
		backend_add_failed(rows, nrows, size, name, "no status command");
		return;
	}
	if ((envp = backend_command_env(name, BACKEND_STATUS)) == NULL) {
		backend_add_failed(rows, nrows, size, name, strerror(errno));
		return;
	}
	backend_command_argv(cmds, BACKEND_STATUS, nm, argv);
	if (backend_sync_run(conf, argv, envp, &ran, bufs) == -1) {
		backend_add_failed(rows, nrows, size, name, strerror(errno));
		job_argv_free(envp);
		return;
	}
	job_argv_free(envp);
	vmctl_outcome_command(BACKEND_STATUS, name, &ran, &res, &row);
	if (res.ok)
		backend_add_row(rows, nrows, size, &row);
	else
		backend_add_failed(rows, nrows, size, name, res.msg);
	free(bufs[0]);
	free(bufs[1]);
}

/*
 * The status of every VM for a process without an event loop (vmlaunch
 * -s with no supervisor): vmctl if a VM uses vmd, then each status
 * command in turn, each with the same time limit.
 */
int
backend_status_sync(struct config *conf, struct vmd_row **rows, size_t *nrows,
    char *err, size_t errlen)
{
	struct vmconf	*vm;
	size_t		 size, i;

	*rows = NULL;
	*nrows = 0;
	if (backend_needs_vmd(conf) && backend_status_sync_vmd(conf, rows, nrows,
	    err, errlen) == -1)
		return (-1);
	size = *nrows;
	TAILQ_FOREACH(vm, &conf->vms, entry) {
		if (vm->backend.type != BACKEND_COMMAND)
			continue;
		/* A command VM's own answer counts, not a vmd namesake's. */
		for (i = 0; i < *nrows; i++) {
			if (strcmp((*rows)[i].name, vm->name) == 0) {
				memmove(&(*rows)[i], &(*rows)[i + 1],
				    (*nrows - i - 1) * sizeof(**rows));
				(*nrows)--;
				i--;
			}
		}
		backend_status_sync_command(conf, vm->name, rows, nrows, &size);
	}
	if (err != NULL && errlen > 0)
		*err = '\0';
	return (0);
}
