/*
 * vmctl.c: `vmctl status` parsing for every variant in VMCTL.md, argv
 * splitting, and the commands run for real against fakevmctl.sh, both
 * through the event loop and with backend_status_sync().
 */

#include <sys/types.h>

#include <event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"
#include "unit.h"

#define HDR	"   ID   PID VCPUS  MAXMEM  CURMEM     TTY        OWNER    STATE NAME\n"
#define HDR8	"   ID   PID VCPUS  MAXMEM  CURMEM     TTY        OWNER NAME\n"

static const char	*fake;		/* path of fakevmctl.sh */

static int
parse(const char *s, struct vmd_row **rows, size_t *n, char *err,
    size_t errlen)
{
	return (vmctl_parse_status(s, strlen(s), rows, n, err, errlen));
}

static void
test_parse(void)
{
	struct vmd_row		*rows;
	const struct vmd_row	*r;
	size_t			 n;
	char			 err[256], name63[64], name64[65], buf[1024];
	const char		*states[] = { "paused", "waiting", "stopping",
				    "running", "stopped", "unknown", "frobbed" };
	enum vmd_state		 want[] = { VMD_PAUSED, VMD_WAITING,
				    VMD_STOPPING, VMD_RUNNING, VMD_STOPPED,
				    VMD_UNKNOWN, VMD_UNKNOWN };
	size_t			 i;
	int			 rc;

	/* The sample table from VMCTL.md. */
	rc = parse(HDR
	    "    1 48213     1    1.0G    1.0G   ttyp8          joe  running build01\n"
	    "    2     -     1    512M       -       -         root  stopped db\n"
	    "    3     -     1    2.0G       -       -       :wheel  stopped ci\n",
	    &rows, &n, err, sizeof(err));
	CHECK(rc == 0 && n == 3, "sample table: rc %d n %zu (%s)", rc, n, err);
	if (rc == 0 && n == 3) {
		CHECK(rows[0].id == 1 && rows[0].has_id &&
		    rows[0].state == VMD_RUNNING &&
		    strcmp(rows[0].name, "build01") == 0, "sample row 1");
		CHECK(rows[1].id == 2 && rows[1].state == VMD_STOPPED &&
		    strcmp(rows[1].name, "db") == 0, "sample row 2");
		CHECK(rows[2].id == 3 && rows[2].state == VMD_STOPPED &&
		    strcmp(rows[2].name, "ci") == 0, "sample row 3");
	}
	free(rows);

	/* Printed with vmctl's own formats, OWNER longer than 12. */
	snprintf(buf, sizeof(buf), "%5s %5s %5s %7s %7s %7s %12s %8s %s\n"
	    "%5u %5u %5zd %7s %7s %7s %12s %8s %s\n"
	    "%5u %5s %5zd %7s %7s %7s %12s %8s %s\n",
	    "ID", "PID", "VCPUS", "MAXMEM", "CURMEM", "TTY", "OWNER", "STATE",
	    "NAME",
	    17u, 99999u, (ssize_t)2, "4.0G", "4.0G", "ttyp12",
	    "averyverylonguser:averylonggroup", "running", "long-owner.vm",
	    300u, "-", (ssize_t)1, "1.0G", "-", "-", "12345", "paused", "p");
	rc = parse(buf, &rows, &n, err, sizeof(err));
	CHECK(rc == 0 && n == 2, "long owner: rc %d n %zu (%s)", rc, n, err);
	if (rc == 0 && n == 2) {
		CHECK(rows[0].id == 17 && rows[0].state == VMD_RUNNING &&
		    strcmp(rows[0].name, "long-owner.vm") == 0,
		    "long owner row");
		CHECK(rows[1].id == 300 && rows[1].state == VMD_PAUSED &&
		    strcmp(rows[1].name, "p") == 0, "numeric owner row");
	}
	free(rows);

	/* Header alone: an unknown name, or no VMs. */
	rc = parse(HDR, &rows, &n, err, sizeof(err));
	CHECK(rc == 0 && n == 0 && rows == NULL, "header only: rc %d n %zu",
	    rc, n);
	free(rows);

	/* Every state word; an unknown word is VMD_UNKNOWN. */
	for (i = 0; i < nitems(states); i++) {
		snprintf(buf, sizeof(buf), HDR
		    "    4     -     1    512M       -       -         root %8s vm%zu",
		    states[i], i);
		rc = parse(buf, &rows, &n, err, sizeof(err));
		CHECK(rc == 0 && n == 1 && rows[0].state == want[i],
		    "state %s: rc %d (%s)", states[i], rc, err);
		free(rows);
	}
	CHECK_STR(vmd_state_name(VMD_STOPPING), "stopping", "state name");
	CHECK_STR(vmd_state_name(VMD_ABSENT), "absent", "state name");

	/* Releases up to 2018: no STATE, " - stopping" after the name. */
	rc = parse(HDR8
	    "    1 48213     1    1.0G    1.0G   ttyp8         root build01\n"
	    "    3 50001     1    1.0G    1.0G   ttyp9         root web - stopping\n"
	    "    2     -     1    512M       -       -         root db\n",
	    &rows, &n, err, sizeof(err));
	CHECK(rc == 0 && n == 3, "old format: rc %d n %zu (%s)", rc, n, err);
	if (rc == 0 && n == 3) {
		CHECK(rows[0].state == VMD_RUNNING &&
		    strcmp(rows[0].name, "build01") == 0, "old running");
		CHECK(rows[1].state == VMD_STOPPING && rows[1].id == 3 &&
		    strcmp(rows[1].name, "web") == 0, "old stopping");
		CHECK(rows[2].state == VMD_STOPPED &&
		    strcmp(rows[2].name, "db") == 0, "old stopped");
	}
	free(rows);

	/* Similar names: only the exact one matches. */
	rc = parse(HDR
	    "    1 48213     1    1.0G    1.0G   ttyp8          joe  running build01x\n"
	    "    2     -     1    512M       -       -          joe  stopped build01\n",
	    &rows, &n, err, sizeof(err));
	CHECK(rc == 0 && n == 2, "similar names: rc %d", rc);
	r = vmctl_find_row(rows, n, "build01");
	CHECK(r != NULL && r->id == 2 && r->state == VMD_STOPPED,
	    "find build01");
	r = vmctl_find_row(rows, n, "build01x");
	CHECK(r != NULL && r->id == 1, "find build01x");
	CHECK(vmctl_find_row(rows, n, "build0") == NULL, "no build0");
	CHECK(vmctl_find_row(rows, n, "build01xx") == NULL, "no build01xx");
	free(rows);

	/* 63 characters is the longest name; 64 is not vmctl output. */
	memset(name63, 'a', 63);
	name63[63] = '\0';
	memset(name64, 'b', 64);
	name64[64] = '\0';
	snprintf(buf, sizeof(buf), HDR
	    "    5     -     1    512M       -       -          joe  stopped %s\n",
	    name63);
	rc = parse(buf, &rows, &n, err, sizeof(err));
	CHECK(rc == 0 && n == 1 && strcmp(rows[0].name, name63) == 0,
	    "63-char name: rc %d (%s)", rc, err);
	CHECK(vmctl_find_row(rows, n, name63) != NULL, "find 63-char name");
	free(rows);
	snprintf(buf, sizeof(buf), HDR
	    "    5     -     1    512M       -       -          joe  stopped %s\n",
	    name64);
	rc = parse(buf, &rows, &n, err, sizeof(err));
	CHECK(rc == -1, "64-char name refused");

	/* No newline at the end; blank lines around. */
	rc = parse("\n" HDR "\n"
	    "    1     -     1    512M       -       -          joe  stopped x",
	    &rows, &n, err, sizeof(err));
	CHECK(rc == 0 && n == 1 && strcmp(rows[0].name, "x") == 0,
	    "no final newline: rc %d (%s)", rc, err);
	free(rows);

	/* Garbage, and what the error says. */
	rc = parse("hello world\n", &rows, &n, err, sizeof(err));
	CHECK(rc == -1 && rows == NULL && n == 0, "garbage refused");
	CHECK_STR(err, "unexpected output: \"hello world\"", "garbage error");

	rc = parse("", &rows, &n, err, sizeof(err));
	CHECK(rc == -1, "empty output refused");
	CHECK_STR(err, "no output", "empty output error");
	rc = parse(" \n\n\t\n", &rows, &n, err, sizeof(err));
	CHECK(rc == -1, "blank output refused");

	rc = parse(HDR
	    "    x     -     1    512M       -       -          joe  stopped db\n",
	    &rows, &n, err, sizeof(err));
	CHECK(rc == -1, "non-numeric id refused");
	CHECK(strstr(err, "unexpected output: \"    x     -") == err,
	    "bad row quoted: %s", err);

	rc = parse(HDR "    1     -     1    512M  stopped db\n",
	    &rows, &n, err, sizeof(err));
	CHECK(rc == -1, "short row refused");
	rc = parse(HDR
	    "    1     -     1    512M       -       -   joe  stopped db extra\n",
	    &rows, &n, err, sizeof(err));
	CHECK(rc == -1, "long row refused");
	rc = parse(HDR
	    "    1   abc     1    512M       -       -   joe  stopped db\n",
	    &rows, &n, err, sizeof(err));
	CHECK(rc == -1, "non-numeric pid refused");
	rc = parse("   ID   PID NAME STATE\n", &rows, &n, err, sizeof(err));
	CHECK(rc == -1, "header without NAME last refused");
	rc = parse(HDR8 "    1     -     1    512M       -       -   joe db - gone\n",
	    &rows, &n, err, sizeof(err));
	CHECK(rc == -1, "odd suffix refused");

	/* A long offending line is shortened in the message. */
	memset(buf, 'z', 300);
	buf[300] = '\0';
	rc = parse(buf, &rows, &n, err, sizeof(err));
	CHECK(rc == -1 && strlen(err) < 100 && strstr(err, "...\"") != NULL,
	    "long garbage shortened: %s", err);

	/* A NUL byte is garbage too. */
	rc = vmctl_parse_status(HDR "    1 \0 x\n", sizeof(HDR) - 1 + 9,
	    &rows, &n, err, sizeof(err));
	CHECK(rc == -1, "NUL byte refused");

	/* vmd not running: nothing on stdout (the message is on stderr). */
	rc = parse("", &rows, &n, err, sizeof(err));
	CHECK(rc == -1, "vmd not running: no rows");
}

