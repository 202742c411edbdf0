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
 * The supervisor: one event loop that owns the VM table and a state
 * machine per VM (stopped, checking, starting, booting, ready, idle,
 * stopping), the control socket and its peers, every timer, the vmctl
 * children, the signals and the state file that remembers which VMs this
 * supervisor started.
 */

#include <sys/types.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmlaunch.h"

#define PEER_HELLO_TIMEOUT	10	/* s: a peer must speak by then */
#define CONNECT_TIMEOUT		3	/* s: fast path connect */
#define PROBE_BACKOFF_MIN	10	/* ms */
#define PROBE_BACKOFF_MAX	15	/* ms: readiness within ~15 ms */
#define PROBE_CONNECT_TIMEOUT	1000	/* ms */
#define WATCH_INTERVAL		1000	/* ms: vmctl status while booting */
#define STOP_POLL_INTERVAL	500	/* ms: vmctl status while stopping */
#define ABSENT_GRACE		3000	/* ms: a new VM may be missing */
#define LINGER_FIRST		10	/* s: wait for the first client */
#define LINGER			2	/* s: nothing to watch, then exit */
#define STATE_VERSION		1
#define PROGRESS_DELAY		300	/* ms before the first progress */
#define LOCK_WAIT		5000	/* ms for an exiting supervisor's lock */
#define LOCK_INTERVAL		20	/* ms between two tries */

struct supervisor	 sv;

static void	 supervisor_signal(int, short, void *);
static void	 supervisor_accept(int, short, void *);
static void	 supervisor_linger(int, short, void *);
static void	 supervisor_reload(void);
static int	 supervisor_conf_changed(void);
static void	 supervisor_conf_stamp(struct stat *);
static void	 supervisor_shutdown(void);
static int	 supervisor_lock(void);
static int	 supervisor_answers(void);
static int	 supervisor_listen(void);

static void	 peer_read(int, short, void *);
static void	 peer_write(int, short, void *);
static void	 peer_hello_timeout(int, short, void *);
static void	 peer_dispatch(struct peer *, uint32_t, const uint8_t *,
		    size_t);
static void	 peer_connect_request(struct peer *, const uint8_t *, size_t);
static void	 peer_status_request(struct peer *);
static void	 peer_status_done(const struct vmctl_result *, void *);
static void	 peer_fastpath(struct peer *);
static void	 peer_fastpath_done(int, short, void *);

static struct vm *vm_get(const char *, int);
static void	 vm_check_done(const struct vmctl_result *, void *);
static void	 vm_start(struct vm *);
static void	 vm_start_done(const struct vmctl_result *, void *);
static void	 vm_boot(struct vm *);
static void	 vm_boot_deadline(int, short, void *);
static void	 vm_watch(int, short, void *);
static void	 vm_watch_done(const struct vmctl_result *, void *);
static void	 vm_probe(int, short, void *);
static void	 vm_probe_io(int, short, void *);
static void	 vm_probe_fail(struct vm *, const char *);
static void	 vm_ready(struct vm *, int);
static void	 vm_idle(int, short, void *);
static void	 vm_stop(struct vm *, const char *);
static void	 vm_stop_done(const struct vmctl_result *, void *);
static void	 vm_stop_poll(int, short, void *);
static void	 vm_stop_poll_done(const struct vmctl_result *, void *);
static void	 vm_stop_force(int, short, void *);
static void	 vm_stopped(struct vm *);
static void	 vm_fail_waiters(struct vm *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	 vm_adopt_done(const struct vmctl_result *, void *);
static int	 vm_address(struct vm *, int, struct sockaddr_storage *,
		    socklen_t *, char *, size_t);
static void	 vm_progress(struct vm *, struct peer *);
static void	 peer_progress_due(int, short, void *);
static void	 vm_progress_all(struct vm *);
static void	 vm_set_state(struct vm *, enum vm_state);

static void	 state_load(void);
static void	 state_save(void);

static void
timer_ms(struct event *ev, long ms)
{
	struct timeval	 tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

static void
timer_s(struct event *ev, long long s)
{
	struct timeval	 tv;

	tv.tv_sec = s;
	tv.tv_usec = 0;
	evtimer_add(ev, &tv);
}

long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

const char *
vm_state_name(enum vm_state st)
{
	switch (st) {
	case VM_STOPPED:
		return ("stopped");
	case VM_CHECKING:
		return ("checking");
	case VM_STARTING:
		return ("starting");
	case VM_BOOTING:
		return ("booting");
	case VM_READY:
		return ("ready");
	case VM_IDLE:
		return ("idle");
	case VM_STOPPING:
		return ("stopping");
	}
	return ("?");
}

/*
 * Which policy applies: the VM's entry in the live config, or, for a VM
 * that a reload removed, the copy taken when it was last configured.
 */
static const struct policy *
vm_policy(struct vm *vm)
{
	if (vm->conf != NULL)
		return (&vm->conf->pol);
	return (&vm->pol);
}

/* What runs this VM's commands, for messages: vmctl or its backend. */
static const char *
vm_backend(struct vm *vm)
{
	if (vm->conf != NULL && vm->conf->backend.type == BACKEND_COMMAND)
		return ("backend");
	return ("vmctl");
}

static void
vm_set_state(struct vm *vm, enum vm_state st)
{
	if (vm->state != st)
		log_debug("vm %s: %s -> %s", vm->name,
		    vm_state_name(vm->state), vm_state_name(st));
	vm->state = st;
	vm->t_phase = now_ms();
}

/*
 * In use: a waiting client or an open session.  Autostarted apps count
 * through their own ssh sessions, which come back through vmlaunch, and
 * while they wait to be restarted.
 */
static int
vm_inuse(struct vm *vm)
{
	return (!TAILQ_EMPTY(&vm->peers) || autostart_pending(vm) > 0);
}

static int
vm_sessions(struct vm *vm)
{
	struct peer	*p;
	int		 n = 0;

	TAILQ_FOREACH(p, &vm->peers, ventry)
		if (p->state == PEER_SESSION)
			n++;
	return (n);
}

static int
vm_waiters(struct vm *vm)
{
	struct peer	*p;
	int		 n = 0;

	TAILQ_FOREACH(p, &vm->peers, ventry)
		if (p->state == PEER_WAITING)
			n++;
	return (n);
}

/*
 * VM table.
 */

static struct vm *
vm_get(const char *name, int create)
{
	struct vm	*vm;

	TAILQ_FOREACH(vm, &sv.vms, entry)
		if (strcmp(vm->name, name) == 0)
			return (vm);
	if (!create)
		return (NULL);
	if ((vm = calloc(1, sizeof(*vm))) == NULL)
		fatal("calloc");
	strlcpy(vm->name, name, sizeof(vm->name));
	TAILQ_INIT(&vm->peers);
	TAILQ_INIT(&vm->apps);
	vm->state = VM_STOPPED;
	vm->probefd = -1;
	vm->resfd = -1;
	vm->lastport = 22;
	evtimer_set(&vm->ev_idle, vm_idle, vm);
	evtimer_set(&vm->ev_deadline, vm_boot_deadline, vm);
	evtimer_set(&vm->ev_probe, vm_probe, vm);
	evtimer_set(&vm->ev_watch, vm_watch, vm);
	evtimer_set(&vm->ev_stoppoll, vm_stop_poll, vm);
	evtimer_set(&vm->ev_stopforce, vm_stop_force, vm);
	vm->conf = config_find_vm(sv.conf, name);
	vm_copy_policy(vm);
	TAILQ_INSERT_TAIL(&sv.vms, vm, entry);
	return (vm);
}

void
vm_copy_policy(struct vm *vm)
{
	if (vm->conf == NULL)
		return;
	free(vm->pol.addr_host);
	vm->pol = vm->conf->pol;
	if (vm->pol.addr_host != NULL &&
	    (vm->pol.addr_host = strdup(vm->pol.addr_host)) == NULL)
		fatal("strdup");
}

static void
vm_free(struct vm *vm)
{
	TAILQ_REMOVE(&sv.vms, vm, entry);
	evtimer_del(&vm->ev_idle);
	evtimer_del(&vm->ev_deadline);
	evtimer_del(&vm->ev_probe);
	evtimer_del(&vm->ev_watch);
	evtimer_del(&vm->ev_stoppoll);
	evtimer_del(&vm->ev_stopforce);
	if (vm->probefd != -1) {
		event_del(&vm->ev_probeio);
		close(vm->probefd);
	}
	if (vm->job != NULL)
		job_cancel(vm->job);
	if (vm->watchjob != NULL)
		job_cancel(vm->watchjob);
	if (vm->respid > 0) {
		event_del(&vm->ev_res);
		close(vm->resfd);
		kill(vm->respid, SIGKILL);
	}
	autostart_vm_stopped(vm);
	free(vm->pol.addr_host);
	free(vm);
}

/* Forget VMs that need no watching: not ours, unused and not configured. */
static void
vm_gc(void)
{
	struct vm	*vm, *tvm;

	TAILQ_FOREACH_SAFE(vm, &sv.vms, entry, tvm) {
		if (vm->conf == NULL && !vm->started && !vm_inuse(vm) &&
		    vm->job == NULL && vm->watchjob == NULL &&
		    (vm->state == VM_STOPPED || vm->state == VM_READY)) {
			log_info("vm %s: no longer configured, forgotten",
			    vm->name);
			vm_free(vm);
		}
	}
}

/*
 * Does anything need watching?  Sessions, VMs we started that still run,
 * children.  When not, linger a moment and exit.
 */
void
supervisor_check_exit(void)
{
	struct vm	*vm;

	/* Once shutting down, open sessions go on without us. */
	if ((!sv.shutdown && !TAILQ_EMPTY(&sv.peers)) || job_count() > 0)
		goto busy;
	TAILQ_FOREACH(vm, &sv.vms, entry) {
		if (sv.shutdown ? vm->state == VM_STOPPING :
		    (vm->started || vm_inuse(vm) ||
		    (vm->state != VM_STOPPED && vm->state != VM_READY)))
			goto busy;
	}
	if (sv.shutdown) {
		log_info("shutdown complete");
		event_loopexit(NULL);
		return;
	}
	if (!evtimer_pending(&sv.ev_linger, NULL))
		timer_s(&sv.ev_linger, sv.lingered ? LINGER : LINGER_FIRST);
	return;
 busy:
	sv.lingered = 1;
	evtimer_del(&sv.ev_linger);
}

static void
supervisor_linger(int fd, short ev, void *arg)
{
	struct vm	*vm;

	if (!TAILQ_EMPTY(&sv.peers) || job_count() > 0)
		return;
	TAILQ_FOREACH(vm, &sv.vms, entry)
		if (vm->started || vm_inuse(vm))
			return;
	log_info("nothing left to watch, exiting");
	/* Refuse new clients first: they will start a new supervisor. */
	event_del(&sv.ev_accept);
	unlink(sv.sockpath);
	close(sv.listenfd);
	sv.listenfd = -1;
	event_loopexit(NULL);
}

/*
 * Peers on the control socket.
 */

static void
peer_free(struct peer *p)
{
	struct outmsg	*m;
	struct vm	*vm = p->vm;

	TAILQ_REMOVE(&sv.peers, p, entry);
	if (vm != NULL)
		TAILQ_REMOVE(&vm->peers, p, ventry);
	event_del(&p->ev_read);
	event_del(&p->ev_write);
	evtimer_del(&p->ev_timeout);
	if (p->connfd != -1) {
		event_del(&p->ev_conn);
		close(p->connfd);
	}
	while ((m = TAILQ_FIRST(&p->outq)) != NULL) {
		TAILQ_REMOVE(&p->outq, m, entry);
		if (m->fd != -1)
			close(m->fd);
		free(m);
	}
	close(p->fd);
	free(p->ibuf);
	sv.npeers--;
	free(p);

	if (vm != NULL) {
		log_debug("vm %s: session ended, %d left", vm->name,
		    vm_sessions(vm) + vm_waiters(vm));
		vm_session_closed(vm);
	}
	supervisor_check_exit();
}

/* The last session of a VM closed: start the idle timer if it is ours. */
void
vm_session_closed(struct vm *vm)
{
	const struct policy	*pol = vm_policy(vm);
	char			 d[32];

	if (vm_inuse(vm) || (vm->state != VM_READY && vm->state != VM_IDLE))
		return;
	if (!vm->started) {
		log_debug("vm %s: no sessions; not started by vmlaunch, "
		    "left running", vm->name);
		vm_gc();
		return;
	}
	if (pol->idle_timeout == DURATION_NEVER) {
		log_info("vm %s: no sessions; idle timeout never, left "
		    "running", vm->name);
		vm_set_state(vm, VM_READY);
		return;
	}
	if (vm->state == VM_IDLE && evtimer_pending(&vm->ev_idle, NULL))
		return;
	vm_set_state(vm, VM_IDLE);
	vm->idle_at = now_ms() + pol->idle_timeout * 1000;
	timer_s(&vm->ev_idle, pol->idle_timeout);
	log_info("vm %s: no sessions, stopping in %s unless used", vm->name,
	    print_duration(pol->idle_timeout, d, sizeof(d)));
}

/* Queue one message; with fd >= 0 the fd travels with it (and is ours). */
void
peer_send(struct peer *p, uint32_t type, const struct buf *b, int fd)
{
	struct outmsg	*m;
	struct ctl_hdr	 hdr;
	size_t		 len = b != NULL ? b->len : 0;

	if ((m = malloc(sizeof(*m) + sizeof(hdr) + len)) == NULL)
		fatal("malloc");
	hdr.type = htonl(type);
	hdr.len = htonl((uint32_t)len);
	memcpy(m->data, &hdr, sizeof(hdr));
	if (len > 0)
		memcpy(m->data + sizeof(hdr), b->data, len);
	m->len = sizeof(hdr) + len;
	m->off = 0;
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
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct cmsghdr	*cmsg;
	ssize_t		 n;

	while ((m = TAILQ_FIRST(&p->outq)) != NULL) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = m->data + m->off;
		iov.iov_len = m->len - m->off;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if (m->fd != -1) {
			memset(&cmsgbuf, 0, sizeof(cmsgbuf));
			msg.msg_control = &cmsgbuf.buf;
			msg.msg_controllen = sizeof(cmsgbuf.buf);
			cmsg = CMSG_FIRSTHDR(&msg);
			cmsg->cmsg_len = CMSG_LEN(sizeof(int));
			cmsg->cmsg_level = SOL_SOCKET;
			cmsg->cmsg_type = SCM_RIGHTS;
			memcpy(CMSG_DATA(cmsg), &m->fd, sizeof(int));
		}
		n = sendmsg(p->fd, &msg, MSG_NOSIGNAL);
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
		free(m);
	}
	if (p->closing)
		peer_free(p);
}

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
	evtimer_del(&p->ev_timeout);
	buf_init(&b);
	ctl_pack_error(&b, &e);
	peer_send(p, CTL_ERROR, &b, -1);
	buf_free(&b);
	p->state = PEER_DONE;
	p->closing = 1;
	/* It no longer counts as a session of its VM. */
	if (p->vm != NULL) {
		TAILQ_REMOVE(&p->vm->peers, p, ventry);
		p->vm = NULL;
	}
}

