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
 * The supervisor: one per user and control socket.  This file owns the
 * process: the lock that keeps it to one, the listening socket, the
 * event loop and its signals, reloading the config in two phases, and
 * deciding to exit.  What it serves is elsewhere: peers (peer.c), VMs
 * (vm.c), the state file (state.c), apps (autostart.c).
 *
 * Exit: a supervisor that a client started leaves once nothing is left
 * to watch (no peer, no VM it owns or that is in use, no adoption to
 * decide, no child), after a moment's grace.  One that a person started
 * with -d stays until SIGTERM or SIGINT.  Either way SIGTERM stops the
 * VMs it owns, then exits.
 */

#include <sys/types.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmlaunch.h"

#define LINGER_FIRST		10000	/* ms: wait for the first client */
#define LINGER			2000	/* ms: nothing to watch, then exit */
#define LOCK_WAIT		5000	/* ms for an exiting supervisor's lock */
#define LOCK_INTERVAL		20	/* ms between two tries */
#define LISTEN_BACKLOG		128

static struct {
	struct config		*conf;
	time_t			 since;		/* it began, for -s */
	struct stat		 conf_st;	/* the file as last read */
	int			 foreground;	/* -d: a person started it */
	int			 listenfd;
	char			*sockpath;
	struct event		 ev_linger;
	int			 lingered;
	int			 down;		/* SIGTERM or SIGINT came */
	int			 exiting;	/* the loop was told to end */
} sv;

static void	 supervisor_signal(int, short, void *);
static void	 supervisor_linger(int, short, void *);
static void	 supervisor_reload(void);
static int	 supervisor_conf_changed(void);
static void	 supervisor_conf_stamp(struct stat *);
static void	 supervisor_shutdown(void);
static void	 supervisor_free(void);
static void	 supervisor_configure(struct config *);
static int	 supervisor_lock(char *, size_t);
static int	 supervisor_answers(void);
static int	 supervisor_listen(char *, size_t);

int
supervisor_shutting_down(void)
{
	return (sv.down);
}

/* Who this supervisor is, for vmlaunch -s. */
void
supervisor_status(struct ctl_status_sup *sup)
{
	memset(sup, 0, sizeof(*sup));
	sup->pid = getpid();
	sup->since = sv.since;
	(void)strlcpy(sup->config, sv.conf->file, sizeof(sup->config));
}

/* Anything to watch: a peer, a VM, an adoption, a child. */
static int
supervisor_busy(void)
{
	return (peer_count() > 0 || vm_busy() || state_pending() > 0 ||
	    job_count() > 0);
}

/*
 * Called whenever something ends.  Shutting down: exit once our stops
 * are done.  Otherwise a supervisor that a client started lingers, then
 * exits, when there is nothing left to watch.
 */
void
supervisor_check_exit(void)
{
	long		 ms;

	if (sv.exiting)
		return;
	if (sv.down) {
		if (!vm_busy()) {
			log_info("shutdown complete");
			sv.exiting = 1;
			event_loopexit(NULL);
		}
		return;
	}
	if (sv.foreground)
		return;
	if (supervisor_busy()) {
		sv.lingered = 1;
		evtimer_del(&sv.ev_linger);
		return;
	}
	if (evtimer_pending(&sv.ev_linger, NULL))
		return;
	ms = sv.lingered ? LINGER : LINGER_FIRST;
	timer_ms(&sv.ev_linger, ms);
}

static void
supervisor_linger(int fd, short ev, void *arg)
{
	if (supervisor_busy())
		return;
	log_info("nothing left to watch, exiting");
	/* Refuse new clients first: they will start a new supervisor. */
	peer_shutdown();
	unlink(sv.sockpath);
	close(sv.listenfd);
	sv.listenfd = -1;
	sv.exiting = 1;
	event_loopexit(NULL);
}

static void
supervisor_signal(int sig, short ev, void *arg)
{
	switch (sig) {
	case SIGHUP:
		log_info("SIGHUP: reloading %s", sv.conf->file);
		supervisor_reload();
		break;
	case SIGTERM:
	case SIGINT:
		log_info("%s: stopping the vms vmlaunch started, then exiting",
		    sig == SIGTERM ? "SIGTERM" : "SIGINT");
		supervisor_shutdown();
		break;
	case SIGCHLD:
		job_reap();
		break;
	}
}

/*
 * The config file as last read, to notice an edit: a client that parsed
 * the new file must not be refused by a supervisor that still has the
 * old one.  Included files are not watched; SIGHUP rereads everything.
 */
static void
supervisor_conf_stamp(struct stat *st)
{
	if (stat(sv.conf->file, st) == -1)
		memset(st, 0, sizeof(*st));
}

static int
supervisor_conf_changed(void)
{
	struct stat	 st;

	supervisor_conf_stamp(&st);
	return (st.st_ino != sv.conf_st.st_ino ||
	    st.st_dev != sv.conf_st.st_dev ||
	    st.st_size != sv.conf_st.st_size ||
	    st.st_mtim.tv_sec != sv.conf_st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != sv.conf_st.st_mtim.tv_nsec);
}

