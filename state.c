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
 * The state file: what this supervisor owns, so that a successor that
 * starts after a crash adopts it, stops it when idle, and never stops
 * anything else.  Written ahead of every change that matters: before
 * `vmctl start` runs (with the id from the status check before it: vmd
 * keeps a VM's id across stop and start), when the start reports the
 * id, and before `vmctl stop` runs.  Written whole each time, with
 * mkstemp, fsync and rename, so a crash leaves the old or the new file.
 *
 *	# vmlaunch state: ...
 *	version 3
 *	vm ubuntu running 3 1796002000
 *	vm build starting - 1796002010 30
 *	vm db paused 4 1796002300 30
 *	hold ubuntu 1796009200
 *	hold build never
 *
 * A vm line is NAME PHASE ID SINCE [LIMIT]: the phase (starting,
 * running, stopping, paused), vmd's id or "-", since when (seconds of
 * the epoch, to survive a restart), and for a start or a pause the
 * time limit its vmctl runs under (seconds; the successor's config may
 * say otherwise, and older readers ignore it): until then it may still
 * act, orphaned by a kill, and the record is not decided.  "paused" is written before vmlaunch
 * pauses the VM and replaced by "running" only once it is unpaused, so
 * that a paused VM whose record says running was paused by someone
 * else.  A hold line is NAME UNTIL (seconds of the epoch, or never):
 * holds (hold.c) are restored from it as the file is read.  Version 2
 * files (vm lines without the word "vm", no holds) and version 1 files
 * ("started NAME ID", read as running) are read too.  The file is read
 * with distrust: it must be ours and not writable by others, and every
 * line is checked.
 *
 * Adoption: every record read stays in the file, undecided, until one
 * `vmctl status` of all VMs (not a vmctl per VM) decides it: adopted,
 * dropped, or asked again later (vmctl failed, a start may still be
 * under way, the VM is in a state that proves nothing yet).
 *
 * A start's answer: `vmctl start` writes its stderr to start.NAME in
 * the same directory, truncated before the "starting" record is
 * written, and removed once the record says more.  Its vmctl outlives a
 * supervisor killed meanwhile, and what it says there decides the record
 * for the successor: "started vm N" proves the boot with id N ours (vmd
 * may have restarted and dealt another id since the record's, which
 * was the id before the start), "start vm command failed" proves the VM
 * running now someone else's.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <event.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmlaunch.h"

#define STATE_VERSION		3
#define STATE_RETRY_MIN		1	/* s: a failed check, again */
#define STATE_RETRY_MAX		30
#define STATE_START_GRACE	5	/* s after vmctl's limit */
#define STATE_LIST_GRACE	5	/* s: a VM just started may be missing
					   from vmctl status */

enum state_verdict {
	VERDICT_WAIT,		/* decide later */
	VERDICT_DROP,		/* gone: forget it */
	VERDICT_FOREIGN,	/* someone else's now: forget it */
	VERDICT_ADOPT		/* ours: adopt it in its phase */
};

struct state_rec {
	LIST_ENTRY(state_rec)	 entry;
	char			 name[VM_NAME_MAX];
	enum state_phase	 phase;
	int			 has_id;
	unsigned int		 id;
	time_t			 since;
	long long		 limit;		/* starting: vmctl's, s */
	int			 pending;	/* read, not decided yet */
	int			 v1_noid;	/* "started NAME -": unprovable */
	enum vmctl_said		 said;		/* starting: its answer */
	int			 ended;		/* paused: seen stopped since */
	unsigned int		 said_id;	/* the id it started */
};

struct state_hold {
	LIST_ENTRY(state_hold)	 entry;
	char			 name[VM_NAME_MAX];
	time_t			 until;		/* 0: until released */
};

static LIST_HEAD(, state_rec)	 state_recs =
    LIST_HEAD_INITIALIZER(state_recs);
static LIST_HEAD(, state_hold)	 state_holds =
    LIST_HEAD_INITIALIZER(state_holds);
static char			*state_path;
static char			*state_dir;
static struct config		*state_conf;
static struct backend_req	*state_req;	/* the adoption's status */
static struct event		 state_ev;	/* check again */
static int			 state_retry = STATE_RETRY_MIN;

static const char *const state_phases[] = {
	[STATE_STARTING] = "starting",
	[STATE_RUNNING] = "running",
	[STATE_STOPPING] = "stopping",
	[STATE_PAUSED] = "paused"
};

