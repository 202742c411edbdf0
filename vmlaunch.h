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
 * The one internal header: the config objects that parse.y builds, the
 * control protocol spoken between client and supervisor, and the
 * prototypes of every file, grouped by file.
 */

#ifndef VMLAUNCH_H
#define VMLAUNCH_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <event.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "compat/compat.h"

#define VMLAUNCH_VERSION	"0.1"

#define VMLAUNCH_CONF_USER	".vmlaunch.conf"	/* in $HOME */
#define VMLAUNCH_CONF		"/etc/vmlaunch.conf"
#define VMLAUNCH_DIR		".vmlaunch"		/* in $HOME */
#define VMLAUNCH_SOCKET		"control"
#define VMLAUNCH_STATE		"state"
#define VMLAUNCH_LOCK		"lock"

#define SSH_PORT		22	/* without a port from ssh or the config */
#define SSH_BANNER		"SSH-"	/* a ready guest's first bytes */
#define VMCTL_PATH		"/usr/sbin/vmctl"
#define SSH_PATH		"/usr/bin/ssh"
#define BACKEND_SHELL		"/bin/sh"	/* runs backend commands */

/* Built-in policy defaults, in seconds; documented in vmlaunch.conf.5. */
#define DEFAULT_IDLE_TIMEOUT	(10 * 60)
#define DEFAULT_BOOT_WAIT	(3 * 60)
#define DEFAULT_STOP_WAIT	60
#define DEFAULT_VMCTL_TIMEOUT	30
#define DEFAULT_LOCAL_PREFIX	"100.64.0.0/10"
#define DEFAULT_RESTART_MAX	5
#define DEFAULT_CHECK_TIMEOUT	30

#define DURATION_NEVER		(-1)	/* idle timeout never */
#define POLICY_UNSET		(-2)	/* not given at this level */

#define VM_NAME_MAX		64	/* vmd: names are shorter than this */
#define HOST_NAME_MAX_LEN	255
#define STRING_MAX		1024	/* longest quoted string in a config */

#ifndef nitems
#define nitems(_a)	(sizeof((_a)) / sizeof((_a)[0]))
#endif

enum addr_rule {
	ADDR_UNSET = 0,
	ADDR_TAP,		/* tap interface address + 1 */
	ADDR_LOCAL,		/* computed from the vm id and the prefix */
	ADDR_FIXED,		/* an address or host name */
	ADDR_COMMAND		/* the first address a command prints */
};

/*
 * One level of policy: global or per vm.  Durations are seconds, with
 * POLICY_UNSET for "not given here"; port and address use 0 and
 * ADDR_UNSET the same way.
 */
struct policy {
	long long		 idle_timeout;	/* or DURATION_NEVER */
	long long		 idle_pause;	/* DURATION_NEVER: none */
	long long		 boot_wait;
	long long		 stop_wait;
	int			 port;		/* 0: the port ssh asked for */
	enum addr_rule		 addr;
	int			 addr_if;	/* interface index, tap/local */
	struct in_addr		 addr_prefix;	/* local: network */
	int			 addr_prefixlen;/* local: prefix length */
	char			*addr_host;	/* fixed: address or host name;
						   command: the command */

	/* Line numbers where each was set, to report "specified twice". */
	int			 idle_line;
	int			 pause_line;
	int			 boot_line;
	int			 stop_line;
	int			 port_line;
	int			 addr_line;
};

struct alias {
	TAILQ_ENTRY(alias)	 entry;
	char			*name;
	int			 line;		/* in the vm's file */
};
TAILQ_HEAD(aliaslist, alias);

/* autostart "command" [restart [N]] */
struct autostart {
	TAILQ_ENTRY(autostart)	 entry;
	char			*command;
	int			 restart;	/* restart when it exits */
	int			 restart_max;	/* at most this many times */
	int			 line;		/* in the vm's file */
};
TAILQ_HEAD(autostartlist, autostart);

/*
 * How a VM is started, stopped and asked about: vmd through vmctl, or
 * the user's own commands run with /bin/sh -c.  Kept out of struct
 * policy: the supervisor copies policies, and these strings belong to
 * the config.
 */
enum backend_type {
	BACKEND_UNSET = 0,
	BACKEND_VMD,
	BACKEND_COMMAND
};

