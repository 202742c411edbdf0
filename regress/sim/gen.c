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
 * Runs: the world and the configs drawn from a seed, the events drawn
 * one at a time while the simulation runs (so that a close names a
 * session that is open, an answer a command that waits for one), and
 * the text a run is kept in (a case file, regress/sim/cases):
 *
 *	seed 0x2a
 *	promises 15
 *	vmctl new
 *	vm a vmd
 *	vm c command
 *	conf idle=30 boot=20 stop=5 vmctl=5 vms=ac apps=a restart=a
 *	conf idle=60 boot=20 stop=5 vmctl=5 vms=ac apps=- restart=- pause=20 check=5
 *	expect none
 *	events
 *	1200 open s0 a normal
 *	1500 close s0
 *	1800 hold a 600
 *	2000 busy a busy
 *	2500 release a
 *
 * (pause= and check=, the idle pause and the idle check's timeout, are
 * written only when a config has them: none without.)
 * An event names everything it acts on (a session by number, a VM by
 * name, a command by kind and VM), so that it means the same, or
 * nothing, when other events are taken out of the list.
 */

#include <sys/types.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static const char *const gen_kinds[EV_NKINDS] = {
	[EV_OPEN] = "open",
	[EV_CLOSE] = "close",
	[EV_GUEST] = "guest",
	[EV_PERSON] = "person",
	[EV_VMD] = "vmd",
	[EV_FAULT] = "fault",
	[EV_ANSWER] = "answer",
	[EV_APPEXIT] = "appexit",
	[EV_RELOAD] = "reload",
	[EV_CRASH] = "crash",
	[EV_TERM] = "term",
	[EV_STATUS] = "status",
	[EV_HOLD] = "hold",
	[EV_RELEASE] = "release",
	[EV_BUSY] = "busy"
};

static const char *const gen_flavours[USER_NFLAVOURS] = {
	"normal", "x", "noboot", "notuse", "check"
};
static const char *const gen_guests[GUEST_NMODES] = {
	"up", "silent", "dead"
};
static const char *const gen_persons[PERSON_NOPS] = {
	"start", "stop", "kill", "pause", "unpause"
};
static const char *const gen_cmds[ANSWER_NCMDS] = {
	"status", "start", "stop", "kill", "pause", "unpause"
};
static const char *const gen_busies[BUSY_NMODES] = {
	"idle", "busy", "fail", "hang"
};
static const char *const gen_outcomes[OUT_NOUTCOMES] = {
	"ok", "stale", "odd", "fail", "garbage", "hang", "lost"
};

static const char *const gen_names[SIM_VMS_MAX] = {
	"a", "b", "c", "d", "e", "f", "g", "h"
};

const char *
gen_vm(int i)
{
	const struct sim_run	*run = sim_current();

	if (run == NULL || i < 0 || i >= run->nvms)
		return ("-");
	return (run->vms[i].name);
}

static int
gen_vm_index(const struct sim_run *run, const char *name)
{
	int	 i;

	for (i = 0; i < run->nvms; i++)
		if (strcmp(run->vms[i].name, name) == 0)
			return (i);
	return (-1);
}

static int
gen_word(const char *const *words, int n, const char *w)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (strcmp(words[i], w) == 0)
			return (i);
	return (-1);
}

/*
 * The generator's dice.
 */

struct gen {
	uint64_t	 state;
};

static uint64_t
gen_next64(struct gen *g)
{
	g->state += 0x9e3779b97f4a7c15ULL;
	return (sim_hash(g->state, 0));
}

static int
gen_below(struct gen *g, int n)
{
	return (n <= 0 ? 0 : (int)(gen_next64(g) % (uint64_t)n));
}

static long long
gen_between(struct gen *g, long long lo, long long hi)
{
	return (lo + (long long)(gen_next64(g) % (uint64_t)(hi - lo + 1)));
}

/* One of n choices, weighted. */
static int
gen_pick(struct gen *g, const int *weights, int n)
{
	int	 i, total = 0, r;

	for (i = 0; i < n; i++)
		total += weights[i];
	r = gen_below(g, total);
	for (i = 0; i < n; i++) {
		if (r < weights[i])
			return (i);
		r -= weights[i];
	}
	return (n - 1);
}