static void	 state_save(void);
static void	 state_load(void);
static void	 state_holds_restore(void);
static void	 state_check(int, short, void *);

static struct state_rec *
state_find(const char *name)
{
	struct state_rec	*r;

	LIST_FOREACH(r, &state_recs, entry)
		if (strcmp(r->name, name) == 0)
			return (r);
	return (NULL);
}

/* The file a start's answer goes to: start.NAME beside the state file. */
static char *
state_answer_path(const char *name)
{
	char	*path;

	if (state_dir == NULL || asprintf(&path, "%s/start.%s", state_dir,
	    name) == -1)
		return (NULL);
	return (path);
}

/*
 * A start of vm name is about to be recorded: its answer's file, empty
 * (a descriptor for backend_start()), or -1 (the start runs without).
 * Truncated before the record is written, so that a successor never
 * reads an earlier start's answer for it.
 */
int
state_answer_open(const char *name)
{
	char	*path;
	int	 fd;

	if ((path = state_answer_path(name)) == NULL)
		return (-1);
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1)
		log_warn("state: %s", path);
	free(path);
	return (fd);
}

static void
state_answer_unlink(const char *name)
{
	char	*path;

	if ((path = state_answer_path(name)) == NULL)
		return;
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("state: %s", path);
	free(path);
}

/* What a predecessor's start of r said in its file, if anything. */
static void
state_answer_read(struct state_rec *r)
{
	char	*path, buf[4096];
	ssize_t	 n = -1;
	int	 fd;

	r->said = VMCTL_SAID_NOTHING;
	if ((path = state_answer_path(r->name)) == NULL)
		return;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) != -1) {
		do {
			n = read(fd, buf, sizeof(buf));
		} while (n == -1 && errno == EINTR);
		close(fd);
	}
	free(path);
	if (n > 0)
		r->said = vmctl_start_said(buf, n, &r->said_id);
}

static void
state_forget(struct state_rec *r)
{
	LIST_REMOVE(r, entry);
	free(r);
}

/* The config in effect: a reload frees the one before. */
void
state_configure(struct config *conf)
{
	state_conf = conf;
}

static void
state_forget_holds(void)
{
	struct state_hold	*h;

	while ((h = LIST_FIRST(&state_holds)) != NULL) {
		LIST_REMOVE(h, entry);
		free(h);
	}
}

void
state_init(struct config *conf)
{
	char	*dir;

	state_configure(conf);
	evtimer_set(&state_ev, state_check, NULL);
	if ((dir = config_dir_path(conf)) == NULL ||
	    asprintf(&state_path, "%s/state", dir) == -1)
		state_path = NULL;
	state_dir = state_path != NULL ? dir : NULL;
	if (state_dir == NULL)
		free(dir);
	if (state_path == NULL) {
		log_warnx("state file: no directory for it");
		return;
	}
	state_load();
	state_holds_restore();
}

/* The time limit a backend command runs under now, in seconds. */
static long long
state_limit(void)
{
	return (state_conf != NULL && state_conf->vmctl_timeout > 0 ?
	    state_conf->vmctl_timeout : DEFAULT_VMCTL_TIMEOUT);
}

/* What the VM is now, written before it happens. */
void
state_set(const char *name, enum state_phase phase, int has_id,
    unsigned int id)
{
	struct state_rec	*r;

	if ((r = state_find(name)) == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			fatal("state");
		(void)strlcpy(r->name, name, sizeof(r->name));
		LIST_INSERT_HEAD(&state_recs, r, entry);
	}
	if (r->phase != phase || r->since == 0)
		r->since = now_wall();
	if (r->phase == STATE_STARTING && phase != STATE_STARTING)
		state_answer_unlink(name);
	r->phase = phase;
	r->limit = phase == STATE_STARTING || phase == STATE_PAUSED ?
	    state_limit() : 0;
	r->has_id = has_id;
	r->id = has_id ? id : 0;
	r->pending = 0;
	r->v1_noid = 0;
	state_save();
}

void
state_clear(const char *name)
{
	struct state_rec	*r;

	if ((r = state_find(name)) == NULL)
		return;
	if (r->phase == STATE_STARTING)
		state_answer_unlink(name);
	state_forget(r);
	state_save();
}

