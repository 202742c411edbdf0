/*
 * job.c with a real event loop: exit status and output, timeouts, exec
 * failures, a grandchild holding the pipes, line callbacks, cancelling
 * and callbacks that start and cancel other jobs.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"
#include "unit.h"

struct result {
	int		 done;
	int		 status;
	int		 timed_out;
	pid_t		 pid;
	char		 how[256];
	char		 out[4096];
	char		 err[4096];
	size_t		 outlen;
	size_t		 errlen;
	char		 lines[2][4096];	/* "a|b|" per stream */
	int		 nlines;
	struct job	*cancel;		/* cancel this from a callback */
	struct job	*started;
	struct result	*next;			/* start a job from done_cb */
};

static void
sigchld_cb(int sig, short events, void *arg)
{
	job_reap();
}

static void
done_cb(struct job *job, void *arg)
{
	struct result	*r = arg;
	const char	*s;
	size_t		 len;
	char		*argv[] = { "/bin/echo", "chained", NULL };

	r->done++;
	r->status = job_status(job);
	r->timed_out = job_timed_out(job);
	r->pid = job_pid(job);
	job_describe(job, r->how, sizeof(r->how));
	s = job_output(job, 1, &len);
	r->outlen = len;
	strlcpy(r->out, s, sizeof(r->out));
	s = job_output(job, 2, &len);
	r->errlen = len;
	strlcpy(r->err, s, sizeof(r->err));

	/* Reentrancy: cancel another job, cancel itself, start a new one. */
	if (r->cancel != NULL) {
		job_cancel(r->cancel);
		r->cancel = NULL;
	}
	job_cancel(job);
	if (r->next != NULL)
		r->started = job_run(argv, NULL, 0, NULL, done_cb, r->next);
}

static void
line_cb(struct job *job, int which, const char *line, void *arg)
{
	struct result	*r = arg;

	strlcat(r->lines[which - 1], line, sizeof(r->lines[0]));
	strlcat(r->lines[which - 1], "|", sizeof(r->lines[0]));
	r->nlines++;
	if (strcmp(line, "cancel-me") == 0) {
		r->pid = job_pid(job);
		job_cancel(job);
		job_cancel(job);	/* twice is harmless */
	}
}

static struct job *
start(struct result *r, long long timeout, int lines, const char *cmd)
{
	char	*argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };

	memset(r, 0, sizeof(*r));
	return (job_run(argv, NULL, timeout, lines ? line_cb : NULL, done_cb,
	    r));
}

/* True once pid is gone (reaped, not merely a zombie). */
static int
gone(pid_t pid, long long ms)
{
	long long	 deadline = unit_now_ms() + ms;
	struct timeval	 tv = { 0, 20000 };

	while (unit_now_ms() < deadline) {
		if (kill(pid, 0) == -1 && errno == ESRCH)
			return (1);
		event_loopexit(&tv);
		event_dispatch();
	}
	return (0);
}

