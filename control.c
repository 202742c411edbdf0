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
 * The control protocol, shared by client and supervisor: the payload
 * codecs, framing, and sending and receiving whole messages with an
 * optional file descriptor (SCM_RIGHTS).
 *
 * On the wire a message is {u32 type, u32 len} in network byte order and
 * then len bytes of payload.  A payload is a fixed sequence of fields
 * (u16/u32/u64 big endian, strings as u16 length + bytes).  Decoders
 * accept exactly one encoding: short input, trailing bytes, a string that
 * does not fit its field or holds a NUL, or a value out of range is
 * rejected as a whole.  CTL_ERROR and CTL_DONE share one payload, a
 * line for the user (struct ctl_error).
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL	0
#endif

#define CTL_MAX_FDS	8	/* received fds beyond the first are closed */

static void	ctl_reader(struct buf *, const void *, size_t);
static int	ctl_wait(int, short, long long);
static void	ctl_close_fds(struct cmsghdr *, struct msghdr *, int *);
static void	ctl_hdr_pack(uint8_t *, uint32_t, uint32_t);
static int	ctl_hdr_unpack(const uint8_t *, uint32_t *, uint32_t *);

/* A read-only view of caller memory; never freed, never written. */
static void
ctl_reader(struct buf *b, const void *data, size_t len)
{
	buf_init(b);
	b->data = (uint8_t *)(uintptr_t)data;
	b->len = len;
	b->size = len;
}

void
ctl_pack_connect(struct buf *b, const struct ctl_connect *c)
{
	buf_put_u32(b, c->version);
	buf_put_u16(b, c->port);
	buf_put_u16(b, c->flags);
	buf_put_str(b, c->host);
	buf_put_str(b, c->display);
	buf_put_str(b, c->xauthority);
}

int
ctl_unpack_connect(const void *data, size_t len, struct ctl_connect *c)
{
	struct buf	 b;

	ctl_reader(&b, data, len);
	memset(c, 0, sizeof(*c));
	c->version = buf_get_u32(&b);
	c->port = buf_get_u16(&b);
	c->flags = buf_get_u16(&b);
	buf_get_str(&b, c->host, sizeof(c->host));
	buf_get_str(&b, c->display, sizeof(c->display));
	buf_get_str(&b, c->xauthority, sizeof(c->xauthority));
	if (!buf_done(&b) || c->version != CTL_VERSION || c->port == 0 ||
	    (c->flags & ~CTL_FLAGS) != 0 || c->host[0] == '\0')
		return (-1);
	/* Up or down, and only down may be forced; neither resumes. */
	if ((c->flags & CTL_FLAG_UP) && (c->flags & CTL_FLAG_DOWN))
		return (-1);
	if ((c->flags & CTL_FLAG_FORCE) && !(c->flags & CTL_FLAG_DOWN))
		return (-1);
	if ((c->flags & CTL_FLAG_RESUME) &&
	    (c->flags & (CTL_FLAG_UP | CTL_FLAG_DOWN)))
		return (-1);
	return (0);
}

void
ctl_pack_hold(struct buf *b, const struct ctl_hold *h)
{
	buf_put_u32(b, h->version);
	buf_put_u64(b, (uint64_t)h->seconds);
	buf_put_str(b, h->host);
}

int
ctl_unpack_hold(const void *data, size_t len, struct ctl_hold *h)
{
	struct buf	 b;

	ctl_reader(&b, data, len);
	memset(h, 0, sizeof(*h));
	h->version = buf_get_u32(&b);
	h->seconds = (int64_t)buf_get_u64(&b);
	buf_get_str(&b, h->host, sizeof(h->host));
	if (!buf_done(&b) || h->version != CTL_VERSION ||
	    h->seconds < HOLD_FOREVER || h->seconds > HOLD_MAX ||
	    h->host[0] == '\0')
		return (-1);
	return (0);
}

void
ctl_pack_progress(struct buf *b, const struct ctl_progress *p)
{
	buf_put_u32(b, p->phase);
	buf_put_u32(b, p->elapsed_ms);
	buf_put_u32(b, p->deadline_ms);
	buf_put_str(b, p->text);
}

int
ctl_unpack_progress(const void *data, size_t len, struct ctl_progress *p)
{
	struct buf	 b;

	ctl_reader(&b, data, len);
	memset(p, 0, sizeof(*p));
	p->phase = buf_get_u32(&b);
	p->elapsed_ms = buf_get_u32(&b);
	p->deadline_ms = buf_get_u32(&b);
	buf_get_str(&b, p->text, sizeof(p->text));
	if (!buf_done(&b) || p->phase > PHASE_RESUMING)
		return (-1);
	return (0);
}

