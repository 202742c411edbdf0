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
 * The simulation's main: run sequences from seeds, replay case files,
 * and shrink a failing sequence to a shortest one that still breaks the
 * same invariant (delta debugging over its events, each candidate
 * replayed from scratch).
 *
 *	sim [-fSvx] [-b promise] [-e events] [-k dir] [-n seqs] [-s seed]
 *	    [-t seconds]
 *	sim [-vx] [-b promise] -r case ...
 *
 * -f stops at the first failing sequence, -S does not shrink it, -b
 * breaks one of the world's promises (late-start, resume, orphan,
 * stop), -x runs everything in this process (for a debugger), -v logs
 * every step to stderr.
 *
 * Each run happens in a child process: a run that crashes is a run
 * that failed (no-fatal), and nothing of one run can leak into the
 * next.  A child streams its events to the parent as it draws them, so
 * that a crash still leaves the sequence that led to it.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

#define SIM_EVENTS		300	/* per sequence */
#define SIM_DRAIN_EXTRA		60000	/* ms past the longest bound */
#define SIM_EXIT_BASE		10	/* child: 10 + the invariant */

int			 sim_verbose;
static int		 sim_nofork;
static int		 sim_noshrink;
static int		 sim_promises = PROMISE_ALL;
static struct sim_run	*sim_run;
static long long	 sim_fired;	/* timers fired, this run */
static int		 sim_out = -1;	/* the child's pipe */
static int		 sim_excused[7];	/* this run's, see main() */

__dead static void	 usage(void);

