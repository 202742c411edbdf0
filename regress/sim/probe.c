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
 * probe.c's and address.c's APIs for the simulation.  An address is
 * what address.c would compute (local: from the id vmlaunch believes
 * the VM has; fixed: as configured), and whatever guest the world has
 * at that address answers: the right one, another VM's if the id is
 * stale, or nobody.  A readiness probe says where it tries and why the
 * guest is not ready, and ends with the banner; it tries again whenever
 * the world changes, rather than every few milliseconds.  A session's
 * connect is one try: refused at once, or no banner within
 * PROBE_SESSION_MS.  probe.c's contract holds: probe_start() never
 * calls back, PROBE_READY and PROBE_FAILED end the probe, which is freed
 * after its callback; probe_cancel() from the callback is allowed after
 * PROBE_ADDRESS and PROBE_WAITING.
 *
 * The socket handed over is /dev/null opened anew, remembered with the
 * guest it stands for, so that a session given another VM's guest is
 * caught, and a socket nobody closes is found at the end.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

#define PROBE_TRY_MS		15	/* after a change, a new try */
#define PROBE_SESSION_MS	3000	/* as probe.c */
#define PROBE_FDS_MAX		256

struct probe {
	LIST_ENTRY(probe)	 entry;
	enum probe_mode		 mode;
	struct policy		 pol;		/* addr_host: ours */
	char			 name[VM_NAME_MAX];
	int			 has_id;
	unsigned int		 id;
	int			 port;
	probe_cb		 cb;
	void			*arg;
	int			 busy;
	int			 cancelled;
	int			 ending;	/* in its last callback */
	char			 addr[128];
	char			 why[256];
	struct event		 ev_try;
	struct event		 ev_limit;	/* a connect's */
};

struct probe_fd {
	int			 fd;
	int			 vm;		/* world index, -1 nobody */
	int			 boot;
	int			 conn;
	int			 open;
};

static LIST_HEAD(, probe) probes = LIST_HEAD_INITIALIZER(probes);
static struct probe_fd	 probe_fds[PROBE_FDS_MAX];
static int		 probe_nfds;
static int		 probe_subscribed;

static void	 probe_try(int, short, void *);
static void	 probe_limit(int, short, void *);
static void	 probe_world_changed(void);

