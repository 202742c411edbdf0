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
 * check, foreground supervisor, status, and the requests: up, hold,
 * stop now) and hand over.
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

/* The exit statuses, as vmlaunch.1 lists them. */
#define EXIT_FAIL	1	/* -n, -d, -s, -u, -k, -x: not done */
#define EXIT_USAGE	2	/* the command line is wrong */
#define EXIT_PROXY_FAIL	255	/* the ProxyCommand failed, as ssh exits */

static __dead void	usage(void);
static char		*default_config(char **);
static int		 parse_port(const char *);
static long long	 parse_hold(const char *);

extern char *__progname;

static __dead void
usage(void)
{
	fprintf(stderr,
	    "usage: %s [-v] [-f file] host [port]\n"
	    "       %s -n [-v] [-f file] [host [port]]\n"
	    "       %s -d [-v] [-f file]\n"
	    "       %s -s [-v] [-f file]\n"
	    "       %s -u | -x | -X [-v] [-f file] host\n"
	    "       %s -k duration [-v] [-f file] host\n"
	    "       %s -V\n",
	    __progname, __progname, __progname, __progname, __progname,
	    __progname, __progname);
	exit(EXIT_USAGE);
}

/*
 * ~/.vmlaunch.conf if it exists, else /etc/vmlaunch.conf; NULL when
 * neither does.  *user is the first, for the message.
 */
