/*
 * Unit tests for buf.c and control.c: codec round trips, rejection of
 * every malformed payload, framing, and fd passing over a socketpair.
 * Prints "PASS name" or "FAIL name: why" per test.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"
#include "unit.h"



typedef int (*unpack_fn)(const void *, size_t, void *);

static uint32_t	rnd_state = 12345;

static uint32_t
rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return (rnd_state);
}

/*
 * Every strict prefix must be rejected, and so must the payload with a
 * trailing byte.  Runs on a heap copy of exactly the right size so that
 * an overread shows under ASan.
 */
static int
reject_truncated(const struct buf *b, unpack_fn fn, void *out)
{
	uint8_t	*p;
	size_t	 i;
	int	 ok = 1;

	for (i = 0; i < b->len; i++) {
		p = malloc(i ? i : 1);
		memcpy(p, b->data, i);
		if (fn(p, i, out) != -1)
			ok = 0;
		free(p);
	}
	p = malloc(b->len + 1);
	memcpy(p, b->data, b->len);
	p[b->len] = 0;
	if (fn(p, b->len + 1, out) != -1)
		ok = 0;
	free(p);
	return (ok);
}

/* Random corruption: must never crash; counts accepted mutants. */
static void
mutate(const struct buf *b, unpack_fn fn, void *out, int rounds)
{
	uint8_t	*p;
	size_t	 len;
	int	 i, k;

	for (i = 0; i < rounds; i++) {
		len = b->len + (rnd() % 8) - 4;
		if (len > b->len + 4)
			len = 0;
		p = malloc(len ? len : 1);
		memcpy(p, b->data, len < b->len ? len : b->len);
		if (len > b->len)
			memset(p + b->len, rnd(), len - b->len);
		for (k = 0; k < 3 && len > 0; k++)
			p[rnd() % len] = rnd();
		(void)fn(p, len, out);
		free(p);
	}
}

static void
test_buf(void)
{
	struct buf	 b;
	char		 s[8];
	int		 ok;

	buf_init(&b);
	buf_put_u16(&b, 0x1234);
	buf_put_u32(&b, 0xdeadbeef);
	buf_put_u64(&b, 0x0102030405060708ULL);
	buf_put_str(&b, "abc");
	buf_put_str(&b, "");
	CHECK(b.len == 2 + 4 + 8 + 5 + 2, "buf put lengths");
	CHECK(b.data[0] == 0x12 && b.data[2] == 0xde && b.data[6] == 1,
	    "buf network byte order");
	ok = buf_get_u16(&b) == 0x1234 && buf_get_u32(&b) == 0xdeadbeef &&
	    buf_get_u64(&b) == 0x0102030405060708ULL;
	buf_get_str(&b, s, sizeof(s));
	ok = ok && strcmp(s, "abc") == 0;
	buf_get_str(&b, s, sizeof(s));
	ok = ok && s[0] == '\0';
	CHECK(ok && buf_done(&b), "buf round trip");
	CHECK(buf_get_u32(&b) == 0 && b.error && !buf_done(&b),
	    "buf overrun sets error");

	buf_reset(&b);
	buf_put_str(&b, "1234567");
	buf_get_str(&b, s, sizeof(s));
	CHECK(buf_done(&b) && strcmp(s, "1234567") == 0,
	    "buf string that just fits");
	buf_reset(&b);
	buf_put_str(&b, "12345678");
	buf_get_str(&b, s, sizeof(s));
	CHECK(b.error && s[0] == '\0', "buf string one too long");
	buf_reset(&b);
	buf_put_u16(&b, 3);
	buf_put(&b, "a\0b", 3);
	buf_get_str(&b, s, sizeof(s));
	CHECK(b.error, "buf string with NUL");
	buf_reset(&b);
	buf_put_u16(&b, 100);
	buf_put(&b, "abc", 3);
	buf_get_str(&b, s, sizeof(s));
	CHECK(b.error, "buf string length past end");

	/* Growth across many puts. */
	buf_reset(&b);
	for (ok = 0; ok < 100000; ok++)
		buf_put_u32(&b, ok);
	for (ok = 0; ok < 100000; ok++)
		if (buf_get_u32(&b) != (uint32_t)ok)
			break;
	CHECK(ok == 100000 && buf_done(&b), "buf growth");
	buf_free(&b);
}

