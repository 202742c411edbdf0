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
 * The vmd backend: run vmctl (an argv, never a shell) with a time limit
 * and make sense of what it says.  `vmctl status` is parsed by its header,
 * since the STATE column is missing in old releases, and its exit status
 * is not trusted (see VMCTL.md); start and stop report vmctl's own words.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmlaunch.h"

#define VMCTL_TOKENS_MAX	16
#define VMCTL_QUOTE_MAX		60	/* of an offending line, in errors */
#define VMCTL_OUTPUT_MAX	(256 * 1024)
#define VMCTL_GRACE_MS		1000

enum vmctl_op {
	VMCTL_OP_STATUS,
	VMCTL_OP_START,
	VMCTL_OP_STOP
};

struct vmctl_req {
	enum vmctl_op		 op;
	char			 name[VM_NAME_MAX];
	int			 has_name;
	vmctl_cb		 cb;
	void			*arg;
};

struct vmctl_cols {
	int			 n;
	int			 id;
	int			 pid;
	int			 state;		/* -1: old release */
	int			 name;
};

static const char *const vmd_states[] = {
	[VMD_ABSENT] = "absent",
	[VMD_RUNNING] = "running",
	[VMD_STOPPED] = "stopped",
	[VMD_STOPPING] = "stopping",
	[VMD_PAUSED] = "paused",
	[VMD_WAITING] = "waiting",
	[VMD_UNKNOWN] = "unknown"
};

static int	 vmctl_tokens(char *, char **, int);
static void	 vmctl_quote(const char *, char *, size_t);
static int	 vmctl_header(char **, int, struct vmctl_cols *);
static int	 vmctl_row(char **, int, const struct vmctl_cols *,
		    struct vmd_row *);
static int	 vmctl_number(const char *, unsigned int *);
static void	 vmctl_stderr(const char *, size_t, char *, size_t);
static int	 vmctl_status_outcome(const char *, size_t, const char *,
		    size_t, int, struct vmd_row **, size_t *, char *, size_t);
static struct job *vmctl_run(struct config *, enum vmctl_op, const char *,
		    const char *const *, vmctl_cb, void *);
static void	 vmctl_done(struct job *, void *);
static long long vmctl_timeout_ms(struct config *);
static long long vmctl_now_ms(void);

const char *
vmd_state_name(enum vmd_state state)
{
	if ((size_t)state >= nitems(vmd_states))
		return ("unknown");
	return (vmd_states[state]);
}

/* Split on blanks in place; more than max tokens is an error (-1). */
static int
vmctl_tokens(char *line, char **tok, int max)
{
	int	 n = 0;
	char	*p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			*p++ = '\0';
		if (*p == '\0')
			return (n);
		if (n == max)
			return (-1);
		tok[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
	}
}

/* The offending line for an error: shortened and printable. */
static void
vmctl_quote(const char *line, char *buf, size_t len)
{
	char	 q[VMCTL_QUOTE_MAX + 4];
	size_t	 i;

	for (i = 0; line[i] != '\0' && i < VMCTL_QUOTE_MAX; i++)
		q[i] = isprint((unsigned char)line[i]) ? line[i] : '?';
	q[i] = '\0';
	if (line[i] != '\0')
		(void)strlcat(q, "...", sizeof(q));
	snprintf(buf, len, "unexpected output: \"%s\"", q);
}

static int
vmctl_header(char **tok, int ntok, struct vmctl_cols *c)
{
	int	 i;

	c->n = ntok;
	c->id = c->pid = c->state = c->name = -1;
	for (i = 0; i < ntok; i++) {
		if (strcmp(tok[i], "ID") == 0)
			c->id = i;
		else if (strcmp(tok[i], "PID") == 0)
			c->pid = i;
		else if (strcmp(tok[i], "STATE") == 0)
			c->state = i;
		else if (strcmp(tok[i], "NAME") == 0)
			c->name = i;
	}
	/* NAME is the last column; without STATE, PID tells the state. */
	if (c->id == -1 || c->name != ntok - 1 ||
	    (c->state == -1 && c->pid == -1))
		return (-1);
	return (0);
}

