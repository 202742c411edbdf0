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
 * The recent history of each VM: the last HISTORY_MAX events that say
 * why it runs or not (started for whom, ready, paused, resumed, stopped
 * and why, busy checks, failures with the backend's words), each with
 * its wall-clock time, for `vmlaunch -s -v`.  An event is logged as it
 * is recorded, the same line, so that -d shows it on stderr and syslog
 * has the full story; the history itself lives in memory only, kept by
 * VM name, and a new supervisor starts it afresh.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "vmlaunch.h"

struct history {
	LIST_ENTRY(history)	 entry;
	char			 name[VM_NAME_MAX];
	size_t			 first;		/* the oldest event */
	size_t			 n;
	struct ctl_status_event	 ev[HISTORY_MAX];
};

static LIST_HEAD(, history) histories = LIST_HEAD_INITIALIZER(histories);

static struct history *
history_get(const char *name)
{
	struct history	*h;

	LIST_FOREACH(h, &histories, entry)
		if (strcmp(h->name, name) == 0)
			return (h);
	if ((h = calloc(1, sizeof(*h))) == NULL)
		fatal("history");
	(void)strlcpy(h->name, name, sizeof(h->name));
	LIST_INSERT_HEAD(&histories, h, entry);
	return (h);
}

/* Log "vm NAME: text" at pri, and keep text as the VM's latest event. */
void
history_add(const char *name, int pri, const char *fmt, ...)
{
	struct ctl_status_event	*e;
	struct history		*h = history_get(name);
	struct timespec		 ts;
	char			 text[512];
	va_list			 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	logit(pri, "vm %s: %s", name, text);

	if (h->n < HISTORY_MAX)
		e = &h->ev[(h->first + h->n++) % HISTORY_MAX];
	else {
		e = &h->ev[h->first];
		h->first = (h->first + 1) % HISTORY_MAX;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	e->when = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	(void)strlcpy(e->text, text, sizeof(e->text));
}

/* The VM's events, oldest first, into its status row. */
void
history_status(const char *name, struct ctl_status_vm *row)
{
	struct history	*h;
	size_t		 i;

	row->nevents = 0;
	LIST_FOREACH(h, &histories, entry)
		if (strcmp(h->name, name) == 0)
			break;
	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++)
		row->events[i] = h->ev[(h->first + i) % HISTORY_MAX];
	row->nevents = h->n;
}

/* At exit, so that nothing is left for a leak check to find. */
void
history_free_all(void)
{
	struct history	*h;

	while ((h = LIST_FIRST(&histories)) != NULL) {
		LIST_REMOVE(h, entry);
		free(h);
	}
}
