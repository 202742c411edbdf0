/*
 * vmctl.c, the command backend: the status contract, the outcome of
 * start and stop commands, what a command is given ($0, $1, the
 * environment), names that are never shell text, the status of every VM
 * merged from vmctl and the status commands, cancelling it, and the
 * synchronous status.  Commands are one-line sh scripts.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"
#include "unit.h"

#define EXPECT	"expected running, stopped or stopping"

static const char	*fake;		/* path of fakevmctl.sh */
static char		 vmctlcmd[1024];

struct outcome {
	int			 done;
	int			 ok;
	char			 msg[512];
	size_t			 nrows;
	struct vmd_row		 rows[8];
	int			 has_row;
	struct vmd_row		 row;
	int			 seq;		/* answers so far, then */
};

static int		 answers;	/* every answer, counted */

static void
sigchld_cb(int sig, short events, void *arg)
{
	job_reap();
}

static void
result_cb(const struct backend_result *res, void *arg)
{
	struct outcome	*o = arg;
	size_t		 i;

	o->done++;
	o->seq = ++answers;
	o->ok = res->ok;
	strlcpy(o->msg, res->msg, sizeof(o->msg));
	o->nrows = res->nrows;
	for (i = 0; i < res->nrows && i < nitems(o->rows); i++)
		o->rows[i] = res->rows[i];
	o->has_row = res->row != NULL;
	if (res->row != NULL)
		o->row = *res->row;
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
conf_init(struct config *conf, const char *vmctlmode)
{
	memset(conf, 0, sizeof(*conf));
	TAILQ_INIT(&conf->vms);
	snprintf(vmctlcmd, sizeof(vmctlcmd), "/bin/sh %s %s", fake,
	    vmctlmode);
	conf->vmctl = vmctlcmd;
	conf->vmctl_timeout = 1;
}

/* A vm with the same command for all four, or vmd with cmd NULL. */
static void
conf_vm(struct config *conf, const char *name, const char *cmd)
{
	struct vmconf	*vm;
	int		 i;

	if ((vm = calloc(1, sizeof(*vm))) == NULL)
		abort();
	vm->name = strdup(name);
	vm->backend.type = cmd != NULL ? BACKEND_COMMAND : BACKEND_VMD;
	for (i = 0; cmd != NULL && i < BACKEND_NCMDS; i++)
		vm->backend.cmd[i] = strdup(cmd);
	TAILQ_INSERT_TAIL(&conf->vms, vm, entry);
}

static void
conf_clear(struct config *conf)
{
	struct vmconf	*vm;
	int		 i;

	while ((vm = TAILQ_FIRST(&conf->vms)) != NULL) {
		TAILQ_REMOVE(&conf->vms, vm, entry);
		for (i = 0; i < BACKEND_NCMDS; i++)
			free(vm->backend.cmd[i]);
		free(vm->name);
		free(vm);
	}
}

typedef struct backend_req *(*vmctl_fn)(const char *, backend_cb, void *);

static struct backend_req *
status_named(const char *name, backend_cb cb, void *arg)
{
	return (backend_status(name, 0, cb, arg));
}

static struct backend_req *
start_pipe(const char *name, backend_cb cb, void *arg)
{
	return (backend_start(name, -1, cb, arg));
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

/* Run fn for vm name, whose every command is cmd. */
static void
run(const char *cmd, vmctl_fn fn, const char *name, struct outcome *o)
{
	struct config	 conf;
	struct backend_req *job;

	memset(o, 0, sizeof(*o));
	conf_init(&conf, "args");
	conf_vm(&conf, name, cmd);
	backend_configure(&conf);
	job = fn(name, result_cb, o);
	CHECK(job != NULL, "%s: job started", cmd);
	if (job != NULL)
		CHECK(wait_done(o, 5000) && o->done == 1,
		    "%s: called back once", cmd);
	conf_clear(&conf);
}

static int
cparse(const char *s, struct vmd_row *row, char *msg, size_t len)
{
	memset(row, 0, sizeof(*row));
	return (vmctl_parse_command_status(s, strlen(s), row, msg, len));
}

static void
test_contract(void)
{
	struct vmd_row	 row;
	char		 msg[512], buf[256];
	const char	*good[] = { "running", "stopped", "stopping", "paused",
			    "waiting", "unknown" };
	enum vmd_state	 want[] = { VMD_RUNNING, VMD_STOPPED, VMD_STOPPING,
			    VMD_PAUSED, VMD_WAITING, VMD_UNKNOWN };
	size_t		 i;
	int		 rc;

	for (i = 0; i < nitems(good); i++) {
		snprintf(buf, sizeof(buf), "%s\n", good[i]);
		rc = cparse(buf, &row, msg, sizeof(msg));
		CHECK(rc == 0 && row.state == want[i] && !row.has_id,
		    "state %s: rc %d state %d", good[i], rc, row.state);
	}
	rc = cparse("\n  stopped 4242\nmore lines\n", &row, msg, sizeof(msg));
	CHECK(rc == 0 && row.state == VMD_STOPPED && row.has_id &&
	    row.id == 4242, "state with an instance number");
	rc = cparse("running", &row, msg, sizeof(msg));
	CHECK(rc == 0 && row.state == VMD_RUNNING, "no final newline");
	rc = cparse("running since 5 minutes\n", &row, msg, sizeof(msg));
	CHECK(rc == 0 && row.state == VMD_RUNNING && !row.has_id,
	    "words after the state are ignored");
	rc = cparse("running 12x\n", &row, msg, sizeof(msg));
	CHECK(rc == 0 && !row.has_id, "not a number is no instance number");
	rc = cparse("running 99999999999\n", &row, msg, sizeof(msg));
	CHECK(rc == 0 && !row.has_id, "too big is no instance number");
	rc = cparse("running\n42\n", &row, msg, sizeof(msg));
	CHECK(rc == 0 && !row.has_id, "a number on the next line is not one");

	rc = cparse("foo\n", &row, msg, sizeof(msg));
	CHECK(rc == -1, "foo refused");
	CHECK_STR(msg, "status command printed \"foo\", " EXPECT, "foo");
	rc = cparse("Running\n", &row, msg, sizeof(msg));
	CHECK(rc == -1, "case matters");
	rc = cparse("running-ish\n", &row, msg, sizeof(msg));
	CHECK(rc == -1, "a longer word is not the state");
	rc = cparse("absent\n", &row, msg, sizeof(msg));
	CHECK(rc == -1, "absent is not a state a command can print");
	rc = cparse("", &row, msg, sizeof(msg));
	CHECK(rc == -1, "empty refused");
	CHECK_STR(msg, "status command printed nothing, " EXPECT, "empty");
	rc = cparse(" \n\t\n", &row, msg, sizeof(msg));
	CHECK(rc == -1, "blank refused");
	rc = vmctl_parse_command_status("run\0ning\n", 9, &row, msg,
	    sizeof(msg));
	CHECK(rc == -1, "a NUL byte is not hidden");
	CHECK_STR(msg, "status command printed \"run?ning\", " EXPECT, "NUL");
	memset(buf, 'x', 200);
	buf[200] = '\0';
	rc = cparse(buf, &row, msg, sizeof(msg));
	CHECK(rc == -1 && strstr(msg, "xxx...\"") != NULL &&
	    strlen(msg) < 150, "long output is cut: %s", msg);
}

static void
test_commands(void)
{
	struct outcome	 o;
	char		 dir[] = "/tmp/t_backend.XXXXXX", cmd[1024];
	char		 mark[400];
	struct stat	 st;
	long long	 t0;

	run("echo running", status_named, "x", &o);
	CHECK(o.ok && o.has_row && o.row.state == VMD_RUNNING &&
	    !o.row.has_id && strcmp(o.row.name, "x") == 0 && o.nrows == 1,
	    "status running: ok %d row %d (%s)", o.ok, o.has_row, o.msg);
	run("echo stopped 77", status_named, "x", &o);
	CHECK(o.ok && o.has_row && o.row.state == VMD_STOPPED &&
	    o.row.has_id && o.row.id == 77, "status with an instance number");
	run("echo bogus", status_named, "x", &o);
	CHECK(!o.ok, "garbage status fails");
	CHECK_STR(o.msg, "status command printed \"bogus\", " EXPECT,
	    "garbage status message");
	run("echo nope >&2", status_named, "x", &o);
	CHECK_STR(o.msg, "status command printed nothing, " EXPECT
	    " (stderr: nope)", "empty status message");
	run("echo running; exit 3", status_named, "x", &o);
	CHECK(!o.ok, "status exit 3 fails even with a state");
	CHECK_STR(o.msg, "status command exited with status 3",
	    "status exit message");
	run("echo a >&2; echo 'no such domain' >&2; exit 1", status_named,
	    "x", &o);
	CHECK_STR(o.msg, "status command exited with status 1: no such "
	    "domain", "status stderr message");
	run("kill -9 $$", status_named, "x", &o);
	CHECK_STR(o.msg, "status command killed by signal 9",
	    "status killed message");
	t0 = unit_now_ms();
	run("exec sleep 100", status_named, "x", &o);
	CHECK_STR(o.msg, "status command timed out after 1s",
	    "status timeout message");
	CHECK(unit_now_ms() - t0 < 3500, "timeout in time: %lld ms",
	    unit_now_ms() - t0);

	run("echo qemu started >&2", start_pipe, "x", &o);
	CHECK(o.ok, "start ok");
	CHECK_STR(o.msg, "qemu started", "start message");
	run("echo pid 12", start_pipe, "x", &o);
	CHECK(o.ok, "start ok, stdout");
	CHECK_STR(o.msg, "pid 12", "start message from stdout");
	run("true", start_pipe, "x", &o);
	CHECK_STR(o.msg, "start command done", "silent start message");
	run("echo first >&2; echo 'qemu: no disk' >&2; exit 1", start_pipe,
	    "x", &o);
	CHECK(!o.ok, "start failure");
	CHECK_STR(o.msg, "qemu: no disk", "start failure: stderr's last line");
	run("echo out; exit 4", start_pipe, "x", &o);
	CHECK(!o.ok, "silent start failure");
	CHECK_STR(o.msg, "start command exited with status 4",
	    "silent start failure message");
	run("exit 1", stop_plain, "x", &o);
	CHECK_STR(o.msg, "stop command exited with status 1", "stop failure");
	run("exec sleep 100", stop_force, "x", &o);
	CHECK_STR(o.msg, "force stop command timed out after 1s",
	    "force stop timeout");

	/* What each command is given: $0, $1 and the environment. */
	snprintf(cmd, sizeof(cmd), "echo \"$VMLAUNCH_ACTION $0 $1 "
	    "$VMLAUNCH_VM $#\" >&2; exit 1");
	run(cmd, start_pipe, "my-vm", &o);
	CHECK_STR(o.msg, "start vmlaunch-backend my-vm my-vm 1", "start args");
	run(cmd, stop_plain, "my-vm", &o);
	CHECK_STR(o.msg, "stop vmlaunch-backend my-vm my-vm 1", "stop args");
	run(cmd, stop_force, "my-vm", &o);
	CHECK_STR(o.msg, "kill vmlaunch-backend my-vm my-vm 1",
	    "force stop args");
	run(cmd, status_named, "my-vm", &o);
	CHECK_STR(o.msg, "status command exited with status 1: status "
	    "vmlaunch-backend my-vm my-vm 1", "status args");
	run(cmd, pause_vm, "my-vm", &o);
	CHECK_STR(o.msg, "pause vmlaunch-backend my-vm my-vm 1", "pause args");
	run(cmd, unpause_vm, "my-vm", &o);
	CHECK_STR(o.msg, "unpause vmlaunch-backend my-vm my-vm 1",
	    "unpause args");
	run("exit 2", pause_vm, "x", &o);
	CHECK(!o.ok, "pause failure");
	CHECK_STR(o.msg, "pause command exited with status 2",
	    "pause failure message");
	/* Our own VMLAUNCH_VM does not leak through. */
	setenv("VMLAUNCH_VM", "outer", 1);
	run("echo \"$VMLAUNCH_VM\" >&2", start_pipe, "inner", &o);
	CHECK_STR(o.msg, "inner", "VMLAUNCH_VM replaced");
	unsetenv("VMLAUNCH_VM");
	setenv("T_BACKEND_KEEP", "kept", 1);
	run("echo \"$T_BACKEND_KEEP\" >&2", start_pipe, "x", &o);
	CHECK_STR(o.msg, "kept", "the rest of the environment is passed");

	/*
	 * A name full of shell syntax is data: it arrives intact, and a
	 * command that does not use it runs as written.
	 */
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(mark, sizeof(mark), "a;b'\"$(touch %s/m)`touch %s/n`|&",
	    dir, dir);
	mark[VM_NAME_MAX - 1] = '\0';
	run("printf '%s|%s' \"$1\" \"$VMLAUNCH_VM\" >&2; exit 1",
	    start_pipe, mark, &o);
	snprintf(cmd, sizeof(cmd), "%s|%s", mark, mark);
	CHECK_STR(o.msg, cmd, "metacharacters passed intact");
	run("echo running", status_named, mark, &o);
	CHECK(o.ok && o.has_row && strcmp(o.row.name, mark) == 0,
	    "metacharacters: status row");
	run("true", stop_force, mark, &o);
	snprintf(cmd, sizeof(cmd), "%s/m", dir);
	CHECK(stat(cmd, &st) == -1, "$(...) in the name never ran");
	snprintf(cmd, sizeof(cmd), "%s/n", dir);
	CHECK(stat(cmd, &st) == -1, "`...` in the name never ran");
	rmdir(dir);
}

static void
test_all(void)
{
	struct config	 conf;
	struct outcome	 o;
	struct backend_req *job;
	struct vmd_row	*rows;
	size_t		 n, i;
	char		 err[512];
	int		 rc, seen;

	/* vmctl's rows and the commands', a failed one as unknown. */
	memset(&o, 0, sizeof(o));
	conf_init(&conf, "status-ok");
	conf_vm(&conf, "build01x", NULL);
	conf_vm(&conf, "c1", "echo running 5");
	conf_vm(&conf, "c2", "echo garbage");
	conf_vm(&conf, "build01", "echo stopping");
	backend_configure(&conf);
	job = backend_status(NULL, 0, result_cb, &o);
	CHECK(job != NULL && wait_done(&o, 5000) && o.done == 1,
	    "status of all: called back once");
	CHECK(o.ok && o.nrows == 4 && !o.has_row, "status of all: ok %d "
	    "nrows %zu (%s)", o.ok, o.nrows, o.msg);
	seen = 0;
	for (i = 0; i < o.nrows && i < nitems(o.rows); i++) {
		if (strcmp(o.rows[i].name, "build01x") == 0 &&
		    o.rows[i].state == VMD_RUNNING && o.rows[i].has_id)
			seen |= 1;
		if (strcmp(o.rows[i].name, "c1") == 0 &&
		    o.rows[i].state == VMD_RUNNING && o.rows[i].id == 5)
			seen |= 2;
		if (strcmp(o.rows[i].name, "c2") == 0 &&
		    o.rows[i].state == VMD_UNKNOWN)
			seen |= 4;
		/* The command's answer, not vmctl's row of that name. */
		if (strcmp(o.rows[i].name, "build01") == 0 &&
		    o.rows[i].state == VMD_STOPPING)
			seen |= 8;
	}
	CHECK(seen == 15, "status of all: rows %#x", seen);
	CHECK(job_count() == 0, "status of all: nothing left running (%d)",
	    job_count());

	rc = backend_status_sync(&conf, &rows, &n, err, sizeof(err));
	CHECK(rc == 0 && n == 4, "sync status of all: rc %d n %zu (%s)", rc,
	    n, err);
	seen = 0;
	for (i = 0; rc == 0 && i < n; i++) {
		if (strcmp(rows[i].name, "c1") == 0 &&
		    rows[i].state == VMD_RUNNING)
			seen |= 1;
		if (strcmp(rows[i].name, "c2") == 0 &&
		    rows[i].state == VMD_UNKNOWN)
			seen |= 2;
		if (strcmp(rows[i].name, "build01") == 0 &&
		    rows[i].state == VMD_STOPPING)
			seen |= 4;
	}
	CHECK(seen == 7, "sync status of all: rows %#x", seen);
	free(rows);

	/* vmctl failing fails the lot, as before. */
	conf_clear(&conf);
	memset(&o, 0, sizeof(o));
	conf_init(&conf, "status-novmd");
	conf_vm(&conf, "v", NULL);
	conf_vm(&conf, "c1", "echo running");
	backend_configure(&conf);
	job = backend_status(NULL, 0, result_cb, &o);
	CHECK(job != NULL && wait_done(&o, 5000) && !o.ok, "vmctl failing");
	CHECK_STR(o.msg, "vmctl: connect: /var/run/vmd.sock: No such file or "
	    "directory", "vmctl failing message");

	/* Only command VMs: vmctl is not run at all. */
	conf_clear(&conf);
	conf_init(&conf, "status-ok");
	conf.vmctl = "/nonexistent/vmctl";
	conf_vm(&conf, "c1", "echo running");
	conf_vm(&conf, "c2", "echo stopped");
	memset(&o, 0, sizeof(o));
	backend_configure(&conf);
	job = backend_status(NULL, 0, result_cb, &o);
	CHECK(job != NULL && wait_done(&o, 5000) && o.ok && o.nrows == 2,
	    "commands only: ok %d nrows %zu (%s)", o.ok, o.nrows, o.msg);
	rc = backend_status_sync(&conf, &rows, &n, err, sizeof(err));
	CHECK(rc == 0 && n == 2, "sync commands only: rc %d (%s)", rc, err);
	free(rows);
	conf_clear(&conf);
	conf_vm(&conf, "c1", "echo bad");
	memset(&o, 0, sizeof(o));
	backend_configure(&conf);
	job = backend_status(NULL, 0, result_cb, &o);
	CHECK(job != NULL && wait_done(&o, 5000) && o.ok && o.nrows == 1 &&
	    o.rows[0].state == VMD_UNKNOWN, "one command VM, failing: ok %d "
	    "nrows %zu state %d (%s)", o.ok, o.nrows, o.rows[0].state, o.msg);

	/* Cancelling the status of all cancels every part, silently. */
	conf_clear(&conf);
	conf_init(&conf, "hang");
	conf_vm(&conf, "v", NULL);
	conf_vm(&conf, "c1", "exec sleep 100");
	conf_vm(&conf, "c2", "exec sleep 100");
	memset(&o, 0, sizeof(o));
	backend_configure(&conf);
	job = backend_status(NULL, 0, result_cb, &o);
	CHECK(job != NULL && job_count() == 3, "three jobs (no more): %d",
	    job_count());
	backend_cancel(job);
	wait_done(&o, 300);
	CHECK(o.done == 0 && job_count() == 0, "cancelled: no callback, %d "
	    "jobs", job_count());

	/* Hanging parts: each times out, the answer still comes. */
	memset(&o, 0, sizeof(o));
	backend_configure(&conf);
	job = backend_status(NULL, 0, result_cb, &o);
	CHECK(job != NULL && wait_done(&o, 6000) && o.done == 1 && !o.ok,
	    "hanging parts: called back once");
	CHECK_STR(o.msg, "vmctl timed out after 1s", "hanging parts message");
	CHECK(job_count() == 0, "hanging parts: %d jobs left", job_count());
	conf_clear(&conf);

	/* A VM a reload removed is still run with its own commands. */
	conf_init(&conf, "args");
	conf_vm(&conf, "gone", "echo \"mine $VMLAUNCH_ACTION\" >&2");
	run("echo \"mine $VMLAUNCH_ACTION\" >&2", stop_plain, "gone", &o);
	conf_clear(&conf);
	memset(&o, 0, sizeof(o));
	backend_configure(&conf);
	job = backend_stop("gone", 1, result_cb, &o);
	CHECK(job != NULL && wait_done(&o, 5000), "removed vm stopped");
	CHECK_STR(o.msg, "mine kill", "removed vm: its own force stop");
	/* Once configured for vmd, vmctl it is. */
	conf_vm(&conf, "gone", NULL);
	memset(&o, 0, sizeof(o));
	backend_configure(&conf);
	job = backend_stop("gone", 1, result_cb, &o);
	CHECK(job != NULL && wait_done(&o, 5000), "vmd again");
	CHECK_STR(o.msg, "stop -f gone", "vmd again: vmctl's argv");
	conf_clear(&conf);
	memset(&o, 0, sizeof(o));
	backend_configure(&conf);
	job = backend_stop("gone", 0, result_cb, &o);
	CHECK(job != NULL && wait_done(&o, 5000), "forgotten");
	CHECK_STR(o.msg, "stop gone", "forgotten: vmctl's argv");
}

/*
 * Named status requests for vmd VMs share one `vmctl status` (issue 18:
 * 100 first contacts made 100 vmctl processes); each still gets its
 * own row.  A fresh request waits for the next one; a command VM's
 * status is its own.
 */
static void
test_batch(void)
{
	static const char	*names[] = { "build01x", "build01", "nosuch",
				    "build01x" };
	struct config		 conf;
	struct outcome		 o[nitems(names)], fresh, cmd;
	struct backend_req	*req;
	size_t			 i;
	int			 all;

	memset(o, 0, sizeof(o));
	memset(&fresh, 0, sizeof(fresh));
	memset(&cmd, 0, sizeof(cmd));
	conf_init(&conf, "status-ok");
	conf_vm(&conf, "build01x", NULL);
	conf_vm(&conf, "build01", NULL);
	conf_vm(&conf, "nosuch", NULL);
	conf_vm(&conf, "c1", "echo running 5");
	backend_configure(&conf);
	for (i = 0; i < nitems(names); i++) {
		req = backend_status(names[i], 0, result_cb, &o[i]);
		CHECK(req != NULL, "batch: request %zu", i);
	}
	CHECK(job_count() == 1, "batch: %zu named requests, %d vmctl "
	    "processes", nitems(names), job_count());
	CHECK(backend_status_running() == 1, "batch: one status running "
	    "(%d)", backend_status_running());
	/* A fresh one waits for the next vmctl; a command VM runs its own. */
	(void)backend_status("build01", BACKEND_FRESH, result_cb, &fresh);
	(void)backend_status("c1", 0, result_cb, &cmd);
	CHECK(job_count() == 2, "batch: fresh waits, command runs: %d jobs",
	    job_count());
	all = 1;
	for (i = 0; i < nitems(names); i++)
		all &= wait_done(&o[i], 5000);
	CHECK(all, "batch: every request answered");
	for (i = 0; i < nitems(names); i++) {
		CHECK(o[i].done == 1 && o[i].ok, "batch: %s answered once, ok "
		    "(%d, %s)", names[i], o[i].done, o[i].msg);
		CHECK(o[i].has_row == (strcmp(names[i], "nosuch") != 0),
		    "batch: %s has its row: %d", names[i], o[i].has_row);
		CHECK(!o[i].has_row || strcmp(o[i].row.name, names[i]) == 0,
		    "batch: %s got the row of %s", names[i], o[i].row.name);
	}
	CHECK(o[0].row.state == VMD_RUNNING && o[1].row.state == VMD_STOPPED,
	    "batch: states %d %d", o[0].row.state, o[1].row.state);
	CHECK(wait_done(&fresh, 5000) && fresh.ok && fresh.has_row &&
	    fresh.row.state == VMD_STOPPED, "batch: the fresh one answered");
	for (i = 0; i < nitems(names); i++)
		CHECK(fresh.seq > o[i].seq, "batch: the fresh one answered "
		    "after %s, by the next vmctl (%d, %d)", names[i],
		    fresh.seq, o[i].seq);
	CHECK(wait_done(&cmd, 5000) && cmd.ok && cmd.has_row &&
	    cmd.row.state == VMD_RUNNING && cmd.row.id == 5,
	    "batch: the command VM answered by its command");
	CHECK(job_count() == 0, "batch: nothing left running (%d)",
	    job_count());
	conf_clear(&conf);
}

int
main(int argc, char *argv[])
{
	struct event	 ev;

	if (argc != 2) {
		fprintf(stderr, "usage: t_backend fakevmctl.sh\n");
		return (2);
	}
	fake = argv[1];
	log_init(1, 0);
	signal(SIGPIPE, SIG_IGN);

	test_contract();

	event_init();
	signal_set(&ev, SIGCHLD, sigchld_cb, NULL);
	signal_add(&ev, NULL);
	test_commands();
	test_all();
	test_batch();

	return (unit_end("t_backend"));
}