static int
vmctl_number(const char *s, unsigned int *v)
{
	unsigned long long	 n = 0;

	if (*s == '\0')
		return (-1);
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return (-1);
		n = n * 10 + (*s - '0');
		if (n > UINT_MAX)
			return (-1);
	}
	*v = n;
	return (0);
}

static int
vmctl_row(char **tok, int ntok, const struct vmctl_cols *c,
    struct vmd_row *row)
{
	const char	*s;
	unsigned int	 pid;
	int		 stopping = 0;
	size_t		 i;

	/* Releases up to 2018 append " - stopping" to the name. */
	if (ntok == c->n + 2 && strcmp(tok[c->n], "-") == 0 &&
	    strcmp(tok[c->n + 1], "stopping") == 0)
		stopping = 1;
	else if (ntok != c->n)
		return (-1);

	memset(row, 0, sizeof(*row));
	if (vmctl_number(tok[c->id], &row->id) == -1)
		return (-1);
	row->has_id = 1;
	if (strlcpy(row->name, tok[c->name], sizeof(row->name)) >=
	    sizeof(row->name))
		return (-1);
	if (c->pid != -1 && strcmp(tok[c->pid], "-") != 0 &&
	    vmctl_number(tok[c->pid], &pid) == -1)
		return (-1);

	if (stopping)
		row->state = VMD_STOPPING;
	else if (c->state == -1)
		row->state = strcmp(tok[c->pid], "-") == 0 ?
		    VMD_STOPPED : VMD_RUNNING;
	else {
		s = tok[c->state];
		row->state = VMD_UNKNOWN;
		for (i = VMD_RUNNING; i < nitems(vmd_states); i++) {
			if (strcmp(s, vmd_states[i]) == 0)
				row->state = i;
		}
	}
	return (0);
}

/*
 * Parse `vmctl status` output: a header, then one row per VM.  Returns 0
 * with a malloc'd array (NULL for no rows) that the caller frees, or -1
 * with a message quoting the offending line.
 */
int
vmctl_parse_status(const char *buf, size_t len, struct vmd_row **rowsp,
    size_t *nrowsp, char *err, size_t errlen)
{
	struct vmctl_cols	 cols;
	struct vmd_row		*rows = NULL, *p;
	size_t			 nrows = 0, size = 0;
	char			*copy = NULL, *line, *next, *tok[VMCTL_TOKENS_MAX];
	int			 ntok, header = 0;

	*rowsp = NULL;
	*nrowsp = 0;
	memset(&cols, 0, sizeof(cols));
	if ((copy = malloc(len + 1)) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return (-1);
	}
	memcpy(copy, buf, len);
	copy[len] = '\0';

	for (line = copy; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else if (line - copy + strlen(line) != len) {
			vmctl_quote(line, err, errlen);	/* a NUL byte */
			goto fail;
		}
		vmctl_quote(line, err, errlen);
		if ((ntok = vmctl_tokens(line, tok, nitems(tok))) == 0)
			continue;
		if (ntok == -1)
			goto fail;
		if (!header) {
			if (vmctl_header(tok, ntok, &cols) == -1)
				goto fail;
			header = 1;
			continue;
		}
		if (nrows == size) {
			size = size ? size * 2 : 8;
			if ((p = reallocarray(rows, size, sizeof(*p))) == NULL) {
				snprintf(err, errlen, "%s", strerror(errno));
				goto fail;
			}
			rows = p;
		}
		if (vmctl_row(tok, ntok, &cols, &rows[nrows]) == -1)
			goto fail;
		nrows++;
	}
	if (!header) {
		snprintf(err, errlen, "no output");
		goto fail;
	}
	free(copy);
	if (err != NULL && errlen > 0)
		*err = '\0';
	*rowsp = rows;
	*nrowsp = nrows;
	return (0);

fail:
	free(copy);
	free(rows);
	return (-1);
}

/* Exact match on NAME: "build01x" is not "build01". */
const struct vmd_row *
vmctl_find_row(const struct vmd_row *rows, size_t nrows, const char *name)
{
	size_t	 i;

	for (i = 0; i < nrows; i++) {
		if (strcmp(rows[i].name, name) == 0)
			return (&rows[i]);
	}
	return (NULL);
}

