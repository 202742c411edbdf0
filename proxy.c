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
 * The client's data path: relay stdin to the guest socket and the guest
 * socket to stdout until both directions are done, with half-close passed
 * on (EOF on stdin -> shutdown(SHUT_WR) on the socket; EOF on the socket
 * -> stdout closed).  One poll(2) loop over non-blocking descriptors.
 *
 * Each direction either copies through its own buffer or, when one end
 * is a pipe and the other the socket (ssh gives a ProxyCommand pipes),
 * moves pages straight from one to the other with splice(2): no pipe of
 * ours in between, no byte through user space.  osdep_splice fails with
 * ENOSYS where there is no splice and EINVAL for other file types, and
 * the direction falls back to copying; a stdin or stdout that is a file,
 * a tty or a socket is copied from the start.
 *
 * A splice call asks for more than any pipe holds, so one call moves all
 * the pipe holds (or has room for); after a call that moved less than it
 * asked, the relay polls before it calls again.  The call woke ssh, which
 * now holds the pipe's lock while it copies into (or out of) the pipe:
 * calling again at once would only find the pipe empty (or full) after
 * waiting for that lock, and the kernel waits for a lock whose owner runs
 * by spinning, on the relay's CPU time (bench/README.md has the figures).
 *
 * Backpressure: a side is read only while the buffer toward its peer has
 * room, or, for splice, while the destination was last seen writable.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"

#define PROXY_BUFSIZE	(256 * 1024)
#define PROXY_SPLICEMAX	(64 * 1024 * 1024) /* more than a pipe holds */
#define PROXY_STALLS	64	/* splice rounds moving nothing, then copy */

enum { PFD_IN, PFD_OUT, PFD_SOCK, PFD_MAX };

struct proxy_dir {
	const char	*what;		/* for messages */
	int		 src, dst;	/* indexes into the pollfd array */
	int		 tosock;	/* half-close with shutdown, not close */
	int		 splice;	/* splice(2), else copy */
	int		 blocked;	/* splice: wait for dst, not src */
	int		 stalls;
	uint8_t		*buf;
	size_t		 off, len;
	int		 eof;		/* src at EOF */
	int		 done;
};

static int	proxy_spliceable(int, int);
static void	proxy_finish(struct proxy_dir *, struct pollfd *);
static int	proxy_copy(struct proxy_dir *, struct pollfd *, char *,
		    size_t);
static int	proxy_splice(struct proxy_dir *, struct pollfd *, char *,
		    size_t);
static void	proxy_events(struct proxy_dir *, struct pollfd *);
static void	proxy_dir_init(struct proxy_dir *, const char *, int, int, int,
		    int);

/* splice(2) moves pages only between a pipe and a socket. */
static int
proxy_spliceable(int src, int dst)
{
	struct stat	 s, d;

	if (fstat(src, &s) == -1 || fstat(dst, &d) == -1)
		return (0);
	return ((S_ISFIFO(s.st_mode) && S_ISSOCK(d.st_mode)) ||
	    (S_ISSOCK(s.st_mode) && S_ISFIFO(d.st_mode)));
}

/* The direction is over: pass the EOF on. */
static void
proxy_finish(struct proxy_dir *d, struct pollfd *pfd)
{
	d->done = 1;
	d->off = d->len = 0;
	if (d->tosock)
		(void)shutdown(pfd[d->dst].fd, SHUT_WR);
	else {
		close(pfd[d->dst].fd);
		pfd[d->dst].fd = -1;
	}
}