static void
test_connect(void)
{
	struct ctl_connect	 c, d;
	struct buf		 b;

	memset(&c, 0, sizeof(c));
	c.version = CTL_VERSION;
	c.port = 2222;
	c.flags = CTL_FLAG_RESUME;
	strlcpy(c.host, "ubuntu.vm", sizeof(c.host));
	strlcpy(c.display, ":0", sizeof(c.display));
	memset(c.xauthority, 'x', sizeof(c.xauthority) - 1);
	buf_init(&b);
	ctl_pack_connect(&b, &c);
	CHECK(ctl_unpack_connect(b.data, b.len, &d) == 0 &&
	    memcmp(&c, &d, sizeof(c)) == 0, "connect round trip");
	CHECK(reject_truncated(&b, (unpack_fn)ctl_unpack_connect, &d),
	    "connect truncated or trailing rejected");
	mutate(&b, (unpack_fn)ctl_unpack_connect, &d, 20000);

	c.version = 2;
	buf_reset(&b);
	ctl_pack_connect(&b, &c);
	CHECK(ctl_unpack_connect(b.data, b.len, &d) == -1,
	    "connect unknown version rejected");
	c.version = CTL_VERSION;
	c.port = 0;
	buf_reset(&b);
	ctl_pack_connect(&b, &c);
	CHECK(ctl_unpack_connect(b.data, b.len, &d) == -1,
	    "connect port 0 rejected");
	c.port = 22;
	c.flags = 0x8000;
	buf_reset(&b);
	ctl_pack_connect(&b, &c);
	CHECK(ctl_unpack_connect(b.data, b.len, &d) == -1,
	    "connect unknown flag rejected");
	c.flags = CTL_FLAG_DOWN | CTL_FLAG_FORCE;
	buf_reset(&b);
	ctl_pack_connect(&b, &c);
	CHECK(ctl_unpack_connect(b.data, b.len, &d) == 0 &&
	    d.flags == c.flags, "connect down, forced");
	c.flags = CTL_FLAG_UP | CTL_FLAG_DOWN;
	buf_reset(&b);
	ctl_pack_connect(&b, &c);
	CHECK(ctl_unpack_connect(b.data, b.len, &d) == -1,
	    "connect up and down rejected");
	c.flags = CTL_FLAG_UP | CTL_FLAG_FORCE;
	buf_reset(&b);
	ctl_pack_connect(&b, &c);
	CHECK(ctl_unpack_connect(b.data, b.len, &d) == -1,
	    "connect forced up rejected");
	c.flags = CTL_FLAG_UP | CTL_FLAG_RESUME;
	buf_reset(&b);
	ctl_pack_connect(&b, &c);
	CHECK(ctl_unpack_connect(b.data, b.len, &d) == -1,
	    "connect up resumed rejected");
	c.flags = 0;
	c.host[0] = '\0';
	buf_reset(&b);
	ctl_pack_connect(&b, &c);
	CHECK(ctl_unpack_connect(b.data, b.len, &d) == -1,
	    "connect empty host rejected");

	/* A host one byte longer than the field. */
	buf_reset(&b);
	buf_put_u32(&b, CTL_VERSION);
	buf_put_u16(&b, 22);
	buf_put_u16(&b, 0);
	buf_put_u16(&b, sizeof(d.host));
	{
		char	 big[sizeof(d.host)];

		memset(big, 'h', sizeof(big));
		buf_put(&b, big, sizeof(big));
	}
	buf_put_str(&b, "");
	buf_put_str(&b, "");
	CHECK(ctl_unpack_connect(b.data, b.len, &d) == -1,
	    "connect overlong host rejected");

	/* NUL inside the host. */
	buf_reset(&b);
	buf_put_u32(&b, CTL_VERSION);
	buf_put_u16(&b, 22);
	buf_put_u16(&b, 0);
	buf_put_u16(&b, 5);
	buf_put(&b, "ab\0cd", 5);
	buf_put_str(&b, "");
	buf_put_str(&b, "");
	CHECK(ctl_unpack_connect(b.data, b.len, &d) == -1,
	    "connect NUL in host rejected");
	buf_free(&b);
}

