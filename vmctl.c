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
 * The backends behind one API.  vmd: run vmctl (an argv, never a shell)
 * with a time limit and make sense of what it says.  `vmctl status` is
 * parsed by its header, since the STATE column is missing in old
 * releases, and its exit status is not trusted (see VMCTL.md); start and
 * stop report vmctl's own words.  A VM with `backend command` runs the
 * user's commands instead, as /bin/sh -c COMMAND vmlaunch-backend NAME,
 * under the same time limit; a status command's answer becomes the same
 * struct vmd_row that vmctl's would, so the supervisor cannot tell.
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
#define VMCTL_ARGV0		"vmlaunch-backend"	/* $0 of a command */
#define VMCTL_EXPECT		"expected running, stopped or stopping"

enum vmctl_op {
	VMCTL_OP_STATUS,
	VMCTL_OP_START,
	VMCTL_OP_STOP
};

struct vmctl_multi;

struct vmctl_req {
	enum vmctl_op		 op;
	char			 name[VM_NAME_MAX];
	int			 has_name;
	int			 command;	/* a backend command, not vmctl */
	enum backend_cmd	 which;		/* command: which one */
	struct vmctl_multi	*multi;		/* part of a status of all */
	size_t			 part;		/* its index there */
	vmctl_cb		 cb;
	void			*arg;
};

/*
 * `status` of every VM when some use commands: vmctl (if a VM needs it)
 * and each status command run at once, their rows merged.  The caller
 * holds one job for the lot: a sentinel child that lives until the parts
 * are done, so that cancelling it cancels them all.
 */
struct vmctl_multi {
	vmctl_cb		 cb;
	void			*arg;
	struct job		*sentinel;
	struct job		**parts;
	struct vmctl_req	**reqs;
	size_t			 nparts;
	size_t			 pending;
	int			 vmd_part;	/* parts[0] is vmctl */
	int			 vmd_ok;
	char			 vmd_msg[512];
	struct vmd_row		*rows;
	size_t			 nrows;
	size_t			 size;
};

/*
 * The command backend of each VM this process has run a command for:
 * a VM that a reload removed is still stopped with its own commands.
 */
struct vmctl_known {
	LIST_ENTRY(vmctl_known)	 entry;
	char			 name[VM_NAME_MAX];
	char			*cmd[BACKEND_NCMDS];
};
static LIST_HEAD(, vmctl_known) vmctl_knowns =
    LIST_HEAD_INITIALIZER(vmctl_knowns);

/* What a command did, however it ran. */
struct vmctl_ran {
	const char		*out;
	size_t			 outlen;
	const char		*err;
	size_t			 errlen;
	const char		*how;		/* NULL: exited, see code */
	int			 code;		/* exit status */
};

static const char *const vmctl_cmd_words[BACKEND_NCMDS] = {
	[BACKEND_START] = "start",
	[BACKEND_STOP] = "stop",
	[BACKEND_KILL] = "force stop",
	[BACKEND_STATUS] = "status"
};

static const char *const vmctl_actions[BACKEND_NCMDS] = {
	[BACKEND_START] = "start",
	[BACKEND_STOP] = "stop",
	[BACKEND_KILL] = "kill",
	[BACKEND_STATUS] = "status"
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
		    const char *const *, vmctl_cb, void *,
		    struct vmctl_multi *, size_t);
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

/*
 * The backend commands of vm name, or NULL when it uses vmd.  A VM that a
 * reload removed keeps the commands it was last run with.
 */