static void
peer_hello_timeout(int fd, short ev, void *arg)
{
	struct peer	*p = arg;

	log_warnx("peer %d: said nothing within %ds, dropped", p->fd,
	    PEER_HELLO_TIMEOUT);
	peer_free(p);
}

static void
supervisor_accept(int fd, short ev, void *arg)
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
			event_del(&sv.ev_accept);
			timer_ms(&sv.ev_acceptpause, 100);
		}
		return;
	}
	if (osdep_peeruid(s, &uid) == -1) {
		log_warn("control: peer credentials");
		close(s);
		return;
	}
	if (uid != getuid()) {
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
		fatal("calloc");
	p->fd = s;
	p->connfd = -1;
	p->t_start = now_ms();
	TAILQ_INIT(&p->outq);
	event_set(&p->ev_read, s, EV_READ | EV_PERSIST, peer_read, p);
	event_set(&p->ev_write, s, EV_WRITE, peer_write, p);
	evtimer_set(&p->ev_timeout, peer_hello_timeout, p);
	event_add(&p->ev_read, NULL);
	timer_s(&p->ev_timeout, PEER_HELLO_TIMEOUT);
	TAILQ_INSERT_TAIL(&sv.peers, p, entry);
	sv.npeers++;
	supervisor_check_exit();
}

static void
supervisor_accept_resume(int fd, short ev, void *arg)
{
	event_add(&sv.ev_accept, NULL);
}