static void
test_hold(void)
{
	struct ctl_hold		 h, g;
	struct ctl_status_sup	 s, t;
	struct buf		 b;

	memset(&h, 0, sizeof(h));
	h.version = CTL_VERSION;
	h.seconds = 7200;
	strlcpy(h.host, "ubuntu.vm", sizeof(h.host));
	buf_init(&b);
	ctl_pack_hold(&b, &h);
	CHECK(ctl_unpack_hold(b.data, b.len, &g) == 0 &&
	    memcmp(&h, &g, sizeof(h)) == 0, "hold round trip");
	CHECK(reject_truncated(&b, (unpack_fn)ctl_unpack_hold, &g),
	    "hold truncated or trailing rejected");
	mutate(&b, (unpack_fn)ctl_unpack_hold, &g, 20000);
	h.seconds = HOLD_FOREVER;
	buf_reset(&b);
	ctl_pack_hold(&b, &h);
	CHECK(ctl_unpack_hold(b.data, b.len, &g) == 0 &&
	    g.seconds == HOLD_FOREVER, "hold until released");
	h.seconds = HOLD_RELEASE;
	buf_reset(&b);
	ctl_pack_hold(&b, &h);
	CHECK(ctl_unpack_hold(b.data, b.len, &g) == 0 &&
	    g.seconds == HOLD_RELEASE, "hold release");
	h.seconds = -2;
	buf_reset(&b);
	ctl_pack_hold(&b, &h);
	CHECK(ctl_unpack_hold(b.data, b.len, &g) == -1,
	    "hold below -1 rejected");
	h.seconds = (int64_t)HOLD_MAX + 1;
	buf_reset(&b);
	ctl_pack_hold(&b, &h);
	CHECK(ctl_unpack_hold(b.data, b.len, &g) == -1,
	    "hold too long rejected");
	h.seconds = 60;
	h.host[0] = '\0';
	buf_reset(&b);
	ctl_pack_hold(&b, &h);
	CHECK(ctl_unpack_hold(b.data, b.len, &g) == -1,
	    "hold empty host rejected");

	memset(&s, 0, sizeof(s));
	s.pid = 4242;
	s.since = 1796000000;
	memset(s.config, 'c', sizeof(s.config) - 1);
	buf_reset(&b);
	ctl_pack_status_sup(&b, &s);
	CHECK(ctl_unpack_status_sup(b.data, b.len, &t) == 0 &&
	    memcmp(&s, &t, sizeof(s)) == 0, "status-sup round trip");
	CHECK(reject_truncated(&b, (unpack_fn)ctl_unpack_status_sup, &t),
	    "status-sup truncated or trailing rejected");
	mutate(&b, (unpack_fn)ctl_unpack_status_sup, &t, 20000);
	s.pid = 0;
	buf_reset(&b);
	ctl_pack_status_sup(&b, &s);
	CHECK(ctl_unpack_status_sup(b.data, b.len, &t) == -1,
	    "status-sup pid 0 rejected");
	buf_free(&b);
}

