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
 * The peers of the control socket: accept, read, write, and what each
 * asks for.  A CTL_CONNECT makes the peer a session of its VM
 * (session.c): it waits, shows progress, gets its guest socket or an
 * error, and is a session for as long as its connection stays open.  One
 * that wants the VM up (vmlaunch -u) or stopped (-x) waits the same way
 * and is answered with one line (CTL_DONE); so is a CTL_HOLD (-k), which
 * sets or releases a hold (hold.c) and waits for the VM to be up.  A
 * CTL_STATUS gets the status table.  Anything that does not decode drops
 * the peer.
 *
 * Lifetime: a peer owns its session (closed with it), its status
 * request (cancelled with it), its queued messages and the descriptors
 * they carry, and its events.  peer_free() is the one way out, and is
 * never called from inside a session callback (a failed peer is marked
 * closing and freed once its error is written).
 *
 * Progress: the first message is held back for a moment (a VM that is
 * ready at once shows none), then one per change, and one every few
 * seconds while nothing changes: the client gives up on a supervisor
 * that says nothing for long.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"

#define PEER_HELLO_TIMEOUT	10000	/* ms: a peer must speak by then */
#define PEER_PROGRESS_DELAY	300	/* ms before the first progress */
#define PEER_HEARTBEAT		5000	/* ms between two progress messages */
#define PEER_READ_CHUNK		4096
#define PEER_ACCEPT_PAUSE	100	/* ms: out of descriptors */

enum peer_state {
	PEER_NEW = 0,		/* has not said what it wants */
	PEER_WAITING,		/* a session, waiting for its VM */
	PEER_SESSION,		/* a session with its guest socket */
	PEER_STATUS,		/* asked for the status table */
	PEER_DONE		/* answered, closing */
};

struct outmsg {
	TAILQ_ENTRY(outmsg)	 entry;
	uint8_t			*data;
	size_t			 len;
	size_t			 off;
	int			 fd;		/* passed with the message */
};
TAILQ_HEAD(outmsglist, outmsg);

struct peer {
	TAILQ_ENTRY(peer)	 entry;
	int			 fd;
	enum peer_state		 state;
	struct event		 ev_read;
	struct event		 ev_write;
	struct event		 ev_timer;	/* hello, then progress */
	uint8_t			*ibuf;
	size_t			 ilen;
	size_t			 isize;
	struct outmsglist	 outq;
	int			 closing;	/* free once outq is sent */
	struct session		*session;
	struct backend_req	*req;
	long long		 t_start;
	uint32_t		 lastphase;
	int			 flags;		/* of its session */
	char			 host[HOST_NAME_MAX_LEN + 1];
	char			 done[512];	/* a hold's answer */
};
TAILQ_HEAD(peerlist, peer);

static struct peerlist	 peers = TAILQ_HEAD_INITIALIZER(peers);
static struct config	*peer_conf;
static int		 peer_listenfd = -1;
static struct event	 peer_ev_accept;
static struct event	 peer_ev_pause;
static int		 peer_down;

static void	 peer_accept_cb(int, short, void *);
static void	 peer_accept_resume(int, short, void *);
static void	 peer_read(int, short, void *);
static void	 peer_write(int, short, void *);
static void	 peer_timer(int, short, void *);
static void	 peer_free(struct peer *);
static void	 peer_dispatch(struct peer *, uint32_t, const uint8_t *,
		    size_t);