static char *
default_config(char **user)
{
	const char	*home;
	struct passwd	*pw;
	struct stat	 st;

	*user = NULL;
	if ((home = getenv("HOME")) == NULL || *home == '\0')
		home = (pw = getpwuid(getuid())) != NULL ? pw->pw_dir : NULL;
	if (home != NULL) {
		if (asprintf(user, "%s/%s", home, VMLAUNCH_CONF_USER) == -1)
			err(EXIT_PROXY_FAIL, NULL);
		if (stat(*user, &st) == 0 || errno != ENOENT)
			return (*user);
	}
	if (stat(VMLAUNCH_CONF, &st) == -1 && errno == ENOENT)
		return (NULL);
	return (VMLAUNCH_CONF);
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

/* -k: a duration as in the config, 0 to release, never. -2 if bad. */
static long long
parse_hold(const char *s)
{
	const char	*why;
	long long	 secs;

	if (strcmp(s, "0") == 0)
		return (HOLD_RELEASE);
	if (strcmp(s, "never") == 0)
		return (HOLD_FOREVER);
	if (config_duration(s, &secs, &why) == -1)
		return (-2);
	return (secs);
}

/*
 * Read the configuration: -f's file, or the first default that exists
 * (*missing when none does, with a message that says where we looked).
 * ssh shows what a ProxyCommand prints: maxshow 1 there, the first error.
 */
static struct config *
load_config(char **file, int fail, int checkonly, int maxshow, int *missing,
    int *nerrors)
{
	struct config	*conf = NULL;
	char		*user = NULL, *abs;
	const char	*path;

	*missing = 0;
	if (*file == NULL) {
		if ((path = default_config(&user)) == NULL) {
			*missing = 1;
			path = VMLAUNCH_CONF;
		}
		if ((*file = strdup(path)) == NULL)
			err(fail, NULL);
	}
	if (*missing) {
		/* Nothing to read: say where we looked, and what to do. */
		if (user != NULL)
			warnx("no configuration file: neither %s nor %s "
			    "exists (see vmlaunch.conf(5); check a file with "
			    "%s -n -f file)", user, VMLAUNCH_CONF, __progname);
		else
			warnx("no configuration file: %s does not exist (see "
			    "vmlaunch.conf(5); check a file with %s -n -f "
			    "file)", VMLAUNCH_CONF, __progname);
		*nerrors = 1;
	} else {
		/*
		 * The supervisor reloads it later, from wherever it runs;
		 * -n keeps the name as given, for its messages.
		 */
		if (!checkonly && (*file)[0] != '/' &&
		    (abs = realpath(*file, NULL)) != NULL) {
			free(*file);
			*file = abs;
		}
		conf = parse_config_errors(*file, maxshow, nerrors);
	}
	free(user);
	return conf;
}

enum mode { MODE_PROXY, MODE_DAEMON, MODE_REQUEST, MODE_CHECK };

/*
 * What was not done because the configuration has errors, after the
 * errors that say why.  -n says nothing more: its errors are the answer.
 */
static void
not_done(const char *file, const char *host, enum mode mode, int missing,
    int nerrors)
{
	char	 esc[1024];

	escape_str(file, esc, sizeof(esc));
	switch (mode) {
	case MODE_PROXY:
		if (missing)
			fprintf(stderr, "%s: %s: not started\n", __progname,
			    host);
		else if (nerrors == 1)
			fprintf(stderr, "%s: %s: not started, %s has an "
			    "error\n", __progname, host, esc);
		else
			fprintf(stderr, "%s: %s: not started, %s has %d errors "
			    "(%s -n -f %s shows all)\n", __progname, host, esc,
			    nerrors, __progname, esc);
		break;
	case MODE_DAEMON:
		fprintf(stderr, "%s: the supervisor is not started\n",
		    __progname);
		break;
	case MODE_REQUEST:
		if (missing)
			fprintf(stderr, "%s: %s: nothing done\n", __progname,
			    host);
		else
			fprintf(stderr, "%s: %s: nothing done, %s has %s\n",
			    __progname, host, esc, nerrors == 1 ? "an error" :
			    "errors");
		break;
	case MODE_CHECK:
		break;
	}
}

/* -n, once the file is read without errors: print and exit. */
static __dead void
check_main(struct config *conf, const char *host, int port, int verbose)
{
	struct vmconf	*vm;

	/* The file is read: what is left is printing (stdio). */
	osdep_pledge("stdio", NULL);
	if (host != NULL) {
		if ((vm = config_lookup_host(conf, host)) == NULL) {
			fprintf(stderr, "%s: %s: no vm matches this host\n",
			    __progname, host);
			config_free(conf);
			exit(EXIT_FAIL);
		}
		printf("# %s port %d: vm \"%s\", guest port %d\n", host, port,
		    vm->name, vm->pol.port ? vm->pol.port : port);
		print_vm(stdout, conf, vm);
	} else if (verbose)
		print_config(stdout, conf);
	fprintf(stderr, "configuration OK\n");
	config_free(conf);
	exit(0);
}

/* -s: ask the supervisor, or vmctl when none answers; exit with it. */
static __dead void
status_run(struct config *conf, char *file, int nerrors, int verbose)
{
	char	*sock;
	int	 rc;

	if (verbose && (sock = config_socket_path(conf)) != NULL) {
		fprintf(stderr, "%s: configuration %s, control socket %s\n",
		    __progname, file, sock);
		free(sock);
	}
	free(file);
	/*
	 * sandbox.c unveils what -s may see.  rpath: lstat and access of
	 * the socket's directory; getpw: getpwuid for it when HOME is
	 * unset; unix: socket and connect to the supervisor; proc exec:
	 * vmctl (or the backend commands) when none answers: fork,
	 * setpgid, execvp, killpg on a timeout.  Their stdin, /dev/null,
	 * needs no wpath.
	 */
	log_init(1, LOG_USER);
	sandbox_status(conf);
	osdep_pledge("stdio rpath getpw unix proc exec", NULL);
	rc = status_main(conf, nerrors > 0, verbose);
	config_free(conf);
	exit(rc);
}

int
main(int argc, char *argv[])
{
	struct config	*conf;
	char		*file = NULL;
	char		 esc[1024];
	const char	*host = NULL;
	int		 ch, checkonly = 0, daemonmode = 0, status = 0;
	int		 verbose = 0, port = SSH_PORT, rc, nerrors, proxy, fail;
	int		 missing = 0, request = 0;
	enum client_cmd	 cmd = CLIENT_UP;
	long long	 holdsecs = 0;

	while ((ch = getopt(argc, argv, "df:k:nsuvVxX")) != -1) {
		switch (ch) {
		case 'd':
			daemonmode = 1;
			break;
		case 'k':
			if ((holdsecs = parse_hold(optarg)) == -2)
				errx(EXIT_USAGE, "invalid duration \"%s\", "
				    "expected a number followed by s, m, h or "
				    "d, 0 or never", escape_str(optarg, esc,
				    sizeof(esc)));
			request++;
			cmd = CLIENT_HOLD;
			break;
		case 'u':
			request++;
			cmd = CLIENT_UP;
			break;
		case 'x':
			request++;
			cmd = CLIENT_DOWN;
			break;
		case 'X':
			request++;
			cmd = CLIENT_DOWN_FORCE;
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
		case 'V':
			printf("%s %s\n", __progname, VMLAUNCH_VERSION);
			exit(0);
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;

	if (checkonly + daemonmode + status + (request > 0) > 1 || request > 1)
		usage();
	if ((daemonmode || status) && argc != 0)
		usage();
	if (request && argc != 1)
		usage();
	if (!checkonly && !daemonmode && !status && argc == 0)
		usage();
	if (argc > 2)
		usage();
	proxy = !checkonly && !daemonmode && !status && !request;
	fail = proxy ? EXIT_PROXY_FAIL : EXIT_FAIL;
	if (argc >= 1) {
		host = argv[0];
		if (!config_host_valid(host))
			errx(fail, "invalid host name \"%s\"",
			    escape_str(host, esc, sizeof(esc)));
	}
	if (argc == 2 && (port = parse_port(argv[1])) == -1)
		errx(fail, "invalid port \"%s\"",
		    escape_str(argv[1], esc, sizeof(esc)));

	conf = load_config(&file, fail, checkonly, proxy ? 1 : 0, &missing,
	    &nerrors);

	/* What was not done, after the errors that say why. */
	if (nerrors > 0 && !status) {
		not_done(file, host, proxy ? MODE_PROXY : daemonmode ?
		    MODE_DAEMON : request ? MODE_REQUEST : MODE_CHECK,
		    missing, nerrors);
		config_free(conf);
		free(file);
		exit(fail);
	}

	if (checkonly) {
		free(file);
		check_main(conf, host, port, verbose);
	}

	if (status) {
		/* A broken file still names the socket, or the default. */
		if (conf == NULL)
			conf = parse_config_errors(file, -1, &rc);
		status_run(conf, file, nerrors, verbose);
	}

	free(file);
	if (daemonmode) {
		log_init(1, LOG_DAEMON);
		log_setverbose(verbose);
		log_settime(1);
		exit(supervisor_main(conf, 1, -1));
	}

	if (request)
		rc = client_command(conf, host, cmd, holdsecs, verbose);
	else
		rc = client_main(conf, host, port, verbose);
	config_free(conf);
	exit(rc);
}
