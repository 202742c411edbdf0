/*
 * Unit tests for proxy.c with real pipes and sockets.  The relay runs in
 * a child process with the descriptors a ProxyCommand would have: a pipe
 * as stdin, a pipe as stdout and the guest socket, or in place of the
 * pipes a file, a socket or a terminal.  scratch.c counts the splice calls
 * the relay makes, so a test can tell which path carried the bytes.
 * Prints "PASS name" or "FAIL name: why" per test; "bench" measures splice
 * against read/write.
 */

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "vmlaunch.h"
#include "unit.h"
#include "splicecount.h"

#define MiB		(1024 * 1024)
#define CHUNK		(128 * 1024)

static int	have_splice;	/* the platform has splice(2) */

/* A named check with a printf detail, for the relay's many cases. */
static void __attribute__((__format__ (printf, 5, 6)))
ncheck(int ok, const char *file, int line, const char *name,
    const char *fmt, ...)
{
	char	 detail[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	unit_check(ok, file, line, "%s: %s", name, detail);
}

#define NCHECK(c, name, ...)						\
	ncheck((c) != 0, __FILE__, __LINE__, (name), __VA_ARGS__)


/* A reproducible byte stream: xorshift64, 8 bytes at a time. */
struct gen {
	uint64_t	 s;
	uint8_t		 pend[8];
	int		 npend;
};

static void
gen_init(struct gen *g, uint64_t seed)
{
	g->s = seed * 0x9e3779b97f4a7c15ULL | 1;
	g->npend = 0;
}

static void
gen_fill(struct gen *g, uint8_t *p, size_t n)
{
	while (n > 0) {
		if (g->npend == 0) {
			g->s ^= g->s << 13;
			g->s ^= g->s >> 7;
			g->s ^= g->s << 17;
			memcpy(g->pend, &g->s, 8);
			g->npend = 8;
		}
		*p++ = g->pend[8 - g->npend--];
		n--;
	}
}

static long long
tnow(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* A connected TCP pair over loopback. */
static int
tcp_pair(int sv[2])
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 l, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((l = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (-1);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(l, 1) == -1 ||
	    getsockname(l, (struct sockaddr *)&sin, &len) == -1)
		return (-1);
	sv[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(sv[0], (struct sockaddr *)&sin, sizeof(sin)) == -1)
		return (-1);
	sv[1] = accept(l, NULL, NULL);
	close(l);
	return (sv[1] == -1 ? -1 : 0);
}

static int
sock_pair(int tcp, int sv[2])
{
	if (tcp)
		return (tcp_pair(sv));
	return (socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
}

/* In a child: close everything but the listed descriptors and stdio. */
static void
keep_only(int a, int b, int c)
{
	int	 fd;

	for (fd = 3; fd < 256; fd++)
		if (fd != a && fd != b && fd != c)
			close(fd);
}

/* Run proxy_relay in a child; exit 0 on success, 1 with the message. */
static pid_t
relay_start(int in, int out, int sock, int nosplice)
{
	char	 err[256];
	pid_t	 pid;

	if ((pid = fork()) != 0)
		return (pid);
	alarm(120);
	keep_only(in, out, sock);
	if (nosplice)
		setenv("VMLAUNCH_NOSPLICE", "1", 1);
	signal(SIGPIPE, SIG_IGN);
	if (proxy_relay(in, out, sock, err, sizeof(err)) == -1) {
		fprintf(stderr, "relay: %s\n", err);
		_exit(1);
	}
	_exit(0);
}

/* Wait for a child with a deadline; its status, or -1 if it is stuck. */
static int
wait_deadline(pid_t pid, int ms, struct rusage *ru)
{
	long long	 end = tnow() + ms;
	struct rusage	 r;
	int		 status;
	pid_t		 n;

	for (;;) {
		n = wait4(pid, &status, WNOHANG, &r);
		if (n == pid) {
			if (ru != NULL)
				*ru = r;
			return (status);
		}
		if (tnow() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return (-1);
		}
		poll(NULL, 0, 5);
	}
}

/* A child writing len bytes of stream seed to fd, then closing it. */
static pid_t
writer_start(int fd, uint64_t seed, size_t len, int shut)
{
	struct gen	 g;
	uint8_t		*p;
	size_t		 n;
	ssize_t		 w;
	pid_t		 pid;

	if ((pid = fork()) != 0)
		return (pid);
	alarm(120);
	keep_only(fd, -1, -1);
	signal(SIGPIPE, SIG_IGN);
	p = malloc(CHUNK);
	gen_init(&g, seed);
	while (len > 0) {
		n = len < CHUNK ? len : CHUNK;
		if (seed == 0)
			memset(p, 0, n);	/* bench: no time spent here */
		else
			gen_fill(&g, p, n);
		len -= n;
		while (n > 0) {
			if ((w = write(fd, p, n)) == -1)
				_exit(1);
			memmove(p, p + w, n - w);
			n -= w;
		}
	}
	if (shut)
		shutdown(fd, SHUT_WR);
	close(fd);
	_exit(0);
}

struct sink {
	int		 fd;
	struct gen	 g;
	size_t		 got;
	int		 eof;
	int		 bad;		/* a byte differed */
	int		 verify;
};

static void
sink_init(struct sink *s, int fd, uint64_t seed, int verify)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->verify = verify;
	gen_init(&s->g, seed);
}

/* Read both sinks to EOF, checking the stream; 0 or -1 on deadline. */
static int
sink_run(struct sink *s, int n, int ms)
{
	struct pollfd	 pfd[2];
	uint8_t		*buf, *exp;
	long long	 end = tnow() + ms;
	ssize_t		 r;
	int		 i, left;

	buf = malloc(MiB);
	exp = malloc(MiB);
	for (;;) {
		left = 0;
		for (i = 0; i < n; i++) {
			pfd[i].fd = s[i].eof ? -1 : s[i].fd;
			pfd[i].events = POLLIN;
			left += !s[i].eof;
		}
		if (left == 0)
			break;
		if (tnow() > end) {
			free(buf);
			free(exp);
			return (-1);
		}
		if (poll(pfd, n, 1000) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			r = read(s[i].fd, buf, MiB);
			if (r <= 0) {
				s[i].eof = 1;
				continue;
			}
			if (s[i].verify) {
				gen_fill(&s[i].g, exp, r);
				if (memcmp(buf, exp, r) != 0)
					s[i].bad = 1;
			}
			s[i].got += r;
		}
	}
	free(buf);
	free(exp);
	return (0);
}

static int
relay_ok(int status)
{
	return (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* What stands in for ssh's pipes: stdin and stdout, or either. */
enum end { END_PIPE, END_FILE, END_SOCKET };

static const char *
end_name(enum end e)
{
	return (e == END_PIPE ? "pipe" : e == END_FILE ? "file" : "socket");
}

/* A pipe or a socketpair: [0] the relay's end to read, [1] ours. */
static int
end_pair(enum end e, int fds[2])
{
	if (e == END_SOCKET)
		return (socketpair(AF_UNIX, SOCK_STREAM, 0, fds));
	return (pipe(fds));
}

static void
splice_reset(void)
{
	memset(scratch_splice, 0, sizeof(*scratch_splice));
}

/*
 * size bytes each way at once; stdin a pipe, a regular file or a socket,
 * the guest a socketpair or TCP.  Every byte checked, and both EOFs seen.
 * Ends that are pipes carry every byte with splice, other ends none.
 */
static void
test_bulk(const char *name, size_t size, int tcp, enum end in, int nosplice)
{
	struct sink	 s[2];
	char		 tmpl[] = "/tmp/unit-ctl.XXXXXX";
	size_t		 wantup, wantdown;
	int		 inp[2], outp[2], gs[2], st, wst1 = 0, wst2;
	pid_t		 relay, w1 = -1, w2;

	splice_reset();
	if (in == END_FILE) {
		inp[0] = mkstemp(tmpl);
		unlink(tmpl);
		w1 = writer_start(inp[0], 1, size, 0);
		waitpid(w1, &wst1, 0);
		lseek(inp[0], 0, SEEK_SET);
		inp[1] = -1;
	} else
		end_pair(in, inp);
	pipe(outp);
	if (sock_pair(tcp, gs) == -1) {
		NCHECK(0, name, "socket pair");
		return;
	}
	relay = relay_start(inp[0], outp[1], gs[0], nosplice);
	close(inp[0]);
	close(outp[1]);
	close(gs[0]);
	if (in != END_FILE) {
		w1 = writer_start(inp[1], 1, size, in == END_SOCKET);
		close(inp[1]);
	}
	w2 = writer_start(gs[1], 2, size, 1);

	sink_init(&s[0], gs[1], 1, 1);		/* guest gets stdin */
	sink_init(&s[1], outp[0], 2, 1);	/* stdout gets guest */
	st = sink_run(s, 2, 60000);
	if (in != END_FILE)
		waitpid(w1, &wst1, 0);
	waitpid(w2, &wst2, 0);
	close(gs[1]);
	close(outp[0]);
	wantup = in == END_PIPE && have_splice && !nosplice ? size : 0;
	wantdown = have_splice && !nosplice ? size : 0;
	NCHECK(st == 0 && !s[0].bad && !s[1].bad && s[0].got == size &&
	    s[1].got == size && relay_ok(wait_deadline(relay, 10000, NULL)) &&
	    scratch_splice->bytes[0] == wantup &&
	    scratch_splice->bytes[1] == wantdown, name,
	    "deadline %d bad %d/%d got %zu/%zu of %zu, spliced %zu/%zu of "
	    "%zu/%zu", st, s[0].bad, s[1].bad, s[0].got, s[1].got, size,
	    scratch_splice->bytes[0], scratch_splice->bytes[1], wantup,
	    wantdown);
}

/*
 * EOF on stdin reaches the guest as EOF while the guest still sends;
 * and the guest's EOF closes stdout while stdin is still relayed.  With
 * e a socket, stdin and stdout are sockets: nothing to splice.
 */
static void
test_halfclose(int tcp, int nosplice, enum end e)
{
	char		 name[128], buf[64];
	int		 inp[2], outp[2], gs[2], ok;
	ssize_t		 n;
	pid_t		 relay;

	snprintf(name, sizeof(name), "half-close, stdin first (%s%s, stdio %s)",
	    tcp ? "tcp" : "socketpair", nosplice ? ", read/write" : "",
	    end_name(e));
	end_pair(e, inp);
	end_pair(e, outp);
	sock_pair(tcp, gs);
	relay = relay_start(inp[0], outp[1], gs[0], nosplice);
	close(inp[0]);
	close(outp[1]);
	close(gs[0]);
	write(inp[1], "up", 2);
	close(inp[1]);
	n = read(gs[1], buf, sizeof(buf));
	ok = n == 2 && memcmp(buf, "up", 2) == 0;
	n = read(gs[1], buf, sizeof(buf));
	ok = ok && n == 0;			/* EOF at the guest */
	write(gs[1], "after eof", 9);
	n = read(outp[0], buf, sizeof(buf));
	ok = ok && n == 9 && memcmp(buf, "after eof", 9) == 0;
	write(gs[1], "more", 4);
	n = read(outp[0], buf, sizeof(buf));
	ok = ok && n == 4;
	shutdown(gs[1], SHUT_WR);
	n = read(outp[0], buf, sizeof(buf));
	ok = ok && n == 0;
	NCHECK(ok && relay_ok(wait_deadline(relay, 5000, NULL)), name, " ");
	close(gs[1]);
	close(outp[0]);

	snprintf(name, sizeof(name), "half-close, guest first (%s%s, stdio %s)",
	    tcp ? "tcp" : "socketpair", nosplice ? ", read/write" : "",
	    end_name(e));
	end_pair(e, inp);
	end_pair(e, outp);
	sock_pair(tcp, gs);
	relay = relay_start(inp[0], outp[1], gs[0], nosplice);
	close(inp[0]);
	close(outp[1]);
	close(gs[0]);
	write(gs[1], "down", 4);
	shutdown(gs[1], SHUT_WR);
	n = read(outp[0], buf, sizeof(buf));
	ok = n == 4;
	n = read(outp[0], buf, sizeof(buf));
	ok = ok && n == 0;			/* stdout closed */
	write(inp[1], "still up", 8);
	n = read(gs[1], buf, sizeof(buf));
	ok = ok && n == 8 && memcmp(buf, "still up", 8) == 0;
	close(inp[1]);
	n = read(gs[1], buf, sizeof(buf));
	ok = ok && n == 0;
	NCHECK(ok && relay_ok(wait_deadline(relay, 5000, NULL)), name, " ");
	close(gs[1]);
	close(outp[0]);
}

/* The guest closes its socket: the relay ends, stdin still open. */
static void
test_peerclose(int tcp, int nosplice)
{
	char		 name[128], buf[64];
	int		 inp[2], outp[2], gs[2], ok, st;
	ssize_t		 n;
	pid_t		 relay;

	snprintf(name, sizeof(name), "guest close ends the relay (%s%s)",
	    tcp ? "tcp" : "socketpair", nosplice ? ", read/write" : "");
	pipe(inp);
	pipe(outp);
	sock_pair(tcp, gs);
	relay = relay_start(inp[0], outp[1], gs[0], nosplice);
	close(inp[0]);
	close(outp[1]);
	close(gs[0]);
	write(gs[1], "bye", 3);
	close(gs[1]);
	n = read(outp[0], buf, sizeof(buf));
	ok = n == 3;
	n = read(outp[0], buf, sizeof(buf));
	ok = ok && n == 0;
	/*
	 * Over TCP a close looks like a half-close until something is
	 * sent and the guest resets; ssh always sends, so do the same.
	 */
	if (tcp) {
		poll(NULL, 0, 50);
		write(inp[1], "x", 1);
		poll(NULL, 0, 50);
		write(inp[1], "y", 1);
	}
	st = wait_deadline(relay, 5000, NULL);
	NCHECK(ok && st != -1, name, "status %d", st);
	close(inp[1]);
	close(outp[0]);
}

/* Read exactly len bytes from fd within ms; the count read. */
static size_t
read_full(int fd, uint8_t *buf, size_t len, int ms)
{
	struct pollfd	 pfd;
	long long	 end = tnow() + ms;
	size_t		 got = 0;
	ssize_t		 n;

	pfd.fd = fd;
	pfd.events = POLLIN;
	while (got < len && tnow() < end) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((n = read(fd, buf + got, len - got)) <= 0)
			break;
		got += n;
	}
	return (got);
}

/* fd reaches EOF, with no byte before it, within ms. */
static int
eof_within(int fd, int ms)
{
	struct pollfd	 pfd;
	char		 c;

	pfd.fd = fd;
	pfd.events = POLLIN;
	return (poll(&pfd, 1, ms) == 1 && read(fd, &c, 1) == 0);
}

/*
 * ssh writes a packet or two at a time.  Each write is relayed before
 * the next (lockstep): every splice call asks for at least the whole
 * pipe, and after a call that moved less the relay waits in poll, so no
 * call comes back with EAGAIN (it would first have waited for the pipe's
 * lock, which the writer holds: see proxy.c).
 */
static void
test_trickle(int up)
{
	struct gen	 g, h;
	char		 name[128];
	uint8_t		 piece[1000], got[1000];
	int		 inp[2], outp[2], gs[2], ok = 1, i, d = up ? 0 : 1;
	int		 from, to;
	pid_t		 relay;

	snprintf(name, sizeof(name), "small writes %s, each relayed by one "
	    "splice call asking for the whole pipe, no EAGAIN",
	    up ? "up" : "down");
	splice_reset();
	pipe(inp);
	pipe(outp);
	tcp_pair(gs);
	relay = relay_start(inp[0], outp[1], gs[0], 0);
	close(inp[0]);
	close(outp[1]);
	close(gs[0]);
	from = up ? inp[1] : gs[1];
	to = up ? gs[1] : outp[0];
	gen_init(&g, 4);
	gen_init(&h, 4);
	for (i = 0; i < 64 && ok; i++) {
		gen_fill(&g, piece, sizeof(piece));
		ok = write(from, piece, sizeof(piece)) == sizeof(piece) &&
		    read_full(to, got, sizeof(got), 5000) == sizeof(got);
		gen_fill(&h, piece, sizeof(piece));
		ok = ok && memcmp(got, piece, sizeof(got)) == 0;
	}
	close(inp[1]);
	shutdown(gs[1], SHUT_WR);
	/* Without splice (OpenBSD) only the bytes are checked. */
	NCHECK(ok && relay_ok(wait_deadline(relay, 5000, NULL)) &&
	    (!have_splice || (scratch_splice->bytes[d] == 64 * sizeof(piece) &&
	    scratch_splice->again[d] == 0 && scratch_splice->short_ask[d] == 0)),
	    name, "ok %d, %zu calls, %zu bytes, %zu EAGAIN, %zu asking less "
	    "than the pipe", ok, scratch_splice->calls[d],
	    scratch_splice->bytes[d], scratch_splice->again[d],
	    scratch_splice->short_ask[d]);
	close(gs[1]);
	close(outp[0]);
}

/*
 * Someone runs vmlaunch by hand: stdin and stdout a terminal (two
 * descriptors, as a shell gives them), copied.  A line and ^D reach the
 * guest as the line and an EOF; the guest's bytes reach the terminal
 * unchanged (no output processing) and its EOF ends the relay.
 */
static void
test_tty(void)
{
	struct termios	 t;
	const char	*name = "stdin and stdout a terminal: line, ^D, bytes "
	    "back, guest EOF";
	uint8_t		 out[4096], got[4096], line[16];
	int		 m, sl, sl2, gs[2], ok;
	pid_t		 relay;
	size_t		 i;

	if ((m = posix_openpt(O_RDWR | O_NOCTTY)) == -1 || grantpt(m) == -1 ||
	    unlockpt(m) == -1 ||
	    (sl = open(ptsname(m), O_RDWR | O_NOCTTY)) == -1) {
		NCHECK(0, name, "no pty: %s", strerror(errno));
		return;
	}
	tcgetattr(sl, &t);
	t.c_lflag |= ICANON;
	t.c_lflag &= ~(ECHO | ECHONL | ISIG | IEXTEN);
	t.c_oflag &= ~OPOST;
	tcsetattr(sl, TCSANOW, &t);
	sl2 = dup(sl);
	tcp_pair(gs);
	relay = relay_start(sl, sl2, gs[0], 0);
	close(sl);
	close(sl2);
	close(gs[0]);

	ok = write(m, "hello\n", 6) == 6 && write(m, &t.c_cc[VEOF], 1) == 1;
	ok = ok && read_full(gs[1], line, 6, 5000) == 6 &&
	    memcmp(line, "hello\n", 6) == 0;
	ok = ok && eof_within(gs[1], 5000);
	for (i = 0; i < sizeof(out); i++)
		out[i] = i * 7;
	ok = ok && write(gs[1], out, sizeof(out)) == sizeof(out);
	ok = ok && read_full(m, got, sizeof(got), 5000) == sizeof(got) &&
	    memcmp(out, got, sizeof(got)) == 0;
	shutdown(gs[1], SHUT_WR);
	NCHECK(ok && relay_ok(wait_deadline(relay, 5000, NULL)) &&
	    scratch_splice->bytes[0] == 0, name, " ");
	close(gs[1]);
	close(m);
}

/* ssh went away: EPIPE on stdout is a normal end. */
static void
test_stdout_gone(void)
{
	char	 big[65536];
	int	 inp[2], outp[2], gs[2], st;
	pid_t	 relay;

	memset(big, 'z', sizeof(big));
	pipe(inp);
	pipe(outp);
	socketpair(AF_UNIX, SOCK_STREAM, 0, gs);
	relay = relay_start(inp[0], outp[1], gs[0], 0);
	close(inp[0]);
	close(outp[1]);
	close(gs[0]);
	close(outp[0]);
	close(inp[1]);
	fcntl(gs[1], F_SETFL, O_NONBLOCK);
	(void)write(gs[1], big, sizeof(big));
	st = wait_deadline(relay, 5000, NULL);
	NCHECK(relay_ok(st), "stdout reader gone: EPIPE is a normal end",
	    "status %d", st);
	close(gs[1]);
}

/*
 * A reader that takes 64 KiB every 20 ms, in each direction in turn: the
 * relay must wait in poll, not spin.  CPU time of the relay is bounded
 * far below the wall time.
 */
static void
test_slow(int tcp, int nosplice, int up)
{
	struct rusage	 ru;
	char		 name[128];
	uint8_t		*buf;
	size_t		 size = 8 * MiB, got = 0;
	long long	 t0, wall, cpu;
	int		 inp[2], outp[2], gs[2], rfd, st;
	ssize_t		 n;
	pid_t		 relay, w;

	snprintf(name, sizeof(name), "slow reader on %s, no spinning "
	    "(%s%s)", up ? "the guest" : "stdout",
	    tcp ? "tcp" : "socketpair", nosplice ? ", read/write" : "");
	pipe(inp);
	pipe(outp);
	sock_pair(tcp, gs);
	relay = relay_start(inp[0], outp[1], gs[0], nosplice);
	close(inp[0]);
	close(outp[1]);
	close(gs[0]);
	if (up) {
		w = writer_start(inp[1], 3, size, 0);
		close(inp[1]);
		rfd = gs[1];
	} else {
		w = writer_start(gs[1], 3, size, 1);
		rfd = outp[0];
	}
	buf = malloc(65536);
	t0 = tnow();
	while ((n = read(rfd, buf, 65536)) > 0) {
		got += n;
		poll(NULL, 0, 20);
	}
	wall = tnow() - t0;
	waitpid(w, NULL, 0);
	/* Let the relay end: close the other direction too. */
	if (up)
		shutdown(gs[1], SHUT_WR);
	else
		close(inp[1]);
	while (read(up ? outp[0] : gs[1], buf, 65536) > 0)
		;
	st = wait_deadline(relay, 5000, &ru);
	cpu = ru.ru_utime.tv_sec * 1000LL + ru.ru_utime.tv_usec / 1000 +
	    ru.ru_stime.tv_sec * 1000LL + ru.ru_stime.tv_usec / 1000;
	NCHECK(got == size && relay_ok(st) && cpu < wall / 10, name,
	    "got %zu, cpu %lld ms, wall %lld ms", got, cpu, wall);
	printf("# %s: relay cpu %lld ms over %lld ms\n", name, cpu, wall);
	free(buf);
	close(gs[1]);
	close(outp[0]);
}

/*
 * Throughput of one direction, pipe -> relay -> socket or socket ->
 * relay -> pipe, with a writer and a reader process at each end.
 */
static void
bench_one(int tcp, int nosplice, int up, size_t size)
{
	struct rusage	 ru;
	struct sink	 s;
	long long	 t0, wall, cpu;
	int		 inp[2], outp[2], gs[2];
	pid_t		 relay, w;

	pipe(inp);
	pipe(outp);
	sock_pair(tcp, gs);
	relay = relay_start(inp[0], outp[1], gs[0], nosplice);
	close(inp[0]);
	close(outp[1]);
	close(gs[0]);
	t0 = tnow();
	if (up) {
		w = writer_start(inp[1], 0, size, 0);
		close(inp[1]);
		sink_init(&s, gs[1], 0, 0);
		sink_run(&s, 1, 120000);
		shutdown(gs[1], SHUT_WR);
	} else {
		close(inp[1]);
		w = writer_start(gs[1], 0, size, 1);
		sink_init(&s, outp[0], 0, 0);
		sink_run(&s, 1, 120000);
	}
	wall = tnow() - t0;
	waitpid(w, NULL, 0);
	wait_deadline(relay, 10000, &ru);
	cpu = ru.ru_utime.tv_sec * 1000LL + ru.ru_utime.tv_usec / 1000 +
	    ru.ru_stime.tv_sec * 1000LL + ru.ru_stime.tv_usec / 1000;
	printf("%-10s %-10s %-18s %6zu MiB %6lld ms %7.0f MiB/s  "
	    "relay cpu %5lld ms\n", tcp ? "tcp" : "socketpair",
	    nosplice ? "read/write" : "splice",
	    up ? "pipe -> socket" : "socket -> pipe", s.got / MiB, wall,
	    wall ? (double)s.got / MiB * 1000 / wall : 0.0, cpu);
	fflush(stdout);
	close(gs[1]);
	close(outp[0]);
}

static void
bench(void)
{
	size_t	 size = 1024UL * MiB;
	int	 tcp, up, ns, round;

	for (round = 0; round < 3; round++)
		for (tcp = 0; tcp < 2; tcp++)
			for (up = 1; up >= 0; up--)
				for (ns = 0; ns < 2; ns++)
					bench_one(tcp, ns, up, size);
}

/*
 * Whether osdep_splice moves a byte from a pipe to a socket here.  In a
 * child: scratch.c's osdep_splice reads VMLAUNCH_NOSPLICE once a process.
 */
static int
splice_probe(void)
{
	int	 p[2], sv[2], status;
	pid_t	 pid;

	if ((pid = fork()) == 0) {
		if (pipe(p) == -1 ||
		    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
		    write(p[1], "x", 1) != 1)
			_exit(1);
		_exit(osdep_splice(p[0], sv[0], 1) == 1 ? 0 : 1);
	}
	return (pid != -1 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int
main(int argc, char *argv[])
{
	enum end	 e;
	int		 tcp, ns;

	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && strcmp(argv[1], "bench") == 0) {
		bench();
		return (0);
	}
	alarm(600);
	scratch_splice = mmap(NULL, sizeof(*scratch_splice),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, -1, 0);
	if (scratch_splice == MAP_FAILED) {
		perror("mmap");
		return (1);
	}
	if (!(have_splice = splice_probe()))
		printf("# no splice here: the relay copies every byte\n");
	for (tcp = 0; tcp < 2; tcp++) {
		for (ns = 0; ns < 2; ns++) {
			char	 name[128];

			snprintf(name, sizeof(name), "64 MiB each way, exact "
			    "(%s, %s)", tcp ? "tcp" : "socketpair",
			    ns ? "read/write" : "splice");
			test_bulk(name, 64 * MiB, tcp, END_PIPE, ns);
			test_halfclose(tcp, ns, END_PIPE);
			test_peerclose(tcp, ns);
			test_slow(tcp, ns, 0);
			test_slow(tcp, ns, 1);
		}
	}
	for (e = END_PIPE; e <= END_SOCKET; e++) {
		char	 name[128];

		snprintf(name, sizeof(name), "stdin a %s, 16 MiB each way, "
		    "exact (tcp)", end_name(e));
		test_bulk(name, 16 * MiB, 1, e, 0);
	}
	test_halfclose(1, 0, END_SOCKET);
	test_halfclose(0, 0, END_SOCKET);
	test_trickle(1);
	test_trickle(0);
	test_tty();
	test_bulk("odd size, 1 byte short of 1 MiB", MiB - 1, 1, END_PIPE, 0);
	test_bulk("empty both ways", 0, 0, END_PIPE, 0);
	test_stdout_gone();
	return (unit_end("t_proxy"));
}