static int
proxy_copy(struct proxy_dir *d, struct pollfd *pfd, char *err, size_t errlen)
{
	short	 rev;
	ssize_t	 n;

	rev = pfd[d->src].revents;
	if (!d->eof && d->len < PROXY_BUFSIZE &&
	    (rev & (POLLIN | POLLHUP | POLLERR))) {
		if (d->off > 0 && d->off == d->len)
			d->off = d->len = 0;
		else if (d->off > 0 && d->len == PROXY_BUFSIZE) {
			memmove(d->buf, d->buf + d->off, d->len - d->off);
			d->len -= d->off;
			d->off = 0;
		}
		n = read(pfd[d->src].fd, d->buf + d->len,
		    PROXY_BUFSIZE - d->len);
		if (n == -1 && errno != EAGAIN && errno != EINTR &&
		    errno != EWOULDBLOCK) {
			snprintf(err, errlen, "%s: read: %s", d->what,
			    strerror(errno));
			return (-1);
		}
		if (n == 0)
			d->eof = 1;
		else if (n > 0)
			d->len += n;
	}

	/* Write at once what was just read; poll only when it would block. */
	rev = pfd[d->dst].revents | POLLOUT;
	if (d->len > d->off && (rev & (POLLOUT | POLLHUP | POLLERR))) {
		n = write(pfd[d->dst].fd, d->buf + d->off, d->len - d->off);
		if (n == -1 && errno == EPIPE) {
			/* The reader went away: a normal end. */
			d->eof = 1;
			d->off = d->len = 0;
		} else if (n == -1 && errno != EAGAIN && errno != EINTR &&
		    errno != EWOULDBLOCK) {
			snprintf(err, errlen, "%s: write: %s", d->what,
			    strerror(errno));
			return (-1);
		} else if (n > 0)
			d->off += n;
		if (d->off == d->len)
			d->off = d->len = 0;
	}

	if (d->eof && d->off == d->len)
		proxy_finish(d, pfd);
	return (0);
}

static int
proxy_splice(struct proxy_dir *d, struct pollfd *pfd, char *err,
    size_t errlen)
{
	ssize_t	 n;
	size_t	 moved = 0;
	int	 viadst;

	viadst = d->blocked;
	if (viadst && !(pfd[d->dst].revents & (POLLOUT | POLLHUP | POLLERR)))
		return (0);
	if (!viadst && !(pfd[d->src].revents & (POLLIN | POLLHUP | POLLERR)))
		return (0);

	for (;;) {
		n = osdep_splice(pfd[d->src].fd, pfd[d->dst].fd,
		    PROXY_SPLICEMAX);
		if (n == -1 && errno == EINTR)
			continue;
		if (n != PROXY_SPLICEMAX)
			break;
		moved += n;
	}
	if (n == 0) {
		proxy_finish(d, pfd);
		return (0);
	}
	if (n > 0) {
		/*
		 * src ran dry or dst filled up: poll before the next call
		 * (see the top).  Wait for src; had dst filled up, the next
		 * call fails with EAGAIN and we wait for dst.
		 */
		d->blocked = 0;
		d->stalls = 0;
		return (0);
	}
	switch (errno) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
		break;
	case EINVAL:
	case ENOSYS:
	case EOPNOTSUPP:
		/* Not spliceable after all: copy from now on. */
		d->splice = 0;
		d->blocked = 0;
		return (0);
	case EPIPE:
		proxy_finish(d, pfd);
		return (0);
	default:
		snprintf(err, errlen, "%s: %s", d->what, strerror(errno));
		return (-1);
	}

	/*
	 * EAGAIN does not say which side would block.  Guess from how we
	 * got here, so each poll wakeup is a real event: nothing moved
	 * although src was readable means dst is full, and the other way
	 * round.  Should the guess never come true, give up splicing.
	 */
	if (moved > 0) {
		d->blocked = 0;
		d->stalls = 0;
	} else {
		d->blocked = !viadst;
		if (++d->stalls > PROXY_STALLS) {
			d->splice = 0;
			d->blocked = 0;
		}
	}
	return (0);
}

static void
proxy_events(struct proxy_dir *d, struct pollfd *pfd)
{
	if (d->done)
		return;
	if (d->splice) {
		if (d->blocked)
			pfd[d->dst].events |= POLLOUT;
		else
			pfd[d->src].events |= POLLIN;
		return;
	}
	if (!d->eof && d->len < PROXY_BUFSIZE)
		pfd[d->src].events |= POLLIN;
	if (d->len > d->off)
		pfd[d->dst].events |= POLLOUT;
}

/*
 * Relay until both directions are done.  Returns 0 on a normal end,
 * including the guest closing the connection or the reader of out going
 * away (EPIPE, so SIGPIPE must be ignored); -1 with a message in err.
 */
