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
 * Where a VM's guest is, by its address rule.  vmd's local interfaces:
 * found from the tap that vmd describes as vm<ID>-if<IDX>-<NAME> (its
 * address plus one), or computed from the VM's id the way vmd does for
 * `local interface` (VMCTL.md).  A fixed address is used as is; a host
 * name is looked up in a child (getaddrinfo blocks, the loop must not),
 * one lookup per name at a time, and the answer kept for a few seconds.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"

#define ADDRESS_DESCR_MAX	63	/* vmd cuts descriptions to this */
#define ADDRESS_TTL		5000	/* ms an answer is kept */
#define ADDRESS_TIMEOUT		10000	/* ms for a lookup */

/* What a lookup child writes on its stdout. */
struct address_answer_msg {
	int			 error;		/* getaddrinfo's */
	socklen_t		 len;
	struct sockaddr_storage	 ss;
};

/* A host name: its last answer, its lookup and who waits for it. */
struct address_name {
	LIST_ENTRY(address_name) entry;
	char			*host;
	struct job		*job;
	long long		 at;		/* of the answer, 0: none yet */
	int			 error;		/* EAI_*, or -1: no answer */
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	TAILQ_HEAD(, address_req) waiting;
};
static LIST_HEAD(, address_name) address_names =
    LIST_HEAD_INITIALIZER(address_names);

struct address_req {
	TAILQ_ENTRY(address_req) entry;
	struct address_name	*name;
	address_cb		 cb;
	void			*arg;
};

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

	if (p[0] != 'v' || p[1] != 'm' || !isdigit((unsigned char)p[2]))
		return (0);
	for (p += 2; isdigit((unsigned char)*p); p++)
		;
	if (p[0] != '-' || p[1] != 'i' || p[2] != 'f' ||
	    !isdigit((unsigned char)p[3]))
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

/*
 * vm.conf's local prefix, "100.64.0.0/10": an IPv4 network with a /1 to
 * /30 length (room for a /31 per interface) and no host bits set.  -1
 * with why in err.
 */
int
address_parse_prefix(const char *s, struct in_addr *net, int *lenp,
    char *err, size_t errlen)
{
	char		 addr[INET_ADDRSTRLEN];
	const char	*slash, *errstr;
	long long	 len;

	if ((slash = strchr(s, '/')) == NULL ||
	    (size_t)(slash - s) >= sizeof(addr))
		goto bad;
	memcpy(addr, s, slash - s);
	addr[slash - s] = '\0';
	len = strtonum(slash + 1, 1, 30, &errstr);
	if (inet_pton(AF_INET, addr, net) != 1 || errstr != NULL)
		goto bad;
	if ((ntohl(net->s_addr) & (0xffffffffU >> len)) != 0) {
		snprintf(err, errlen, "prefix \"%s\" has host bits set", s);
		return (-1);
	}
	*lenp = (int)len;
	return (0);
 bad:
	snprintf(err, errlen, "invalid prefix \"%s\", expected an IPv4 "
	    "network like %s", s, DEFAULT_LOCAL_PREFIX);
	return (-1);
}