static char *const *
vmctl_backend(struct config *conf, const char *name)
{
	struct vmconf		*vm;
	struct vmctl_known	*k;
	char			*p;
	int			 i;

	if (conf == NULL || name == NULL)
		return (NULL);
	LIST_FOREACH(k, &vmctl_knowns, entry)
		if (strcmp(k->name, name) == 0)
			break;
	TAILQ_FOREACH(vm, &conf->vms, entry)
		if (strcmp(vm->name, name) == 0)
			break;
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
		LIST_INSERT_HEAD(&vmctl_knowns, k, entry);
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

/* Does the status of every VM need vmctl, and how many commands? */
static void
vmctl_count(struct config *conf, int *vmd, size_t *ncmd)
{
	struct vmconf	*vm;

	*vmd = 0;
	*ncmd = 0;
	TAILQ_FOREACH(vm, &conf->vms, entry) {
		if (vm->backend.type == BACKEND_COMMAND)
			(*ncmd)++;
		else
			*vmd = 1;
	}
	/* With no VM configured, vmctl's view is all there is to show. */
	if (TAILQ_EMPTY(&conf->vms))
		*vmd = 1;
}

/*
 * The environment of a command: ours, with VMLAUNCH_VM and
 * VMLAUNCH_ACTION first.  Free with vmctl_env_free().
 */
static char **
vmctl_env(const char *name, enum backend_cmd which)
{
	extern char	**environ;
	char		**env;
	size_t		  n = 0, i, j = 2;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 3, sizeof(*env))) == NULL)
		return (NULL);
	if (asprintf(&env[0], "VMLAUNCH_VM=%s", name) == -1) {
		free(env);
		return (NULL);
	}
	if (asprintf(&env[1], "VMLAUNCH_ACTION=%s",
	    vmctl_actions[which]) == -1) {
		free(env[0]);
		free(env);
		return (NULL);
	}
	for (i = 0; i < n; i++) {
		if (strncmp(environ[i], "VMLAUNCH_VM=", 12) == 0 ||
		    strncmp(environ[i], "VMLAUNCH_ACTION=", 16) == 0)
			continue;
		env[j++] = environ[i];
	}
	env[j] = NULL;
	return (env);
}

static void
vmctl_env_free(char **env)
{
	if (env == NULL)
		return;
	free(env[0]);
	free(env[1]);
	free(env);
}

/* A line of output for a message: printable, blanks trimmed. */
static void
vmctl_line(const char *s, size_t len, size_t max, char *buf, size_t buflen)
{
	size_t	 i, o = 0;

	while (len > 0 && isspace((unsigned char)*s))
		s++, len--;
	for (i = 0; i < len && s[i] != '\n' && i < max && o + 1 < buflen; i++)
		buf[o++] = isprint((unsigned char)s[i]) ? s[i] : '?';
	while (o > 0 && isspace((unsigned char)buf[o - 1]))
		o--;
	buf[o] = '\0';
	if (i < len && s[i] != '\n' && i == max)
		(void)strlcat(buf, "...", buflen);
}

/* The last line that is not blank. */
static void
vmctl_lastline(const char *s, size_t len, char *buf, size_t buflen)
{
	size_t	 start;

	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	for (start = len; start > 0 && s[start - 1] != '\n'; start--)
		;
	vmctl_line(s + start, len - start, buflen, buf, buflen);
}

/*
 * The status contract: the first word of the output is one of vmd's
 * states (running, stopped, stopping; paused, waiting, unknown too),
 * optionally followed on the same line by a number that identifies this
 * run of the VM (a process id, say), which plays the part of vmd's id.
 */
int
vmctl_parse_command_status(const char *out, size_t len, struct vmd_row *row,
    char *msg, size_t msglen)
{
	char		 quoted[VMCTL_QUOTE_MAX + 4], num[16];
	size_t		 i, w, n;
	unsigned int	 id;
	int		 st;

	for (i = 0; i < len && isspace((unsigned char)out[i]); i++)
		;
	if (i == len) {
		snprintf(msg, msglen, "status command printed nothing, "
		    VMCTL_EXPECT);
		return (-1);
	}
	for (w = i; w < len && !isspace((unsigned char)out[w]); w++)
		;
	for (st = VMD_RUNNING; st < (int)nitems(vmd_states); st++) {
		if (strlen(vmd_states[st]) == w - i &&
		    memcmp(out + i, vmd_states[st], w - i) == 0)
			break;
	}
	if (st == (int)nitems(vmd_states)) {
		vmctl_line(out, len, VMCTL_QUOTE_MAX, quoted, sizeof(quoted));
		snprintf(msg, msglen, "status command printed \"%s\", "
		    VMCTL_EXPECT, quoted);
		return (-1);
	}
	row->state = st;
	row->has_id = 0;
	for (i = w; i < len && (out[i] == ' ' || out[i] == '\t'); i++)
		;
	for (n = 0; i + n < len && isdigit((unsigned char)out[i + n]) &&
	    n < sizeof(num) - 1; n++)
		num[n] = out[i + n];
	num[n] = '\0';
	if (n > 0 && (i + n == len || isspace((unsigned char)out[i + n])) &&
	    vmctl_number(num, &id) == 0) {
		row->has_id = 1;
		row->id = id;
	}
	if (msglen > 0)
		*msg = '\0';
	return (0);
}

