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
 * unveil(2) for the two roles that still use the filesystem once they
 * run: the supervisor and vmlaunch -s.  What each may see is decided
 * from the config in one go, before the first unveil, because a
 * program's #! line cannot be read once its file is hidden; then the
 * view is locked.  Each role's pledge stays beside the code that
 * pledges, with the reason for every promise; SECURITY.md lists what is
 * unveiled and why.
 *
 * A program needs only "x" on itself and on its #! interpreter (the
 * kernel looks both up under our unveil): with no execpromises, exec
 * leaves pledge and unveil behind, so vmctl, ssh and the shell of a
 * backend command, and whatever they run through PATH, are unrestricted.
 */

#include <sys/types.h>

#include <fcntl.h>
#include <limits.h>
#include <paths.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"

#define SANDBOX_MAX	32

struct sandbox {
	size_t		 n;
	char		*path[SANDBOX_MAX];
	const char	*perms[SANDBOX_MAX];
};

static void	 sandbox_add(struct sandbox *, const char *, const char *);
static void	 sandbox_program(struct sandbox *, const char *);
static void	 sandbox_apply(struct sandbox *);

static void
sandbox_add(struct sandbox *sb, const char *path, const char *perms)
{
	size_t	 i;

	for (i = 0; i < sb->n; i++)
		if (strcmp(sb->path[i], path) == 0 &&
		    strcmp(sb->perms[i], perms) == 0)
			return;
	if (sb->n == SANDBOX_MAX)
		fatalx("unveil: more than %d paths", SANDBOX_MAX);
	if ((sb->path[sb->n] = strdup(path)) == NULL)
		fatal("unveil");
	sb->perms[sb->n++] = perms;
}

/*
 * The file execvp will run for this command line (through PATH for a
 * bare name, as execvp searches it), and its #! interpreter if any.  A
 * program that cannot be found is left out: its exec fails either way.
 */
static void
sandbox_program(struct sandbox *sb, const char *cmdline)
{
	char		**argv, *dirs, *d, *p, path[PATH_MAX], line[PATH_MAX];
	const char	 *env;
	ssize_t		  n;
	int		  fd;

	if ((argv = job_argv(cmdline, NULL)) == NULL)
		fatal("unveil");
	path[0] = '\0';
	if (argv[0] != NULL && strchr(argv[0], '/') != NULL)
		strlcpy(path, argv[0], sizeof(path));
	else if (argv[0] != NULL) {
		if ((env = getenv("PATH")) == NULL)
			env = _PATH_DEFPATH;
		if ((dirs = strdup(env)) == NULL)
			fatal("unveil");
		for (p = dirs; (d = strsep(&p, ":")) != NULL;) {
			if ((size_t)snprintf(path, sizeof(path), "%s/%s",
			    *d != '\0' ? d : ".", argv[0]) < sizeof(path) &&
			    access(path, X_OK) == 0)
				break;
			path[0] = '\0';
		}
		free(dirs);
	}
	job_argv_free(argv);
	if (path[0] == '\0')
		return;
	sandbox_add(sb, path, "x");

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n < 3 || line[0] != '#' || line[1] != '!')
		return;
	line[n] = '\0';
	p = line + 2 + strspn(line + 2, " \t");
	p[strcspn(p, " \t\n")] = '\0';
	if (*p != '\0')
		sandbox_add(sb, p, "x");
}

static void
sandbox_apply(struct sandbox *sb)
{
	size_t	 i;

	for (i = 0; i < sb->n; i++) {
		log_debug("unveil %s \"%s\"", sb->path[i], sb->perms[i]);
		osdep_unveil(sb->path[i], sb->perms[i]);
		free(sb->path[i]);
	}
	osdep_unveil(NULL, NULL);
}

/*
 * The supervisor: the files of its config, read again on SIGHUP (an
 * include added later cannot be, and the reload says so and keeps the
 * old config); its directory; the programs it runs; the stdin of those;
 * the resolver's files for fixed host names.
 */
void
sandbox_supervisor(struct config *conf)
{
	struct sandbox	 sb;
	struct conffile	*cf;
	char		*dir;

	memset(&sb, 0, sizeof(sb));
	TAILQ_FOREACH(cf, &conf->files, entry)
		sandbox_add(&sb, cf->path, "r");
	/* The state file (fopen, mkstemp, rename), the socket's unlink. */
	if ((dir = config_dir_path(conf)) == NULL)
		fatalx("cannot tell where the control socket goes");
	sandbox_add(&sb, dir, "rwc");
	free(dir);
	sandbox_program(&sb, conf->vmctl != NULL ? conf->vmctl :
	    VMCTL_PATH);
	sandbox_program(&sb, config_ssh(conf));
	/* A reload may bring in a backend or address command: always. */
	sandbox_program(&sb, BACKEND_SHELL);
	sandbox_add(&sb, "/dev/null", "rw");
	sandbox_add(&sb, "/etc/resolv.conf", "r");
	sandbox_add(&sb, "/etc/hosts", "r");
	sandbox_apply(&sb);
}

/*
 * vmlaunch -s: the socket's directory (lstat, access) and the socket
 * (connect); vmctl and the shell of backend commands, asked directly
 * when no supervisor answers, and their stdin.
 */
void
sandbox_status(struct config *conf)
{
	struct sandbox	 sb;
	char		*dir, *path;

	memset(&sb, 0, sizeof(sb));
	if ((dir = config_dir_path(conf)) != NULL &&
	    (path = config_socket_path(conf)) != NULL) {
		sandbox_add(&sb, dir, "r");
		sandbox_add(&sb, path, "w");
		free(path);
	}
	free(dir);
	sandbox_program(&sb, conf->vmctl != NULL ? conf->vmctl :
	    VMCTL_PATH);
	sandbox_program(&sb, BACKEND_SHELL);
	sandbox_add(&sb, "/dev/null", "rw");
	sandbox_apply(&sb);
}