static long long
gen_duration(struct gen *g, const long long *choices, int n)
{
	return (choices[gen_below(g, n)]);
}

/* The world and the configs of a run. */
void
gen_params(struct sim_run *run, uint64_t seed)
{
	static const long long idles[] = { 5, 20, 60, 300, 600 };
	static const long long boots[] = { 10, 30, 90, 180 };
	static const long long stops[] = { 2, 5, 20, 60 };
	static const long long vmctls[] = { 2, 5, 10, 30 };
	static const long long pauses[] = { 2, 10, 30, 120 };
	static const long long checks[] = { 1, 5, 30 };
	struct gen	 g = { seed };
	struct sim_conf	*c;
	unsigned int	 all;
	int		 i;

	memset(run, 0, sizeof(*run));
	run->seed = seed;
	run->promises = PROMISE_ALL;
	run->nvms = 2 + gen_below(&g, 3);
	for (i = 0; i < run->nvms; i++) {
		(void)strlcpy(run->vms[i].name, gen_names[i],
		    sizeof(run->vms[i].name));
		run->vms[i].vmd_knows = gen_below(&g, 20) != 0;
	}
	if (gen_below(&g, 4) == 0)
		run->vms[run->nvms - 1].command = 1;
	run->oldfmt = gen_below(&g, 10) == 0;
	all = (1U << run->nvms) - 1;
	run->nconfs = 1 + gen_below(&g, 3);
	for (i = 0; i < run->nconfs; i++) {
		c = &run->confs[i];
		c->idle = gen_below(&g, 10) == 0 ? DURATION_NEVER :
		    gen_duration(&g, idles, nitems(idles));
		c->boot = gen_duration(&g, boots, nitems(boots));
		c->stop = gen_duration(&g, stops, nitems(stops));
		c->vmctl = gen_duration(&g, vmctls, nitems(vmctls));
		c->vms = all;
		if (i > 0 && gen_below(&g, 4) == 0)
			c->vms &= ~(1U << gen_below(&g, run->nvms));
		c->apps = (unsigned int)gen_next64(&g) & all;
		c->apps &= (unsigned int)gen_next64(&g);
		c->restart = c->apps & (unsigned int)gen_next64(&g);
	}
	/*
	 * The idle pause and the idle check, in some runs, drawn after the
	 * rest so that the rest stays as it was for a seed.
	 */
	for (i = 0; i < run->nconfs; i++) {
		c = &run->confs[i];
		if (gen_below(&g, 3) == 0) {
			c->pause = gen_duration(&g, pauses, nitems(pauses));
			/* Shorter than the idle timeout (parse.y). */
			if (c->idle != DURATION_NEVER && c->pause >= c->idle)
				c->pause = c->idle / 2 > 0 ? c->idle / 2 : 0;
		}
		if (gen_below(&g, 3) == 0)
			c->check = gen_duration(&g, checks, nitems(checks));
	}
}

static void
gen_reset(struct gen *g, uint64_t seed)
{
	g->state = sim_hash(seed, 0x6e6576);
}

/*
 * The next event, given the state of the simulation now.  Mostly short
 * gaps, now and then one long enough for idle timeouts and boot waits to
 * run out; vmd misbehaves in episodes, during which the commands that
 * wait are answered in any order.
 */
struct gen_ctx {
	struct gen	 g;
	int		 nusers;
	int		 fault_events;
	int		 holds;		/* some config has a VM to hold */
	int		 checks;	/* some config has an idle check */
};

static struct gen_ctx	 gen_ctx;

void
gen_start(uint64_t seed)
{
	memset(&gen_ctx, 0, sizeof(gen_ctx));
	gen_reset(&gen_ctx.g, seed);
}

/*
 * Holds and busy checks are drawn only in runs whose configs have what
 * they act on (the idle pause or check), so that the runs without stay
 * as they were.
 */
static int
gen_holds(const struct sim_run *run)
{
	int	 i;

	for (i = 0; i < run->nconfs; i++)
		if (run->confs[i].pause > 0 || run->confs[i].check > 0)
			return (1);
	return (0);
}