static void	 peer_connect(struct peer *, const uint8_t *, size_t);
static void	 peer_hold(struct peer *, const uint8_t *, size_t);
static void	 peer_done(struct peer *, const char *);
static void	 peer_status(struct peer *);
static void	 peer_error(struct peer *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	 peer_progress(struct peer *);

static void	 peer_session_ready(void *, int, const char *);
static void	 peer_session_fail(void *, const char *);
static void	 peer_session_changed(void *);

static const struct session_ops peer_session_ops = {
	peer_session_ready,
	peer_session_fail,
	peer_session_changed
};

void
peer_configure(struct config *conf)
{
	peer_conf = conf;
}

/* Listen on fd (bound, non-blocking) from now on. */
void
peer_accept(int fd)
{
	peer_listenfd = fd;
	event_set(&peer_ev_accept, fd, EV_READ | EV_PERSIST, peer_accept_cb,
	    NULL);
	event_add(&peer_ev_accept, NULL);
	evtimer_set(&peer_ev_pause, peer_accept_resume, NULL);
}

int
peer_count(void)
{
	struct peer	*p;
	int		 n = 0;

	TAILQ_FOREACH(p, &peers, entry)
		n++;
	return (n);
}

static void
peer_accept_cb(int fd, short ev, void *arg)
{
	struct peer	*p;
	uid_t		 uid;
	int		 s;

	if ((s = accept(fd, NULL, NULL)) == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept");
		if (errno == EMFILE || errno == ENFILE) {
			/* Back off rather than spin on a full fd table. */
			event_del(&peer_ev_accept);
			timer_ms(&peer_ev_pause, PEER_ACCEPT_PAUSE);
		}
		return;
	}
	if (osdep_peeruid(s, &uid) == -1) {
		log_warn("control: peer credentials");
		close(s);
		return;
	}
	if (uid != geteuid()) {
		log_warnx("control: refused a connection from uid %u",
		    (unsigned int)uid);
		close(s);
		return;
	}
	if (fcntl(s, F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(s, F_SETFD, FD_CLOEXEC) == -1) {
		log_warn("fcntl");
		close(s);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("peer");
	p->fd = s;
	p->t_start = now_ms();
	TAILQ_INIT(&p->outq);
	event_set(&p->ev_read, s, EV_READ | EV_PERSIST, peer_read, p);
	event_set(&p->ev_write, s, EV_WRITE, peer_write, p);
	evtimer_set(&p->ev_timer, peer_timer, p);
	event_add(&p->ev_read, NULL);
	timer_ms(&p->ev_timer, PEER_HELLO_TIMEOUT);
	TAILQ_INSERT_TAIL(&peers, p, entry);
	supervisor_check_exit();
}

static void
peer_accept_resume(int fd, short ev, void *arg)
{
	if (!peer_down)
		event_add(&peer_ev_accept, NULL);
}

static void
peer_free(struct peer *p)
{
	struct outmsg	*m;

	TAILQ_REMOVE(&peers, p, entry);
	event_del(&p->ev_read);
	event_del(&p->ev_write);
	evtimer_del(&p->ev_timer);
	backend_cancel(p->req);
	while ((m = TAILQ_FIRST(&p->outq)) != NULL) {
		TAILQ_REMOVE(&p->outq, m, entry);
		if (m->fd != -1)
			close(m->fd);
		free(m->data);
		free(m);
	}
	close(p->fd);
	free(p->ibuf);
	if (p->session != NULL)
		session_close(p->session);
	free(p);
	supervisor_check_exit();
}

/* Queue one message; with fd >= 0 the fd travels with it (and is ours). */
static void
peer_send(struct peer *p, uint32_t type, const struct buf *b, int fd)
{
	struct outmsg	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->data = ctl_message(type, b, &m->len)) == NULL)
		fatal("peer_send");
	m->fd = fd;
	TAILQ_INSERT_TAIL(&p->outq, m, entry);
	if (!event_pending(&p->ev_write, EV_WRITE, NULL))
		event_add(&p->ev_write, NULL);
}

static void
peer_write(int fd, short ev, void *arg)
{
	struct peer	*p = arg;
	struct outmsg	*m;
	ssize_t		 n;

	while ((m = TAILQ_FIRST(&p->outq)) != NULL) {
		n = ctl_write(p->fd, m->data + m->off, m->len - m->off, m->fd);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR) {
				event_add(&p->ev_write, NULL);
				return;
			}
			log_debug("peer %d: write: %s", p->fd,
			    strerror(errno));
			peer_free(p);
			return;
		}
		/* The fd went with the first byte; our copy is done. */
		if (m->fd != -1) {
			close(m->fd);
			m->fd = -1;
		}
		m->off += n;
		if (m->off < m->len)
			continue;
		TAILQ_REMOVE(&p->outq, m, entry);
		free(m->data);
		free(m);
	}
	if (p->closing)
		peer_free(p);
}