/*
 * What a backend command's run means.  Start and stop: exit 0 is done,
 * else the last line of stderr says why.  Status: exit 0 and the
 * contract above, into *row.
 */
static void
vmctl_command_outcome(enum backend_cmd which, const char *name,
    const struct vmctl_ran *ran, struct vmctl_result *res,
    struct vmd_row *row)
{
	const char	*what = vmctl_cmd_words[which];
	char		 line[400];
	size_t		 len;

	res->ok = 0;
	if (ran->how != NULL) {
		if (strncmp(ran->how, "could not run ", 14) == 0)
			(void)strlcpy(res->msg, ran->how, sizeof(res->msg));
		else
			snprintf(res->msg, sizeof(res->msg), "%s command %s",
			    what, ran->how);
		return;
	}
	vmctl_lastline(ran->err, ran->errlen, line, sizeof(line));
	if (which != BACKEND_STATUS) {
		res->ok = ran->code == 0;
		if (*line == '\0' && res->ok)
			vmctl_lastline(ran->out, ran->outlen, line,
			    sizeof(line));
		if (*line != '\0')
			(void)strlcpy(res->msg, line, sizeof(res->msg));
		else if (res->ok)
			snprintf(res->msg, sizeof(res->msg), "%s command done",
			    what);
		else
			snprintf(res->msg, sizeof(res->msg), "%s command "
			    "exited with status %d", what, ran->code);
		return;
	}
	if (ran->code != 0) {
		snprintf(res->msg, sizeof(res->msg), "status command exited "
		    "with status %d%s%s", ran->code, *line ? ": " : "", line);
		return;
	}
	memset(row, 0, sizeof(*row));
	(void)strlcpy(row->name, name, sizeof(row->name));
	if (vmctl_parse_command_status(ran->out, ran->outlen, row, res->msg,
	    sizeof(res->msg)) == -1) {
		len = strlen(res->msg);
		if (*line != '\0')
			snprintf(res->msg + len, sizeof(res->msg) - len,
			    " (stderr: %s)", line);
		return;
	}
	res->ok = 1;
}

/* The status of every VM: a command that failed shows as unknown. */
static void
vmctl_add_row(struct vmd_row **rows, size_t *nrows, size_t *size,
    const struct vmd_row *row)
{
	struct vmd_row	*p;
	size_t		 nsize;

	if (*nrows == *size) {
		nsize = *size ? *size * 2 : 8;
		if ((p = reallocarray(*rows, nsize, sizeof(*p))) == NULL) {
			log_warn("vm %s: status row", row->name);
			return;
		}
		*rows = p;
		*size = nsize;
	}
	(*rows)[(*nrows)++] = *row;
}

static void
vmctl_add_failed(struct vmd_row **rows, size_t *nrows, size_t *size,
    const char *name, const char *why)
{
	struct vmd_row	 row;

	log_warnx("vm %s: %s", name, why);
	memset(&row, 0, sizeof(row));
	(void)strlcpy(row.name, name, sizeof(row.name));
	row.state = VMD_UNKNOWN;
	vmctl_add_row(rows, nrows, size, &row);
}

static struct vmctl_req *
vmctl_req_new(enum vmctl_op op, const char *name, vmctl_cb cb, void *arg,
    struct vmctl_multi *multi, size_t part)
{
	struct vmctl_req	*req;

	if ((req = calloc(1, sizeof(*req))) == NULL)
		return (NULL);
	req->op = op;
	req->cb = cb;
	req->arg = arg;
	req->multi = multi;
	req->part = part;
	if (name != NULL) {
		(void)strlcpy(req->name, name, sizeof(req->name));
		req->has_name = multi == NULL;
	}
	return (req);
}