int
main(void)
{
	struct event	 ev;
	struct result	 r, r2, r3;
	struct job	*job, *other;
	char		*bad[] = { "/nonexistent/vmctl", "status", NULL };
	char		*badpath[] = { "no-such-command-vlt", NULL };
	char		*envargv[] = { "/bin/sh", "-c", "echo \"$FOO\"", NULL };
	char		*env[] = { "FOO=bar", NULL };
	char		 want[64];
	long long	 t0, dt;
	int		 p[2];

	log_init(1, 0);
	signal(SIGPIPE, SIG_IGN);
	event_init();
	signal_set(&ev, SIGCHLD, sigchld_cb, NULL);
	signal_add(&ev, NULL);

	/* Exit status and both outputs. */
	job = start(&r, 0, 0, "echo out; echo err >&2; exit 3");
	CHECK(job != NULL && job_count() == 1, "job started");
	unit_loop_until(&r.done, 5000);
	CHECK(r.done == 1, "done once");
	CHECK(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 3, "status 3");
	CHECK_STR(r.how, "exited with status 3", "describe exit");
	CHECK_STR(r.out, "out\n", "stdout captured");
	CHECK_STR(r.err, "err\n", "stderr captured");
	CHECK(job_count() == 0, "no job left");

	/* stdin is /dev/null. */
	start(&r, 5000, 0, "cat; echo eof");
	unit_loop_until(&r.done, 5000);
	CHECK_STR(r.out, "eof\n", "stdin at EOF");

	/* A signal. */
	start(&r, 0, 0, "kill -9 $$");
	unit_loop_until(&r.done, 5000);
	CHECK_STR(r.how, "killed by signal 9", "describe signal");

	/* Timeout: SIGTERM to the group. */
	t0 = unit_now_ms();
	start(&r, 300, 0, "sleep 100");
	unit_loop_until(&r.done, 5000);
	dt = unit_now_ms() - t0;
	CHECK(r.done == 1 && r.timed_out, "timed out");
	CHECK(dt >= 250 && dt < 2000, "timeout took %lld ms", dt);
	CHECK_STR(r.how, "timed out after 300ms", "describe timeout");
	CHECK(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGTERM,
	    "killed by SIGTERM");

	/* A job that ignores SIGTERM gets SIGKILL a second later. */
	t0 = unit_now_ms();
	start(&r, 200, 0, "trap '' TERM; sleep 100; exit 0");
	unit_loop_until(&r.done, 5000);
	dt = unit_now_ms() - t0;
	CHECK(r.done == 1 && r.timed_out && WIFSIGNALED(r.status) &&
	    WTERMSIG(r.status) == SIGKILL, "SIGKILL after SIGTERM");
	CHECK(dt >= 1100 && dt < 3500, "kill escalation took %lld ms", dt);
	CHECK(gone(r.pid, 2000), "group killed");

	start(&r, 2000, 0, "exit 0");
	unit_loop_until(&r.done, 5000);
	CHECK(!r.timed_out, "timeout not hit");
	CHECK_STR(r.how, "exited with status 0", "describe success");

	/* exec failure, by path and by PATH search. */
	memset(&r, 0, sizeof(r));
	job = job_run(bad, NULL, 0, NULL, done_cb, &r);
	CHECK(job != NULL, "exec failure still a job");
	unit_loop_until(&r.done, 5000);
	CHECK_STR(r.how, "could not run /nonexistent/vmctl: No such file or "
	    "directory", "describe exec failure");
	CHECK_STR(r.err, "execvp /nonexistent/vmctl: No such file or "
	    "directory\n", "exec failure on stderr");
	CHECK(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 127, "exit 127");
	memset(&r, 0, sizeof(r));
	job_run(badpath, NULL, 0, NULL, done_cb, &r);
	unit_loop_until(&r.done, 5000);
	CHECK_STR(r.how, "could not run no-such-command-vlt: No such file or "
	    "directory", "describe PATH failure");

	/* The environment, when given. */
	memset(&r, 0, sizeof(r));
	job_run(envargv, env, 0, NULL, done_cb, &r);
	unit_loop_until(&r.done, 5000);
	CHECK_STR(r.out, "bar\n", "environment passed");

	/* A grandchild keeps the pipes: done after the grace anyway. */
	t0 = unit_now_ms();
	start(&r, 0, 0, "sleep 30 & echo $! >&2; echo hi");
	unit_loop_until(&r.done, 5000);
	dt = unit_now_ms() - t0;
	CHECK(r.done == 1 && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
	    "grandchild: done");
	CHECK(dt >= 900 && dt < 3000, "grandchild: grace took %lld ms", dt);
	CHECK_STR(r.out, "hi\n", "grandchild: output");
	CHECK(kill(atoi(r.err), 0) == 0, "grandchild left alone");
	kill(atoi(r.err), SIGKILL);
	CHECK(gone(atoi(r.err), 2000), "grandchild reaped by job_reap");

	/* Line callback: complete lines, then the partial last one. */
	start(&r, 0, 1, "printf 'a\\nb\\n\\nc'; printf 'x\\ny' >&2");
	unit_loop_until(&r.done, 5000);
	CHECK_STR(r.lines[0], "a|b||c|", "stdout lines");
	CHECK_STR(r.lines[1], "x|y|", "stderr lines");
	CHECK(r.outlen == 0, "no accumulated output with a line callback");

	/* Lines split across writes. */
	start(&r, 0, 1, "printf 'ab'; sleep 0.1; printf 'c\\nd'; sleep 0.1; "
	    "echo e");
	unit_loop_until(&r.done, 5000);
	CHECK_STR(r.lines[0], "abc|de|", "lines across writes");

	/* Output over the cap is dropped, the job still completes. */
	start(&r, 10000, 0, "head -c 1000000 /dev/zero | tr '\\0' x; "
	    "echo done >&2");
	unit_loop_until(&r.done, 10000);
	CHECK(r.done && r.outlen == 256 * 1024, "output capped: %zu",
	    r.outlen);
	CHECK_STR(r.err, "done\n", "stderr after big stdout");

	/* The child sees none of our descriptors. */
	CHECK(pipe(p) == 0, "pipe");
	snprintf(want, sizeof(want), "test -e /proc/self/fd/%d && echo leak",
	    p[1]);
	start(&r, 5000, 0, want);
	unit_loop_until(&r.done, 5000);
	CHECK_STR(r.out, "", "no descriptor leaked");
	close(p[0]);
	close(p[1]);

	/* Cancel: killed, no callback, the zombie reaped quietly. */
	job = start(&r, 0, 0, "sleep 100");
	r.pid = job_pid(job);
	job_cancel(job);
	CHECK(job_count() == 0, "cancelled job gone");
	CHECK(gone(r.pid, 3000), "cancelled job killed and reaped");
	CHECK(r.done == 0, "no callback after cancel");

	/* Cancel from the job's own line callback. */
	start(&r, 0, 1, "echo cancel-me; echo after; sleep 100");
	unit_loop_until(&r.nlines, 5000);
	CHECK(r.pid > 0 && gone(r.pid, 3000), "self-cancel from line_cb");
	CHECK(r.done == 0 && job_count() == 0, "self-cancel: no callback");
	CHECK_STR(r.lines[0], "cancel-me|", "no line after self-cancel");

	/* done_cb cancels another job and starts a new one. */
	other = start(&r2, 0, 0, "sleep 100");
	r2.pid = job_pid(other);
	job = start(&r, 0, 0, "exit 0");
	r.cancel = other;
	r.next = &r3;
	memset(&r3, 0, sizeof(r3));
	unit_loop_until(&r3.done, 5000);
	CHECK(r.done == 1 && r.started != NULL, "done_cb started a job");
	CHECK_STR(r3.out, "chained\n", "chained job ran");
	CHECK(r2.done == 0 && gone(r2.pid, 3000), "done_cb cancelled a job");
	CHECK(job_count() == 0, "nothing left");

	/* job_signal and job_kill_all. */
	job = start(&r, 0, 0, "exec sleep 100");
	other = start(&r2, 0, 0, "exec sleep 100");
	CHECK(job_count() == 2, "two jobs");
	job_signal(job, SIGINT);
	unit_loop_until(&r.done, 5000);
	CHECK_STR(r.how, "killed by signal 2", "job_signal");
	job_kill_all(SIGTERM);
	unit_loop_until(&r2.done, 5000);
	CHECK_STR(r2.how, "killed by signal 15", "job_kill_all");
	CHECK(job_count() == 0, "all done");

	/* Many at once. */
	{
		struct result	 many[20];
		int		 i, all;

		for (i = 0; i < 20; i++)
			start(&many[i], 5000, 0, "echo x");
		for (t0 = unit_now_ms(); unit_now_ms() - t0 < 5000;) {
			for (all = 1, i = 0; i < 20; i++)
				all &= many[i].done;
			if (all)
				break;
			unit_loop_until(&many[0].done, 20);
			unit_loop_until(&all, 20);
		}
		for (all = 0, i = 0; i < 20; i++)
			all += many[i].done == 1 &&
			    strcmp(many[i].out, "x\n") == 0;
		CHECK(all == 20, "20 parallel jobs: %d done", all);
	}

	return (unit_end("t_job"));
}