/* One line to the client, then the connection closes. */
static void
peer_error(struct peer *p, const char *fmt, ...)
{
	struct ctl_error	 e;
	struct buf		 b;
	va_list			 ap;

	memset(&e, 0, sizeof(e));
	va_start(ap, fmt);
	vsnprintf(e.message, sizeof(e.message), fmt, ap);
	va_end(ap);
	evtimer_del(&p->ev_timer);
	buf_init(&b);
	ctl_pack_error(&b, &e);
	peer_send(p, CTL_ERROR, &b, -1);
	buf_free(&b);
	p->state = PEER_DONE;
	p->closing = 1;
}

static void
peer_timer(int fd, short ev, void *arg)
{
	struct peer	*p = arg;

	switch (p->state) {
	case PEER_NEW:
		log_warnx("peer %d: said nothing within %ds, dropped", p->fd,
		    PEER_HELLO_TIMEOUT / 1000);
		peer_free(p);
		break;
	case PEER_WAITING:
		peer_progress(p);
		break;
	default:
		break;
	}
}

static void
peer_read(int fd, short ev, void *arg)
{
	struct peer	*p = arg;
	uint8_t		*nb;
	uint32_t	 type;
	size_t		 paylen;
	ssize_t		 n, framelen;

	if (p->isize - p->ilen < PEER_READ_CHUNK) {
		if (p->isize >= CTL_MSG_MAX + CTL_HDR_LEN) {
			log_warnx("peer %d: message too long, dropped", p->fd);
			peer_free(p);
			return;
		}
		if ((nb = realloc(p->ibuf, p->isize + 2 *
		    PEER_READ_CHUNK)) == NULL)
			fatal("realloc");
		p->ibuf = nb;
		p->isize += 2 * PEER_READ_CHUNK;
	}
	n = read(p->fd, p->ibuf + p->ilen, p->isize - p->ilen);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		log_debug("peer %d: read: %s", p->fd, strerror(errno));
		peer_free(p);
		return;
	}
	if (n == 0) {
		peer_free(p);
		return;
	}
	p->ilen += n;

	while (p->ilen > 0 && !p->closing) {
		framelen = ctl_frame(p->ibuf, p->ilen, &type, &paylen);
		if (framelen == 0)
			break;
		if (framelen < 0 || p->state != PEER_NEW) {
			log_warnx("peer %d: %s, dropped", p->fd, framelen < 0 ?
			    "malformed message header" : "unexpected message");
			peer_free(p);
			return;
		}
		peer_dispatch(p, type, p->ibuf + CTL_HDR_LEN, paylen);
		if (p->state == PEER_NEW) {	/* it did not decode */
			peer_free(p);
			return;
		}
		memmove(p->ibuf, p->ibuf + framelen, p->ilen - framelen);
		p->ilen -= framelen;
	}
	if (p->ilen == 0 && p->isize > 0) {
		/* Sessions sit idle for hours: hold no buffer meanwhile. */
		free(p->ibuf);
		p->ibuf = NULL;
		p->isize = 0;
	}
}

/* Leaves the peer in PEER_NEW when the message is to drop it. */
static void
peer_dispatch(struct peer *p, uint32_t type, const uint8_t *data,
    size_t len)
{
	evtimer_del(&p->ev_timer);
	switch (type) {
	case CTL_CONNECT:
		peer_connect(p, data, len);
		break;
	case CTL_HOLD:
		peer_hold(p, data, len);
		break;
	case CTL_STATUS:
		if (len != 0) {
			log_warnx("peer %d: malformed status request, "
			    "dropped", p->fd);
			return;
		}
		peer_status(p);
		break;
	default:
		log_warnx("peer %d: unexpected %s message, dropped", p->fd,
		    ctl_type_name(type));
		break;
	}
}

