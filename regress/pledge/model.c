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
 * A model of OpenBSD's pledge(2) and unveil(2) for the Linux test build
 * (make test-pledge): osdep_pledge and osdep_unveil record what a process
 * promised and unveiled, and every call vmlaunch's own objects make that
 * needs more than "stdio" is routed here by the linker (-Wl,--wrap=NAME,
 * one per __wrap_NAME below; wrapflags.sh derives the flags from this
 * file) and checked the way the kernel checks it (sys/kern/kern_pledge.c,
 * kern_unveil.c, vfs_syscalls.c, uipc_usrreq.c):
 *
 * - A call outside the promises is fatal, as on OpenBSD: a report, then
 *   SIGABRT.  So are a pledge that asks for more than the last one, an
 *   unknown promise, and an unveil after the lock.
 * - A path outside what was unveiled fails as on OpenBSD, with ENOENT
 *   (not unveiled) or EACCES (unveiled without that permission), and is
 *   reported too, since a program that meant to reach it is wrong.
 * - Reports go to stderr and, when VMLAUNCH_PLEDGE_LOG is set, to the
 *   file VMLAUNCH_PLEDGE_LOG.PID (regress/run.sh fails the run on any).
 *
 * What is modelled: paths (open, fopen, stat, lstat, access, mkdir,
 * unlink, rename, chmod, chdir, realpath, mkstemp, execvp with its PATH
 * search and a script's #! interpreter, UNIX socket connect and bind),
 * socket families, connect, bind, listen, accept, socket options,
 * sendmsg and recvmsg with descriptors, ioctl requests, fork, setsid,
 * setpgid, kill, flock, getpwuid, getaddrinfo, getnameinfo, getifaddrs
 * (the NET_RT_IFLIST sysctl), and the interface description lookup
 * (osdep_ifdescr: SIOCGIFDESCR on OpenBSD, sysfs here).  The kernel's
 * own exceptions are kept: /dev/null opens for reading and writing under
 * any promise and past unveil.
 *
 * What is not: calls made inside libc and libevent (the resolver's
 * sockets and files, syslog's socket, epoll), which the wrapping never
 * sees; those allowed under "stdio" anyway (read, write, poll, pipe,
 * dup2, fcntl but for F_SETOWN, waitpid, sigaction, ...); mmap with
 * PROT_EXEC; threads; the tmppath promise.  Unveil is matched by path
 * (symbolic links resolved), not by vnode: a directory removed and made
 * again stays visible here, where OpenBSD hides it.  execvp stops at the
 * first executable in PATH instead of going on past a hidden one.
 * regress/pledge/audit.sh keeps the list honest: every libc call in the
 * objects must be wrapped here or named harmless in stdio.txt.
 */

#include <sys/types.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"

#define M_STDIO		0x00000001ULL
#define M_RPATH		0x00000002ULL
#define M_WPATH		0x00000004ULL
#define M_CPATH		0x00000008ULL
#define M_DPATH		0x00000010ULL
#define M_TMPPATH	0x00000020ULL
#define M_INET		0x00000040ULL
#define M_MCAST		0x00000080ULL
#define M_FATTR		0x00000100ULL
#define M_CHOWN		0x00000200ULL
#define M_FLOCK		0x00000400ULL
#define M_UNIX		0x00000800ULL
#define M_DNS		0x00001000ULL
#define M_GETPW		0x00002000ULL
#define M_SENDFD	0x00004000ULL
#define M_RECVFD	0x00008000ULL
#define M_TAPE		0x00010000ULL
#define M_TTY		0x00020000ULL
#define M_PROC		0x00040000ULL
#define M_EXEC		0x00080000ULL
#define M_PROTEXEC	0x00100000ULL
#define M_SETTIME	0x00200000ULL
#define M_PS		0x00400000ULL
#define M_VMINFO	0x00800000ULL
#define M_ID		0x01000000ULL
#define M_PF		0x02000000ULL
#define M_ROUTE		0x04000000ULL
#define M_WROUTE	0x08000000ULL
#define M_AUDIO		0x10000000ULL
#define M_VIDEO		0x20000000ULL
#define M_BPF		0x40000000ULL
#define M_UNVEIL	0x80000000ULL
#define M_ERROR		0x100000000ULL
#define M_DISKLABEL	0x200000000ULL
#define M_DRM		0x400000000ULL
#define M_VMM		0x800000000ULL

/* The promises pledge(2) knows (kern_pledge.c's pledgereq). */
static const struct {
	const char	*name;
	uint64_t	 bit;
} model_promises[] = {
	{ "audio", M_AUDIO }, { "bpf", M_BPF }, { "chown", M_CHOWN },
	{ "cpath", M_CPATH }, { "disklabel", M_DISKLABEL }, { "dns", M_DNS },
	{ "dpath", M_DPATH }, { "drm", M_DRM }, { "error", M_ERROR },
	{ "exec", M_EXEC }, { "fattr", M_FATTR }, { "flock", M_FLOCK },
	{ "getpw", M_GETPW }, { "id", M_ID }, { "inet", M_INET },
	{ "mcast", M_MCAST }, { "pf", M_PF }, { "proc", M_PROC },
	{ "prot_exec", M_PROTEXEC }, { "ps", M_PS }, { "recvfd", M_RECVFD },
	{ "route", M_ROUTE }, { "rpath", M_RPATH }, { "sendfd", M_SENDFD },
	{ "settime", M_SETTIME }, { "stdio", M_STDIO }, { "tape", M_TAPE },
	{ "tmppath", M_TMPPATH }, { "tty", M_TTY }, { "unix", M_UNIX },
	{ "unveil", M_UNVEIL }, { "video", M_VIDEO }, { "vminfo", M_VMINFO },
	{ "vmm", M_VMM }, { "wpath", M_WPATH }, { "wroute", M_WROUTE }
};

#define UV_R		0x01
#define UV_W		0x02
#define UV_X		0x04
#define UV_C		0x08

#define MODEL_RULES	128

struct model_rule {
	char		 path[PATH_MAX];
	int		 perms;
	int		 isdir;
};

static int		 model_pledged;
static uint64_t		 model_promised;
static char		 model_promisestr[512];
static struct model_rule model_rules[MODEL_RULES];
static int		 model_nrules;
static int		 model_locked;
static int		 model_quiet;	/* inside a call we charged already */

/* The real calls, for the checks' own use and after them. */
int	 __real_open(const char *, int, ...);
FILE	*__real_fopen(const char *, const char *);
int	 __real_stat(const char *, struct stat *);
int	 __real_lstat(const char *, struct stat *);
int	 __real_access(const char *, int);
int	 __real_mkdir(const char *, mode_t);
int	 __real_unlink(const char *);
int	 __real_rename(const char *, const char *);
int	 __real_chmod(const char *, mode_t);
int	 __real_chdir(const char *);
char	*__real_realpath(const char *, char *);
int	 __real_mkstemp(char *);
int	 __real_socket(int, int, int);
int	 __real_connect(int, const struct sockaddr *, socklen_t);
int	 __real_bind(int, const struct sockaddr *, socklen_t);
int	 __real_listen(int, int);
int	 __real_accept(int, struct sockaddr *, socklen_t *);
int	 __real_getpeername(int, struct sockaddr *, socklen_t *);
int	 __real_getsockopt(int, int, int, void *, socklen_t *);
int	 __real_setsockopt(int, int, int, const void *, socklen_t);
ssize_t	 __real_sendmsg(int, const struct msghdr *, int);
ssize_t	 __real_recvmsg(int, struct msghdr *, int);
int	 __real_ioctl(int, unsigned long, void *);
int	 __real_execvp(const char *, char *const []);
pid_t	 __real_fork(void);
pid_t	 __real_setsid(void);
int	 __real_setpgid(pid_t, pid_t);
int	 __real_kill(pid_t, int);
int	 __real_killpg(pid_t, int);
int	 __real_flock(int, int);
struct passwd *__real_getpwuid(uid_t);
int	 __real_getaddrinfo(const char *, const char *,
	    const struct addrinfo *, struct addrinfo **);
int	 __real_getnameinfo(const struct sockaddr *, socklen_t, char *,
	    socklen_t, char *, socklen_t, int);
int	 __real_getifaddrs(struct ifaddrs **);
int	 __real_osdep_ifdescr(const char *, char *, size_t);

/* What the linker calls instead of them. */
void	 __wrap_osdep_pledge(const char *, const char *);
void	 __wrap_osdep_unveil(const char *, const char *);
int	 __wrap_open(const char *, int, ...);
FILE	*__wrap_fopen(const char *, const char *);
int	 __wrap_stat(const char *, struct stat *);
int	 __wrap_lstat(const char *, struct stat *);
int	 __wrap_access(const char *, int);
int	 __wrap_mkdir(const char *, mode_t);
int	 __wrap_unlink(const char *);
int	 __wrap_rename(const char *, const char *);
int	 __wrap_chmod(const char *, mode_t);
int	 __wrap_chdir(const char *);
char	*__wrap_realpath(const char *, char *);
int	 __wrap_mkstemp(char *);
int	 __wrap_socket(int, int, int);
int	 __wrap_connect(int, const struct sockaddr *, socklen_t);
int	 __wrap_bind(int, const struct sockaddr *, socklen_t);
int	 __wrap_listen(int, int);
int	 __wrap_accept(int, struct sockaddr *, socklen_t *);
int	 __wrap_getpeername(int, struct sockaddr *, socklen_t *);
int	 __wrap_getsockopt(int, int, int, void *, socklen_t *);
int	 __wrap_setsockopt(int, int, int, const void *, socklen_t);
ssize_t	 __wrap_sendmsg(int, const struct msghdr *, int);
ssize_t	 __wrap_recvmsg(int, struct msghdr *, int);
int	 __wrap_ioctl(int, unsigned long, void *);
int	 __wrap_osdep_ifdescr(const char *, char *, size_t);
int	 __wrap_execvp(const char *, char *const []);
pid_t	 __wrap_fork(void);
pid_t	 __wrap_setsid(void);
int	 __wrap_setpgid(pid_t, pid_t);
int	 __wrap_kill(pid_t, int);
int	 __wrap_killpg(pid_t, int);
int	 __wrap_flock(int, int);
struct passwd *__wrap_getpwuid(uid_t);
int	 __wrap_getaddrinfo(const char *, const char *,
	    const struct addrinfo *, struct addrinfo **);
int	 __wrap_getnameinfo(const struct sockaddr *, socklen_t, char *,
	    socklen_t, char *, socklen_t, int);
int	 __wrap_getifaddrs(struct ifaddrs **);

static void	 model_report(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
static __dead void model_die(void);
static void	 model_need(uint64_t, const char *, const char *);
static const char *model_names(uint64_t, char *, size_t);
static int	 model_canon(const char *, int, char *, size_t);
static int	 model_path(const char *, const char *, int, uint64_t, int);
static int	 model_unix(const char *, const struct sockaddr *, socklen_t,
		    int);

/* One line on stderr and in VMLAUNCH_PLEDGE_LOG.PID. */
static void
model_report(const char *fmt, ...)
{
	extern char	*__progname;
	const char	*dir;
	char		 msg[1024], path[PATH_MAX];
	va_list		 ap;
	int		 fd, n;

	n = snprintf(msg, sizeof(msg), "%s[%ld]: ", __progname,
	    (long)getpid());
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n - 1, fmt, ap);
	va_end(ap);
	strlcat(msg, "\n", sizeof(msg));
	(void)write(STDERR_FILENO, msg, strlen(msg));
	if ((dir = getenv("VMLAUNCH_PLEDGE_LOG")) == NULL || *dir == '\0')
		return;
	snprintf(path, sizeof(path), "%s.%ld", dir, (long)getpid());
	if ((fd = __real_open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644)) != -1) {
		(void)write(fd, msg, strlen(msg));
		close(fd);
	}
}

/* The kernel sends an uncatchable SIGABRT (pledge_fail). */
static __dead void
model_die(void)
{
	sigset_t	 set;

	signal(SIGABRT, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGABRT);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(SIGABRT);
	_exit(134);
}

static const char *
model_names(uint64_t bits, char *buf, size_t len)
{
	size_t	 i;

	buf[0] = '\0';
	for (i = 0; i < nitems(model_promises); i++) {
		if ((bits & model_promises[i].bit) == 0)
			continue;
		if (buf[0] != '\0')
			strlcat(buf, "\" or \"", len);
		strlcat(buf, model_promises[i].name, len);
	}
	return (buf);
}

/*
 * A call that needs any one of the promises in need: as the kernel does
 * on a miss (pledge_fail), report it and die of an uncatchable SIGABRT.
 */
static void
model_need(uint64_t need, const char *call, const char *what)
{
	char	 names[256];

	if (!model_pledged || (model_promised & need) != 0)
		return;
	model_report("pledge \"%s\" needed for %s%s%s; promised \"%s\"",
	    model_names(need, names, sizeof(names)), call,
	    what != NULL ? " " : "", what != NULL ? what : "",
	    model_promisestr);
	model_die();
}

/*
 * The name a path has for unveil: absolute, its directory with links
 * resolved, and the last component too when the call follows links.
 * -1 when the directory does not exist (the call fails on its own).
 */
static int
model_canon(const char *path, int follow, char *out, size_t len)
{
	char	 abs[PATH_MAX], dir[PATH_MAX], cwd[PATH_MAX], *slash;
	char	*base;

	if (path[0] == '/')
		strlcpy(abs, path, sizeof(abs));
	else if (getcwd(cwd, sizeof(cwd)) == NULL ||
	    (size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, path) >=
	    sizeof(abs))
		return (-1);
	while (strlen(abs) > 1 && abs[strlen(abs) - 1] == '/')
		abs[strlen(abs) - 1] = '\0';
	if (follow && __real_realpath(abs, dir) != NULL) {
		strlcpy(out, dir, len);
		return (0);
	}
	slash = strrchr(abs, '/');
	base = slash + 1;
	if (slash == abs)
		strlcpy(cwd, "/", sizeof(cwd));
	else {
		*slash = '\0';
		strlcpy(cwd, abs, sizeof(cwd));
	}
	if (strcmp(base, "..") == 0 || strcmp(base, ".") == 0 ||
	    *base == '\0')
		return (__real_realpath(abs, out) == NULL ? -1 : 0);
	if (__real_realpath(cwd, dir) == NULL)
		return (-1);
	if ((size_t)snprintf(out, len, "%s%s%s", dir, strcmp(dir, "/") == 0 ?
	    "" : "/", base) >= len)
		return (-1);
	return (0);
}

/*
 * The checks of namei(): the promises the call needs (any of need, 0
 * for none), then the unveil permissions.  -1 with errno ENOENT or
 * EACCES when unveil hides the path, as the kernel answers.
 */
static int
model_path(const char *call, const char *path, int perms, uint64_t need,
    int follow)
{
	const struct model_rule	*r, *best = NULL;
	char			 canon[PATH_MAX], want[8];
	size_t			 l, bestlen = 0;
	int			 i;

	if (model_quiet)
		return (0);
	if (need != 0)
		model_need(need, call, path);
	if (model_nrules == 0 || model_canon(path, follow, canon,
	    sizeof(canon)) == -1)
		return (0);
	for (i = 0; i < model_nrules; i++) {
		r = &model_rules[i];
		l = strlen(r->path);
		if (strcmp(r->path, canon) == 0) {
			best = r;
			break;
		}
		if (r->isdir && l > bestlen && strncmp(r->path, canon, l) == 0 &&
		    (canon[l] == '/' || strcmp(r->path, "/") == 0)) {
			best = r;
			bestlen = l;
		}
	}
	snprintf(want, sizeof(want), "%s%s%s%s", perms & UV_R ? "r" : "",
	    perms & UV_W ? "w" : "", perms & UV_X ? "x" : "",
	    perms & UV_C ? "c" : "");
	if (best == NULL) {
		model_report("unveil: %s \"%s\" (%s) needs \"%s\": not "
		    "unveiled, ENOENT", call, path, canon, want);
		errno = ENOENT;
		return (-1);
	}
	if ((best->perms & perms) != perms) {
		model_report("unveil: %s \"%s\" (%s) needs \"%s\": \"%s\" "
		    "unveiled without it, EACCES", call, path, canon, want,
		    best->path);
		errno = EACCES;
		return (-1);
	}
	return (0);
}

/* connect and bind on a UNIX socket look the path up like a file. */
static int
model_unix(const char *call, const struct sockaddr *sa, socklen_t len,
    int perms)
{
	const struct sockaddr_un	*sun = (const struct sockaddr_un *)sa;
	char				 path[sizeof(sun->sun_path) + 1];

	if (sa == NULL || len <= offsetof(struct sockaddr_un, sun_path))
		return (0);
	memset(path, 0, sizeof(path));
	memcpy(path, sun->sun_path, len - offsetof(struct sockaddr_un,
	    sun_path) < sizeof(sun->sun_path) ? len -
	    offsetof(struct sockaddr_un, sun_path) : sizeof(sun->sun_path));
	if (path[0] == '\0')		/* Linux's abstract namespace */
		return (0);
	return (model_path(call, path, perms, M_UNIX, perms != UV_C));
}

/* The socket calls check the domain once the promise allows them. */
static void
model_family(const char *call, int family)
{
	char	 what[32];

	model_need(M_INET | M_UNIX | M_DNS, call, NULL);
	switch (family) {
	case AF_INET:
	case AF_INET6:
		model_need(M_INET, call, family == AF_INET ? "AF_INET" :
		    "AF_INET6");
		break;
	case AF_UNIX:
		model_need(M_UNIX, call, "AF_UNIX");
		break;
	default:
		/* pledge_socket() refuses other families under any promise. */
		if (model_pledged) {
			snprintf(what, sizeof(what), "family %d", family);
			model_report("pledge \"inet\" needed for %s of %s, "
			    "which no promise allows", call, what);
			model_die();
		}
	}
}

void
__wrap_osdep_pledge(const char *promises, const char *execpromises)
{
	char		 buf[sizeof(model_promisestr)], *p, *w;
	uint64_t	 bits = 0;
	size_t		 i;

	if (promises == NULL)
		return;
	if (strlcpy(buf, promises, sizeof(buf)) >= sizeof(buf)) {
		model_report("pledge \"%s\": too long", promises);
		model_die();
	}
	for (p = buf; (w = strsep(&p, " ")) != NULL;) {
		if (*w == '\0')
			continue;
		for (i = 0; i < nitems(model_promises); i++)
			if (strcmp(w, model_promises[i].name) == 0)
				break;
		if (i == nitems(model_promises)) {
			model_report("pledge \"%s\": no promise \"%s\" "
			    "(EINVAL)", promises, w);
			model_die();
		}
		bits |= model_promises[i].bit;
	}
	if (model_pledged && (bits | model_promised) != model_promised) {
		model_report("pledge \"%s\": more than the \"%s\" promised "
		    "before (EPERM)", promises, model_promisestr);
		model_die();
	}
	model_pledged = 1;
	model_promised = bits;
	strlcpy(model_promisestr, promises, sizeof(model_promisestr));
	/* unveil needs its promise once pledged. */
	if ((bits & M_UNVEIL) == 0)
		model_locked = 1;
	/* The kernel drops unveil with the last promise that uses paths. */
	if ((bits & (M_RPATH | M_WPATH | M_CPATH | M_DPATH | M_TMPPATH |
	    M_EXEC | M_UNIX | M_UNVEIL)) == 0)
		model_nrules = 0;
}

void
__wrap_osdep_unveil(const char *path, const char *permissions)
{
	struct model_rule	*r;
	struct stat		 st;
	const char		*c;

	if (path == NULL && permissions == NULL) {
		model_locked = 1;
		return;
	}
	if (model_locked) {
		model_report("unveil \"%s\" after the lock (EPERM)",
		    path != NULL ? path : "(null)");
		model_die();
	}
	if (path == NULL || permissions == NULL || *path == '\0') {
		model_report("unveil: bad arguments (EINVAL)");
		model_die();
	}
	if (model_nrules == MODEL_RULES) {
		model_report("unveil \"%s\": too many paths (E2BIG)", path);
		model_die();
	}
	r = &model_rules[model_nrules];
	memset(r, 0, sizeof(*r));
	for (c = permissions; *c != '\0'; c++) {
		switch (*c) {
		case 'r': r->perms |= UV_R; break;
		case 'w': r->perms |= UV_W; break;
		case 'x': r->perms |= UV_X; break;
		case 'c': r->perms |= UV_C; break;
		default:
			model_report("unveil \"%s\" \"%s\": bad permissions "
			    "(EINVAL)", path, permissions);
			model_die();
		}
	}
	/* A path under a missing directory: ENOENT, osdep_unveil goes on. */
	if (model_canon(path, 1, r->path, sizeof(r->path)) == -1)
		return;
	r->isdir = __real_stat(r->path, &st) == 0 && S_ISDIR(st.st_mode);
	model_nrules++;
}

int
__wrap_open(const char *path, int flags, ...)
{
	va_list		 ap;
	mode_t		 mode = 0;
	uint64_t	 need = 0;
	int		 perms = 0, acc = flags & O_ACCMODE;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, int);
		va_end(ap);
	}
	if (model_quiet)
		return (__real_open(path, flags, mode));
	if (acc == O_RDONLY || acc == O_RDWR) {
		perms |= UV_R;
		need |= M_RPATH;
	}
	if (acc == O_WRONLY || acc == O_RDWR) {
		perms |= UV_W;
		need |= M_WPATH;
	}
	if (flags & O_CREAT) {
		perms |= UV_C;
		need |= M_CPATH;
	}
	/* daemon(3) and friends: kern_pledge.c lets /dev/null through. */
	if ((perms & UV_C) == 0 && strcmp(path, "/dev/null") == 0)
		return (__real_open(path, flags, mode));
	/* Each promise is needed on its own: check them one by one. */
	if (need & M_RPATH)
		model_need(M_RPATH, "open", path);
	if (need & M_WPATH)
		model_need(M_WPATH, "open", path);
	if (need & M_CPATH)
		model_need(M_CPATH, "open", path);
	if (model_path("open", path, perms, 0, 1) == -1)
		return (-1);
	return (__real_open(path, flags, mode));
}