static int
gen_checks(const struct sim_run *run)
{
	int	 i;

	for (i = 0; i < run->nconfs; i++)
		if (run->confs[i].check > 0)
			return (1);
	return (0);
}

void
gen_next(const struct sim_run *run, long long now, struct sim_event *ev)
{
	static const int gaps[] = { 55, 25, 14, 6 };
	static const int flavours[USER_NFLAVOURS] = { 60, 15, 10, 7, 8 };
	static const int guests[GUEST_NMODES] = { 40, 30, 30 };
	static const int persons[PERSON_NOPS] = { 30, 30, 10, 15, 15 };
	static const int outcomes[OUT_NOUTCOMES] = {
		30, 10, 10, 15, 10, 10, 15
	};
	static const int busies[BUSY_NMODES] = { 35, 35, 15, 15 };
	static const long long holdsecs[] = { -1, 5, 30, 120, 900 };
	struct gen	*g = &gen_ctx.g;
	int		 weights[EV_NKINDS], npending, cmd = 0, vm = -1, i;
	int		 napps = 0, live = users_count_open();

	memset(ev, 0, sizeof(*ev));
	switch (gen_pick(g, gaps, nitems(gaps))) {
	case 0:
		ev->t = now + gen_between(g, 0, 300);
		break;
	case 1:
		ev->t = now + gen_between(g, 300, 5000);
		break;
	case 2:
		ev->t = now + gen_between(g, 5000, 60000);
		break;
	default:
		ev->t = now + gen_between(g, 60000, 900000);
		break;
	}
	npending = job_sim_pending_faulty(&cmd, &vm, -1);
	for (i = 0; i < world_nvms(); i++)
		napps += job_sim_apps(world_vm(i));

	memset(weights, 0, sizeof(weights));
	weights[EV_OPEN] = live < 6 ? 18 : 4;
	weights[EV_CLOSE] = live > 0 ? 14 : 0;
	weights[EV_GUEST] = 6;
	weights[EV_PERSON] = 4;
	weights[EV_VMD] = 1;
	weights[EV_FAULT] = world_faulty() ? (gen_ctx.fault_events > 20 ?
	    40 : 3) : 2;
	weights[EV_ANSWER] = npending > 0 ? 30 : 0;
	weights[EV_APPEXIT] = napps > 0 ? 4 : 0;
	weights[EV_RELOAD] = run->nconfs > 1 ? 2 : 0;
	weights[EV_CRASH] = 2;
	weights[EV_TERM] = 1;
	weights[EV_STATUS] = 3;
	weights[EV_HOLD] = gen_holds(run) ? 3 : 0;
	weights[EV_RELEASE] = gen_holds(run) && holds_count() > 0 ? 3 : 0;
	weights[EV_BUSY] = gen_checks(run) ? 4 : 0;
	ev->kind = gen_pick(g, weights, EV_NKINDS);
	ev->vm = gen_below(g, run->nvms);
	ev->user = -1;
	if (world_faulty())
		gen_ctx.fault_events++;

	switch (ev->kind) {
	case EV_OPEN:
		ev->user = gen_ctx.nusers++;
		ev->arg = gen_pick(g, flavours, USER_NFLAVOURS);
		break;
	case EV_CLOSE:
		ev->user = users_pick_open(gen_below(g, live));
		break;
	case EV_GUEST:
		ev->arg = gen_pick(g, guests, GUEST_NMODES);
		break;
	case EV_PERSON:
		ev->arg = gen_pick(g, persons, PERSON_NOPS);
		break;
	case EV_FAULT:
		ev->arg = !world_faulty();
		gen_ctx.fault_events = 0;
		break;
	case EV_ANSWER:
		(void)job_sim_pending_faulty(&cmd, &vm, gen_below(g, npending));
		ev->vm = vm;
		ev->user = cmd;
		ev->arg = gen_pick(g, outcomes, OUT_NOUTCOMES);
		/* Answers come quickly, in any order. */
		ev->t = now + gen_between(g, 0, 2000);
		break;
	case EV_APPEXIT:
		for (i = 0; i < run->nvms; i++)
			if (job_sim_apps(world_vm((ev->vm + i) %
			    run->nvms)) > 0)
				break;
		ev->vm = (ev->vm + i) % run->nvms;
		break;
	case EV_RELOAD:
		ev->arg = gen_below(g, run->nconfs);
		break;
	case EV_CRASH:
		ev->arg = gen_below(g, 3) == 0 ? 0 : gen_between(g, 1, 2000);
		break;
	case EV_HOLD:
		ev->arg = gen_duration(g, holdsecs, nitems(holdsecs));
		break;
	case EV_RELEASE:
		break;
	case EV_BUSY:
		ev->arg = gen_pick(g, busies, BUSY_NMODES);
		break;
	default:
		ev->vm = -1;
		break;
	}
	if (ev->kind == EV_VMD || ev->kind == EV_FAULT ||
	    ev->kind == EV_RELOAD || ev->kind == EV_CRASH ||
	    ev->kind == EV_TERM || ev->kind == EV_STATUS)
		ev->vm = -1;
}

