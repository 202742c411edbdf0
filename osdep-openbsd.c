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
 * The home platform: interface descriptions through SIOCGIFDESCR, the
 * peer's uid through getpeereid, pledge and unveil for real.  OpenBSD has
 * no splice(2) between a pipe and a socket, so the relay copies.
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"

/* The interface's description, "" when it has none; -1 on error. */
int
osdep_ifdescr(const char *ifname, char *buf, size_t len)
{
	struct ifreq	 ifr;
	char		 descr[IFDESCRSIZE];
	int		 s, saved;

	if (len == 0) {
		errno = EINVAL;
		return (-1);
	}
	memset(&ifr, 0, sizeof(ifr));
	if (strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name)) >=
	    sizeof(ifr.ifr_name)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	memset(descr, 0, sizeof(descr));
	ifr.ifr_data = (caddr_t)descr;
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (ioctl(s, SIOCGIFDESCR, &ifr) == -1) {
		saved = errno;
		close(s);
		errno = saved;
		return (-1);
	}
	close(s);
	descr[sizeof(descr) - 1] = '\0';
	(void)strlcpy(buf, descr, len);
	return (0);
}

ssize_t
osdep_splice(int from, int to, size_t len)
{
	errno = ENOSYS;
	return (-1);
}

/* OpenBSD's pipes size themselves; there is no splice to feed. */
void
osdep_pipe_grow(int fd)
{
}

int
osdep_peeruid(int fd, uid_t *uid)
{
	gid_t	 gid;

	return (getpeereid(fd, uid, &gid));
}

void
osdep_pledge(const char *promises, const char *execpromises)
{
	if (pledge(promises, execpromises) == -1)
		fatal("pledge");
}

/*
 * A path under a directory that does not exist (ENOENT) stays hidden:
 * it could not be reached anyway, and a missing vmctl is reported when
 * it is run, not here.
 */
void
osdep_unveil(const char *path, const char *permissions)
{
	if (unveil(path, permissions) == -1 && errno != ENOENT)
		fatal("unveil %s", path != NULL ? path : "(lock)");
}