FILE *
__wrap_fopen(const char *path, const char *mode)
{
	int	 flags;

	switch (mode[0]) {
	case 'r':
		flags = strchr(mode, '+') ? O_RDWR : O_RDONLY;
		break;
	case 'w':
	case 'a':
		flags = (strchr(mode, '+') ? O_RDWR : O_WRONLY) | O_CREAT;
		break;
	default:
		return (__real_fopen(path, mode));
	}
	if (strcmp(path, "/dev/null") != 0 || (flags & O_CREAT)) {
		if ((flags & O_ACCMODE) != O_WRONLY)
			model_need(M_RPATH, "fopen", path);
		if ((flags & O_ACCMODE) != O_RDONLY)
			model_need(M_WPATH, "fopen", path);
		if (flags & O_CREAT)
			model_need(M_CPATH, "fopen", path);
		if (model_path("fopen", path, ((flags & O_ACCMODE) !=
		    O_WRONLY ? UV_R : 0) | ((flags & O_ACCMODE) != O_RDONLY ?
		    UV_W : 0) | (flags & O_CREAT ? UV_C : 0), 0, 1) == -1)
			return (NULL);
	}
	return (__real_fopen(path, mode));
}

int
__wrap_stat(const char *path, struct stat *st)
{
	if (model_path("stat", path, UV_R, M_RPATH, 1) == -1)
		return (-1);
	return (__real_stat(path, st));
}