void
gen_add(struct sim_run *run, const struct sim_event *ev)
{
	if (run->nev == run->evsize) {
		run->evsize = run->evsize ? run->evsize * 2 : 256;
		if ((run->ev = reallocarray(run->ev, run->evsize,
		    sizeof(*run->ev))) == NULL)
			fatal("events");
	}
	run->ev[run->nev++] = *ev;
}

void
gen_free(struct sim_run *run)
{
	free(run->ev);
	run->ev = NULL;
	run->nev = run->evsize = 0;
}

/*
 * Text.
 */

void
gen_event_str(const struct sim_run *run, const struct sim_event *ev,
    char *buf, size_t len)
{
	const char	*vm = ev->vm >= 0 && ev->vm < run->nvms ?
			    run->vms[ev->vm].name : "-";

	switch (ev->kind) {
	case EV_OPEN:
		snprintf(buf, len, "%lld open s%d %s %s", ev->t, ev->user, vm,
		    gen_flavours[ev->arg]);
		break;
	case EV_CLOSE:
		snprintf(buf, len, "%lld close s%d", ev->t, ev->user);
		break;
	case EV_GUEST:
		snprintf(buf, len, "%lld guest %s %s", ev->t, vm,
		    gen_guests[ev->arg]);
		break;
	case EV_PERSON:
		snprintf(buf, len, "%lld person %s %s", ev->t, vm,
		    gen_persons[ev->arg]);
		break;
	case EV_VMD:
		snprintf(buf, len, "%lld vmd restart", ev->t);
		break;
	case EV_FAULT:
		snprintf(buf, len, "%lld fault %s", ev->t, ev->arg ? "on" :
		    "off");
		break;
	case EV_ANSWER:
		snprintf(buf, len, "%lld answer %s %s %s", ev->t,
		    gen_cmds[ev->user], vm, gen_outcomes[ev->arg]);
		break;
	case EV_APPEXIT:
		snprintf(buf, len, "%lld appexit %s", ev->t, vm);
		break;
	case EV_RELOAD:
		snprintf(buf, len, "%lld reload %d", ev->t, ev->arg);
		break;
	case EV_CRASH:
		snprintf(buf, len, "%lld crash %d", ev->t, ev->arg);
		break;
	case EV_TERM:
		snprintf(buf, len, "%lld term", ev->t);
		break;
	case EV_STATUS:
		snprintf(buf, len, "%lld status", ev->t);
		break;
	case EV_HOLD:
		if (ev->arg == -1)
			snprintf(buf, len, "%lld hold %s never", ev->t, vm);
		else
			snprintf(buf, len, "%lld hold %s %d", ev->t, vm,
			    ev->arg);
		break;
	case EV_RELEASE:
		snprintf(buf, len, "%lld release %s", ev->t, vm);
		break;
	case EV_BUSY:
		snprintf(buf, len, "%lld busy %s %s", ev->t, vm,
		    gen_busies[ev->arg]);
		break;
	default:
		snprintf(buf, len, "%lld ?", ev->t);
		break;
	}
}

static void
gen_mask(char *buf, size_t len, const struct sim_run *run, unsigned int m)
{
	size_t	 n = 0;
	int	 i;

	for (i = 0; i < run->nvms && n + 1 < len; i++)
		if (m & (1U << i))
			buf[n++] = run->vms[i].name[0];
	if (n == 0 && len > 1)
		buf[n++] = '-';
	buf[n] = '\0';
}

