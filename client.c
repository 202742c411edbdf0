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
 * The client role: the ProxyCommand (ask the supervisor for a connected
 * guest socket, starting a supervisor when none answers, show progress,
 * then relay stdin/stdout to the guest) and `vmlaunch -s`.
 *
 * The control connection stays open until the client exits: the
 * supervisor counts it as the session, whatever way the client ends.
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "vmlaunch.h"

#define CLIENT_EXIT_FAIL	255	/* what ssh itself exits with */
#define CLIENT_SPAWN_WAIT	5000	/* ms for a new supervisor to listen */
#define CLIENT_RETRIES		3	/* tries when the control link drops */

struct client_progress {
	int			 tty;		/* stderr is a terminal */
	int			 shown;		/* a tty line is on screen */
	int			 active;	/* a PROGRESS was received */
	uint32_t		 lastphase;
	struct ctl_progress	 pr;
	long long		 received;	/* local ms when pr arrived */
};

static long long	 client_now(void);
static int		 client_dir(const char *, int);
static int		 client_connect(const char *);
static int		 client_spawn(struct config *, int);
static int		 client_open(struct config *, const char *, int);
static int		 client_session(struct config *, struct vmconf *,
			    const char *, int, int, const char *, struct buf *);
static const char	*client_duration(long long, char *, size_t);
static void		 client_progress_show(struct client_progress *,
			    const char *);
static void		 client_progress_clear(struct client_progress *);
static void		 client_clean(char *, size_t);

extern char *__progname;

static long long
client_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * The socket directory must be ours and private, or another user could
 * plant a socket there and get our sessions.  Create it if asked.
 */
static int
client_dir(const char *dir, int create)
{
	struct stat	 st;

	if (lstat(dir, &st) == -1) {
		if (errno != ENOENT || !create) {
			warn("%s", dir);
			return (-1);
		}
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			warn("mkdir %s", dir);
			return (-1);
		}
		if (lstat(dir, &st) == -1) {
			warn("%s", dir);
			return (-1);
		}
	}
	if (!S_ISDIR(st.st_mode)) {
		warnx("%s: not a directory", dir);
		return (-1);
	}
	if (st.st_uid != geteuid()) {
		warnx("%s: not owned by uid %u", dir, (unsigned)geteuid());
		return (-1);
	}
	if ((st.st_mode & 07777) != 0700) {
		warnx("%s: mode %04o, must be 0700", dir,
		    (unsigned)(st.st_mode & 07777));
		return (-1);
	}
	return (0);
}

/* Connect to the control socket; -1 with errno on failure. */
static int
client_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return (-1);
	}
	return (fd);
}

/*
 * Start a supervisor, detached in its own session and logging to syslog,
 * and wait until it listens (one byte on the pipe) or gives way to
 * another one that won the lock (EOF).  The caller then connects.
 */
static int
client_spawn(struct config *conf, int verbose)
{
	struct pollfd	 pfd;
	long long	 deadline, left;
	pid_t		 pid;
	char		 c;
	int		 ready[2], fd, status, n;

	if (pipe2(ready, O_CLOEXEC) == -1) {
		warn("pipe");
		return (-1);
	}
	switch ((pid = fork())) {
	case -1:
		warn("fork");
		close(ready[0]);
		close(ready[1]);
		return (-1);
	case 0:
		close(ready[0]);
		if (setsid() == -1)
			_exit(1);
		/* Fork again so that it can never regain a terminal. */
		switch (fork()) {
		case -1:
			_exit(1);
		case 0:
			break;
		default:
			_exit(0);
		}
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			(void)dup2(fd, STDIN_FILENO);
			(void)dup2(fd, STDOUT_FILENO);
			(void)dup2(fd, STDERR_FILENO);
			if (fd > STDERR_FILENO)
				close(fd);
		}
		log_init(0, LOG_DAEMON);
		log_setverbose(verbose);
		_exit(supervisor_main(conf, 0, ready[1]));
	}

	close(ready[1]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	pfd.fd = ready[0];
	pfd.events = POLLIN;
	deadline = client_now() + CLIENT_SPAWN_WAIT;
	for (;;) {
		if ((left = deadline - client_now()) <= 0)
			break;
		n = poll(&pfd, 1, (int)left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0 || read(ready[0], &c, 1) != -1 || errno != EINTR)
			break;
	}
	close(ready[0]);
	return (0);
}