static void
test_argv(void)
{
	char		**argv;
	const char	*extra[] = { "start", "my-vm", NULL };
	const char	*status[] = { "status", NULL };

	argv = job_argv("/usr/sbin/vmctl", status);
	CHECK(argv != NULL && strcmp(argv[0], "/usr/sbin/vmctl") == 0 &&
	    strcmp(argv[1], "status") == 0 && argv[2] == NULL, "plain argv");
	job_argv_free(argv);

	argv = job_argv("  doas -n\t\t/usr/sbin/vmctl  ", extra);
	CHECK(argv != NULL && strcmp(argv[0], "doas") == 0 &&
	    strcmp(argv[1], "-n") == 0 &&
	    strcmp(argv[2], "/usr/sbin/vmctl") == 0 &&
	    strcmp(argv[3], "start") == 0 && strcmp(argv[4], "my-vm") == 0 &&
	    argv[5] == NULL, "blanks split, extras appended");
	job_argv_free(argv);

	argv = job_argv("sh -c 'a b'", NULL);
	CHECK(argv != NULL && strcmp(argv[2], "'a") == 0 &&
	    strcmp(argv[3], "b'") == 0 && argv[4] == NULL, "no quoting");
	job_argv_free(argv);

	CHECK(job_argv("", status) == NULL, "empty command refused");
	CHECK(job_argv(" \t ", status) == NULL, "blank command refused");
}