static void
gen_dur(char *buf, size_t len, long long s)
{
	if (s == DURATION_NEVER)
		(void)strlcpy(buf, "never", len);
	else
		snprintf(buf, len, "%lld", s);
}

void
gen_print(FILE *fp, const struct sim_run *run, const char *expect)
{
	const struct sim_conf	*c;
	char			 vms[16], apps[16], rs[16], idle[16], line[256];
	size_t			 i;
	int			 j;

	fprintf(fp, "seed 0x%llx\n", (unsigned long long)run->seed);
	fprintf(fp, "promises %d\n", run->promises);
	fprintf(fp, "vmctl %s\n", run->oldfmt ? "old" : "new");
	for (j = 0; j < run->nvms; j++)
		fprintf(fp, "vm %s %s\n", run->vms[j].name,
		    run->vms[j].command ? "command" :
		    run->vms[j].vmd_knows ? "vmd" : "unknown");
	for (j = 0; j < run->nconfs; j++) {
		c = &run->confs[j];
		gen_mask(vms, sizeof(vms), run, c->vms);
		gen_mask(apps, sizeof(apps), run, c->apps);
		gen_mask(rs, sizeof(rs), run, c->restart);
		gen_dur(idle, sizeof(idle), c->idle);
		fprintf(fp, "conf idle=%s boot=%lld stop=%lld vmctl=%lld "
		    "vms=%s apps=%s restart=%s", idle, c->boot, c->stop,
		    c->vmctl, vms, apps, rs);
		if (c->pause > 0)
			fprintf(fp, " pause=%lld", c->pause);
		if (c->check > 0)
			fprintf(fp, " check=%lld", c->check);
		fprintf(fp, "\n");
	}
	fprintf(fp, "expect %s\n", expect);
	fprintf(fp, "events\n");
	for (i = 0; i < run->nev; i++) {
		gen_event_str(run, &run->ev[i], line, sizeof(line));
		fprintf(fp, "%s\n", line);
	}
}

static unsigned int
gen_parse_mask(const struct sim_run *run, const char *s)
{
	unsigned int	 m = 0;
	char		 name[2] = { 0, 0 };
	int		 i;

	for (; *s != '\0'; s++) {
		name[0] = *s;
		if ((i = gen_vm_index(run, name)) >= 0)
			m |= 1U << i;
	}
	return (m);
}

static int
gen_parse_event(const struct sim_run *run, char *line, struct sim_event *ev)
{
	char	*w[6], *p = line;
	int	 n = 0, k;

	while (n < 6 && (w[n] = strsep(&p, " \t")) != NULL)
		if (*w[n] != '\0')
			n++;
	if (n < 2)
		return (-1);
	memset(ev, 0, sizeof(*ev));
	ev->t = strtoll(w[0], NULL, 10);
	ev->vm = -1;
	ev->user = -1;
	if ((k = gen_word(gen_kinds, EV_NKINDS, w[1])) == -1)
		return (-1);
	ev->kind = k;
	switch (ev->kind) {
	case EV_OPEN:
		if (n != 5 || w[2][0] != 's')
			return (-1);
		ev->user = atoi(w[2] + 1);
		ev->vm = gen_vm_index(run, w[3]);
		ev->arg = gen_word(gen_flavours, USER_NFLAVOURS, w[4]);
		return (ev->vm == -1 || ev->arg == -1 ? -1 : 0);
	case EV_CLOSE:
		if (n != 3 || w[2][0] != 's')
			return (-1);
		ev->user = atoi(w[2] + 1);
		return (0);
	case EV_GUEST:
	case EV_PERSON:
		if (n != 4)
			return (-1);
		ev->vm = gen_vm_index(run, w[2]);
		ev->arg = ev->kind == EV_GUEST ?
		    gen_word(gen_guests, GUEST_NMODES, w[3]) :
		    gen_word(gen_persons, PERSON_NOPS, w[3]);
		return (ev->vm == -1 || ev->arg == -1 ? -1 : 0);
	case EV_FAULT:
		if (n != 3)
			return (-1);
		ev->arg = strcmp(w[2], "on") == 0;
		return (0);
	case EV_ANSWER:
		if (n != 5)
			return (-1);
		ev->user = gen_word(gen_cmds, ANSWER_NCMDS, w[2]);
		ev->vm = gen_vm_index(run, w[3]);
		ev->arg = gen_word(gen_outcomes, OUT_NOUTCOMES, w[4]);
		return (ev->user == -1 || ev->arg == -1 ? -1 : 0);
	case EV_APPEXIT:
	case EV_RELEASE:
		if (n != 3)
			return (-1);
		ev->vm = gen_vm_index(run, w[2]);
		return (ev->vm == -1 ? -1 : 0);
	case EV_HOLD:
		if (n != 4)
			return (-1);
		ev->vm = gen_vm_index(run, w[2]);
		ev->arg = strcmp(w[3], "never") == 0 ? -1 : atoi(w[3]);
		return (ev->vm == -1 || ev->arg < -1 ? -1 : 0);
	case EV_BUSY:
		if (n != 4)
			return (-1);
		ev->vm = gen_vm_index(run, w[2]);
		ev->arg = gen_word(gen_busies, BUSY_NMODES, w[3]);
		return (ev->vm == -1 || ev->arg == -1 ? -1 : 0);
	case EV_RELOAD:
	case EV_CRASH:
		if (n != 3)
			return (-1);
		ev->arg = atoi(w[2]);
		if (ev->kind == EV_RELOAD && (ev->arg < 0 ||
		    ev->arg >= run->nconfs))
			return (-1);
		return (0);
	default:
		return (0);
	}
}