int
__wrap_lstat(const char *path, struct stat *st)
{
	if (model_path("lstat", path, UV_R, M_RPATH, 0) == -1)
		return (-1);
	return (__real_lstat(path, st));
}

int
__wrap_access(const char *path, int amode)
{
	if (model_path("access", path, UV_R | (amode & W_OK ? UV_W : 0),
	    M_RPATH, 1) == -1)
		return (-1);
	return (__real_access(path, amode));
}

int
__wrap_mkdir(const char *path, mode_t mode)
{
	if (model_path("mkdir", path, UV_C, M_CPATH, 0) == -1)
		return (-1);
	return (__real_mkdir(path, mode));
}

int
__wrap_unlink(const char *path)
{
	if (model_path("unlink", path, UV_C, M_CPATH, 0) == -1)
		return (-1);
	return (__real_unlink(path));
}

int
__wrap_rename(const char *from, const char *to)
{
	model_need(M_RPATH, "rename", from);
	model_need(M_CPATH, "rename", from);
	if (model_path("rename", from, UV_R | UV_C, 0, 0) == -1 ||
	    model_path("rename to", to, UV_C, M_CPATH, 0) == -1)
		return (-1);
	return (__real_rename(from, to));
}

int
__wrap_chmod(const char *path, mode_t mode)
{
	model_need(M_FATTR, "chmod", path);
	if (model_path("chmod", path, UV_W, M_RPATH, 1) == -1)
		return (-1);
	return (__real_chmod(path, mode));
}

