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
 * An address command (`address command`, for a guest whose address is
 * not known in advance, such as one from libvirt's DHCP) runs as a job
 * like a backend command, one run per VM at a time under the vmctl
 * timeout; the first address it prints is kept for a few seconds, a
 * failure for one, so that a booting guest's address is found soon.
 *
 * Lifetime: address_guest() answers at once, or says the answer is
 * pending; address_resolve() then makes a request, which belongs to its
 * caller (a probe) until its callback has run (from the loop, never
 * from inside the call) or the caller has passed it to
 * address_cancel().  Answers are kept until address_shutdown().
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
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
#define ADDRESS_TTL		5000	/* ms a host name's answer is kept */
#define ADDRESS_TIMEOUT		10000	/* ms for a host name's lookup */
#define ADDRESS_CMD_TTL		10000	/* ms a command's address is kept */
#define ADDRESS_CMD_RETRY	1000	/* ms its failure is */
#define ADDRESS_ARGV0		"vmlaunch-address"	/* $0 of the command */
#define ADDRESS_QUOTE_MAX	60	/* of a line quoted in an error */

/* What a lookup child writes on its stdout. */
struct address_answer_msg {
	int			 error;		/* getaddrinfo's */
	socklen_t		 len;
	struct sockaddr_storage	 ss;
};

/*
 * A question a child answers: where a host name is (getaddrinfo), shared
 * by every VM with that name, or what a VM's address command prints.
 * One child per question at a time; its answer is kept for a while, and
 * those waiting for it are called back when it comes.
 */
struct address_ask {
	LIST_ENTRY(address_ask)	 entry;
	enum addr_rule		 rule;		/* ADDR_FIXED or ADDR_COMMAND */
	char			*key;		/* host name, or VM name */
	char			*command;	/* ADDR_COMMAND: its text */
	struct job		*job;
	long long		 at;		/* of the answer, 0: none yet */
	long long		 ttl;		/* ms the answer holds */
	char			 why[256];	/* its failure, "": ss is it */
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct event		 ev_failed;	/* no child: told from the loop */
	TAILQ_HEAD(, address_req) waiting;
};
static LIST_HEAD(, address_ask) address_asks =
    LIST_HEAD_INITIALIZER(address_asks);

struct address_req {
	TAILQ_ENTRY(address_req) entry;
	struct address_ask	*ask;
	address_cb		 cb;
	void			*arg;
};

static long long	 address_cmd_timeout = DEFAULT_VMCTL_TIMEOUT * 1000LL;

static void	 address_failed(int, short, void *);
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

/* Set the time limit of address commands: vmctl's. */
void
address_configure(struct config *conf)
{
	address_cmd_timeout = (conf->vmctl_timeout > 0 ?
	    conf->vmctl_timeout : DEFAULT_VMCTL_TIMEOUT) * 1000LL;
}

static struct address_ask *
address_ask_get(enum addr_rule rule, const char *key)
{
	struct address_ask	*a;

	LIST_FOREACH(a, &address_asks, entry)
		if (a->rule == rule && strcmp(a->key, key) == 0)
			return (a);
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->key = strdup(key)) == NULL)
		fatal("address");
	a->rule = rule;
	evtimer_set(&a->ev_failed, address_failed, a);
	TAILQ_INIT(&a->waiting);
	LIST_INSERT_HEAD(&address_asks, a, entry);
	return (a);
}

/* Those waiting ask again, now that there is an answer. */
static void
address_answered(struct address_ask *a, long long ttl)
{
	struct address_req	*r;

	a->at = now_ms();
	a->ttl = ttl;
	while ((r = TAILQ_FIRST(&a->waiting)) != NULL) {
		TAILQ_REMOVE(&a->waiting, r, entry);
		r->cb(r->arg);
		free(r);
	}
}