enum backend_cmd {
	BACKEND_START = 0,
	BACKEND_STOP,
	BACKEND_KILL,		/* force stop */
	BACKEND_STATUS,
	BACKEND_PAUSE,		/* optional: for idle pause */
	BACKEND_UNPAUSE,
	BACKEND_NCMDS
};

struct backend {
	enum backend_type	 type;
	char			*cmd[BACKEND_NCMDS];	/* command only */
	int			 cmd_line[BACKEND_NCMDS];
	int			 line;		/* where it was given */
};

/*
 * idle check "command" [timeout D], run in the guest before an idle
 * pause or stop: a string of the config, kept out of struct policy too.
 */
struct idlecheck {
	char			*command;	/* NULL: none */
	long long		 timeout;	/* seconds */
	int			 line;
};

struct vmconf {
	TAILQ_ENTRY(vmconf)	 entry;
	char			*name;
	struct aliaslist	 aliases;
	struct autostartlist	 autostarts;
	struct policy		 own;		/* as written in the block */
	struct policy		 pol;		/* effective: own, global, default */
	struct backend		 own_backend;	/* as written in the block */
	struct backend		 backend;	/* effective: a copy */
	struct idlecheck	 own_check;	/* as written in the block */
	struct idlecheck	 check;		/* effective: a copy */
	char			*file;		/* where the block starts */
	int			 line;
	size_t			 seq;		/* position in the file */
	struct vmconf		*dupof;		/* same name as this one */
};
TAILQ_HEAD(vmconflist, vmconf);

struct domain {
	TAILQ_ENTRY(domain)	 entry;
	char			*name;
	char			*file;		/* where it was given */
	int			 line;
};
TAILQ_HEAD(domainlist, domain);

/* A file the parser read, for the supervisor's unveil(2). */
struct conffile {
	TAILQ_ENTRY(conffile)	 entry;
	char			*path;		/* as opened */
};
TAILQ_HEAD(conffilelist, conffile);

struct config {
	char			*file;		/* the top-level file */
	struct conffilelist	 files;		/* it and every include read */
	char			*vmctl;		/* command line, split on blanks */
	char			*ssh;
	char			*socket;	/* NULL: ~/.vmlaunch/control */
	long long		 vmctl_timeout;	/* seconds */
	struct domainlist	 domains;
	struct policy		 global;	/* as written, globally */
	struct backend		 backend;	/* as written, globally */
	struct idlecheck	 check;		/* as written, globally */
	struct vmconflist	 vms;
};

/*
 * Control protocol.  Every message is a header followed by exactly len
 * bytes of payload; a payload is a sequence of fields packed with the
 * buf_* functions below.  Anything that does not decode drops the peer.
 */
#define CTL_VERSION		1
#define CTL_MSG_MAX		(64 * 1024)

struct ctl_hdr {
	uint32_t		 type;
	uint32_t		 len;
};

enum ctl_type {
	CTL_CONNECT = 1,	/* client: host, port, display; a session */
	CTL_STATUS,		/* client: list the VMs */
	CTL_PROGRESS,		/* supervisor: what is happening while booting */
	CTL_READY,		/* supervisor: connected guest socket attached */
	CTL_ERROR,		/* supervisor: one line, the session failed */
	CTL_STATUS_VM,		/* supervisor: one row of the status table */
	CTL_STATUS_END,		/* supervisor: end of the table */
	CTL_HOLD,		/* client: hold a VM up, or release it */
	CTL_DONE,		/* supervisor: one line, the request is done */
	CTL_STATUS_SUP,		/* supervisor: who it is, before the rows */
	CTL_TYPE_MAX
};

/* What kind of session a CTL_CONNECT asks for. */
#define CTL_FLAG_RESUME		0x0001	/* has its socket from a supervisor
					   that died: count it again */
#define CTL_FLAG_NOBOOT		0x0002	/* fail rather than boot the VM */
#define CTL_FLAG_NOTUSE		0x0004	/* does not keep the VM up */
#define CTL_FLAG_UP		0x0008	/* wants the VM ready, no socket */
#define CTL_FLAG_DOWN		0x0010	/* wants the VM stopped */
#define CTL_FLAG_FORCE		0x0020	/* down, even while it is used */
#define CTL_FLAGS		0x003f

