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
 * main: pick the config file and the mode (ProxyCommand client, config
 * check, foreground supervisor, status) and hand over.
 */

#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "vmlaunch.h"

#define EXIT_PROXY_FAIL	255	/* what ssh itself exits with */

static __dead void	usage(void);
static char		*default_config(void);
static int		 parse_port(const char *);

extern char *__progname;

static __dead void
usage(void)
{
	fprintf(stderr,
	    "usage: %s [-v] [-f file] host [port]\n"
	    "       %s -n [-v] [-f file] [host [port]]\n"
	    "       %s -d [-v] [-f file]\n"
	    "       %s -s [-f file]\n",
	    __progname, __progname, __progname, __progname);
	exit(EXIT_PROXY_FAIL);
}

/* -f file, else ~/.vmlaunch.conf if it exists, else /etc/vmlaunch.conf. */
static char *
default_config(void)
{
	const char	*home;
	struct passwd	*pw;
	char		*path;
	struct stat	 st;

	if ((home = getenv("HOME")) == NULL || *home == '\0') {
		if ((pw = getpwuid(getuid())) == NULL)
			return (strdup(VMLAUNCH_CONF));
		home = pw->pw_dir;
	}
	if (asprintf(&path, "%s/%s", home, VMLAUNCH_CONF_USER) == -1)
		return (NULL);
	if (stat(path, &st) == 0)
		return (path);
	free(path);
	return (strdup(VMLAUNCH_CONF));
}

static int
parse_port(const char *s)
{
	const char	*errstr;
	long long	 port;

	port = strtonum(s, 1, 65535, &errstr);
	if (errstr != NULL)
		return (-1);
	return ((int)port);
}

int
main(int argc, char *argv[])
{
	struct config	*conf;
	struct vmconf	*vm;
	char		*file = NULL, *abs;
	const char	*host = NULL;
	int		 ch, checkonly = 0, daemonmode = 0, status = 0;
	int		 verbose = 0, port = 22, rc;

	while ((ch = getopt(argc, argv, "df:nsv")) != -1) {
		switch (ch) {
		case 'd':
			daemonmode = 1;
			break;
		case 'f':
			free(file);
			if ((file = strdup(optarg)) == NULL)
				err(EXIT_PROXY_FAIL, NULL);
			break;
		case 'n':
			checkonly = 1;
			break;
		case 's':
			status = 1;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;

	if (checkonly + daemonmode + status > 1)
		usage();
	if ((daemonmode || status) && argc != 0)
		usage();
	if (!checkonly && !daemonmode && !status && argc == 0)
		usage();
	if (argc > 2)
		usage();
	if (argc >= 1) {
		host = argv[0];
		if (!config_host_valid(host))
			errx(checkonly ? 1 : EXIT_PROXY_FAIL,
			    "invalid host name \"%s\"", host);
	}
	if (argc == 2 && (port = parse_port(argv[1])) == -1)
		errx(checkonly ? 1 : EXIT_PROXY_FAIL,
		    "invalid port \"%s\"", argv[1]);

	if (file == NULL && (file = default_config()) == NULL)
		err(EXIT_PROXY_FAIL, NULL);
	/*
	 * The supervisor reloads it later, from wherever it runs; -n keeps
	 * the name as given, for its messages.
	 */
	if (!checkonly && file[0] != '/' &&
	    (abs = realpath(file, NULL)) != NULL) {
		free(file);
		file = abs;
	}

	if ((conf = parse_config(file)) == NULL) {
		if (checkonly)
			exit(1);
		errx(EXIT_PROXY_FAIL, "%s: invalid configuration", file);
	}
	free(file);

	if (checkonly) {
		/* The file is read: what is left is printing (stdio). */
		osdep_pledge("stdio", NULL);
		if (host != NULL) {
			if ((vm = config_lookup_host(conf, host)) == NULL) {
				fprintf(stderr, "%s: %s: no vm matches this "
				    "host\n", __progname, host);
				config_free(conf);
				exit(1);
			}
			printf("# %s port %d: vm \"%s\", guest port %d\n",
			    host, port, vm->name,
			    vm->pol.port ? vm->pol.port : port);
			print_vm(stdout, conf, vm);
		} else if (verbose)
			print_config(stdout, conf);
		fprintf(stderr, "configuration OK\n");
		config_free(conf);
		exit(0);
	}

	if (status) {
		/*
		 * sandbox.c unveils what -s may see.  rpath: lstat and
		 * access of the socket's directory; getpw: getpwuid for it
		 * when HOME is unset; unix: socket and connect to the
		 * supervisor; proc exec: vmctl (or the backend commands)
		 * when none answers: fork, setpgid, execvp, killpg on a
		 * timeout.  Their stdin, /dev/null, needs no wpath.
		 */
		log_init(1, LOG_USER);
		sandbox_status(conf);
		osdep_pledge("stdio rpath getpw unix proc exec", NULL);
		rc = client_status(conf);
		config_free(conf);
		exit(rc);
	}

	if (daemonmode) {
		log_init(1, LOG_DAEMON);
		log_setverbose(verbose);
		log_settime(1);
		exit(supervisor_main(conf, 1, -1));
	}

	rc = client_main(conf, host, port, verbose);
	config_free(conf);
	exit(rc);
}
