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
 * What vmctl and the backend commands say, and what it means.  `vmctl
 * status` is parsed by its header, since the STATE column is missing in
 * old releases, and its exit status is not trusted (VMCTL.md); start,
 * stop and the others report vmctl's own words on stderr.  A backend
 * command's status follows a contract of its own (one of vmd's states,
 * optionally an id), so that its answer becomes the same struct vmd_row
 * that vmctl's would.  Nothing here runs anything: backend.c does.
 */

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmlaunch.h"

#define VMCTL_TOKENS_MAX	16
#define VMCTL_QUOTE_MAX		60	/* of an offending line, in errors */
#define VMCTL_EXPECT		"expected running, stopped or stopping"

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
static void	 vmctl_describe(const struct backend_ran *, char *, size_t);
static int	 vmctl_started_id(const char *, unsigned int *);

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

	row->nostate = c->state == -1;
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
 * The first line of output that is not blank, for a message: printable,
 * blanks trimmed, cut after max characters.
 */
void
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

/* The last line that is not blank, printable and trimmed. */
void
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


/* How a command that did not just exit ended, for a message. */
static void
vmctl_describe(const struct backend_ran *ran, char *buf, size_t len)
{
	char	 d[32];

	switch (ran->how) {
	case BACKEND_EXEC:
		snprintf(buf, len, "could not run %s: %s", ran->prog,
		    strerror(ran->code));
		break;
	case BACKEND_TIMEOUT:
		snprintf(buf, len, "timed out after %s",
		    print_duration(ran->timeout_ms / 1000, d, sizeof(d)));
		break;
	case BACKEND_SIGNALED:
		snprintf(buf, len, "killed by signal %d", ran->code);
		break;
	default:
		snprintf(buf, len, "exited with status %d", ran->code);
		break;
	}
}

/*
 * A command that did not run to its exit: why, into msg, after what
 * ("vmctl", "start command"), except when it could not be run at all.
 * 0 when it exited: its output is to be read.
 */
static int
vmctl_not_exited(const struct backend_ran *ran, const char *what, char *msg,
    size_t msglen)
{
	char	 how[256];

	if (ran->how == BACKEND_OK)
		return (0);
	if (ran->how == BACKEND_EXEC)
		vmctl_describe(ran, msg, msglen);
	else {
		vmctl_describe(ran, how, sizeof(how));
		snprintf(msg, msglen, "%s %s", what, how);
	}
	return (1);
}

/*
 * The outcome of a `vmctl status`: the rows if the output parses,
 * whatever the exit status; else the most useful message.
 */
int
vmctl_outcome_status(const struct backend_ran *ran, struct vmd_row **rows,
    size_t *nrows, char *msg, size_t msglen)
{
	char	 perr[128];

	*rows = NULL;
	*nrows = 0;
	if (vmctl_not_exited(ran, "vmctl", msg, msglen))
		return (-1);
	if (vmctl_parse_status(ran->out, ran->outlen, rows, nrows, perr,
	    sizeof(perr)) == 0) {
		vmctl_stderr(ran->err, ran->errlen, msg, msglen);
		return (0);
	}
	vmctl_stderr(ran->err, ran->errlen, msg, msglen);
	if (ran->code != 0 && *msg != '\0')
		return (-1);
	if (ran->code != 0)
		snprintf(msg, msglen, "vmctl status: exited with status %d",
		    ran->code);
	else
		snprintf(msg, msglen, "vmctl status: %s", perr);
	return (-1);
}

/* "vmctl: started vm 1 successfully, tty /dev/ttyp8": the id, 1. */
static int
vmctl_started_id(const char *msg, unsigned int *id)
{
	static const char	 before[] = "started vm ";
	static const char	 after[] = " successfully";
	const char		*p;
	char			 num[16];
	size_t			 n;

	if ((p = strstr(msg, before)) == NULL)
		return (-1);
	p += sizeof(before) - 1;
	for (n = 0; isdigit((unsigned char)p[n]) && n < sizeof(num) - 1; n++)
		num[n] = p[n];
	num[n] = '\0';
	if (n == 0 || strncmp(p + n, after, sizeof(after) - 1) != 0)
		return (-1);
	return (vmctl_number(num, id));
}

