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
 * then relay stdin/stdout to the guest), and the requests answered with
 * one line, which wait and show progress the same way: vmlaunch -u (the
 * VM up), -k (a hold), -x and -X (the VM stopped).  vmlaunch -s is in
 * status.c.
 *
 * The control connection stays open until the client exits: the
 * supervisor counts it as the session, whatever way the client ends.
 * Every wait is bounded: a supervisor that says nothing for CLIENT_SILENCE
 * (it sends progress every few seconds while a VM boots) is given up on
 * with one line, and so is one that does not accept at all.  Until the
 * socket has arrived, a connection that drops (a supervisor that died)
 * is tried again, starting a new supervisor, within the VM's own bound.
 *
 * Once relaying, the client splits in two, as OpenSSH separates
 * privileges: the relay (this process, which ssh talks to) is pledged to
 * "stdio" and touches only the guest's bytes; a keeper (a child) holds
 * the control connection and nothing else.  Should the supervisor die,
 * the keeper finds or starts a new one and tells it about the session
 * again (CTL_FLAG_RESUME), so the VM is not stopped under it.  The
 * keeper exits as soon as the relay does (a pipe between them closes).
 * It is forked as soon as the request is sent, while the supervisor
 * works on it, not after the guest's socket came: a fork costs about as
 * much as the rest of a warm connect, and there it would delay the
 * guest's first byte.  Until the relay hands it the session with one
 * byte on that pipe it only waits; a try that fails closes the pipe.
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
#define CLIENT_SILENCE		15000	/* ms without a word: give up */
#define CLIENT_STATUS_MARGIN	10000	/* ms beyond vmctl's limit, for -s */
#define CLIENT_MARGIN		30000	/* ms beyond the VM's own bounds */
#define CLIENT_RETRY_MS		100	/* ms before asking again */
#define CLIENT_RESPAWN_MS	1000	/* ms between two supervisors started */

struct client_progress {
	int			 tty;		/* stderr is a terminal */
	int			 shown;		/* a tty line is on screen */
	int			 active;	/* a PROGRESS was received */
	uint32_t		 lastphase;
	struct ctl_progress	 pr;
	long long		 received;	/* local ms when pr arrived */
};

/* The keeper of a session and what it needs; pid -1 when there is none. */
struct client_keeper {
	struct config		*conf;
	const char		*path;
	struct ctl_connect	*cc;
	pid_t			 pid;
	int			 life;	/* our end of the pipe to it */
};

/* How one try at getting a session ended. */
enum client_try {
	TRIED_READY,		/* the guest socket is here */
	TRIED_DONE,		/* the supervisor said it is done */
	TRIED_FAILED,		/* the supervisor said why not: final */
	TRIED_DROPPED,		/* the connection dropped: ask again */
	TRIED_SILENT		/* nothing for too long: give up */
};

static int		 client_spawn(struct config *, int);
static int		 client_open(struct config *, const char *, int,
			    long long *);
static enum client_try	 client_try(int, uint32_t, const struct buf *,
			    struct vmconf *, int, struct client_progress *,
			    struct buf *, struct client_keeper *, int *, char *,
			    size_t);
static int		 client_relay(struct client_keeper *, int, int,
			    struct vmconf *);
static void		 client_keeper_fork(struct client_keeper *, int);
static void		 client_keeper_drop(struct client_keeper *);
static __dead void	 client_keeper(struct config *, const char *,
			    struct ctl_connect *, int, int);
static void		 client_progress_show(struct client_progress *,
			    const char *);
static void		 client_progress_clear(struct client_progress *);

extern char *__progname;

/*
 * Connect to the control socket, not waiting in connect(2) for a full
 * backlog: -1 with errno on failure (EAGAIN: it is full, try again).
 */
