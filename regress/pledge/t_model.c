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
 * The pledge model tested on its own: each case runs in a child linked
 * with the model's wrappers, and must die of SIGABRT with the report the
 * kernel would give, fail with the errno unveil gives, or (the controls,
 * which show the model is not simply refusing everything) pass quietly.
 *
 * usage: t_model DIR	(a private directory for files and reports)
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"

static const char	*dir;
static char		 sub[1024], script[1024];

/* An AF_INET socket, then the interface description, after promises. */
static int
t_inet(const char *promises, int ifdescr)
{
	char	 buf[64];

	osdep_pledge(promises, NULL);
	if (ifdescr)
		(void)osdep_ifdescr("lo", buf, sizeof(buf));
	return (socket(AF_INET, SOCK_STREAM, 0) == -1);
}

static int
t_socket_inet(void)
{
	return (t_inet("stdio", 0));
}

static int
t_socket_unix_only(void)
{
	return (t_inet("stdio unix", 0));
}

static int
t_ifdescr_noroute(void)
{
	return (t_inet("stdio inet", 1));
}

static int
t_ifdescr_route(void)
{
	return (t_inet("stdio inet route", 1));
}

static int
t_sendfd(void)
{
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct iovec	 iov;
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} cm;
	int		 sv[2], fd = 0;
	char		 c = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return (1);
	osdep_pledge("stdio unix", NULL);
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &c;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(fd));
	(void)sendmsg(sv[0], &msg, 0);
	return (0);
}

static int
t_fork(void)
{
	osdep_pledge("stdio", NULL);
	if (fork() == 0)
		_exit(0);
	return (0);
}

static int
t_exec(void)
{
	char	*argv[] = { "true", NULL };

	osdep_pledge("stdio proc", NULL);
	execvp("true", argv);
	return (1);
}

static int
t_getpw(void)
{
	osdep_pledge("stdio rpath", NULL);
	(void)getpwuid(getuid());
	return (0);
}

static int
t_kill(void)
{
	osdep_pledge("stdio", NULL);
	(void)kill(getpid(), 0);	/* itself: fine */
	(void)kill(getppid(), 0);
	return (0);
}

static int
t_increase(void)
{
	osdep_pledge("stdio rpath", NULL);
	osdep_pledge("stdio rpath wpath", NULL);
	return (0);
}

static int
t_unknown(void)
{
	osdep_pledge("stdio rpth", NULL);
	return (0);
}

static int
t_unveil_locked(void)
{
	osdep_unveil(dir, "r");
	osdep_unveil(NULL, NULL);
	osdep_unveil("/tmp", "r");
	return (0);
}

/* Exit 0 only if the open outside is ENOENT and the write is EACCES. */
static int
t_unveil_paths(void)
{
	char	 path[1100];
	int	 fd;

	osdep_unveil(sub, "r");
	osdep_unveil(NULL, NULL);
	osdep_pledge("stdio rpath wpath", NULL);
	snprintf(path, sizeof(path), "%s/f", sub);
	if ((fd = open(path, O_RDONLY)) == -1)
		return (10);
	close(fd);
	if (open("/etc/passwd", O_RDONLY) != -1 || errno != ENOENT)
		return (11);
	if (open(path, O_WRONLY) != -1 || errno != EACCES)
		return (12);
	return (0);
}

static int
t_devnull(void)
{
	int	 fd;

	osdep_unveil(sub, "r");
	osdep_unveil(NULL, NULL);
	osdep_pledge("stdio", NULL);
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		return (1);
	close(fd);
	return (0);
}

/* The script is unveiled, its interpreter is not: exec fails. */
static int
t_interp(void)
{
	char	*argv[] = { script, NULL };

	osdep_unveil(script, "x");
	osdep_unveil(NULL, NULL);
	osdep_pledge("stdio exec", NULL);
	execvp(script, argv);
	return (errno == ENOENT ? 0 : 1);
}

static int
t_interp_unveiled(void)
{
	char	*argv[] = { script, NULL };

	osdep_unveil(script, "x");
	osdep_unveil("/bin/sh", "x");
	osdep_unveil(NULL, NULL);
	osdep_pledge("stdio exec", NULL);
	execvp(script, argv);
	return (1);
}