int
__wrap_chdir(const char *path)
{
	if (model_path("chdir", path, UV_R, M_RPATH, 1) == -1)
		return (-1);
	return (__real_chdir(path));
}

char *
__wrap_realpath(const char *path, char *resolved)
{
	if (model_path("realpath", path, UV_R, M_RPATH, 1) == -1)
		return (NULL);
	return (__real_realpath(path, resolved));
}

/* OpenBSD's mkstemp opens O_RDWR|O_CREAT|O_EXCL in the directory. */
int
__wrap_mkstemp(char *template)
{
	model_need(M_RPATH, "mkstemp", template);
	model_need(M_WPATH, "mkstemp", template);
	model_need(M_CPATH, "mkstemp", template);
	if (model_path("mkstemp", template, UV_R | UV_W | UV_C, 0, 0) == -1)
		return (-1);
	return (__real_mkstemp(template));
}

int
__wrap_socket(int domain, int type, int protocol)
{
	model_family("socket", domain);
	return (__real_socket(domain, type, protocol));
}

int
__wrap_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	model_family("connect", sa->sa_family);
	if (sa->sa_family == AF_UNIX && model_unix("connect", sa, len,
	    UV_W) == -1)
		return (-1);
	return (__real_connect(fd, sa, len));
}

int
__wrap_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	model_family("bind", sa->sa_family);
	if (sa->sa_family == AF_UNIX && model_unix("bind", sa, len,
	    UV_C) == -1)
		return (-1);
	return (__real_bind(fd, sa, len));
}