/* splitmix64's finaliser: every detail of a run comes from it. */
uint64_t
sim_hash(uint64_t a, uint64_t b)
{
	uint64_t	 z = a + 0x9e3779b97f4a7c15ULL * (b + 1);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

uint64_t
sim_hash_str(const char *s)
{
	uint64_t	 h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (h);
}

const struct sim_run *
sim_current(void)
{
	return (sim_run);
}

/* The first failure, told at once: should the run crash after it. */
void
sim_failed(void)
{
	if (sim_out != -1)
		dprintf(sim_out, "#result %s\t%s\n", check_name(check_which()),
		    check_message());
}

/* The code under test gave up (fatal): the run ends here. */
__dead void
sim_abort(void)
{
	if (sim_verbose)
		log_dump(stderr, 40);
	_exit(SIM_EXIT_BASE + check_which());
}

/* Time passes up to t: every timer due fires, each checked after. */
static void
sim_advance(long long t)
{
	while (!check_failed && clock_run(t)) {
		sim_fired++;
		harness_after_event();
		check_step();
	}
}

static void
sim_apply(const struct sim_event *ev)
{
	char	 line[128];

	gen_event_str(sim_run, ev, line, sizeof(line));
	log_sim("event: %s", line);
	switch (ev->kind) {
	case EV_OPEN:
		users_open(ev->user, ev->vm, ev->arg, NULL);
		break;
	case EV_CLOSE:
		users_close(ev->user);
		break;
	case EV_GUEST:
		world_guest(world_vm(ev->vm), ev->arg);
		break;
	case EV_PERSON:
		world_person(world_vm(ev->vm), ev->arg);
		break;
	case EV_VMD:
		world_vmd_restart();
		break;
	case EV_FAULT:
		world_set_faulty(ev->arg);
		break;
	case EV_ANSWER:
		(void)job_sim_answer(ev->user, ev->vm, ev->arg);
		break;
	case EV_APPEXIT:
		(void)job_sim_app_exit(world_vm(ev->vm));
		break;
	case EV_RELOAD:
		harness_reload(ev->arg);
		break;
	case EV_CRASH:
		harness_crash(ev->arg);
		break;
	case EV_TERM:
		harness_term();
		break;
	case EV_STATUS:
		users_status();
		break;
	case EV_HOLD:
		holds_take(ev->vm, ev->arg);
		break;
	case EV_RELEASE:
		holds_release(ev->vm);
		break;
	case EV_BUSY:
		world_busy(world_vm(ev->vm), ev->arg);
		break;
	default:
		break;
	}
	harness_after_event();
	check_step();
}

/*
 * After the last event: vmd behaves, the users leave, a supervisor
 * runs (as the next vmlaunch would start one), and time passes beyond
 * every bound, so that whatever should end has ended.
 */
static void
sim_drain(void)
{
	long long	 bound = 0, b;
	int		 i;

	log_sim("drain: the users leave, vmd behaves");
	world_set_faulty(0);
	job_sim_drain();
	users_close_all();
	harness_ensure();
	harness_after_event();
	check_step();
	for (i = 0; i < sim_run->nvms; i++) {
		b = check_idle_bound(i) + check_answer_bound(i, 0);
		if (b > bound)
			bound = b;
	}
	sim_advance(clock_now() + bound + SIM_DRAIN_EXTRA);
}

/* One run: the events of run, or new ones drawn as it goes (nev > 0). */
static enum inv
sim_play(struct sim_run *run, int draw)
{
	struct sim_event	 ev;
	char			 line[128];
	size_t			 i;

	sim_run = run;
	sim_fired = 0;
	check_reset();
	log_reset();
	clock_reset();
	world_init(run);
	users_reset();
	holds_reset();
	probe_sim_reset();
	job_sim_reset();
	harness_reset(run);
	if (draw > 0)
		gen_start(run->seed);
	for (i = 0; !check_failed; i++) {
		if (draw > 0) {
			if ((int)i >= draw)
				break;
			gen_next(run, clock_now(), &ev);
			gen_add(run, &ev);
			if (sim_out != -1) {
				gen_event_str(run, &ev, line, sizeof(line));
				dprintf(sim_out, "%s\n", line);
			}
		} else {
			if (i >= run->nev)
				break;
			ev = run->ev[i];
		}
		sim_advance(ev.t);
		if (!check_failed)
			sim_apply(&ev);
	}
	if (!check_failed)
		sim_drain();
	harness_finish();
	if (!check_failed)
		check_final();
	sim_excused[0] = check_blind;
	sim_excused[1] = users_guests_excused();
	sim_excused[2] = check_lost;
	sim_excused[3] = users_changed_during_open();
	sim_excused[4] = check_paused;
	sim_excused[5] = check_untold;
	sim_excused[6] = holds_dropped;
	job_sim_reset();
	probe_sim_reset();
	users_reset();
	world_free();
	clock_drop_all();
	harness_cleanup();
	owner_release();
	return (check_which());
}

/*
 * Children.
 */

struct sim_result {
	enum inv	 inv;
	char		 msg[512];
	long long	 nev;
	long long	 fired;
	long long	 excused[7];	/* see sim_excused */
	char		*text;		/* what the child wrote */
	size_t		 len;
};

/* Run fn in a child; its exit says the invariant, its pipe the rest. */
static void
sim_child(struct sim_run *run, int draw, struct sim_result *r)
{
	char	 buf[8192], *p, *q;
	ssize_t	 n;
	int	 fds[2], status;
	pid_t	 pid;

	memset(r, 0, sizeof(*r));
	if (sim_nofork) {
		r->inv = sim_play(run, draw);
		(void)strlcpy(r->msg, check_message(), sizeof(r->msg));
		r->nev = run->nev;
		r->fired = sim_fired;
		for (n = 0; n < 7; n++)
			r->excused[n] = sim_excused[n];
		return;
	}
	if (pipe(fds) == -1)
		err(1, "pipe");
	fflush(NULL);
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		close(fds[0]);
		sim_out = fds[1];
		if (draw > 0) {
			FILE	*fp = fdopen(dup(fds[1]), "w");

			run->nev = 0;
			gen_print(fp, run, "?");
			fclose(fp);
		}
		r->inv = sim_play(run, draw);
		dprintf(sim_out, "#count %zu %lld %d %d %d %d %d %d %d\n",
		    run->nev, sim_fired, sim_excused[0], sim_excused[1],
		    sim_excused[2], sim_excused[3], sim_excused[4],
		    sim_excused[5], sim_excused[6]);
		if (r->inv != INV_NONE && sim_verbose)
			log_dump(stderr, 60);
		_exit(SIM_EXIT_BASE + r->inv);
	}
	close(fds[1]);
	while ((n = read(fds[0], buf, sizeof(buf))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err(1, "read");
		}
		if ((r->text = realloc(r->text, r->len + n + 1)) == NULL)
			err(1, NULL);
		memcpy(r->text + r->len, buf, n);
		r->len += n;
		r->text[r->len] = '\0';
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			err(1, "waitpid");
	if (WIFSIGNALED(status)) {
		r->inv = INV_FATAL;
		snprintf(r->msg, sizeof(r->msg), "the run died of signal %d",
		    WTERMSIG(status));
	} else if (WEXITSTATUS(status) >= SIM_EXIT_BASE &&
	    WEXITSTATUS(status) < SIM_EXIT_BASE + INV_MAX)
		r->inv = WEXITSTATUS(status) - SIM_EXIT_BASE;
	else {
		r->inv = INV_FATAL;
		snprintf(r->msg, sizeof(r->msg), "the run exited %d",
		    WEXITSTATUS(status));
	}
	/* The first failure the child told is the one (it may crash after). */
	if (r->text != NULL && (p = strstr(r->text, "#result ")) != NULL) {
		q = p + strlen("#result ");
		if ((p = strchr(q, '\t')) != NULL) {
			*p = '\0';
			r->inv = check_by_name(q);
			*p = '\t';
			(void)strlcpy(r->msg, p + 1, sizeof(r->msg));
			r->msg[strcspn(r->msg, "\n")] = '\0';
		}
	}
	if (r->text != NULL && (p = strstr(r->text, "#count ")) != NULL)
		(void)sscanf(p, "#count %lld %lld %lld %lld %lld %lld %lld "
		    "%lld %lld", &r->nev, &r->fired, &r->excused[0],
		    &r->excused[1], &r->excused[2], &r->excused[3],
		    &r->excused[4], &r->excused[5], &r->excused[6]);
}

/* Does this list of events still break inv? */
static int
sim_fails(struct sim_run *run, enum inv inv)
{
	struct sim_result	 r;

	sim_child(run, 0, &r);
	free(r.text);
	return (r.inv == inv);
}

/*
 * Delta debugging (Zeller's ddmin): try ever smaller pieces of the
 * list, and the list without each piece, keeping whatever still fails
 * the same way, until no single event can go.
 */
static void
sim_shrink(struct sim_run *run, enum inv inv)
{
	struct sim_event	*all = run->ev, *cand;
	size_t			 n = run->nev, chunks = 2, size, i, j, k, m;
	int			 found, tries = 0;

	if ((cand = calloc(n + 1, sizeof(*cand))) == NULL)
		err(1, NULL);
	while (n >= 2) {
		found = 0;
		size = (n + chunks - 1) / chunks;
		for (i = 0; i < chunks && !found; i++) {
			/* The piece alone, then everything but the piece. */
			for (k = 0; k < 2 && !found; k++) {
				m = 0;
				for (j = 0; j < n; j++)
					if ((j / size == i) == (k == 0))
						cand[m++] = all[j];
				if (m == 0 || m == n)
					continue;
				run->ev = cand;
				run->nev = m;
				tries++;
				if (sim_fails(run, inv)) {
					memcpy(all, cand, m * sizeof(*all));
					n = m;
					chunks = k == 0 ? 2 : (chunks > 2 ?
					    chunks - 1 : 2);
					found = 1;
				}
			}
		}
		if (!found) {
			if (chunks >= n)
				break;
			chunks = chunks * 2 > n ? n : chunks * 2;
		}
	}
	run->ev = all;
	run->nev = n;
	free(cand);
	fprintf(stderr, "shrunk to %zu event%s in %d replays\n", n,
	    n == 1 ? "" : "s", tries);
}

/* The failing sequence, shrunk, printed and kept in dir. */
static void
sim_report(struct sim_run *run, const struct sim_result *r,
    const char *keep)
{
	char	 path[1024], expect[64];
	FILE	*fp;

	fprintf(stderr, "FAIL seed 0x%llx: %s: %s\n",
	    (unsigned long long)run->seed, check_name(r->inv), r->msg);
	if (sim_noshrink)
		return;
	sim_shrink(run, r->inv);
	(void)strlcpy(expect, check_name(r->inv), sizeof(expect));
	fprintf(stderr, "the shortest sequence found:\n");
	gen_print(stderr, run, expect);
	if (keep == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s-%llx.case", keep, expect,
	    (unsigned long long)run->seed);
	if ((fp = fopen(path, "w")) == NULL) {
		warn("%s", path);
		return;
	}
	fprintf(fp, "# %s: %s\n", expect, r->msg);
	gen_print(fp, run, expect);
	fclose(fp);
	fprintf(stderr, "kept as %s\n", path);
}

/* -r: each case must end as it expects (none: no invariant broken). */
static int
sim_cases(int argc, char **argv)
{
	struct sim_run		 run;
	struct sim_result	 r;
	char			 expect[64], errbuf[128];
	FILE			*fp;
	int			 i, bad = 0;

	for (i = 0; i < argc; i++) {
		if ((fp = fopen(argv[i], "r")) == NULL) {
			warn("%s", argv[i]);
			bad++;
			continue;
		}
		if (gen_parse(fp, &run, expect, sizeof(expect), errbuf,
		    sizeof(errbuf)) == -1) {
			warnx("%s: %s", argv[i], errbuf);
			fclose(fp);
			bad++;
			continue;
		}
		fclose(fp);
		run.promises &= sim_promises;
		sim_child(&run, 0, &r);
		if (strcmp(check_name(r.inv), expect) == 0)
			printf("%-40s ok (%s)\n", argv[i], expect);
		else {
			printf("%-40s FAIL: expected %s, got %s%s%s\n",
			    argv[i], expect, check_name(r.inv),
			    r.inv != INV_NONE ? ": " : "",
			    r.inv != INV_NONE ? r.msg : "");
			bad++;
		}
		free(r.text);
		gen_free(&run);
	}
	return (bad > 0);
}

__dead static void
usage(void)
{
	fprintf(stderr, "usage: sim [-fSvx] [-b promise] [-e events] [-k dir] "
	    "[-n seqs] [-s seed] [-t seconds]\n"
	    "       sim [-vx] [-b promise] -r case ...\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct sim_run		 run;
	struct sim_result	 r;
	const char		*keep = NULL, *errstr;
	uint64_t		 seed = (uint64_t)time(NULL);
	long long		 nseqs = 100, i, nev = 0, fired = 0;
	long long		 excused[7] = { 0, 0, 0, 0, 0, 0, 0 };
	long long		 seconds = 0, t0 = time(NULL);
	int			 ch, events = SIM_EVENTS, replay = 0, nfail = 0;
	int			 first = 0;

	while ((ch = getopt(argc, argv, "b:e:fk:n:rSs:t:vx")) != -1) {
		switch (ch) {
		case 'b':
			if (strcmp(optarg, "late-start") == 0)
				sim_promises &= ~PROMISE_LATE_START;
			else if (strcmp(optarg, "resume") == 0)
				sim_promises &= ~PROMISE_RESUME;
			else if (strcmp(optarg, "orphan") == 0)
				sim_promises &= ~PROMISE_ORPHAN;
			else if (strcmp(optarg, "stop") == 0)
				sim_promises &= ~PROMISE_STOP;
			else
				usage();
			break;
		case 'e':
			events = strtonum(optarg, 1, 1000000, &errstr);
			if (errstr != NULL)
				errx(2, "-e %s: %s", optarg, errstr);
			break;
		case 'f':
			first = 1;
			break;
		case 'k':
			keep = optarg;
			break;
		case 'n':
			nseqs = strtonum(optarg, 1, LLONG_MAX, &errstr);
			if (errstr != NULL)
				errx(2, "-n %s: %s", optarg, errstr);
			break;
		case 'r':
			replay = 1;
			break;
		case 'S':
			sim_noshrink = 1;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 't':
			seconds = strtonum(optarg, 1, LLONG_MAX, &errstr);
			if (errstr != NULL)
				errx(2, "-t %s: %s", optarg, errstr);
			break;
		case 'v':
			sim_verbose = 1;
			break;
		case 'x':
			sim_nofork = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	signal(SIGPIPE, SIG_IGN);
	if (replay)
		return (sim_cases(argc, argv));
	if (argc != 0)
		usage();

	printf("sim: seeds 0x%llx.., %lld sequences of %d events\n",
	    (unsigned long long)seed, nseqs, events);
	for (i = 0; i < nseqs; i++) {
		if (seconds > 0 && time(NULL) - t0 >= seconds)
			break;
		gen_params(&run, seed + i);
		run.promises &= sim_promises;
		sim_child(&run, events, &r);
		nev += r.nev;
		fired += r.fired;
		for (ch = 0; ch < 7; ch++)
			excused[ch] += r.excused[ch];
		if (r.inv == INV_NONE) {
			free(r.text);
			continue;
		}
		nfail++;
		/* The sequence as the child drew it. */
		if (!sim_nofork) {
			FILE	*fp;
			char	 expect[64], errbuf[128];

			gen_free(&run);
			if (r.text == NULL || (fp = fmemopen(r.text, r.len,
			    "r")) == NULL || gen_parse(fp, &run, expect,
			    sizeof(expect), errbuf, sizeof(errbuf)) == -1)
				errx(1, "seed 0x%llx: the sequence is lost",
				    (unsigned long long)(seed + i));
			fclose(fp);
		}
		sim_report(&run, &r, keep);
		free(r.text);
		gen_free(&run);
		if (first) {
			i++;
			break;
		}
	}
	printf("sim: %lld sequences, %lld events, %lld timers fired, "
	    "%d failed\n", i, nev, fired, nfail);
	/* What the invariants excuse, because vmlaunch cannot know. */
	printf("sim: excused: %lld stops of a person's boot vmlaunch could "
	    "not tell from its own, %lld guests reached by an id vmd dealt "
	    "again unbeknown, %lld runs with a VM no process could reach; "
	    "%lld session callbacks from inside session_open; %lld runs "
	    "with a VM of vmlaunch's left paused by a person; %lld runs "
	    "with a boot whose start's answer was lost after vmd dealt new "
	    "ids; %lld holds dropped by the supervisor as their VM did not "
	    "come up\n", excused[0], excused[1], excused[2], excused[3],
	    excused[4], excused[5], excused[6]);
	return (nfail > 0);
}