static struct state_hold *
state_hold_find(const char *name)
{
	struct state_hold	*h;

	LIST_FOREACH(h, &state_holds, entry)
		if (strcmp(h->name, name) == 0)
			return (h);
	return (NULL);
}

/* A hold on vm name until then (0: until released), or none (-1). */
void
state_hold(const char *name, time_t until)
{
	struct state_hold	*h;

	if ((h = state_hold_find(name)) != NULL && until == -1) {
		LIST_REMOVE(h, entry);
		free(h);
	} else if (until != -1) {
		if (h == NULL) {
			if ((h = calloc(1, sizeof(*h))) == NULL)
				fatal("state");
			(void)strlcpy(h->name, name, sizeof(h->name));
			LIST_INSERT_HEAD(&state_holds, h, entry);
		}
		h->until = until;
	} else
		return;
	state_save();
}

/* The holds read from the file go to hold.c; those that ran out go. */
static void
state_holds_restore(void)
{
	struct state_hold	*h, *th;
	time_t			 now = now_wall();
	int			 changed = 0;

	LIST_FOREACH_SAFE(h, &state_holds, entry, th) {
		if ((h->until != 0 && h->until <= now) ||
		    hold_restore(h->name, h->until) == -1) {
			LIST_REMOVE(h, entry);
			free(h);
			changed = 1;
		}
	}
	if (changed)
		state_save();
}

/*
 * A predecessor began starting this VM and it is not decided yet: its
 * vmctl may still be under way, so no second start.
 */
int
state_starting(const char *name)
{
	return (state_undecided(name, STATE_STARTING));
}

/* A predecessor's record of this VM in phase, not decided yet. */
int
state_undecided(const char *name, enum state_phase phase)
{
	struct state_rec	*r;

	return ((r = state_find(name)) != NULL && r->pending &&
	    r->phase == phase);
}

/*
 * A predecessor's record of this VM running, written so lately that vmd
 * may not list the VM yet: a status without it proves nothing.
 */
int
state_unlisted(const char *name)
{
	struct state_rec	*r;

	return ((r = state_find(name)) != NULL && r->pending &&
	    r->phase == STATE_RUNNING &&
	    now_wall() < r->since + STATE_LIST_GRACE);
}

/* Records of a predecessor still undecided: something to watch. */
int
state_pending(void)
{
	struct state_rec	*r;
	int			 n = 0;

	LIST_FOREACH(r, &state_recs, entry)
		if (r->pending)
			n++;
	return (n);
}

void
state_shutdown(void)
{
	struct state_rec	*r;

	backend_cancel(state_req);
	state_req = NULL;
	evtimer_del(&state_ev);
	while ((r = LIST_FIRST(&state_recs)) != NULL)
		state_forget(r);
	state_forget_holds();
	free(state_path);
	state_path = NULL;
	free(state_dir);
	state_dir = NULL;
	state_retry = STATE_RETRY_MIN;
}

static void
state_save(void)
{
	struct state_rec	*r;
	struct state_hold	*h;
	char			*tmp = NULL, id[16];
	FILE			*fp = NULL;
	int			 fd = -1;

	if (state_path == NULL)
		return;
	if (asprintf(&tmp, "%s.XXXXXX", state_path) == -1) {
		log_warnx("state file: out of memory");
		return;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		log_warn("state file: %s", tmp);
		goto done;
	}
	if ((fp = fdopen(fd, "w")) == NULL) {
		log_warn("state file: %s", tmp);
		close(fd);
		unlink(tmp);
		goto done;
	}
	fprintf(fp, "# vmlaunch state: the vms this supervisor owns\n");
	fprintf(fp, "version %d\n", STATE_VERSION);
	LIST_FOREACH(r, &state_recs, entry) {
		if (r->has_id && !r->v1_noid)
			snprintf(id, sizeof(id), "%u", r->id);
		else
			(void)strlcpy(id, "-", sizeof(id));
		fprintf(fp, "vm %s %s %s %lld", r->name,
		    state_phases[r->phase], id, (long long)r->since);
		if ((r->phase == STATE_STARTING ||
		    r->phase == STATE_PAUSED) && r->limit > 0)
			fprintf(fp, " %lld", r->limit);
		fprintf(fp, "\n");
	}
	LIST_FOREACH(h, &state_holds, entry) {
		if (h->until == 0)
			fprintf(fp, "hold %s never\n", h->name);
		else
			fprintf(fp, "hold %s %lld\n", h->name,
			    (long long)h->until);
	}
	if (fflush(fp) == EOF || ferror(fp) || fsync(fileno(fp)) == -1) {
		log_warn("state file: writing %s", tmp);
		fclose(fp);
		unlink(tmp);
		goto done;
	}
	if (fclose(fp) == EOF) {
		log_warn("state file: writing %s", tmp);
		unlink(tmp);
		goto done;
	}
	if (rename(tmp, state_path) == -1) {
		log_warn("state file: rename to %s", state_path);
		unlink(tmp);
	}
 done:
	free(tmp);
}

