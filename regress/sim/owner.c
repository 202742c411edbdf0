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
 * The objects the product allocates with calloc (owner.h routes them
 * here), alive or freed.  A freed one is not given back until the run
 * ends (owner_release): its memory is filled with a pattern (and
 * poisoned under ASan), so that nothing else is put at its address and
 * a pointer to it stays recognisable as dangling.  When one is freed,
 * check.c is asked whether anything still refers to it.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define OWNER_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OWNER_ASAN	1
#endif
#endif
#ifdef OWNER_ASAN
#include <sanitizer/asan_interface.h>
#endif

#include "sim.h"

/*
 * What freed memory is filled with: as a pointer it is not canonical (a
 * fault), as a time or a count it is huge (a wait that never ends).
 */
#define OWNER_POISON	0x5b

struct owner_blk {
	void			*p;
	size_t			 size;
	const char		*file;
	int			 line;
	int			 freed;
};

static struct owner_blk	*owner_blks;
static size_t		 owner_n, owner_size;
static size_t		*owner_table;	/* index + 1, open addressing */
static size_t		 owner_tsize;
static size_t		 owner_nlive;

static size_t
owner_slot(const void *p)
{
	return (sim_hash((uintptr_t)p, 0) & (owner_tsize - 1));
}

static void
owner_insert(size_t idx)
{
	size_t	 i = owner_slot(owner_blks[idx].p);

	while (owner_table[i] != 0)
		i = (i + 1) & (owner_tsize - 1);
	owner_table[i] = idx + 1;
}

static void
owner_grow(void)
{
	size_t	 i;

	free(owner_table);
	owner_tsize = owner_tsize ? owner_tsize * 2 : 1024;
	if ((owner_table = calloc(owner_tsize, sizeof(*owner_table))) == NULL)
		abort();
	for (i = 0; i < owner_n; i++)
		owner_insert(i);
}

static struct owner_blk *
owner_find(const void *p)
{
	size_t	 i, idx;

	if (owner_tsize == 0)
		return (NULL);
	for (i = owner_slot(p); (idx = owner_table[i]) != 0;
	    i = (i + 1) & (owner_tsize - 1))
		if (owner_blks[idx - 1].p == p)
			return (&owner_blks[idx - 1]);
	return (NULL);
}

void *
owner_calloc(size_t n, size_t size, const char *file, int line)
{
	struct owner_blk	*b;
	void			*p;

	if ((p = calloc(n, size)) == NULL)
		return (NULL);
	if (owner_n == owner_size) {
		owner_size = owner_size ? owner_size * 2 : 1024;
		if ((owner_blks = reallocarray(owner_blks, owner_size,
		    sizeof(*owner_blks))) == NULL)
			abort();
	}
	if ((owner_n + 1) * 2 > owner_tsize)
		owner_grow();
	b = &owner_blks[owner_n];
	b->p = p;
	b->size = n * size;
	b->file = file;
	b->line = line;
	b->freed = 0;
	owner_insert(owner_n++);
	owner_nlive++;
	return (p);
}

void
owner_free(void *p)
{
	struct owner_blk	*b;
	char			 site[128];

	if (p == NULL)
		return;
	if ((b = owner_find(p)) == NULL) {
		free(p);	/* strdup, asprintf, realloc: not an owner */
		return;
	}
	if (b->freed) {
		check_fail(INV_OWNER, "%s:%d: freed twice", b->file, b->line);
		return;
	}
	snprintf(site, sizeof(site), "%s:%d", b->file, b->line);
	check_owner_freed(p, b->size, site);
	b->freed = 1;
	owner_nlive--;
	memset(p, OWNER_POISON, b->size);
#ifdef OWNER_ASAN
	ASAN_POISON_MEMORY_REGION(p, b->size);
#endif
}

/* Was p an owner that is freed now?  Where it was made, in site. */
int
owner_freed(const void *p, char *site, size_t sitelen)
{
	struct owner_blk	*b;

	if (p == NULL || (b = owner_find(p)) == NULL || !b->freed)
		return (0);
	snprintf(site, sitelen, "%s:%d", b->file, b->line);
	return (1);
}

/* Objects the product still holds. */
size_t
owner_live(void)
{
	return (owner_nlive);
}

/* The run is over: give everything freed back, forget the rest. */
void
owner_release(void)
{
	size_t	 i;

	for (i = 0; i < owner_n; i++) {
		if (!owner_blks[i].freed)
			continue;
#ifdef OWNER_ASAN
		ASAN_UNPOISON_MEMORY_REGION(owner_blks[i].p,
		    owner_blks[i].size);
#endif
		free(owner_blks[i].p);
	}
	free(owner_blks);
	free(owner_table);
	owner_blks = NULL;
	owner_table = NULL;
	owner_n = owner_size = owner_tsize = owner_nlive = 0;
}