static void
test_small(void)
{
	struct ctl_progress	 p, q;
	struct ctl_ready	 r, s;
	struct ctl_error	 e, f;
	struct buf		 b;

	buf_init(&b);
	memset(&p, 0, sizeof(p));
	p.phase = PHASE_BOOTING;
	p.elapsed_ms = 12345;
	p.deadline_ms = 180000;
	strlcpy(p.text, "booting, waiting for 100.64.1.3:22", sizeof(p.text));
	ctl_pack_progress(&b, &p);
	CHECK(ctl_unpack_progress(b.data, b.len, &q) == 0 &&
	    memcmp(&p, &q, sizeof(p)) == 0, "progress round trip");
	CHECK(reject_truncated(&b, (unpack_fn)ctl_unpack_progress, &q),
	    "progress truncated or trailing rejected");
	mutate(&b, (unpack_fn)ctl_unpack_progress, &q, 20000);
	p.phase = PHASE_RESUMING + 1;
	buf_reset(&b);
	ctl_pack_progress(&b, &p);
	CHECK(ctl_unpack_progress(b.data, b.len, &q) == -1,
	    "progress bad phase rejected");

	memset(&r, 0, sizeof(r));
	strlcpy(r.address, "100.64.1.3:22", sizeof(r.address));
	buf_reset(&b);
	ctl_pack_ready(&b, &r);
	CHECK(ctl_unpack_ready(b.data, b.len, &s) == 0 &&
	    strcmp(s.address, r.address) == 0, "ready round trip");
	CHECK(reject_truncated(&b, (unpack_fn)ctl_unpack_ready, &s),
	    "ready truncated or trailing rejected");
	CHECK(ctl_unpack_ready(NULL, 0, &s) == -1, "ready empty rejected");

	memset(&e, 0, sizeof(e));
	memset(e.message, 'm', sizeof(e.message) - 1);
	buf_reset(&b);
	ctl_pack_error(&b, &e);
	CHECK(ctl_unpack_error(b.data, b.len, &f) == 0 &&
	    strcmp(e.message, f.message) == 0, "error round trip, full field");
	CHECK(reject_truncated(&b, (unpack_fn)ctl_unpack_error, &f),
	    "error truncated or trailing rejected");
	mutate(&b, (unpack_fn)ctl_unpack_error, &f, 5000);
	buf_free(&b);
}