struct ctl_connect {
	uint32_t		 version;
	uint16_t		 port;		/* the port ssh asked for */
	uint16_t		 flags;
	char			 host[HOST_NAME_MAX_LEN + 1];
	char			 display[256];	/* DISPLAY, may be empty */
	char			 xauthority[1024];/* XAUTHORITY, may be empty */
};

enum ctl_phase {
	PHASE_STATUS = 0,	/* asking vmctl what state the VM is in */
	PHASE_STARTING,		/* vmctl start running */
	PHASE_BOOTING,		/* waiting for the guest's banner */
	PHASE_STOPPING,		/* waiting for a stop to finish first */
	PHASE_CONNECTING,	/* the guest is ready, connecting */
	PHASE_RESUMING		/* unpausing it, then its banner */
};

struct ctl_progress {
	uint32_t		 phase;
	uint32_t		 elapsed_ms;
	uint32_t		 deadline_ms;	/* 0: none */
	char			 text[256];
};

struct ctl_ready {
	char			 address[128];	/* "100.64.1.3:22", for -v */
};

/* CTL_ERROR and CTL_DONE: one line for the user. */
struct ctl_error {
	char			 message[512];
};

#define HOLD_RELEASE		0	/* seconds: end the hold */
#define HOLD_FOREVER		(-1)	/* seconds: until released */
#define HOLD_MAX		INT_MAX	/* seconds, as a config duration */

struct ctl_hold {
	uint32_t		 version;
	int64_t			 seconds;	/* or HOLD_RELEASE, _FOREVER */
	char			 host[HOST_NAME_MAX_LEN + 1];
};

#define STATUS_APPS_MAX		16

struct ctl_status_app {
	char			 command[256];
	char			 state[32];	/* running, restarting, ... */
	uint32_t		 restarts;
	int32_t			 pid;
};

/* Events of a VM's history (history.c), oldest first. */
#define HISTORY_MAX		20

struct ctl_status_event {
	int64_t			 when;		/* ms since the epoch */
	char			 text[200];
};

struct ctl_status_vm {
	char			 name[VM_NAME_MAX];
	char			 vmd_state[16];	/* as vmctl reports it */
	char			 state[16];	/* as vmlaunch sees it */
	char			 address[128];
	uint32_t		 sessions;
	uint32_t		 started;	/* started by vmlaunch */
	uint32_t		 configured;	/* 0: removed, still managed */
	int64_t			 idle_left;	/* s to the stop, -1 none */
	uint32_t		 held;		/* a hold keeps it up */
	int64_t			 hold_left;	/* seconds; -1 until released */
	uint32_t		 napps;
	struct ctl_status_app	 apps[STATUS_APPS_MAX];
	uint32_t		 nevents;
	struct ctl_status_event	 events[HISTORY_MAX];
};

struct ctl_status_sup {
	uint32_t		 pid;
	int64_t			 since;		/* seconds since the epoch */
	char			 config[1024];	/* its config file */
};

/* A growable byte buffer with bounds-checked readers for payloads. */
struct buf {
	uint8_t			*data;
	size_t			 len;		/* bytes in use */
	size_t			 size;		/* bytes allocated */
	size_t			 off;		/* read position */
	int			 error;		/* a read ran past the end */
};

/* VM state as vmctl reports it. */
enum vmd_state {
	VMD_ABSENT = 0,		/* no row with this name */
	VMD_RUNNING,
	VMD_STOPPED,
	VMD_STOPPING,
	VMD_PAUSED,
	VMD_WAITING,
	VMD_UNKNOWN
};

struct vmd_row {
	enum vmd_state		 state;
	int			 nostate;	/* no STATE column (vmctl up to
						   2018): paused shows running */
	int			 has_id;
	unsigned int		 id;
	char			 name[VM_NAME_MAX];
};