/* No child could be made: the failure in why, told from the loop. */
static void
address_failed(int fd, short ev, void *arg)
{
	struct address_ask	*a = arg;

	address_answered(a, a->rule == ADDR_COMMAND ? ADDRESS_CMD_RETRY :
	    ADDRESS_TTL);
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
	struct address_ask		*a = arg;
	struct address_answer_msg	 m;
	const char			*out;
	size_t				 len;

	a->job = NULL;
	out = job_output(job, 1, &len);
	if (len != sizeof(m)) {
		snprintf(a->why, sizeof(a->why), "%s: %s", a->key,
		    job_timed_out(job) ? "lookup timed out" : "lookup failed");
	} else {
		memcpy(&m, out, sizeof(m));
		if (m.error != 0)
			snprintf(a->why, sizeof(a->why), "%s: %s", a->key,
			    gai_strerror(m.error));
		else if (m.len > sizeof(a->ss) || (m.ss.ss_family != AF_INET &&
		    m.ss.ss_family != AF_INET6))
			snprintf(a->why, sizeof(a->why), "%s: lookup failed",
			    a->key);
		else {
			a->ss = m.ss;
			a->len = m.len;
			a->why[0] = '\0';
		}
	}
	address_answered(a, ADDRESS_TTL);
}

/*
 * Is this word an address, as a tool prints it: IPv4 or IPv6, perhaps
 * with its /prefix length (virsh domifaddr, ip addr)?  1 and the address
 * in *ss if so, 0 if not; *skip says why an address does not do.
 */
static int
address_word(const char *word, struct sockaddr_storage *ss, socklen_t *sl,
    const char **skip)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 addr[INET6_ADDRSTRLEN];
	const char		*slash, *errstr;
	size_t			 n;
	uint32_t		 v4;
	long long		 max;

	n = (slash = strchr(word, '/')) != NULL ? (size_t)(slash - word) :
	    strlen(word);
	if (n == 0 || n >= sizeof(addr))
		return (0);
	memcpy(addr, word, n);
	addr[n] = '\0';
	memset(ss, 0, sizeof(*ss));
	*skip = NULL;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		*sl = sizeof(*sin);
		max = 32;
		v4 = ntohl(sin->sin_addr.s_addr);
		if (v4 == INADDR_LOOPBACK)
			*skip = "the guest's loopback";
		else if (v4 == INADDR_ANY)
			*skip = "unspecified";
		else if (IN_MULTICAST(v4) || v4 == INADDR_BROADCAST)
			*skip = "not a host's";
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		*sl = sizeof(*sin6);
		max = 128;
		if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			*skip = "the guest's loopback";
		else if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
			*skip = "unspecified";
		else if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
			*skip = "link-local: no interface to reach it through";
		else if (IN6_IS_ADDR_MULTICAST(&sin6->sin6_addr))
			*skip = "not a host's";
	} else
		return (0);
	if (slash != NULL) {
		if (slash[1] == '\0' || strspn(slash + 1, "0123456789") !=
		    strlen(slash + 1))
			return (0);
		(void)strtonum(slash + 1, 0, max, &errstr);
		if (errstr != NULL)
			return (0);
	}
	return (1);
}

/*
 * What an address command printed: its first IPv4 or IPv6 address, in
 * a table (virsh domifaddr), a list, JSON, or alone.  Words are split
 * at blanks and at the punctuation that surrounds addresses in such
 * output; 127.0.0.1 and ::1 (which a guest agent lists first, for the
 * guest's own loopback), IPv6 link-local (which needs an interface),
 * multicast and unspecified addresses are passed over.  -1 and why
 * when there is none.
 */
int
address_scan(const char *out, size_t len, struct sockaddr_storage *ss,
    socklen_t *sl, char *why, size_t whylen)
{
	static const char	 seps[] = " \t\r\n\v\f\"'`,;|()[]{}<>=";
	struct sockaddr_storage	 tss;
	socklen_t		 tsl;
	char			 word[INET6_ADDRSTRLEN + 8], first[64];
	char			 line[ADDRESS_QUOTE_MAX + 4];
	const char		*skip, *skipped = NULL;
	size_t			 i = 0, w;

	first[0] = '\0';
	for (;;) {
		while (i < len && (out[i] == '\0' || strchr(seps, out[i])))
			i++;
		if (i == len)
			break;
		for (w = i; w < len && out[w] != '\0' &&
		    strchr(seps, out[w]) == NULL; w++)
			;
		if (w - i < sizeof(word)) {
			memcpy(word, out + i, w - i);
			word[w - i] = '\0';
			if (address_word(word, &tss, &tsl, &skip)) {
				if (skip == NULL) {
					memcpy(ss, &tss, tsl);
					*sl = tsl;
					return (0);
				}
				if (skipped == NULL) {
					(void)strlcpy(first, word,
					    sizeof(first));
					skipped = skip;
				}
			}
		}
		i = w;
	}
	if (skipped != NULL)
		snprintf(why, whylen, "address command printed no usable "
		    "address (%s: %s)", first, skipped);
	else {
		vmctl_line(out, len, ADDRESS_QUOTE_MAX, line,
		    sizeof(line));
		if (*line == '\0')
			snprintf(why, whylen, "address command printed "
			    "nothing");
		else
			snprintf(why, whylen, "address command printed no "
			    "address: \"%s\"", line);
	}
	return (-1);
}