static void
test_status(void)
{
	struct ctl_status_vm	*v, *w;
	struct buf		 b;
	uint32_t		 i;

	v = calloc(1, sizeof(*v));
	w = calloc(1, sizeof(*w));
	strlcpy(v->name, "ubuntu", sizeof(v->name));
	strlcpy(v->vmd_state, "running", sizeof(v->vmd_state));
	strlcpy(v->state, "idle", sizeof(v->state));
	strlcpy(v->address, "100.64.1.3:22", sizeof(v->address));
	v->sessions = 3;
	v->started = 1;
	v->configured = 1;
	v->idle_left = 252;
	v->held = 1;
	v->hold_left = 7200;
	v->napps = STATUS_APPS_MAX;
	for (i = 0; i < v->napps; i++) {
		snprintf(v->apps[i].command, sizeof(v->apps[i].command),
		    "app %u", i);
		strlcpy(v->apps[i].state, "running", sizeof(v->apps[i].state));
		v->apps[i].restarts = i;
		v->apps[i].pid = i == 3 ? -1 : (int32_t)(1000 + i);
	}
	v->nevents = HISTORY_MAX;
	for (i = 0; i < v->nevents; i++) {
		v->events[i].when = 1796000000000LL + i;
		memset(v->events[i].text, 'e', sizeof(v->events[i].text) - 1);
	}
	buf_init(&b);
	ctl_pack_status_vm(&b, v);
	CHECK(b.len <= CTL_MSG_MAX, "status row fits a message");
	CHECK(ctl_unpack_status_vm(b.data, b.len, w) == 0 &&
	    memcmp(v, w, sizeof(*v)) == 0, "status round trip");
	CHECK(reject_truncated(&b, (unpack_fn)ctl_unpack_status_vm, w),
	    "status truncated or trailing rejected");
	mutate(&b, (unpack_fn)ctl_unpack_status_vm, w, 20000);

	v->idle_left = -1;
	v->napps = 0;
	v->nevents = 0;
	v->held = 0;
	v->hold_left = -1;
	buf_reset(&b);
	ctl_pack_status_vm(&b, v);
	CHECK(ctl_unpack_status_vm(b.data, b.len, w) == 0 &&
	    w->idle_left == -1 && w->napps == 0 && w->nevents == 0 &&
	    !w->held, "status no idle, no apps, no events, no hold");
	v->hold_left = 5;
	buf_reset(&b);
	ctl_pack_status_vm(&b, v);
	CHECK(ctl_unpack_status_vm(b.data, b.len, w) == -1,
	    "status time left on no hold rejected");
	v->held = 2;
	buf_reset(&b);
	ctl_pack_status_vm(&b, v);
	CHECK(ctl_unpack_status_vm(b.data, b.len, w) == -1,
	    "status held out of range rejected");
	v->held = 1;
	v->hold_left = -2;
	buf_reset(&b);
	ctl_pack_status_vm(&b, v);
	CHECK(ctl_unpack_status_vm(b.data, b.len, w) == -1,
	    "status hold time below -1 rejected");
	v->hold_left = -1;
	v->nevents = 1;
	v->events[0].when = -5;
	buf_reset(&b);
	ctl_pack_status_vm(&b, v);
	CHECK(ctl_unpack_status_vm(b.data, b.len, w) == -1,
	    "status event before the epoch rejected");

	/* napps beyond the array, hand made. */
	buf_reset(&b);
	buf_put_str(&b, "a");
	buf_put_str(&b, "");
	buf_put_str(&b, "");
	buf_put_str(&b, "");
	buf_put_u32(&b, 0);
	buf_put_u32(&b, 0);
	buf_put_u32(&b, 1);
	buf_put_u64(&b, (uint64_t)-1);
	buf_put_u32(&b, 0);
	buf_put_u64(&b, (uint64_t)-1);
	buf_put_u32(&b, STATUS_APPS_MAX + 1);
	for (i = 0; i < STATUS_APPS_MAX + 1; i++) {
		buf_put_str(&b, "x");
		buf_put_str(&b, "y");
		buf_put_u32(&b, 0);
		buf_put_u32(&b, 0);
	}
	CHECK(ctl_unpack_status_vm(b.data, b.len, w) == -1,
	    "status napps > STATUS_APPS_MAX rejected");
	buf_reset(&b);
	buf_put_str(&b, "a");
	buf_put_str(&b, "");
	buf_put_str(&b, "");
	buf_put_str(&b, "");
	buf_put_u32(&b, 0);
	buf_put_u32(&b, 7);
	buf_put_u32(&b, 1);
	buf_put_u64(&b, 0);
	buf_put_u32(&b, 0);
	buf_put_u64(&b, (uint64_t)-1);
	buf_put_u32(&b, 0);
	buf_put_u32(&b, 0);
	CHECK(ctl_unpack_status_vm(b.data, b.len, w) == -1,
	    "status started out of range rejected");
	/* Events beyond the array, hand made. */
	buf_reset(&b);
	buf_put_str(&b, "a");
	buf_put_str(&b, "");
	buf_put_str(&b, "");
	buf_put_str(&b, "");
	buf_put_u32(&b, 0);
	buf_put_u32(&b, 0);
	buf_put_u32(&b, 1);
	buf_put_u64(&b, (uint64_t)-1);
	buf_put_u32(&b, 0);
	buf_put_u64(&b, (uint64_t)-1);
	buf_put_u32(&b, 0);
	buf_put_u32(&b, HISTORY_MAX + 1);
	for (i = 0; i < HISTORY_MAX + 1; i++) {
		buf_put_u64(&b, 1);
		buf_put_str(&b, "x");
	}
	CHECK(ctl_unpack_status_vm(b.data, b.len, w) == -1,
	    "status nevents > HISTORY_MAX rejected");
	buf_free(&b);
	free(v);
	free(w);
}

