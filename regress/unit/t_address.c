/*
 * address.c: the local interface rule, prefix parsing, address_tap()
 * against real interfaces that run.sh creates (VLT_TAP=1, as root), what
 * an address command's output means, and address commands run through a
 * real event loop: shared runs, the cache, errors, the time limit, and a
 * run killed when its last waiter goes.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <event.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"
#include "unit.h"

static const char *
ntoa(struct in_addr in)
{
	static char	 buf[INET_ADDRSTRLEN];

	return (inet_ntop(AF_INET, &in, buf, sizeof(buf)));
}

static void
local(const char *prefix, unsigned int id, int ifidx, const char *want)
{
	struct in_addr	 in, guest;
	char		 err[128];
	int		 len;

	CHECK(address_parse_prefix(prefix, &in, &len, err, sizeof(err)) == 0,
	    "parse %s", prefix);
	address_local(in, len, id, ifidx, &guest);
	CHECK_STR(ntoa(guest), want, prefix);
}

static void
test_local(void)
{
	struct in_addr	 in;
	char		 err[128];
	int		 len;
	const char	*bad[] = { "100.64.0.0", "100.64.0.0/33", "x/10",
			    "100.64.0.0/", "100.64.0/10", "100.64.0.0/1x", "",
			    "/10", "100.64.0.0/-1" };
	size_t		 i;

	local(DEFAULT_LOCAL_PREFIX, 1, 0, "100.64.1.3");
	local(DEFAULT_LOCAL_PREFIX, 300, 0, "100.65.44.3");
	local(DEFAULT_LOCAL_PREFIX, 1, 1, "100.64.1.5");
	local(DEFAULT_LOCAL_PREFIX, 2, 3, "100.64.2.9");
	local("10.0.0.0/8", 7, 0, "10.0.7.3");
	local("192.168.0.0/16", 1, 0, "192.168.1.3");

	CHECK(address_parse_prefix("100.64.0.0/10", &in, &len, err,
	    sizeof(err)) == 0 && len == 10 &&
	    strcmp(ntoa(in), "100.64.0.0") == 0, "the default prefix");
	CHECK(address_parse_prefix("100.64.1.7/10", &in, &len, err,
	    sizeof(err)) == -1, "host bits refused");
	CHECK_STR(err, "prefix \"100.64.1.7/10\" has host bits set",
	    "host bits message");
	CHECK(address_parse_prefix("0.0.0.0/0", &in, &len, err,
	    sizeof(err)) == -1, "/0 refused");
	for (i = 0; i < nitems(bad); i++)
		CHECK(address_parse_prefix(bad[i], &in, &len, err,
		    sizeof(err)) == -1, "refused \"%s\"", bad[i]);
}

static void
test_tap(void)
{
	struct in_addr	 guest;
	char		 err[256], descr[256], longname[64];
	int		 rc;

	CHECK(osdep_ifdescr("vlt0", descr, sizeof(descr)) == 0,
	    "ifdescr vlt0");
	CHECK_STR(descr, "vm7-if0-my-vm", "description read");
	CHECK(osdep_ifdescr("lo", descr, sizeof(descr)) == 0 &&
	    descr[0] == '\0', "no description is empty");
	CHECK(osdep_ifdescr("vltnone9", descr, sizeof(descr)) == -1,
	    "missing interface");
	CHECK(osdep_ifdescr("../x", descr, sizeof(descr)) == -1,
	    "bad interface name");

	rc = address_tap("my-vm", 0, &guest, err, sizeof(err));
	CHECK(rc == 0, "tap my-vm: %s", err);
	CHECK_STR(rc == 0 ? ntoa(guest) : err, "100.64.7.3", "tap address");

	rc = address_tap("my", 0, &guest, err, sizeof(err));
	CHECK(rc == -1, "prefix of a name does not match");
	CHECK_STR(err, "no interface with description vm*-if0-my",
	    "no interface message");
	rc = address_tap("my-vm", 1, &guest, err, sizeof(err));
	CHECK(rc == -1, "other interface index does not match");
	rc = address_tap("y-vm", 0, &guest, err, sizeof(err));
	CHECK(rc == -1, "suffix of a name does not match");

	rc = address_tap("noaddr", 1, &guest, err, sizeof(err));
	CHECK(rc == -1, "no address");
	CHECK_STR(err, "interface vlt1 (vm8-if1-noaddr) has no IPv4 address",
	    "no address message");

	/* vmd cuts the description to 63 characters. */
	memset(longname, 'n', 60);
	memcpy(longname, "long-", 5);
	longname[60] = '\0';
	rc = address_tap(longname, 0, &guest, err, sizeof(err));
	CHECK(rc == 0, "long name: %s", err);
	CHECK_STR(rc == 0 ? ntoa(guest) : err, "100.64.12.3",
	    "long name address");
	longname[53] = '\0';
	rc = address_tap(longname, 0, &guest, err, sizeof(err));
	CHECK(rc == -1, "shorter name does not match the cut one");
}