/* The commands through the event loop. */

struct outcome {
	int			 done;
	int			 ok;
	char			 msg[512];
	size_t			 nrows;
	int			 has_row;
	struct vmd_row		 row;
	int			 has_id;	/* a start's */
	unsigned int		 id;
};

static void
sigchld_cb(int sig, short events, void *arg)
{
	job_reap();
}

static void
result_cb(const struct backend_result *res, void *arg)
{
	struct outcome	*o = arg;

	o->done++;
	o->ok = res->ok;
	strlcpy(o->msg, res->msg, sizeof(o->msg));
	o->nrows = res->nrows;
	o->has_row = res->row != NULL;
	if (res->row != NULL)
		o->row = *res->row;
	o->has_id = res->has_id;
	o->id = res->id;
}

static int
wait_done(struct outcome *o, long long ms)
{
	long long	 deadline = unit_now_ms() + ms;
	struct timeval	 tv = { 0, 20000 };

	while (!o->done && unit_now_ms() < deadline) {
		event_loopexit(&tv);
		event_dispatch();
	}
	return (o->done);
}

static void
fake_conf(struct config *conf, const char *mode, char *cmd, size_t len)
{
	memset(conf, 0, sizeof(*conf));
	snprintf(cmd, len, "/bin/sh %s %s", fake, mode);
	conf->vmctl = cmd;
	conf->vmctl_timeout = 1;
}