/* "100.64.1.3:22", "[fe80::1]:22". */
void
address_print(const struct sockaddr_storage *ss, socklen_t sl, char *buf,
    size_t len)
{
	char	 host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo((const struct sockaddr *)ss, sl, host, sizeof(host),
	    serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		(void)strlcpy(buf, "?", len);
	else
		snprintf(buf, len, ss->ss_family == AF_INET6 ? "[%s]:%s" :
		    "%s:%s", host, serv);
}

static struct address_name *
address_name_get(const char *host)
{
	struct address_name	*n;

	LIST_FOREACH(n, &address_names, entry)
		if (strcmp(n->host, host) == 0)
			return (n);
	if ((n = calloc(1, sizeof(*n))) == NULL ||
	    (n->host = strdup(host)) == NULL)
		fatal("address");
	n->error = -1;
	TAILQ_INIT(&n->waiting);
	LIST_INSERT_HEAD(&address_names, n, entry);
	return (n);
}

/* In the lookup child. */
static void
address_lookup(void *arg)
{
	struct address_answer_msg	 a;
	struct addrinfo			 hints, *res;
	const char			*host = arg;

	/* All this child does: look up, write the answer. */
	osdep_pledge("stdio dns", NULL);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	memset(&a, 0, sizeof(a));
	if ((a.error = getaddrinfo(host, NULL, &hints, &res)) == 0) {
		memcpy(&a.ss, res->ai_addr, res->ai_addrlen);
		a.len = res->ai_addrlen;
		freeaddrinfo(res);
	}
	if (write(STDOUT_FILENO, &a, sizeof(a)) != (ssize_t)sizeof(a))
		_exit(1);
}

static void
address_lookup_done(struct job *job, void *arg)
{
	struct address_name		*n = arg;
	struct address_answer_msg	 a;
	struct address_req		*r;
	const char			*out;
	size_t				 len;

	n->job = NULL;
	n->at = now_ms();
	out = job_output(job, 1, &len);
	if (len != sizeof(a))
		n->error = job_timed_out(job) ? EAI_AGAIN : EAI_FAIL;
	else {
		memcpy(&a, out, sizeof(a));
		n->error = a.error;
		if (a.error == 0 && a.len <= sizeof(n->ss)) {
			n->ss = a.ss;
			n->len = a.len;
		} else if (a.error == 0)
			n->error = EAI_FAIL;
	}
	/* Those waiting ask again, now that there is an answer. */
	while ((r = TAILQ_FIRST(&n->waiting)) != NULL) {
		TAILQ_REMOVE(&n->waiting, r, entry);
		r->cb(r->arg);
		free(r);
	}
}

/*
 * Call cb(arg) once host has a fresh answer (address_guest then has
 * it).  The request is the caller's until then or address_cancel().
 */
struct address_req *
address_resolve(const char *host, address_cb cb, void *arg)
{
	struct address_name	*n = address_name_get(host);
	struct address_req	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("address");
	r->name = n;
	r->cb = cb;
	r->arg = arg;
	TAILQ_INSERT_TAIL(&n->waiting, r, entry);
	if (n->job == NULL && (n->job = job_fork("getaddrinfo",
	    address_lookup, n->host, ADDRESS_TIMEOUT, address_lookup_done,
	    n)) == NULL) {
		log_warn("lookup of %s", host);
		n->at = now_ms();
		n->error = EAI_SYSTEM;
	}
	return (r);
}

void
address_cancel(struct address_req *r)
{
	if (r == NULL)
		return;
	TAILQ_REMOVE(&r->name->waiting, r, entry);
	free(r);
}

/*
 * The guest's address and port by the rule in pol, for VM name (with its
 * vmd id, if known).  ADDRESS_ERROR with err when it cannot be known now
 * (no tap, no id, a failed lookup); ADDRESS_PENDING when a host name has
 * no fresh answer: address_resolve() calls back once it has.
 */
enum address_answer
address_guest(const struct policy *pol, const char *name, int has_id,
    unsigned int id, int port, struct sockaddr_storage *ss, socklen_t *sl,
    char *err, size_t errlen)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	struct address_name	*n;
	struct in_addr		 in;

	memset(ss, 0, sizeof(*ss));
	switch (pol->addr) {
	case ADDR_TAP:
		if (address_tap(name, pol->addr_if, &in, err, errlen) == -1)
			return (ADDRESS_ERROR);
		break;
	case ADDR_LOCAL:
	case ADDR_UNSET:
		if (!has_id) {
			snprintf(err, errlen, "vm id not known yet");
			return (ADDRESS_ERROR);
		}
		address_local(pol->addr_prefix, pol->addr_prefixlen, id,
		    pol->addr_if, &in);
		break;
	case ADDR_FIXED:
		if (inet_pton(AF_INET, pol->addr_host, &sin->sin_addr) == 1) {
			in = sin->sin_addr;
			break;
		}
		if (inet_pton(AF_INET6, pol->addr_host,
		    &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(port);
			*sl = sizeof(*sin6);
			return (ADDRESS_OK);
		}
		n = address_name_get(pol->addr_host);
		if (n->at == 0 || now_ms() - n->at >= ADDRESS_TTL)
			return (ADDRESS_PENDING);
		if (n->error != 0) {
			snprintf(err, errlen, "%s: %s", n->host,
			    n->error == EAI_AGAIN && n->job == NULL ?
			    "lookup timed out" : gai_strerror(n->error));
			return (ADDRESS_ERROR);
		}
		memcpy(ss, &n->ss, n->len);
		*sl = n->len;
		if (ss->ss_family == AF_INET6)
			sin6->sin6_port = htons(port);
		else
			sin->sin_port = htons(port);
		return (ADDRESS_OK);
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr = in;
	*sl = sizeof(*sin);
	return (ADDRESS_OK);
}

/* At exit: lookups killed, answers forgotten. */
void
address_shutdown(void)
{
	struct address_name	*n;
	struct address_req	*r;

	while ((n = LIST_FIRST(&address_names)) != NULL) {
		LIST_REMOVE(n, entry);
		if (n->job != NULL)
			job_cancel(n->job);
		while ((r = TAILQ_FIRST(&n->waiting)) != NULL) {
			TAILQ_REMOVE(&n->waiting, r, entry);
			free(r);
		}
		free(n->host);
		free(n);
	}
}