void
ctl_pack_ready(struct buf *b, const struct ctl_ready *r)
{
	buf_put_str(b, r->address);
}

int
ctl_unpack_ready(const void *data, size_t len, struct ctl_ready *r)
{
	struct buf	 b;

	ctl_reader(&b, data, len);
	memset(r, 0, sizeof(*r));
	buf_get_str(&b, r->address, sizeof(r->address));
	return (buf_done(&b) ? 0 : -1);
}

void
ctl_pack_error(struct buf *b, const struct ctl_error *e)
{
	buf_put_str(b, e->message);
}

int
ctl_unpack_error(const void *data, size_t len, struct ctl_error *e)
{
	struct buf	 b;

	ctl_reader(&b, data, len);
	memset(e, 0, sizeof(*e));
	buf_get_str(&b, e->message, sizeof(e->message));
	return (buf_done(&b) ? 0 : -1);
}

void
ctl_pack_status_vm(struct buf *b, const struct ctl_status_vm *s)
{
	uint32_t	 i, napps, nevents;

	napps = s->napps > STATUS_APPS_MAX ? STATUS_APPS_MAX : s->napps;
	nevents = s->nevents > HISTORY_MAX ? HISTORY_MAX : s->nevents;
	buf_put_str(b, s->name);
	buf_put_str(b, s->vmd_state);
	buf_put_str(b, s->state);
	buf_put_str(b, s->address);
	buf_put_u32(b, s->sessions);
	buf_put_u32(b, s->started);
	buf_put_u32(b, s->configured);
	buf_put_u64(b, (uint64_t)s->idle_left);
	buf_put_u32(b, s->held);
	buf_put_u64(b, (uint64_t)s->hold_left);
	buf_put_u32(b, napps);
	for (i = 0; i < napps; i++) {
		buf_put_str(b, s->apps[i].command);
		buf_put_str(b, s->apps[i].state);
		buf_put_u32(b, s->apps[i].restarts);
		buf_put_u32(b, (uint32_t)s->apps[i].pid);
	}
	buf_put_u32(b, nevents);
	for (i = 0; i < nevents; i++) {
		buf_put_u64(b, (uint64_t)s->events[i].when);
		buf_put_str(b, s->events[i].text);
	}
}

int
ctl_unpack_status_vm(const void *data, size_t len, struct ctl_status_vm *s)
{
	struct buf	 b;
	uint32_t	 i;

	ctl_reader(&b, data, len);
	memset(s, 0, sizeof(*s));
	buf_get_str(&b, s->name, sizeof(s->name));
	buf_get_str(&b, s->vmd_state, sizeof(s->vmd_state));
	buf_get_str(&b, s->state, sizeof(s->state));
	buf_get_str(&b, s->address, sizeof(s->address));
	s->sessions = buf_get_u32(&b);
	s->started = buf_get_u32(&b);
	s->configured = buf_get_u32(&b);
	s->idle_left = (int64_t)buf_get_u64(&b);
	s->held = buf_get_u32(&b);
	s->hold_left = (int64_t)buf_get_u64(&b);
	s->napps = buf_get_u32(&b);
	if (b.error || s->napps > STATUS_APPS_MAX || s->started > 1 ||
	    s->configured > 1 || s->idle_left < -1 || s->held > 1 ||
	    s->hold_left < -1 || (!s->held && s->hold_left != -1))
		return (-1);
	for (i = 0; i < s->napps; i++) {
		buf_get_str(&b, s->apps[i].command,
		    sizeof(s->apps[i].command));
		buf_get_str(&b, s->apps[i].state, sizeof(s->apps[i].state));
		s->apps[i].restarts = buf_get_u32(&b);
		s->apps[i].pid = (int32_t)buf_get_u32(&b);
	}
	s->nevents = buf_get_u32(&b);
	if (b.error || s->nevents > HISTORY_MAX)
		return (-1);
	for (i = 0; i < s->nevents; i++) {
		s->events[i].when = (int64_t)buf_get_u64(&b);
		buf_get_str(&b, s->events[i].text, sizeof(s->events[i].text));
		if (s->events[i].when < 0)
			return (-1);
	}
	if (!buf_done(&b) || s->name[0] == '\0')
		return (-1);
	return (0);
}

void
ctl_pack_status_sup(struct buf *b, const struct ctl_status_sup *s)
{
	buf_put_u32(b, s->pid);
	buf_put_u64(b, (uint64_t)s->since);
	buf_put_str(b, s->config);
}