int
__wrap_listen(int fd, int backlog)
{
	model_need(M_INET | M_UNIX, "listen", NULL);
	return (__real_listen(fd, backlog));
}

int
__wrap_accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	model_need(M_INET | M_UNIX, "accept", NULL);
	return (__real_accept(fd, sa, len));
}

int
__wrap_getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	model_need(M_INET | M_UNIX, "getpeername", NULL);
	return (__real_getpeername(fd, sa, len));
}

/* pledge_sockopt(), for the levels and names vmlaunch can use. */
static void
model_sockopt(const char *call, int level, int name)
{
	char	 what[48];

	if (level == SOL_SOCKET && (name == SO_RCVBUF || name == SO_ERROR))
		return;
	snprintf(what, sizeof(what), "level %d option %d", level, name);
	model_need(M_INET | M_UNIX | M_DNS, call, what);
	if (level == SOL_SOCKET)
		model_need(M_INET | M_UNIX, call, what);
	else
		model_need(M_INET, call, what);
}

int
__wrap_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	model_sockopt("getsockopt", level, name);
	return (__real_getsockopt(fd, level, name, val, len));
}

int
__wrap_setsockopt(int fd, int level, int name, const void *val,
    socklen_t len)
{
	model_sockopt("setsockopt", level, name);
	return (__real_setsockopt(fd, level, name, val, len));
}

