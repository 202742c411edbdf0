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
 * vmlaunch -s: the status table.  A supervisor that answers on the
 * control socket gives its view (who it is, then a row per VM: its
 * state, sessions, hold, apps and, shown with -v, its recent history);
 * without one, vmctl's view alone is asked here.  With a broken config
 * file, only a supervisor that answers can say anything: it runs the
 * config it loaded before.  Everything the supervisor sends is escaped
 * before it reaches the terminal.
 */

#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "vmlaunch.h"

#define STATUS_SILENCE		15000	/* ms for the socket to accept */
#define STATUS_MARGIN		10000	/* ms beyond vmctl's limit */
#define STATUS_HEADER		"%-*s %-9s %-9s %8s %7s %7s %s\n"

struct status_reply {
	struct ctl_status_sup	 sup;
	int			 has_sup;
	struct ctl_status_vm	*rows;
	size_t			 nrows;
};

/* "Nov 30 14:03:12", as syslog stamps its lines. */
static const char *
status_time(time_t t, char *buf, size_t len)
{
	struct tm	 tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%b %e %H:%M:%S", &tm);
	return (buf);
}

/*
 * Connect to the supervisor: 0 with *fd, or with *fd -1 when none runs;
 * -1 after a message.
 */
static int
status_connect(struct config *conf, int *fd)
{
	char		*dir, *path = NULL, msg[512];
	long long	 deadline;
	int		 rc = 0;

	*fd = -1;
	if ((dir = config_dir_path(conf)) != NULL &&
	    (path = config_socket_path(conf)) != NULL &&
	    access(dir, X_OK) == 0 &&
	    config_dir_check(dir, 0, msg, sizeof(msg)) == 0) {
		deadline = now_ms() + STATUS_SILENCE;
		while ((*fd = client_connect(path, deadline)) == -1 &&
		    errno == EAGAIN && now_ms() < deadline)
			(void)poll(NULL, 0, 50);
		if (*fd == -1 && errno == EAGAIN) {
			warnx("the supervisor on %s did not answer within "
			    "%llds", path, (long long)STATUS_SILENCE / 1000);
			rc = -1;
		}
	} else if (dir != NULL && access(dir, X_OK) == 0)
		warnx("%s", msg);
	free(dir);
	free(path);
	return (rc);
}

/* No supervisor: what vmctl (or the status commands) says. */
static int
status_offline(struct config *conf)
{
	struct vmd_row		*vrows = NULL;
	const struct vmd_row	*vr;
	struct vmconf		*vmc;
	size_t			 nvrows = 0, w = 4;
	char			 msg[512];

	if (backend_status_sync(conf, &vrows, &nvrows, msg,
	    sizeof(msg)) == -1) {
		warnx("%s", msg);
		return (1);
	}
	TAILQ_FOREACH(vmc, &conf->vms, entry)
		if (strlen(vmc->name) > w)
			w = strlen(vmc->name);
	printf(STATUS_HEADER, (int)w, "NAME", "VMD", "STATE", "SESSIONS",
	    "STARTED", "IDLE", "ADDRESS");
	TAILQ_FOREACH(vmc, &conf->vms, entry) {
		vr = vmctl_find_row(vrows, nvrows, vmc->name);
		printf(STATUS_HEADER, (int)w, vmc->name, vr != NULL ?
		    vmd_state_name(vr->state) : vmd_state_name(VMD_ABSENT),
		    "-", "-", "-", "-", "-");
	}
	printf("no supervisor running\n");
	free(vrows);
	return (0);
}

/* Every text field of a row, escaped in place. */
static void
status_clean(struct ctl_status_vm *r)
{
	uint32_t	 i;

	client_clean(r->name, sizeof(r->name));
	client_clean(r->vmd_state, sizeof(r->vmd_state));
	client_clean(r->state, sizeof(r->state));
	client_clean(r->address, sizeof(r->address));
	for (i = 0; i < r->napps && i < STATUS_APPS_MAX; i++) {
		client_clean(r->apps[i].command, sizeof(r->apps[i].command));
		client_clean(r->apps[i].state, sizeof(r->apps[i].state));
	}
	for (i = 0; i < r->nevents && i < HISTORY_MAX; i++)
		client_clean(r->events[i].text, sizeof(r->events[i].text));
}