/* A hold line of version 3, "hold NAME UNTIL": -1 if malformed. */
static int
state_parse_hold(const char *line, struct state_hold *h)
{
	char		 name[VM_NAME_MAX + 1], until[24], extra[2];
	const char	*errstr;

	memset(h, 0, sizeof(*h));
	if (sscanf(line, "hold %64s %23s %1s", name, until, extra) != 2 ||
	    !config_vm_name_valid(name))
		return (-1);
	(void)strlcpy(h->name, name, sizeof(h->name));
	if (strcmp(until, "never") == 0)
		return (0);
	h->until = strtonum(until, 1, LLONG_MAX, &errstr);
	return (errstr != NULL ? -1 : 0);
}

/* One vm line of the file, version 1, 2 or 3, into r; -1 if malformed. */
static int
state_parse(const char *line, int version, struct state_rec *r)
{
	char		 name[VM_NAME_MAX + 1], phase[16], id[16];
	const char	*errstr;
	long long	 since = 0, limit = 0;
	size_t		 i;
	int		 n;

	memset(r, 0, sizeof(*r));
	if (version == 1) {
		if (sscanf(line, "started %64s %15s", name, id) != 2)
			return (-1);
		r->phase = STATE_RUNNING;
	} else {
		if (version >= 3 && strncmp(line, "vm ", 3) != 0)
			return (-1);
		if (version >= 3)
			line += 3;
		n = sscanf(line, "%64s %15s %15s %lld %lld", name, phase, id,
		    &since, &limit);
		if (n < 4 || since < 0 || limit < 0)
			return (-1);
		for (i = 0; i < nitems(state_phases); i++)
			if (strcmp(phase, state_phases[i]) == 0)
				break;
		/* Version 2 knew no pause. */
		if (i == nitems(state_phases) ||
		    (version < 3 && i == STATE_PAUSED))
			return (-1);
		r->phase = i;
	}
	if (!config_vm_name_valid(name))
		return (-1);
	(void)strlcpy(r->name, name, sizeof(r->name));
	r->since = since;
	r->limit = r->phase == STATE_STARTING || r->phase == STATE_PAUSED ?
	    limit : 0;
	if (strcmp(id, "-") == 0) {
		/* Version 1 had no write-ahead: an id never recorded. */
		r->v1_noid = version == 1;
		return (0);
	}
	r->id = strtonum(id, 0, UINT_MAX, &errstr);
	if (errstr != NULL)
		return (-1);
	r->has_id = 1;
	return (0);
}

/* A record of the file (not a comment, not the version): -1 if bad. */
static int
state_record(const char *line, int version)
{
	struct state_rec	 rec, *r;
	struct state_hold	 hold, *h;

	if (version >= 3 && strncmp(line, "hold ", 5) == 0) {
		if (state_parse_hold(line, &hold) == -1)
			return (-1);
		if ((h = state_hold_find(hold.name)) == NULL) {
			if ((h = calloc(1, sizeof(*h))) == NULL)
				fatal("state");
			(void)strlcpy(h->name, hold.name, sizeof(h->name));
			LIST_INSERT_HEAD(&state_holds, h, entry);
		}
		h->until = hold.until;
		return (0);
	}
	if (state_parse(line, version, &rec) == -1)
		return (-1);
	if ((r = state_find(rec.name)) == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			fatal("state");
		LIST_INSERT_HEAD(&state_recs, r, entry);
	}
	(void)strlcpy(r->name, rec.name, sizeof(r->name));
	r->phase = rec.phase;
	r->has_id = rec.has_id;
	r->id = rec.id;
	r->since = rec.since;
	r->limit = rec.limit;
	r->v1_noid = rec.v1_noid;
	r->pending = 1;
	return (0);
}