static void
probe_after(struct event *ev, long long ms)
{
	struct timeval	 tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

struct probe *
probe_start(const struct policy *pol, const char *name, int has_id,
    unsigned int id, int port, enum probe_mode mode, probe_cb cb, void *arg)
{
	struct probe	*p;

	if (!probe_subscribed) {
		world_subscribe(probe_world_changed);
		probe_subscribed = 1;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("probe");
	p->mode = mode;
	p->pol = *pol;
	if (pol->addr_host != NULL &&
	    (p->pol.addr_host = strdup(pol->addr_host)) == NULL)
		fatal("probe");
	(void)strlcpy(p->name, name, sizeof(p->name));
	p->has_id = has_id;
	p->id = id;
	p->port = port;
	p->cb = cb;
	p->arg = arg;
	evtimer_set(&p->ev_try, probe_try, p);
	clock_harness(&p->ev_try);
	evtimer_set(&p->ev_limit, probe_limit, p);
	clock_harness(&p->ev_limit);
	LIST_INSERT_HEAD(&probes, p, entry);
	probe_after(&p->ev_try, 0);
	return (p);
}

static void
probe_free(struct probe *p)
{
	evtimer_del(&p->ev_try);
	evtimer_del(&p->ev_limit);
	LIST_REMOVE(p, entry);
	free(p->pol.addr_host);
	free(p);
}

void
probe_cancel(struct probe *p)
{
	if (p == NULL)
		return;
	if (p->busy) {
		p->cancelled = 1;
		return;
	}
	probe_free(p);
}

/* Call the owner; 1 if the probe is gone afterwards. */
static int
probe_tell(struct probe *p, enum probe_event ev, int fd, const char *text)
{
	char	 site[128];
	int	 end = ev == PROBE_READY || ev == PROBE_FAILED;

	if (owner_freed(p->arg, site, sizeof(site))) {
		check_fail(INV_OWNER, "probe of %s: its callback would reach "
		    "a freed owner (%s)", p->name, site);
		if (fd != -1)
			close(fd);
		probe_free(p);
		return (1);
	}
	p->busy++;
	/* Its last call: the owner may go inside it (probe.c's contract). */
	p->ending = end;
	p->cb(ev, fd, text, p->arg);
	p->busy--;
	if (end || p->cancelled) {
		probe_free(p);
		return (1);
	}
	return (0);
}

static void
probe_wait(struct probe *p, const char *why)
{
	if (strcmp(p->why, why) == 0)
		return;
	(void)strlcpy(p->why, why, sizeof(p->why));
	(void)probe_tell(p, PROBE_WAITING, -1, p->why);
}

/* The guest at the address answered: a socket that stands for it. */
static int
probe_socket(struct wvm *w)
{
	int	 fd, conn, i;

	if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		fatal("/dev/null");
	for (i = 0; i < probe_nfds; i++)
		if (probe_fds[i].fd == fd)
			break;
	if (i == probe_nfds) {
		if (probe_nfds == PROBE_FDS_MAX)
			fatalx("probe: too many sockets");
		probe_nfds++;
	}
	(void)world_guest_answers(w, &conn);
	probe_fds[i].fd = fd;
	probe_fds[i].vm = world_index(w);
	probe_fds[i].boot = world_boot(w);
	probe_fds[i].conn = conn;
	probe_fds[i].open = 1;
	return (fd);
}

static void
probe_try(int fd, short ev, void *arg)
{
	struct probe		*p = arg;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	socklen_t		 sl;
	struct wvm		*w;
	char			 err[256], addr[128];
	int			 r, conn;

	switch (address_guest(&p->pol, p->name, p->has_id, p->id, p->port,
	    &ss, &sl, err, sizeof(err))) {
	case ADDRESS_OK:
		break;
	default:
		if (p->mode == PROBE_CONNECT)
			(void)probe_tell(p, PROBE_FAILED, -1, err);
		else
			probe_wait(p, err);
		return;
	}
	address_print(&ss, sl, addr, sizeof(addr));
	if (strcmp(addr, p->addr) != 0) {
		(void)strlcpy(p->addr, addr, sizeof(p->addr));
		if (p->mode == PROBE_BANNER &&
		    probe_tell(p, PROBE_ADDRESS, -1, p->addr))
			return;
	}
	w = world_by_address(ntohl(sin->sin_addr.s_addr));
	r = w != NULL ? world_guest_answers(w, &conn) : -1;
	if (r == 1) {
		(void)probe_tell(p, PROBE_READY, probe_socket(w), p->addr);
		return;
	}
	if (r == 0) {
		if (p->mode == PROBE_CONNECT) {
			if (!evtimer_pending(&p->ev_limit, NULL))
				probe_after(&p->ev_limit, PROBE_SESSION_MS);
			return;
		}
		probe_wait(p, "connected, no banner yet");
		return;
	}
	if (p->mode == PROBE_CONNECT)
		(void)probe_tell(p, PROBE_FAILED, -1, "Connection refused");
	else
		probe_wait(p, "Connection refused");
}

static void
probe_limit(int fd, short ev, void *arg)
{
	(void)probe_tell(arg, PROBE_FAILED, -1, "connected, no banner yet");
}

/* Something changed out there: every probe looks again soon. */
static void
probe_world_changed(void)
{
	struct probe	*p;

	LIST_FOREACH(p, &probes, entry)
		if (!evtimer_pending(&p->ev_try, NULL))
			probe_after(&p->ev_try, PROBE_TRY_MS);
}

/*
 * The harness's side.
 */

/* Probes whose callback would reach owner. */
int
probe_sim_live_for(const void *owner, char *what, size_t len)
{
	struct probe	*p;
	int		 n = 0;

	LIST_FOREACH(p, &probes, entry)
		if ((owner == NULL || p->arg == owner) && !p->cancelled &&
		    !p->ending && n++ == 0)
			snprintf(what, len, "a %s probe of %s",
			    p->mode == PROBE_BANNER ? "readiness" : "connect",
			    p->name);
	return (n);
}

int
probe_sim_live(char *what, size_t len)
{
	return (probe_sim_live_for(NULL, what, len));
}

/* The guest a socket stands for: its VM's index (-1 nobody), boot. */
int
probe_sim_fd_guest(int fd, int *boot, int *conn)
{
	int	 i;

	for (i = 0; i < probe_nfds; i++)
		if (probe_fds[i].fd == fd && probe_fds[i].open) {
			*boot = probe_fds[i].boot;
			*conn = probe_fds[i].conn;
			return (probe_fds[i].vm);
		}
	return (-1);
}

/* Its receiver is done with it (and closed it). */
void
probe_sim_fd_closed(int fd)
{
	int	 i;

	for (i = 0; i < probe_nfds; i++)
		if (probe_fds[i].fd == fd)
			probe_fds[i].open = 0;
}

/* Sockets handed out that nobody closed. */
int
probe_sim_fds_open(void)
{
	struct stat	 st, null;
	int		 i, n = 0;

	if (stat("/dev/null", &null) == -1)
		return (0);
	for (i = 0; i < probe_nfds; i++) {
		if (!probe_fds[i].open)
			continue;
		if (fstat(probe_fds[i].fd, &st) == 0 &&
		    st.st_rdev == null.st_rdev) {
			n++;
			close(probe_fds[i].fd);
		}
		probe_fds[i].open = 0;
	}
	return (n);
}

void
probe_sim_reset(void)
{
	struct probe	*p;

	while ((p = LIST_FIRST(&probes)) != NULL)
		probe_free(p);
	probe_nfds = 0;
	probe_subscribed = 0;
}

/*
 * address.c
 */

#define ADDRESS_FIXED_NET	"10.9.0.0"

enum address_answer
address_guest(const struct policy *pol, const char *name, int has_id,
    unsigned int id, int port, struct sockaddr_storage *ss, socklen_t *sl,
    char *err, size_t errlen)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct in_addr		 prefix;
	int			 len;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	*sl = sizeof(*sin);
	if (pol->addr == ADDR_FIXED) {
		if (pol->addr_host == NULL ||
		    inet_pton(AF_INET, pol->addr_host, &sin->sin_addr) != 1) {
			snprintf(err, errlen, "%s: not simulated",
			    pol->addr_host != NULL ? pol->addr_host : "?");
			return (ADDRESS_ERROR);
		}
		return (ADDRESS_OK);
	}
	if (!has_id) {
		snprintf(err, errlen, "vm %s: no id yet", name);
		return (ADDRESS_ERROR);
	}
	if (pol->addr_prefixlen > 0)
		prefix = pol->addr_prefix;
	else
		(void)address_parse_prefix(DEFAULT_LOCAL_PREFIX, &prefix, &len,
		    NULL, 0);
	sin->sin_addr.s_addr = htonl(ntohl(prefix.s_addr) + (id << 8) + 3);
	return (ADDRESS_OK);
}

struct address_req *
address_resolve(const struct policy *pol, const char *name, address_cb cb,
    void *arg)
{
	fatalx("address_resolve: not simulated");
}

void
address_cancel(struct address_req *req)
{
}

void
address_print(const struct sockaddr_storage *ss, socklen_t sl, char *buf,
    size_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	char			 a[INET_ADDRSTRLEN];

	if (inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a)) == NULL)
		(void)strlcpy(a, "?", sizeof(a));
	snprintf(buf, len, "%s:%d", a, ntohs(sin->sin_port));
}

int
address_parse_prefix(const char *s, struct in_addr *in, int *len, char *err,
    size_t errlen)
{
	char		 a[INET_ADDRSTRLEN], *slash;
	const char	*errstr;

	if (strlcpy(a, s, sizeof(a)) >= sizeof(a) ||
	    (slash = strchr(a, '/')) == NULL)
		return (-1);
	*slash++ = '\0';
	*len = strtonum(slash, 1, 32, &errstr);
	if (errstr != NULL || inet_pton(AF_INET, a, in) != 1)
		return (-1);
	return (0);
}

void
address_shutdown(void)
{
}