/*
 * Connect to the supervisor, starting one when nothing answers, then
 * retry with a short backoff until the deadline.
 */
static int
client_open(struct config *conf, const char *path, int verbose)
{
	long long	 deadline = 0;
	int		 fd, delay = 10, spawned = 0;

	for (;;) {
		if ((fd = client_connect(path)) != -1)
			return (fd);
		if (errno != ENOENT && errno != ECONNREFUSED) {
			warn("%s", path);
			return (-1);
		}
		if (!spawned) {
			if (client_spawn(conf, verbose) == -1)
				return (-1);
			spawned = 1;
			deadline = client_now() + CLIENT_SPAWN_WAIT;
			continue;
		}
		if (client_now() >= deadline) {
			warnx("%s: no supervisor answers", path);
			return (-1);
		}
		(void)poll(NULL, 0, delay);
		if (delay < 200)
			delay *= 2;
	}
}

/* 42s, 4m12s, 3m, 1h05m. */
static const char *
client_duration(long long secs, char *s, size_t len)
{
	if (secs < 0)
		secs = 0;
	if (secs < 60)
		snprintf(s, len, "%llds", secs);
	else if (secs < 3600 && secs % 60 == 0)
		snprintf(s, len, "%lldm", secs / 60);
	else if (secs < 3600)
		snprintf(s, len, "%lldm%02llds", secs / 60, secs % 60);
	else
		snprintf(s, len, "%lldh%02lldm", secs / 3600,
		    (secs % 3600) / 60);
	return (s);
}

/*
 * "vmlaunch: ubuntu: booting, waiting for 100.64.1.3:22 (12s of 3m)".
 * On a terminal one line, rewritten in place (and cut to its width);
 * otherwise a line per phase.
 */
static void
client_progress_show(struct client_progress *cp, const char *name)
{
	struct winsize	 ws;
	char		 line[512], el[32], dl[32];
	long long	 elapsed;
	size_t		 width;

	elapsed = cp->pr.elapsed_ms + (client_now() - cp->received);
	if (cp->pr.deadline_ms > 0)
		snprintf(line, sizeof(line), "%s: %s: %s (%s of %s)",
		    __progname, name, cp->pr.text,
		    client_duration(elapsed / 1000, el, sizeof(el)),
		    client_duration(cp->pr.deadline_ms / 1000, dl,
		    sizeof(dl)));
	else
		snprintf(line, sizeof(line), "%s: %s: %s (%s)",
		    __progname, name, cp->pr.text,
		    client_duration(elapsed / 1000, el, sizeof(el)));

	if (!cp->tty) {
		fprintf(stderr, "%s\n", line);
		return;
	}
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1) {
		width = ws.ws_col - 1;
		if (width < sizeof(line))
			line[width] = '\0';
	}
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	cp->shown = 1;
}

static void
client_progress_clear(struct client_progress *cp)
{
	if (cp->shown) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
		cp->shown = 0;
	}
}