void
supervisor_reload_if_changed(void)
{
	if (!supervisor_conf_changed())
		return;
	log_info("%s changed, reloading it", sv.conf->file);
	supervisor_reload();
}

/* Everyone who keeps a pointer to the config gets the new one. */
static void
supervisor_configure(struct config *conf)
{
	sv.conf = conf;
	backend_configure(conf);
	address_configure(conf);
	vm_configure(conf);
	peer_configure(conf);
	autostart_configure(conf);
	busy_configure(conf);
	hold_configure(conf);
	state_configure(conf);
}

/* Two phases: parse into a new config; swap only if it is clean. */
static void
supervisor_reload(void)
{
	struct config	*nconf, *oconf = sv.conf;
	char		*osock, *nsock;

	supervisor_conf_stamp(&sv.conf_st);
	if ((nconf = parse_config(oconf->file)) == NULL) {
		log_warnx("reload: %s has errors, keeping the old "
		    "configuration", oconf->file);
		return;
	}
	osock = config_socket_path(oconf);
	nsock = config_socket_path(nconf);
	if (osock != NULL && nsock != NULL && strcmp(osock, nsock) != 0)
		log_warnx("reload: the control socket cannot change while "
		    "running; still %s", osock);
	free(osock);
	free(nsock);
	supervisor_configure(nconf);
	config_free(oconf);
	log_info("reload: configuration from %s in effect", nconf->file);
	supervisor_check_exit();
}

static void
supervisor_shutdown(void)
{
	if (sv.down++) {
		log_info("already shutting down");
		return;
	}
	evtimer_del(&sv.ev_linger);
	if (sv.sockpath != NULL)
		unlink(sv.sockpath);
	peer_shutdown();
	vm_shutdown();
	hold_shutdown();
	supervisor_check_exit();
}

/* Does a supervisor accept connections on our control socket? */
static int
supervisor_answers(void)
{
	struct sockaddr_un	 sun;
	int			 s, ok;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, sv.sockpath, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return (0);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (0);
	ok = connect(s, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(s);
	return (ok);
}

/*
 * The lock, or -1: with why in err when waiting would not help (empty
 * when another supervisor runs or is on its way out).
 */
static int
supervisor_lock(char *err, size_t errlen)
{
	char	*dir, *path;
	int	 fd, i;

	if ((dir = config_dir_path(sv.conf)) == NULL)
		fatalx("no directory for the control socket");
	if (asprintf(&path, "%s/%s", dir, VMLAUNCH_LOCK) == -1)
		fatal("asprintf");
	free(dir);
	*err = '\0';
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "cannot lock %s: %s", path,
		    strerror(errno));
		free(path);
		return (-1);
	}
	/*
	 * The lock is held by a supervisor that runs (give way at once: the
	 * client that started us is waiting to connect to it) or by one
	 * that is exiting (wait for it rather than give up).
	 */
	for (i = 0; i < LOCK_WAIT / LOCK_INTERVAL; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			free(path);
			return (fd);
		}
		if (errno != EWOULDBLOCK) {
			snprintf(err, errlen, "cannot lock %s: %s", path,
			    strerror(errno));
			break;
		}
		if (supervisor_answers()) {
			if (sv.foreground)
				log_warnx("a supervisor already runs on %s",
				    sv.sockpath);
			else
				log_debug("another supervisor answers on %s",
				    sv.sockpath);
			break;
		}
		usleep(LOCK_INTERVAL * 1000);
	}
	if (i == LOCK_WAIT / LOCK_INTERVAL)
		log_warnx("another supervisor holds %s", path);
	close(fd);
	free(path);
	return (-1);
}

