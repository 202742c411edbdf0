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
 * What Linux does differently: interface descriptions are the ifalias in
 * sysfs, splice(2) exists, the peer's uid comes from SO_PEERCRED, and
 * there is no pledge or unveil.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"

/* The interface's alias, "" when it has none; -1 if it cannot be read. */
int
osdep_ifdescr(const char *ifname, char *buf, size_t len)
{
	char	 path[128];
	ssize_t	 n;
	int	 fd;

	if (len == 0 || *ifname == '\0' || strchr(ifname, '/') != NULL ||
	    strcmp(ifname, ".") == 0 || strcmp(ifname, "..") == 0) {
		errno = EINVAL;
		return (-1);
	}
	if ((size_t)snprintf(path, sizeof(path), "/sys/class/net/%s/ifalias",
	    ifname) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	do {
		n = read(fd, buf, len - 1);
	} while (n == -1 && errno == EINTR);
	close(fd);
	if (n == -1)
		return (-1);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return (0);
}

ssize_t
osdep_splice(int from, int to, size_t len)
{
	return (splice(from, NULL, to, NULL, len,
	    SPLICE_F_MOVE | SPLICE_F_NONBLOCK));
}

/*
 * A pipe of 64 KiB makes splice move 64 KiB a call; a larger one (up to
 * fs.pipe-max-size, 1 MiB by default) lets it move more per wakeup.
 * Best effort: the relay works either way.
 */
void
osdep_pipe_grow(int fd)
{
	(void)fcntl(fd, F_SETPIPE_SZ, 1024 * 1024);
}

int
osdep_peeruid(int fd, uid_t *uid)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return (-1);
	*uid = cred.uid;
	return (0);
}

void
osdep_pledge(const char *promises, const char *execpromises)
{
}

void
osdep_unveil(const char *path, const char *permissions)
{
}