static int
gen_parse_conf(struct sim_run *run, char *line)
{
	struct sim_conf	*c;
	char		*w, *p = line, *v;

	if (run->nconfs == SIM_CONFS_MAX)
		return (-1);
	c = &run->confs[run->nconfs++];
	while ((w = strsep(&p, " \t")) != NULL) {
		if (*w == '\0')
			continue;
		if ((v = strchr(w, '=')) == NULL)
			return (-1);
		*v++ = '\0';
		if (strcmp(w, "idle") == 0)
			c->idle = strcmp(v, "never") == 0 ? DURATION_NEVER :
			    strtoll(v, NULL, 10);
		else if (strcmp(w, "boot") == 0)
			c->boot = strtoll(v, NULL, 10);
		else if (strcmp(w, "stop") == 0)
			c->stop = strtoll(v, NULL, 10);
		else if (strcmp(w, "vmctl") == 0)
			c->vmctl = strtoll(v, NULL, 10);
		else if (strcmp(w, "vms") == 0)
			c->vms = gen_parse_mask(run, v);
		else if (strcmp(w, "apps") == 0)
			c->apps = gen_parse_mask(run, v);
		else if (strcmp(w, "restart") == 0)
			c->restart = gen_parse_mask(run, v);
		else if (strcmp(w, "pause") == 0)
			c->pause = strtoll(v, NULL, 10);
		else if (strcmp(w, "check") == 0)
			c->check = strtoll(v, NULL, 10);
		else
			return (-1);
	}
	return (c->boot > 0 && c->stop > 0 && c->vmctl > 0 ? 0 : -1);
}