/* The VM that host names, or NULL once the peer was told why not. */
static struct vmconf *
peer_vm(struct peer *p, const char *host)
{
	struct vmconf	*vmc;

	(void)strlcpy(p->host, host, sizeof(p->host));
	if (peer_down) {
		peer_error(p, "%s: the supervisor is shutting down", host);
		return (NULL);
	}
	supervisor_reload_if_changed();
	if (!config_host_valid(host) ||
	    (vmc = config_lookup_host(peer_conf, host)) == NULL) {
		log_info("refused host \"%s\": no vm matches it", host);
		peer_error(p, "%s: no vm matches this host", host);
		return (NULL);
	}
	return (vmc);
}

static void
peer_connect(struct peer *p, const uint8_t *data, size_t len)
{
	struct ctl_connect	 req;
	struct vmconf		*vmc;

	if (ctl_unpack_connect(data, len, &req) == -1) {
		log_warnx("peer %d: malformed connect request, dropped",
		    p->fd);
		return;
	}
	if ((vmc = peer_vm(p, req.host)) == NULL)
		return;
	/* Stopped anyway: its hold goes with it. */
	if (req.flags & CTL_FLAG_FORCE)
		(void)hold_release(vmc->name, p->done, sizeof(p->done));
	p->done[0] = '\0';
	p->flags = req.flags;
	p->state = (req.flags & CTL_FLAG_RESUME) ? PEER_SESSION :
	    PEER_WAITING;
	p->session = session_open(vmc, req.port, req.flags, req.display,
	    req.xauthority, &peer_session_ops, p);
	if (p->state == PEER_WAITING && !p->closing)
		peer_progress(p);
}

/* vmlaunch -k: set the hold and wait for the VM to be up, or release. */
static void
peer_hold(struct peer *p, const uint8_t *data, size_t len)
{
	struct ctl_hold	 req;
	struct vmconf	*vmc;
	char		 msg[512];

	if (ctl_unpack_hold(data, len, &req) == -1) {
		log_warnx("peer %d: malformed hold request, dropped", p->fd);
		return;
	}
	if ((vmc = peer_vm(p, req.host)) == NULL)
		return;
	if (req.seconds == HOLD_RELEASE) {
		(void)hold_release(vmc->name, msg, sizeof(msg));
		peer_done(p, msg);
		return;
	}
	(void)hold_set(vmc, req.seconds, p->done, sizeof(p->done));
	p->flags = CTL_FLAG_UP;
	p->state = PEER_WAITING;
	p->session = session_open(vmc, 0, CTL_FLAG_UP, NULL, NULL,
	    &peer_session_ops, p);
	if (p->state == PEER_WAITING && !p->closing)
		peer_progress(p);
}

/* One line to the client, the request is done; then it closes. */
static void
peer_done(struct peer *p, const char *msg)
{
	struct ctl_error	 e;
	struct buf		 b;

	memset(&e, 0, sizeof(e));
	(void)strlcpy(e.message, msg, sizeof(e.message));
	evtimer_del(&p->ev_timer);
	buf_init(&b);
	ctl_pack_error(&b, &e);
	peer_send(p, CTL_DONE, &b, -1);
	buf_free(&b);
	p->state = PEER_DONE;
	p->closing = 1;
}