static const struct {
	const char	*name;
	int		(*fn)(void);
	int		 sig;		/* 0: exits with exitcode */
	int		 exitcode;
	const char	*report;	/* NULL: must report nothing */
} cases[] = {
	{ "socket under stdio", t_socket_inet, SIGABRT, 0,
	    "pledge \"dns\" or \"inet\" or \"unix\" needed for socket;" },
	{ "socket AF_INET under stdio unix", t_socket_unix_only, SIGABRT, 0,
	    "pledge \"inet\" needed for socket AF_INET" },
	{ "interface description without route", t_ifdescr_noroute,
	    SIGABRT, 0, "pledge \"route\" needed for ioctl SIOCGIFDESCR" },
	{ "interface description with route", t_ifdescr_route, 0, 0, NULL },
	{ "a descriptor sent without sendfd", t_sendfd, SIGABRT, 0,
	    "pledge \"sendfd\" needed for sendmsg with SCM_RIGHTS" },
	{ "fork without proc", t_fork, SIGABRT, 0,
	    "pledge \"proc\" needed for fork" },
	{ "execvp without exec", t_exec, SIGABRT, 0,
	    "pledge \"exec\" needed for execvp true" },
	{ "getpwuid without getpw", t_getpw, SIGABRT, 0,
	    "pledge \"getpw\" needed for getpwuid" },
	{ "kill of another process without proc", t_kill, SIGABRT, 0,
	    "pledge \"proc\" needed for kill of another process" },
	{ "a pledge asking for more", t_increase, SIGABRT, 0,
	    "more than the \"stdio rpath\" promised before" },
	{ "an unknown promise", t_unknown, SIGABRT, 0,
	    "no promise \"rpth\"" },
	{ "unveil after the lock", t_unveil_locked, SIGABRT, 0,
	    "unveil \"/tmp\" after the lock" },
	{ "paths outside unveil: ENOENT, EACCES", t_unveil_paths, 0, 0,
	    "\"/etc/passwd\" (/etc/passwd) needs \"r\": not unveiled" },
	{ "/dev/null past unveil and under stdio", t_devnull, 0, 0, NULL },
	{ "a script whose #! interpreter is hidden", t_interp, 0, 0,
	    "execve (the #! interpreter of) \"/bin/sh\"" },
	{ "a script with its interpreter unveiled", t_interp_unveiled, 0, 0,
	    NULL },
};

/* Everything the child reported, "" for nothing. */
static void
t_reports(const char *prefix, pid_t pid, char *buf, size_t len)
{
	char	 path[1200];
	FILE	*fp;
	size_t	 n = 0;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s.%ld", prefix, (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return;
	n = fread(buf, 1, len - 1, fp);
	buf[n] = '\0';
	fclose(fp);
}

int
main(int argc, char *argv[])
{
	char		 prefix[1100], got[4096], path[1100];
	size_t		 i;
	pid_t		 pid;
	FILE		*fp;
	int		 status, ok, pass = 0, fail = 0, devnull;

	if (argc != 2) {
		fprintf(stderr, "usage: t_model dir\n");
		return (2);
	}
	dir = argv[1];
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(path, sizeof(path), "%s/f", sub);
	snprintf(script, sizeof(script), "%s/script", dir);
	if ((mkdir(sub, 0700) == -1 && errno != EEXIST) ||
	    (fp = fopen(path, "w")) == NULL || fclose(fp) == EOF ||
	    (fp = fopen(script, "w")) == NULL ||
	    fputs("#!/bin/sh\nexit 0\n", fp) == EOF || fclose(fp) == EOF ||
	    chmod(script, 0755) == -1) {
		perror(dir);
		return (2);
	}

	for (i = 0; i < nitems(cases); i++) {
		snprintf(prefix, sizeof(prefix), "%s/report%zu", dir, i);
		if ((pid = fork()) == -1) {
			perror("fork");
			return (2);
		}
		if (pid == 0) {
			setenv("VMLAUNCH_PLEDGE_LOG", prefix, 1);
			/* The model also writes to stderr: not here. */
			if ((devnull = open("/dev/null", O_WRONLY)) != -1)
				dup2(devnull, STDERR_FILENO);
			_exit(cases[i].fn());
		}
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		t_reports(prefix, pid, got, sizeof(got));
		if (cases[i].sig != 0)
			ok = WIFSIGNALED(status) &&
			    WTERMSIG(status) == cases[i].sig;
		else
			ok = WIFEXITED(status) &&
			    WEXITSTATUS(status) == cases[i].exitcode;
		if (cases[i].report == NULL)
			ok = ok && got[0] == '\0';
		else
			ok = ok && strstr(got, cases[i].report) != NULL;
		if (ok) {
			printf("ok: %s\n", cases[i].name);
			pass++;
			continue;
		}
		printf("FAIL: %s: ", cases[i].name);
		if (WIFSIGNALED(status))
			printf("killed by signal %d", WTERMSIG(status));
		else
			printf("exit %d", WEXITSTATUS(status));
		printf(", reported: %s\n", got[0] != '\0' ? got : "nothing\n");
		fail++;
	}
	printf("%d passed, %d failed\n", pass, fail);
	return (fail != 0);
}