/* The address in ss, or why not, as a string. */
static const char *
scanned(const char *out, size_t len)
{
	static char		 buf[300];
	struct sockaddr_storage	 ss;
	socklen_t		 sl;

	if (address_scan(out, len, &ss, &sl, buf, sizeof(buf)) == -1)
		return (buf);
	if (getnameinfo((struct sockaddr *)&ss, sl, buf, sizeof(buf), NULL, 0,
	    NI_NUMERICHOST) != 0)
		return ("getnameinfo failed");
	return (buf);
}

#define SCAN(out, want)	CHECK_STR(scanned(out, strlen(out)), want, out)

#define DOMIFADDR_HEAD \
	" Name       MAC address          Protocol     Address\n" \
	"-------------------------------------------------------------------" \
	"------------\n"

static void
test_scan(void)
{
	static const char	 nul[] = "x\0\0" "10.0.0.7\n";

	/* virsh domifaddr: lease (the default), agent (lo first), arp. */
	SCAN(DOMIFADDR_HEAD
	    " vnet0      52:54:00:4b:73:4e    ipv4         192.168.122.42/24\n",
	    "192.168.122.42");
	SCAN(DOMIFADDR_HEAD
	    " lo         00:00:00:00:00:00    ipv4         127.0.0.1/8\n"
	    " -          -                    ipv6         ::1/128\n"
	    " eth0       52:54:00:4b:73:4e    ipv4         192.168.122.42/24\n"
	    " -          -                    ipv6         "
	    "fe80::5054:ff:fe4b:734e/64\n",
	    "192.168.122.42");
	SCAN(DOMIFADDR_HEAD
	    " lo         00:00:00:00:00:00    ipv6         ::1/128\n"
	    " eth0       52:54:00:4b:73:4e    ipv6         fe80::1/64\n"
	    " -          -                    ipv6         2001:db8::42/64\n",
	    "2001:db8::42");
	SCAN(DOMIFADDR_HEAD
	    " vnet0      52:54:00:4b:73:4e    ipv4         192.168.122.42/0\n",
	    "192.168.122.42");
	/* No lease yet: the table is empty. */
	SCAN(DOMIFADDR_HEAD "\n",
	    "address command printed no address: \"Name       MAC address  "
	    "        Protocol     Address\"");
	SCAN(DOMIFADDR_HEAD
	    " lo         00:00:00:00:00:00    ipv4         127.0.0.1/8\n",
	    "address command printed no usable address (127.0.0.1/8: the "
	    "guest's loopback)");
	SCAN("fe80::5054:ff:fe4b:734e/64\n", "address command printed no "
	    "usable address (fe80::5054:ff:fe4b:734e/64: link-local: no "
	    "interface to reach it through)");
	SCAN("0.0.0.0 :: 224.0.0.1 ff02::1 255.255.255.255",
	    "address command printed no usable address (0.0.0.0: "
	    "unspecified)");

	/* The guest agent's JSON, ip neigh, a bare address, a table. */
	SCAN("{\"return\":[{\"name\":\"lo\",\"ip-addresses\":[{"
	    "\"ip-address-type\":\"ipv4\",\"ip-address\":\"127.0.0.1\","
	    "\"prefix\":8}]},{\"name\":\"eth0\",\"hardware-address\":"
	    "\"52:54:00:4b:73:4e\",\"ip-addresses\":[{\"ip-address-type\":"
	    "\"ipv4\",\"ip-address\":\"192.168.122.42\",\"prefix\":24}]}]}",
	    "192.168.122.42");
	SCAN("192.168.122.42 dev virbr0 lladdr 52:54:00:4b:73:4e REACHABLE\n",
	    "192.168.122.42");
	SCAN("10.0.0.5\n", "10.0.0.5");
	SCAN("10.0.0.8\r\n", "10.0.0.8");
	SCAN("fd00::5", "fd00::5");
	SCAN("| 1f2e | ubuntu | ACTIVE | private=10.0.0.5, fd00::5 |",
	    "10.0.0.5");
	SCAN("ubuntu (10.0.0.6) [fd00::6]:22", "10.0.0.6");
	SCAN("IPv4: 10.0.0.9", "10.0.0.9");
	CHECK_STR(scanned(nul, sizeof(nul) - 1), "10.0.0.7", "NUL bytes");

	/* Near misses are words, not addresses. */
	SCAN("1.2.3 256.1.1.1 52:54:00:4b:73:4e 10.0.0.1/33 10.0.0.1/ "
	    "10.0.0.1/x 10.0.0.1/24/2 fd00::1/129 10.0.0.1.2 10.0.0.2",
	    "10.0.0.2");
	SCAN("", "address command printed nothing");
	SCAN(" \n\t\n", "address command printed nothing");
	SCAN("error: no such thing\n", "address command printed no "
	    "address: \"error: no such thing\"");
	SCAN("\033[31mred\n", "address command printed no address: "
	    "\"?[31mred\"");
	SCAN("0123456789012345678901234567890123456789012345678901234567890"
	    "123456789", "address command printed no address: "
	    "\"012345678901234567890123456789012345678901234567890123456789"
	    "...\"");
}

