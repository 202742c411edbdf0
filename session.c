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
 * Sessions: someone's interest in a VM.  An ssh client's session waits
 * for its VM to be ready, gets a connected guest socket and counts as
 * use for as long as its opener keeps it; a `vmlaunch -u` waits for the
 * VM to be ready and wants no socket; a hold (hold.c) is such a session
 * that stays; a `vmlaunch -x` waits for the VM to be stopped.  The VM
 * (vm.c) decides what a new session does and tells its sessions, through
 * the functions below, that it is ready, stopped, failed or that there
 * is progress to show; sessions never look into a struct vm.
 *
 * Lifetime: a session belongs to its opener (a peer, a hold) from
 * session_open() until session_close().  Its connect to the guest (a
 * probe) is its own and goes with it.  The session ops run from the
 * event loop or from inside session_open(); they must not close a
 * session, their own or another: an opener that is done marks itself
 * and closes later (peer.c's closing peers, hold.c's timer).
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"

enum session_state {
	SESSION_WAITING,	/* for its VM to be ready (or stopped) */
	SESSION_CONNECTING,	/* its connect to the guest runs */
	SESSION_OPEN,		/* has its guest socket, or its answer */
	SESSION_FAILED		/* told why not; counts for nothing */
};

struct session {
	TAILQ_ENTRY(session)	 entry;
	struct vm		*vm;
	unsigned int		 id;
	enum session_state	 state;
	int			 port;
	int			 flags;		/* CTL_FLAG_*, SESSION_HOLD */
	struct probe		*conn;
	const struct session_ops *ops;
	void			*arg;
	long long		 t_start;
};

static TAILQ_HEAD(, session) sessions = TAILQ_HEAD_INITIALIZER(sessions);
static unsigned int	 session_ids;

static void	 session_connect(struct session *);
static void	 session_probe_cb(enum probe_event, int, const char *, void *);

/* What a session of these flags is, in a word, for messages. */
const char *
session_kind(int flags)
{
	if (flags & SESSION_HOLD)
		return ("a hold");
	if (flags & CTL_FLAG_DOWN)
		return ("vmlaunch -x");
	if (flags & CTL_FLAG_UP)
		return ("vmlaunch -u");
	if (flags & CTL_FLAG_NOTUSE)
		return ("a busy check");
	if (flags & CTL_FLAG_NOBOOT)
		return ("an app");
	return ("an ssh session");
}

struct session *
session_open(struct vmconf *vmc, int port, int flags, const char *display,
    const char *xauthority, const struct session_ops *ops, void *arg)
{
	struct session	*s;
	char		 msg[512];

	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("session");
	s->vm = vm_find(vmc->name);
	s->id = ++session_ids;
	s->port = vm_port(s->vm, port);
	s->flags = flags;
	s->ops = ops;
	s->arg = arg;
	s->t_start = now_ms();
	s->state = SESSION_WAITING;
	TAILQ_INSERT_TAIL(&sessions, s, entry);

	switch (vm_session_opened(s->vm, s->id, flags, display, xauthority,
	    msg, sizeof(msg))) {
	case VM_SESSION_WAIT:
		break;
	case VM_SESSION_OPEN:
		s->state = SESSION_OPEN;
		break;
	case VM_SESSION_CONNECT:
		session_connect(s);
		break;
	case VM_SESSION_DONE:
		s->state = SESSION_OPEN;
		s->ops->ready(s->arg, -1, msg);
		break;
	case VM_SESSION_REFUSED:
		s->state = SESSION_FAILED;
		s->ops->fail(s->arg, msg);
		break;
	}
	return (s);
}

void
session_close(struct session *s)
{
	struct vm	*vm = s->vm;

	TAILQ_REMOVE(&sessions, s, entry);
	probe_cancel(s->conn);
	log_debug("vm %s: session %u ended, %d open, %d waiting", vm_name(vm),
	    s->id, session_count(vm, SESSIONS_OPEN),
	    session_count(vm, SESSIONS_WAITING));
	free(s);
	vm_session_closed(vm);
}

const char *
session_vm(struct session *s)
{
	return (vm_name(s->vm));
}

/* What a waiting session's client should show now. */
void
session_progress(struct session *s, long long now, struct ctl_progress *pr)
{
	vm_progress(s->vm, now, s->t_start, s->flags, pr);
}

static int
session_counts(const struct session *s, enum session_count what)
{
	int	 use = s->state != SESSION_FAILED &&
		    !(s->flags & (CTL_FLAG_NOTUSE | CTL_FLAG_DOWN));

	switch (what) {
	case SESSIONS_ANY:
		return (1);
	case SESSIONS_WAITING:
		return (s->state == SESSION_WAITING &&
		    !(s->flags & CTL_FLAG_DOWN));
	case SESSIONS_OPEN:
		return (s->state == SESSION_OPEN);
	case SESSIONS_USING:
		return (use);
	case SESSIONS_SHOWN:
		return (s->state != SESSION_FAILED &&
		    !(s->flags & (SESSION_HOLD | CTL_FLAG_DOWN)));
	case SESSIONS_USERS:
		return (use && !(s->flags & SESSION_HOLD));
	case SESSIONS_HOLDS:
		return (use && (s->flags & SESSION_HOLD));
	case SESSIONS_DOWN:
		return (s->state == SESSION_WAITING &&
		    (s->flags & CTL_FLAG_DOWN));
	}
	return (0);
}