typedef struct backend_req *(*vmctl_fn)(const char *, backend_cb, void *);

static struct backend_req *
status_named(const char *name, backend_cb cb, void *arg)
{
	return (backend_status(name, 0, cb, arg));
}

static void
run(const char *mode, vmctl_fn fn, const char *name, struct outcome *o)
{
	struct config	 conf;
	char		 cmd[1024];
	struct backend_req *job;

	memset(o, 0, sizeof(*o));
	fake_conf(&conf, mode, cmd, sizeof(cmd));
	backend_configure(&conf);
	job = fn(name, result_cb, o);
	CHECK(job != NULL, "%s: job started", mode);
	if (job != NULL)
		CHECK(wait_done(o, 5000) && o->done == 1, "%s: called back once",
		    mode);
}

static struct backend_req *
start_pipe(const char *name, backend_cb cb, void *arg)
{
	return (backend_start(name, -1, cb, arg));
}

/* vmctl start's stderr to a file (state.c's start.NAME): t_answer_fd. */
static int	 t_answer_fd = -1;

static struct backend_req *
start_file(const char *name, backend_cb cb, void *arg)
{
	char	 path[] = "/tmp/t_vmctl.XXXXXX";
	int	 fd;

	if ((fd = mkstemp(path)) == -1)
		return (NULL);
	(void)unlink(path);
	t_answer_fd = dup(fd);
	return (backend_start(name, fd, cb, arg));
}

