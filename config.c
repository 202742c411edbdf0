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
 * What the running program asks of a config, once parse.y has built it:
 * which VM a host name or a name means, where the control socket and
 * the state file go (and that their directory is private), the ssh
 * command and the host name apps reach a VM by.  And the names: what
 * vmd accepts as a VM name, what we accept as a host name.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"

/*
 * The socket's directory must be ours and private, or another user could
 * plant a socket there and get our sessions.  Created (0700) if asked.
 * -1 with a message in err.
 */
int
config_dir_check(const char *dir, int create, char *err, size_t errlen)
{
	struct stat	 st;

	if (lstat(dir, &st) == -1) {
		if (errno != ENOENT || !create) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			return (-1);
		}
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "mkdir %s: %s", dir,
			    strerror(errno));
			return (-1);
		}
		if (lstat(dir, &st) == -1) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			return (-1);
		}
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return (-1);
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %u, not by us", dir,
		    (unsigned)st.st_uid);
		return (-1);
	}
	if ((st.st_mode & 07777) != 0700) {
		snprintf(err, errlen, "%s: mode %04o, must be 0700", dir,
		    (unsigned)(st.st_mode & 07777));
		return (-1);
	}
	return (0);
}

/* A backend command as vmlaunch.conf calls it: "force stop". */
const char *
config_backend_word(enum backend_cmd cmd)
{
	static const char *const words[BACKEND_NCMDS] = {
		[BACKEND_START] = "start",
		[BACKEND_STOP] = "stop",
		[BACKEND_KILL] = "force stop",
		[BACKEND_STATUS] = "status",
		[BACKEND_PAUSE] = "pause",
		[BACKEND_UNPAUSE] = "unpause"
	};

	return (words[cmd]);
}

const char *
config_ssh(struct config *conf)
{
	return (conf->ssh != NULL ? conf->ssh : SSH_PATH);
}

/*
 * The name an app's ssh is given: NAME.DOMAIN with the first domain
 * (so the user's ssh_config and vmlaunch as ProxyCommand apply), else
 * NAME.  The caller frees it.
 */
char *
config_app_host(struct config *conf, const char *name)
{
	struct domain	*d;
	char		*h;

	if ((d = TAILQ_FIRST(&conf->domains)) != NULL) {
		if (asprintf(&h, "%s.%s", name, d->name) == -1)
			fatal("asprintf");
	} else if ((h = strdup(name)) == NULL)
		fatal("strdup");
	return (h);
}

/* NULL if the name is valid as vmd sees it, else why not. */
const char *
config_vm_name_problem(const char *name)
{
	const char	*p;

	if (*name == '\0')
		return ("empty");
	if (strlen(name) >= VM_NAME_MAX)
		return ("longer than 63 characters");
	if (!isalnum((unsigned char)*name))
		return ("must start with a letter or digit");
	for (p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr(".-_", *p) == NULL)
			return ("only letters, digits, '.', '-' and '_' are "
			    "allowed");
	return (NULL);
}

int
config_vm_name_valid(const char *name)
{
	return (config_vm_name_problem(name) == NULL);
}

int
config_host_valid(const char *host)
{
	const char	*p;
	size_t		 len;

	len = strlen(host);
	if (len == 0 || len > HOST_NAME_MAX_LEN)
		return (0);
	if (*host == '-' || *host == '.')
		return (0);
	for (p = host; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr(".-_", *p) == NULL)
			return (0);
	return (1);
}

struct vmconf *
config_find_vm(struct config *c, const char *name)
{
	struct vmconf	*vm;

	TAILQ_FOREACH(vm, &c->vms, entry)
		if (strcmp(vm->name, name) == 0)
			return (vm);
	return (NULL);
}

static int
config_answers(struct vmconf *vm, const char *host, size_t len)
{
	struct alias	*a;

	if (strlen(vm->name) == len && strncasecmp(vm->name, host, len) == 0)
		return (1);
	TAILQ_FOREACH(a, &vm->aliases, entry)
		if (strlen(a->name) == len &&
		    strncasecmp(a->name, host, len) == 0)
			return (1);
	return (0);
}

/* NAME, ALIAS, NAME.domain or ALIAS.domain, in any case. */
struct vmconf *
config_lookup_host(struct config *c, const char *host)
{
	struct vmconf	*vm;
	struct domain	*d;
	size_t		 hlen, dlen;

	hlen = strlen(host);
	TAILQ_FOREACH(vm, &c->vms, entry)
		if (config_answers(vm, host, hlen))
			return (vm);
	TAILQ_FOREACH(d, &c->domains, entry) {
		dlen = strlen(d->name);
		if (hlen < dlen + 2 || host[hlen - dlen - 1] != '.' ||
		    strcasecmp(host + hlen - dlen, d->name) != 0)
			continue;
		TAILQ_FOREACH(vm, &c->vms, entry)
			if (config_answers(vm, host, hlen - dlen - 1))
				return (vm);
	}
	return (NULL);
}

/* The control socket: as configured (~/ is $HOME), else the default. */
char *
config_socket_path(struct config *c)
{
	const char	*home;
	struct passwd	*pw;
	char		*path;

	if (c->socket != NULL && *c->socket == '/')
		return (strdup(c->socket));
	if ((home = getenv("HOME")) == NULL || *home == '\0') {
		if ((pw = getpwuid(getuid())) == NULL)
			return (NULL);
		home = pw->pw_dir;
	}
	if (c->socket != NULL) {
		if (asprintf(&path, "%s/%s", home, c->socket + 2) == -1)
			return (NULL);
	} else if (asprintf(&path, "%s/%s/%s", home, VMLAUNCH_DIR,
	    VMLAUNCH_SOCKET) == -1)
		return (NULL);
	return (path);
}

/* The directory the socket lives in, where the lock and state go too. */
char *
config_dir_path(struct config *c)
{
	char	*path, *slash;

	if ((path = config_socket_path(c)) == NULL)
		return (NULL);
	if ((slash = strrchr(path, '/')) == path)
		slash[1] = '\0';
	else
		*slash = '\0';
	return (path);
}