int
client_main(struct config *conf, const char *host, int port, int verbose)
{
	struct vmconf	*vm;
	struct buf	 b;
	char		*dir = NULL, *path = NULL;
	int		 rc = CLIENT_EXIT_FAIL;

	signal(SIGPIPE, SIG_IGN);
	log_init(1, LOG_USER);	/* fatal() on stderr */

	if ((vm = config_lookup_host(conf, host)) == NULL) {
		fprintf(stderr, "%s: %s: no vm matches this host\n",
		    __progname, host);
		return (CLIENT_EXIT_FAIL);
	}
	if ((dir = config_dir_path(conf)) == NULL ||
	    (path = config_socket_path(conf)) == NULL)
		warnx("cannot find the control socket");
	else if (client_dir(dir, 1) == 0) {
		buf_init(&b);
		rc = client_session(conf, vm, host, port, verbose, path, &b);
		buf_free(&b);
	}
	free(dir);
	free(path);
	return (rc);
}

static int
client_session(struct config *conf, struct vmconf *vm, const char *host,
    int port, int verbose, const char *path, struct buf *bp)
{
	struct client_progress	 cp;
	struct ctl_connect	 cc;
	struct ctl_ready	 rd;
	struct ctl_error	 ce;
	struct pollfd		 pfd;
	const char		*s;
	char			 errmsg[256];
	uint32_t		 type;
	int			 ctlfd = -1, guestfd = -1, tries, got, n;

	memset(&cc, 0, sizeof(cc));
	cc.version = CTL_VERSION;
	cc.port = port;
	cc.flags = verbose ? CTL_FLAG_VERBOSE : 0;
	strlcpy(cc.host, host, sizeof(cc.host));
	/* A value that does not fit is left out rather than cut. */
	if ((s = getenv("DISPLAY")) != NULL && strlen(s) < sizeof(cc.display))
		strlcpy(cc.display, s, sizeof(cc.display));
	if ((s = getenv("XAUTHORITY")) != NULL &&
	    strlen(s) < sizeof(cc.xauthority))
		strlcpy(cc.xauthority, s, sizeof(cc.xauthority));

	memset(&cp, 0, sizeof(cp));
	cp.tty = isatty(STDERR_FILENO);

	/*
	 * A supervisor that was exiting as we connected closes the link
	 * before any reply: start over, a new one will answer.
	 */
	for (tries = 0; tries < CLIENT_RETRIES; tries++) {
		if (ctlfd != -1)
			close(ctlfd);
		if ((ctlfd = client_open(conf, path, verbose)) == -1)
			return (CLIENT_EXIT_FAIL);
		buf_reset(bp);
		ctl_pack_connect(bp, &cc);
		if (ctl_send(ctlfd, CTL_CONNECT, bp, -1) == -1) {
			if (errno == EPIPE || errno == ECONNRESET)
				continue;
			warn("send to supervisor");
			return (CLIENT_EXIT_FAIL);
		}

		got = 0;
		for (;;) {
			/* Keep the elapsed time moving between messages. */
			if (cp.tty && cp.active) {
				pfd.fd = ctlfd;
				pfd.events = POLLIN;
				n = poll(&pfd, 1, 1000);
				if (n == -1 && errno != EINTR) {
					client_progress_clear(&cp);
					warn("poll");
					return (CLIENT_EXIT_FAIL);
				}
				if (n <= 0) {
					client_progress_show(&cp, vm->name);
					continue;
				}
			}
			n = ctl_recv(ctlfd, &type, bp, &guestfd);
			if (n == 0 && !got)
				break;
			if (n <= 0) {
				client_progress_clear(&cp);
				if (n == 0)
					warnx("%s: the supervisor closed the "
					    "connection", vm->name);
				else
					warn("%s: control connection",
					    vm->name);
				return (CLIENT_EXIT_FAIL);
			}
			got = 1;
			if (guestfd != -1 && type != CTL_READY) {
				close(guestfd);
				guestfd = -1;
				type = 0;	/* unexpected */
			}
			switch (type) {
			case CTL_PROGRESS:
				if (ctl_unpack_progress(bp->data, bp->len,
				    &cp.pr) == -1)
					goto bad;
				client_clean(cp.pr.text, sizeof(cp.pr.text));
				cp.received = client_now();
				if (!cp.tty && cp.active &&
				    cp.pr.phase == cp.lastphase)
					continue;
				cp.active = 1;
				cp.lastphase = cp.pr.phase;
				client_progress_show(&cp, vm->name);
				continue;
			case CTL_ERROR:
				if (ctl_unpack_error(bp->data, bp->len, &ce) == -1)
					goto bad;
				client_progress_clear(&cp);
				client_clean(ce.message, sizeof(ce.message));
				fprintf(stderr, "%s: %s\n", __progname,
				    ce.message);
				return (CLIENT_EXIT_FAIL);
			case CTL_READY:
				if (ctl_unpack_ready(bp->data, bp->len, &rd) == -1 ||
				    guestfd == -1)
					goto bad;
				client_progress_clear(&cp);
				client_clean(rd.address, sizeof(rd.address));
				if (verbose)
					fprintf(stderr, "%s: connected to %s\n",
					    __progname, rd.address);
				goto relay;
			default:
				goto bad;
			}
		}
	}
	warnx("%s: the supervisor closed the connection", vm->name);
	return (CLIENT_EXIT_FAIL);

bad:
	client_progress_clear(&cp);
	warnx("%s: bad %s message from the supervisor", vm->name,
	    ctl_type_name(type));
	return (CLIENT_EXIT_FAIL);

relay:
	buf_reset(bp);
	/*
	 * From here on only the relay runs, on descriptors we hold: read,
	 * write, poll, fstat, fcntl and shutdown are all "stdio"; no files,
	 * no new sockets, no children.  (The supervisor is forked before
	 * this point, so it is not bound by it.)
	 */
	osdep_pledge("stdio", NULL);
	/* ctlfd stays open until exit: it is the session. */
	if (proxy_relay(STDIN_FILENO, STDOUT_FILENO, guestfd, errmsg,
	    sizeof(errmsg)) == -1) {
		warnx("%s: %s", vm->name, errmsg);
		return (CLIENT_EXIT_FAIL);
	}
	close(guestfd);
	return (0);
}

