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
 * Included first (cc -include) in every product file that the
 * simulation links, and in no other build.  Every object the product
 * makes with calloc (VMs, sessions, requests, batches, apps, records,
 * config objects) is registered, and kept, poisoned, after its free
 * until the run ends, so that the harness can tell whether a timer, a
 * job, a probe or a request outlives the object that owns it, the
 * moment that object is freed (owner.c, check.c).
 *
 * With SIM_WRAP_BACKEND (vm.c, boot.c, halt.c, state.c, autostart.c:
 * the backend's callers), their backend requests go through harness.c's wrappers,
 * which see each request's callback argument (the owner) and which file
 * asked.
 */

#ifndef SIM_OWNER_H
#define SIM_OWNER_H

#include <stdlib.h>

#include "vmlaunch.h"

void	*owner_calloc(size_t, size_t, const char *, int);
void	 owner_free(void *);

#define calloc(n, s)	owner_calloc((n), (s), __FILE__, __LINE__)
#define free(p)		owner_free(p)

#ifdef SIM_WRAP_BACKEND
struct backend_req *wrap_backend_status(const char *, int, backend_cb,
	    void *, const char *);
struct backend_req *wrap_backend_start(const char *, int, backend_cb, void *,
	    const char *);
struct backend_req *wrap_backend_stop(const char *, int, backend_cb, void *,
	    const char *);
struct backend_req *wrap_backend_pause(const char *, int, backend_cb, void *,
	    const char *);
void	 wrap_backend_cancel(struct backend_req *);

#define backend_status(n, f, cb, a)	\
	wrap_backend_status((n), (f), (cb), (a), __FILE__)
#define backend_start(n, fd, cb, a)	\
	wrap_backend_start((n), (fd), (cb), (a), __FILE__)
#define backend_stop(n, f, cb, a)	\
	wrap_backend_stop((n), (f), (cb), (a), __FILE__)
#define backend_pause(n, p, cb, a)	\
	wrap_backend_pause((n), (p), (cb), (a), __FILE__)
#define backend_cancel(r)		wrap_backend_cancel(r)
#endif

#endif /* SIM_OWNER_H */