static void
peer_read(int fd, short ev, void *arg)
{
	struct peer	*p = arg;
	uint8_t		*nb;
	uint32_t	 type;
	size_t		 paylen;
	ssize_t		 n, framelen;

	if (p->isize - p->ilen < 4096) {
		if (p->isize >= CTL_MSG_MAX + sizeof(struct ctl_hdr)) {
			log_warnx("peer %d: message too long, dropped", p->fd);
			peer_free(p);
			return;
		}
		if ((nb = realloc(p->ibuf, p->isize + 8192)) == NULL)
			fatal("realloc");
		p->ibuf = nb;
		p->isize += 8192;
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
		if (framelen < 0) {
			log_warnx("peer %d: malformed message header, dropped",
			    p->fd);
			peer_free(p);
			return;
		}
		peer_dispatch(p, type, p->ibuf + sizeof(struct ctl_hdr),
		    paylen);
		if (p->dead) {
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

static void
peer_dispatch(struct peer *p, uint32_t type, const uint8_t *data,
    size_t len)
{
	if (p->state != PEER_NEW) {
		log_warnx("peer %d: unexpected %s message, dropped", p->fd,
		    ctl_type_name(type));
		p->dead = 1;
		return;
	}
	evtimer_del(&p->ev_timeout);
	switch (type) {
	case CTL_CONNECT:
		peer_connect_request(p, data, len);
		break;
	case CTL_STATUS:
		if (len != 0) {
			log_warnx("peer %d: malformed status request, "
			    "dropped", p->fd);
			p->dead = 1;
			return;
		}
		peer_status_request(p);
		break;
	default:
		log_warnx("peer %d: unexpected %s message, dropped", p->fd,
		    ctl_type_name(type));
		p->dead = 1;
		break;
	}
}

static void
peer_connect_request(struct peer *p, const uint8_t *data, size_t len)
{
	struct ctl_connect	*req = &p->req;
	struct vmconf		*vmc;
	struct vm		*vm;

	if (ctl_unpack_connect(data, len, req) == -1) {
		log_warnx("peer %d: malformed connect request, dropped",
		    p->fd);
		p->dead = 1;
		return;
	}
	if (sv.shutdown) {
		peer_error(p, "%s: the supervisor is shutting down",
		    req->host);
		return;
	}
	if (supervisor_conf_changed()) {
		log_info("%s changed, reloading it", sv.conf->file);
		supervisor_reload();
	}
	if (!config_host_valid(req->host) ||
	    (vmc = config_lookup_host(sv.conf, req->host)) == NULL) {
		log_info("refused host \"%s\": no vm matches it", req->host);
		peer_error(p, "%s: no vm matches this host", req->host);
		return;
	}
	vm = vm_get(vmc->name, 1);
	if (vm->conf == NULL) {
		vm->conf = vmc;
		vm_copy_policy(vm);
	}
	p->vm = vm;
	p->port = vm_policy(vm)->port ? vm_policy(vm)->port : req->port;
	vm->lastport = p->port;
	TAILQ_INSERT_TAIL(&vm->peers, p, ventry);
	log_debug("vm %s: session request for %s port %d", vm->name,
	    req->host, p->port);

	/* A new session cancels a pending idle stop. */
	if (vm->state == VM_IDLE) {
		evtimer_del(&vm->ev_idle);
		log_info("vm %s: new session, idle stop cancelled", vm->name);
		vm_set_state(vm, VM_READY);
	}

	switch (vm->state) {
	case VM_READY:
		peer_fastpath(p);
		break;
	case VM_STOPPED:
		p->state = PEER_WAITING;
		if (req->display[0] != '\0' && vm->display[0] == '\0') {
			strlcpy(vm->display, req->display,
			    sizeof(vm->display));
			strlcpy(vm->xauthority, req->xauthority,
			    sizeof(vm->xauthority));
		}
		vm_check(vm);
		break;
	default:
		p->state = PEER_WAITING;
		if (req->display[0] != '\0' && vm->display[0] == '\0') {
			strlcpy(vm->display, req->display,
			    sizeof(vm->display));
			strlcpy(vm->xauthority, req->xauthority,
			    sizeof(vm->xauthority));
		}
		vm_progress(vm, p);
		break;
	}
}

/* The session got its guest socket. */
static void
peer_ready(struct peer *p, int s)
{
	struct ctl_ready	 r;
	struct buf		 b;
	char			 addr[64], port[16];
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);

	memset(&r, 0, sizeof(r));
	if (getpeername(s, (struct sockaddr *)&ss, &sl) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, sl, addr, sizeof(addr),
	    port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(r.address, sizeof(r.address), "%s:%s", addr, port);
	evtimer_del(&p->ev_timeout);
	buf_init(&b);
	ctl_pack_ready(&b, &r);
	peer_send(p, CTL_READY, &b, s);
	buf_free(&b);
	p->state = PEER_SESSION;
	log_debug("vm %s: session %d connected to %s", p->vm->name, p->fd,
	    r.address);
}

/*
 * Fast path: the VM is ready, connect without asking vmctl.  If the
 * connect fails, the VM's state is checked again.
 */
static void
peer_fastpath(struct peer *p)
{
	struct vm		*vm = p->vm;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	struct timeval		 tv;
	char			 err[256];
	int			 s;

	p->state = PEER_CONNECTING;
	if (vm_address(vm, p->port, &ss, &sl, err, sizeof(err)) == -1)
		goto recheck;
	if ((s = socket(ss.ss_family, SOCK_STREAM, 0)) == -1) {
		log_warn("socket");
		goto recheck;
	}
	if (fcntl(s, F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(s, F_SETFD, FD_CLOEXEC) == -1) {
		log_warn("fcntl");
		close(s);
		goto recheck;
	}
	if (connect(s, (struct sockaddr *)&ss, sl) == 0) {
		fcntl(s, F_SETFL, 0);
		peer_ready(p, s);
		return;
	}
	if (errno != EINPROGRESS) {
		snprintf(err, sizeof(err), "%s", strerror(errno));
		close(s);
		goto recheck;
	}
	p->connfd = s;
	event_set(&p->ev_conn, s, EV_WRITE, peer_fastpath_done, p);
	tv.tv_sec = CONNECT_TIMEOUT;
	tv.tv_usec = 0;
	event_add(&p->ev_conn, &tv);
	return;
 recheck:
	log_info("vm %s: connect failed (%s), checking its state", vm->name,
	    err);
	p->state = PEER_WAITING;
	if (vm->state == VM_READY || vm->state == VM_IDLE)
		vm_check(vm);
	else
		vm_progress(vm, p);
}

static void
peer_fastpath_done(int fd, short ev, void *arg)
{
	struct peer	*p = arg;
	struct vm	*vm = p->vm;
	int		 error = ETIMEDOUT;
	socklen_t	 len = sizeof(error);

	p->connfd = -1;
	if (ev & EV_WRITE) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
			error = errno;
		if (error == 0) {
			fcntl(fd, F_SETFL, 0);
			peer_ready(p, fd);
			return;
		}
	}
	close(fd);
	log_info("vm %s: connect failed (%s), checking its state", vm->name,
	    strerror(error));
	p->state = PEER_WAITING;
	if (vm->state == VM_READY || vm->state == VM_IDLE)
		vm_check(vm);
	else
		vm_progress(vm, p);
}

/*
 * Status: ask vmctl about every VM, then answer with a row per VM this
 * supervisor knows or the config names.
 */
static void
peer_status_request(struct peer *p)
{
	p->state = PEER_STATUS;
	if (vmctl_status(sv.conf, NULL, peer_status_done, p) == NULL)
		peer_status_done(NULL, p);
	else
		p->statusjob = 1;
}

static void
status_row(struct peer *p, struct vm *vm, const char *name,
    const struct vmctl_result *res)
{
	struct ctl_status_vm	 row;
	struct buf		 b;
	const struct vmd_row	*r = NULL;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	char			 err[128], host[64], serv[16];
	long long		 left;

	memset(&row, 0, sizeof(row));
	strlcpy(row.name, name, sizeof(row.name));
	if (res != NULL && res->ok)
		r = vmctl_find_row(res->rows, res->nrows, name);
	if (res == NULL || !res->ok)
		strlcpy(row.vmd_state, "?", sizeof(row.vmd_state));
	else
		strlcpy(row.vmd_state, r != NULL ? vmd_state_name(r->state) :
		    "absent", sizeof(row.vmd_state));
	row.idle_left = -1;
	row.configured = config_find_vm(sv.conf, name) != NULL;
	if (vm != NULL) {
		strlcpy(row.state, vm_state_name(vm->state),
		    sizeof(row.state));
		row.sessions = vm_sessions(vm) + vm_waiters(vm);
		row.started = vm->started;
		if (vm->state == VM_IDLE) {
			left = (vm->idle_at - now_ms() + 999) / 1000;
			row.idle_left = left < 0 ? 0 : left;
		}
		if (r != NULL && r->has_id) {
			vm->id = r->id;
			vm->has_id = 1;
		}
		if (vm_address(vm, vm_policy(vm)->port ?
		    vm_policy(vm)->port : vm->lastport, &ss, &sl, err,
		    sizeof(err)) == 0 &&
		    getnameinfo((struct sockaddr *)&ss, sl, host,
		    sizeof(host), serv, sizeof(serv),
		    NI_NUMERICHOST | NI_NUMERICSERV) == 0)
			snprintf(row.address, sizeof(row.address),
			    ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
			    host, serv);
		else
			strlcpy(row.address, "-", sizeof(row.address));
		autostart_status(vm, &row);
	} else {
		strlcpy(row.state, "-", sizeof(row.state));
		strlcpy(row.address, "-", sizeof(row.address));
	}
	buf_init(&b);
	ctl_pack_status_vm(&b, &row);
	peer_send(p, CTL_STATUS_VM, &b, -1);
	buf_free(&b);
}

static void
peer_status_done(const struct vmctl_result *res, void *arg)
{
	struct peer	*p = arg;
	struct vmconf	*vmc;
	struct vm	*vm;

	p->statusjob = 0;
	if (res != NULL && !res->ok)
		log_warnx("status: %s", res->msg);
	TAILQ_FOREACH(vmc, &sv.conf->vms, entry)
		status_row(p, vm_get(vmc->name, 0), vmc->name, res);
	TAILQ_FOREACH(vm, &sv.vms, entry)
		if (config_find_vm(sv.conf, vm->name) == NULL)
			status_row(p, vm, vm->name, res);
	peer_send(p, CTL_STATUS_END, NULL, -1);
	p->closing = 1;
}

/*
 * Progress for waiting clients: sent on each phase change only, so an
 * idle supervisor has nothing to send.
 */
static void
peer_progress_due(int fd, short ev, void *arg)
{
	struct peer	*p = arg;

	if (p->state == PEER_WAITING && p->vm != NULL)
		vm_progress(p->vm, p);
}

static void
vm_progress(struct vm *vm, struct peer *p)
{
	struct ctl_progress	 pr;
	struct buf		 b;
	const struct policy	*pol = vm_policy(vm);
	long long		 now = now_ms();

	/*
	 * A VM that is ready at once (found running, answering) shows no
	 * progress at all: hold the first message back for a moment.
	 */
	if (now - p->t_start < PROGRESS_DELAY) {
		if (!evtimer_pending(&p->ev_timeout, NULL)) {
			evtimer_set(&p->ev_timeout, peer_progress_due, p);
			timer_ms(&p->ev_timeout, PROGRESS_DELAY -
			    (now - p->t_start));
		}
		return;
	}
	memset(&pr, 0, sizeof(pr));
	switch (vm->state) {
	case VM_STOPPED:
	case VM_CHECKING:
		pr.phase = PHASE_STATUS;
		strlcpy(pr.text, "checking the vm's state", sizeof(pr.text));
		pr.elapsed_ms = now - p->t_start;
		break;
	case VM_STARTING:
		pr.phase = PHASE_STARTING;
		strlcpy(pr.text, "starting the vm", sizeof(pr.text));
		pr.elapsed_ms = now - vm->t_boot;
		pr.deadline_ms = pol->boot_wait * 1000;
		break;
	case VM_BOOTING:
		pr.phase = PHASE_BOOTING;
		if (vm->probeaddr[0] != '\0')
			snprintf(pr.text, sizeof(pr.text),
			    "booting, waiting for %s", vm->probeaddr);
		else
			strlcpy(pr.text, "booting", sizeof(pr.text));
		pr.elapsed_ms = now - vm->t_boot;
		pr.deadline_ms = pol->boot_wait * 1000;
		break;
	case VM_STOPPING:
		pr.phase = PHASE_STOPPING;
		strlcpy(pr.text, "waiting for the vm to stop first",
		    sizeof(pr.text));
		pr.elapsed_ms = now - vm->t_phase;
		break;
	case VM_READY:
	case VM_IDLE:
		pr.phase = PHASE_CONNECTING;
		strlcpy(pr.text, "connecting", sizeof(pr.text));
		pr.elapsed_ms = now - p->t_start;
		break;
	}
	buf_init(&b);
	ctl_pack_progress(&b, &pr);
	peer_send(p, CTL_PROGRESS, &b, -1);
	buf_free(&b);
}

static void
vm_progress_all(struct vm *vm)
{
	struct peer	*p;

	TAILQ_FOREACH(p, &vm->peers, ventry)
		if (p->state == PEER_WAITING)
			vm_progress(vm, p);
}

static void
vm_fail_waiters(struct vm *vm, const char *fmt, ...)
{
	struct peer	*p, *tp;
	char		 msg[512];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	TAILQ_FOREACH_SAFE(p, &vm->peers, ventry, tp) {
		if (p->state != PEER_WAITING)
			continue;
		peer_error(p, "%s: %s", vm->name, msg);
	}
}

/*
 * Address of the guest, from the VM's rule.  -1 with err when it cannot
 * be known yet (no tap interface, no vm id).
 */
static int
vm_address(struct vm *vm, int port, struct sockaddr_storage *ss,
    socklen_t *sl, char *err, size_t errlen)
{
	const struct policy	*pol = vm_policy(vm);
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct in_addr		 in;

	memset(ss, 0, sizeof(*ss));
	switch (pol->addr) {
	case ADDR_TAP:
		if (address_tap(vm->name, pol->addr_if, &in, err,
		    errlen) == -1)
			return (-1);
		break;
	case ADDR_LOCAL:
	case ADDR_UNSET:
		if (!vm->has_id) {
			snprintf(err, errlen, "vm id not known yet");
			return (-1);
		}
		address_local(pol->addr_prefix, pol->addr_prefixlen, vm->id,
		    pol->addr_if, &in);
		break;
	case ADDR_FIXED:
		return (resolve_address(vm, pol->addr_host, port, ss, sl,
		    err, errlen));
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr = in;
	*sl = sizeof(*sin);
	return (0);
}

/*
 * Fixed addresses: a literal is used as is; a host name is resolved in a
 * child, since getaddrinfo blocks and the loop must not.  The answer is
 * kept for a few seconds, the probe asks again after that.
 */
#define RESOLVE_TTL	5000	/* ms */
#define RESOLVE_TIMEOUT	10	/* s */

static void
resolve_done(int fd, short ev, void *arg)
{
	struct vm	*vm = arg;
	struct {
		int			 error;
		socklen_t		 len;
		struct sockaddr_storage	 ss;
	} r;
	ssize_t		 n = -1;

	if (ev & EV_READ)
		n = read(fd, &r, sizeof(r));
	close(fd);
	vm->resfd = -1;
	if (vm->respid > 0)
		kill(vm->respid, SIGKILL);	/* reaped by job_reap */
	vm->respid = 0;
	if (n != (ssize_t)sizeof(r))
		snprintf(vm->reserr, sizeof(vm->reserr), "%s: %s",
		    vm_policy(vm)->addr_host, ev & EV_TIMEOUT ?
		    "lookup timed out" : "lookup failed");
	else if (r.error != 0)
		snprintf(vm->reserr, sizeof(vm->reserr), "%s: %s",
		    vm_policy(vm)->addr_host, gai_strerror(r.error));
	else {
		vm->reserr[0] = '\0';
		vm->resaddr = r.ss;
		vm->reslen = r.len;
	}
	vm->res_at = now_ms();
	if (vm->state == VM_BOOTING)
		vm_probe(-1, 0, vm);
	else if (vm->state == VM_READY) {
		struct peer	*p, *tp;

		TAILQ_FOREACH_SAFE(p, &vm->peers, ventry, tp)
			if (p->state == PEER_WAITING)
				peer_fastpath(p);
	}
}

int
resolve_address(struct vm *vm, const char *host, int port,
    struct sockaddr_storage *ss, socklen_t *sl, char *err, size_t errlen)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	struct addrinfo		 hints, *res;
	struct timeval		 tv;
	struct {
		int			 error;
		socklen_t		 len;
		struct sockaddr_storage	 ss;
	} r;
	int			 fds[2];

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*sl = sizeof(*sin);
		return (0);
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*sl = sizeof(*sin6);
		return (0);
	}
	if (vm->res_at != 0 && now_ms() - vm->res_at < RESOLVE_TTL) {
		if (vm->reserr[0] != '\0') {
			strlcpy(err, vm->reserr, errlen);
			return (-1);
		}
		memcpy(ss, &vm->resaddr, vm->reslen);
		*sl = vm->reslen;
		if (ss->ss_family == AF_INET)
			sin->sin_port = htons(port);
		else
			sin6->sin6_port = htons(port);
		return (0);
	}
	err[0] = '\0';		/* no error yet: the answer will call back */
	if (vm->respid > 0)
		return (-1);
	if (pipe(fds) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return (-1);
	}
	switch (vm->respid = fork()) {
	case -1:
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		vm->respid = 0;
		return (-1);
	case 0:
		/* All this child does: resolve, write the answer. */
		osdep_pledge("stdio dns", NULL);
		close(fds[0]);
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		memset(&r, 0, sizeof(r));
		if ((r.error = getaddrinfo(host, NULL, &hints, &res)) == 0) {
			memcpy(&r.ss, res->ai_addr, res->ai_addrlen);
			r.len = res->ai_addrlen;
		}
		if (write(fds[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	vm->resfd = fds[0];
	event_set(&vm->ev_res, fds[0], EV_READ, resolve_done, vm);
	tv.tv_sec = RESOLVE_TIMEOUT;
	tv.tv_usec = 0;
	event_add(&vm->ev_res, &tv);
	return (-1);
}

/*
 * State machine.
 */

/* Ask vmctl what state the VM is in, then act on the answer. */
void
vm_check(struct vm *vm)
{
	if (vm->job != NULL)
		return;
	vm_set_state(vm, VM_CHECKING);
	vm_progress_all(vm);
	log_debug("vm %s: asking %s for its state", vm->name,
	    vm_backend(vm));
	if ((vm->job = vmctl_status(sv.conf, vm->name, vm_check_done,
	    vm)) == NULL) {
		vm_fail_waiters(vm, "could not run %s", vm_backend(vm));
		vm_set_state(vm, VM_STOPPED);
	}
}

static void
vm_check_done(const struct vmctl_result *res, void *arg)
{
	struct vm	*vm = arg;

	vm->job = NULL;
	if (!res->ok) {
		log_warnx("vm %s: %s status failed: %s", vm->name,
		    vm_backend(vm), res->msg);
		vm_fail_waiters(vm, "%s", res->msg);
		vm_set_state(vm, vm->started ? VM_READY : VM_STOPPED);
		goto done;
	}
	if (res->row == NULL) {
		log_warnx("vm %s: %s status does not list it", vm->name,
		    vm_backend(vm));
		vm_fail_waiters(vm, "vmctl status does not list this vm");
		autostart_vm_stopped(vm);
		vm_set_state(vm, VM_STOPPED);
		if (vm->started) {
			vm->started = 0;
			state_save();
		}
		goto done;
	}
	vm->vmd = res->row->state;
	if (res->row->has_id) {
		vm->id = res->row->id;
		vm->has_id = 1;
	}
	switch (res->row->state) {
	case VMD_RUNNING:
		if (vm_waiters(vm) == 0) {
			vm_set_state(vm, VM_READY);
			vm_session_closed(vm);
			break;
		}
		log_info("vm %s: found running%s, waiting for its guest",
		    vm->name, vm->started ? "" :
		    " (not started by vmlaunch, it will not be stopped)");
		if (vm->conf != NULL && !TAILQ_EMPTY(&vm->conf->autostarts) &&
		    TAILQ_EMPTY(&vm->apps))
			log_info("vm %s: not booted by vmlaunch, its autostart "
			    "apps are not started", vm->name);
		vm_boot(vm);
		break;
	case VMD_STOPPED:
		if (vm->started) {
			log_info("vm %s: stopped behind vmlaunch's back",
			    vm->name);
			vm->started = 0;
			state_save();
		}
		autostart_vm_stopped(vm);
		vm->booted_here = 0;
		if (vm_waiters(vm) == 0) {
			vm_set_state(vm, VM_STOPPED);
			break;
		}
		vm_start(vm);
		break;
	case VMD_STOPPING:
		log_info("vm %s: is stopping, waiting before starting it "
		    "again", vm->name);
		vm_set_state(vm, VM_STOPPING);
		vm->stopforced = 1;	/* not ours to force */
		vm->t_stop = now_ms();
		vm_progress_all(vm);
		timer_ms(&vm->ev_stoppoll, STOP_POLL_INTERVAL);
		break;
	default:
		log_warnx("vm %s: is %s, not starting it", vm->name,
		    vmd_state_name(res->row->state));
		vm_fail_waiters(vm, "vm is %s", vmd_state_name(res->row->state));
		vm_set_state(vm, VM_STOPPED);
		break;
	}
 done:
	supervisor_check_exit();
}

static void
vm_start(struct vm *vm)
{
	vm_set_state(vm, VM_STARTING);
	vm->t_boot = now_ms();
	vm->has_id = 0;
	vm_progress_all(vm);
	log_info("vm %s: starting it for %d waiting session%s", vm->name,
	    vm_waiters(vm), vm_waiters(vm) == 1 ? "" : "s");
	if ((vm->job = vmctl_start(sv.conf, vm->name, vm_start_done,
	    vm)) == NULL) {
		vm_fail_waiters(vm, "could not run %s", vm_backend(vm));
		vm_set_state(vm, VM_STOPPED);
	}
}

static void
vm_start_done(const struct vmctl_result *res, void *arg)
{
	struct vm	*vm = arg;

	vm->job = NULL;
	if (!res->ok) {
		log_warnx("vm %s: start failed: %s", vm->name, res->msg);
		vm_fail_waiters(vm, "%s", res->msg);
		vm_set_state(vm, VM_STOPPED);
		supervisor_check_exit();
		return;
	}
	log_info("vm %s: started (%s)", vm->name, res->msg);
	vm->started = 1;
	vm->booted_here = 1;
	state_save();
	vm_boot(vm);
	/* The vm id (address local, state file) comes from status. */
	timer_ms(&vm->ev_watch, 0);
}

/* Wait for the guest: probe its port and watch vmctl status. */
static void
vm_boot(struct vm *vm)
{
	const struct policy	*pol = vm_policy(vm);

	if (vm->state != VM_STARTING)
		vm->t_boot = now_ms();
	vm_set_state(vm, VM_BOOTING);
	vm->backoff = PROBE_BACKOFF_MIN;
	vm->probeaddr[0] = '\0';
	vm->probeerr[0] = '\0';
	timer_s(&vm->ev_deadline, pol->boot_wait -
	    (now_ms() - vm->t_boot) / 1000);
	if (!evtimer_pending(&vm->ev_watch, NULL))
		timer_ms(&vm->ev_watch, WATCH_INTERVAL);
	/* The first probe reports the address when it knows it. */
	vm_probe(-1, 0, vm);
	if (vm->probeaddr[0] == '\0')
		vm_progress_all(vm);
}

static int
vm_probe_port(struct vm *vm)
{
	struct peer	*p;

	if (vm_policy(vm)->port)
		return (vm_policy(vm)->port);
	TAILQ_FOREACH(p, &vm->peers, ventry)
		if (p->state == PEER_WAITING)
			return (p->port);
	return (22);
}

static void
vm_probe_close(struct vm *vm)
{
	if (vm->probefd != -1) {
		event_del(&vm->ev_probeio);
		close(vm->probefd);
		vm->probefd = -1;
	}
}

static void
vm_probe_retry(struct vm *vm)
{
	vm_probe_close(vm);
	timer_ms(&vm->ev_probe, vm->backoff);
	vm->backoff = vm->backoff * 3 / 2;
	if (vm->backoff > PROBE_BACKOFF_MAX)
		vm->backoff = PROBE_BACKOFF_MAX;
}

static void
vm_probe_fail(struct vm *vm, const char *why)
{
	if (strcmp(vm->probeerr, why) != 0) {
		log_debug("vm %s: probe: %s", vm->name, why);
		strlcpy(vm->probeerr, why, sizeof(vm->probeerr));
	}
	vm_probe_retry(vm);
}

static void
vm_probe(int fd, short ev, void *arg)
{
	struct vm		*vm = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	struct timeval		 tv;
	char			 err[256], host[NI_MAXHOST], serv[NI_MAXSERV];
	int			 s, port = vm_probe_port(vm);

	if (vm->state != VM_BOOTING)
		return;
	if (vm_address(vm, port, &ss, &sl, err, sizeof(err)) == -1) {
		if (err[0] != '\0')
			vm_probe_fail(vm, err);
		return;		/* a resolver will call us back */
	}
	if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host),
	    serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
		char	 a[sizeof(vm->probeaddr)];

		snprintf(a, sizeof(a), ss.ss_family == AF_INET6 ?
		    "[%s]:%s" : "%s:%s", host, serv);
		if (strcmp(a, vm->probeaddr) != 0) {
			strlcpy(vm->probeaddr, a, sizeof(vm->probeaddr));
			vm_progress_all(vm);
		}
	}
	if ((s = socket(ss.ss_family, SOCK_STREAM, 0)) == -1) {
		vm_probe_fail(vm, strerror(errno));
		return;
	}
	if (fcntl(s, F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(s, F_SETFD, FD_CLOEXEC) == -1) {
		close(s);
		vm_probe_fail(vm, strerror(errno));
		return;
	}
	vm->probefd = s;
	vm->probe_connected = 0;
	if (connect(s, (struct sockaddr *)&ss, sl) == -1 &&
	    errno != EINPROGRESS) {
		vm_probe_fail(vm, strerror(errno));
		return;
	}
	event_set(&vm->ev_probeio, s, EV_WRITE, vm_probe_io, vm);
	tv.tv_sec = PROBE_CONNECT_TIMEOUT / 1000;
	tv.tv_usec = (PROBE_CONNECT_TIMEOUT % 1000) * 1000;
	event_add(&vm->ev_probeio, &tv);
}

/* The probe connected, or data (the banner, we hope) arrived. */
static void
vm_probe_io(int fd, short ev, void *arg)
{
	struct vm	*vm = arg;
	char		 banner[256];
	int		 error = 0;
	socklen_t	 len = sizeof(error);
	ssize_t		 n;

	if (ev & EV_TIMEOUT) {
		vm_probe_fail(vm, vm->probe_connected ?
		    "connected, no banner yet" : "connect timed out");
		return;
	}
	if (!vm->probe_connected) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
			error = errno;
		if (error != 0) {
			vm_probe_fail(vm, strerror(error));
			return;
		}
		vm->probe_connected = 1;
		/*
		 * A port that accepts is not a guest that is ready (QEMU's
		 * user networking accepts before the guest listens): wait
		 * for the banner, as long as the boot wait allows.
		 */
		event_set(&vm->ev_probeio, fd, EV_READ, vm_probe_io, vm);
		event_add(&vm->ev_probeio, NULL);
		return;
	}
	/* Peek, so the banner stays in the socket for ssh to read. */
	n = recv(fd, banner, sizeof(banner) - 1, MSG_PEEK);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR) {
			event_add(&vm->ev_probeio, NULL);
			return;
		}
		vm_probe_fail(vm, strerror(errno));
		return;
	}
	if (n == 0) {
		vm_probe_fail(vm, "connection closed before the banner");
		return;
	}
	banner[n] = '\0';
	if (n < 4 && strncmp(banner, "SSH-", n) == 0) {
		/* Part of a banner: wait for the rest. */
		event_add(&vm->ev_probeio, NULL);
		return;
	}
	if (strncmp(banner, "SSH-", 4) != 0 && strstr(banner, "\nSSH-") ==
	    NULL) {
		if ((size_t)n < sizeof(banner) - 1 && memchr(banner, '\n',
		    n) == NULL) {
			event_add(&vm->ev_probeio, NULL);
			return;
		}
		vm_probe_fail(vm, "not an ssh banner");
		return;
	}
	event_del(&vm->ev_probeio);
	vm->probefd = -1;
	fcntl(fd, F_SETFL, 0);
	vm_ready(vm, fd);
}

static void
vm_boot_deadline(int fd, short ev, void *arg)
{
	struct vm		*vm = arg;
	const struct policy	*pol = vm_policy(vm);
	char			 d[32];

	if (vm->state != VM_BOOTING)
		return;
	print_duration(pol->boot_wait, d, sizeof(d));
	vm_probe_close(vm);
	evtimer_del(&vm->ev_probe);
	evtimer_del(&vm->ev_watch);
	if (vm->probeaddr[0] != '\0') {
		log_warnx("vm %s: guest %s did not answer within %s (%s)",
		    vm->name, vm->probeaddr, d, vm->probeerr);
		vm_fail_waiters(vm, "guest %s did not answer within %s",
		    vm->probeaddr, d);
	} else {
		log_warnx("vm %s: no guest address within %s: %s",
		    vm->name, d, vm->probeerr);
		vm_fail_waiters(vm, "no guest address within %s: %s", d,
		    vm->probeerr);
	}
	if (vm->started && vm->booted_here)
		vm_stop(vm, "its guest never answered");
	else {
		vm_set_state(vm, VM_STOPPED);
		supervisor_check_exit();
	}
}

/* While booting: is the VM still there? */
static void
vm_watch(int fd, short ev, void *arg)
{
	struct vm	*vm = arg;

	if (vm->state != VM_BOOTING && vm->state != VM_STARTING)
		return;
	if (vm->watchjob != NULL)
		return;
	vm->watchjob = vmctl_status(sv.conf, vm->name, vm_watch_done, vm);
	if (vm->watchjob == NULL)
		timer_ms(&vm->ev_watch, WATCH_INTERVAL);
}

static void
vm_watch_done(const struct vmctl_result *res, void *arg)
{
	struct vm	*vm = arg;

	vm->watchjob = NULL;
	if (vm->state != VM_BOOTING && vm->state != VM_STARTING)
		return;
	if (!res->ok) {
		log_debug("vm %s: %s status while booting: %s", vm->name,
		    vm_backend(vm),
		    res->msg);
		goto again;
	}
	if (res->row != NULL && res->row->has_id) {
		if (!vm->has_id || vm->id != res->row->id) {
			vm->id = res->row->id;
			vm->has_id = 1;
			if (vm->started)
				state_save();
		}
	}
	if (res->row != NULL && res->row->state == VMD_RUNNING)
		goto again;
	if (res->row == NULL && now_ms() - vm->t_boot < ABSENT_GRACE)
		goto again;
	if (vm->state == VM_STARTING)
		goto again;
	vm_probe_close(vm);
	evtimer_del(&vm->ev_probe);
	evtimer_del(&vm->ev_deadline);
	log_warnx("vm %s: %s while booting", vm->name, res->row == NULL ?
	    "disappeared from vmctl status" : vmd_state_name(res->row->state));
	vm_fail_waiters(vm, "vm %s while booting", res->row == NULL ?
	    "disappeared" : vmd_state_name(res->row->state));
	if (res->row != NULL && res->row->state == VMD_STOPPING) {
		vm_set_state(vm, VM_STOPPING);
		vm->t_stop = now_ms();
		vm->stopforced = 1;
		timer_ms(&vm->ev_stoppoll, STOP_POLL_INTERVAL);
		return;
	}
	vm_stopped(vm);
	return;
 again:
	timer_ms(&vm->ev_watch, WATCH_INTERVAL);
}

/* The guest answered with its banner on s. */
static void
vm_ready(struct vm *vm, int s)
{
	struct peer	*p, *tp;
	int		 port = vm_probe_port(vm), first = vm->booted_here;

	evtimer_del(&vm->ev_deadline);
	evtimer_del(&vm->ev_watch);
	evtimer_del(&vm->ev_probe);
	vm_set_state(vm, VM_READY);
	log_info("vm %s: guest %s ready after %.1fs", vm->name,
	    vm->probeaddr, (now_ms() - vm->t_boot) / 1000.0);
	TAILQ_FOREACH_SAFE(p, &vm->peers, ventry, tp) {
		if (p->state != PEER_WAITING)
			continue;
		if (s != -1 && p->port == port) {
			peer_ready(p, s);
			s = -1;
		} else
			peer_fastpath(p);
	}
	if (s != -1)
		close(s);
	if (first) {
		vm->booted_here = 0;
		autostart_vm_ready(vm);
	}
	vm_session_closed(vm);
	supervisor_check_exit();
}

static void
vm_idle(int fd, short ev, void *arg)
{
	struct vm	*vm = arg;
	char		 d[32];

	if (vm->state != VM_IDLE || vm_inuse(vm))
		return;
	print_duration(vm_policy(vm)->idle_timeout, d, sizeof(d));
	if (!vm->started) {
		vm_set_state(vm, VM_READY);
		return;
	}
	snprintf(vm->stopwhy, sizeof(vm->stopwhy), "no session for %s", d);
	vm_stop(vm, vm->stopwhy);
}

/* Stop a VM we started: graceful, verified, forced after stop wait. */
static void
vm_stop(struct vm *vm, const char *why)
{
	const struct policy	*pol = vm_policy(vm);

	if (vm->state == VM_STOPPING)
		return;
	evtimer_del(&vm->ev_idle);
	log_info("vm %s: stopping it: %s", vm->name, why);
	autostart_vm_stopping(vm);
	vm_set_state(vm, VM_STOPPING);
	vm->t_stop = now_ms();
	vm->stopforced = 0;
	if (vm->job != NULL)
		job_cancel(vm->job);
	vm->job = vmctl_stop(sv.conf, vm->name, 0, vm_stop_done, vm);
	timer_s(&vm->ev_stopforce, pol->stop_wait);
	if (vm->job == NULL)
		timer_ms(&vm->ev_stoppoll, STOP_POLL_INTERVAL);
}

static void
vm_stop_done(const struct vmctl_result *res, void *arg)
{
	struct vm	*vm = arg;

	vm->job = NULL;
	if (!res->ok)
		log_warnx("vm %s: %s stop: %s", vm->name, vm_backend(vm),
		    res->msg);
	else
		log_debug("vm %s: %s stop: %s", vm->name, vm_backend(vm),
		    res->msg);
	/* Whatever it said, status tells whether it stopped. */
	timer_ms(&vm->ev_stoppoll, res->ok ? STOP_POLL_INTERVAL / 5 : 0);
}

static void
vm_stop_poll(int fd, short ev, void *arg)
{
	struct vm	*vm = arg;

	if (vm->state != VM_STOPPING || vm->job != NULL)
		return;
	if ((vm->job = vmctl_status(sv.conf, vm->name, vm_stop_poll_done,
	    vm)) == NULL)
		timer_ms(&vm->ev_stoppoll, STOP_POLL_INTERVAL);
}

static void
vm_stop_poll_done(const struct vmctl_result *res, void *arg)
{
	struct vm		*vm = arg;
	const struct policy	*pol = vm_policy(vm);

	vm->job = NULL;
	if (vm->state != VM_STOPPING)
		return;
	if (res->ok && (res->row == NULL || res->row->state == VMD_STOPPED)) {
		evtimer_del(&vm->ev_stopforce);
		log_info("vm %s: stopped after %.1fs%s", vm->name,
		    (now_ms() - vm->t_stop) / 1000.0,
		    vm->stopforced == 2 ? " (forced)" : "");
		vm_stopped(vm);
		return;
	}
	if (!res->ok)
		log_warnx("vm %s: %s status while stopping: %s", vm->name,
		    vm_backend(vm),
		    res->msg);
	else if (res->row->state == VMD_RUNNING && vm->stopforced == 1 &&
	    !vm->started) {
		/* Someone else's stop finished with the VM running again. */
		log_info("vm %s: running again", vm->name);
		vm->stopforced = 0;
		if (vm_waiters(vm) > 0)
			vm_boot(vm);
		else {
			vm_set_state(vm, VM_READY);
			vm_session_closed(vm);
		}
		return;
	}
	if (vm->stopforced == 2 &&
	    now_ms() - vm->t_force > pol->stop_wait * 1000) {
		log_warnx("vm %s: still %s after a forced stop; giving up "
		    "for now", vm->name, res->ok ?
		    vmd_state_name(res->row->state) : "unknown");
		vm_fail_waiters(vm, "vm did not stop");
		vm_set_state(vm, VM_IDLE);
		vm->idle_at = now_ms() + pol->stop_wait * 1000;
		timer_s(&vm->ev_idle, pol->stop_wait);
		return;
	}
	timer_ms(&vm->ev_stoppoll, STOP_POLL_INTERVAL);
}

static void
vm_stop_force(int fd, short ev, void *arg)
{
	struct vm	*vm = arg;
	char		 d[32];

	if (vm->state != VM_STOPPING || vm->stopforced)
		return;
	print_duration(vm_policy(vm)->stop_wait, d, sizeof(d));
	log_warnx("vm %s: still running %s after the stop request, "
	    "forcing it", vm->name, d);
	vm->stopforced = 2;
	vm->t_force = now_ms();
	if (vm->job != NULL)
		job_cancel(vm->job);
	vm->job = vmctl_stop(sv.conf, vm->name, 1, vm_stop_done, vm);
	if (vm->job == NULL)
		timer_ms(&vm->ev_stoppoll, STOP_POLL_INTERVAL);
}

static void
vm_stopped(struct vm *vm)
{
	evtimer_del(&vm->ev_stoppoll);
	evtimer_del(&vm->ev_stopforce);
	autostart_vm_stopped(vm);
	if (vm->started) {
		vm->started = 0;
		state_save();
	}
	vm->has_id = 0;
	vm->display[0] = '\0';
	vm->xauthority[0] = '\0';
	vm_set_state(vm, VM_STOPPED);
	if (vm_waiters(vm) > 0 && !sv.shutdown) {
		log_info("vm %s: sessions are waiting, starting it again",
		    vm->name);
		vm_check(vm);
		return;
	}
	vm_gc();
	supervisor_check_exit();
}

/*
 * State file: the VMs this supervisor started, so that a successor adopts
 * them and stops them when idle, and never stops anything else.
 */
static char *
state_path(void)
{
	char	*dir, *path;

	if ((dir = config_dir_path(sv.conf)) == NULL)
		return (NULL);
	if (asprintf(&path, "%s/%s", dir, VMLAUNCH_STATE) == -1)
		path = NULL;
	free(dir);
	return (path);
}

static void
state_save(void)
{
	struct vm	*vm;
	char		*path = NULL, *tmp = NULL;
	FILE		*fp = NULL;
	int		 fd = -1;

	if ((path = state_path()) == NULL ||
	    asprintf(&tmp, "%s.XXXXXX", path) == -1) {
		log_warnx("state file: out of memory");
		tmp = NULL;
		goto done;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		log_warn("state file: %s", tmp);
		goto done;
	}
	if ((fp = fdopen(fd, "w")) == NULL) {
		log_warn("state file: %s", tmp);
		close(fd);
		unlink(tmp);
		goto done;
	}
	fprintf(fp, "# vmlaunch state: the vms this supervisor started\n");
	fprintf(fp, "version %d\n", STATE_VERSION);
	TAILQ_FOREACH(vm, &sv.vms, entry) {
		if (!vm->started)
			continue;
		if (vm->has_id)
			fprintf(fp, "started %s %u\n", vm->name, vm->id);
		else
			fprintf(fp, "started %s -\n", vm->name);
	}
	if (fflush(fp) == EOF || ferror(fp) || fsync(fileno(fp)) == -1) {
		log_warn("state file: writing %s", tmp);
		fclose(fp);
		unlink(tmp);
		goto done;
	}
	if (fclose(fp) == EOF) {
		log_warn("state file: writing %s", tmp);
		unlink(tmp);
		goto done;
	}
	if (rename(tmp, path) == -1) {
		log_warn("state file: rename to %s", path);
		unlink(tmp);
	}
 done:
	free(tmp);
	free(path);
}

static void
state_load(void)
{
	char		*path, *line = NULL, name[VM_NAME_MAX + 1], idbuf[16];
	const char	*errstr;
	size_t		 sz = 0;
	ssize_t		 len;
	FILE		*fp;
	struct stat	 st;
	struct vm	*vm;
	int		 lineno = 0, version = 0, bad = 0;

	if ((path = state_path()) == NULL)
		return;
	if ((fp = fopen(path, "r")) == NULL) {
		if (errno != ENOENT)
			log_warn("state file %s, adopting nothing", path);
		free(path);
		return;
	}
	if (fstat(fileno(fp), &st) == -1) {
		log_warn("state file %s", path);
		goto out;
	}
	if (st.st_uid != getuid()) {
		log_warnx("state file %s: owned by uid %u, not by us; "
		    "ignored, adopting nothing", path, (unsigned)st.st_uid);
		goto out;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		log_warnx("state file %s: writable by %s; ignored, adopting "
		    "nothing", path, st.st_mode & S_IWGRP ? "group" : "others");
		goto out;
	}
	while ((len = getline(&line, &sz, fp)) != -1) {
		lineno++;
		if ((size_t)len != strlen(line)) {
			log_warnx("state file %s:%d: NUL byte; ignored, "
			    "adopting nothing", path, lineno);
			goto out_forget;
		}
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (version == 0) {
			if (sscanf(line, "version %d", &version) != 1 ||
			    version != STATE_VERSION) {
				log_warnx("state file %s:%d: not a version %d "
				    "state file; ignored, adopting nothing",
				    path, lineno, STATE_VERSION);
				goto out_forget;
			}
			continue;
		}
		if (sscanf(line, "started %64s %15s", name, idbuf) != 2 ||
		    !config_vm_name_valid(name)) {
			log_warnx("state file %s:%d: malformed line ignored",
			    path, lineno);
			bad = 1;
			continue;
		}
		vm = vm_get(name, 1);
		vm->adopt = 1;
		vm->adopt_has_id = 0;
		if (strcmp(idbuf, "-") != 0) {
			vm->adopt_id = strtonum(idbuf, 0, UINT_MAX, &errstr);
			if (errstr != NULL) {
				log_warnx("state file %s:%d: bad vm id, "
				    "ignored", path, lineno);
				vm->adopt = 0;
				bad = 1;
				continue;
			}
			vm->adopt_has_id = 1;
		}
	}
	if (version == 0 && lineno > 0)
		log_warnx("state file %s: no version line; ignored, adopting "
		    "nothing", path);
	if (version == 0)
		goto out_forget;
	if (bad)
		log_warnx("state file %s: some lines were ignored", path);
	goto out;
 out_forget:
	TAILQ_FOREACH(vm, &sv.vms, entry)
		vm->adopt = 0;
 out:
	free(line);
	fclose(fp);
	free(path);
}

/* Check each VM the state file names, and adopt it if it still runs. */
static void
state_adopt(void)
{
	struct vm	*vm;

	TAILQ_FOREACH(vm, &sv.vms, entry) {
		if (!vm->adopt)
			continue;
		if ((vm->job = vmctl_status(sv.conf, vm->name, vm_adopt_done,
		    vm)) == NULL)
			vm->adopt = 0;
	}
}

static void
vm_adopt_done(const struct vmctl_result *res, void *arg)
{
	struct vm	*vm = arg;

	vm->job = NULL;
	vm->adopt = 0;
	if (!res->ok) {
		log_warnx("vm %s: cannot check it for adoption: %s; not "
		    "adopted", vm->name, res->msg);
	} else if (res->row == NULL || res->row->state == VMD_STOPPED) {
		log_info("vm %s: started by a previous supervisor, no "
		    "longer running", vm->name);
	} else if (vm->adopt_has_id && res->row->has_id &&
	    res->row->id != vm->adopt_id) {
		log_warnx("vm %s: running with id %u, not the id %u a "
		    "previous supervisor started; not adopted, it will not "
		    "be stopped", vm->name, res->row->id, vm->adopt_id);
	} else if (!vm->adopt_has_id) {
		log_warnx("vm %s: its id was never recorded, so it cannot be "
		    "proved to be the one a previous supervisor started; "
		    "not adopted", vm->name);
	} else if (res->row->state != VMD_RUNNING) {
		log_warnx("vm %s: is %s; not adopted", vm->name,
		    vmd_state_name(res->row->state));
	} else {
		vm->started = 1;
		vm->id = res->row->id;
		vm->has_id = 1;
		log_info("vm %s: adopted from a previous supervisor (id %u)",
		    vm->name, vm->id);
		if (vm->state == VM_STOPPED || vm->state == VM_CHECKING) {
			if (vm_waiters(vm) > 0)
				vm_boot(vm);
			else {
				vm_set_state(vm, VM_READY);
				vm_session_closed(vm);
			}
		}
	}
	if (vm->state == VM_STOPPED && vm_waiters(vm) > 0)
		vm_check(vm);
	state_save();
	supervisor_check_exit();
}

/*
 * Signals: one callback.
 */
static void
supervisor_signal(int sig, short ev, void *arg)
{
	switch (sig) {
	case SIGHUP:
		log_info("SIGHUP: reloading %s", sv.conf->file);
		supervisor_reload();
		break;
	case SIGTERM:
	case SIGINT:
		log_info("%s: stopping the vms vmlaunch started, then exiting",
		    sig == SIGTERM ? "SIGTERM" : "SIGINT");
		supervisor_shutdown();
		break;
	case SIGCHLD:
		job_reap();
		break;
	}
}

/*
 * The config file as last read, to notice an edit: a client that parsed
 * the new file must not be refused by a supervisor that still has the
 * old one.  Included files are not watched; SIGHUP rereads everything.
 */
static void
supervisor_conf_stamp(struct stat *st)
{
	if (stat(sv.conf->file, st) == -1)
		memset(st, 0, sizeof(*st));
}

static int
supervisor_conf_changed(void)
{
	struct stat	 st;

	supervisor_conf_stamp(&st);
	return (st.st_ino != sv.conf_st.st_ino ||
	    st.st_dev != sv.conf_st.st_dev ||
	    st.st_size != sv.conf_st.st_size ||
	    st.st_mtim.tv_sec != sv.conf_st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != sv.conf_st.st_mtim.tv_nsec);
}

/* Two phases: parse into a new config; swap only if it is clean. */
static void
supervisor_reload(void)
{
	struct config	*nconf, *oconf = sv.conf;
	struct vm	*vm;
	char		*osock, *nsock;

	supervisor_conf_stamp(&sv.conf_st);
	if ((nconf = parse_config(oconf->file)) == NULL) {
		log_warnx("reload: %s has errors, keeping the old "
		    "configuration", oconf->file);
		return;
	}
	osock = config_socket_path(oconf);
	nsock = config_socket_path(nconf);
	if (osock != NULL && nsock != NULL && strcmp(osock, nsock) != 0)
		log_warnx("reload: the control socket cannot change while "
		    "running; still %s", osock);
	free(osock);
	free(nsock);
	sv.conf = nconf;
	TAILQ_FOREACH(vm, &sv.vms, entry) {
		vm->conf = config_find_vm(nconf, vm->name);
		if (vm->conf == NULL)
			log_info("reload: vm %s removed from the "
			    "configuration; managed until it stops, no new "
			    "sessions", vm->name);
		vm_copy_policy(vm);
	}
	autostart_reload();
	config_free(oconf);
	log_info("reload: configuration from %s in effect", nconf->file);
	vm_gc();
}

static void
supervisor_shutdown(void)
{
	struct vm	*vm;
	struct peer	*p, *tp;

	if (sv.shutdown++) {
		log_info("already shutting down");
		return;
	}
	event_del(&sv.ev_accept);
	if (sv.sockpath != NULL)
		unlink(sv.sockpath);
	TAILQ_FOREACH_SAFE(p, &sv.peers, entry, tp)
		if (p->state == PEER_WAITING || p->state == PEER_NEW ||
		    p->state == PEER_CONNECTING)
			peer_error(p, "%s: the supervisor is shutting down",
			    p->vm != NULL ? p->vm->name : p->req.host[0] ?
			    p->req.host : "vmlaunch");
	autostart_shutdown();
	TAILQ_FOREACH(vm, &sv.vms, entry) {
		evtimer_del(&vm->ev_idle);
		evtimer_del(&vm->ev_deadline);
		evtimer_del(&vm->ev_probe);
		evtimer_del(&vm->ev_watch);
		vm_probe_close(vm);
		if (vm->watchjob != NULL) {
			job_cancel(vm->watchjob);
			vm->watchjob = NULL;
		}
		if (vm->started && vm->state != VM_STOPPING) {
			if (vm->job != NULL) {
				job_cancel(vm->job);
				vm->job = NULL;
			}
			vm_stop(vm, "the supervisor is shutting down");
		} else if (!vm->started && vm->state != VM_STOPPING) {
			if (vm->job != NULL) {
				job_cancel(vm->job);
				vm->job = NULL;
			}
			vm_set_state(vm, VM_STOPPED);
		}
	}
	supervisor_check_exit();
}

/* Does a supervisor accept connections on our control socket? */
static int
supervisor_answers(void)
{
	struct sockaddr_un	 sun;
	int			 s, ok;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, sv.sockpath, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return (0);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (0);
	ok = connect(s, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(s);
	return (ok);
}

static int
supervisor_lock(void)
{
	char	*dir, *path;
	int	 fd, i;

	if ((dir = config_dir_path(sv.conf)) == NULL)
		fatalx("no directory for the control socket");
	if (asprintf(&path, "%s/%s", dir, VMLAUNCH_LOCK) == -1)
		fatal("asprintf");
	free(dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		log_warn("%s", path);
		free(path);
		return (-1);
	}
	/*
	 * The lock is held by a supervisor that runs (give way at once: the
	 * client that started us is waiting to connect to it) or by one
	 * that is exiting (wait for it rather than give up).
	 */
	for (i = 0; i < LOCK_WAIT / LOCK_INTERVAL; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			free(path);
			return (fd);
		}
		if (errno != EWOULDBLOCK) {
			log_warn("lock %s", path);
			break;
		}
		if (supervisor_answers()) {
			if (sv.foreground)
				log_warnx("a supervisor already runs on %s",
				    sv.sockpath);
			else
				log_debug("another supervisor answers on %s",
				    sv.sockpath);
			break;
		}
		usleep(LOCK_INTERVAL * 1000);
	}
	if (i == LOCK_WAIT / LOCK_INTERVAL)
		log_warnx("another supervisor holds %s", path);
	close(fd);
	free(path);
	return (-1);
}

/* The directory must be ours and private; create it if missing. */
int
supervisor_check_dir(const char *dir)
{
	struct stat	 st;

	if (lstat(dir, &st) == -1) {
		if (errno != ENOENT) {
			log_warn("%s", dir);
			return (-1);
		}
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			log_warn("mkdir %s", dir);
			return (-1);
		}
		if (lstat(dir, &st) == -1) {
			log_warn("%s", dir);
			return (-1);
		}
	}
	if (!S_ISDIR(st.st_mode)) {
		log_warnx("%s: not a directory", dir);
		return (-1);
	}
	if (st.st_uid != getuid()) {
		log_warnx("%s: owned by uid %u, not by us", dir,
		    (unsigned)st.st_uid);
		return (-1);
	}
	if ((st.st_mode & 07777) != 0700) {
		log_warnx("%s: mode %04o, must be 0700", dir,
		    (unsigned)(st.st_mode & 07777));
		return (-1);
	}
	return (0);
}

static int
supervisor_listen(void)
{
	struct sockaddr_un	 sun;
	mode_t			 omask;
	int			 s;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, sv.sockpath, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		log_warnx("%s: socket path too long", sv.sockpath);
		return (-1);
	}
	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) == -1) {
		log_warn("socket");
		return (-1);
	}
	/* We hold the lock: a socket file left here is stale. */
	if (unlink(sv.sockpath) == -1 && errno != ENOENT) {
		log_warn("unlink %s", sv.sockpath);
		close(s);
		return (-1);
	}
	omask = umask(0177);
	if (bind(s, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("bind %s", sv.sockpath);
		umask(omask);
		close(s);
		return (-1);
	}
	umask(omask);
	if (chmod(sv.sockpath, 0600) == -1 || listen(s, 128) == -1 ||
	    fcntl(s, F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(s, F_SETFD, FD_CLOEXEC) == -1) {
		log_warn("%s", sv.sockpath);
		close(s);
		return (-1);
	}
	return (s);
}

/*
 * Run the supervisor.  readyfd, when not -1, gets one byte once the
 * control socket listens (the client that started us waits for it).
 */
int
supervisor_main(struct config *conf, int foreground, int readyfd)
{
	struct event	 ev_hup, ev_term, ev_int, ev_chld;
	char		*dir;
	int		 lockfd;

	memset(&sv, 0, sizeof(sv));
	sv.conf = conf;
	sv.foreground = foreground;
	TAILQ_INIT(&sv.vms);
	TAILQ_INIT(&sv.peers);
	signal(SIGPIPE, SIG_IGN);

	if ((dir = config_dir_path(conf)) == NULL ||
	    (sv.sockpath = config_socket_path(conf)) == NULL)
		fatalx("cannot tell where the control socket goes");
	if (supervisor_check_dir(dir) == -1) {
		log_warnx("refusing to run with an unsafe socket directory");
		free(dir);
		return (1);
	}
	/* In the background, hold no directory busy. */
	if (!foreground && dir[0] == '/' && sv.sockpath[0] == '/' &&
	    conf->file[0] == '/' && chdir("/") == -1)
		log_warn("chdir /");
	free(dir);
	if ((lockfd = supervisor_lock()) == -1)
		return (1);
	if ((sv.listenfd = supervisor_listen()) == -1)
		return (1);

	/*
	 * From here on, by promise (sandbox.c says what is unveiled):
	 * rpath	fopen and stat of the config and its includes (reload,
	 *		edit check); fopen of the state file; rename
	 * wpath cpath	the state file: mkstemp, rename, unlink of a failed
	 *		temporary; unlink of the socket at exit
	 * unix		accept on the control socket; the peer's uid
	 *		(getpeereid, the SO_PEERCRED socket option)
	 * sendfd	sendmsg of the guest socket to its client (SCM_RIGHTS)
	 * inet		socket and connect to probe and reach guests; the
	 *		AF_INET socket for SIOCGIFDESCR; getifaddrs' sysctl
	 * route	ioctl SIOCGIFDESCR, the tap's description (address tap)
	 * dns		getaddrinfo of fixed host names, in a child
	 * getpw	getpwuid for the socket's directory when HOME is unset
	 * proc exec	fork and execvp of vmctl, backend commands and ssh;
	 *		setpgid, kill and killpg of their process groups
	 * The chmod of the socket (fattr) and the lock (flock) are done.
	 * No execpromises: vmctl and ssh run unrestricted.
	 */
	sandbox_supervisor(conf);
	osdep_pledge("stdio rpath wpath cpath unix sendfd inet route dns "
	    "getpw proc exec", NULL);

	event_init();
	signal_set(&ev_hup, SIGHUP, supervisor_signal, NULL);
	signal_set(&ev_term, SIGTERM, supervisor_signal, NULL);
	signal_set(&ev_int, SIGINT, supervisor_signal, NULL);
	signal_set(&ev_chld, SIGCHLD, supervisor_signal, NULL);
	signal_add(&ev_hup, NULL);
	signal_add(&ev_term, NULL);
	signal_add(&ev_int, NULL);
	signal_add(&ev_chld, NULL);
	event_set(&sv.ev_accept, sv.listenfd, EV_READ | EV_PERSIST,
	    supervisor_accept, NULL);
	event_add(&sv.ev_accept, NULL);
	evtimer_set(&sv.ev_acceptpause, supervisor_accept_resume, NULL);
	evtimer_set(&sv.ev_linger, supervisor_linger, NULL);

	log_info("supervisor %ld listening on %s (config %s)", (long)getpid(),
	    sv.sockpath, conf->file);
	if (readyfd != -1) {
		if (write(readyfd, "", 1) == -1)
			log_debug("ready pipe: %s", strerror(errno));
		close(readyfd);
	}

	supervisor_conf_stamp(&sv.conf_st);
	state_load();
	state_adopt();
	supervisor_check_exit();

	event_dispatch();

	job_kill_all(SIGKILL);
	if (sv.listenfd != -1) {
		unlink(sv.sockpath);
		close(sv.listenfd);
	}
	close(lockfd);
	free(sv.sockpath);
	return (0);
}