static struct job *
vmctl_start_job(char **argv, char **envp, struct config *conf,
    struct vmctl_req *req)
{
	struct job	*job;
	int		 saved;

	job = job_run(argv, envp, vmctl_timeout_ms(conf), NULL, vmctl_done,
	    req);
	if (job == NULL) {
		saved = errno;
		free(req);
		errno = saved;
		return (NULL);
	}
	/* The request goes with the job, whether it completes or not. */
	job_set_cleanup(job, free);
	return (job);
}

static struct job *
vmctl_run(struct config *conf, enum vmctl_op op, const char *name,
    const char *const *extra, vmctl_cb cb, void *arg,
    struct vmctl_multi *multi, size_t part)
{
	struct vmctl_req	*req;
	struct job		*job;
	char			**argv;
	int			  saved;

	if ((req = vmctl_req_new(op, name, cb, arg, multi, part)) == NULL)
		return (NULL);
	if ((argv = vmctl_argv(conf->vmctl, extra)) == NULL) {
		saved = errno;
		free(req);
		errno = saved;
		return (NULL);
	}
	job = vmctl_start_job(argv, NULL, conf, req);
	saved = errno;
	vmctl_argv_free(argv);
	errno = saved;
	return (job);
}

/*
 * /bin/sh -c COMMAND vmlaunch-backend NAME: the name is $1 and in the
 * environment, never part of the command text.
 */
static struct job *
vmctl_command_run(struct config *conf, char *const *cmds,
    enum backend_cmd which, const char *name, int all, vmctl_cb cb,
    void *arg, struct vmctl_multi *multi, size_t part)
{
	struct vmctl_req	*req;
	struct job		*job;
	enum vmctl_op		 op;
	char			*argv[6], **envp;
	int			 saved;

	if (cmds[which] == NULL) {
		errno = EINVAL;
		return (NULL);
	}
	op = which == BACKEND_STATUS ? VMCTL_OP_STATUS :
	    which == BACKEND_START ? VMCTL_OP_START : VMCTL_OP_STOP;
	if ((req = vmctl_req_new(op, name, cb, arg, multi, part)) == NULL)
		return (NULL);
	req->command = 1;
	req->which = which;
	if (all)
		req->has_name = 0;	/* a status of all, with one VM */
	if ((envp = vmctl_env(name, which)) == NULL) {
		saved = errno;
		free(req);
		errno = saved;
		return (NULL);
	}
	argv[0] = VMCTL_SHELL;
	argv[1] = "-c";
	argv[2] = cmds[which];
	argv[3] = VMCTL_ARGV0;
	argv[4] = req->name;
	argv[5] = NULL;
	job = vmctl_start_job(argv, envp, conf, req);
	saved = errno;
	vmctl_env_free(envp);
	errno = saved;
	return (job);
}

/* One part of a status of every VM is done; the last one ends it. */
static void
vmctl_multi_part(struct vmctl_req *req, const struct vmctl_result *res,
    const struct vmd_row *row)
{
	struct vmctl_multi	*m = req->multi;
	size_t			 i, j;

	m->parts[req->part] = NULL;
	if (!req->command) {
		m->vmd_ok = res->ok;
		(void)strlcpy(m->vmd_msg, res->msg, sizeof(m->vmd_msg));
		/* A command VM's own answer counts, not a vmd namesake's. */
		for (i = 0; res->ok && i < res->nrows; i++) {
			for (j = m->vmd_part; j < m->nparts; j++)
				if (strcmp(m->reqs[j]->name,
				    res->rows[i].name) == 0)
					break;
			if (j == m->nparts)
				vmctl_add_row(&m->rows, &m->nrows, &m->size,
				    &res->rows[i]);
		}
	} else if (res->ok)
		vmctl_add_row(&m->rows, &m->nrows, &m->size, row);
	else
		vmctl_add_failed(&m->rows, &m->nrows, &m->size, req->name,
		    res->msg);
	if (--m->pending == 0)
		job_signal(m->sentinel, SIGTERM);
}