static void
put_hdr(uint8_t *p, uint32_t type, uint32_t len)
{
	p[0] = type >> 24; p[1] = type >> 16; p[2] = type >> 8; p[3] = type;
	p[4] = len >> 24; p[5] = len >> 16; p[6] = len >> 8; p[7] = len;
}

static void
test_frame(void)
{
	uint8_t		 msg[8 + 5];
	uint32_t	 type = 0;
	size_t		 paylen = 0, i;
	int		 ok = 1;

	put_hdr(msg, CTL_READY, 5);
	memcpy(msg + 8, "hello", 5);
	for (i = 0; i < sizeof(msg); i++)
		if (ctl_frame(msg, i, &type, &paylen) != 0)
			ok = 0;
	CHECK(ok, "frame partial input: 0");
	CHECK(ctl_frame(msg, sizeof(msg), &type, &paylen) ==
	    (ssize_t)sizeof(msg) && type == CTL_READY && paylen == 5,
	    "frame complete");
	CHECK(ctl_frame(msg, sizeof(msg) + 0, NULL, NULL) == sizeof(msg),
	    "frame with NULL outputs");
	put_hdr(msg, CTL_READY, CTL_MSG_MAX + 1);
	CHECK(ctl_frame(msg, 8, &type, &paylen) == -1, "frame oversized");
	put_hdr(msg, CTL_MSG_MAX, 0);
	put_hdr(msg, 0, 0);
	CHECK(ctl_frame(msg, 8, &type, &paylen) == -1, "frame type 0");
	put_hdr(msg, CTL_TYPE_MAX, 0);
	CHECK(ctl_frame(msg, 8, &type, &paylen) == -1, "frame type max");
	put_hdr(msg, CTL_STATUS_END, 0);
	CHECK(ctl_frame(msg, 8, &type, &paylen) == 8 &&
	    type == CTL_STATUS_END && paylen == 0, "frame empty payload");
	CHECK(strcmp(ctl_type_name(CTL_CONNECT), "connect") == 0 &&
	    strcmp(ctl_type_name(999), "unknown") == 0, "type names");
}

static int
fd_is_open(int fd)
{
	return (fcntl(fd, F_GETFD) != -1);
}