/* An address needs a network promise; descriptors need "sendfd". */
ssize_t
__wrap_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct cmsghdr	*cmsg;

	if (msg->msg_name != NULL)
		model_need(M_INET | M_UNIX | M_DNS, "sendmsg", "to an address");
	if (msg->msg_controllen > 0) {
		for (cmsg = CMSG_FIRSTHDR((struct msghdr *)msg); cmsg != NULL;
		    cmsg = CMSG_NXTHDR((struct msghdr *)msg, cmsg))
			if (cmsg->cmsg_level == SOL_SOCKET &&
			    cmsg->cmsg_type == SCM_RIGHTS)
				model_need(M_SENDFD, "sendmsg",
				    "with SCM_RIGHTS");
	}
	return (__real_sendmsg(fd, msg, flags));
}

/* The kernel refuses a descriptor as it arrives (unp_externalize). */
ssize_t
__wrap_recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct cmsghdr	*cmsg;
	ssize_t		 n;

	if ((n = __real_recvmsg(fd, msg, flags)) == -1 ||
	    msg->msg_controllen == 0)
		return (n);
	for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(msg, cmsg))
		if (cmsg->cmsg_level == SOL_SOCKET &&
		    cmsg->cmsg_type == SCM_RIGHTS)
			model_need(M_RECVFD, "recvmsg", "with SCM_RIGHTS");
	return (n);
}

