/*
 * The relay tests' osdep_splice and osdep_pipe_grow, linked in place of
 * osdep-<os>.c's: splice(2) where there is one, ENOSYS where not (or
 * with VMLAUNCH_NOSPLICE=1 in the environment, to test and measure the
 * copying path, as on OpenBSD).  It counts what it does in
 * *scratch_splice when a test has mapped one.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "vmlaunch.h"
#include "splicecount.h"

struct scratch_splice	*scratch_splice;

static ssize_t
scratch_do_splice(int from, int to, size_t len)
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

ssize_t
osdep_splice(int from, int to, size_t len)
{
	struct stat	 st;
	ssize_t		 n;
	int		 up, pipefd, saved, size = -1;

	if (scratch_splice == NULL)
		return (scratch_do_splice(from, to, len));
	up = fstat(from, &st) == 0 && S_ISFIFO(st.st_mode);
	pipefd = up ? from : to;
#ifdef F_GETPIPE_SZ
	size = fcntl(pipefd, F_GETPIPE_SZ);
#endif
	n = scratch_do_splice(from, to, len);
	saved = errno;
	scratch_splice->calls[!up]++;
	if (size > 0 && len < (size_t)size)
		scratch_splice->short_ask[!up]++;
	if (n > 0)
		scratch_splice->bytes[!up] += n;
	else if (n == -1 && errno == EAGAIN)
		scratch_splice->again[!up]++;
	errno = saved;
	return (n);
}

void
osdep_pipe_grow(int fd)
{
#ifdef __linux__
	(void)fcntl(fd, F_SETPIPE_SZ, 1024 * 1024);
#endif
}
