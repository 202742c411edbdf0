/*
 * address.c: the local interface rule, prefix parsing, and address_tap()
 * against real interfaces that run.sh creates (VLT_TAP=1, as root).
 */

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

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

int
main(void)
{
	const char	*tap = getenv("VLT_TAP");

	test_local();
	if (tap != NULL && strcmp(tap, "1") == 0)
		test_tap();
	else
		printf("t_address: SKIPPED address_tap tests (VLT_TAP not "
		    "set: run.sh sets it up as root)\n");
	return (unit_end("t_address"));
}
