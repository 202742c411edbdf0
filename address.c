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
 * Guest addresses of vmd's local interfaces: found from the tap that vmd
 * describes as vm<ID>-if<IDX>-<NAME> (its address plus one), or computed
 * from the VM's id the way vmd does for `local interface` (VMCTL.md).
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmlaunch.h"

#define ADDRESS_DESCR_MAX	63	/* vmd cuts descriptions to this */

static int	 address_descr_match(const char *, const char *, int);
static int	 address_is_tap(const char *, const char *, int, char *,
		    size_t);

/*
 * Does this description name interface ifidx of vm name?  The first two
 * '-' separate the fields, the name may hold more, and the whole was cut
 * to 63 characters, so the name is compared cut the same way.
 */
static int
address_descr_match(const char *descr, const char *name, int ifidx)
{
	const char	*p = descr;
	size_t		 prefixlen, namelen;
	long long	 idx = 0;

	if (strncmp(p, "vm", 2) != 0 || !isdigit((unsigned char)p[2]))
		return (0);
	for (p += 2; isdigit((unsigned char)*p); p++)
		;
	if (strncmp(p, "-if", 3) != 0 || !isdigit((unsigned char)p[3]))
		return (0);
	for (p += 3; isdigit((unsigned char)*p); p++) {
		idx = idx * 10 + (*p - '0');
		if (idx > INT_MAX)
			return (0);
	}
	if (*p++ != '-' || idx != ifidx)
		return (0);

	prefixlen = p - descr;
	namelen = strlen(name);
	if (prefixlen >= ADDRESS_DESCR_MAX)
		namelen = 0;
	else if (namelen > ADDRESS_DESCR_MAX - prefixlen)
		namelen = ADDRESS_DESCR_MAX - prefixlen;
	return (strlen(p) == namelen && strncmp(p, name, namelen) == 0);
}

static int
address_is_tap(const char *ifname, const char *name, int ifidx, char *descr,
    size_t len)
{
	if (osdep_ifdescr(ifname, descr, len) == -1 || *descr == '\0')
		return (0);
	return (address_descr_match(descr, name, ifidx));
}

int
address_tap(const char *name, int ifidx, struct in_addr *guest, char *err,
    size_t errlen)
{
	struct ifaddrs		*ifap, *ifa;
	struct sockaddr_in	*sin;
	char			 descr[256];

	if (getifaddrs(&ifap) == -1) {
		snprintf(err, errlen, "getifaddrs: %s", strerror(errno));
		return (-1);
	}
	/* Any matching interface with an IPv4 address will do. */
	for (ifa = ifap; ifa != NULL; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL || ifa->ifa_addr->sa_family != AF_INET)
			continue;
		if (!address_is_tap(ifa->ifa_name, name, ifidx, descr,
		    sizeof(descr)))
			continue;
		sin = (struct sockaddr_in *)ifa->ifa_addr;
		guest->s_addr = htonl(ntohl(sin->sin_addr.s_addr) + 1);
		freeifaddrs(ifap);
		return (0);
	}
	/* None: say whether the interface is there at all. */
	for (ifa = ifap; ifa != NULL; ifa = ifa->ifa_next) {
		if (address_is_tap(ifa->ifa_name, name, ifidx, descr,
		    sizeof(descr))) {
			snprintf(err, errlen, "interface %s (%s) has no IPv4 "
			    "address", ifa->ifa_name, descr);
			freeifaddrs(ifap);
			return (-1);
		}
	}
	freeifaddrs(ifap);
	snprintf(err, errlen, "no interface with description vm*-if%d-%s",
	    ifidx, name);
	return (-1);
}

/* vmd's rule: host prefix | (ID << 8) | ((IDX + 1) * 2), guest that + 1. */
void
address_local(struct in_addr prefix, int prefixlen, unsigned int id,
    int ifidx, struct in_addr *guest)
{
	uint32_t	 mask, host;

	if (prefixlen <= 0)
		mask = 0;
	else if (prefixlen >= 32)
		mask = 0xffffffffU;
	else
		mask = 0xffffffffU << (32 - prefixlen);
	host = (ntohl(prefix.s_addr) & mask) | ((uint32_t)id << 8) |
	    (uint32_t)((ifidx + 1) * 2);
	guest->s_addr = htonl(host + 1);
}

/* "100.64.0.0/10": the network (host bits cleared) and its length. */
int
address_parse_prefix(const char *s, struct in_addr *in, int *lenp)
{
	char		 addr[INET_ADDRSTRLEN];
	const char	*slash, *errstr;
	long long	 len;
	uint32_t	 mask;

	if ((slash = strchr(s, '/')) == NULL ||
	    (size_t)(slash - s) >= sizeof(addr))
		return (-1);
	memcpy(addr, s, slash - s);
	addr[slash - s] = '\0';
	if (inet_pton(AF_INET, addr, in) != 1)
		return (-1);
	len = strtonum(slash + 1, 0, 32, &errstr);
	if (errstr != NULL)
		return (-1);
	mask = len == 0 ? 0 : 0xffffffffU << (32 - len);
	in->s_addr = htonl(ntohl(in->s_addr) & mask);
	*lenp = (int)len;
	return (0);
}