int
ctl_unpack_status_sup(const void *data, size_t len, struct ctl_status_sup *s)
{
	struct buf	 b;

	ctl_reader(&b, data, len);
	memset(s, 0, sizeof(*s));
	s->pid = buf_get_u32(&b);
	s->since = (int64_t)buf_get_u64(&b);
	buf_get_str(&b, s->config, sizeof(s->config));
	if (!buf_done(&b) || s->pid == 0 || s->since < 0 ||
	    s->config[0] == '\0')
		return (-1);
	return (0);
}

/* The header, both ways: type and length, big endian. */
static void
ctl_hdr_pack(uint8_t *hdr, uint32_t type, uint32_t len)
{
	hdr[0] = type >> 24;
	hdr[1] = type >> 16;
	hdr[2] = type >> 8;
	hdr[3] = type;
	hdr[4] = len >> 24;
	hdr[5] = len >> 16;
	hdr[6] = len >> 8;
	hdr[7] = len;
}

/* -1 when the header cannot be: the peer is to be dropped. */
static int
ctl_hdr_unpack(const uint8_t *hdr, uint32_t *type, uint32_t *len)
{
	*type = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	*len = (uint32_t)hdr[4] << 24 | (uint32_t)hdr[5] << 16 |
	    (uint32_t)hdr[6] << 8 | hdr[7];
	if (*type == 0 || *type >= CTL_TYPE_MAX || *len > CTL_MSG_MAX)
		return (-1);
	return (0);
}

/* A whole message, header and payload, in one malloc'd block. */
uint8_t *
ctl_message(uint32_t type, const struct buf *b, size_t *lenp)
{
	size_t	 len = b != NULL ? b->len : 0;
	uint8_t	*m;

	if (len > CTL_MSG_MAX || (m = malloc(CTL_HDR_LEN + len)) == NULL)
		return (NULL);
	ctl_hdr_pack(m, type, len);
	if (len > 0)
		memcpy(m + CTL_HDR_LEN, b->data, len);
	*lenp = CTL_HDR_LEN + len;
	return (m);
}

/*
 * One sendmsg of len bytes, with passfd attached (SCM_RIGHTS) when it is
 * not -1: the bytes written, or -1 with errno.  SIGPIPE never.
 */
ssize_t
ctl_write(int fd, const void *data, size_t len, int passfd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct iovec	 iov;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)(uintptr_t)data;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (passfd != -1) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), &passfd, sizeof(int));
	}
	return (sendmsg(fd, &msg, MSG_NOSIGNAL));
}

/*
 * Wait until fd is ready for events, at most ms (-1: no limit); -1 with
 * ETIMEDOUT once that has passed, or on a poll failure.
 */
static int
ctl_wait(int fd, short events, long long deadline)
{
	struct pollfd	 pfd;
	long long	 left;
	int		 n;

	pfd.fd = fd;
	pfd.events = events;
	for (;;) {
		left = -1;
		if (deadline >= 0 && (left = deadline - now_ms()) <= 0) {
			errno = ETIMEDOUT;
			return (-1);
		}
		if ((n = poll(&pfd, 1, left > INT_MAX ? INT_MAX :
		    (int)left)) > 0)
			return (0);
		if (n == -1 && errno != EINTR)
			return (-1);
	}
}

/*
 * Send one message, with passfd attached to its first byte if >= 0.
 * Messages are small (CTL_MSG_MAX), so a partial write on a non-blocking
 * socket is finished by waiting in poll(2) rather than queued: the caller
 * sees either the whole message sent or, when not a byte could be
 * written, -1 with EAGAIN and can try again later.
 */
int
ctl_send(int fd, uint32_t type, const struct buf *b, int passfd)
{
	uint8_t		*m;
	size_t		 len, done = 0;
	ssize_t		 n;

	if (type == 0 || type >= CTL_TYPE_MAX) {
		errno = EINVAL;
		return (-1);
	}
	if ((m = ctl_message(type, b, &len)) == NULL) {
		errno = EINVAL;
		return (-1);
	}
	while (done < len) {
		n = ctl_write(fd, m + done, len - done, done == 0 ? passfd :
		    -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			    done > 0 && ctl_wait(fd, POLLOUT, -1) == 0)
				continue;
			free(m);
			return (-1);
		}
		done += n;
	}
	free(m);
	return (0);
}

/* Close every fd in the control messages except the one kept in *keep. */
static void
ctl_close_fds(struct cmsghdr *first, struct msghdr *msg, int *keep)
{
	struct cmsghdr	*cmsg;
	size_t		 i, nfds;
	int		 fd;

	for (cmsg = first; cmsg != NULL; cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS ||
		    cmsg->cmsg_len < CMSG_LEN(0))
			continue;
		nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			if (fd < 0)
				continue;
			if (keep != NULL && *keep == -1) {
				*keep = fd;
#ifndef MSG_CMSG_CLOEXEC
				(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
			} else
				close(fd);
		}
	}
}