/* An address command, through a real loop. */
struct waiter {
	int			 called;
	struct address_req	*req;
};

static char	 tdir[] = "/tmp/t_address.XXXXXX";

static void
sigchld_cb(int sig, short events, void *arg)
{
	job_reap();
}

static void
waiter_cb(void *arg)
{
	struct waiter	*w = arg;

	w->called++;
	w->req = NULL;
}

static void
loop_for(long long ms)
{
	int	 never = 0;

	unit_loop_until(&never, ms);
}

/* address_guest for vm "my-vm" with the command cmd. */
static enum address_answer
guest(const char *cmd, char *buf, size_t len)
{
	struct policy		 pol;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	enum address_answer	 rc;
	char			 host[NI_MAXHOST];

	memset(&pol, 0, sizeof(pol));
	pol.addr = ADDR_COMMAND;
	pol.addr_host = (char *)cmd;
	rc = address_guest(&pol, "my-vm", 0, 0, 22, &ss, &sl, buf, len);
	if (rc == ADDRESS_OK) {
		address_print(&ss, sl, buf, len);
		CHECK(getnameinfo((struct sockaddr *)&ss, sl, host,
		    sizeof(host), NULL, 0, NI_NUMERICHOST) == 0, "numeric");
	}
	return (rc);
}

static struct address_req *
resolve(const char *cmd, struct waiter *w)
{
	struct policy	 pol;

	memset(&pol, 0, sizeof(pol));
	pol.addr = ADDR_COMMAND;
	pol.addr_host = (char *)cmd;
	memset(w, 0, sizeof(*w));
	w->req = address_resolve(&pol, "my-vm", waiter_cb, w);
	return (w->req);
}

static int
runs(void)
{
	char	 path[256], line[256];
	FILE	*f;
	int	 n = 0;

	snprintf(path, sizeof(path), "%s/runs", tdir);
	if ((f = fopen(path, "r")) == NULL)
		return (0);
	while (fgets(line, sizeof(line), f) != NULL)
		n++;
	fclose(f);
	return (n);
}

static const char *
file(const char *name)
{
	static char	 buf[256];
	char		 path[256];
	FILE		*f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", tdir, name);
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(buf, sizeof(buf), f) == NULL)
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
	return (buf);
}