static void
test_sendrecv(void)
{
	struct ctl_error	 e, f;
	struct buf		 b, r;
	struct stat		 st1, st2;
	uint8_t			 raw[16];
	uint32_t		 type;
	int			 sp[2], pp[2], fd, n, i, ok;

	buf_init(&b);
	buf_init(&r);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	pipe(pp);

	/* A message with an fd, then one without. */
	memset(&e, 0, sizeof(e));
	strlcpy(e.message, "no", sizeof(e.message));
	ctl_pack_error(&b, &e);
	CHECK(ctl_send(sp[0], CTL_READY, &b, pp[1]) == 0, "send with fd");
	CHECK(ctl_send(sp[0], CTL_STATUS_END, NULL, -1) == 0,
	    "send empty payload");
	n = ctl_recv(sp[1], &type, &r, &fd, -1);
	CHECK(n == 1 && type == CTL_READY && fd >= 0 &&
	    ctl_unpack_error(r.data, r.len, &f) == 0 &&
	    strcmp(f.message, "no") == 0, "recv with fd");
	fstat(fd, &st1);
	fstat(pp[1], &st2);
	CHECK(st1.st_ino == st2.st_ino && (fcntl(fd, F_GETFD) & FD_CLOEXEC),
	    "passed fd is the same pipe, close-on-exec");
	close(fd);
	n = ctl_recv(sp[1], &type, &r, &fd, -1);
	CHECK(n == 1 && type == CTL_STATUS_END && r.len == 0 && fd == -1,
	    "recv without fd");

	/* fd passed to a receiver that does not want one: closed. */
	ctl_send(sp[0], CTL_READY, &b, pp[1]);
	fd = dup(0);
	close(fd);	/* the lowest free number */
	n = ctl_recv(sp[1], &type, &r, NULL, -1);
	CHECK(n == 1 && !fd_is_open(fd), "unwanted fd closed");

	/* Bad headers: EBADMSG. */
	put_hdr(raw, CTL_READY, CTL_MSG_MAX + 1);
	write(sp[0], raw, 8);
	errno = 0;
	n = ctl_recv(sp[1], &type, &r, &fd, -1);
	CHECK(n == -1 && errno == EBADMSG, "recv oversized len");
	put_hdr(raw, 0, 0);
	write(sp[0], raw, 8);
	errno = 0;
	n = ctl_recv(sp[1], &type, &r, &fd, -1);
	CHECK(n == -1 && errno == EBADMSG, "recv type 0");
	put_hdr(raw, CTL_TYPE_MAX, 0);
	write(sp[0], raw, 8);
	errno = 0;
	n = ctl_recv(sp[1], &type, &r, &fd, -1);
	CHECK(n == -1 && errno == EBADMSG, "recv type out of range");
	/* Bad header carrying an fd: the fd is not leaked. */
	{
		struct buf	 big;

		buf_init(&big);
		ctl_send(sp[0], CTL_READY, NULL, pp[1]);
		n = ctl_recv(sp[1], &type, &r, &fd, -1);
		CHECK(n == 1 && fd >= 0, "recv fd with empty payload");
		close(fd);
		buf_free(&big);
	}

	/* Oversized send refused. */
	{
		struct buf	 big;

		buf_init(&big);
		for (i = 0; i < CTL_MSG_MAX / 4 + 1; i++)
			buf_put_u32(&big, i);
		errno = 0;
		CHECK(ctl_send(sp[0], CTL_ERROR, &big, -1) == -1 &&
		    errno == EINVAL, "send oversized refused");
		buf_free(&big);
	}

	/* The largest message, through a small socket buffer, byte exact. */
	{
		struct buf	 big;
		pid_t		 pid;
		int		 sz = 4096;

		buf_init(&big);
		for (i = 0; i < CTL_MSG_MAX / 4; i++)
			buf_put_u32(&big, i * 2654435761u);
		setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		if ((pid = fork()) == 0) {
			fcntl(sp[0], F_SETFL, O_NONBLOCK);
			_exit(ctl_send(sp[0], CTL_ERROR, &big, -1) == 0 ? 0 : 1);
		}
		n = ctl_recv(sp[1], &type, &r, &fd, -1);
		ok = n == 1 && type == CTL_ERROR && r.len == big.len &&
		    memcmp(r.data, big.data, big.len) == 0;
		waitpid(pid, &i, 0);
		CHECK(ok && WIFEXITED(i) && WEXITSTATUS(i) == 0,
		    "largest message, non-blocking sender, partial writes");
		buf_free(&big);
	}

	/* Non-blocking sender with a full socket: EAGAIN, nothing written. */
	{
		int	 sq[2], sent = 0;

		socketpair(AF_UNIX, SOCK_STREAM, 0, sq);
		fcntl(sq[0], F_SETFL, O_NONBLOCK);
		buf_reset(&b);
		for (i = 0; i < 1000; i++)
			buf_put_u32(&b, i);
		while (ctl_send(sq[0], CTL_ERROR, &b, -1) == 0)
			sent++;
		ok = errno == EAGAIN;
		/* Everything sent is whole messages. */
		for (i = 0; i < sent; i++) {
			if (ctl_recv(sq[1], &type, &r, NULL, -1) != 1 ||
			    r.len != b.len)
				ok = 0;
		}
		fcntl(sq[1], F_SETFL, O_NONBLOCK);
		CHECK(ok && recv(sq[1], raw, 1, MSG_DONTWAIT) == -1,
		    "non-blocking send: whole messages or EAGAIN");
		close(sq[0]);
		close(sq[1]);
	}

	/* EOF mid-message: error; EOF before a message: 0. */
	put_hdr(raw, CTL_ERROR, 10);
	write(sp[0], raw, 8);
	write(sp[0], "abc", 3);
	close(sp[0]);
	errno = 0;
	n = ctl_recv(sp[1], &type, &r, &fd, -1);
	CHECK(n == -1 && errno == ECONNRESET, "recv EOF inside a message");
	n = ctl_recv(sp[1], &type, &r, &fd, -1);
	CHECK(n == 0, "recv clean EOF");
	close(sp[1]);

	/* Nothing within the time allowed; then half a header, still not. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	errno = 0;
	CHECK(ctl_recv(sp[1], &type, &r, &fd, 50) == -1 && errno == ETIMEDOUT,
	    "recv times out with nothing sent");
	write(sp[0], raw, 5);
	errno = 0;
	CHECK(ctl_recv(sp[1], &type, &r, &fd, 50) == -1 && errno == ETIMEDOUT,
	    "recv times out inside the header");
	close(sp[0]);
	close(sp[1]);

	/* Truncated header then EOF. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	write(sp[0], raw, 5);
	close(sp[0]);
	CHECK(ctl_recv(sp[1], &type, &r, &fd, -1) == -1,
	    "recv EOF inside the header");
	close(sp[1]);

	/* Many fds in one message: one kept, the rest closed. */
	{
		union {
			struct cmsghdr	hdr;
			char		buf[CMSG_SPACE(sizeof(int) * 3)];
		} cm;
		struct msghdr	 msg;
		struct cmsghdr	*c;
		struct iovec	 iov;
		int		 fds[3], before, after;

		socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
		put_hdr(raw, CTL_STATUS_END, 0);
		fds[0] = fds[1] = fds[2] = pp[0];
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = raw;
		iov.iov_len = 8;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_len = CMSG_LEN(sizeof(fds));
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(c), fds, sizeof(fds));
		sendmsg(sp[0], &msg, 0);
		before = dup(0);
		close(before);
		n = ctl_recv(sp[1], &type, &r, &fd, -1);
		after = dup(0);
		close(after);
		CHECK(n == 1 && fd >= 0 && after == before + 1,
		    "extra fds closed");
		close(fd);
		close(sp[0]);
		close(sp[1]);
	}
	close(pp[0]);
	close(pp[1]);
	buf_free(&b);
	buf_free(&r);
}

/* Random streams through ctl_recv: never a crash, never a hang. */
static void
test_recv_fuzz(void)
{
	struct buf	 r;
	uint8_t		 junk[512];
	uint32_t	 type;
	int		 sp[2], i, j, fd, n, len;

	buf_init(&r);
	for (i = 0; i < 2000; i++) {
		socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
		len = rnd() % sizeof(junk);
		for (j = 0; j < len; j++)
			junk[j] = rnd();
		if (len >= 8 && (rnd() & 1)) {
			put_hdr(junk, 1 + rnd() % (CTL_TYPE_MAX - 1),
			    rnd() % 600);
		}
		write(sp[0], junk, len);
		close(sp[0]);
		while ((n = ctl_recv(sp[1], &type, &r, &fd, -1)) == 1) {
			if (fd != -1)
				close(fd);
		}
		close(sp[1]);
	}
	CHECK(1, "recv random streams");
	buf_free(&r);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	alarm(120);
	test_buf();
	test_connect();
	test_hold();
	test_small();
	test_status();
	test_frame();
	test_sendrecv();
	test_recv_fuzz();
	return (unit_end("t_ctl"));
}
