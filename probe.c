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
 * Connections to a guest.  A readiness probe (PROBE_BANNER) connects
 * again and again until the guest's sshd sends the "SSH-" banner: a port
 * that accepts is not a guest that is ready (QEMU's user networking
 * accepts before the guest listens, and while it is paused).  The banner
 * is only peeked at, so it is still in the socket for ssh.  A session's
 * connect (PROBE_CONNECT) is one try with a time limit, for a guest
 * known to be ready, and waits for the banner too: it costs nothing (the
 * banner is the first thing ssh would read anyway) and a guest that was
 * paused behind our back then fails the connect instead of hanging ssh.
 *
 * The readiness probe's schedule: a guest whose connects are refused
 * (or closed before the banner) has its network up, and sshd usually
 * follows within seconds, so for PROBE_FAST_MS after its first answer
 * the probe tries every 10-15 ms and sees the banner within ~15 ms.
 * After that, and while the guest does not answer at all (connects time
 * out or find no route, no address yet), the wait grows by half each
 * time up to PROBE_SLOW_MAX: a guest still far from ready costs two
 * connects a second instead of 65, and is seen at most that much later.
 *
 * Lifetime: probe_start() never calls back.  The callback runs from the
 * event loop with PROBE_ADDRESS and PROBE_WAITING as often as there is
 * news, and once with PROBE_READY (the connected socket is the callee's)
 * or PROBE_FAILED, after which the probe is freed: the owner drops its
 * pointer there.  probe_cancel() ends it at any time without a callback;
 * the callback may cancel the probe itself only after PROBE_ADDRESS or
 * PROBE_WAITING.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"

#define PROBE_BACKOFF_MIN	10	/* ms */
#define PROBE_BACKOFF_MAX	15	/* ms: readiness within ~15 ms */
#define PROBE_FAST_MS		5000	/* after the guest's first answer */
#define PROBE_SLOW_MAX		500	/* ms: later, or never answered */
#define PROBE_CONNECT_MS	1000	/* a readiness connect's limit */
#define PROBE_SESSION_MS	3000	/* a session's connect's limit */
#define PROBE_BANNER_MAX	256	/* peeked at, at most */

struct probe {
	enum probe_mode		 mode;
	struct policy		 pol;		/* addr_host is our copy */
	char			 name[VM_NAME_MAX];
	int			 has_id;
	unsigned int		 id;
	int			 port;
	probe_cb		 cb;
	void			*arg;
	int			 fd;
	int			 connected;
	int			 backoff;	/* ms */
	long long		 t_answer;	/* first refused, or 0 */
	struct event		 ev_io;
	struct event		 ev_retry;
	struct address_req	*areq;
	int			 busy;		/* in a callback */
	int			 cancelled;
	long long		 t_try;		/* this try began */
	char			 addr[128];	/* being tried */
	char			 why[256];	/* not ready, last reason */
};

static void	 probe_try(int, short, void *);
static void	 probe_io(int, short, void *);
static void	 probe_resolved(void *);
static void	 probe_retry(struct probe *, const char *, int);
static void	 probe_free(struct probe *);

struct probe *
probe_start(const struct policy *pol, const char *name, int has_id,
    unsigned int id, int port, enum probe_mode mode, probe_cb cb, void *arg)
{
	struct probe	*p;

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
	p->fd = -1;
	p->backoff = PROBE_BACKOFF_MIN;
	evtimer_set(&p->ev_retry, probe_try, p);
	/* From the loop, never from inside the call. */
	timer_ms(&p->ev_retry, 0);
	return (p);
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

static void
probe_free(struct probe *p)
{
	evtimer_del(&p->ev_retry);
	if (p->fd != -1) {
		event_del(&p->ev_io);
		close(p->fd);
	}
	address_cancel(p->areq);
	free(p->pol.addr_host);
	free(p);
}

/* Tell the owner; 1 when it cancelled the probe meanwhile (freed). */
static int
probe_tell(struct probe *p, enum probe_event ev, int fd, const char *text)
{
	p->busy++;
	p->cb(ev, fd, text, p->arg);
	p->busy--;
	if (p->cancelled) {
		probe_free(p);
		return (1);
	}
	return (0);
}

/* The end: the socket (or the reason) goes to the owner, p is freed. */
static void
probe_end(struct probe *p, int fd, const char *why)
{
	if (fd != -1) {
		event_del(&p->ev_io);
		p->fd = -1;
		(void)fcntl(fd, F_SETFL, 0);
	}
	p->busy++;
	p->cb(fd != -1 ? PROBE_READY : PROBE_FAILED, fd,
	    fd != -1 ? p->addr : why, p->arg);
	p->busy--;
	probe_free(p);
}

/*
 * Not now: a session's connect fails, a readiness probe tries again.
 * answered: the guest said no (refused, closed), rather than nothing.
 */
static void
probe_retry(struct probe *p, const char *why, int answered)
{
	long long	 now;
	int		 max;

	if (p->fd != -1) {
		event_del(&p->ev_io);
		close(p->fd);
		p->fd = -1;
	}
	if (p->mode == PROBE_CONNECT) {
		probe_end(p, -1, why);
		return;
	}
	if (strcmp(p->why, why) != 0) {
		(void)strlcpy(p->why, why, sizeof(p->why));
		if (probe_tell(p, PROBE_WAITING, -1, p->why))
			return;
	}
	now = now_ms();
	if (answered && p->t_answer == 0) {
		/* Its network is up: sshd may be moments away. */
		p->t_answer = now;
		p->backoff = PROBE_BACKOFF_MIN;
	}
	max = answered && now - p->t_answer < PROBE_FAST_MS ?
	    PROBE_BACKOFF_MAX : PROBE_SLOW_MAX;
	if (p->backoff > max)
		p->backoff = max;
	timer_ms(&p->ev_retry, p->backoff);
	p->backoff = p->backoff * 3 / 2;
	if (p->backoff > max)
		p->backoff = max;
}

/* Did the guest answer, if only to say no? */
static int
probe_answered(int error)
{
	return (error == ECONNREFUSED || error == ECONNRESET);
}

static void
probe_resolved(void *arg)
{
	struct probe	*p = arg;

	p->areq = NULL;
	probe_try(-1, 0, p);
}

static void
probe_try(int fd, short ev, void *arg)
{
	struct probe		*p = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 sl = 0;
	struct timeval		 tv;
	char			 err[256], addr[sizeof(p->addr)];
	long			 ms;
	int			 s;

	switch (address_guest(&p->pol, p->name, p->has_id, p->id, p->port,
	    &ss, &sl, err, sizeof(err))) {
	case ADDRESS_PENDING:
		/* What is known so far, for a boot wait that ends now. */
		if (p->mode == PROBE_BANNER && strcmp(p->why, err) != 0) {
			(void)strlcpy(p->why, err, sizeof(p->why));
			if (probe_tell(p, PROBE_WAITING, -1, p->why))
				return;
		}
		p->areq = address_resolve(&p->pol, p->name, probe_resolved, p);
		return;
	case ADDRESS_ERROR:
		probe_retry(p, err, 0);
		return;
	case ADDRESS_OK:
		break;
	}
	address_print(&ss, sl, addr, sizeof(addr));
	if (strcmp(addr, p->addr) != 0) {
		(void)strlcpy(p->addr, addr, sizeof(p->addr));
		if (p->mode == PROBE_BANNER &&
		    probe_tell(p, PROBE_ADDRESS, -1, p->addr))
			return;
	}
	if ((s = socket(ss.ss_family, SOCK_STREAM, 0)) == -1) {
		probe_retry(p, strerror(errno), 0);
		return;
	}
	p->fd = s;
	p->connected = 0;
	if (fcntl(s, F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(s, F_SETFD, FD_CLOEXEC) == -1) {
		probe_retry(p, strerror(errno), 0);
		return;
	}
	if (connect(s, (struct sockaddr *)&ss, sl) == -1 &&
	    errno != EINPROGRESS) {
		probe_retry(p, strerror(errno), probe_answered(errno));
		return;
	}
	event_set(&p->ev_io, s, EV_WRITE, probe_io, p);
	p->t_try = now_ms();
	ms = p->mode == PROBE_CONNECT ? PROBE_SESSION_MS : PROBE_CONNECT_MS;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	event_add(&p->ev_io, &tv);
}

/* The connect ended, or data (the banner, we hope) arrived. */
static void
probe_io(int fd, short ev, void *arg)
{
	struct probe	*p = arg;
	char		 banner[PROBE_BANNER_MAX];
	struct timeval	 tv, *tvp = NULL;
	int		 error = 0;
	socklen_t	 len = sizeof(error);
	long long	 left;
	ssize_t		 n;

	/* A session's connect, banner included, has its time limit. */
	if (p->mode == PROBE_CONNECT) {
		left = PROBE_SESSION_MS - (now_ms() - p->t_try);
		if (left < 0)
			left = 0;
		tv.tv_sec = left / 1000;
		tv.tv_usec = (left % 1000) * 1000;
		tvp = &tv;
	}

	if (ev & EV_TIMEOUT) {
		probe_retry(p, p->connected ? "connected, no banner yet" :
		    "connect timed out", 0);
		return;
	}
	if (!p->connected) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
			error = errno;
		if (error != 0) {
			probe_retry(p, strerror(error), probe_answered(error));
			return;
		}
		p->connected = 1;
		/* Readiness: as long as the boot wait allows (its owner). */
		event_set(&p->ev_io, fd, EV_READ, probe_io, p);
		event_add(&p->ev_io, tvp);
		return;
	}
	n = recv(fd, banner, sizeof(banner) - 1, MSG_PEEK);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR) {
			event_add(&p->ev_io, tvp);
			return;
		}
		probe_retry(p, strerror(errno), probe_answered(errno));
		return;
	}
	if (n == 0) {
		probe_retry(p, "connection closed before the banner", 1);
		return;
	}
	banner[n] = '\0';
	if ((size_t)n < strlen(SSH_BANNER) &&
	    strncmp(banner, SSH_BANNER, n) == 0) {
		/* Part of a banner: wait for the rest. */
		event_add(&p->ev_io, tvp);
		return;
	}
	if (strncmp(banner, SSH_BANNER, strlen(SSH_BANNER)) != 0 &&
	    strstr(banner, "\n" SSH_BANNER) == NULL) {
		/* Lines before the banner are allowed; wait for a whole one. */
		if ((size_t)n < sizeof(banner) - 1 && memchr(banner, '\n',
		    n) == NULL) {
			event_add(&p->ev_io, tvp);
			return;
		}
		probe_retry(p, "not an ssh banner", 1);
		return;
	}
	probe_end(p, fd, NULL);
}