/* A case file; expect gets its "expect" word.  -1 with a message. */
int
gen_parse(FILE *fp, struct sim_run *run, char *expect, size_t explen,
    char *err, size_t errlen)
{
	struct sim_event	 ev;
	char			*line = NULL, *p, word[32], arg[64];
	size_t			 sz = 0;
	ssize_t			 len;
	int			 lineno = 0, events = 0, rc = -1;

	memset(run, 0, sizeof(*run));
	run->promises = PROMISE_ALL;
	(void)strlcpy(expect, "none", explen);
	while ((len = getline(&line, &sz, fp)) != -1) {
		lineno++;
		while (len > 0 && isspace((unsigned char)line[len - 1]))
			line[--len] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (events) {
			if (gen_parse_event(run, line, &ev) == -1) {
				snprintf(err, errlen, "line %d: bad event",
				    lineno);
				goto done;
			}
			gen_add(run, &ev);
			continue;
		}
		if (strcmp(line, "events") == 0) {
			events = 1;
			continue;
		}
		arg[0] = '\0';
		if (sscanf(line, "%31s %63s", word, arg) < 1)
			goto bad;
		p = line + strlen(word);
		while (*p == ' ' || *p == '\t')
			p++;
		if (strcmp(word, "seed") == 0)
			run->seed = strtoull(arg, NULL, 0);
		else if (strcmp(word, "promises") == 0)
			run->promises = atoi(arg);
		else if (strcmp(word, "vmctl") == 0)
			run->oldfmt = strcmp(arg, "old") == 0;
		else if (strcmp(word, "expect") == 0)
			(void)strlcpy(expect, arg, explen);
		else if (strcmp(word, "vm") == 0) {
			char	 name[VM_NAME_MAX], kind[16];

			if (run->nvms == SIM_VMS_MAX ||
			    sscanf(p, "%63s %15s", name, kind) != 2)
				goto bad;
			(void)strlcpy(run->vms[run->nvms].name, name,
			    sizeof(run->vms[run->nvms].name));
			run->vms[run->nvms].command = strcmp(kind,
			    "command") == 0;
			run->vms[run->nvms].vmd_knows = strcmp(kind,
			    "unknown") != 0;
			run->nvms++;
		} else if (strcmp(word, "conf") == 0) {
			if (gen_parse_conf(run, p) == -1)
				goto bad;
		} else
			goto bad;
	}
	if (run->nvms == 0 || run->nconfs == 0) {
		snprintf(err, errlen, "no vm or no conf");
		goto done;
	}
	rc = 0;
	goto done;
 bad:
	snprintf(err, errlen, "line %d: not understood", lineno);
 done:
	free(line);
	return (rc);
}

/*
 * A command VM has its pause and unpause commands in every config of a
 * run that pauses (as a user would keep them): a VM paused under one
 * config is unpaused under the next.
 */
static int
gen_pauses(const struct sim_run *run)
{
	int	 i;

	for (i = 0; i < run->nconfs; i++)
		if (run->confs[i].pause > 0)
			return (1);
	return (0);
}

/* vmlaunch.conf for config i of a run, its socket in dir. */
void
gen_write_config(FILE *fp, const struct sim_run *run, int i, const char *dir)
{
	const struct sim_conf	*c = &run->confs[i];
	char			 d[16];
	int			 j;

	fprintf(fp, "# simulation run 0x%llx, config %d\n",
	    (unsigned long long)run->seed, i);
	fprintf(fp, "vmctl \"vmctl\"\nvmctl timeout %llds\nssh \"ssh\"\n",
	    c->vmctl);
	fprintf(fp, "socket \"%s/control\"\n", dir);
	gen_dur(d, sizeof(d), c->idle);
	for (j = 0; j < run->nvms; j++) {
		if (!(c->vms & (1U << j)))
			continue;
		fprintf(fp, "vm \"%s\" {\n", run->vms[j].name);
		fprintf(fp, "\tidle timeout %s%s\n", d, c->idle ==
		    DURATION_NEVER ? "" : "s");
		fprintf(fp, "\tboot wait %llds\n\tstop wait %llds\n", c->boot,
		    c->stop);
		if (c->pause > 0)
			fprintf(fp, "\tidle pause %llds\n", c->pause);
		if (c->check > 0)
			fprintf(fp, "\tidle check \"busy-check\" timeout %llds\n",
			    c->check);
		if (c->apps & (1U << j))
			fprintf(fp, "\tautostart \"xterm\"%s\n",
			    c->restart & (1U << j) ? " restart 3" : "");
		if (run->vms[j].command)
			fprintf(fp, "\taddress 10.9.0.%d\n"
			    "\tbackend command {\n"
			    "\t\tstart \"start-vm\"\n"
			    "\t\tstop \"stop-vm\"\n"
			    "\t\tforce stop \"kill-vm\"\n"
			    "\t\tstatus \"vm-status\"\n"
			    "%s"
			    "\t}\n", j + 1, gen_pauses(run) ?
			    "\t\tpause \"pause-vm\"\n"
			    "\t\tunpause \"unpause-vm\"\n" : "");
		fprintf(fp, "}\n");
	}
}