/* One direction of the relay, from fd srcfd (slot src) to dstfd (dst). */
static void
proxy_dir_init(struct proxy_dir *d, const char *what, int src, int dst,
    int srcfd, int dstfd)
{
	memset(d, 0, sizeof(*d));
	d->what = what;
	d->src = src;
	d->dst = dst;
	d->tosock = dst == PFD_SOCK;
	/* A pipe that feeds splice(2) or is fed by it: make it big. */
	if ((d->splice = proxy_spliceable(srcfd, dstfd)))
		osdep_pipe_grow(src == PFD_SOCK ? dstfd : srcfd);
}

int
proxy_relay(int in, int out, int sock, char *err, size_t errlen)
{
	struct pollfd	 pfd[PFD_MAX];
	struct proxy_dir up, down, *dirs[2];
	int		 fds[PFD_MAX];
	int		 inflags, outflags, i, rc = -1;

	if ((inflags = fcntl(in, F_GETFL)) == -1 ||
	    (outflags = fcntl(out, F_GETFL)) == -1 ||
	    fcntl(in, F_SETFL, inflags | O_NONBLOCK) == -1 ||
	    fcntl(out, F_SETFL, outflags | O_NONBLOCK) == -1 ||
	    fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK) == -1) {
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		return (-1);
	}

	proxy_dir_init(&up, "stdin to guest", PFD_IN, PFD_SOCK, in, sock);
	proxy_dir_init(&down, "guest to stdout", PFD_SOCK, PFD_OUT, sock, out);

	fds[PFD_IN] = in;
	fds[PFD_OUT] = out;
	fds[PFD_SOCK] = sock;
	for (i = 0; i < PFD_MAX; i++)
		pfd[i].fd = fds[i];

	dirs[0] = &up;
	dirs[1] = &down;
	for (i = 0; i < 2; i++) {
		if ((dirs[i]->buf = malloc(PROXY_BUFSIZE)) == NULL) {
			snprintf(err, errlen, "%s", strerror(errno));
			goto done;
		}
	}

	while (!up.done || !down.done) {
		for (i = 0; i < PFD_MAX; i++) {
			pfd[i].fd = fds[i];
			pfd[i].events = pfd[i].revents = 0;
		}
		proxy_events(&up, pfd);
		proxy_events(&down, pfd);
		/*
		 * Poll only what is waited for, or a hung-up pipe would wake
		 * us forever; but keep the socket while stdin is relayed, to
		 * see the guest hang up while we have nothing to send.
		 */
		for (i = 0; i < PFD_MAX; i++) {
			if (pfd[i].events == 0 && (i != PFD_SOCK || up.done) &&
			    (i != PFD_OUT || down.done))
				pfd[i].fd = -1;
		}
		if (poll(pfd, PFD_MAX, -1) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			goto done;
		}
		for (i = 0; i < PFD_MAX; i++)
			pfd[i].fd = fds[i];
		/*
		 * The reader of stdout is gone (POLLERR on a pipe, even when
		 * not asked for): ssh went away, and the session with it.
		 */
		if (!down.done && !(pfd[PFD_OUT].events & POLLOUT) &&
		    (pfd[PFD_OUT].revents & (POLLERR | POLLHUP))) {
			rc = 0;
			goto done;
		}
		for (i = 0; i < 2; i++) {
			if (dirs[i]->done)
				continue;
			if ((dirs[i]->splice ? proxy_splice(dirs[i], pfd, err,
			    errlen) : proxy_copy(dirs[i], pfd, err,
			    errlen)) == -1)
				goto done;
			fds[dirs[i]->dst] = pfd[dirs[i]->dst].fd;
		}
		/* The guest closed the socket: it will take no more. */
		if (!up.done && (pfd[PFD_SOCK].revents & POLLHUP))
			proxy_finish(&up, pfd);
	}
	rc = 0;

done:
	free(up.buf);
	free(down.buf);
	(void)fcntl(in, F_SETFL, inflags);
	if (fds[PFD_OUT] != -1)
		(void)fcntl(out, F_SETFL, outflags);
	return (rc);
}