static void
vmctl_command_done(struct job *job, struct vmctl_req *req)
{
	struct vmctl_result	 res;
	struct vmctl_ran	 ran;
	struct vmd_row		 row;
	char			 how[256];
	int			 status;

	memset(&res, 0, sizeof(res));
	memset(&row, 0, sizeof(row));
	memset(&ran, 0, sizeof(ran));
	ran.out = job_output(job, 1, &ran.outlen);
	ran.err = job_output(job, 2, &ran.errlen);
	status = job_status(job);
	job_describe(job, how, sizeof(how));
	if (strncmp(how, "could not run ", 14) == 0 || job_timed_out(job) ||
	    !WIFEXITED(status))
		ran.how = how;
	else
		ran.code = WEXITSTATUS(status);
	vmctl_command_outcome(req->which, req->name, &ran, &res, &row);

	if (req->multi != NULL) {
		vmctl_multi_part(req, &res, &row);
		return;
	}
	if (req->op == VMCTL_OP_STATUS && res.ok) {
		if ((res.rows = malloc(sizeof(row))) == NULL) {
			res.ok = 0;
			snprintf(res.msg, sizeof(res.msg), "%s",
			    strerror(errno));
		} else {
			res.rows[0] = row;
			res.nrows = 1;
			res.row = req->has_name ? &res.rows[0] : NULL;
		}
	} else if (req->op == VMCTL_OP_STATUS && !req->has_name) {
		/* The only VM: a list with it as unknown, as for many. */
		size_t	 size = 0;

		vmctl_add_failed(&res.rows, &res.nrows, &size, req->name,
		    res.msg);
		res.ok = 1;
		res.msg[0] = '\0';
	}
	if (req->cb != NULL)
		req->cb(&res, req->arg);
	free(res.rows);
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

	if (req->command) {
		vmctl_command_done(job, req);
		return;
	}
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

	if (req->multi != NULL)
		vmctl_multi_part(req, &res, NULL);
	else if (req->cb != NULL)
		req->cb(&res, req->arg);
	free(res.rows);
}

/* The sentinel ended: every part is done (or out of time). */
static void
vmctl_multi_done(struct job *job, void *arg)
{
	struct vmctl_multi	*m = arg;
	struct vmctl_result	 res;
	size_t			 i;

	for (i = 0; i < m->nparts; i++) {
		if (m->parts[i] == NULL)
			continue;
		if (m->vmd_part && i == 0) {
			m->vmd_ok = 0;
			snprintf(m->vmd_msg, sizeof(m->vmd_msg),
			    "vmctl status did not finish");
		} else
			vmctl_add_failed(&m->rows, &m->nrows, &m->size,
			    m->reqs[i]->name, "status command did not finish");
	}
	memset(&res, 0, sizeof(res));
	res.ok = !m->vmd_part || m->vmd_ok;
	if (!res.ok)
		(void)strlcpy(res.msg, m->vmd_msg, sizeof(res.msg));
	res.rows = m->rows;
	res.nrows = m->nrows;
	if (m->cb != NULL)
		m->cb(&res, m->arg);
}

/* With the sentinel, cancelled or done: what still runs goes too. */
static void
vmctl_multi_free(void *arg)
{
	struct vmctl_multi	*m = arg;
	size_t			 i;

	for (i = 0; i < m->nparts; i++) {
		if (m->parts[i] != NULL)
			job_cancel(m->parts[i]);
		free(m->reqs[i]);
	}
	free(m->parts);
	free(m->reqs);
	free(m->rows);
	free(m);
}

