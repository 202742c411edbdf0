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
 * Jobs: the children of the supervisor (backend commands, autostart
 * apps, host name lookups).  Each runs
 * in its own process group with stdin on /dev/null and stdout and stderr on
 * two non-blocking pipes read through the event loop.  A job is done when
 * its exit has been reaped and both pipes reached EOF, as in tmux; since a
 * grandchild (a VM process) may hold the pipes forever, they get a short
 * grace after the exit and are closed anyway.
 *
 * Lifetime: job_run() never calls back.  done_cb runs exactly once, from
 * the event loop (job_reap() or a pipe or timer event), unless the job is
 * cancelled first; the job is already off the list of live jobs then, and
 * is freed as soon as done_cb returns, so done_cb must not keep the
 * pointer.  done_cb may start, signal or cancel other jobs; job_cancel() of
 * the job itself from its own callbacks is safe.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"

#define JOB_OUTPUT_MAX	(256 * 1024)	/* kept per stream, the rest dropped */
#define JOB_LINE_MAX	(16 * 1024)	/* longer lines are split */
#define JOB_KILL_MS	1000		/* SIGTERM, then SIGKILL after this */
#define JOB_GRACE_MS	1000		/* pipes kept open after the exit */

enum job_timer {
	JOB_TIMER_NONE = 0,
	JOB_TIMER_TIMEOUT,
	JOB_TIMER_KILL,
	JOB_TIMER_GRACE
};

struct job_stream {
	int			 fd;		/* -1 once closed */
	int			 which;		/* 1 stdout, 2 stderr */
	struct event		 ev;
	char			*data;		/* output, or the partial line */
	size_t			 len;
	size_t			 size;
};

struct job {
	LIST_ENTRY(job)		 entry;
	pid_t			 pid;
	char			*name;		/* argv[0], for messages */
	int			 status;
	int			 exited;
	int			 timed_out;
	int			 exec_errno;
	long long		 timeout_ms;

	int			 busy;		/* inside a callback */
	int			 cancelled;
	int			 finished;	/* done_cb called */

	struct job_stream	 out[2];
	int			 errfile;	/* stderr went here, or -1 */
	struct event		 timer;
	enum job_timer		 timer_kind;

	job_line_cb		 linecb;
	job_done_cb		 donecb;
	void			*arg;
};

static LIST_HEAD(, job)	 jobs = LIST_HEAD_INITIALIZER(jobs);

static __dead void	 job_child(char *const *, char *const *, int, int, int,
			    int);
static void		 job_set_timer(struct job *, enum job_timer,
			    long long);
static void		 job_timer_cb(int, short, void *);
static void		 job_read_cb(int, short, void *);
static int		 job_append(struct job *, struct job_stream *,
			    const char *, size_t);
static int		 job_lines(struct job *, struct job_stream *, int);
static int		 job_close_stream(struct job *, struct job_stream *);
static int		 job_check(struct job *);
static void		 job_killpg(struct job *, int);
static void		 job_free(struct job *);
static void		 job_child_setup(int, int, int, int);
static struct job	*job_new(const char *, long long, job_line_cb,
			    job_done_cb, void *);
static void		 job_watch(struct job *);
static void		 job_close_pipe(int [2]);
static pid_t		 job_spawn_to(char *const *, char *const *, int *,
			    int *, int, int *);
static void		 job_errfile_read(struct job *);

/*
 * Run argv in a child of its own process group, stdin on /dev/null,
 * stdout and stderr on pipes whose read ends (close-on-exec) go to
 * *outfd and *errfd.  Returns once the exec has happened or failed:
 * *exec_errno is then 0 or why it failed.  -1 with errno when no child
 * could be made.
 */
pid_t
job_spawn(char *const *argv, char *const *envp, int *outfd, int *errfd,
    int *exec_errno)
{
	return (job_spawn_to(argv, envp, outfd, errfd, -1, exec_errno));
}

