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
 * The VM state machine's own declarations, shared by vm.c (the states and
 * what moves a VM between them), start.c (status checks and the start),
 * adopt.c (ids and adoption), pause.c (idle pause and resume) and stop.c
 * (a VM's stop).  Nothing else includes it: other files know a VM
 * through vmlaunch.h's functions only.
 */

#define RECHECK_INTERVAL	500	/* ms: a second opinion */
#define STARTING_RECHECK	1000	/* ms: a predecessor's start may come */
#define RESUME_GRACE		5000	/* ms: sessions of a dead supervisor
					   come back within this */

struct vm {
	TAILQ_ENTRY(vm)		 entry;
	char			 name[VM_NAME_MAX];
	struct vmconf		*conf;		/* NULL: removed by a reload */
	struct policy		 pol;		/* a copy, for a removed VM */
	enum vm_state		 state;
	long long		 t_phase;	/* the state began */
	long long		 t_boot;	/* the boot began */
	enum vmd_state		 vmd;		/* last seen */
	int			 owned;		/* ours to stop */
	int			 booted_here;	/* start its apps when ready */
	int			 has_id;
	unsigned int		 id;
	long long		 id_at;		/* learnt as of then */
	long long		 t_req;		/* req asked */
	int			 odd;		/* answers in a row that say
						   it is gone */
	int			 start_unsure;	/* a start failed, not refused */
	int			 abandoned;	/* exiting, its stop left undone */
	int			 paused_here;	/* we paused it */
	int			 resumed;	/* its boot is a resume */
	int			 stop_due;	/* stop due while pausing */
	struct idle		*idle;		/* the idle countdown */
	struct halt		*halt;		/* the stop in progress */
	struct backend_req	*req;
	struct boot		*boot;		/* the wait for the guest */
	struct event		 ev_deadline;
	struct event		 ev_poll;
	int			 lastport;
	long long		 idle_at;
	char			 probeaddr[128];
	char			 failwhy[256];	/* a start's, a resume's */
	char			 stopwhy[128];
	char			 forwhom[64];	/* the session that waits */
	char			 display[256];	/* of the session that booted */
	char			 xauthority[1024];
};
TAILQ_HEAD(vmlist, vm);

extern struct vmlist	 vms;
extern struct config	*vm_conf;
extern long long	 vm_t0;
extern int		 vm_down;

long long	 vm_limit_ms(void);
int	 vm_command(struct vm *vm);
const char *	 vm_backend(struct vm *vm);
void	 vm_set_state(struct vm *, enum vm_state);
struct vm *vm_get(const char *, int);
void	 vm_quiet(struct vm *);
int	 vm_inuse(struct vm *vm);
void	 vm_gc(struct vm *);
void	 vm_changed(struct vm *);
void	 vm_fail_noboot(struct vm *vm);
void	 vm_fail_waiters(struct vm *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
void	 vm_unidle(struct vm *);
enum vm_session_answer	 vm_down_asked(struct vm *vm, int flags, char *msg, size_t msglen);
void	 vm_down_answer(struct vm *);
void	 vm_check(struct vm *);
int	 vm_row_id(struct vm *, const struct vmd_row *, long long);
void	 vm_id_doubt(struct vm *);
void	 vm_id_claimed(struct vm *);
void	 vm_check_done(const struct backend_result *, void *);
void	 vm_start(struct vm *);
void	 vm_start_done(const struct backend_result *, void *);
void	 vm_start_check_done(const struct backend_result *, void *);
void	 vm_boot(struct vm *);
void	 vm_settle(struct vm *);
void	 vm_idle_due(enum idle_due, void *);
void	 vm_pause(struct vm *);
void	 vm_pause_done(const struct backend_result *, void *);
void	 vm_pause_check_done(const struct backend_result *, void *);
void	 vm_paused_at_rest(struct vm *, long long);
void	 vm_resume(struct vm *);
void	 vm_resume_done(const struct backend_result *, void *);
void	 vm_resume_check_done(const struct backend_result *, void *);
void	 vm_resumed(struct vm *);
void	 vm_stop(struct vm *, const char *);
void	 vm_stopping(struct vm *, long long);
void	 vm_halted(enum halt_end, const struct vmd_row *, void *);
void	 vm_stopped(struct vm *);