static struct job *
vmctl_status_all(struct config *conf, vmctl_cb cb, void *arg)
{
	const char		*extra[] = { "status", NULL };
	char			*sentinel[] = { "sleep", "86400", NULL };
	struct vmctl_multi	*m;
	struct vmconf		*vm;
	size_t			 ncmd, i;
	int			 vmd;

	vmctl_count(conf, &vmd, &ncmd);
	if (ncmd == 0)
		return (vmctl_run(conf, VMCTL_OP_STATUS, NULL, extra, cb, arg,
		    NULL, 0));
	if (!vmd && ncmd == 1) {
		vm = TAILQ_FIRST(&conf->vms);
		return (vmctl_command_run(conf, vmctl_backend(conf, vm->name),
		    BACKEND_STATUS, vm->name, 1, cb, arg, NULL, 0));
	}

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return (NULL);
	m->cb = cb;
	m->arg = arg;
	m->vmd_part = vmd;
	m->nparts = vmd + ncmd;
	if ((m->parts = calloc(m->nparts, sizeof(*m->parts))) == NULL ||
	    (m->reqs = calloc(m->nparts, sizeof(*m->reqs))) == NULL) {
		free(m->parts);
		free(m);
		return (NULL);
	}
	/* The parts' requests die with their jobs: keep the names here. */
	i = vmd;
	TAILQ_FOREACH(vm, &conf->vms, entry) {
		if (vm->backend.type != BACKEND_COMMAND)
			continue;
		if ((m->reqs[i] = vmctl_req_new(VMCTL_OP_STATUS, vm->name,
		    NULL, NULL, NULL, 0)) == NULL) {
			vmctl_multi_free(m);
			return (NULL);
		}
		i++;
	}
	/* Ends when told to, at the latest just after the parts would. */
	if ((m->sentinel = job_run(sentinel, NULL, vmctl_timeout_ms(conf) +
	    2 * VMCTL_GRACE_MS + 1000, NULL, vmctl_multi_done, m)) == NULL) {
		vmctl_multi_free(m);
		return (NULL);
	}
	job_set_cleanup(m->sentinel, vmctl_multi_free);

	if (vmd) {
		m->parts[0] = vmctl_run(conf, VMCTL_OP_STATUS, NULL, extra,
		    NULL, NULL, m, 0);
		if (m->parts[0] == NULL)
			snprintf(m->vmd_msg, sizeof(m->vmd_msg), "could not "
			    "run vmctl: %s", strerror(errno));
		else
			m->pending++;
	}
	for (i = vmd; i < m->nparts; i++) {
		m->parts[i] = vmctl_command_run(conf,
		    vmctl_backend(conf, m->reqs[i]->name), BACKEND_STATUS,
		    m->reqs[i]->name, 0, NULL, NULL, m, i);
		if (m->parts[i] == NULL)
			vmctl_add_failed(&m->rows, &m->nrows, &m->size,
			    m->reqs[i]->name, "could not run the status "
			    "command");
		else
			m->pending++;
	}
	if (m->pending == 0)
		job_signal(m->sentinel, SIGTERM);
	return (m->sentinel);
}

/*
 * The asynchronous commands.  Each returns the job, which the caller may
 * job_cancel() (the callback is then never called), or NULL with errno
 * set when the command could not even be forked: the callback is not
 * called then either.  Otherwise the callback runs once, from the event
 * loop; the result and its rows are freed when it returns.
 */
struct job *
vmctl_status(struct config *conf, const char *name, vmctl_cb cb, void *arg)
{
	const char	*extra[] = { "status", name, NULL };
	char *const	*cmds;

	if (name == NULL)
		return (vmctl_status_all(conf, cb, arg));
	if ((cmds = vmctl_backend(conf, name)) != NULL)
		return (vmctl_command_run(conf, cmds, BACKEND_STATUS, name,
		    0, cb, arg, NULL, 0));
	return (vmctl_run(conf, VMCTL_OP_STATUS, name, extra, cb, arg,
	    NULL, 0));
}

struct job *
vmctl_start(struct config *conf, const char *name, vmctl_cb cb, void *arg)
{
	const char	*extra[] = { "start", name, NULL };
	char *const	*cmds;

	if ((cmds = vmctl_backend(conf, name)) != NULL)
		return (vmctl_command_run(conf, cmds, BACKEND_START, name,
		    0, cb, arg, NULL, 0));
	return (vmctl_run(conf, VMCTL_OP_START, name, extra, cb, arg,
	    NULL, 0));
}