/* log.c: logging, and the clocks everything is timed with */
void		 log_init(int, int);
void		 log_setverbose(int);
void		 log_settime(int);
void		 log_warn(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
void		 log_warnx(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
void		 log_info(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
void		 log_debug(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
void		 logit(int, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
void		 vlog(int, const char *, va_list)
		    __attribute__((__format__ (printf, 2, 0)));
__dead void	 fatal(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
__dead void	 fatalx(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
long long	 now_ms(void);
time_t		 now_wall(void);
void		 timer_ms(struct event *, long long);
int		 timer_early(struct event *, long long);

/* parse.y */
struct config	*parse_config(const char *);
struct config	*parse_config_errors(const char *, int, int *);
void		 config_free(struct config *);

/* config.c: what the running program asks of a config */
struct vmconf	*config_find_vm(struct config *, const char *);
struct vmconf	*config_lookup_host(struct config *, const char *);
const char	*config_vm_name_problem(const char *);
int		 config_vm_name_valid(const char *);
int		 config_host_valid(const char *);
int		 config_duration(const char *, long long *, const char **);
char		*config_socket_path(struct config *);
char		*config_dir_path(struct config *);
int		 config_dir_check(const char *, int, char *, size_t);
char		*config_app_host(struct config *, const char *);
const char	*config_ssh(struct config *);
const char	*config_backend_word(enum backend_cmd);

/* printconf.c */
void		 print_config(FILE *, struct config *);
void		 print_vm(FILE *, struct config *, struct vmconf *);
const char	*print_duration(long long, char *, size_t);

/* buf.c */
void		 buf_init(struct buf *);
void		 buf_free(struct buf *);
void		 buf_reset(struct buf *);
void		 buf_put(struct buf *, const void *, size_t);
void		 buf_put_u16(struct buf *, uint16_t);
void		 buf_put_u32(struct buf *, uint32_t);
void		 buf_put_u64(struct buf *, uint64_t);
void		 buf_put_str(struct buf *, const char *);
uint16_t	 buf_get_u16(struct buf *);
uint32_t	 buf_get_u32(struct buf *);
uint64_t	 buf_get_u64(struct buf *);
void		 buf_get_str(struct buf *, char *, size_t);
int		 buf_done(struct buf *);

/* control.c: the wire codec, shared by both roles */
#define CTL_HDR_LEN		8
void		 ctl_pack_connect(struct buf *, const struct ctl_connect *);
int		 ctl_unpack_connect(const void *, size_t, struct ctl_connect *);
void		 ctl_pack_progress(struct buf *, const struct ctl_progress *);
int		 ctl_unpack_progress(const void *, size_t,
		    struct ctl_progress *);
void		 ctl_pack_ready(struct buf *, const struct ctl_ready *);
int		 ctl_unpack_ready(const void *, size_t, struct ctl_ready *);
void		 ctl_pack_error(struct buf *, const struct ctl_error *);
int		 ctl_unpack_error(const void *, size_t, struct ctl_error *);
void		 ctl_pack_status_vm(struct buf *, const struct ctl_status_vm *);
int		 ctl_unpack_status_vm(const void *, size_t,
		    struct ctl_status_vm *);
void		 ctl_pack_hold(struct buf *, const struct ctl_hold *);
int		 ctl_unpack_hold(const void *, size_t, struct ctl_hold *);
void		 ctl_pack_status_sup(struct buf *,
		    const struct ctl_status_sup *);
int		 ctl_unpack_status_sup(const void *, size_t,
		    struct ctl_status_sup *);
uint8_t		*ctl_message(uint32_t, const struct buf *, size_t *);
ssize_t		 ctl_write(int, const void *, size_t, int);
int		 ctl_send(int, uint32_t, const struct buf *, int);
int		 ctl_recv(int, uint32_t *, struct buf *, int *, int);
ssize_t		 ctl_frame(const uint8_t *, size_t, uint32_t *, size_t *);
const char	*ctl_type_name(uint32_t);

/* job.c: children of the supervisor, run through the event loop */
struct job;
typedef void	(*job_done_cb)(struct job *, void *);
typedef void	(*job_line_cb)(struct job *, int, const char *, void *);

pid_t		 job_spawn(char *const *, char *const *, int *, int *,
		    int *);
struct job	*job_run(char *const *, char *const *, long long,
		    job_line_cb, job_done_cb, void *);
struct job	*job_run_to(char *const *, char *const *, long long, int,
		    job_done_cb, void *);
struct job	*job_fork(const char *, void (*)(void *), void *, long long,
		    job_done_cb, void *);
void		 job_signal(struct job *, int);
void		 job_cancel(struct job *);
void		 job_reap(void);
int		 job_count(void);
void		 job_kill_all(int);
pid_t		 job_pid(struct job *);
const char	*job_name(struct job *);
int		 job_status(struct job *);
int		 job_timed_out(struct job *);
int		 job_exec_errno(struct job *);
long long	 job_timeout(struct job *);
const char	*job_output(struct job *, int, size_t *);
const char	*job_describe(struct job *, char *, size_t);
char	       **job_argv(const char *, const char *const *);
void		 job_argv_free(char **);
char	       **job_env(char *const *);

/* vmctl.c: what vmctl and the backend commands say */
enum backend_error {
	BACKEND_OK = 0,
	BACKEND_EXEC,		/* could not be run */
	BACKEND_TIMEOUT,	/* killed at the time limit */
	BACKEND_SIGNALED,	/* died of a signal */
	BACKEND_FAILED,		/* ran and said no */
	BACKEND_GARBAGE		/* ran and said nothing we understand */
};

/* How a command ended, however it was run. */
struct backend_ran {
	const char		*out;
	size_t			 outlen;
	const char		*err;
	size_t			 errlen;
	enum backend_error	 how;		/* BACKEND_OK: exited, see code */
	int			 code;		/* exit status, signal, errno */
	long long		 timeout_ms;
	const char		*prog;
};

struct backend_result {
	int			 ok;		/* the command did its job */
	enum backend_error	 err;		/* why not */
	char			 msg[512];	/* why not, or what it said */
	struct vmd_row		*rows;		/* status: every row */
	size_t			 nrows;
	const struct vmd_row	*row;		/* status NAME: its row or NULL */
	int			 has_id;	/* start: the id it reported */
	unsigned int		 id;
};

const char	*vmd_state_name(enum vmd_state);
int		 vmctl_parse_status(const char *, size_t, struct vmd_row **,
		    size_t *, char *, size_t);
const struct vmd_row *vmctl_find_row(const struct vmd_row *, size_t,
		    const char *);
int		 vmctl_parse_command_status(const char *, size_t,
		    struct vmd_row *, char *, size_t);
int		 vmctl_outcome_status(const struct backend_ran *,
		    struct vmd_row **, size_t *, char *, size_t);
void		 vmctl_lastline(const char *, size_t, char *, size_t);
void		 vmctl_outcome(enum backend_cmd, const struct backend_ran *,
		    struct backend_result *);
void		 vmctl_outcome_command(enum backend_cmd, const char *,
		    const struct backend_ran *, struct backend_result *,
		    struct vmd_row *);
enum vmctl_said {
	VMCTL_SAID_NOTHING,
	VMCTL_SAID_STARTED,
	VMCTL_SAID_REFUSED
};
enum vmctl_said	 vmctl_start_said(const char *, size_t, unsigned int *);
void		 vmctl_line(const char *, size_t, size_t, char *, size_t);
void		 vmctl_lastline(const char *, size_t, char *, size_t);

/* backend.c: run the backend's commands, one API for both kinds */
struct backend_req;
typedef void	(*backend_cb)(const struct backend_result *, void *);
#define BACKEND_FRESH		0x0001	/* an answer taken after the call */

void		 backend_configure(struct config *);
struct backend_req *backend_status(const char *, int, backend_cb, void *);
struct backend_req *backend_start(const char *, int, backend_cb, void *);
struct backend_req *backend_stop(const char *, int, backend_cb, void *);
struct backend_req *backend_pause(const char *, int, backend_cb, void *);
void		 backend_cancel(struct backend_req *);
int		 backend_status_running(void);
int		 backend_status_sync(struct config *, struct vmd_row **,
		    size_t *, char *, size_t);
void		 backend_shutdown(void);

/* address.c: where a VM's guest is */
enum address_answer {
	ADDRESS_OK = 0,
	ADDRESS_ERROR,		/* cannot be known now: err says why */
	ADDRESS_PENDING		/* to be asked: see address_resolve */
};
struct address_req;
typedef void	(*address_cb)(void *);

enum address_answer address_guest(const struct policy *, const char *,
		    int, unsigned int, int, struct sockaddr_storage *,
		    socklen_t *, char *, size_t);
struct address_req *address_resolve(const struct policy *, const char *,
		    address_cb, void *);
void		 address_cancel(struct address_req *);
int		 address_tap(const char *, int, struct in_addr *, char *,
		    size_t);
void		 address_local(struct in_addr, int, unsigned int, int,
		    struct in_addr *);
int		 address_parse_prefix(const char *, struct in_addr *, int *,
		    char *, size_t);
void		 address_print(const struct sockaddr_storage *, socklen_t,
		    char *, size_t);
int		 address_scan(const char *, size_t, struct sockaddr_storage *,
		    socklen_t *, char *, size_t);
void		 address_configure(struct config *);
void		 address_shutdown(void);

/* probe.c: connections to a guest, for readiness and for sessions */
enum probe_event {
	PROBE_READY,		/* fd: connected (and the banner is there) */
	PROBE_FAILED,		/* a session's connect failed: text says why */
	PROBE_ADDRESS,		/* text: the address it now tries */
	PROBE_WAITING		/* text: why the guest is not ready yet */
};
enum probe_mode {
	PROBE_BANNER,		/* until the SSH- banner arrives */
	PROBE_CONNECT		/* one connect, for a session */
};
struct probe;
typedef void	(*probe_cb)(enum probe_event, int, const char *, void *);

struct probe	*probe_start(const struct policy *, const char *, int,
		    unsigned int, int, enum probe_mode, probe_cb, void *);
void		 probe_cancel(struct probe *);

/* state.c: the state file, and adopting what a predecessor started */
enum state_phase {
	STATE_STARTING,		/* vmctl start runs (written before it) */
	STATE_RUNNING,		/* started: ours to stop */
	STATE_STOPPING,		/* vmctl stop issued (written before it) */
	STATE_PAUSED		/* vmctl pause issued (written before it) */
};
void		 state_configure(struct config *);
void		 state_init(struct config *);
void		 state_set(const char *, enum state_phase, int, unsigned int);
void		 state_hold(const char *, time_t);
void		 state_clear(const char *);
int		 state_answer_open(const char *);
void		 state_adopt(void);
int		 state_pending(void);
int		 state_starting(const char *);
int		 state_undecided(const char *, enum state_phase);
int		 state_unlisted(const char *);
void		 state_shutdown(void);

/* vm.c: a state machine per VM */
enum vm_state {
	VM_STOPPED = 0,		/* not running as far as we know */
	VM_CHECKING,		/* asking the backend what state it is in */
	VM_STARTING,		/* the backend's start runs */
	VM_BOOTING,		/* waiting for the guest's banner */
	VM_READY,		/* running, serving sessions */
	VM_IDLE,		/* ours and unused: the idle countdown runs */
	VM_PAUSING,		/* the backend's pause runs */
	VM_PAUSED,		/* paused by us */
	VM_RESUMING,		/* the backend's unpause runs, for a session */
	VM_STOPPING		/* a stop runs, ours or someone else's */
};

struct vm;
enum vm_session_answer {
	VM_SESSION_WAIT,	/* for what runs */
	VM_SESSION_CONNECT,	/* to the guest, now */
	VM_SESSION_OPEN,	/* counted as open at once */
	VM_SESSION_DONE,	/* answered at once: msg */
	VM_SESSION_REFUSED	/* msg says why */
};

void		 vm_configure(struct config *);
struct vm	*vm_find(const char *);
int		 vm_port(struct vm *, int);
enum vm_session_answer vm_session_opened(struct vm *, unsigned int, int,
		    const char *, const char *, char *, size_t);
void		 vm_session_closed(struct vm *);
struct probe	*vm_connect(struct vm *, int, probe_cb, void *);
void		 vm_progress(struct vm *, long long, long long, int,
		    struct ctl_progress *);
void		 vm_adopt(const char *, enum state_phase, int, unsigned int,
		    enum vmd_state, long long);
void		 vm_status_rows(const struct backend_result *,
		    void (*)(const struct ctl_status_vm *, void *), void *);
void		 vm_shutdown(void);
int		 vm_busy(void);
void		 vm_free_all(void);
const char	*vm_name(struct vm *);
const char	*vm_display(struct vm *);
const char	*vm_xauthority(struct vm *);
int		 vm_serving(struct vm *);
void		 vm_use_changed(struct vm *);
int		 vm_suspect(struct vm *);

/* session.c: who waits for a VM, who uses it */
#define SESSION_HOLD		0x00010000	/* a hold's (hold.c) */

/* What a session is told by its VM; arg is the session's opener's. */
struct session_ops {
	void	(*ready)(void *, int, const char *);	/* fd is yours */
	void	(*fail)(void *, const char *);
	void	(*changed)(void *);	/* the progress to show changed */
};
enum session_count {
	SESSIONS_ANY,		/* any at all */
	SESSIONS_WAITING,	/* wait for the VM to be ready */
	SESSIONS_OPEN,		/* have their socket or answer */
	SESSIONS_USING,		/* keep the VM up: users and holds */
	SESSIONS_USERS,		/* keep the VM up, not holds */
	SESSIONS_HOLDS,		/* holds */
	SESSIONS_SHOWN,		/* in the status table's SESSIONS */
	SESSIONS_DOWN		/* wait for the VM to be stopped */
};
enum session_fail {
	SESSIONS_FAIL_ALL,
	SESSIONS_FAIL_UP,	/* those that want the VM up */
	SESSIONS_FAIL_DOWN	/* those that want it stopped */
};
struct session;

struct session	*session_open(struct vmconf *, int, int, const char *,
		    const char *, const struct session_ops *, void *);
void		 session_close(struct session *);
void		 session_progress(struct session *, long long,
		    struct ctl_progress *);
const char	*session_vm(struct session *);
const char	*session_kind(int);
int		 session_count(struct vm *, enum session_count);
void		 session_notify(struct vm *);
void		 session_fail_waiting(struct vm *, const char *,
		    enum session_fail);
void		 session_fail_noboot(struct vm *, const char *);
void		 session_vm_ready(struct vm *, int, int, const char *);
void		 session_vm_stopped(struct vm *, const char *);
void		 session_vm_doubt(struct vm *);
void		 session_free_all(void);

/* idle.c: the idle countdown of a VM */
enum idle_due {
	IDLE_PAUSE,		/* idle pause has passed */
	IDLE_STOP		/* idle timeout has passed */
};
struct idle;
typedef void	(*idle_cb)(enum idle_due, void *);

struct idle	*idle_start(const char *, long long, long long,
		    const struct idlecheck *, long long, idle_cb, void *);
void		 idle_cancel(struct idle *);
void		 idle_paused(struct idle *);
void		 idle_running(struct idle *);
long long	 idle_left(struct idle *);
void		 idle_describe(struct idle *, char *, size_t);

/* boot.c: the wait for a guest to be ready */
enum boot_event {
	BOOT_ADDRESS,		/* text: the address it now tries */
	BOOT_ID,		/* row: the status gave the VM this id */
	BOOT_READY,		/* fd: connected, the banner there; text */
	BOOT_GONE,		/* row: the VM stopped or vanished */
	BOOT_TIMEOUT		/* text: the boot wait passed, why */
};
struct boot;
typedef void	(*boot_cb)(enum boot_event, int, const char *,
		    const struct vmd_row *, void *);

struct boot	*boot_start(const struct policy *, const char *, int, int,
		    unsigned int, int, long long, boot_cb, void *, char *,
		    size_t);
void		 boot_cancel(struct boot *);
long long	 boot_asked(struct boot *);
void		 boot_reprobe(struct boot *, int, unsigned int);
void		 boot_doubt(struct boot *);

/* halt.c: a stop in progress, verified, forced */
enum halt_kind {
	HALT_OURS,		/* the stop, then the status */
	HALT_UNPAUSE,		/* ours, of a VM we paused: unpause first */
	HALT_ADOPTED,		/* ours, under way already: the status */
	HALT_THEIRS		/* someone else's: only waited for */
};
enum halt_end {
	HALT_STOPPED,		/* gone */
	HALT_RUNNING,		/* theirs ended with it running */
	HALT_STUCK,		/* still there after the stop wait, or forced */
	HALT_ID			/* not an end: the status gave another id */
};
struct halt;
typedef void	(*halt_cb)(enum halt_end, const struct vmd_row *, void *);

struct halt	*halt_start(const char *, enum halt_kind, int, unsigned int,
		    long long, long long, halt_cb, void *);
void		 halt_cancel(struct halt *);
long long	 halt_began(struct halt *);
int		 halt_theirs(struct halt *);
long long	 halt_watched(struct halt *);
void		 halt_id(struct halt *, int, unsigned int);
void		 halt_disown(struct halt *);

/* busy.c: the busy check, run in the guest */
struct busy;
typedef void	(*busy_cb)(int, const char *, void *);

void		 busy_configure(struct config *);
struct busy	*busy_start(const char *, const char *, long long, busy_cb,
		    void *);
void		 busy_cancel(struct busy *);

/* hold.c: holds, a VM kept up without a session */
void		 hold_configure(struct config *);
int		 hold_set(struct vmconf *, long long, char *, size_t);
int		 hold_release(const char *, char *, size_t);
int		 hold_restore(const char *, time_t);
void		 hold_status(const char *, struct ctl_status_vm *);
void		 hold_shutdown(void);
void		 hold_free_all(void);

/* history.c: the recent events of each VM */
void		 history_add(const char *, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
void		 history_status(const char *, struct ctl_status_vm *);
void		 history_free_all(void);

/* peer.c: the control socket's peers */
void		 peer_configure(struct config *);
void		 peer_accept(int);
void		 peer_shutdown(void);
int		 peer_count(void);
void		 peer_free_all(void);

/* supervisor.c */
int		 supervisor_main(struct config *, int, int);
int		 supervisor_shutting_down(void);
void		 supervisor_status(struct ctl_status_sup *);
void		 supervisor_reload_if_changed(void);
void		 supervisor_check_exit(void);

/* autostart.c */
void		 autostart_vm_ready(struct vm *, struct vmconf *);
void		 autostart_vm_stopping(struct vm *);
void		 autostart_vm_gone(struct vm *);
int		 autostart_pending(struct vm *);
void		 autostart_status(struct vm *, struct ctl_status_vm *);
void		 autostart_configure(struct config *);
void		 autostart_shutdown(void);

/* client.c */
enum client_cmd {
	CLIENT_UP,		/* -u */
	CLIENT_HOLD,		/* -k */
	CLIENT_DOWN,		/* -x */
	CLIENT_DOWN_FORCE	/* -X */
};
int		 client_main(struct config *, const char *, int, int);
int		 client_command(struct config *, const char *, enum client_cmd,
		    long long, int);
int		 client_connect(const char *, long long);
const char	*client_duration(long long, char *, size_t);
void		 client_clean(char *, size_t);

/* status.c: vmlaunch -s */
int		 status_main(struct config *, int, int);

/* proxy.c */
int		 proxy_relay(int, int, int, char *, size_t);

/* syntax.c */
#define SYNTAX_TOP	0x01		/* outside blocks */
#define SYNTAX_VM	0x02		/* in a vm block */
#define SYNTAX_BACKEND	0x04		/* in a backend command block */

/* A statement's form, where it may stand, the block its "{" opens. */
struct syntax_form {
	int			 where;
	const char		*text;
	int			 opens;
	const char		*label;		/* if not its first word */
};

enum syntax_kind {
	SYNTAX_KEYWORD,
	SYNTAX_WORD,
	SYNTAX_NUMBER,
	SYNTAX_CHAR,		/* "{", "}", "=" */
	SYNTAX_END,		/* newline or ";" */
	SYNTAX_EOF
};

/* A token of the statement, as written (cut to fit). */
struct syntax_token {
	enum syntax_kind	 kind;
	int			 quoted;	/* a quoted string or a macro */
	char			 text[48];
};

void		 syntax_init(const struct syntax_form *, size_t,
		    int (*)(const char *));
int		 syntax_opens(const struct syntax_token *, size_t, int);
int		 syntax_pending(const struct syntax_token *, size_t, int);
void		 syntax_explain(const struct syntax_token *, size_t, int,
		    char *, size_t);

/* escape.c */
#define ESCAPE_LEN(n)	((n) * 4 + 1)	/* room for n bytes escaped */
char		*escape_str(const char *, char *, size_t);

/* sandbox.c */
void		 sandbox_supervisor(struct config *);
void		 sandbox_status(struct config *);

/* osdep-*.c */
int		 osdep_ifdescr(const char *, char *, size_t);
ssize_t		 osdep_splice(int, int, size_t);
void		 osdep_pipe_grow(int);
int		 osdep_peeruid(int, uid_t *);
void		 osdep_pledge(const char *, const char *);
void		 osdep_unveil(const char *, const char *);

#endif /* VMLAUNCH_H */
