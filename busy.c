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
 * The busy check: `idle check "command"` run in the guest when an idle
 * deadline comes, the way autostart runs apps: `ssh -T -o BatchMode=yes
 * NAME.DOMAIN command`, through the user's ssh_config and so through
 * vmlaunch as ProxyCommand.  VMLAUNCH_SESSION=check in its environment
 * makes that a session that never boots the VM and is no use of it
 * (client.c, session.c).  Exit 0 means busy; any other exit means idle,
 * and so does a check that cannot connect (ssh's 255) or runs out of its
 * time, whose process group is then killed.
 *
 * Lifetime: a check belongs to its caller (idle.c) from busy_start()
 * until its callback has run or busy_cancel(); it owns its job.  The
 * callback runs once, from the event loop, and the check is freed when
 * it returns.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmlaunch.h"

#define BUSY_SSH_FAILED		255	/* ssh: no connection, or the like */

struct busy {
	struct job		*job;
	char			*command;
	busy_cb			 cb;
	void			*arg;
};

static struct config	*busy_conf;

static void	 busy_done(struct job *, void *);

void
busy_configure(struct config *conf)
{
	busy_conf = conf;
}

struct busy *
busy_start(const char *name, const char *command, long long timeout_ms,
    busy_cb cb, void *arg)
{
	struct busy	*b;
	const char	*extra[6];
	char		**argv, **env, *host, *set[2];

	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->command = strdup(command)) == NULL)
		fatal("busy");
	b->cb = cb;
	b->arg = arg;
	host = config_app_host(busy_conf, name);
	/* The command goes to the guest's shell; none runs it here. */
	extra[0] = "-T";
	extra[1] = "-o";
	extra[2] = "BatchMode=yes";
	extra[3] = host;
	extra[4] = command;
	extra[5] = NULL;
	if ((argv = job_argv(config_ssh(busy_conf), extra)) == NULL)
		fatal("argv");
	set[0] = "VMLAUNCH_SESSION=check";
	set[1] = NULL;
	if ((env = job_env(set)) == NULL)
		fatal("environment");
	b->job = job_run(argv, env, timeout_ms, NULL, busy_done, b);
	job_argv_free(env);
	job_argv_free(argv);
	free(host);
	if (b->job == NULL) {
		log_warn("busy check: could not run %s", config_ssh(busy_conf));
		free(b->command);
		free(b);
		return (NULL);
	}
	return (b);
}

void
busy_cancel(struct busy *b)
{
	if (b == NULL)
		return;
	job_cancel(b->job);
	free(b->command);
	free(b);
}

/* How it ended, in words: busy, or why idle. */
static void
busy_done(struct job *job, void *arg)
{
	struct busy	*b = arg;
	const char	*out;
	char		 line[160], how[128], why[400];
	size_t		 len;
	int		 status = job_status(job), busy = 0;

	b->job = NULL;
	out = job_output(job, 2, &len);
	vmctl_lastline(out, len, line, sizeof(line));
	if (*line == '\0') {
		out = job_output(job, 1, &len);
		vmctl_lastline(out, len, line, sizeof(line));
	}
	job_describe(job, how, sizeof(how));
	if (job_exec_errno(job) != 0 || job_timed_out(job) ||
	    !WIFEXITED(status))
		snprintf(why, sizeof(why), "check \"%s\" %s", b->command, how);
	else if (WEXITSTATUS(status) == 0) {
		busy = 1;
		snprintf(why, sizeof(why), "check \"%s\" says busy%s%s%s",
		    b->command, *line ? " (" : "", line, *line ? ")" : "");
	} else if (WEXITSTATUS(status) == BUSY_SSH_FAILED)
		snprintf(why, sizeof(why), "check \"%s\" could not run%s%s",
		    b->command, *line ? ": " : "", line);
	else
		snprintf(why, sizeof(why), "check \"%s\" %s%s%s", b->command,
		    how, *line ? ": " : "", line);
	b->cb(busy, why, b->arg);
	free(b->command);
	free(b);
}