/* Never -w: a stop returns at once, the caller polls the status. */
struct job *
vmctl_stop(struct config *conf, const char *name, int force, vmctl_cb cb,
    void *arg)
{
	const char	*plain[] = { "stop", name, NULL };
	const char	*forced[] = { "stop", "-f", name, NULL };
	char *const	*cmds;

	if ((cmds = vmctl_backend(conf, name)) != NULL)
		return (vmctl_command_run(conf, cmds, force ? BACKEND_KILL :
		    BACKEND_STOP, name, 0, cb, arg, NULL, 0));
	return (vmctl_run(conf, VMCTL_OP_STOP, name, force ? forced : plain,
	    cb, arg, NULL, 0));
}

static long long
vmctl_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1000LL + ts.tv_nsec / 1000000);
}

/* A command run to its end without an event loop. */
struct vmctl_sync {
	char		*buf[2];	/* stdout, stderr */
	size_t		 len[2];
	int		 status;
	int		 timed_out;
	int		 exec_errno;
};

/*
 * Run argv with the time limit, then kill the whole group.  -1 with
 * errno for a system error; otherwise the caller reads *r.
 */
static int
vmctl_sync_run(struct config *conf, char **argv, char **envp,
    struct vmctl_sync *r)
{
	char		 tmp[16384];
	struct pollfd	 pfd[2];
	long long	 timeout, deadline, grace = -1, now, ms;
	int		 outfd = -1, errfd = -1, i, reaped = 0, rc = -1, saved;
	pid_t		 pid = -1;
	ssize_t		 n;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < 2; i++) {
		if ((r->buf[i] = malloc(VMCTL_OUTPUT_MAX + 1)) == NULL)
			goto done;
	}
	if ((pid = job_spawn(argv, envp, &outfd, &errfd,
	    &r->exec_errno)) == -1)
		goto done;

	timeout = vmctl_timeout_ms(conf);
	deadline = vmctl_now_ms() + timeout;
	pfd[0].fd = outfd;
	pfd[1].fd = errfd;
	pfd[0].events = pfd[1].events = POLLIN;
	while (pfd[0].fd != -1 || pfd[1].fd != -1) {
		now = vmctl_now_ms();
		if (!reaped && waitpid(pid, &r->status, WNOHANG) == pid) {
			reaped = 1;
			grace = now + VMCTL_GRACE_MS;
		}
		if (!reaped && now >= deadline) {
			r->timed_out = 1;
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
					outfd = -1;
				else
					errfd = -1;
				continue;
			}
			if ((size_t)n > VMCTL_OUTPUT_MAX - r->len[i])
				n = VMCTL_OUTPUT_MAX - r->len[i];
			memcpy(r->buf[i] + r->len[i], tmp, n);
			r->len[i] += n;
		}
	}
	while (!reaped && waitpid(pid, &r->status, 0) == -1) {
		if (errno != EINTR)
			goto done;
	}
	reaped = 1;
	for (i = 0; i < 2; i++)
		r->buf[i][r->len[i]] = '\0';
	rc = 0;

done:
	saved = errno;
	if (!reaped && pid > 0) {
		(void)killpg(pid, SIGKILL);
		while (waitpid(pid, &r->status, 0) == -1 && errno == EINTR)
			;
	}
	if (outfd != -1)
		close(outfd);
	if (errfd != -1)
		close(errfd);
	errno = saved;
	return (rc);
}

static void
vmctl_sync_free(struct vmctl_sync *r)
{
	free(r->buf[0]);
	free(r->buf[1]);
}

/* `vmctl status` for vmctl_status_sync(). */
static int
vmctl_status_sync_vmd(struct config *conf, struct vmd_row **rows,
    size_t *nrows, char *err, size_t errlen)
{
	const char		*extra[] = { "status", NULL };
	struct vmctl_sync	 r;
	char			**argv;
	int			  rc = -1;

	if ((argv = vmctl_argv(conf->vmctl, extra)) == NULL) {
		snprintf(err, errlen, "vmctl: %s", strerror(errno));
		return (-1);
	}
	if (vmctl_sync_run(conf, argv, NULL, &r) == -1)
		snprintf(err, errlen, "vmctl status: %s", strerror(errno));
	else if (r.exec_errno != 0)
		snprintf(err, errlen, "could not run %s: %s", argv[0],
		    strerror(r.exec_errno));
	else if (r.timed_out)
		snprintf(err, errlen, "vmctl timed out after %llds",
		    vmctl_timeout_ms(conf) / 1000);
	else if (!WIFEXITED(r.status))
		snprintf(err, errlen, "vmctl killed by signal %d",
		    WTERMSIG(r.status));
	else
		rc = vmctl_status_outcome(r.buf[0], r.len[0], r.buf[1],
		    r.len[1], WEXITSTATUS(r.status), rows, nrows, err, errlen);
	vmctl_sync_free(&r);
	vmctl_argv_free(argv);
	return (rc);
}