int
session_count(struct vm *vm, enum session_count what)
{
	struct session	*s;
	int		 n = 0;

	TAILQ_FOREACH(s, &sessions, entry)
		if (s->vm == vm && session_counts(s, what))
			n++;
	return (n);
}

/* Tell the sessions that wait that there is news to show. */
void
session_notify(struct vm *vm)
{
	struct session	*s;

	TAILQ_FOREACH(s, &sessions, entry)
		if (s->vm == vm && s->state == SESSION_WAITING)
			s->ops->changed(s->arg);
}

/*
 * The sessions that wait or connect fail, with msg: all of them, those
 * that want the VM up, or those that want it stopped.
 */
void
session_fail_waiting(struct vm *vm, const char *msg, enum session_fail which)
{
	struct session	*s;
	int		 down;

	TAILQ_FOREACH(s, &sessions, entry) {
		down = (s->flags & CTL_FLAG_DOWN) != 0;
		if (s->vm != vm || (s->state != SESSION_WAITING &&
		    s->state != SESSION_CONNECTING) ||
		    (which == SESSIONS_FAIL_UP && down) ||
		    (which == SESSIONS_FAIL_DOWN && !down))
			continue;
		probe_cancel(s->conn);
		s->conn = NULL;
		s->state = SESSION_FAILED;
		s->ops->fail(s->arg, msg);
	}
}

/*
 * The sessions that must not boot the VM (an app's, a check's) fail:
 * it is not running.
 */
void
session_fail_noboot(struct vm *vm, const char *msg)
{
	struct session	*s;

	TAILQ_FOREACH(s, &sessions, entry) {
		if (s->vm != vm || s->state != SESSION_WAITING ||
		    !(s->flags & CTL_FLAG_NOBOOT) || (s->flags & CTL_FLAG_DOWN))
			continue;
		s->state = SESSION_FAILED;
		s->ops->fail(s->arg, msg);
	}
}

/*
 * The guest answered on port, with its banner on fd (or -1): the first
 * ssh session that waits for that port gets fd, the others connect;
 * those that want no socket are answered at once.
 */
void
session_vm_ready(struct vm *vm, int fd, int port, const char *addr)
{
	struct session	*s;

	TAILQ_FOREACH(s, &sessions, entry) {
		if (s->vm != vm || s->state != SESSION_WAITING ||
		    (s->flags & CTL_FLAG_DOWN))
			continue;
		if (s->flags & (CTL_FLAG_UP | SESSION_HOLD)) {
			s->state = SESSION_OPEN;
			s->ops->ready(s->arg, -1, addr);
		} else if (fd != -1 && s->port == port) {
			s->state = SESSION_OPEN;
			s->ops->ready(s->arg, fd, addr);
			fd = -1;
		} else
			session_connect(s);
	}
	if (fd != -1)
		close(fd);
}

/*
 * The VM's id is in doubt (vmd may have dealt it to another VM): those
 * connecting by it wait again, for the guest a status confirms.
 */
void
session_vm_doubt(struct vm *vm)
{
	struct session	*s;

	TAILQ_FOREACH(s, &sessions, entry) {
		if (s->vm != vm || s->state != SESSION_CONNECTING)
			continue;
		probe_cancel(s->conn);
		s->conn = NULL;
		s->state = SESSION_WAITING;
	}
}

/* The VM stopped: those who waited for that are answered. */
void
session_vm_stopped(struct vm *vm, const char *msg)
{
	struct session	*s;

	TAILQ_FOREACH(s, &sessions, entry) {
		if (s->vm != vm || s->state != SESSION_WAITING ||
		    !(s->flags & CTL_FLAG_DOWN))
			continue;
		s->state = SESSION_OPEN;
		s->ops->ready(s->arg, -1, msg);
	}
}

static void
session_probe_cb(enum probe_event ev, int fd, const char *text, void *arg)
{
	struct session	*s = arg;

	if (ev != PROBE_READY && ev != PROBE_FAILED)
		return;
	s->conn = NULL;
	if (ev == PROBE_READY) {
		s->state = SESSION_OPEN;
		log_debug("vm %s: session %u connected to %s",
		    vm_name(s->vm), s->id, text);
		if (s->flags & (CTL_FLAG_UP | SESSION_HOLD)) {
			close(fd);
			fd = -1;
		}
		s->ops->ready(s->arg, fd, text);
		return;
	}
	log_info("vm %s: connect failed (%s), checking its state",
	    vm_name(s->vm), text);
	s->state = SESSION_WAITING;
	if (!vm_suspect(s->vm))
		s->ops->changed(s->arg);
}

/* The VM is ready: connect this session to its guest. */
static void
session_connect(struct session *s)
{
	s->state = SESSION_CONNECTING;
	s->conn = vm_connect(s->vm, s->port, session_probe_cb, s);
}

/* At exit, so that nothing is left for a leak check to find. */
void
session_free_all(void)
{
	struct session	*s;

	while ((s = TAILQ_FIRST(&sessions)) != NULL) {
		TAILQ_REMOVE(&sessions, s, entry);
		probe_cancel(s->conn);
		free(s);
	}
}