/* pledge_ioctl(): a few requests for all, the rest by promise. */
int
__wrap_ioctl(int fd, unsigned long req, void *arg)
{
	char	 what[48];

	switch (req) {
	case FIONREAD:
	case FIONBIO:
	case FIOCLEX:
	case FIONCLEX:
		break;
	case TIOCGWINSZ:
	case TCGETS:
		model_need(M_TTY, "ioctl", req == TIOCGWINSZ ? "TIOCGWINSZ" :
		    "TIOCGETA");
		break;
	default:
		/* Not one vmlaunch makes: the kernel would name "tty". */
		if (model_pledged) {
			snprintf(what, sizeof(what), "request 0x%lx", req);
			model_report("pledge \"tty\" needed for ioctl %s, "
			    "which the model does not know", what);
			model_die();
		}
	}
	return (__real_ioctl(fd, req, arg));
}

/*
 * OpenBSD's SIOCGIFDESCR on an AF_INET socket, where Linux reads sysfs:
 * charge the socket and the ioctl, then let the sysfs read through.
 */
int
__wrap_osdep_ifdescr(const char *ifname, char *buf, size_t len)
{
	int	 rc, saved;

	model_family("socket", AF_INET);
	model_need(M_ROUTE, "ioctl", "SIOCGIFDESCR");
	model_quiet++;
	rc = __real_osdep_ifdescr(ifname, buf, len);
	saved = errno;
	model_quiet--;
	errno = saved;
	return (rc);
}