int
client_connect(const char *path, long long deadline)
{
	struct sockaddr_un	 sun;
	struct pollfd		 pfd;
	socklen_t		 len = sizeof(int);
	int			 fd, saved, error = 0;
	long long		 left;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		goto done;
	if (errno != EINPROGRESS)
		goto fail;
	/* Some systems finish a local connect later, as for TCP. */
	pfd.fd = fd;
	pfd.events = POLLOUT;
	left = deadline - now_ms();
	if (left <= 0 || poll(&pfd, 1, (int)left) != 1) {
		errno = EAGAIN;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1 ||
	    error != 0) {
		errno = error ? error : errno;
		goto fail;
	}
 done:
	if (fcntl(fd, F_SETFL, 0) == -1)
		goto fail;
	return (fd);
 fail:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}

/*
 * Start a supervisor, detached in its own session and logging to syslog,
 * and wait until it listens (a NUL byte on the pipe) or gives way to
 * another one that won the lock (EOF).  The caller then connects.  -1,
 * said, when it cannot start and says why (a socket directory it cannot
 * write, say): no supervisor will come, and waiting would not help.
 */
static int
client_spawn(struct config *conf, int verbose)
{
	struct pollfd	 pfd;
	long long	 deadline, left;
	pid_t		 pid;
	char		 why[1024];
	size_t		 got = 0;
	ssize_t		 r;
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
	deadline = now_ms() + CLIENT_SPAWN_WAIT;
	for (;;) {
		if ((left = deadline - now_ms()) <= 0)
			break;
		n = poll(&pfd, 1, (int)left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		r = read(ready[0], why + got, sizeof(why) - 1 - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += r;
		/* Ready, or the whole reason (it closes after it). */
		if (why[0] == '\0' || got == sizeof(why) - 1)
			break;
	}
	close(ready[0]);
	if (got > 0 && why[0] != '\0') {
		why[got] = '\0';
		warnx("no supervisor could start: %s", why);
		return (-1);
	}
	return (0);
}

/*
 * Connect to the supervisor, starting one when nothing answers (at most
 * once every CLIENT_RESPAWN_MS, *spawned remembers when), then retry
 * with a short backoff: for at most CLIENT_SILENCE, since a supervisor
 * that exists but does not accept is frozen.  -1 with a message shown.
 */
static int
client_open(struct config *conf, const char *path, int verbose,
    long long *spawned)
{
	struct stat	 st;
	long long	 deadline = now_ms() + CLIENT_SILENCE;
	int		 fd, delay = 10;

	for (;;) {
		if ((fd = client_connect(path, deadline)) != -1)
			return (fd);
		/*
		 * Not a socket: a supervisor leaves it alone
		 * (supervisor_listen), so none would ever answer.
		 */
		if (errno == ECONNREFUSED && lstat(path, &st) == 0 &&
		    !S_ISSOCK(st.st_mode)) {
			warnx("%s exists and is not a socket: no supervisor "
			    "can listen there", path);
			return (-1);
		}
		if (errno != ENOENT && errno != ECONNREFUSED &&
		    errno != EAGAIN) {
			warn("%s", path);
			return (-1);
		}
		if (errno != EAGAIN &&
		    (*spawned == 0 || now_ms() - *spawned >= CLIENT_RESPAWN_MS)) {
			if (client_spawn(conf, verbose) == -1)
				return (-1);
			*spawned = now_ms();
			continue;
		}
		if (now_ms() >= deadline) {
			warnx("the supervisor on %s did not answer within "
			    "%llds", path, (long long)CLIENT_SILENCE / 1000);
			return (-1);
		}
		(void)poll(NULL, 0, delay);
		if (delay < 200)
			delay *= 2;
	}
}

/* 42s, 4m12s, 3m, 1h05m. */
const char *
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

	elapsed = cp->pr.elapsed_ms + (now_ms() - cp->received);
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

/* From the environment: what kind of session this ssh is. */
static int
client_flags(void)
{
	const char	*s = getenv("VMLAUNCH_SESSION");

	if (s == NULL)
		return (0);
	if (strcmp(s, "app") == 0)
		return (CTL_FLAG_NOBOOT);
	if (strcmp(s, "check") == 0)
		return (CTL_FLAG_NOBOOT | CTL_FLAG_NOTUSE);
	return (0);
}

/* DISPLAY and XAUTHORITY, for the apps; one that does not fit is left out. */
static void
client_display(struct ctl_connect *cc)
{
	const char	*s;

	if ((s = getenv("DISPLAY")) != NULL && strlen(s) < sizeof(cc->display))
		(void)strlcpy(cc->display, s, sizeof(cc->display));
	if ((s = getenv("XAUTHORITY")) != NULL &&
	    strlen(s) < sizeof(cc->xauthority))
		(void)strlcpy(cc->xauthority, s, sizeof(cc->xauthority));
}

/*
 * What every request needs: the VM the host names, the socket's path
 * (the caller frees it).  -1 after a message.
 */
static int
client_setup(struct config *conf, const char *host, struct vmconf **vm,
    char **path)
{
	char	*dir, msg[512];
	int	 rc = -1;

	signal(SIGPIPE, SIG_IGN);
	log_init(1, LOG_USER);	/* fatal() on stderr */
	*path = NULL;
	if ((*vm = config_lookup_host(conf, host)) == NULL) {
		fprintf(stderr, "%s: %s: no vm matches this host\n",
		    __progname, host);
		return (-1);
	}
	if ((dir = config_dir_path(conf)) == NULL ||
	    (*path = config_socket_path(conf)) == NULL)
		warnx("cannot find the control socket");
	else if (config_dir_check(dir, 1, msg, sizeof(msg)) == -1)
		warnx("%s", msg);
	else
		rc = 0;
	free(dir);
	return (rc);
}

/*
 * Ask the supervisor (starting one if need be) with the request req of
 * type, again as long as the VM's own bounds allow (a stop to wait for,
 * a start, a boot, the backend's time limit for each) when the
 * supervisor goes away, until it says it is done, failed, or hands
 * over a socket: then *ctlfd is the connection (the session), and the
 * keeper kp, unless NULL, waits to be handed it.
 */
static enum client_try
client_ask(struct config *conf, struct vmconf *vm, const char *path,
    uint32_t type, const struct buf *req, int verbose,
    struct client_progress *cp, struct client_keeper *kp, int *ctlfd,
    int *guestfd, char *msg, size_t msglen)
{
	const struct policy	*pol = &vm->pol;
	struct buf		 b;
	enum client_try		 tried = TRIED_FAILED;
	long long		 deadline, spawned = 0;

	deadline = now_ms() + (pol->boot_wait + pol->stop_wait +
	    3 * (conf->vmctl_timeout > 0 ? conf->vmctl_timeout :
	    DEFAULT_VMCTL_TIMEOUT)) * 1000 + CLIENT_MARGIN;
	buf_init(&b);
	*ctlfd = -1;
	for (;;) {
		if ((*ctlfd = client_open(conf, path, verbose,
		    &spawned)) == -1) {
			msg[0] = '\0';
			tried = TRIED_SILENT;	/* said why already */
			break;
		}
		tried = client_try(*ctlfd, type, req, vm, verbose, cp, &b,
		    kp, guestfd, msg, msglen);
		if (tried != TRIED_READY)
			client_keeper_drop(kp);
		if (tried != TRIED_DROPPED)
			break;
		close(*ctlfd);
		*ctlfd = -1;
		if (now_ms() >= deadline) {
			tried = TRIED_FAILED;
			break;
		}
		(void)poll(NULL, 0, CLIENT_RETRY_MS);
	}
	buf_free(&b);
	if (tried != TRIED_READY && *ctlfd != -1) {
		close(*ctlfd);
		*ctlfd = -1;
	}
	client_progress_clear(cp);
	return (tried);
}

/* The ProxyCommand: a session, relayed until ssh is done. */
int
client_main(struct config *conf, const char *host, int port, int verbose)
{
	struct client_progress	 cp;
	struct client_keeper	 keeper;
	struct ctl_connect	 cc;
	struct vmconf		*vm;
	struct buf		 req;
	char			*path = NULL, msg[512];
	int			 ctlfd = -1, guestfd = -1, rc = CLIENT_EXIT_FAIL;

	if (client_setup(conf, host, &vm, &path) == -1) {
		free(path);
		return (CLIENT_EXIT_FAIL);
	}
	keeper.conf = conf;
	keeper.path = path;
	keeper.cc = &cc;
	keeper.pid = -1;
	keeper.life = -1;
	memset(&cc, 0, sizeof(cc));
	cc.version = CTL_VERSION;
	cc.port = port;
	cc.flags = client_flags();
	(void)strlcpy(cc.host, host, sizeof(cc.host));
	client_display(&cc);
	memset(&cp, 0, sizeof(cp));
	cp.tty = isatty(STDERR_FILENO);
	buf_init(&req);
	ctl_pack_connect(&req, &cc);
	switch (client_ask(conf, vm, path, CTL_CONNECT, &req, verbose, &cp,
	    &keeper, &ctlfd, &guestfd, msg, sizeof(msg))) {
	case TRIED_READY:
		rc = client_relay(&keeper, ctlfd, guestfd, vm);
		break;
	case TRIED_DONE:
		break;		/* no such answer to a session */
	default:
		if (msg[0] != '\0')
			fprintf(stderr, "%s: %s\n", __progname, msg);
		break;
	}
	buf_free(&req);
	free(path);
	return (rc);
}

/*
 * vmlaunch -u, -k, -x and -X: a request answered with one line, or an
 * error; the VM's progress meanwhile, as ssh would show it.
 */
int
client_command(struct config *conf, const char *host, enum client_cmd cmd,
    long long seconds, int verbose)
{
	struct client_progress	 cp;
	struct ctl_connect	 cc;
	struct ctl_hold		 ch;
	struct vmconf		*vm;
	struct buf		 req;
	char			*path = NULL, msg[512];
	uint32_t		 type = CTL_CONNECT;
	int			 ctlfd = -1, guestfd = -1, rc = 1;

	if (client_setup(conf, host, &vm, &path) == -1) {
		free(path);
		return (1);
	}
	buf_init(&req);
	if (cmd == CLIENT_HOLD) {
		memset(&ch, 0, sizeof(ch));
		ch.version = CTL_VERSION;
		ch.seconds = seconds;
		(void)strlcpy(ch.host, host, sizeof(ch.host));
		ctl_pack_hold(&req, &ch);
		type = CTL_HOLD;
	} else {
		memset(&cc, 0, sizeof(cc));
		cc.version = CTL_VERSION;
		cc.port = vm->pol.port ? vm->pol.port : 22;
		cc.flags = cmd == CLIENT_UP ? CTL_FLAG_UP : cmd == CLIENT_DOWN ?
		    CTL_FLAG_DOWN : CTL_FLAG_DOWN | CTL_FLAG_FORCE;
		(void)strlcpy(cc.host, host, sizeof(cc.host));
		/* Booted by -u, its apps show on this display. */
		if (cmd == CLIENT_UP)
			client_display(&cc);
		ctl_pack_connect(&req, &cc);
	}
	memset(&cp, 0, sizeof(cp));
	cp.tty = isatty(STDERR_FILENO);
	switch (client_ask(conf, vm, path, type, &req, verbose, &cp, NULL,
	    &ctlfd, &guestfd, msg, sizeof(msg))) {
	case TRIED_DONE:
		client_clean(msg, sizeof(msg));
		fprintf(stderr, "%s: %s\n", __progname, msg);
		rc = 0;
		break;
	case TRIED_READY:
		/* A socket nobody asked for: an older supervisor. */
		close(guestfd);
		close(ctlfd);
		rc = 0;
		break;
	default:
		if (msg[0] != '\0')
			fprintf(stderr, "%s: %s\n", __progname, msg);
		break;
	}
	buf_free(&req);
	free(path);
	return (rc);
}

/*
 * Ask once: send the request, show progress, wait for the socket, an
 * answer or an error.  msg says why when not TRIED_READY.
 */
static enum client_try
client_try(int ctlfd, uint32_t reqtype, const struct buf *req,
    struct vmconf *vm, int verbose, struct client_progress *cp,
    struct buf *bp, struct client_keeper *kp, int *guestfd, char *msg,
    size_t msglen)
{
	struct ctl_ready	 rd;
	struct ctl_error	 ce;
	uint32_t		 type = 0;
	long long		 heard = now_ms();
	int			 n, wait;

	if (ctl_send(ctlfd, reqtype, req, -1) == -1) {
		snprintf(msg, msglen, "%s: send to the supervisor: %s",
		    vm->name, strerror(errno));
		return (TRIED_DROPPED);
	}
	/* While the supervisor works on it. */
	client_keeper_fork(kp, ctlfd);
	for (;;) {
		/* Keep the elapsed time moving between messages. */
		wait = cp->tty && cp->active ? 1000 : CLIENT_SILENCE;
		n = ctl_recv(ctlfd, &type, bp, guestfd, wait);
		if (n == -1 && errno == ETIMEDOUT) {
			if (now_ms() - heard >= CLIENT_SILENCE) {
				snprintf(msg, msglen, "%s: the supervisor did "
				    "not answer within %llds", vm->name,
				    (long long)CLIENT_SILENCE / 1000);
				return (TRIED_SILENT);
			}
			client_progress_show(cp, vm->name);
			continue;
		}
		if (n <= 0) {
			snprintf(msg, msglen, "%s: the supervisor closed the "
			    "connection%s%s", vm->name, n == 0 ? "" : ": ",
			    n == 0 ? "" : strerror(errno));
			return (TRIED_DROPPED);
		}
		heard = now_ms();
		if (*guestfd != -1 && type != CTL_READY) {
			close(*guestfd);
			*guestfd = -1;
			type = 0;	/* unexpected */
		}
		switch (type) {
		case CTL_PROGRESS:
			if (ctl_unpack_progress(bp->data, bp->len,
			    &cp->pr) == -1)
				goto bad;
			client_clean(cp->pr.text, sizeof(cp->pr.text));
			cp->received = now_ms();
			if (!cp->tty && cp->active &&
			    cp->pr.phase == cp->lastphase)
				continue;
			cp->active = 1;
			cp->lastphase = cp->pr.phase;
			client_progress_show(cp, vm->name);
			continue;
		case CTL_ERROR:
		case CTL_DONE:
			if (ctl_unpack_error(bp->data, bp->len, &ce) == -1)
				goto bad;
			client_clean(ce.message, sizeof(ce.message));
			(void)strlcpy(msg, ce.message, msglen);
			return (type == CTL_DONE ? TRIED_DONE : TRIED_FAILED);
		case CTL_READY:
			if (ctl_unpack_ready(bp->data, bp->len, &rd) == -1 ||
			    *guestfd == -1)
				goto bad;
			client_progress_clear(cp);
			/*
			 * Escaped only to be shown: vis(3) costs thousands
			 * of instructions a byte, before the first byte.
			 */
			if (verbose) {
				client_clean(rd.address, sizeof(rd.address));
				fprintf(stderr, "%s: connected to %s\n",
				    __progname, rd.address);
			}
			return (TRIED_READY);
		default:
			goto bad;
		}
	}
 bad:
	if (*guestfd != -1) {
		close(*guestfd);
		*guestfd = -1;
	}
	snprintf(msg, msglen, "%s: bad %s message from the supervisor",
	    vm->name, ctl_type_name(type));
	return (TRIED_FAILED);
}

/*
 * Fork the keeper of the session asked for on ctlfd (kp NULL: none
 * wanted).  It waits until the relay hands it the session.  Without a
 * keeper the relay keeps the connection: the session still counts,
 * unless the supervisor dies.
 */
static void
client_keeper_fork(struct client_keeper *kp, int ctlfd)
{
	int	 life[2];

	if (kp == NULL)
		return;
	if (pipe2(life, O_CLOEXEC) == -1) {
		warn("pipe");
		return;
	}
	switch ((kp->pid = fork())) {
	case -1:
		warn("fork");
		close(life[0]);
		close(life[1]);
		break;
	case 0:
		close(life[1]);
		client_keeper(kp->conf, kp->path, kp->cc, ctlfd, life[0]);
		/* NOTREACHED */
	default:
		close(life[0]);
		kp->life = life[1];
		break;
	}
}

/* A try that brought no session: its keeper has nothing to keep. */
static void
client_keeper_drop(struct client_keeper *kp)
{
	if (kp == NULL || kp->pid == -1)
		return;
	close(kp->life);
	while (waitpid(kp->pid, NULL, 0) == -1 && errno == EINTR)
		;
	kp->pid = -1;
	kp->life = -1;
}

/*
 * The session: hand the control connection to the keeper (it is its
 * alone from now on), then relay until both directions are done.
 */
static int
client_relay(struct client_keeper *kp, int ctlfd, int guestfd,
    struct vmconf *vm)
{
	char	 errmsg[256];

	/* The keeper holds the session; its pipe's end tells it we live. */
	if (kp->pid != -1 && write(kp->life, "", 1) == 1)
		close(ctlfd);
	/*
	 * From here on only the relay runs, on descriptors we hold: no
	 * files, no sockets, no children.  (The supervisor is forked
	 * before this point, and the keeper too.)
	 */
	osdep_pledge("stdio", NULL);
	if (proxy_relay(STDIN_FILENO, STDOUT_FILENO, guestfd, errmsg,
	    sizeof(errmsg)) == -1) {
		warnx("%s: %s", vm->name, errmsg);
		return (CLIENT_EXIT_FAIL);
	}
	close(guestfd);
	return (0);
}

/*
 * The keeper: as long as the relay lives, a supervisor knows about this
 * session.  It holds nothing of ssh's (stdin and stdout go to
 * /dev/null, so that ssh sees the relay's end as the end) and no guest
 * socket.
 */
static __dead void
client_keeper(struct config *conf, const char *path, struct ctl_connect *cc,
    int ctlfd, int life)
{
	struct pollfd	 pfd[2];
	struct buf	 b;
	long long	 spawned = 0;
	uint32_t	 type;
	int		 fd, n, done = 0, delay = CLIENT_RETRY_MS;
	char		 c;

	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	/* The relay's byte: the session is ours.  Its end: none came. */
	while ((n = read(life, &c, 1)) == -1 && errno == EINTR)
		;
	if (n != 1)
		_exit(0);
	buf_init(&b);
	cc->flags |= CTL_FLAG_RESUME;
	for (;;) {
		pfd[0].fd = life;
		pfd[0].events = POLLIN;
		pfd[1].fd = ctlfd;
		pfd[1].events = POLLIN;
		n = poll(pfd, ctlfd != -1 ? 2 : 1, ctlfd != -1 || done ?
		    -1 : delay);
		if (n == -1 && errno != EINTR)
			_exit(1);
		if (n > 0 && pfd[0].revents != 0)
			_exit(0);	/* the relay is gone */
		if (ctlfd != -1 && n > 0 && pfd[1].revents != 0) {
			n = ctl_recv(ctlfd, &type, &b, NULL, 1000);
			if (n == 1 && type == CTL_ERROR) {
				/* A supervisor that leaves for good. */
				done = 1;
			} else if (n == 1)
				continue;
			close(ctlfd);
			ctlfd = -1;
			continue;
		}
		if (ctlfd != -1 || done)
			continue;
		/* The supervisor died: tell a new one, starting it if need be. */
		if ((ctlfd = client_connect(path, now_ms() + delay)) == -1) {
			if ((errno == ENOENT || errno == ECONNREFUSED) &&
			    (spawned == 0 ||
			    now_ms() - spawned >= CLIENT_RESPAWN_MS)) {
				(void)client_spawn(conf, 0);
				spawned = now_ms();
			}
			if (delay < 1000)
				delay *= 2;
			continue;
		}
		buf_reset(&b);
		ctl_pack_connect(&b, cc);
		if (ctl_send(ctlfd, CTL_CONNECT, &b, -1) == -1) {
			close(ctlfd);
			ctlfd = -1;
			continue;
		}
		delay = CLIENT_RETRY_MS;
	}
}

/* A field from the supervisor, escaped in place for the terminal. */
void
client_clean(char *s, size_t size)
{
	char	 esc[ESCAPE_LEN(512)];

	escape_str(s, esc, sizeof(esc));
	(void)strlcpy(s, esc, size);
}
