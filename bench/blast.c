/*
 * blast: the data ends of the vmlaunch benchmarks (bench/run.sh builds it).
 *
 *	blast src BYTES			write BYTES to stdout, then exit
 *	blast sink BYTES		read stdin until BYTES arrived (0: EOF)
 *	blast serve PORT up|down BYTES	a one-connection "guest" on 127.0.0.1:
 *					print "listening" on stdout, accept,
 *					send an SSH banner, then sink (up) or
 *					source (down) BYTES, close and exit
 *	blast ttfb REPS cmd [arg ...]	run cmd REPS times (stdin and stdout
 *					pipes) and print, one a line, the
 *					microseconds from fork to the first
 *					line on its stdout; each run is then
 *					ended with SIGTERM
 *	blast rusage FILE cmd [arg ...]	run cmd as a child on this stdin and
 *					stdout (a ProxyCommand's), held by
 *					the child alone; pass SIGHUP and
 *					SIGTERM on; when it ends, write its
 *					user + system CPU seconds to FILE
 *
 * Buffers are 1 MiB so that the ends cost little next to the relay under
 * test.  The exit status is 0 only when the byte count came out right.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BUFSZ	(1024 * 1024)
#define BANNER	"SSH-2.0-bench\r\n"

static char	buf[BUFSZ];
static volatile pid_t	child;

static long long
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

static int
put(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		p += n;
		len -= n;
	}
	return (0);
}

static int
source(int fd, long long bytes)
{
	size_t	 chunk;

	while (bytes > 0) {
		chunk = bytes < BUFSZ ? (size_t)bytes : BUFSZ;
		if (put(fd, buf, chunk) == -1) {
			perror("blast: write");
			return (1);
		}
		bytes -= chunk;
	}
	return (0);
}

/* Read until want bytes (or EOF when want is 0). */
static int
sink(int fd, long long want)
{
	long long	 got = 0;
	size_t		 ask;
	ssize_t		 n;

	for (;;) {
		ask = BUFSZ;
		if (want > 0 && want - got < (long long)ask)
			ask = want - got;
		if (want > 0 && ask == 0)
			break;
		n = read(fd, buf, ask);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	if (want > 0 && got != want) {
		fprintf(stderr, "blast: sink got %lld of %lld bytes\n", got,
		    want);
		return (1);
	}
	return (0);
}

static int
serve(int port, const char *mode, long long bytes)
{
	struct sockaddr_in	 sin;
	int			 s, c, one = 1, rc;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1) {
		perror("blast: socket");
		return (1);
	}
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s, 16) == -1) {
		perror("blast: bind/listen");
		return (1);
	}
	printf("listening\n");
	fflush(stdout);
	while ((c = accept(s, NULL, NULL)) == -1 && errno == EINTR)
		;
	if (c == -1) {
		perror("blast: accept");
		return (1);
	}
	close(s);
	if (put(c, BANNER, sizeof(BANNER) - 1) == -1) {
		perror("blast: banner");
		return (1);
	}
	if (strcmp(mode, "up") == 0)
		rc = sink(c, bytes);
	else
		rc = source(c, bytes);
	close(c);
	return (rc);
}

static int
ttfb(int reps, char **argv)
{
	long long	 t0, t1;
	pid_t		 pid;
	ssize_t		 n;
	int		 in[2], out[2], i, status;
	char		 c;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < reps; i++) {
		if (pipe(in) == -1 || pipe(out) == -1) {
			perror("blast: pipe");
			return (1);
		}
		t0 = now_us();
		switch ((pid = fork())) {
		case -1:
			perror("blast: fork");
			return (1);
		case 0:
			dup2(in[0], 0);
			dup2(out[1], 1);
			close(in[0]);
			close(in[1]);
			close(out[0]);
			close(out[1]);
			execvp(argv[0], argv);
			perror(argv[0]);
			_exit(127);
		}
		close(in[0]);
		close(out[1]);
		/* The whole first line: the banner. */
		t1 = -1;
		while ((n = read(out[0], &c, 1)) == 1 ||
		    (n == -1 && errno == EINTR)) {
			if (n == 1 && c == '\n') {
				t1 = now_us();
				break;
			}
		}
		kill(pid, SIGTERM);
		close(in[1]);
		close(out[0]);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		if (t1 == -1) {
			fprintf(stderr, "blast: %s: no banner\n", argv[0]);
			return (1);
		}
		printf("%lld\n", t1 - t0);
	}
	return (0);
}

static void
forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static int
rusage(const char *file, char **argv)
{
	struct rusage	 ru;
	FILE		*f;
	int		 status;
	pid_t		 pid;

	signal(SIGHUP, forward);
	signal(SIGTERM, forward);
	switch ((pid = fork())) {
	case -1:
		perror("blast: fork");
		return (1);
	case 0:
		signal(SIGHUP, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	child = pid;
	/* ssh sees EOF on the relay's stdout only once it is the last. */
	close(0);
	close(1);
	while (wait4(pid, &status, 0, &ru) == -1)
		if (errno != EINTR) {
			perror("blast: wait4");
			return (1);
		}
	if ((f = fopen(file, "w")) == NULL) {
		perror(file);
		return (1);
	}
	fprintf(f, "%.6f\n", ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	fclose(f);
	return (WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

int
main(int argc, char *argv[])
{
	memset(buf, 'x', sizeof(buf));
	if (argc == 3 && strcmp(argv[1], "src") == 0)
		return (source(1, atoll(argv[2])));
	if (argc == 3 && strcmp(argv[1], "sink") == 0)
		return (sink(0, atoll(argv[2])));
	if (argc == 5 && strcmp(argv[1], "serve") == 0)
		return (serve(atoi(argv[2]), argv[3], atoll(argv[4])));
	if (argc >= 4 && strcmp(argv[1], "ttfb") == 0)
		return (ttfb(atoi(argv[2]), argv + 3));
	if (argc >= 4 && strcmp(argv[1], "rusage") == 0)
		return (rusage(argv[2], argv + 3));
	fprintf(stderr, "usage: blast src|sink BYTES | serve PORT up|down "
	    "BYTES | ttfb REPS cmd ... | rusage FILE cmd ...\n");
	return (2);
}