/*
 * The configured command split on blanks (no shell, no quoting), then the
 * extra arguments; NULL-terminated, free with vmctl_argv_free().
 */
char **
vmctl_argv(const char *cmdline, const char *const *extra)
{
	char		**argv, *copy, *p, *word;
	size_t		  n = 0, nextra = 0, i;

	if (cmdline == NULL)
		cmdline = VMCTL_PATH;
	while (extra != NULL && extra[nextra] != NULL)
		nextra++;
	if ((copy = strdup(cmdline)) == NULL)
		return (NULL);
	/* Enough slots for every word of an alternating worst case. */
	if ((argv = calloc(strlen(copy) / 2 + 2 + nextra,
	    sizeof(*argv))) == NULL) {
		free(copy);
		return (NULL);
	}
	for (p = copy; (word = strsep(&p, " \t")) != NULL;) {
		if (*word == '\0')
			continue;
		if ((argv[n++] = strdup(word)) == NULL)
			goto fail;
	}
	if (n == 0) {
		errno = EINVAL;
		goto fail;
	}
	for (i = 0; i < nextra; i++) {
		if ((argv[n++] = strdup(extra[i])) == NULL)
			goto fail;
	}
	argv[n] = NULL;
	free(copy);
	return (argv);

fail:
	free(copy);
	vmctl_argv_free(argv);
	return (NULL);
}