/* A field from the supervisor, escaped in place for the terminal. */
static void
client_clean(char *s, size_t size)
{
	char	 esc[ESCAPE_LEN(512)];

	escape_str(s, esc, sizeof(esc));
	strlcpy(s, esc, size);
}

/*
 * vmlaunch -s.  With a broken config file (broken), only a supervisor
 * that answers can say anything: it runs the config it loaded before.
 */
int
client_status(struct config *conf, int broken)
{
	struct ctl_status_vm	*rows = NULL, *r;
	struct vmd_row		*vrows = NULL;
	const struct vmd_row	*vr;
	struct vmconf		*vmc;
	struct buf		 b;
	size_t			 nrows = 0, nvrows = 0, i, w = 4;
	char			*dir, *path = NULL, msg[512], idle[32];
	uint32_t		 type, a;
	int			 fd = -1, n, removed = 0, rc = 1;

	signal(SIGPIPE, SIG_IGN);
	log_init(1, LOG_USER);

	if ((dir = config_dir_path(conf)) != NULL &&
	    (path = config_socket_path(conf)) != NULL &&
	    access(dir, X_OK) == 0 && client_dir(dir, 0) == 0)
		fd = client_connect(path);
	free(dir);

	if (fd == -1 && broken) {
		warnx("the configuration has errors and no supervisor "
		    "answers on %s", path != NULL ? path : "its socket");
		free(path);
		return (1);
	}
	free(path);
	if (fd == -1) {
		if (vmctl_status_sync(conf, &vrows, &nvrows, msg,
		    sizeof(msg)) == -1) {
			warnx("%s", msg);
			return (1);
		}
		TAILQ_FOREACH(vmc, &conf->vms, entry)
			if (strlen(vmc->name) > w)
				w = strlen(vmc->name);
		printf("%-*s %-9s %-9s %8s %7s %7s %s\n", (int)w, "NAME",
		    "VMD", "STATE", "SESSIONS", "STARTED", "IDLE", "ADDRESS");
		TAILQ_FOREACH(vmc, &conf->vms, entry) {
			vr = vmctl_find_row(vrows, nvrows, vmc->name);
			printf("%-*s %-9s %-9s %8s %7s %7s %s\n", (int)w,
			    vmc->name, vr != NULL ? vmd_state_name(vr->state) :
			    vmd_state_name(VMD_ABSENT), "-", "-", "-", "-",
			    "-");
		}
		printf("no supervisor running\n");
		free(vrows);
		return (0);
	}

	buf_init(&b);
	if (ctl_send(fd, CTL_STATUS, NULL, -1) == -1) {
		warn("send to supervisor");
		goto fail;
	}
	for (;;) {
		if ((n = ctl_recv(fd, &type, &b, NULL)) == -1) {
			warn("supervisor");
			goto fail;
		}
		if (n == 0) {
			warnx("the supervisor closed the connection");
			goto fail;
		}
		if (type == CTL_STATUS_END && b.len == 0)
			break;
		if (type != CTL_STATUS_VM) {
			warnx("unexpected %s message from the supervisor",
			    ctl_type_name(type));
			goto fail;
		}
		if ((r = reallocarray(rows, nrows + 1, sizeof(*rows))) == NULL)
			fatal("client_status");
		rows = r;
		if (ctl_unpack_status_vm(b.data, b.len, &rows[nrows]) == -1) {
			warnx("bad status message from the supervisor");
			goto fail;
		}
		r = &rows[nrows++];
		client_clean(r->name, sizeof(r->name));
		client_clean(r->vmd_state, sizeof(r->vmd_state));
		client_clean(r->state, sizeof(r->state));
		client_clean(r->address, sizeof(r->address));
		for (a = 0; a < r->napps && a < STATUS_APPS_MAX; a++) {
			client_clean(r->apps[a].command,
			    sizeof(r->apps[a].command));
			client_clean(r->apps[a].state,
			    sizeof(r->apps[a].state));
		}
	}
	close(fd);
	fd = -1;
	buf_free(&b);

	for (i = 0; i < nrows; i++)
		if (strlen(rows[i].name) + 1 > w)
			w = strlen(rows[i].name) + 1;
	printf("%-*s %-9s %-9s %8s %7s %7s %s\n", (int)w, "NAME", "VMD",
	    "STATE", "SESSIONS", "STARTED", "IDLE", "ADDRESS");
	for (i = 0; i < nrows; i++) {
		r = &rows[i];
		if (!r->configured)
			removed = 1;
		if (r->idle_left < 0)
			strlcpy(idle, "-", sizeof(idle));
		else
			client_duration(r->idle_left, idle, sizeof(idle));
		printf("%s%-*s %-9s %-9s %8u %7s %7s %s\n", r->name,
		    (int)(w - strlen(r->name)), r->configured ? "" : "*",
		    r->vmd_state[0] ? r->vmd_state : "-",
		    r->state[0] ? r->state : "-", r->sessions,
		    r->started ? "yes" : "no", idle,
		    r->address[0] ? r->address : "-");
		for (a = 0; a < r->napps; a++) {
			printf("    autostart \"%s\": %s, %u restart%s",
			    r->apps[a].command, r->apps[a].state,
			    r->apps[a].restarts,
			    r->apps[a].restarts == 1 ? "" : "s");
			if (r->apps[a].pid > 0)
				printf(", pid %d", (int)r->apps[a].pid);
			printf("\n");
		}
	}
	if (removed)
		printf("* no longer in the configuration, managed until it "
		    "stops\n");
	if (broken)
		warnx("the configuration has errors: this is the view of the "
		    "running supervisor, with the configuration it loaded "
		    "before");
	free(rows);
	return (0);

fail:
	if (fd != -1)
		close(fd);
	buf_free(&b);
	free(rows);
	return (rc);
}