static void
state_load(void)
{
	struct state_rec	*r;
	char			*line = NULL;
	size_t			 sz = 0;
	ssize_t			 len;
	FILE			*fp;
	struct stat		 st;
	int			 lineno = 0, version = 0, bad = 0;

	if ((fp = fopen(state_path, "r")) == NULL) {
		if (errno != ENOENT)
			log_warn("state file %s, adopting nothing",
			    state_path);
		return;
	}
	if (fstat(fileno(fp), &st) == -1) {
		log_warn("state file %s", state_path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("state file %s: not a regular file; ignored, "
		    "adopting nothing", state_path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		log_warnx("state file %s: owned by uid %u, not by us; "
		    "ignored, adopting nothing", state_path,
		    (unsigned)st.st_uid);
		goto out;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		log_warnx("state file %s: writable by %s; ignored, adopting "
		    "nothing", state_path, st.st_mode & S_IWGRP ? "group" :
		    "others");
		goto out;
	}
	while ((len = getline(&line, &sz, fp)) != -1) {
		lineno++;
		if ((size_t)len != strlen(line)) {
			log_warnx("state file %s:%d: NUL byte; ignored, "
			    "adopting nothing", state_path, lineno);
			goto out_forget;
		}
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (version == 0) {
			if (sscanf(line, "version %d", &version) != 1 ||
			    version < 1 || version > STATE_VERSION) {
				log_warnx("state file %s:%d: not a version %d "
				    "state file; ignored, adopting nothing",
				    state_path, lineno, STATE_VERSION);
				version = 0;
				goto out_forget;
			}
			continue;
		}
		if (state_record(line, version) == -1) {
			log_warnx("state file %s:%d: malformed line ignored",
			    state_path, lineno);
			bad = 1;
		}
	}
	if (version == 0 && lineno > 0)
		log_warnx("state file %s: no version line; ignored, adopting "
		    "nothing", state_path);
	if (version == 0)
		goto out_forget;
	if (bad)
		log_warnx("state file %s: some lines were ignored", state_path);
	goto out;
 out_forget:
	while ((r = LIST_FIRST(&state_recs)) != NULL)
		state_forget(r);
	state_forget_holds();
 out:
	free(line);
	fclose(fp);
}

/*
 * What a record and vmctl's row of that VM mean.  A start may still be
 * under way for a while after the predecessor's crash (its vmctl is
 * orphaned, not dead), so a stopped VM with a fresh "starting" record
 * is asked about again; vmctl's own limit bounds that.
 */
static enum state_verdict
state_verdict(struct state_rec *r, const struct vmd_row *row, time_t now)
{
	long long	 limit;
	int		 may_act, pause_may_act;

	/* The limit it ran under: vmctl timeout may differ now. */
	limit = r->limit > 0 ? r->limit : state_limit();
	may_act = r->phase == STATE_STARTING &&
	    now < r->since + limit + STATE_START_GRACE;
	pause_may_act = r->phase == STATE_PAUSED &&
	    now < r->since + limit + STATE_START_GRACE;
	if (r->phase == STATE_STARTING)
		state_answer_read(r);
	if (r->said == VMCTL_SAID_REFUSED)
		return (row == NULL || row->state == VMD_STOPPED ?
		    VERDICT_DROP : VERDICT_FOREIGN);
	/*
	 * The boot a "paused" record is about ended: none after it is
	 * ours, but its pause may yet act on the next one, so no start
	 * until its limit has passed.
	 */
	if (r->phase == STATE_PAUSED && (row == NULL ||
	    row->state == VMD_STOPPED))
		r->ended = 1;
	if (r->ended)
		return (pause_may_act ? VERDICT_WAIT : VERDICT_DROP);
	if (row == NULL || row->state == VMD_STOPPED) {
		if (may_act)
			return (VERDICT_WAIT);
		/* Started a moment ago: vmd may not list it yet (boot.c). */
		if (row == NULL && r->phase == STATE_RUNNING &&
		    now < r->since + STATE_LIST_GRACE)
			return (VERDICT_WAIT);
		return (VERDICT_DROP);
	}
	/*
	 * Paused by us, it is adopted; by someone else, wait and see.  One
	 * we were stopping was ours to unpause first (halt.c).
	 */
	if ((row->state == VMD_PAUSED && r->phase != STATE_PAUSED &&
	    r->phase != STATE_STOPPING) ||
	    row->state == VMD_WAITING || row->state == VMD_UNKNOWN)
		return (VERDICT_WAIT);
	/* Running: its pause, orphaned, may yet act (and so make it ours). */
	if (row->state != VMD_PAUSED && pause_may_act)
		return (VERDICT_WAIT);
	if (r->said == VMCTL_SAID_STARTED)
		return (row->has_id && row->id != r->said_id ?
		    VERDICT_FOREIGN : VERDICT_ADOPT);
	/*
	 * Its start may still answer: whether this boot is its (a person
	 * may have started the VM meanwhile), and under which id (the
	 * record's is the one before the start, and vmd may have
	 * restarted since).
	 */
	if (may_act)
		return (VERDICT_WAIT);
	if (r->has_id && row->has_id && row->id != r->id)
		return (VERDICT_FOREIGN);
	if (r->v1_noid)
		return (VERDICT_FOREIGN);
	return (VERDICT_ADOPT);
}

static void
state_adopt_done(const struct backend_result *res, void *arg)
{
	struct state_rec	*r, *tr;
	const struct vmd_row	*row;
	time_t			 now = now_wall();
	int			 waiting = 0, changed = 0;

	state_req = NULL;
	if (!res->ok) {
		log_warnx("cannot check %d vm%s for adoption: %s; trying "
		    "again in %ds", state_pending(), state_pending() == 1 ?
		    "" : "s", res->msg, state_retry);
		timer_ms(&state_ev, state_retry * 1000LL);
		state_retry *= 2;
		if (state_retry > STATE_RETRY_MAX)
			state_retry = STATE_RETRY_MAX;
		return;
	}
	state_retry = STATE_RETRY_MIN;
	LIST_FOREACH_SAFE(r, &state_recs, entry, tr) {
		if (!r->pending)
			continue;
		row = vmctl_find_row(res->rows, res->nrows, r->name);
		switch (state_verdict(r, row, now)) {
		case VERDICT_WAIT:
			waiting++;
			continue;
		case VERDICT_DROP:
			if (r->said == VMCTL_SAID_REFUSED)
				log_info("vm %s: a previous supervisor's "
				    "start of it was refused", r->name);
			else
				log_info("vm %s: started by a previous "
				    "supervisor, no longer running", r->name);
			break;
		case VERDICT_FOREIGN:
			if (r->said == VMCTL_SAID_REFUSED)
				log_info("vm %s: a previous supervisor's "
				    "start of it was refused; running, "
				    "started by someone else", r->name);
			else if (r->said == VMCTL_SAID_STARTED)
				log_warnx("vm %s: running with id %u, not the "
				    "id %u a previous supervisor's start "
				    "gave it; not adopted, it will not be "
				    "stopped", r->name, row->id, r->said_id);
			else if (r->v1_noid)
				log_warnx("vm %s: its id was never recorded, "
				    "so it cannot be proved to be the one a "
				    "previous supervisor started; not adopted",
				    r->name);
			else
				log_warnx("vm %s: running with id %u, not the "
				    "id %u a previous supervisor started; not "
				    "adopted, it will not be stopped", r->name,
				    row->id, r->id);
			break;
		case VERDICT_ADOPT:
			r->pending = 0;
			if (r->phase == STATE_STARTING)
				state_answer_unlink(r->name);
			if (row->has_id) {
				r->has_id = 1;
				r->id = row->id;
			}
			if (row->state == VMD_STOPPING)
				r->phase = STATE_STOPPING;
			else if (r->phase == STATE_STARTING ||
			    (r->phase == STATE_PAUSED &&
			    row->state != VMD_PAUSED && !row->nostate))
				r->phase = STATE_RUNNING;
			changed = 1;
			vm_adopt(r->name, r->phase, r->has_id, r->id,
			    row->state, (long long)(now - r->since) * 1000);
			continue;
		}
		if (r->phase == STATE_STARTING)
			state_answer_unlink(r->name);
		state_forget(r);
		changed = 1;
	}
	if (changed)
		state_save();
	if (waiting > 0) {
		timer_ms(&state_ev, STATE_RETRY_MIN * 1000LL);
	}
	supervisor_check_exit();
}

static void
state_check(int fd, short ev, void *arg)
{
	if (state_req != NULL || state_pending() == 0)
		return;
	state_req = backend_status(NULL, 0, state_adopt_done, NULL);
}

/* Decide about every record a predecessor left: one status of all. */
void
state_adopt(void)
{
	state_check(-1, 0, NULL);
}