void
vmctl_argv_free(char **argv)
{
	size_t	 i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

static long long
vmctl_timeout_ms(struct config *conf)
{
	if (conf == NULL || conf->vmctl_timeout <= 0)
		return (DEFAULT_VMCTL_TIMEOUT * 1000LL);
	return (conf->vmctl_timeout * 1000LL);
}

/* vmctl's stderr as one line: lines trimmed and joined with "; ". */
static void
vmctl_stderr(const char *s, size_t len, char *msg, size_t msglen)
{
	size_t	 i, o = 0, start;
	int	 pending = 0;

	if (msglen == 0)
		return;
	for (i = 0; i < len && o + 1 < msglen; ) {
		while (i < len && isspace((unsigned char)s[i]))
			i++;
		start = i;
		while (i < len && s[i] != '\n')
			i++;
		while (i > start && isspace((unsigned char)s[i - 1]))
			i--;
		if (i > start) {
			if (pending && o + 3 < msglen) {
				msg[o++] = ';';
				msg[o++] = ' ';
			}
			for (; start < i && o + 1 < msglen; start++)
				msg[o++] = isprint((unsigned char)s[start]) ?
				    s[start] : '?';
			pending = 1;
		}
		while (i < len && s[i] != '\n')
			i++;
	}
	msg[o] = '\0';
}

/*
 * The outcome of a `vmctl status` that ran to its exit: the rows if the
 * output parses, whatever the exit status; else the most useful message.
 */
static int
vmctl_status_outcome(const char *out, size_t outlen, const char *errout,
    size_t errlen, int exitcode, struct vmd_row **rows, size_t *nrows,
    char *msg, size_t msglen)
{
	char	 perr[128];

	if (vmctl_parse_status(out, outlen, rows, nrows, perr,
	    sizeof(perr)) == 0) {
		vmctl_stderr(errout, errlen, msg, msglen);
		return (0);
	}
	vmctl_stderr(errout, errlen, msg, msglen);
	if (exitcode != 0 && *msg != '\0')
		return (-1);
	if (exitcode != 0)
		snprintf(msg, msglen, "vmctl status: exited with status %d",
		    exitcode);
	else
		snprintf(msg, msglen, "vmctl status: %s", perr);
	return (-1);
}

static struct job *
vmctl_run(struct config *conf, enum vmctl_op op, const char *name,
    const char *const *extra, vmctl_cb cb, void *arg)
{
	struct vmctl_req	*req;
	struct job		*job;
	char			**argv;
	int			  saved;

	if ((req = calloc(1, sizeof(*req))) == NULL)
		return (NULL);
	req->op = op;
	req->cb = cb;
	req->arg = arg;
	if (name != NULL) {
		(void)strlcpy(req->name, name, sizeof(req->name));
		req->has_name = 1;
	}
	if ((argv = vmctl_argv(conf->vmctl, extra)) == NULL) {
		saved = errno;
		free(req);
		errno = saved;
		return (NULL);
	}
	job = job_run(argv, NULL, vmctl_timeout_ms(conf), NULL, vmctl_done,
	    req);
	saved = errno;
	vmctl_argv_free(argv);
	if (job == NULL) {
		free(req);
		errno = saved;
		return (NULL);
	}
	/* The request goes with the job, whether it completes or not. */
	job_set_cleanup(job, free);
	return (job);
}

static void
vmctl_done(struct job *job, void *arg)
{
	struct vmctl_req	*req = arg;
	struct vmctl_result	 res;
	const char		*out, *errout;
	const char		*ops[] = { "status", "start", "stop" };
	char			 how[256];
	size_t			 outlen, errlen;
	int			 status;

	memset(&res, 0, sizeof(res));
	out = job_output(job, 1, &outlen);
	errout = job_output(job, 2, &errlen);
	status = job_status(job);
	job_describe(job, how, sizeof(how));

	if (strncmp(how, "could not run ", 14) == 0) {
		/* job.c's wording for an exec failure */
		(void)strlcpy(res.msg, how, sizeof(res.msg));
	} else if (job_timed_out(job) || !WIFEXITED(status)) {
		snprintf(res.msg, sizeof(res.msg), "vmctl %s", how);
	} else if (req->op == VMCTL_OP_STATUS) {
		if (vmctl_status_outcome(out, outlen, errout, errlen,
		    WEXITSTATUS(status), &res.rows, &res.nrows, res.msg,
		    sizeof(res.msg)) == 0) {
			res.ok = 1;
			if (req->has_name)
				res.row = vmctl_find_row(res.rows, res.nrows,
				    req->name);
		}
	} else {
		vmctl_stderr(errout, errlen, res.msg, sizeof(res.msg));
		res.ok = WEXITSTATUS(status) == 0;
		if (!res.ok && res.msg[0] == '\0')
			snprintf(res.msg, sizeof(res.msg), "vmctl %s: %s",
			    ops[req->op], how);
	}

	if (req->cb != NULL)
		req->cb(&res, req->arg);
	free(res.rows);
}

/*
 * The asynchronous commands.  Each returns the job, which the caller may
 * job_cancel() (the callback is then never called), or NULL with errno
 * set when vmctl could not even be forked: the callback is not called
 * then either.  Otherwise the callback runs once, from the event loop;
 * the result and its rows are freed when it returns.
 */
struct job *
vmctl_status(struct config *conf, const char *name, vmctl_cb cb, void *arg)
{
	const char	*extra[] = { "status", name, NULL };

	return (vmctl_run(conf, VMCTL_OP_STATUS, name, extra, cb, arg));
}

struct job *
vmctl_start(struct config *conf, const char *name, vmctl_cb cb, void *arg)
{
	const char	*extra[] = { "start", name, NULL };

	return (vmctl_run(conf, VMCTL_OP_START, name, extra, cb, arg));
}

/* Never -w: a stop returns at once, the caller polls the status. */
struct job *
vmctl_stop(struct config *conf, const char *name, int force, vmctl_cb cb,
    void *arg)
{
	const char	*plain[] = { "stop", name, NULL };
	const char	*forced[] = { "stop", "-f", name, NULL };

	return (vmctl_run(conf, VMCTL_OP_STOP, name, force ? forced : plain,
	    cb, arg));
}

static long long
vmctl_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1000LL + ts.tv_nsec / 1000000);
}

/*
 * `vmctl status` for a process without an event loop (vmlaunch -s with no
 * supervisor): the same time limit, then the whole group is killed.
 */