/* Read the supervisor's answer to CTL_STATUS: -1 after a message. */
static int
status_fetch(struct config *conf, int fd, struct status_reply *rep)
{
	struct ctl_status_vm	*r;
	struct buf		 b;
	uint32_t		 type;
	int			 n, wait, rc = -1;

	buf_init(&b);
	if (ctl_send(fd, CTL_STATUS, NULL, -1) == -1) {
		warn("send to supervisor");
		goto done;
	}
	/* The supervisor runs vmctl status first: its limit, and more. */
	wait = (conf->vmctl_timeout > 0 ? conf->vmctl_timeout :
	    DEFAULT_VMCTL_TIMEOUT) * 1000 + STATUS_MARGIN;
	for (;;) {
		/*
		 * The table is printed only once it is complete: an answer
		 * cut off (between messages or inside one) shows nothing.
		 */
		n = ctl_recv(fd, &type, &b, NULL, wait);
		if (n == 0 || (n == -1 && errno == ECONNRESET)) {
			warnx("the supervisor's answer broke off, the "
			    "connection closed: no status shown");
			goto done;
		}
		if (n == -1) {
			if (errno == ETIMEDOUT)
				warnx("the supervisor did not answer within "
				    "%ds", wait / 1000);
			else
				warn("supervisor");
			goto done;
		}
		if (type == CTL_STATUS_END && b.len == 0)
			break;
		if (type == CTL_STATUS_SUP && !rep->has_sup &&
		    rep->nrows == 0 && ctl_unpack_status_sup(b.data, b.len,
		    &rep->sup) == 0) {
			client_clean(rep->sup.config, sizeof(rep->sup.config));
			rep->has_sup = 1;
			continue;
		}
		if (type != CTL_STATUS_VM) {
			warnx("unexpected %s message from the supervisor",
			    ctl_type_name(type));
			goto done;
		}
		if ((r = reallocarray(rep->rows, rep->nrows + 1,
		    sizeof(*r))) == NULL)
			fatal("status");
		rep->rows = r;
		r = &rep->rows[rep->nrows];
		if (ctl_unpack_status_vm(b.data, b.len, r) == -1) {
			warnx("bad status message from the supervisor");
			goto done;
		}
		status_clean(r);
		rep->nrows++;
	}
	rc = 0;
 done:
	buf_free(&b);
	return (rc);
}

/* Under a VM's row: its hold, its apps, and with -v its history. */
static void
status_vm_lines(const struct ctl_status_vm *r, int verbose)
{
	char		 t[32];
	uint32_t	 i;

	if (r->held && r->hold_left < 0)
		printf("    hold: until released\n");
	else if (r->held)
		printf("    hold: %s left\n", client_duration(r->hold_left, t,
		    sizeof(t)));
	for (i = 0; i < r->napps; i++) {
		printf("    autostart \"%s\": %s, %u restart%s",
		    r->apps[i].command, r->apps[i].state, r->apps[i].restarts,
		    r->apps[i].restarts == 1 ? "" : "s");
		if (r->apps[i].pid > 0)
			printf(", pid %d", (int)r->apps[i].pid);
		printf("\n");
	}
	for (i = 0; verbose && i < r->nevents; i++)
		printf("    %s %s\n", status_time(r->events[i].when / 1000, t,
		    sizeof(t)), r->events[i].text);
}

static void
status_print(const struct status_reply *rep, int verbose, int broken)
{
	const struct ctl_status_vm	*r;
	size_t				 i, w = 4;
	char				 idle[32], t[32];
	int				 removed = 0;

	for (i = 0; i < rep->nrows; i++)
		if (strlen(rep->rows[i].name) + 1 > w)
			w = strlen(rep->rows[i].name) + 1;
	printf(STATUS_HEADER, (int)w, "NAME", "VMD", "STATE", "SESSIONS",
	    "STARTED", "IDLE", "ADDRESS");
	for (i = 0; i < rep->nrows; i++) {
		r = &rep->rows[i];
		if (!r->configured)
			removed = 1;
		if (r->idle_left < 0)
			(void)strlcpy(idle, "-", sizeof(idle));
		else
			client_duration(r->idle_left, idle, sizeof(idle));
		printf("%s%-*s %-9s %-9s %8u %7s %7s %s\n", r->name,
		    (int)(w - strlen(r->name)), r->configured ? "" : "*",
		    r->vmd_state[0] ? r->vmd_state : "-",
		    r->state[0] ? r->state : "-", r->sessions,
		    r->started ? "yes" : "no", idle,
		    r->address[0] ? r->address : "-");
		status_vm_lines(r, verbose);
	}
	if (removed)
		printf("* no longer in the configuration, managed until it "
		    "stops\n");
	if (rep->has_sup)
		printf("supervisor: pid %u, since %s, config %s\n",
		    rep->sup.pid, status_time(rep->sup.since, t, sizeof(t)),
		    rep->sup.config);
	if (broken)
		warnx("the configuration has errors: this is the view of the "
		    "running supervisor, with the configuration it loaded "
		    "before");
}

int
status_main(struct config *conf, int broken, int verbose)
{
	struct status_reply	 rep;
	char			*path;
	int			 fd, rc = 1;

	signal(SIGPIPE, SIG_IGN);
	log_init(1, LOG_USER);
	if (status_connect(conf, &fd) == -1)
		return (1);
	if (fd == -1 && broken) {
		path = config_socket_path(conf);
		warnx("the configuration has errors and no supervisor "
		    "answers on %s", path != NULL ? path : "its socket");
		free(path);
		return (1);
	}
	if (fd == -1)
		return (status_offline(conf));
	memset(&rep, 0, sizeof(rep));
	if (status_fetch(conf, fd, &rep) == 0) {
		status_print(&rep, verbose, broken);
		rc = 0;
	}
	close(fd);
	free(rep.rows);
	return (rc);
}