/* The same, with stderr on errto instead of a pipe when it is not -1. */
static pid_t
job_spawn_to(char *const *argv, char *const *envp, int *outfd, int *errfd,
    int errto, int *exec_errno)
{
	int		 outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int		 execp[2] = { -1, -1 }, nullfd = -1, saved, e;
	pid_t		 pid;
	ssize_t		 n;

	if ((nullfd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    pipe2(outp, O_CLOEXEC) == -1 ||
	    (errto == -1 && pipe2(errp, O_CLOEXEC) == -1) ||
	    pipe2(execp, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		saved = errno;
		if (nullfd != -1)
			close(nullfd);
		job_close_pipe(outp);
		job_close_pipe(errp);
		job_close_pipe(execp);
		errno = saved;
		return (-1);
	}
	if (pid == 0)
		job_child(argv, envp, nullfd, outp[1], errto != -1 ? errto :
		    errp[1], execp[1]);

	/* Both sides set the group, so that signalling it cannot race. */
	(void)setpgid(pid, pid);
	close(nullfd);
	close(outp[1]);
	if (errp[1] != -1)
		close(errp[1]);
	close(execp[1]);

	/*
	 * The exec pipe is closed by a successful exec or carries errno:
	 * this read waits only for the exec itself, never for the command.
	 */
	*exec_errno = 0;
	do {
		n = read(execp[0], &e, sizeof(e));
	} while (n == -1 && errno == EINTR);
	if (n == sizeof(e))
		*exec_errno = e;
	close(execp[0]);
	*outfd = outp[0];
	*errfd = errp[0];
	return (pid);
}

static struct job *
job_new(const char *name, long long timeout_ms, job_line_cb linecb,
    job_done_cb donecb, void *arg)
{
	struct job	*job;

	if ((job = calloc(1, sizeof(*job))) == NULL)
		return (NULL);
	if ((job->name = strdup(name)) == NULL) {
		free(job);
		return (NULL);
	}
	job->status = -1;
	job->errfile = -1;
	job->timeout_ms = timeout_ms;
	job->linecb = linecb;
	job->donecb = donecb;
	job->arg = arg;
	job->out[0].which = 1;
	job->out[1].which = 2;
	return (job);
}

/* The child exists and its pipes are ours: watch them, and the clock. */
static void
job_watch(struct job *job)
{
	int	 i;

	for (i = 0; i < 2; i++) {
		if (job->out[i].fd == -1)
			continue;	/* stderr to a file */
		(void)fcntl(job->out[i].fd, F_SETFL,
		    fcntl(job->out[i].fd, F_GETFL) | O_NONBLOCK);
		event_set(&job->out[i].ev, job->out[i].fd, EV_READ | EV_PERSIST,
		    job_read_cb, job);
		event_add(&job->out[i].ev, NULL);
	}
	evtimer_set(&job->timer, job_timer_cb, job);
	if (job->timeout_ms > 0)
		job_set_timer(job, JOB_TIMER_TIMEOUT, job->timeout_ms);
	LIST_INSERT_HEAD(&jobs, job, entry);
}

struct job *
job_run(char *const *argv, char *const *envp, long long timeout_ms,
    job_line_cb linecb, job_done_cb donecb, void *arg)
{
	struct job	*job;
	int		 saved;

	if (argv == NULL || argv[0] == NULL) {
		errno = EINVAL;
		return (NULL);
	}
	if ((job = job_new(argv[0], timeout_ms, linecb, donecb, arg)) == NULL)
		return (NULL);
	if ((job->pid = job_spawn(argv, envp, &job->out[0].fd,
	    &job->out[1].fd, &job->exec_errno)) == -1) {
		saved = errno;
		free(job->name);
		free(job);
		errno = saved;
		return (NULL);
	}
	job_watch(job);
	return (job);
}

/*
 * job_run() with the command's stderr written to errfd, a file (which
 * the job owns and closes), rather than to a pipe: what the command
 * says outlives the supervisor, should it die before the command ends.
 * The job reads the file when the command is done, so that job_output()
 * of fd 2 is the same as for job_run().
 */
struct job *
job_run_to(char *const *argv, char *const *envp, long long timeout_ms,
    int errfd, job_done_cb donecb, void *arg)
{
	struct job	*job;
	int		 saved;

	if (argv == NULL || argv[0] == NULL || errfd == -1) {
		saved = EINVAL;
		goto fail;
	}
	if ((job = job_new(argv[0], timeout_ms, NULL, donecb, arg)) == NULL) {
		saved = errno;
		goto fail;
	}
	if ((job->pid = job_spawn_to(argv, envp, &job->out[0].fd,
	    &job->out[1].fd, errfd, &job->exec_errno)) == -1) {
		saved = errno;
		free(job->name);
		free(job);
		goto fail;
	}
	job->errfile = errfd;
	job_watch(job);
	return (job);
 fail:
	if (errfd != -1)
		close(errfd);
	errno = saved;
	return (NULL);
}

/* The command is done: what it wrote to its file is its stderr. */
static void
job_errfile_read(struct job *job)
{
	char	 buf[16384];
	off_t	 off = 0;
	ssize_t	 n;

	if (job->errfile == -1)
		return;
	while (job->out[1].len < JOB_OUTPUT_MAX) {
		n = pread(job->errfile, buf, sizeof(buf), off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			log_warn("%s: its output", job->name);
		if (n <= 0)
			break;
		(void)job_append(job, &job->out[1], buf, n);
		off += n;
	}
	close(job->errfile);
	job->errfile = -1;
}

/*
 * A job that is a function of ours rather than a program: the child
 * runs fn(arg) with the same descriptors a program would get (its
 * output on fd 1 is the job's output), then exits.  For the blocking
 * calls the loop must not make itself (getaddrinfo).
 */
struct job *
job_fork(const char *name, void (*fn)(void *), void *arg,
    long long timeout_ms, job_done_cb donecb, void *cbarg)
{
	struct job	*job;
	int		 outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, nullfd = -1;
	int		 saved;

	if ((job = job_new(name, timeout_ms, NULL, donecb, cbarg)) == NULL)
		return (NULL);
	if ((nullfd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    pipe2(outp, O_CLOEXEC) == -1 || pipe2(errp, O_CLOEXEC) == -1 ||
	    (job->pid = fork()) == -1) {
		saved = errno;
		if (nullfd != -1)
			close(nullfd);
		job_close_pipe(outp);
		job_close_pipe(errp);
		free(job->name);
		free(job);
		errno = saved;
		return (NULL);
	}
	if (job->pid == 0) {
		job_child_setup(nullfd, outp[1], errp[1], -1);
		fn(arg);
		_exit(0);
	}
	(void)setpgid(job->pid, job->pid);
	close(nullfd);
	close(outp[1]);
	close(errp[1]);
	job->out[0].fd = outp[0];
	job->out[1].fd = errp[0];
	job_watch(job);
	return (job);
}

/*
 * In the child: own process group, default signals, stdin on /dev/null,
 * the pipes on 1 and 2, the exec pipe (if any) on 3 and nothing else
 * open, so a long-lived grandchild holds none of the supervisor's
 * sockets.
 */
static void
job_child_setup(int nullfd, int outfd, int errfd, int execfd)
{
	sigset_t	  set;
	int		  fds[4], i, n = execfd != -1 ? 4 : 3;
	const int	  sigs[] = { SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGQUIT,
			    SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM };

	(void)setpgid(0, 0);
	for (i = 0; i < (int)nitems(sigs); i++)
		(void)signal(sigs[i], SIG_DFL);
	sigemptyset(&set);
	(void)sigprocmask(SIG_SETMASK, &set, NULL);

	/* Move everything above 3 first, so that the dup2s cannot clash. */
	fds[0] = fcntl(nullfd, F_DUPFD, 4);
	fds[1] = fcntl(outfd, F_DUPFD, 4);
	fds[2] = fcntl(errfd, F_DUPFD, 4);
	fds[3] = execfd != -1 ? fcntl(execfd, F_DUPFD, 4) : -1;
	for (i = 0; i < n; i++) {
		if (fds[i] == -1 || dup2(fds[i], i) == -1)
			_exit(127);
	}
	if (execfd != -1)
		(void)fcntl(3, F_SETFD, FD_CLOEXEC);
	closefrom(n);
}

static __dead void
job_child(char *const *argv, char *const *envp, int nullfd, int outfd,
    int errfd, int execfd)
{
	extern char	**environ;
	int		  saved;

	job_child_setup(nullfd, outfd, errfd, execfd);
	if (envp != NULL)
		environ = (char **)envp;
	execvp(argv[0], argv);

	saved = errno;
	dprintf(2, "execvp %s: %s\n", argv[0], strerror(saved));
	(void)write(3, &saved, sizeof(saved));
	_exit(127);
}

static void
job_set_timer(struct job *job, enum job_timer kind, long long ms)
{
	evtimer_del(&job->timer);
	job->timer_kind = kind;
	timer_ms(&job->timer, ms);
}

static void
job_timer_cb(int fd, short events, void *arg)
{
	struct job	*job = arg;
	int		 i;

	switch (job->timer_kind) {
	case JOB_TIMER_TIMEOUT:
		job->timed_out = 1;
		job_killpg(job, SIGTERM);
		job_set_timer(job, JOB_TIMER_KILL, JOB_KILL_MS);
		break;
	case JOB_TIMER_KILL:
		job->timer_kind = JOB_TIMER_NONE;
		job_killpg(job, SIGKILL);
		break;
	case JOB_TIMER_GRACE:
		/*
		 * Exited, but something still holds a pipe.  A job that
		 * ran out of time loses its whole group; otherwise the
		 * holder is a legitimate daemon (a VM) and is left alone.
		 */
		job->timer_kind = JOB_TIMER_NONE;
		if (job->timed_out && killpg(job->pid, SIGKILL) == -1 &&
		    errno != ESRCH)
			log_warn("killpg %ld", (long)job->pid);
		for (i = 0; i < 2; i++) {
			if (job_close_stream(job, &job->out[i]) == -1)
				return;
		}
		job_check(job);
		break;
	case JOB_TIMER_NONE:
		break;
	}
}

static void
job_read_cb(int fd, short events, void *arg)
{
	struct job		*job = arg;
	struct job_stream	*s;
	char			 buf[16384];
	ssize_t			 n;

	s = (job->out[0].fd == fd) ? &job->out[0] : &job->out[1];
	n = read(fd, buf, sizeof(buf));
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0) {
		job_append(job, s, buf, n);
		return;
	}
	if (n == -1)
		log_warn("%s: read", job->name);
	if (job_close_stream(job, s) == -1)
		return;
	job_check(job);
}

/* Returns -1 when a callback cancelled the job (it is freed then). */
static int
job_append(struct job *job, struct job_stream *s, const char *data,
    size_t len)
{
	size_t	 limit, room, want;
	char	*p;

	limit = (job->linecb != NULL) ? JOB_LINE_MAX : JOB_OUTPUT_MAX;
	while (len > 0) {
		room = limit - s->len;
		want = len < room ? len : room;
		if (s->len + want + 1 > s->size) {
			size_t	 nsize = s->size ? s->size : 4096;

			while (nsize < s->len + want + 1)
				nsize *= 2;
			if ((p = realloc(s->data, nsize)) == NULL) {
				log_warn("%s: output", job->name);
				return (0);
			}
			s->data = p;
			s->size = nsize;
		}
		memcpy(s->data + s->len, data, want);
		s->len += want;
		s->data[s->len] = '\0';
		data += want;
		len -= want;

		if (job->linecb == NULL)
			return (0);	/* output beyond the cap is dropped */
		if (job_lines(job, s, 0) == -1)
			return (-1);
	}
	return (0);
}

/*
 * Pass each complete line to the line callback; with final (EOF) or a
 * full buffer, the rest too.  Returns -1 when a callback cancelled the job.
 */
static int
job_lines(struct job *job, struct job_stream *s, int final)
{
	char	*nl, *line;
	size_t	 used = 0;
	int	 gone;

	job->busy++;
	while (!job->cancelled && used < s->len) {
		line = s->data + used;
		if ((nl = memchr(line, '\n', s->len - used)) != NULL) {
			*nl = '\0';
			used = nl - s->data + 1;
		} else if (final || s->len >= JOB_LINE_MAX) {
			used = s->len;
		} else
			break;
		job->linecb(job, s->which, line, job->arg);
	}
	job->busy--;

	gone = job->cancelled;
	if (gone) {
		if (job->busy == 0)
			job_free(job);
		return (-1);
	}
	memmove(s->data, s->data + used, s->len - used);
	s->len -= used;
	if (s->data != NULL)
		s->data[s->len] = '\0';
	return (0);
}

static int
job_close_stream(struct job *job, struct job_stream *s)
{
	if (s->fd == -1)
		return (0);
	event_del(&s->ev);
	close(s->fd);
	s->fd = -1;
	if (job->linecb != NULL && s->len > 0)
		return (job_lines(job, s, 1));
	return (0);
}

/*
 * Done when reaped and both pipes are closed; reaped with a pipe still
 * open starts the grace.  Returns -1 once the job is freed.
 */
static int
job_check(struct job *job)
{
	if (!job->exited || job->finished || job->cancelled)
		return (0);
	if (job->out[0].fd != -1 || job->out[1].fd != -1) {
		if (job->timer_kind != JOB_TIMER_GRACE)
			job_set_timer(job, JOB_TIMER_GRACE, JOB_GRACE_MS);
		return (0);
	}

	evtimer_del(&job->timer);
	job->timer_kind = JOB_TIMER_NONE;
	LIST_REMOVE(job, entry);
	job->finished = 1;
	job_errfile_read(job);
	job->busy++;
	if (job->donecb != NULL)
		job->donecb(job, job->arg);
	job->busy--;
	job_free(job);
	return (-1);
}

void
job_reap(void)
{
	struct job	*job;
	pid_t		 pid;
	int		 status;

	for (;;) {
		pid = waitpid(WAIT_ANY, &status, WNOHANG);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		/* Looked up each time: a done_cb may have freed any job. */
		LIST_FOREACH(job, &jobs, entry) {
			if (job->pid == pid)
				break;
		}
		if (job == NULL || job->exited)
			continue;	/* a cancelled job, or not ours */
		job->status = status;
		job->exited = 1;
		if (job->timer_kind == JOB_TIMER_TIMEOUT ||
		    job->timer_kind == JOB_TIMER_KILL) {
			evtimer_del(&job->timer);
			job->timer_kind = JOB_TIMER_NONE;
		}
		job_check(job);
	}
}

static void
job_killpg(struct job *job, int sig)
{
	if (job->exited || job->pid <= 0)
		return;
	if (killpg(job->pid, sig) == -1 && errno != ESRCH)
		log_warn("killpg %ld", (long)job->pid);
}

void
job_signal(struct job *job, int sig)
{
	job_killpg(job, sig);
}

/*
 * Stop a job without calling back: kill its group, stop watching and free
 * it.  Its zombie is reaped later by job_reap(), which ignores the pid.
 */
void
job_cancel(struct job *job)
{
	int	 i;

	if (job == NULL || job->cancelled || job->finished)
		return;
	job_killpg(job, SIGKILL);
	job->cancelled = 1;
	LIST_REMOVE(job, entry);
	evtimer_del(&job->timer);
	for (i = 0; i < 2; i++) {
		if (job->out[i].fd != -1) {
			event_del(&job->out[i].ev);
			close(job->out[i].fd);
			job->out[i].fd = -1;
		}
	}
	if (job->busy == 0)
		job_free(job);
	/* Otherwise the callback that is running frees it on return. */
}

static void
job_free(struct job *job)
{
	int	 i;

	evtimer_del(&job->timer);
	for (i = 0; i < 2; i++) {
		if (job->out[i].fd != -1) {
			event_del(&job->out[i].ev);
			close(job->out[i].fd);
		}
		free(job->out[i].data);
	}
	if (job->errfile != -1)
		close(job->errfile);
	free(job->name);
	free(job);
}

int
job_count(void)
{
	struct job	*job;
	int		 n = 0;

	LIST_FOREACH(job, &jobs, entry)
		n++;
	return (n);
}

void
job_kill_all(int sig)
{
	struct job	*job;

	LIST_FOREACH(job, &jobs, entry)
		job_killpg(job, sig);
}

pid_t
job_pid(struct job *job)
{
	return (job->pid);
}

const char *
job_name(struct job *job)
{
	return (job->name);
}

/* Why the exec failed, 0 when it did not. */
int
job_exec_errno(struct job *job)
{
	return (job->exec_errno);
}

long long
job_timeout(struct job *job)
{
	return (job->timeout_ms);
}

/* The wait status, or -1 while the job has not exited. */
int
job_status(struct job *job)
{
	return (job->exited ? job->status : -1);
}

int
job_timed_out(struct job *job)
{
	return (job->timed_out);
}

/*
 * What the job wrote on fd 1 or 2, NUL-terminated and at most
 * JOB_OUTPUT_MAX bytes; empty for a job with a line callback.
 */
const char *
job_output(struct job *job, int which, size_t *len)
{
	struct job_stream	*s;

	s = (which == 2) ? &job->out[1] : &job->out[0];
	if (job->linecb != NULL || s->data == NULL) {
		if (len != NULL)
			*len = 0;
		return ("");
	}
	if (len != NULL)
		*len = s->len;
	return (s->data);
}

const char *
job_describe(struct job *job, char *buf, size_t len)
{
	char	 d[32];

	if (job->exec_errno != 0)
		snprintf(buf, len, "could not run %s: %s", job->name,
		    strerror(job->exec_errno));
	else if (job->timed_out) {
		if (job->timeout_ms % 1000 != 0)
			snprintf(d, sizeof(d), "%lldms", job->timeout_ms);
		else
			print_duration(job->timeout_ms / 1000, d, sizeof(d));
		snprintf(buf, len, "timed out after %s", d);
	}
	else if (!job->exited)
		snprintf(buf, len, "running");
	else if (WIFEXITED(job->status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(job->status));
	else if (WIFSIGNALED(job->status))
		snprintf(buf, len, "killed by signal %d",
		    WTERMSIG(job->status));
	else
		snprintf(buf, len, "ended with wait status %#x", job->status);
	return (buf);
}

/*
 * A command line split on blanks (no shell, no quoting), then the extra
 * arguments; NULL-terminated, free with job_argv_free().
 */
char **
job_argv(const char *cmdline, const char *const *extra)
{
	char		**argv, *copy, *p, *word;
	size_t		  n = 0, nextra = 0, i;

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
	job_argv_free(argv);
	return (NULL);
}

/* An argv or environment of job_argv() or job_env(), and its strings. */
void
job_argv_free(char **argv)
{
	size_t	 i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/*
 * A copy of our environment with the "NAME=value" strings of set in
 * place of the variables of those names; a bare "NAME" in set removes
 * that variable.  Free with job_argv_free().
 */
char **
job_env(char *const *set)
{
	extern char	**environ;
	char		**env;
	size_t		  n = 0, nset = 0, i, j, k = 0, len;

	while (environ[n] != NULL)
		n++;
	while (set[nset] != NULL)
		nset++;
	if ((env = calloc(n + nset + 1, sizeof(*env))) == NULL)
		return (NULL);
	for (i = 0; i < nset; i++)
		if (strchr(set[i], '=') != NULL &&
		    (env[k++] = strdup(set[i])) == NULL)
			goto fail;
	for (i = 0; i < n; i++) {
		for (j = 0; j < nset; j++) {
			len = strcspn(set[j], "=");
			if (strncmp(environ[i], set[j], len) == 0 &&
			    environ[i][len] == '=')
				break;
		}
		if (j == nset && (env[k++] = strdup(environ[i])) == NULL)
			goto fail;
	}
	env[k] = NULL;
	return (env);
fail:
	job_argv_free(env);
	return (NULL);
}

/* Close what was opened of a pipe whose ends start as -1. */
static void
job_close_pipe(int p[2])
{
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
}