static void
peer_session_ready(void *arg, int fd, const char *addr)
{
	struct peer		*p = arg;
	struct ctl_ready	 r;
	struct buf		 b;
	char			 msg[512];

	if (p->flags & (CTL_FLAG_UP | CTL_FLAG_DOWN)) {
		/* It wants the news, not the socket. */
		if (fd != -1)
			close(fd);
		if (p->done[0] != '\0')
			peer_done(p, p->done);
		else if (p->flags & CTL_FLAG_DOWN)
			peer_done(p, addr);
		else {
			snprintf(msg, sizeof(msg), "%s: ready, %s",
			    session_vm(p->session), addr);
			peer_done(p, msg);
		}
		return;
	}
	memset(&r, 0, sizeof(r));
	(void)strlcpy(r.address, addr, sizeof(r.address));
	evtimer_del(&p->ev_timer);
	buf_init(&b);
	ctl_pack_ready(&b, &r);
	peer_send(p, CTL_READY, &b, fd);
	buf_free(&b);
	p->state = PEER_SESSION;
}

static void
peer_session_fail(void *arg, const char *msg)
{
	struct peer	*p = arg;

	peer_error(p, "%s", msg);
}

static void
peer_session_changed(void *arg)
{
	struct peer	*p = arg;

	/* Not while session_open() runs: the session is not ours yet. */
	if (p->state == PEER_WAITING && p->session != NULL)
		peer_progress(p);
}

/*
 * Send the session's progress, unless it is too early (the first one
 * waits a moment) or nothing changed (then the heartbeat does it).
 */
static void
peer_progress(struct peer *p)
{
	struct ctl_progress	 pr;
	struct buf		 b;
	long long		 now = now_ms();

	if (now - p->t_start < PEER_PROGRESS_DELAY) {
		timer_ms(&p->ev_timer, PEER_PROGRESS_DELAY -
		    (now - p->t_start));
		return;
	}
	session_progress(p->session, now, &pr);
	buf_init(&b);
	ctl_pack_progress(&b, &pr);
	peer_send(p, CTL_PROGRESS, &b, -1);
	buf_free(&b);
	p->lastphase = pr.phase;
	timer_ms(&p->ev_timer, PEER_HEARTBEAT);
}

/* The status table: vmctl's view of every VM, then a row each. */
static void
peer_status_row(const struct ctl_status_vm *row, void *arg)
{
	struct peer	*p = arg;
	struct buf	 b;

	buf_init(&b);
	ctl_pack_status_vm(&b, row);
	peer_send(p, CTL_STATUS_VM, &b, -1);
	buf_free(&b);
}

static void
peer_status_done(const struct backend_result *res, void *arg)
{
	struct peer		*p = arg;
	struct ctl_status_sup	 sup;
	struct buf		 b;

	p->req = NULL;
	if (!res->ok)
		log_warnx("status: %s", res->msg);
	supervisor_status(&sup);
	buf_init(&b);
	ctl_pack_status_sup(&b, &sup);
	peer_send(p, CTL_STATUS_SUP, &b, -1);
	buf_free(&b);
	vm_status_rows(res, peer_status_row, p);
	peer_send(p, CTL_STATUS_END, NULL, -1);
	p->state = PEER_DONE;
	p->closing = 1;
}

static void
peer_status(struct peer *p)
{
	p->state = PEER_STATUS;
	p->req = backend_status(NULL, 0, peer_status_done, p);
}

/*
 * SIGTERM: refuse new clients, tell those that wait (a session's VM
 * tells its own) and the open sessions that this supervisor goes, so
 * that their clients do not bring up another.
 */
void
peer_shutdown(void)
{
	struct peer	*p, *tp;

	peer_down = 1;
	if (peer_listenfd != -1)
		event_del(&peer_ev_accept);
	evtimer_del(&peer_ev_pause);
	TAILQ_FOREACH_SAFE(p, &peers, entry, tp) {
		if (p->state == PEER_NEW || p->state == PEER_SESSION)
			peer_error(p, "%s: the supervisor is shutting down",
			    p->host[0] != '\0' ? p->host : "vmlaunch");
	}
}

/* At exit, so that nothing is left for a leak check to find. */
void
peer_free_all(void)
{
	struct peer	*p;

	while ((p = TAILQ_FIRST(&peers)) != NULL)
		peer_free(p);
}