int
vmctl_status_sync(struct config *conf, struct vmd_row **rows, size_t *nrows,
    char *err, size_t errlen)
{
	const char	*extra[] = { "status", NULL };
	char		**argv, *buf[2] = { NULL, NULL }, tmp[16384];
	size_t		  len[2] = { 0, 0 };
	struct pollfd	  pfd[2];
	long long	  timeout, deadline, grace = -1, now, ms;
	int		  outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int		  execp[2] = { -1, -1 }, nullfd = -1, fds[4];
	int		  i, e, exec_errno = 0, status = 0, reaped = 0;
	int		  timed_out = 0, rc = -1;
	pid_t		  pid = -1;
	ssize_t		  n;

	*rows = NULL;
	*nrows = 0;
	if ((argv = vmctl_argv(conf->vmctl, extra)) == NULL) {
		snprintf(err, errlen, "vmctl: %s", strerror(errno));
		return (-1);
	}
	for (i = 0; i < 2; i++) {
		if ((buf[i] = malloc(VMCTL_OUTPUT_MAX + 1)) == NULL)
			goto syserr;
	}
	if ((nullfd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    pipe2(outp, O_CLOEXEC) == -1 || pipe2(errp, O_CLOEXEC) == -1 ||
	    pipe2(execp, O_CLOEXEC) == -1)
		goto syserr;

	switch (pid = fork()) {
	case -1:
		goto syserr;
	case 0:
		(void)setpgid(0, 0);
		(void)signal(SIGPIPE, SIG_DFL);
		fds[0] = fcntl(nullfd, F_DUPFD, 4);
		fds[1] = fcntl(outp[1], F_DUPFD, 4);
		fds[2] = fcntl(errp[1], F_DUPFD, 4);
		fds[3] = fcntl(execp[1], F_DUPFD, 4);
		for (i = 0; i < 4; i++) {
			if (fds[i] == -1 || dup2(fds[i], i) == -1)
				_exit(127);
		}
		(void)fcntl(3, F_SETFD, FD_CLOEXEC);
		closefrom(4);
		execvp(argv[0], argv);
		e = errno;
		(void)write(3, &e, sizeof(e));
		_exit(127);
	}
	(void)setpgid(pid, pid);
	close(nullfd);
	close(outp[1]);
	close(errp[1]);
	close(execp[1]);
	nullfd = outp[1] = errp[1] = execp[1] = -1;
	do {
		n = read(execp[0], &e, sizeof(e));
	} while (n == -1 && errno == EINTR);
	if (n == sizeof(e))
		exec_errno = e;
	close(execp[0]);
	execp[0] = -1;

	timeout = vmctl_timeout_ms(conf);
	deadline = vmctl_now_ms() + timeout;
	pfd[0].fd = outp[0];
	pfd[1].fd = errp[0];
	pfd[0].events = pfd[1].events = POLLIN;
	while (pfd[0].fd != -1 || pfd[1].fd != -1) {
		now = vmctl_now_ms();
		if (!reaped && waitpid(pid, &status, WNOHANG) == pid) {
			reaped = 1;
			grace = now + VMCTL_GRACE_MS;
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
			goto syserr;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			n = read(pfd[i].fd, tmp, sizeof(tmp));
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				if (i == 0)
					outp[0] = -1;
				else
					errp[0] = -1;
				continue;
			}
			if ((size_t)n > VMCTL_OUTPUT_MAX - len[i])
				n = VMCTL_OUTPUT_MAX - len[i];
			memcpy(buf[i] + len[i], tmp, n);
			len[i] += n;
		}
	}
	while (!reaped && waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			goto syserr;
	}
	reaped = 1;

	if (exec_errno != 0)
		snprintf(err, errlen, "could not run %s: %s", argv[0],
		    strerror(exec_errno));
	else if (timed_out)
		snprintf(err, errlen, "vmctl timed out after %llds",
		    timeout / 1000);
	else if (!WIFEXITED(status))
		snprintf(err, errlen, "vmctl killed by signal %d",
		    WTERMSIG(status));
	else
		rc = vmctl_status_outcome(buf[0], len[0], buf[1], len[1],
		    WEXITSTATUS(status), rows, nrows, err, errlen);
	goto done;

syserr:
	snprintf(err, errlen, "vmctl status: %s", strerror(errno));
	if (!reaped && pid > 0) {
		(void)killpg(pid, SIGKILL);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
	}
done:
	if (nullfd != -1)
		close(nullfd);
	for (i = 0; i < 2; i++) {
		if (outp[i] != -1)
			close(outp[i]);
		if (errp[i] != -1)
			close(errp[i]);
		if (execp[i] != -1)
			close(execp[i]);
		free(buf[i]);
	}
	vmctl_argv_free(argv);
	return (rc);
}