/*
 * Read exactly one message, waiting for it even on a non-blocking socket,
 * for at most timeout ms (-1: no limit).  The payload replaces the
 * contents of b; a passed fd is returned in *fdp (-1 if none; if fdp is
 * NULL it is closed).  Returns 1 for a message, 0 for EOF before its
 * first byte, -1 on error (EBADMSG: a bad header; ECONNRESET: EOF inside
 * a message; ETIMEDOUT: the time ran out).
 */
int
ctl_recv(int fd, uint32_t *typep, struct buf *b, int *fdp, int timeout)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
	} cmsgbuf;
	struct msghdr	 msg;
	struct iovec	 iov;
	uint8_t		 hdr[CTL_HDR_LEN];
	uint32_t	 type = 0, len = 0;
	size_t		 total = sizeof(hdr), done = 0;
	ssize_t		 n;
	uint8_t		*p;
	long long	 deadline = timeout < 0 ? -1 : now_ms() + timeout;
	int		 flags = MSG_DONTWAIT, passed = -1, saved;

#ifdef MSG_CMSG_CLOEXEC
	flags |= MSG_CMSG_CLOEXEC;
#endif
	if (fdp != NULL)
		*fdp = -1;
	buf_reset(b);

	while (done < total) {
		memset(&msg, 0, sizeof(msg));
		if (done < sizeof(hdr)) {
			iov.iov_base = hdr + done;
			iov.iov_len = sizeof(hdr) - done;
		} else {
			iov.iov_base = b->data + (done - sizeof(hdr));
			iov.iov_len = total - done;
		}
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);

		if ((n = recvmsg(fd, &msg, flags)) == -1) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			    ctl_wait(fd, POLLIN, deadline) == 0)
				continue;
			goto fail;
		}
		if (msg.msg_controllen > 0)
			ctl_close_fds(CMSG_FIRSTHDR(&msg), &msg, &passed);
		if (msg.msg_flags & MSG_CTRUNC) {
			errno = EBADMSG;
			goto fail;
		}
		if (n == 0) {
			if (done == 0 && passed == -1)
				return (0);
			errno = ECONNRESET;
			goto fail;
		}
		done += n;

		if (done == sizeof(hdr)) {
			if (ctl_hdr_unpack(hdr, &type, &len) == -1) {
				errno = EBADMSG;
				goto fail;
			}
			total += len;
			/* Make room and read the payload straight into it. */
			if (b->size < len) {
				if ((p = realloc(b->data, len)) == NULL)
					fatal("ctl_recv");
				b->data = p;
				b->size = len;
			}
		}
	}
	b->len = len;
	b->off = 0;
	*typep = type;
	if (fdp != NULL)
		*fdp = passed;
	else if (passed != -1)
		close(passed);
	return (1);

fail:
	saved = errno;
	if (passed != -1)
		close(passed);
	buf_reset(b);
	errno = saved;
	return (-1);
}

/*
 * For a non-blocking reader: given the bytes buffered so far, the length
 * of the first complete frame, 0 if it is not all there yet, or -1 if the
 * header is invalid (the peer is to be dropped).
 */
ssize_t
ctl_frame(const uint8_t *data, size_t len, uint32_t *typep, size_t *paylenp)
{
	uint32_t	 type, paylen;

	if (len < CTL_HDR_LEN)
		return (0);
	if (ctl_hdr_unpack(data, &type, &paylen) == -1)
		return (-1);
	if (len - CTL_HDR_LEN < paylen)
		return (0);
	if (typep != NULL)
		*typep = type;
	if (paylenp != NULL)
		*paylenp = paylen;
	return ((ssize_t)(CTL_HDR_LEN + paylen));
}

const char *
ctl_type_name(uint32_t type)
{
	switch (type) {
	case CTL_CONNECT:
		return ("connect");
	case CTL_STATUS:
		return ("status");
	case CTL_PROGRESS:
		return ("progress");
	case CTL_READY:
		return ("ready");
	case CTL_ERROR:
		return ("error");
	case CTL_STATUS_VM:
		return ("status-vm");
	case CTL_STATUS_END:
		return ("status-end");
	case CTL_HOLD:
		return ("hold");
	case CTL_DONE:
		return ("done");
	case CTL_STATUS_SUP:
		return ("status-sup");
	}
	return ("unknown");
}