/* A status command for vmctl_status_sync(): its row, unknown on error. */
static void
vmctl_status_sync_command(struct config *conf, const char *name,
    struct vmd_row **rows, size_t *nrows, size_t *size)
{
	struct vmctl_result	 res;
	struct vmctl_sync	 r;
	struct vmctl_ran	 ran;
	struct vmd_row		 row;
	char *const		*cmds;
	char			*argv[6], **envp, nm[VM_NAME_MAX], how[256];

	memset(&res, 0, sizeof(res));
	(void)strlcpy(nm, name, sizeof(nm));
	if ((cmds = vmctl_backend(conf, name)) == NULL ||
	    cmds[BACKEND_STATUS] == NULL) {
		vmctl_add_failed(rows, nrows, size, name, "no status command");
		return;
	}
	if ((envp = vmctl_env(name, BACKEND_STATUS)) == NULL) {
		vmctl_add_failed(rows, nrows, size, name, strerror(errno));
		return;
	}
	argv[0] = VMCTL_SHELL;
	argv[1] = "-c";
	argv[2] = cmds[BACKEND_STATUS];
	argv[3] = VMCTL_ARGV0;
	argv[4] = nm;
	argv[5] = NULL;
	if (vmctl_sync_run(conf, argv, envp, &r) == -1) {
		vmctl_add_failed(rows, nrows, size, name, strerror(errno));
		vmctl_sync_free(&r);
		vmctl_env_free(envp);
		return;
	}
	vmctl_env_free(envp);

	memset(&ran, 0, sizeof(ran));
	ran.out = r.buf[0];
	ran.outlen = r.len[0];
	ran.err = r.buf[1];
	ran.errlen = r.len[1];
	if (r.exec_errno != 0) {
		snprintf(how, sizeof(how), "could not run %s: %s",
		    VMCTL_SHELL, strerror(r.exec_errno));
		ran.how = how;
	} else if (r.timed_out) {
		snprintf(how, sizeof(how), "timed out after %llds",
		    vmctl_timeout_ms(conf) / 1000);
		ran.how = how;
	} else if (!WIFEXITED(r.status)) {
		snprintf(how, sizeof(how), "killed by signal %d",
		    WTERMSIG(r.status));
		ran.how = how;
	} else
		ran.code = WEXITSTATUS(r.status);
	vmctl_command_outcome(BACKEND_STATUS, name, &ran, &res, &row);
	if (res.ok)
		vmctl_add_row(rows, nrows, size, &row);
	else
		vmctl_add_failed(rows, nrows, size, name, res.msg);
	vmctl_sync_free(&r);
}

/*
 * The status of every VM for a process without an event loop (vmlaunch
 * -s with no supervisor): vmctl if a VM uses vmd, then each status
 * command in turn, each with the same time limit.
 */
int
vmctl_status_sync(struct config *conf, struct vmd_row **rows, size_t *nrows,
    char *err, size_t errlen)
{
	struct vmconf	*vm;
	size_t		 ncmd, size, i;
	int		 vmd;

	*rows = NULL;
	*nrows = 0;
	vmctl_count(conf, &vmd, &ncmd);
	if (vmd && vmctl_status_sync_vmd(conf, rows, nrows, err,
	    errlen) == -1)
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
		vmctl_status_sync_command(conf, vm->name, rows, nrows, &size);
	}
	if (err != NULL && errlen > 0)
		*err = '\0';
	return (0);
}
