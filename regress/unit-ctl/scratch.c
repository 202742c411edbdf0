/*
 * Scratch definitions so the unit tests link against buf.o, control.o,
 * proxy.o and log.o alone.  osdep_splice is the Linux one (splice(2));
 * VMLAUNCH_NOSPLICE=1 in the environment makes it fail with ENOSYS, as on
 * OpenBSD, to test and measure the copying path.
 */

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "vmlaunch.h"

ssize_t
osdep_splice(int from, int to, size_t len)
{
	static int	 nosplice = -1;

	if (nosplice == -1)
		nosplice = getenv("VMLAUNCH_NOSPLICE") != NULL;
	if (nosplice) {
		errno = ENOSYS;
		return (-1);
	}
#ifdef __linux__
	return (splice(from, NULL, to, NULL, len,
	    SPLICE_F_MOVE | SPLICE_F_NONBLOCK));
#else
	errno = ENOSYS;
	return (-1);
#endif
}

void
osdep_pipe_grow(int fd)
{
#ifdef __linux__
	(void)fcntl(fd, F_SETPIPE_SZ, 1024 * 1024);
#endif
}