static void
address_cmd_done(struct job *job, void *arg)
{
	struct address_ask	*a = arg;
	const char		*out;
	char			 how[128], line[200];
	size_t			 len;
	int			 status = job_status(job);

	a->job = NULL;
	if (job_exec_errno(job) != 0 || job_timed_out(job) ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		out = job_output(job, 2, &len);
		vmctl_lastline(out, len, line, sizeof(line));
		snprintf(a->why, sizeof(a->why), "address command %s%s%s",
		    job_describe(job, how, sizeof(how)), *line ? ": " : "",
		    line);
	} else {
		out = job_output(job, 1, &len);
		if (address_scan(out, len, &a->ss, &a->len, a->why,
		    sizeof(a->why)) == 0)
			a->why[0] = '\0';
		else {
			/* A pipeline's first command may have said why. */
			out = job_output(job, 2, &len);
			vmctl_lastline(out, len, line, sizeof(line));
			len = strlen(a->why);
			if (*line != '\0')
				snprintf(a->why + len, sizeof(a->why) - len,
				    " (stderr: %s)", line);
		}
	}
	if (a->why[0] != '\0')
		log_debug("vm %s: %s", a->key, a->why);
	else if (getnameinfo((struct sockaddr *)&a->ss, a->len, line,
	    sizeof(line), NULL, 0, NI_NUMERICHOST) == 0)
		log_debug("vm %s: address command printed %s", a->key, line);
	address_answered(a, a->why[0] != '\0' ? ADDRESS_CMD_RETRY :
	    ADDRESS_CMD_TTL);
}

/*
 * /bin/sh -c COMMAND vmlaunch-address NAME, with VMLAUNCH_VM=NAME and
 * VMLAUNCH_ACTION=address: as a backend command runs, the name is never
 * part of the command text.
 */
static struct job *
address_cmd_run(struct address_ask *a)
{
	char		*argv[6], *set[3], **env;
	struct job	*job;
	int		 saved;

	argv[0] = BACKEND_SHELL;
	argv[1] = "-c";
	argv[2] = a->command;
	argv[3] = ADDRESS_ARGV0;
	argv[4] = a->key;
	argv[5] = NULL;
	if (asprintf(&set[0], "VMLAUNCH_VM=%s", a->key) == -1)
		fatal("address");
	set[1] = "VMLAUNCH_ACTION=address";
	set[2] = NULL;
	if ((env = job_env(set)) == NULL)
		fatal("address: environment");
	free(set[0]);
	job = job_run(argv, env, address_cmd_timeout, NULL, address_cmd_done,
	    a);
	saved = errno;
	job_argv_free(env);
	errno = saved;
	return (job);
}

/*
 * Call cb(arg) once the host name or the address command of pol (for
 * VM name) has a fresh answer: address_guest then has it.  Never from
 * inside the call.  The request is the caller's until then or
 * address_cancel(); an address command that nobody waits for any more
 * is killed.
 */