/* The listening socket, or -1 with why in err. */
static int
supervisor_listen(char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 omask;
	int			 s;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, sv.sockpath, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		snprintf(err, errlen, "cannot listen on %s: socket path too "
		    "long", sv.sockpath);
		return (-1);
	}
	/*
	 * We hold the lock: a socket left here is stale.  Anything else
	 * is not ours to remove (a socket line naming the wrong file).
	 */
	if (lstat(sv.sockpath, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "cannot listen on %s: it exists and "
		    "is not a socket", sv.sockpath);
		return (-1);
	}
	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) == -1) {
		snprintf(err, errlen, "cannot listen on %s: socket: %s",
		    sv.sockpath, strerror(errno));
		return (-1);
	}
	if (unlink(sv.sockpath) == -1 && errno != ENOENT)
		goto fail;
	omask = umask(0177);
	if (bind(s, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(omask);
		goto fail;
	}
	umask(omask);
	if (chmod(sv.sockpath, 0600) == -1 ||
	    listen(s, LISTEN_BACKLOG) == -1 ||
	    fcntl(s, F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(s, F_SETFD, FD_CLOEXEC) == -1)
		goto fail;
	return (s);
 fail:
	snprintf(err, errlen, "cannot listen on %s: %s", sv.sockpath,
	    strerror(errno));
	close(s);
	return (-1);
}

/*
 * A supervisor that cannot start says why, to its log and to the client
 * that started it (readyfd), which would otherwise wait for it in vain.
 */
static int
supervisor_unready(int readyfd, const char *why)
{
	if (*why != '\0')
		log_warnx("%s", why);
	if (readyfd != -1) {
		if (*why != '\0' && write(readyfd, why, strlen(why)) == -1)
			log_debug("ready pipe: %s", strerror(errno));
		close(readyfd);
	}
	return (1);
}

/*
 * Run the supervisor.  readyfd, when not -1, gets one NUL byte once the
 * control socket listens (the client that started us waits for it), or
 * the reason it cannot start; nothing when another supervisor answers.
 */
int
supervisor_main(struct config *conf, int foreground, int readyfd)
{
	struct event	 ev_hup, ev_term, ev_int, ev_chld;
	char		*dir, err[1024];
	int		 lockfd;

	memset(&sv, 0, sizeof(sv));
	sv.conf = conf;
	sv.since = time(NULL);
	sv.foreground = foreground;
	sv.listenfd = -1;
	signal(SIGPIPE, SIG_IGN);

	if ((dir = config_dir_path(conf)) == NULL ||
	    (sv.sockpath = config_socket_path(conf)) == NULL)
		fatalx("cannot tell where the control socket goes");
	if (config_dir_check(dir, 1, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		free(dir);
		return (supervisor_unready(readyfd, "refusing to run with an "
		    "unsafe socket directory"));
	}
	/* In the background, hold no directory busy. */
	if (!foreground && dir[0] == '/' && sv.sockpath[0] == '/' &&
	    conf->file[0] == '/' && chdir("/") == -1)
		log_warn("chdir /");
	free(dir);
	if ((lockfd = supervisor_lock(err, sizeof(err))) == -1 ||
	    (sv.listenfd = supervisor_listen(err, sizeof(err))) == -1)
		return (supervisor_unready(readyfd, err));

	/*
	 * From here on, by promise (sandbox.c says what is unveiled):
	 * rpath	fopen and stat of the config and its includes (reload,
	 *		edit check); fopen of the state file; rename; open of
	 *		a predecessor's start answer (start.NAME)
	 * wpath cpath	the state file: mkstemp, rename, unlink of a failed
	 *		temporary; a start's answer file: open O_CREAT|O_TRUNC,
	 *		unlink; unlink of the socket at exit
	 * unix		accept on the control socket; the peer's uid
	 *		(getpeereid, the SO_PEERCRED socket option)
	 * sendfd	sendmsg of the guest socket to its client (SCM_RIGHTS)
	 * inet		socket and connect to probe and reach guests; the
	 *		AF_INET socket for SIOCGIFDESCR; getifaddrs' sysctl
	 * route	ioctl SIOCGIFDESCR, the tap's description (address tap)
	 * dns		getaddrinfo of fixed host names, in a child
	 * getpw	getpwuid for the socket's directory when HOME is unset
	 * proc exec	fork and execvp of vmctl, backend and address
	 *		commands and ssh;
	 *		setpgid, kill and killpg of their process groups
	 * The chmod of the socket (fattr) and the lock (flock) are done.
	 * No execpromises: vmctl and ssh run unrestricted.
	 */
	sandbox_supervisor(conf);
	osdep_pledge("stdio rpath wpath cpath unix sendfd inet route dns "
	    "getpw proc exec", NULL);

	event_init();
	signal_set(&ev_hup, SIGHUP, supervisor_signal, NULL);
	signal_set(&ev_term, SIGTERM, supervisor_signal, NULL);
	signal_set(&ev_int, SIGINT, supervisor_signal, NULL);
	signal_set(&ev_chld, SIGCHLD, supervisor_signal, NULL);
	signal_add(&ev_hup, NULL);
	signal_add(&ev_term, NULL);
	signal_add(&ev_int, NULL);
	signal_add(&ev_chld, NULL);
	evtimer_set(&sv.ev_linger, supervisor_linger, NULL);
	supervisor_configure(conf);
	peer_accept(sv.listenfd);

	log_info("supervisor %ld listening on %s (config %s)", (long)getpid(),
	    sv.sockpath, conf->file);
	if (readyfd != -1) {
		if (write(readyfd, "", 1) == -1)
			log_debug("ready pipe: %s", strerror(errno));
		close(readyfd);
	}

	supervisor_conf_stamp(&sv.conf_st);
	state_init(conf);
	state_adopt();
	supervisor_check_exit();

	event_dispatch();

	supervisor_free();
	close(lockfd);
	return (0);
}

/* What is left is killed and freed, for a clean leak check. */
static void
supervisor_free(void)
{
	job_kill_all(SIGKILL);
	peer_free_all();
	hold_free_all();
	session_free_all();
	vm_free_all();
	history_free_all();
	state_shutdown();
	address_shutdown();
	autostart_shutdown();
	backend_shutdown();
	if (sv.listenfd != -1) {
		unlink(sv.sockpath);
		close(sv.listenfd);
	}
	free(sv.sockpath);
}