static void
test_command(void)
{
	struct waiter	 w1, w2;
	struct config	 conf;
	struct event	 ev;
	char		 cmd[512], cmd2[512], buf[300];
	pid_t		 pid;
	long long	 t0;
	int		 i;

	if (mkdtemp(tdir) == NULL) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	event_init();
	signal_set(&ev, SIGCHLD, sigchld_cb, NULL);
	signal_add(&ev, NULL);
	memset(&conf, 0, sizeof(conf));
	conf.vmctl_timeout = 1;
	address_configure(&conf);

	/* Two waiters, one run; $1, $0 and the environment. */
	snprintf(cmd, sizeof(cmd), "echo run >>%s/runs; echo \"$1 $0 "
	    "$VMLAUNCH_VM $VMLAUNCH_ACTION\" >%s/args; sleep 0.2; "
	    "echo ' eth0 52:54:00:4b:73:4e ipv4 10.1.2.3/24'", tdir, tdir);
	CHECK(guest(cmd, buf, sizeof(buf)) == ADDRESS_PENDING, "pending");
	CHECK_STR(buf, "waiting for the address command", "pending, why");
	resolve(cmd, &w1);
	resolve(cmd, &w2);
	CHECK(w1.called == 0 && w2.called == 0, "no callback from the call");
	unit_loop_until(&w2.called, 5000);
	CHECK(w1.called == 1 && w2.called == 1, "both called back once");
	CHECK(runs() == 1, "one run for two waiters, got %d", runs());
	CHECK_STR(file("args"), "my-vm vmlaunch-address my-vm address",
	    "$1 $0 VMLAUNCH_VM VMLAUNCH_ACTION");
	CHECK(guest(cmd, buf, sizeof(buf)) == ADDRESS_OK, "answered: %s",
	    buf);
	CHECK_STR(buf, "10.1.2.3:22", "the address, with the port");
	/* Kept: asked again, not run again. */
	CHECK(guest(cmd, buf, sizeof(buf)) == ADDRESS_OK, "kept: %s", buf);
	CHECK(runs() == 1, "not run again while kept");

	/* Another command (a reload) is another question. */
	snprintf(cmd2, sizeof(cmd2), "echo run >>%s/runs; echo "
	    "'error: Guest agent is not responding' >&2; exit 1", tdir);
	CHECK(guest(cmd2, buf, sizeof(buf)) == ADDRESS_PENDING,
	    "a changed command is pending");
	resolve(cmd2, &w1);
	unit_loop_until(&w1.called, 5000);
	CHECK(runs() == 2, "the new command ran");
	CHECK(guest(cmd2, buf, sizeof(buf)) == ADDRESS_ERROR, "failed");
	CHECK_STR(buf, "address command exited with status 1: error: Guest "
	    "agent is not responding", "a failure's message");
	/* A failure is asked again after a second, saying it meanwhile. */
	t0 = unit_now_ms();
	while (guest(cmd2, buf, sizeof(buf)) == ADDRESS_ERROR &&
	    unit_now_ms() - t0 < 5000)
		loop_for(50);
	CHECK(unit_now_ms() - t0 >= 900, "a failure is kept for a second");
	CHECK(guest(cmd2, buf, sizeof(buf)) == ADDRESS_PENDING,
	    "then asked again");
	CHECK_STR(buf, "address command exited with status 1: error: Guest "
	    "agent is not responding", "the last failure while pending");

	/* Nothing printed, and a pipeline's first command said why. */
	snprintf(cmd, sizeof(cmd), "{ echo 'error: Guest agent is not "
	    "responding' >&2; } | sed s/10.0.2.15/10.9.9.9/");
	resolve(cmd, &w1);
	unit_loop_until(&w1.called, 5000);
	CHECK(guest(cmd, buf, sizeof(buf)) == ADDRESS_ERROR, "nothing");
	CHECK_STR(buf, "address command printed nothing (stderr: error: "
	    "Guest agent is not responding)", "nothing, with its stderr");

	/* The time limit: vmctl timeout. */
	snprintf(cmd, sizeof(cmd), "echo hang >&2; sleep 30");
	resolve(cmd, &w1);
	t0 = unit_now_ms();
	unit_loop_until(&w1.called, 10000);
	CHECK(w1.called == 1, "a hanging command ends");
	CHECK(unit_now_ms() - t0 >= 900, "not before its time limit");
	CHECK(guest(cmd, buf, sizeof(buf)) == ADDRESS_ERROR, "timed out");
	CHECK_STR(buf, "address command timed out after 1s: hang",
	    "the time limit's message");

	/* The last waiter gone, the run is killed. */
	snprintf(cmd, sizeof(cmd), "echo $$ >%s/pid.tmp; mv %s/pid.tmp "
	    "%s/pid; sleep 30; echo 10.9.9.9", tdir, tdir, tdir);
	resolve(cmd, &w1);
	resolve(cmd, &w2);
	for (i = 0; i < 250 && *file("pid") == '\0'; i++)
		loop_for(20);
	pid = atoi(file("pid"));
	CHECK(pid > 0, "the command runs");
	address_cancel(w1.req);
	loop_for(100);
	CHECK(pid > 0 && kill(pid, 0) == 0, "still run for the other waiter");
	address_cancel(w2.req);
	for (i = 0; i < 100 && pid > 0 && kill(pid, 0) == 0; i++)
		loop_for(20);
	CHECK(pid > 0 && kill(pid, 0) == -1 && errno == ESRCH,
	    "killed with its last waiter");
	CHECK(w1.called == 0 && w2.called == 0, "no callback once cancelled");
	CHECK(guest(cmd, buf, sizeof(buf)) == ADDRESS_PENDING,
	    "no answer from a killed run");

	address_shutdown();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tdir);
	(void)system(cmd);
}

int
main(void)
{
	const char	*tap = getenv("VLT_TAP");

	test_local();
	test_scan();
	test_command();
	if (tap != NULL && strcmp(tap, "1") == 0)
		test_tap();
	else
		printf("t_address: SKIPPED address_tap tests (VLT_TAP not "
		    "set: run.sh sets it up as root)\n");
	return (unit_end("t_address"));
}