/* The #! interpreter of a script, looked up by exec under unveil too. */
static int
model_interp(const char *path, char *interp, size_t len)
{
	char	 buf[256], *p, *e;
	ssize_t	 n;
	int	 fd;

	if ((fd = __real_open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 3 || buf[0] != '#' || buf[1] != '!')
		return (-1);
	buf[n] = '\0';
	for (p = buf + 2; *p == ' ' || *p == '\t'; p++)
		;
	e = p + strcspn(p, " \t\n");
	*e = '\0';
	if (*p == '\0')
		return (-1);
	strlcpy(interp, p, len);
	return (0);
}

int
__wrap_execvp(const char *file, char *const argv[])
{
	char		 path[PATH_MAX], interp[PATH_MAX], *dirs, *d, *p;
	const char	*env;

	model_need(M_EXEC, "execvp", file);
	if (strchr(file, '/') != NULL)
		strlcpy(path, file, sizeof(path));
	else {
		/* The PATH search, to know which file the kernel sees. */
		path[0] = '\0';
		if ((env = getenv("PATH")) == NULL)
			env = "/bin:/usr/bin";
		if ((dirs = strdup(env)) == NULL)
			return (__real_execvp(file, argv));
		for (p = dirs; (d = strsep(&p, ":")) != NULL;) {
			snprintf(path, sizeof(path), "%s/%s", *d ? d : ".",
			    file);
			if (__real_access(path, X_OK) == 0)
				break;
			path[0] = '\0';
		}
		free(dirs);
		if (path[0] == '\0')
			return (__real_execvp(file, argv));
	}
	if (model_path("execve", path, UV_X, 0, 1) == -1)
		return (-1);
	if (model_interp(path, interp, sizeof(interp)) == 0 &&
	    model_path("execve (the #! interpreter of)", interp, UV_X, 0, 1) ==
	    -1)
		return (-1);
	return (__real_execvp(file, argv));
}

pid_t
__wrap_fork(void)
{
	model_need(M_PROC, "fork", NULL);
	return (__real_fork());
}

pid_t
__wrap_setsid(void)
{
	model_need(M_PROC, "setsid", NULL);
	return (__real_setsid());
}

int
__wrap_setpgid(pid_t pid, pid_t pgid)
{
	model_need(M_PROC, "setpgid", NULL);
	return (__real_setpgid(pid, pgid));
}

/* "stdio" may signal itself; anyone else takes "proc". */
int
__wrap_kill(pid_t pid, int sig)
{
	if (pid != 0 && pid != getpid())
		model_need(M_PROC, "kill", "of another process");
	return (__real_kill(pid, sig));
}

int
__wrap_killpg(pid_t pgrp, int sig)
{
	model_need(M_PROC, "killpg", NULL);
	return (__real_killpg(pgrp, sig));
}

int
__wrap_flock(int fd, int op)
{
	model_need(M_FLOCK, "flock", NULL);
	return (__real_flock(fd, op));
}

/* /etc/pwd.db opens only under "getpw" (pledge_namei's whitelist). */
struct passwd *
__wrap_getpwuid(uid_t uid)
{
	model_need(M_GETPW, "getpwuid", NULL);
	return (__real_getpwuid(uid));
}

int
__wrap_getaddrinfo(const char *host, const char *serv,
    const struct addrinfo *hints, struct addrinfo **res)
{
	if (host != NULL && (hints == NULL ||
	    (hints->ai_flags & AI_NUMERICHOST) == 0))
		model_need(M_DNS, "getaddrinfo", host);
	return (__real_getaddrinfo(host, serv, hints, res));
}

int
__wrap_getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
    socklen_t hostlen, char *serv, socklen_t servlen, int flags)
{
	if ((host != NULL && (flags & NI_NUMERICHOST) == 0) ||
	    (serv != NULL && (flags & NI_NUMERICSERV) == 0))
		model_need(M_DNS, "getnameinfo", "by name");
	return (__real_getnameinfo(sa, salen, host, hostlen, serv, servlen,
	    flags));
}

/* The sysctl net.route.0.0.iflist that getifaddrs(3) reads. */
int
__wrap_getifaddrs(struct ifaddrs **ifap)
{
	model_need(M_ROUTE | M_INET | M_DNS, "getifaddrs", "(sysctl "
	    "NET_RT_IFLIST)");
	return (__real_getifaddrs(ifap));
}
