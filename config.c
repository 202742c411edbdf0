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
 * What the running program asks of a config, beyond the lookups that
 * parse.y keeps beside the grammar: the private directory for the socket
 * and the state file, the ssh command and the host name apps reach a VM
 * by.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
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