/* What the file holds once the start is done. */
static const char *
answer_text(void)
{
	static char	 buf[512];
	ssize_t		 n;

	n = pread(t_answer_fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(t_answer_fd);
	t_answer_fd = -1;
	return (buf);
}

static struct backend_req *
stop_plain(const char *name, backend_cb cb, void *arg)
{
	return (backend_stop(name, 0, cb, arg));
}

static struct backend_req *
stop_force(const char *name, backend_cb cb, void *arg)
{
	return (backend_stop(name, 1, cb, arg));
}

static struct backend_req *
pause_vm(const char *name, backend_cb cb, void *arg)
{
	return (backend_pause(name, 1, cb, arg));
}

static struct backend_req *
unpause_vm(const char *name, backend_cb cb, void *arg)
{
	return (backend_pause(name, 0, cb, arg));
}

static void
test_async(void)
{
	struct outcome	 o;
	struct config	 conf;
	struct backend_req *job;
	char		 cmd[1024];
	long long	 t0;

	run("status-ok", status_named, "build01", &o);
	CHECK(o.ok && o.nrows == 2 && o.has_row && o.row.id == 2 &&
	    o.row.state == VMD_STOPPED, "status build01: row %d", o.has_row);
	run("status-ok", status_named, "build0", &o);
	CHECK(o.ok && o.nrows == 2 && !o.has_row, "status build0: no row");
	run("status-ok", status_named, NULL, &o);
	CHECK(o.ok && o.nrows == 2 && !o.has_row, "status all");
	run("status-exit1", status_named, "build01x", &o);
	CHECK(o.ok && o.has_row && o.row.state == VMD_RUNNING,
	    "status exit 1 not trusted");

	run("status-novmd", status_named, "x", &o);
	CHECK(!o.ok, "vmd not running fails");
	CHECK_STR(o.msg, "vmctl: connect: /var/run/vmd.sock: No such file or "
	    "directory", "vmd not running message");
	run("status-garbage", status_named, "x", &o);
	CHECK(!o.ok, "garbage fails");
	CHECK_STR(o.msg, "vmctl status: unexpected output: \"hello world\"",
	    "garbage message");
	run("status-empty", status_named, "x", &o);
	CHECK_STR(o.msg, "vmctl status: no output", "empty message");
	run("status-killed", status_named, "x", &o);
	CHECK(!o.ok, "killed vmctl fails");
	CHECK_STR(o.msg, "vmctl killed by signal 9", "killed message");

	t0 = unit_now_ms();
	run("hang", status_named, "x", &o);
	CHECK(!o.ok, "hanging vmctl fails");
	CHECK_STR(o.msg, "vmctl timed out after 1s", "timeout message");
	CHECK(unit_now_ms() - t0 < 3000, "timeout in time: %lld ms",
	    unit_now_ms() - t0);

	run("start-ok", start_pipe, "my-vm", &o);
	CHECK(o.ok, "start ok");
	CHECK_STR(o.msg, "vmctl: started vm 1 successfully, tty /dev/ttyp8",
	    "start message");
	run("start-busy", start_pipe, "my-vm", &o);
	CHECK(!o.ok, "start busy fails");
	CHECK_STR(o.msg, "vmctl: start vm command failed: Operation already "
	    "in progress", "start busy message");
	run("start-silent", start_pipe, "my-vm", &o);
	CHECK(!o.ok, "silent failure");
	CHECK_STR(o.msg, "vmctl start: exited with status 1",
	    "silent failure message");

	/* What a successor reads in such a file. */
	{
		static const char	 ok[] = "vmctl: started vm 12 "
		    "successfully, tty /dev/ttyp2\n";
		static const char	 no[] = "vmctl: start vm command "
		    "failed: Operation already in progress\n";
		unsigned int		 id = 0;

		CHECK(vmctl_start_said(ok, strlen(ok), &id) ==
		    VMCTL_SAID_STARTED && id == 12, "said: started, id 12");
		CHECK(vmctl_start_said(no, strlen(no), &id) ==
		    VMCTL_SAID_REFUSED, "said: refused");
		CHECK(vmctl_start_said(ok, strlen(ok) - 1, &id) ==
		    VMCTL_SAID_NOTHING, "said: nothing until the line ends");
		CHECK(vmctl_start_said("vmctl: ??? \x7f\n", 13, &id) ==
		    VMCTL_SAID_NOTHING, "said: nothing in nonsense");
		CHECK(vmctl_start_said("", 0, &id) == VMCTL_SAID_NOTHING,
		    "said: nothing in an empty file");
		CHECK(vmctl_start_said("started vm 3 successfully\n", 26,
		    &id) == VMCTL_SAID_NOTHING, "said: only vmctl's lines");
	}

	/* The same, its answer through a file a successor could read. */
	run("start-ok", start_file, "my-vm", &o);
	CHECK(o.ok && o.has_id && o.id == 1, "start through a file: ok, id 1");
	CHECK_STR(o.msg, "vmctl: started vm 1 successfully, tty /dev/ttyp8",
	    "start through a file: message");
	CHECK_STR(answer_text(), "vmctl: started vm 1 successfully, tty "
	    "/dev/ttyp8\n", "start through a file: the file");
	run("start-busy", start_file, "my-vm", &o);
	CHECK(!o.ok, "start busy through a file fails");
	CHECK_STR(o.msg, "vmctl: start vm command failed: Operation already "
	    "in progress", "start busy through a file: message");
	(void)answer_text();

	run("stop-ok", stop_plain, "my-vm", &o);
	CHECK(o.ok, "stop ok");
	CHECK_STR(o.msg, "stopping vm my-vm: requested to shutdown vm 1",
	    "stop message");
	run("stop-notrunning", stop_plain, "my-vm", &o);
	CHECK(!o.ok, "stop of a stopped vm fails");
	CHECK_STR(o.msg, "stopping vm my-vm: failed: Invalid argument",
	    "stop not running message");

	run("pause-ok", pause_vm, "my-vm", &o);
	CHECK(o.ok, "pause ok");
	CHECK_STR(o.msg, "vmctl: paused vm 1 successfully", "pause message");
	run("unpause-ok", unpause_vm, "my-vm", &o);
	CHECK(o.ok, "unpause ok");
	CHECK_STR(o.msg, "vmctl: unpaused vm 1 successfully",
	    "unpause message");
	run("pause-notrunning", pause_vm, "my-vm", &o);
	CHECK(!o.ok, "pause of a stopped vm fails");
	CHECK_STR(o.msg, "vmctl: pause vm command failed: Invalid argument",
	    "pause failure message");

	/* The exact arguments each command passes. */
	run("args", pause_vm, "my-vm", &o);
	CHECK_STR(o.msg, "pause my-vm", "pause argv");
	run("args", unpause_vm, "my-vm", &o);
	CHECK_STR(o.msg, "unpause my-vm", "unpause argv");
	run("args", stop_force, "my-vm", &o);
	CHECK_STR(o.msg, "stop -f my-vm", "stop -f argv");
	run("args", stop_plain, "my-vm", &o);
	CHECK_STR(o.msg, "stop my-vm", "stop argv");
	run("args", start_pipe, "my-vm", &o);
	CHECK_STR(o.msg, "start my-vm", "start argv");

	/* vmctl that does not exist. */
	memset(&o, 0, sizeof(o));
	memset(&conf, 0, sizeof(conf));
	conf.vmctl = "/nonexistent/vmctl";
	backend_configure(&conf);
	job = backend_start("my-vm", -1, result_cb, &o);
	CHECK(job != NULL && wait_done(&o, 5000), "missing vmctl reported");
	CHECK_STR(o.msg, "could not run /nonexistent/vmctl: No such file or "
	    "directory", "missing vmctl message");

	/* A cancelled command never calls back (and leaks nothing). */
	memset(&o, 0, sizeof(o));
	fake_conf(&conf, "hang", cmd, sizeof(cmd));
	backend_configure(&conf);
	job = backend_status(NULL, 0, result_cb, &o);
	CHECK(job != NULL, "hang started");
	backend_cancel(job);
	wait_done(&o, 300);
	CHECK(o.done == 0 && job_count() == 0, "cancelled: no callback");
}

static void
test_sync(void)
{
	struct config	 conf;
	struct vmd_row	*rows;
	size_t		 n;
	char		 cmd[1024], err[512];
	long long	 t0;
	int		 rc;

	fake_conf(&conf, "status-ok", cmd, sizeof(cmd));
	rc = backend_status_sync(&conf, &rows, &n, err, sizeof(err));
	CHECK(rc == 0 && n == 2 && strcmp(rows[1].name, "build01") == 0,
	    "sync status: rc %d (%s)", rc, err);
	free(rows);

	fake_conf(&conf, "status-novmd", cmd, sizeof(cmd));
	rc = backend_status_sync(&conf, &rows, &n, err, sizeof(err));
	CHECK(rc == -1, "sync vmd not running fails");
	CHECK_STR(err, "vmctl: connect: /var/run/vmd.sock: No such file or "
	    "directory", "sync vmd not running message");

	fake_conf(&conf, "status-garbage", cmd, sizeof(cmd));
	rc = backend_status_sync(&conf, &rows, &n, err, sizeof(err));
	CHECK_STR(err, "vmctl status: unexpected output: \"hello world\"",
	    "sync garbage message");

	fake_conf(&conf, "hang", cmd, sizeof(cmd));
	t0 = unit_now_ms();
	rc = backend_status_sync(&conf, &rows, &n, err, sizeof(err));
	CHECK(rc == -1 && unit_now_ms() - t0 < 3000, "sync timeout");
	CHECK_STR(err, "vmctl timed out after 1s", "sync timeout message");

	conf.vmctl = "/nonexistent/vmctl";
	rc = backend_status_sync(&conf, &rows, &n, err, sizeof(err));
	CHECK(rc == -1, "sync missing vmctl fails");
	CHECK_STR(err, "could not run /nonexistent/vmctl: No such file or "
	    "directory", "sync missing vmctl message");
}

int
main(int argc, char *argv[])
{
	struct event	 ev;

	if (argc != 2) {
		fprintf(stderr, "usage: t_vmctl fakevmctl.sh\n");
		return (2);
	}
	fake = argv[1];
	log_init(1, 0);
	signal(SIGPIPE, SIG_IGN);

	test_parse();
	test_argv();
	test_sync();

	event_init();
	signal_set(&ev, SIGCHLD, sigchld_cb, NULL);
	signal_add(&ev, NULL);
	test_async();

	return (unit_end("t_vmctl"));
}
