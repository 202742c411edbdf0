/*
 * Portability: what OpenBSD has in base and other systems lack.  On Linux
 * most of it comes from libbsd's overlay headers (strlcpy, getpeereid,
 * sys/queue.h with TAILQ_FOREACH_SAFE); the rest is here.
 */

#ifndef COMPAT_H
#define COMPAT_H

#include <sys/types.h>

#ifndef __dead
#define __dead		__attribute__((__noreturn__))
#endif

/* sys/tree.h's RB_GENERATE_STATIC marks its functions with it. */
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif

#ifndef WAIT_ANY
#define WAIT_ANY	(-1)
#endif

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

#endif /* COMPAT_H */