/*
 * vmctl start, stop, pause, unpause: exit 0 is done, stderr says what
 * happened either way.  A start's message carries the VM's id.
 */
void
vmctl_outcome(enum backend_cmd cmd, const struct backend_ran *ran,
    struct backend_result *res)
{
	res->ok = 0;
	res->err = ran->how;
	if (vmctl_not_exited(ran, "vmctl", res->msg, sizeof(res->msg)))
		return;
	vmctl_stderr(ran->err, ran->errlen, res->msg, sizeof(res->msg));
	res->ok = ran->code == 0;
	if (!res->ok) {
		res->err = BACKEND_FAILED;
		if (res->msg[0] == '\0')
			snprintf(res->msg, sizeof(res->msg), "vmctl %s: exited "
			    "with status %d", config_backend_word(cmd),
			    ran->code);
	}
	if (res->ok && cmd == BACKEND_START &&
	    vmctl_started_id(res->msg, &res->id) == 0)
		res->has_id = 1;
}

/*
 * What a `vmctl start` wrote, read back by a successor from the file it
 * wrote it to (its supervisor may have died before it finished):
 * VMCTL_SAID_STARTED with the id, VMCTL_SAID_REFUSED when vmd said no
 * (nothing was started), VMCTL_SAID_NOTHING when it said neither (still
 * running, killed, or nonsense).  Only whole lines count.
 */
enum vmctl_said
vmctl_start_said(const char *text, size_t len, unsigned int *id)
{
	char	 line[400];
	size_t	 off = 0, n;

	while (off < len) {
		const char	*nl = memchr(text + off, '\n', len - off);

		if (nl == NULL)
			break;		/* a line still being written */
		n = nl - (text + off);
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, text + off, n);
		line[n] = '\0';
		off = nl - text + 1;
		if (strncmp(line, "vmctl: ", 7) != 0)
			continue;
		if (vmctl_started_id(line, id) == 0)
			return (VMCTL_SAID_STARTED);
		if (strstr(line, "start vm command failed: ") != NULL)
			return (VMCTL_SAID_REFUSED);
	}
	return (VMCTL_SAID_NOTHING);
}

/*
 * What a backend command's run means.  Start, stop and the rest: exit 0
 * is done, else the last line of stderr says why.  Status: exit 0 and
 * the contract above, into *row.
 */
void
vmctl_outcome_command(enum backend_cmd cmd, const char *name,
    const struct backend_ran *ran, struct backend_result *res,
    struct vmd_row *row)
{
	const char	*what = config_backend_word(cmd);
	char		 line[400], cmdname[64];
	size_t		 len;

	res->ok = 0;
	res->err = ran->how;
	snprintf(cmdname, sizeof(cmdname), "%s command", what);
	if (vmctl_not_exited(ran, cmdname, res->msg, sizeof(res->msg)))
		return;
	vmctl_lastline(ran->err, ran->errlen, line, sizeof(line));
	if (cmd != BACKEND_STATUS) {
		res->ok = ran->code == 0;
		res->err = res->ok ? BACKEND_OK : BACKEND_FAILED;
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
		res->err = BACKEND_FAILED;
		snprintf(res->msg, sizeof(res->msg), "status command exited "
		    "with status %d%s%s", ran->code, *line ? ": " : "", line);
		return;
	}
	memset(row, 0, sizeof(*row));
	(void)strlcpy(row->name, name, sizeof(row->name));
	if (vmctl_parse_command_status(ran->out, ran->outlen, row, res->msg,
	    sizeof(res->msg)) == -1) {
		res->err = BACKEND_GARBAGE;
		len = strlen(res->msg);
		if (*line != '\0')
			snprintf(res->msg + len, sizeof(res->msg) - len,
			    " (stderr: %s)", line);
		return;
	}
	res->ok = 1;
}