struct address_req *
address_resolve(const struct policy *pol, const char *name, address_cb cb,
    void *arg)
{
	struct address_ask	*a;
	struct address_req	*r;
	struct timeval		 tv = { 0, 0 };

	if (pol->addr == ADDR_COMMAND)
		a = address_ask_get(ADDR_COMMAND, name);
	else if (pol->addr == ADDR_FIXED)
		a = address_ask_get(ADDR_FIXED, pol->addr_host);
	else
		fatalx("address_resolve: nothing to resolve");
	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("address");
	r->ask = a;
	r->cb = cb;
	r->arg = arg;
	TAILQ_INSERT_TAIL(&a->waiting, r, entry);
	if (a->job != NULL || evtimer_pending(&a->ev_failed, NULL))
		return (r);

	if (a->rule == ADDR_COMMAND) {
		/* An answer to another command (before a reload) is none. */
		if (a->command == NULL || strcmp(a->command,
		    pol->addr_host) != 0) {
			free(a->command);
			if ((a->command = strdup(pol->addr_host)) == NULL)
				fatal("address");
			a->at = 0;
		}
		a->job = address_cmd_run(a);
	} else
		a->job = job_fork("getaddrinfo", address_lookup, a->key,
		    ADDRESS_TIMEOUT, address_lookup_done, a);
	if (a->job == NULL) {
		log_warn("%s of %s", a->rule == ADDR_COMMAND ?
		    "address command" : "lookup", a->key);
		snprintf(a->why, sizeof(a->why), "%s: %s", a->rule ==
		    ADDR_COMMAND ? "address command" : a->key,
		    strerror(errno));
		evtimer_add(&a->ev_failed, &tv);
	}
	return (r);
}

void
address_cancel(struct address_req *r)
{
	struct address_ask	*a;

	if (r == NULL)
		return;
	a = r->ask;
	TAILQ_REMOVE(&a->waiting, r, entry);
	free(r);
	if (a->rule == ADDR_COMMAND && a->job != NULL &&
	    TAILQ_EMPTY(&a->waiting)) {
		job_cancel(a->job);
		a->job = NULL;
	}
}

/*
 * The answer of a, if fresh: ADDRESS_OK or ADDRESS_ERROR.  Else
 * ADDRESS_PENDING, with what is known meanwhile in err: the last
 * failure, or that it is asked.
 */
static enum address_answer
address_asked(struct address_ask *a, const char *command, int port,
    struct sockaddr_storage *ss, socklen_t *sl, char *err, size_t errlen)
{
	int	 fresh;

	fresh = a->at != 0 && now_ms() - a->at < a->ttl && (command == NULL ||
	    (a->command != NULL && strcmp(a->command, command) == 0));
	if (!fresh) {
		if (a->at != 0 && a->why[0] != '\0')
			(void)strlcpy(err, a->why, errlen);
		else if (a->rule == ADDR_COMMAND)
			snprintf(err, errlen, "waiting for the address "
			    "command");
		else
			snprintf(err, errlen, "looking up %s", a->key);
		return (ADDRESS_PENDING);
	}
	if (a->why[0] != '\0') {
		(void)strlcpy(err, a->why, errlen);
		return (ADDRESS_ERROR);
	}
	memcpy(ss, &a->ss, a->len);
	*sl = a->len;
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	return (ADDRESS_OK);
}

/*
 * The guest's address and port by the rule in pol, for VM name (with its
 * vmd id, if known).  ADDRESS_ERROR with err when it cannot be known now
 * (no tap, no id, a failed lookup, a command that printed no address);
 * ADDRESS_PENDING, with err saying why so far, when a host name or an
 * address command has no fresh answer: address_resolve() calls back
 * once it has.
 */
enum address_answer
address_guest(const struct policy *pol, const char *name, int has_id,
    unsigned int id, int port, struct sockaddr_storage *ss, socklen_t *sl,
    char *err, size_t errlen)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
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
		return (address_asked(address_ask_get(ADDR_FIXED,
		    pol->addr_host), NULL, port, ss, sl, err, errlen));
	case ADDR_COMMAND:
		return (address_asked(address_ask_get(ADDR_COMMAND, name),
		    pol->addr_host, port, ss, sl, err, errlen));
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr = in;
	*sl = sizeof(*sin);
	return (ADDRESS_OK);
}

/* At exit: lookups and commands killed, answers forgotten. */
void
address_shutdown(void)
{
	struct address_ask	*a;
	struct address_req	*r;

	while ((a = LIST_FIRST(&address_asks)) != NULL) {
		LIST_REMOVE(a, entry);
		if (a->job != NULL)
			job_cancel(a->job);
		evtimer_del(&a->ev_failed);
		while ((r = TAILQ_FIRST(&a->waiting)) != NULL) {
			TAILQ_REMOVE(&a->waiting, r, entry);
			free(r);
		}
		free(a->command);
		free(a->key);
		free(a);
	}
}
