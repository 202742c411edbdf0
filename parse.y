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
 * The vmlaunch.conf language: lexer, grammar and the checks that need
 * the whole file (duplicate names, host names that reach two VMs), and
 * the lookups the other files do on a parsed config.  parse_config()
 * leaves no state behind, so a reload can parse beside a live config.
 *
 * A syntax error is explained by syntax.c, from the tokens of the
 * refused statement (recorded by yylex) and the table of statement
 * forms below the keywords.  The lexer also counts braces, so that a
 * block whose "{" the grammar threw away after an error is skipped
 * whole instead of closing the block around it.
 */

%{
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/tree.h>
#include <sys/un.h>

#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"

/*
 * A file being read, whole in memory: a client reads its config at every
 * start, so a byte costs a compare, not a call into stdio.
 */
struct file {
	TAILQ_ENTRY(file)	 entry;
	char			*text;
	size_t			 len, pos;
	char			*name;
	dev_t			 dev;
	ino_t			 ino;
	int			 lineno;
	int			 eof;		/* EOF seen, last '\n' given */
	int			 lasttok;	/* last token read from it */
	int			 ahead[2];	/* bytes read too far */
	int			 nahead;
};
TAILQ_HEAD(filelist, file);

/* A tree, so that a file with many macros still parses at once. */
struct macro {
	RB_ENTRY(macro)		 entry;
	char			*name;
	char			*value;
};
RB_HEAD(macrotree, macro);

/* The tokens of the statement being read, for syntax errors. */
#define STMT_MAX	24
/*
 * The blocks open at this point, as the lexer counts braces: what kind
 * each is (IN_VM, IN_BACKEND), or 0 for a "{" that the grammar threw
 * away after an error, whose "}" must not close a real block.
 */
#define BRACE_MAX	32

/*
 * Every string the lexer hands out, packed into chunks (a malloc each
 * would cost more than the rest of the token); freed in one go after
 * the parse.
 */
#define LEXSTR_CHUNK	4000
struct lexstr {
	SLIST_ENTRY(lexstr)	 entry;
	size_t			 used, size;
	char			 s[];
};
SLIST_HEAD(lexstrlist, lexstr);

typedef struct {
	union {
		long long	 number;
		char		*string;
		struct {
			int	 ifidx;
			int	 prefixlen;
			struct in_addr prefix;
		}		 local;
	} v;
	int			 lineno;
} YYSTYPE;
#define YYSTYPE_IS_DECLARED 1

/* The parser's state: all of it reset by parse_config(). */
static struct filelist	 files;
static struct file	*file;
static struct macrotree	 macros;
static struct lexstrlist lexstrs;
static struct config	*conf;
static struct vmconf	*curvm;
static struct policy	*curpol;
static struct backend	*curbackend;
static struct backend	 dupbackend;	/* a second backend, parsed and dropped */
static struct idlecheck	*curcheck;
static const char	*globalpause;	/* the file of the global idle pause */
static int		 errors;
static int		 lastline;	/* line of the last token read */
static int		 ungetbuf[16];
static size_t		 ungetpos;
static struct file	*errfile;	/* a line with an error reported: */
static int		 errline;	/* say nothing more about it */
static int		 lexerror;	/* the lexer reported this token */
static int		 blocklexerr;	/* ... or one since a block opened */
static int		 showmax;	/* print this many errors (0: all) */
static int		 lexquoted;	/* the STRING was quoted or a macro */
static const char	*lexkeyword;	/* the keyword token's name, or NULL */
/* The bytes file_take() may take in a word, a comment, a quoted string. */
static char		 inword[256], incomment[256], inquote2[256];
static char		 inquote1[256];
/* The keywords of each first letter: keywords[kwfrom[c]] to kwto[c]. */
static unsigned char	 kwfrom[256], kwto[256];
static struct syntax_token stmt[STMT_MAX];
static size_t		 nstmt;
static int		 stmtdone;	/* the last token ended a statement */
static unsigned char	 braces[BRACE_MAX];
static size_t		 nbraces;
static size_t		 bracesover;	/* deeper than braces[] holds */
static size_t		 bogus;		/* thrown-away "{" still open */
static int		 lastclosed;	/* the block the "}" just read closes */
static struct vmconf	*headless;	/* a vm block whose "{" never came */

int		 yyparse(void);
static int	 yylex(void);
static int	 lex(void);
static void	 yyerror(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
static void	 lexerr(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
static void	 lineerror(const char *, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static void	 blockerror(int, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static int	 lookup(const char *);
static int	 lgetc(int);
static void	 lungetc(int);
static int	 file_getc(struct file *);
static void	 file_ungetc(struct file *, int);
static void	 file_take(const char *, char *, size_t, size_t *, int *);
static void	 file_classes(void);
static int	 findeol(void);
static int	 unexpected(int);
static int	 allowed_in_word(int);
static void	 stmt_add(int);
static int	 stmt_where(void);
static void	 stmt_brace(char *, size_t);
static int	 peek_equals(void);
static void	 brace_open(void);
static void	 brace_push(int);
static int	 brace_close(void);
static void	 syntax_error(void);
static void	 report(const char *, int, const char *, const char *, ...)
		    __attribute__((__format__ (printf, 4, 5)));
static int	 macro_cmp(struct macro *, struct macro *);
static char	*lexstr(const char *);
static int	 file_secrecy(int, const char *, struct stat *);
static struct file *file_push(const char *, const char *, int);
static int	 file_pop(void);
static int	 macro_set(const char *, const char *);
static const char *macro_get(const char *);
static void	*xcalloc(size_t, size_t);
static char	*xstrdup(const char *);
static void	 policy_init(struct policy *);
static int	 policy_once(int, const char *);
static int	 parse_duration(const char *, long long *);
static int	 parse_number(const char *, long long, long long,
		    long long *, const char *);
static int	 parse_prefix(const char *, struct in_addr *, int *);
static int	 address_valid(const char *);
static void	 vm_new(const char *, int);
static void	 vm_end(void);
static void	 config_check(void);
static void	 config_resolve(struct vmconf *);
static void	 backend_begin(enum backend_type);
static void	 backend_set(enum backend_cmd, const char *);
static void	 backend_end(void);
static void	 backend_clear(struct backend *);
static void	 backend_copy(struct backend *, const struct backend *);
static void	 check_copy(struct idlecheck *, const struct idlecheck *);
static void	 config_idle(struct vmconf *);

#define DURATION_EXPECT	"expected a number followed by s, m, h or d"
%}

%token	ADDRESS ALIAS AUTOSTART BACKEND BOOT CHECK COMMAND DOMAIN FORCE IDLE
%token	INCLUDE INTERFACE LOCAL NEVER PAUSE PORT PREFIX RESTART SOCKET SSH
%token	START STATUS STOP TAP TIMEOUT UNPAUSE VM VMCTL VMD WAIT
%token	ERROR
%token	<v.string>	STRING
%token	<v.number>	NUMBER
%type	<v.number>	duration number restart checkopts
%type	<v.string>	string
%type	<v.local>	localopts

%%

grammar	: /* empty */
	| grammar '\n'
	| grammar include '\n'
	| grammar varset '\n'
	| grammar main '\n'
	| grammar vm '\n'
	| grammar error '\n'		{
		/* A block whose "{" never came is abandoned. */
		yyerrok;
		if (curvm != NULL)
			headless = curvm;
		curvm = NULL;
		curbackend = NULL;
	}
	;

include	: INCLUDE STRING		{
		if (file_push($2, file->name, 1) == NULL)
			YYERROR;
		/* The statement's newline, as read from the new file. */
		lungetc('\n');
	}
	;

/* A macro may stand wherever a string may. */
string	: STRING
	| NUMBER			{
		char	 buf[32];

		snprintf(buf, sizeof(buf), "%lld", $1);
		$$ = lexstr(buf);
	}
	;

varset	: STRING '=' string		{
		if (macro_set($1, $3) == -1)
			YYERROR;
	}
	;

number	: NUMBER
	| STRING			{
		if (parse_number($1, LLONG_MIN, LLONG_MAX, &$$,
		    "number") == -1)
			YYERROR;
	}
	;

duration : STRING			{
		if (parse_duration($1, &$$) == -1)
			YYERROR;
	}
	| NUMBER			{
		yyerror("duration %lld has no unit, " DURATION_EXPECT, $1);
		YYERROR;
	}
	| NEVER				{ $$ = DURATION_NEVER; }
	;

main	: VMCTL string			{
		if (conf->vmctl != NULL) {
			yyerror("vmctl specified twice");
			YYERROR;
		}
		if (*$2 == '\0') {
			yyerror("vmctl: empty command");
			YYERROR;
		}
		conf->vmctl = xstrdup($2);
	}
	| VMCTL TIMEOUT duration	{
		if (conf->vmctl_timeout != POLICY_UNSET) {
			yyerror("vmctl timeout specified twice");
			YYERROR;
		}
		if ($3 == DURATION_NEVER) {
			yyerror("vmctl timeout: \"never\" is only allowed "
			    "for idle timeout and idle pause");
			YYERROR;
		}
		if ($3 == 0) {
			yyerror("vmctl timeout must be longer than 0s");
			YYERROR;
		}
		conf->vmctl_timeout = $3;
	}
	| SSH string			{
		if (conf->ssh != NULL) {
			yyerror("ssh specified twice");
			YYERROR;
		}
		if (*$2 == '\0') {
			yyerror("ssh: empty command");
			YYERROR;
		}
		conf->ssh = xstrdup($2);
	}
	| SOCKET string			{
		struct sockaddr_un	 sun;

		if (conf->socket != NULL) {
			yyerror("socket specified twice");
			YYERROR;
		}
		if (*$2 != '/' && strncmp($2, "~/", 2) != 0) {
			yyerror("socket \"%s\": must be an absolute path or "
			    "start with ~/", $2);
			YYERROR;
		}
		if (strlen($2) >= sizeof(sun.sun_path)) {
			yyerror("socket \"%s\": path too long", $2);
			YYERROR;
		}
		conf->socket = xstrdup($2);
	}
	| DOMAIN string			{
		struct domain	*d;

		if (!config_host_valid($2) || *$2 == '_' ||
		    $2[strlen($2) - 1] == '.') {
			yyerror("invalid domain \"%s\"", $2);
			YYERROR;
		}
		TAILQ_FOREACH(d, &conf->domains, entry) {
			if (strcasecmp(d->name, $2) == 0) {
				yyerror("domain \"%s\" specified twice", $2);
				YYERROR;
			}
		}
		d = xcalloc(1, sizeof(*d));
		d->name = xstrdup($2);
		d->file = xstrdup(file->name);
		d->line = lastline;
		TAILQ_INSERT_TAIL(&conf->domains, d, entry);
	}
	| {
		curpol = &conf->global;
		curcheck = &conf->check;
	} policy
	| backend
	;

policy	: IDLE TIMEOUT duration		{
		if (policy_once(curpol->idle_line, "idle timeout") == -1)
			YYERROR;
		curpol->idle_timeout = $3;
		curpol->idle_line = lastline;
	}
	| IDLE PAUSE duration		{
		if (policy_once(curpol->pause_line, "idle pause") == -1)
			YYERROR;
		if ($3 == 0) {
			yyerror("idle pause must be longer than 0s");
			YYERROR;
		}
		curpol->idle_pause = $3;
		curpol->pause_line = lastline;
		if (curpol == &conf->global)
			globalpause = lexstr(file->name);
	}
	| IDLE CHECK string checkopts	{
		if (curcheck->line != 0) {
			yyerror("idle check specified twice");
			YYERROR;
		}
		if (*$3 == '\0') {
			yyerror("idle check: empty command");
			YYERROR;
		}
		curcheck->command = xstrdup($3);
		curcheck->timeout = $4;
		curcheck->line = lastline;
	}
	| BOOT WAIT duration		{
		if (policy_once(curpol->boot_line, "boot wait") == -1)
			YYERROR;
		if ($3 == DURATION_NEVER) {
			yyerror("boot wait: \"never\" is only allowed for "
			    "idle timeout and idle pause");
			YYERROR;
		}
		if ($3 == 0) {
			yyerror("boot wait must be longer than 0s");
			YYERROR;
		}
		curpol->boot_wait = $3;
		curpol->boot_line = lastline;
	}
	| STOP WAIT duration		{
		if (policy_once(curpol->stop_line, "stop wait") == -1)
			YYERROR;
		if ($3 == DURATION_NEVER) {
			yyerror("stop wait: \"never\" is only allowed for "
			    "idle timeout and idle pause");
			YYERROR;
		}
		curpol->stop_wait = $3;
		curpol->stop_line = lastline;
	}
	| PORT number			{
		if (policy_once(curpol->port_line, "port") == -1)
			YYERROR;
		if ($2 < 1 || $2 > 65535) {
			yyerror("port %lld out of range, expected 1-65535",
			    $2);
			YYERROR;
		}
		curpol->port = $2;
		curpol->port_line = lastline;
	}
	| ADDRESS TAP localopts		{
		if (policy_once(curpol->addr_line, "address") == -1)
			YYERROR;
		if ($3.prefixlen != -1) {
			yyerror("address tap takes no prefix");
			YYERROR;
		}
		curpol->addr = ADDR_TAP;
		curpol->addr_line = lastline;
		curpol->addr_if = $3.ifidx == -1 ? 0 : $3.ifidx;
	}
	| ADDRESS LOCAL localopts	{
		if (policy_once(curpol->addr_line, "address") == -1)
			YYERROR;
		curpol->addr = ADDR_LOCAL;
		curpol->addr_line = lastline;
		curpol->addr_if = $3.ifidx == -1 ? 0 : $3.ifidx;
		if ($3.prefixlen == -1) {
			if (parse_prefix(DEFAULT_LOCAL_PREFIX,
			    &curpol->addr_prefix,
			    &curpol->addr_prefixlen) == -1)
				fatalx("bad default prefix");
		} else {
			curpol->addr_prefix = $3.prefix;
			curpol->addr_prefixlen = $3.prefixlen;
		}
	}
	| ADDRESS COMMAND string	{
		if (policy_once(curpol->addr_line, "address") == -1)
			YYERROR;
		if (*$3 == '\0') {
			yyerror("address command: empty command");
			YYERROR;
		}
		curpol->addr = ADDR_COMMAND;
		curpol->addr_line = lastline;
		curpol->addr_host = xstrdup($3);
	}
	| ADDRESS string		{
		if (policy_once(curpol->addr_line, "address") == -1)
			YYERROR;
		if (!address_valid($2)) {
			yyerror("invalid address \"%s\", expected tap, "
			    "local, an IP address or a host name",
			    $2);
			YYERROR;
		}
		curpol->addr = ADDR_FIXED;
		curpol->addr_line = lastline;
		curpol->addr_host = xstrdup($2);
	}
	;

/*
 * backend vmd, or backend command { start, stop, force stop, status }.
 * A block's errors are its own: the rest of the block still parses.
 */
backend	: BACKEND VMD			{
		backend_begin(BACKEND_VMD);
		if (curbackend == &dupbackend)
			backend_clear(&dupbackend);
		curbackend = NULL;
	}
	| BACKEND COMMAND		{ backend_begin(BACKEND_COMMAND); }
	    optnl '{' cmdbody cmdlast '}' { backend_end(); }
	| BACKEND STRING		{
		yyerror("unknown backend \"%s\", expected vmd or command",
		    $2);
		YYERROR;
	}
	;

cmdbody	: /* empty */
	| cmdbody '\n'
	| cmdbody cmdopt '\n'
	| cmdbody error '\n'		{ yyerrok; }
	;

cmdlast	: /* empty */
	| cmdopt
	| error				{ yyerrok; }
	;

cmdopt	: START string			{ backend_set(BACKEND_START, $2); }
	| STOP string			{ backend_set(BACKEND_STOP, $2); }
	| FORCE STOP string		{ backend_set(BACKEND_KILL, $3); }
	| STATUS string			{ backend_set(BACKEND_STATUS, $2); }
	| PAUSE string			{ backend_set(BACKEND_PAUSE, $2); }
	| UNPAUSE string		{ backend_set(BACKEND_UNPAUSE, $2); }
	;

/* The time a busy check may take: 30s unless given. */
checkopts : /* empty */			{ $$ = DEFAULT_CHECK_TIMEOUT; }
	| TIMEOUT duration		{
		if ($2 == DURATION_NEVER) {
			yyerror("idle check timeout: \"never\" is only "
			    "allowed for idle timeout and idle pause");
			YYERROR;
		}
		if ($2 == 0) {
			yyerror("idle check timeout must be longer than 0s");
			YYERROR;
		}
		$$ = $2;
	}
	;

localopts : /* empty */			{
		$$.ifidx = -1;
		$$.prefixlen = -1;
	}
	| localopts INTERFACE number	{
		$$ = $1;
		if ($1.ifidx != -1) {
			yyerror("interface specified twice");
			YYERROR;
		}
		if ($3 < 0 || $3 > 255) {
			yyerror("interface %lld out of range, expected 0-255",
			    $3);
			YYERROR;
		}
		$$.ifidx = $3;
	}
	| localopts PREFIX string	{
		$$ = $1;
		if ($1.prefixlen != -1) {
			yyerror("prefix specified twice");
			YYERROR;
		}
		if (parse_prefix($3, &$$.prefix, &$$.prefixlen) == -1)
			YYERROR;
	}
	;

vm	: VM string			{ vm_new($2, lastline); }
	    optnl '{' vmbody vmlast '}'	{ vm_end(); }
	;

vmbody	: /* empty */
	| vmbody '\n'
	| vmbody vmopt '\n'
	| vmbody error '\n'		{
		yyerrok;
		curbackend = NULL;
	}
	;

/*
 * The last statement may share the line of the closing brace; an error
 * there must not swallow the brace.
 */
vmlast	: /* empty */
	| vmopt
	| error				{ yyerrok; }
	;

vmopt	: ALIAS string			{
		struct alias	*a;

		if (!config_host_valid($2)) {
			yyerror("invalid alias \"%s\", expected a host name",
			    $2);
			YYERROR;
		}
		TAILQ_FOREACH(a, &curvm->aliases, entry) {
			if (strcasecmp(a->name, $2) == 0) {
				yyerror("alias \"%s\" specified twice", $2);
				YYERROR;
			}
		}
		if (strcasecmp(curvm->name, $2) == 0) {
			yyerror("alias \"%s\" is the vm's own name", $2);
			YYERROR;
		}
		a = xcalloc(1, sizeof(*a));
		a->name = xstrdup($2);
		a->line = lastline;
		TAILQ_INSERT_TAIL(&curvm->aliases, a, entry);
	}
	| AUTOSTART string restart	{
		struct autostart	*as;

		if (*$2 == '\0') {
			yyerror("autostart: empty command");
			YYERROR;
		}
		as = xcalloc(1, sizeof(*as));
		as->command = xstrdup($2);
		as->restart = $3 != -1;
		as->restart_max = $3 == -1 ? 0 : $3;
		as->line = lastline;
		TAILQ_INSERT_TAIL(&curvm->autostarts, as, entry);
	}
	| {
		curpol = &curvm->own;
		curcheck = &curvm->own_check;
	} policy
	| backend
	;

restart	: /* empty */			{ $$ = -1; }
	| RESTART			{ $$ = DEFAULT_RESTART_MAX; }
	| RESTART number		{
		if ($2 < 1 || $2 > 1000) {
			yyerror("restart %lld out of range, expected 1-1000",
			    $2);
			YYERROR;
		}
		$$ = $2;
	}
	;

optnl	: /* empty */
	| optnl '\n'
	;

%%

struct keyword {
	const char	*name;
	int		 token;
};

/* Sorted: the keywords of each first letter come together. */
static const struct keyword keywords[] = {
	{ "address",	ADDRESS },
	{ "alias",	ALIAS },
	{ "autostart",	AUTOSTART },
	{ "backend",	BACKEND },
	{ "boot",	BOOT },
	{ "check",	CHECK },
	{ "command",	COMMAND },
	{ "domain",	DOMAIN },
	{ "force",	FORCE },
	{ "idle",	IDLE },
	{ "include",	INCLUDE },
	{ "interface",	INTERFACE },
	{ "local",	LOCAL },
	{ "never",	NEVER },
	{ "pause",	PAUSE },
	{ "port",	PORT },
	{ "prefix",	PREFIX },
	{ "restart",	RESTART },
	{ "socket",	SOCKET },
	{ "ssh",	SSH },
	{ "start",	START },
	{ "status",	STATUS },
	{ "stop",	STOP },
	{ "tap",	TAP },
	{ "timeout",	TIMEOUT },
	{ "unpause",	UNPAUSE },
	{ "vm",		VM },
	{ "vmctl",	VMCTL },
	{ "vmd",	VMD },
	{ "wait",	WAIT }
};

/*
 * What each statement looks like, where it may stand and, for a block,
 * what it opens: syntax.c says from it, after a syntax error, what could
 * have come instead.  The grammar decides what parses, so keep the two
 * in step when adding a statement.  In a form, a lower-case word is a
 * keyword, an upper-case one an argument (DOMAIN_NAME reads "a domain
 * name"), "[ a | b ]" an optional choice and "]*" a group that may
 * repeat.  syntax.c checks at the first syntax error it explains that
 * every keyword here is in the table above.
 */
#define IN_TOP		SYNTAX_TOP
#define IN_VM		SYNTAX_VM
#define IN_BACKEND	SYNTAX_BACKEND
#define IN_POLICY	(IN_TOP | IN_VM)

static const struct syntax_form forms[] = {
	{ IN_TOP,	"include FILE_NAME", 0, NULL },
	{ IN_TOP,	"MACRO_NAME = VALUE", 0, "a macro definition" },
	{ IN_TOP,	"vmctl COMMAND", 0, NULL },
	{ IN_TOP,	"vmctl timeout DURATION", 0, NULL },
	{ IN_TOP,	"ssh COMMAND", 0, NULL },
	{ IN_TOP,	"socket PATH", 0, NULL },
	{ IN_TOP,	"domain DOMAIN_NAME", 0, NULL },
	{ IN_TOP,	"vm VM_NAME {", IN_VM, NULL },
	{ IN_POLICY,	"idle timeout DURATION", 0, NULL },
	{ IN_POLICY,	"idle timeout never", 0, NULL },
	{ IN_POLICY,	"idle pause DURATION", 0, NULL },
	{ IN_POLICY,	"idle pause never", 0, NULL },
	{ IN_POLICY,	"idle check COMMAND [ timeout DURATION ]", 0, NULL },
	{ IN_POLICY,	"boot wait DURATION", 0, NULL },
	{ IN_POLICY,	"stop wait DURATION", 0, NULL },
	{ IN_POLICY,	"port NUMBER", 0, NULL },
	{ IN_POLICY,	"address tap [ interface NUMBER ]*", 0, NULL },
	{ IN_POLICY,	"address local [ interface NUMBER | prefix NETWORK ]*",
			    0, NULL },
	{ IN_POLICY,	"address command COMMAND", 0, NULL },
	{ IN_POLICY,	"address ADDRESS", 0, NULL },
	{ IN_POLICY,	"backend vmd", 0, NULL },
	{ IN_POLICY,	"backend command {", IN_BACKEND, NULL },
	{ IN_VM,	"alias HOST_NAME", 0, NULL },
	{ IN_VM,	"autostart COMMAND [ restart [ NUMBER ] ]", 0, NULL },
	{ IN_BACKEND,	"start COMMAND", 0, NULL },
	{ IN_BACKEND,	"stop COMMAND", 0, NULL },
	{ IN_BACKEND,	"force stop COMMAND", 0, NULL },
	{ IN_BACKEND,	"status COMMAND", 0, NULL },
	{ IN_BACKEND,	"pause COMMAND", 0, NULL },
	{ IN_BACKEND,	"unpause COMMAND", 0, NULL }
};

static int
is_keyword(const char *s)
{
	return (lookup(s) != STRING);
}

/*
 * After a word in a block, the grammar stops before seeing "=": look
 * ahead for it, to tell a macro definition from a mistyped keyword.
 */
static int
peek_equals(void)
{
	int	 c;

	while ((c = lgetc(0)) == ' ' || c == '\t')
		;
	lungetc(c);
	if (c != EOF)
		lungetc(' ');
	return (c == '=');
}

/*
 * The innermost block open, as far as the grammar took its "{"; a "}"
 * the grammar has not taken yet still counts as open.
 */
static int
stmt_where(void)
{
	size_t	 i;

	if (yychar == '}' && lastclosed != 0)
		return (lastclosed);
	for (i = nbraces; i > 0; i--)
		if (braces[i - 1] != 0)
			return (braces[i - 1]);
	return (IN_TOP);
}

/* Record a token of the statement being read. */
static void
stmt_add(int token)
{
	struct syntax_token	*t;
	long long		 n;
	size_t			 len;
	char			 digits[24], *p;

	if (stmtdone) {
		nstmt = 0;
		stmtdone = 0;
	}
	/* Between "vm NAME" and its "{" newlines may come. */
	if (token == '\n' && nstmt > 0 &&
	    syntax_pending(stmt, nstmt, stmt_where()))
		return;
	/* A statement this long is wrong anyway: keep its last token. */
	t = &stmt[nstmt < STMT_MAX ? nstmt++ : STMT_MAX - 1];
	t->quoted = 0;
	/*
	 * This runs for every token of every file a client reads before
	 * it connects: no printf, no search for the keyword's name.
	 */
	len = 0;
	if (token == STRING) {
		t->kind = SYNTAX_WORD;
		len = strlcpy(t->text, yylval.v.string, sizeof(t->text));
		t->quoted = lexquoted;
	} else if (token == NUMBER) {
		t->kind = SYNTAX_NUMBER;
		p = digits + sizeof(digits);
		*--p = '\0';
		n = yylval.v.number;	/* never negative */
		do {
			*--p = '0' + n % 10;
		} while ((n /= 10) != 0);
		len = strlcpy(t->text, p, sizeof(t->text));
	} else if (lexkeyword != NULL) {
		t->kind = SYNTAX_KEYWORD;
		len = strlcpy(t->text, lexkeyword, sizeof(t->text));
	} else if (token == '\n' || token == 0) {
		t->kind = token == 0 ? SYNTAX_EOF : SYNTAX_END;
		*t->text = '\0';
	} else {
		t->kind = SYNTAX_CHAR;
		t->text[0] = token;
		t->text[1] = '\0';
	}
	if (len >= sizeof(t->text) - 1)
		memcpy(t->text + sizeof(t->text) - 4, "...", 4);
	if (token == '\n' || token == 0 || token == '{')
		stmtdone = 1;
}

/*
 * A "{" read: the block it opens, from the statement before it, or 0
 * when the grammar is throwing tokens away after an error.
 */
static void
brace_open(void)
{
	int	 kind;

	if ((kind = syntax_opens(stmt, nstmt, stmt_where())) == 0)
		kind = stmt_where();
	if (yyerrflag != 0 || bogus > 0)
		kind = 0;
	brace_push(kind);
}

static void
brace_push(int kind)
{
	if (nbraces == BRACE_MAX) {
		bracesover++;
		bogus++;
		return;
	}
	braces[nbraces++] = kind;
	if (kind == 0)
		bogus++;
	else
		blocklexerr = 0;
}

/* A "}" outside blocks: say which block lost its "{", if one did. */
static void
stmt_brace(char *msg, size_t len)
{
	if (headless != NULL)
		snprintf(msg, len, "\"}\" closes no block: vm \"%s\" (line %d) "
		    "has no \"{\"", headless->name, headless->line);
	else
		snprintf(msg, len, "\"}\" closes no block");
	headless = NULL;
}

/* A "}" read: 1 if it closes a block the grammar knows of. */
static int
brace_close(void)
{
	if (bracesover > 0) {
		bracesover--;
		bogus--;
		return (0);
	}
	if (nbraces == 0)
		return (1);
	if (braces[--nbraces] == 0) {
		bogus--;
		return (0);
	}
	lastclosed = braces[nbraces];
	return (1);
}

static void
syntax_error(void)
{
	char	 msg[1024];
	int	 where, silent;

	silent = lexerror || bogus > 0;
	/* A "{" the grammar throws away: its "}" must not close a block. */
	if (yychar == '{' && nbraces > 0 && braces[nbraces - 1] != 0 &&
	    bracesover == 0) {
		braces[nbraces - 1] = 0;
		bogus++;
	}
	if (silent) {
		errors++;
		return;
	}
	where = stmt_where();
	if (yychar == 0 && where != IN_TOP) {
		/* After an error that ate the "}", say nothing more. */
		if (blocklexerr)
			errors++;
		else if (where == IN_BACKEND && curbackend != NULL)
			blockerror(curbackend->line, "backend command block "
			    "not closed: \"}\" missing at end of file");
		else if (curvm != NULL)
			report(curvm->file, curvm->line, curvm->name,
			    "block not closed: \"}\" missing at end of file");
		else
			report(file->name, lastline, NULL,
			    "\"}\" missing at end of file");
		return;
	}
	if (nstmt == 1 && stmt[0].kind == SYNTAX_WORD && peek_equals()) {
		stmt[1].kind = SYNTAX_CHAR;
		strlcpy(stmt[nstmt++].text, "=", sizeof(stmt[0].text));
	}
	if (yychar == '}' && where == IN_TOP)
		stmt_brace(msg, sizeof(msg));
	else
		syntax_explain(stmt, nstmt, where, msg, sizeof(msg));
	report(file->name, lastline, curvm != NULL ? curvm->name : NULL, "%s",
	    msg);
	errfile = file;
	errline = lastline;
}

/*
 * Print an error as file:line: message, escaped for the terminal, the
 * first showmax of them.
 */
static void
verror(const char *fname, int line, const char *vm, const char *fmt,
    va_list ap)
{
	char	 buf[2048], msg[2048], esc[ESCAPE_LEN(2048)];

	errors++;
	if (showmax < 0 || (showmax > 0 && errors > showmax))
		return;
	if (line > 0)
		snprintf(buf, sizeof(buf), "%s:%d: ", fname, line);
	else
		snprintf(buf, sizeof(buf), "%s: ", fname);
	if (vm != NULL) {
		strlcat(buf, "vm \"", sizeof(buf));
		strlcat(buf, vm, sizeof(buf));
		strlcat(buf, "\": ", sizeof(buf));
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	strlcat(buf, msg, sizeof(buf));
	fprintf(stderr, "%s\n", escape_str(buf, esc, sizeof(esc)));
}

static void
report(const char *fname, int line, const char *vm, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	verror(fname, line, vm, fmt, ap);
	va_end(ap);
}

/*
 * An error in a rule or the lexer, or the parser's syntax error.  Only
 * the first error of a line is reported: the others follow from it.
 */
static void
yyerror(const char *fmt, ...)
{
	va_list	 ap;

	if ((errfile == file && errline == lastline) || bogus > 0) {
		errors++;
		return;
	}
	if (strcmp(fmt, "syntax error") == 0) {
		syntax_error();
		return;
	}
	va_start(ap, fmt);
	verror(file->name, lastline, curvm != NULL ? curvm->name : NULL,
	    fmt, ap);
	va_end(ap);
	errfile = file;
	errline = lastline;
}

/*
 * A lexical error that still gives the parser a token to go on with:
 * report it, and nothing else on the same line.
 */
static void
lexerr(const char *fmt, ...)
{
	va_list	 ap;

	blocklexerr = 1;
	if ((errfile == file && errline == lastline) || bogus > 0) {
		errors++;
		return;
	}
	va_start(ap, fmt);
	verror(file->name, lastline, NULL, fmt, ap);
	va_end(ap);
	errfile = file;
	errline = lastline;
}

static void
lineerror(const char *fname, int line, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	verror(fname, line, NULL, fmt, ap);
	va_end(ap);
}

/* An error about a line other than the current one, in the same file. */
static void
blockerror(int line, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	verror(file->name, line, curvm != NULL ? curvm->name : NULL, fmt, ap);
	va_end(ap);
}

/* Every word is looked up: only among the keywords of its first letter. */
static const struct keyword *
keyword_find(const char *s)
{
	size_t	 i, c = (unsigned char)*s;

	for (i = kwfrom[c]; i < kwto[c]; i++)
		if (strcmp(s, keywords[i].name) == 0)
			return (&keywords[i]);
	return (NULL);
}

static int
lookup(const char *s)
{
	const struct keyword	*kw;

	return ((kw = keyword_find(s)) == NULL ? STRING : kw->token);
}

/* The next byte of a file, with "\r\n" read as "\n". */
static int
file_getc(struct file *f)
{
	int	 c;

	if (f->nahead > 0)
		return (f->ahead[--f->nahead]);
	if (f->pos == f->len)
		return (EOF);
	if ((c = (unsigned char)f->text[f->pos++]) != '\r')
		return (c);
	if (f->pos < f->len && f->text[f->pos] == '\n') {
		f->pos++;
		return ('\n');
	}
	return (c);
}

/* The whole of a regular file, and a NUL after it; NULL on errors. */
static char *
file_read(int fd, off_t size, size_t *lenp)
{
	char	*text, *bigger;
	size_t	 len = 0, room;
	ssize_t	 n;

	/* It may grow while read: the size is only a first guess. */
	room = size > 0 && size < SSIZE_MAX ? (size_t)size + 1 : 4096;
	if ((text = malloc(room)) == NULL)
		return (NULL);
	for (;;) {
		if (len + 1 == room) {
			if ((bigger = reallocarray(text, room, 2)) == NULL) {
				free(text);
				return (NULL);
			}
			text = bigger;
			room *= 2;
		}
		if ((n = read(fd, text + len, room - 1 - len)) == -1) {
			if (errno == EINTR)
				continue;
			free(text);
			return (NULL);
		}
		if (n == 0)
			break;
		len += n;
	}
	text[len] = '\0';
	*lenp = len;
	return (text);
}

static void
file_ungetc(struct file *f, int c)
{
	if (c == EOF)
		return;
	if (f->nahead == nitems(f->ahead))
		fatalx("%s: too far ahead", __func__);
	f->ahead[f->nahead++] = c;
}

/*
 * Next character of the current file, after the unget buffer.  A
 * backslash before a newline joins the lines; NUL bytes are reported
 * once per line and read as blanks so the rest of the line still parses.
 */
static int
lgetc(int quoted)
{
	int	 c, next;

	if (ungetpos > 0)
		return (ungetbuf[--ungetpos]);
	if (file->eof)
		return (EOF);

	for (;;) {
		c = file_getc(file);
		if (c == '\0') {
			lastline = file->lineno;
			lexerr("NUL byte in file");
			return (' ');
		}
		if (c != '\\')
			return (c);
		next = file_getc(file);
		if (next != '\n') {
			file_ungetc(file, next);
			return (c);
		}
		file->lineno++;
		if (quoted)
			continue;
		/* The joined lines are one statement: the break is a blank. */
		return (' ');
	}
}

/*
 * Take the bytes of class ok from here on straight from the file, as
 * long as nothing is pushed back: lgetc() would return them one call
 * each, and a client reads its whole config at every start.  Each goes
 * into buf (*len of size so far; *toolong when it is full) unless buf
 * is NULL.  The lexer's loops go on with lgetc() from where this stops.
 */
static void
file_take(const char *ok, char *buf, size_t size, size_t *len, int *toolong)
{
	struct file		*f = file;
	const unsigned char	*p, *start, *end;
	size_t			 n;

	if (ungetpos > 0 || f->nahead > 0 || f->eof)
		return;
	start = (const unsigned char *)f->text + f->pos;
	end = (const unsigned char *)f->text + f->len;
	for (p = start; p < end && ok[*p]; p++)
		;
	n = p - start;
	f->pos += n;
	if (buf == NULL)
		return;
	if (n > size - 1 - *len) {
		n = size - 1 - *len;
		*toolong = 1;
	}
	memcpy(buf + *len, start, n);
	*len += n;
}

/*
 * What file_take() takes: what lgetc() returns as it is, in each place;
 * where keyword_find() looks.
 */
static void
file_classes(void)
{
	size_t	 i;
	int	 c;

	for (i = nitems(keywords); i > 0; i--) {
		c = (unsigned char)keywords[i - 1].name[0];
		if (kwto[c] == 0)
			kwto[c] = i;
		kwfrom[c] = i - 1;
	}
	for (c = 0; c < 256; c++) {
		inword[c] = allowed_in_word(c);
		incomment[c] = c != '\0' && c != '\\' && c != '\r' && c != '\n';
		inquote2[c] = incomment[c] && c != '"';
		inquote1[c] = incomment[c] && c != '\'';
	}
}

static void
lungetc(int c)
{
	if (c == EOF)
		return;
	if (ungetpos >= nitems(ungetbuf))
		fatalx("%s: unget buffer full", __func__);
	ungetbuf[ungetpos++] = c;
}

/*
 * Skip the rest of a line after a lexical error; the newline stays, and
 * so does a "}" outside quotes, which likely closes a block.  A "{"
 * skipped opens a block the grammar never sees.
 */
static int
findeol(void)
{
	int	 c, quote = 0;

	while ((c = lgetc(0)) != EOF) {
		if (c == '\n' || (c == '}' && quote == 0)) {
			lungetc(c);
			break;
		}
		if (c == '{' && quote == 0)
			brace_push(0);
		if (quote == 0 && (c == '"' || c == '\''))
			quote = c;
		else if (c == quote)
			quote = 0;
	}
	return (ERROR);
}

/*
 * A character no token starts with: say which, by its name when it is
 * a carriage return or a UTF-8 character (typographic quotes come with
 * text pasted from elsewhere).
 */
static int
unexpected(int c)
{
	unsigned char	 seq[5];
	unsigned int	 cp;
	size_t		 len, i;
	int		 next;

	if (c == '\r') {
		yyerror("unexpected carriage return (0x0d) not followed by a "
		    "newline");
		return (findeol());
	}
	if (c < 0x80) {
		if (isprint(c))
			yyerror("unexpected character \"%c\"", c);
		else
			yyerror("unexpected character 0x%02x", c);
		return (findeol());
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		len = 0;
	seq[0] = c;
	cp = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
	for (i = 1; i < len; i++) {
		if (((next = lgetc(0)) & 0xc0) != 0x80 || next == EOF) {
			lungetc(next);
			len = 0;
			break;
		}
		seq[i] = next;
		cp = (cp << 6) | (next & 0x3f);
	}
	if (len == 0) {
		yyerror("unexpected byte 0x%02x, not UTF-8", c);
		return (findeol());
	}
	seq[len] = '\0';
	if (cp == 0x2018 || cp == 0x2019 || cp == 0x201c || cp == 0x201d ||
	    cp == 0xab || cp == 0xbb)
		yyerror("unexpected character \"%s\" (U+%04X), quote with "
		    "\" or '", seq, cp);
	else if (cp == 0xa0)
		yyerror("unexpected no-break space (U+00A0)");
	else
		yyerror("unexpected character \"%s\" (U+%04X)", seq, cp);
	return (findeol());
}

static int
allowed_in_word(int c)
{
	if (isalnum(c))
		return (1);
	if (!ispunct(c))
		return (0);
	return (strchr("\"'{}()<>!=#,;$\\", c) == NULL);
}

static char *
lexstr(const char *s)
{
	struct lexstr	*ls = SLIST_FIRST(&lexstrs);
	size_t		 len = strlen(s) + 1, size;
	char		*p;

	if (ls == NULL || ls->size - ls->used < len) {
		size = len > LEXSTR_CHUNK ? len : LEXSTR_CHUNK;
		if ((ls = malloc(sizeof(*ls) + size)) == NULL)
			fatal("%s", __func__);
		ls->used = 0;
		ls->size = size;
		SLIST_INSERT_HEAD(&lexstrs, ls, entry);
	}
	p = ls->s + ls->used;
	memcpy(p, s, len);
	ls->used += len;
	return (p);
}

static int
yylex(void)
{
	int	 token;

	/*
	 * A block whose "{" the grammar threw away is not seen, up to its
	 * "}": its statements would only add errors, or land in the
	 * block around it.  Its newlines keep the grammar in step.
	 */
	for (;;) {
		lexerror = 0;
		lexquoted = 0;
		lexkeyword = NULL;
		lastclosed = 0;
		token = lex();
		if (token == '}' && !brace_close())
			continue;
		if (bogus == 0 || token == '\n' || token == 0)
			break;
		if (token == '{')
			brace_open();
	}
	if (token == ERROR) {
		lexerror = 1;
		blocklexerr = 1;
	}
	if (file != NULL)
		file->lasttok = token;
	stmt_add(token);
	if (token == '{')
		brace_open();
	return (token);
}

static int
lex(void)
{
	const struct keyword	*kw;
	char			 buf[STRING_MAX];
	const char		*errstr, *val;
	size_t			 len;
	int			 c, quotec, token, toolong;

 top:
	while ((c = lgetc(0)) == ' ' || c == '\t')
		;
	if (c != EOF)
		yylval.lineno = lastline = file->lineno;

	if (c == '#')
		do {
			file_take(incomment, NULL, 0, NULL, NULL);
		} while ((c = lgetc(0)) != '\n' && c != EOF);

	if (c == EOF) {
		/* Every file ends its last line, even without a newline. */
		if (!file->eof) {
			file->eof = 1;
			if (file->lasttok != '\n' && file->lasttok != 0) {
				file->lasttok = '\n';
				return ('\n');
			}
		}
		if (file_pop() == EOF)
			return (0);
		goto top;
	}

	if (c == '$') {
		len = 0;
		while ((c = lgetc(0)) != EOF &&
		    (isalnum(c) || c == '_')) {
			if (len >= sizeof(buf) - 1) {
				yyerror("macro name too long");
				return (findeol());
			}
			buf[len++] = c;
		}
		buf[len] = '\0';
		lungetc(c);
		if (len == 0) {
			yyerror("macro name expected after \"$\"");
			return (findeol());
		}
		/* The value is one string, never read again: no recursion. */
		if ((val = macro_get(buf)) == NULL) {
			lexerr("undefined macro \"%s\"", buf);
			val = "";
		}
		yylval.v.string = lexstr(val);
		lexquoted = 1;
		return (STRING);
	}

	if (c == '"' || c == '\'') {
		quotec = c;
		len = 0;
		toolong = 0;
		for (;;) {
			file_take(quotec == '"' ? inquote2 : inquote1, buf,
			    sizeof(buf), &len, &toolong);
			if ((c = lgetc(1)) == EOF || c == '\n') {
				yyerror("unterminated string");
				lungetc(c);
				return (ERROR);
			}
			if (c == quotec)
				break;
			if (c == '\\') {
				c = lgetc(1);
				if (c != quotec && c != '\\') {
					lungetc(c);
					c = '\\';
				}
			}
			if (len >= sizeof(buf) - 1) {
				toolong = 1;
				continue;
			}
			buf[len++] = c;
		}
		buf[len] = '\0';
		if (toolong)
			lexerr("string too long, at most %d characters",
			    STRING_MAX - 1);
		yylval.v.string = lexstr(buf);
		lexquoted = 1;
		return (STRING);
	}

	if (allowed_in_word(c)) {
		len = 0;
		toolong = 0;
		do {
			if (len >= sizeof(buf) - 1)
				toolong = 1;
			else
				buf[len++] = c;
			file_take(inword, buf, sizeof(buf), &len, &toolong);
		} while ((c = lgetc(0)) != EOF && allowed_in_word(c));
		lungetc(c);
		buf[len] = '\0';
		if (toolong)
			lexerr("string too long, at most %d characters",
			    STRING_MAX - 1);
		if (isdigit((unsigned char)buf[0]) &&
		    strspn(buf, "0123456789") == len) {
			yylval.v.number = strtonum(buf, 0, LLONG_MAX, &errstr);
			if (errstr != NULL)
				lexerr("number \"%s\" is %s", buf, errstr);
			return (NUMBER);
		}
		/* A keyword can name a macro: "wait = 5m" defines one. */
		token = STRING;
		if ((kw = keyword_find(buf)) != NULL) {
			while ((c = lgetc(0)) == ' ' || c == '\t')
				;
			lungetc(c);
			if (c != '=') {
				lungetc(' ');
				token = kw->token;
				lexkeyword = kw->name;
			}
		}
		if (token == STRING)
			yylval.v.string = lexstr(buf);
		return (token);
	}

	if (c == '\n') {
		file->lineno++;
		return ('\n');
	}
	/* A semicolon ends a statement like a newline does. */
	if (c == ';')
		return ('\n');
	if (c == '=' || c == '{' || c == '}')
		return (c);
	return (unexpected(c));
}

/*
 * The file may name commands to run: refuse it unless only its owner,
 * the user or root, can change it.
 */
static int
file_secrecy(int fd, const char *fname, struct stat *sb)
{
	struct stat	 st;

	if (fstat(fd, &st) == -1) {
		lineerror(fname, 0, "%s", strerror(errno));
		return (-1);
	}
	if (S_ISDIR(st.st_mode)) {
		lineerror(fname, 0, "a directory, not a regular file");
		return (-1);
	}
	if (S_ISFIFO(st.st_mode)) {
		lineerror(fname, 0, "a FIFO, not a regular file");
		return (-1);
	}
	if (!S_ISREG(st.st_mode)) {
		lineerror(fname, 0, "not a regular file");
		return (-1);
	}
	if (st.st_uid != 0 && st.st_uid != getuid()) {
		lineerror(fname, 0, "owned by uid %u, not by you or root",
		    (unsigned int)st.st_uid);
		return (-1);
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) == (S_IWGRP | S_IWOTH)) {
		lineerror(fname, 0, "writable by group and others");
		return (-1);
	}
	if (st.st_mode & S_IWGRP) {
		lineerror(fname, 0, "writable by group");
		return (-1);
	}
	if (st.st_mode & S_IWOTH) {
		lineerror(fname, 0, "writable by others");
		return (-1);
	}
	*sb = st;
	return (0);
}

/*
 * Open a file and make it current.  An included name is relative to
 * the directory of the file that includes it.
 */
static struct file *
file_push(const char *name, const char *from, int included)
{
	struct file	*nf, *f;
	struct conffile	*cf;
	struct stat	 st;
	const char	*slash;
	char		*path, *text;
	size_t		 len;
	int		 fd, flags;

	if (*name == '\0') {
		if (included)
			yyerror("include \"\": empty file name");
		else
			fprintf(stderr, "empty configuration file name\n");
		errors++;
		return (NULL);
	}
	if (included && *name != '/' && (slash = strrchr(from, '/')) != NULL) {
		if (asprintf(&path, "%.*s/%s", (int)(slash - from), from,
		    name) == -1)
			fatal("%s", __func__);
	} else
		path = xstrdup(name);

	/* Non-blocking: opening a FIFO must not wait for a writer. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (included)
			yyerror("include \"%s\": %s", name, strerror(errno));
		else
			lineerror(path, 0, "%s", strerror(errno));
		free(path);
		return (NULL);
	}
	if (file_secrecy(fd, path, &st) == -1) {
		if (included)
			yyerror("include \"%s\": refused", name);
		close(fd);
		free(path);
		return (NULL);
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1)
		fatal("%s: %s", __func__, path);
	TAILQ_FOREACH(f, &files, entry) {
		if (f->dev == st.st_dev && f->ino == st.st_ino) {
			yyerror("include \"%s\": include loop", name);
			close(fd);
			free(path);
			return (NULL);
		}
	}
	if ((text = file_read(fd, st.st_size, &len)) == NULL) {
		if (included)
			yyerror("include \"%s\": %s", name, strerror(errno));
		else
			lineerror(path, 0, "%s", strerror(errno));
		close(fd);
		free(path);
		return (NULL);
	}
	close(fd);

	TAILQ_FOREACH(cf, &conf->files, entry)
		if (strcmp(cf->path, path) == 0)
			break;
	if (cf == NULL) {
		cf = xcalloc(1, sizeof(*cf));
		cf->path = xstrdup(path);
		TAILQ_INSERT_TAIL(&conf->files, cf, entry);
	}

	nf = xcalloc(1, sizeof(*nf));
	nf->text = text;
	nf->len = len;
	/* A UTF-8 byte order mark, as some editors write, is no text. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		nf->pos = 3;
	nf->name = path;
	nf->dev = st.st_dev;
	nf->ino = st.st_ino;
	/* An included file starts with the newline lungetc() gives it. */
	nf->lineno = included ? 0 : 1;
	TAILQ_INSERT_TAIL(&files, nf, entry);
	file = nf;
	return (nf);
}

static int
file_pop(void)
{
	struct file	*prev;

	if ((prev = TAILQ_PREV(file, filelist, entry)) == NULL)
		return (EOF);
	TAILQ_REMOVE(&files, file, entry);
	if (errfile == file)
		errfile = NULL;
	free(file->text);
	free(file->name);
	free(file);
	file = prev;
	return (0);
}

static int
macro_cmp(struct macro *a, struct macro *b)
{
	return (strcmp(a->name, b->name));
}

RB_GENERATE_STATIC(macrotree, macro, entry, macro_cmp)

static int
macro_set(const char *name, const char *value)
{
	struct macro	*m, key;
	const char	*p;

	if (!isalpha((unsigned char)*name) && *name != '_') {
		yyerror("invalid macro name \"%s\"", name);
		return (-1);
	}
	for (p = name; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_') {
			yyerror("invalid macro name \"%s\"", name);
			return (-1);
		}
	}
	key.name = (char *)name;
	if ((m = RB_FIND(macrotree, &macros, &key)) != NULL) {
		free(m->value);
		m->value = xstrdup(value);
		return (0);
	}
	m = xcalloc(1, sizeof(*m));
	m->name = xstrdup(name);
	m->value = xstrdup(value);
	RB_INSERT(macrotree, &macros, m);
	return (0);
}

static const char *
macro_get(const char *name)
{
	struct macro	*m, key;

	key.name = (char *)name;
	if ((m = RB_FIND(macrotree, &macros, &key)) == NULL)
		return (NULL);
	return (m->value);
}

static void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n, size)) == NULL)
		fatal("%s", __func__);
	return (p);
}

static char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("%s", __func__);
	return (p);
}

static void
policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	p->idle_timeout = POLICY_UNSET;
	p->idle_pause = POLICY_UNSET;
	p->boot_wait = POLICY_UNSET;
	p->stop_wait = POLICY_UNSET;
}

static int
policy_once(int line, const char *what)
{
	if (line != 0) {
		yyerror("%s specified twice", what);
		return (-1);
	}
	return (0);
}

static int
parse_duration(const char *s, long long *secs)
{
	const char	*why;

	if (config_duration(s, secs, &why) == 0)
		return (0);
	if (strcmp(why, "too long") == 0)
		yyerror("duration \"%s\" is too long", s);
	else
		yyerror("invalid duration \"%s\", " DURATION_EXPECT, s);
	return (-1);
}

/*
 * A duration, a number followed by its unit: 30s, 10m, 2h, 1d.  -1 with
 * *why "invalid" or "too long".
 */
int
config_duration(const char *s, long long *secs, const char **why)
{
	const char	*errstr;
	char		 num[32];
	size_t		 len;
	long long	 n, unit;

	*why = "invalid";
	len = strspn(s, "0123456789");
	if (len == 0 || len >= sizeof(num) || strlen(s) != len + 1)
		return (-1);
	switch (s[len]) {
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 60 * 60;
		break;
	case 'd':
		unit = 24 * 60 * 60;
		break;
	default:
		return (-1);
	}
	memcpy(num, s, len);
	num[len] = '\0';
	n = strtonum(num, 0, INT_MAX / unit, &errstr);
	if (errstr != NULL) {
		*why = "too long";
		return (-1);
	}
	*secs = n * unit;
	*why = NULL;
	return (0);
}

static int
parse_number(const char *s, long long min, long long max, long long *n,
    const char *what)
{
	const char	*errstr;

	*n = strtonum(s, min, max, &errstr);
	if (errstr != NULL) {
		yyerror("invalid %s \"%s\", expected a number", what, s);
		return (-1);
	}
	return (0);
}

/* An IPv4 network as vm.conf's local prefix: A.B.C.D/N. */
static int
parse_prefix(const char *s, struct in_addr *net, int *len)
{
	char	 err[128];

	if (address_parse_prefix(s, net, len, err, sizeof(err)) == -1) {
		yyerror("%s", err);
		return (-1);
	}
	return (0);
}

/*
 * An IP address or a host name.  Something made of digits and dots is
 * meant as an IPv4 address and must be one.
 */
static int
address_valid(const char *s)
{
	struct in6_addr	 in6;
	struct in_addr	 in;

	if (strchr(s, ':') != NULL)
		return (inet_pton(AF_INET6, s, &in6) == 1);
	if (strspn(s, "0123456789.") == strlen(s))
		return (inet_pton(AF_INET, s, &in) == 1);
	return (config_host_valid(s) && s[strlen(s) - 1] != '.');
}

static void
vm_new(const char *name, int line)
{
	const char	*why;

	if ((why = config_vm_name_problem(name)) != NULL)
		yyerror("invalid vm name \"%s\": %s", name, why);
	curvm = xcalloc(1, sizeof(*curvm));
	curvm->name = xstrdup(name);
	TAILQ_INIT(&curvm->aliases);
	TAILQ_INIT(&curvm->autostarts);
	policy_init(&curvm->own);
	policy_init(&curvm->pol);
	curvm->file = xstrdup(file->name);
	curvm->line = line;
	TAILQ_INSERT_TAIL(&conf->vms, curvm, entry);
}

static void
vm_end(void)
{
	curvm = NULL;
	curpol = NULL;
}

/* The backend of the vm block being parsed, else the global one. */
static void
backend_begin(enum backend_type type)
{
	curbackend = curvm != NULL ? &curvm->own_backend : &conf->backend;
	if (curbackend->type != BACKEND_UNSET) {
		yyerror("backend specified twice");
		/* Still parse the block, for its own errors. */
		backend_clear(&dupbackend);
		curbackend = &dupbackend;
	}
	curbackend->type = type;
	curbackend->line = lastline;
}

static void
backend_set(enum backend_cmd which, const char *command)
{
	if (curbackend->cmd_line[which] != 0) {
		yyerror("backend command: %s specified twice",
		    config_backend_word(which));
		return;
	}
	curbackend->cmd_line[which] = lastline;
	if (*command == '\0') {
		yyerror("backend command: empty %s command",
		    config_backend_word(which));
		return;
	}
	curbackend->cmd[which] = xstrdup(command);
}

/*
 * Start, stop, force stop and status are required: there is no safe
 * guess for any of them.  Pause and unpause are only for idle pause.
 */
static void
backend_end(void)
{
	int	 i;

	for (i = 0; i <= BACKEND_STATUS; i++) {
		if (curbackend->cmd_line[i] == 0)
			blockerror(curbackend->line, "backend command: no %s "
			    "command", config_backend_word(i));
	}
	if (curbackend == &dupbackend)
		backend_clear(&dupbackend);
	curbackend = NULL;
}

static void
backend_clear(struct backend *b)
{
	int	 i;

	for (i = 0; i < BACKEND_NCMDS; i++)
		free(b->cmd[i]);
	memset(b, 0, sizeof(*b));
}

static void
backend_copy(struct backend *to, const struct backend *from)
{
	int	 i;

	backend_clear(to);
	*to = *from;
	for (i = 0; i < BACKEND_NCMDS; i++)
		if (from->cmd[i] != NULL)
			to->cmd[i] = xstrdup(from->cmd[i]);
}

static void
check_copy(struct idlecheck *to, const struct idlecheck *from)
{
	free(to->command);
	*to = *from;
	if (from->command != NULL)
		to->command = xstrdup(from->command);
}

/*
 * Checks that need the whole file: names and host names used twice.
 * Equal names are grouped through a hash table, which keeps them linear,
 * so that a file with thousands of vm blocks still parses at once (and
 * a client, which checks the file at every start, stays quick with a
 * hundred); the messages come out in file order.
 */
struct hostref {
	const char	*name;		/* lower case host name */
	size_t		 vm;		/* index of its VM in the file */
	size_t		 k;		/* index among that VM's host names */
	int		 line;
};

struct clash {
	size_t		 vm, prev;	/* report at vm, against prev */
	size_t		 k;
	const char	*name;
	int		 line;
};

/*
 * Add a host name of VM vm, base or base.dom (dom NULL: base alone),
 * lower case, its text at *room.  Its k follows the VM's last one.  A
 * name longer than a host name can be is never asked for: not added.
 */
static void
hostref_add(struct hostref *refs, size_t *nrefs, char **room, size_t vm,
    size_t *k, int line, const char *base, size_t blen, const char *dom,
    size_t dlen)
{
	struct hostref	*r;
	char		*p = *room;
	size_t		 i;

	if (dom != NULL && blen + 1 + dlen > HOST_NAME_MAX_LEN)
		return;
	for (i = 0; i < blen; i++)
		p[i] = tolower((unsigned char)base[i]);
	if (dom != NULL) {
		p[i++] = '.';
		memcpy(p + i, dom, dlen);
		for (; i < blen + 1 + dlen; i++)
			p[i] = tolower((unsigned char)p[i]);
	}
	p[i] = '\0';
	r = &refs[(*nrefs)++];
	r->name = p;
	r->vm = vm;
	r->k = (*k)++;
	r->line = line;
	*room = p + i + 1;
}

/*
 * Every host name of every VM: its name, its aliases, each also with
 * every domain, in that order, as refs into one buffer (*names, for
 * the caller to free).  One allocation for all: the client checks the
 * whole file at every start, so this stays small and quick.
 */
static struct hostref *
config_hostrefs(struct vmconf **vms, size_t nvm, size_t *nrefs, char **names)
{
	struct hostref	*refs;
	struct alias	*a;
	struct domain	*d;
	size_t		 ndom = 0, domroom = 0, nbase, baseroom, room = 0;
	size_t		 n = 0, i, k, len;
	char		*p;

	TAILQ_FOREACH(d, &conf->domains, entry) {
		ndom++;
		domroom += strlen(d->name) + 1;
	}
	for (i = 0; i < nvm; i++) {
		nbase = 1;
		baseroom = strlen(vms[i]->name) + 1;
		TAILQ_FOREACH(a, &vms[i]->aliases, entry) {
			nbase++;
			baseroom += strlen(a->name) + 1;
		}
		n += nbase * (1 + ndom);
		room += baseroom * (1 + ndom) + nbase * domroom;
	}
	refs = xcalloc(n, sizeof(*refs));
	*names = p = xcalloc(room, 1);

	n = 0;
	for (i = 0; i < nvm; i++) {
		k = 0;
		/* Cut as the longest host name, as a lookup would be. */
		len = strnlen(vms[i]->name, HOST_NAME_MAX_LEN);
		hostref_add(refs, &n, &p, i, &k, vms[i]->line, vms[i]->name,
		    len, NULL, 0);
		TAILQ_FOREACH(a, &vms[i]->aliases, entry)
			hostref_add(refs, &n, &p, i, &k, a->line, a->name,
			    strnlen(a->name, HOST_NAME_MAX_LEN), NULL, 0);
		TAILQ_FOREACH(d, &conf->domains, entry) {
			hostref_add(refs, &n, &p, i, &k, vms[i]->line,
			    vms[i]->name, len, d->name, strlen(d->name));
			TAILQ_FOREACH(a, &vms[i]->aliases, entry)
				hostref_add(refs, &n, &p, i, &k, a->line,
				    a->name, strnlen(a->name,
				    HOST_NAME_MAX_LEN), d->name,
				    strlen(d->name));
		}
	}
	*nrefs = n;
	return (refs);
}

/*
 * The order in which to visit the n names so that equal ones come
 * together: each group in index order, the groups in the order of their
 * first member.  The caller frees it.
 */
static size_t *
name_groups(const char **name, size_t n)
{
	const unsigned char	*p;
	size_t			*order, *slot, *next, *last, nslot, h, i, j;
	size_t			 o = 0;
	char			*done;

	for (nslot = 16; nslot < 2 * n; nslot *= 2)
		;
	slot = xcalloc(nslot, sizeof(*slot));	/* a group's first + 1 */
	next = xcalloc(n, sizeof(*next));	/* the group's next + 1 */
	last = xcalloc(n, sizeof(*last));	/* for a first: the group's last */
	for (i = 0; i < n; i++) {
		h = 2166136261U;		/* FNV-1a */
		for (p = (const unsigned char *)name[i]; *p != '\0'; p++)
			h = (h ^ *p) * 16777619U;
		for (h &= nslot - 1; slot[h] != 0; h = (h + 1) & (nslot - 1))
			if (strcmp(name[slot[h] - 1], name[i]) == 0)
				break;
		if (slot[h] == 0) {
			slot[h] = i + 1;
			last[i] = i;
		} else {
			j = slot[h] - 1;
			next[last[j]] = i + 1;
			last[j] = i;
		}
	}
	/* A group's first comes before the rest of it. */
	order = xcalloc(n, sizeof(*order));
	done = xcalloc(n, 1);
	for (i = 0; i < n; i++)
		for (j = i + 1; j != 0 && !done[j - 1]; j = next[j - 1]) {
			done[j - 1] = 1;
			order[o++] = j - 1;
		}
	free(done);
	free(last);
	free(next);
	free(slot);
	return (order);
}

static int
clash_cmp(const void *a, const void *b)
{
	const struct clash	*x = a, *y = b;

	if (x->vm != y->vm)
		return (x->vm < y->vm ? -1 : 1);
	if (x->prev != y->prev)
		return (x->prev < y->prev ? -1 : 1);
	return (x->k < y->k ? -1 : x->k > y->k);
}

static void
config_check(void)
{
	struct vmconf	 *vm, *prev, **vms;
	struct hostref	 *all, *refs;
	struct clash	 *clashes = NULL;
	const char	**name;
	size_t		 *order, nvm = 0, nrefs, nclash = 0, i, j, k;
	size_t		  first, maxclash = 0;
	char		 *names;

	TAILQ_FOREACH(vm, &conf->vms, entry)
		vm->seq = nvm++;
	if (nvm == 0)
		return;
	vms = xcalloc(nvm, sizeof(*vms));
	name = xcalloc(nvm, sizeof(*name));
	i = 0;
	TAILQ_FOREACH(vm, &conf->vms, entry) {
		vm->dupof = NULL;
		vms[i] = vm;
		name[i++] = vm->name;
	}

	/* The same name twice: the later blocks are reported. */
	order = name_groups(name, nvm);
	for (i = 1; i < nvm; i++) {
		prev = vms[order[i - 1]];
		vm = vms[order[i]];
		if (strcmp(vm->name, prev->name) == 0)
			vm->dupof = prev->dupof != NULL ? prev->dupof : prev;
	}
	free(order);
	free(name);
	for (i = 0; i < nvm; i++)
		if ((vm = vms[i])->dupof != NULL)
			lineerror(vm->file, vm->line, "vm \"%s\" "
			    "defined twice, first at %s:%d", vm->name,
			    vm->dupof->file, vm->dupof->line);

	/* Every host name of every VM, equal ones made neighbours. */
	all = config_hostrefs(vms, nvm, &nrefs, &names);
	name = xcalloc(nrefs, sizeof(*name));
	for (i = 0; i < nrefs; i++)
		name[i] = all[i].name;
	order = name_groups(name, nrefs);
	refs = xcalloc(nrefs, sizeof(*refs));
	for (i = 0; i < nrefs; i++)
		refs[i] = all[order[i]];
	free(order);
	free(name);
	free(all);

	/*
	 * Within a run of one host name, each later VM clashes with each
	 * earlier one, unless the earlier one is a duplicate block or has
	 * the same name (both reported above).
	 */
	for (first = 0; first < nrefs; first = j) {
		for (j = first + 1; j < nrefs &&
		    strcmp(refs[j].name, refs[first].name) == 0; j++)
			;
		for (k = first + 1; k < j; k++) {
			for (i = first; i < k; i++) {
				if (refs[i].vm == refs[k].vm ||
				    vms[refs[i].vm]->dupof != NULL ||
				    strcmp(vms[refs[i].vm]->name,
				    vms[refs[k].vm]->name) == 0)
					continue;
				if (nclash == maxclash) {
					maxclash = maxclash ? maxclash * 2 : 16;
					if ((clashes = reallocarray(clashes,
					    maxclash, sizeof(*clashes))) == NULL)
						fatal("reallocarray");
				}
				clashes[nclash].vm = refs[k].vm;
				clashes[nclash].prev = refs[i].vm;
				clashes[nclash].k = refs[k].k;
				clashes[nclash].name = refs[k].name;
				clashes[nclash].line = refs[k].line;
				nclash++;
			}
		}
	}

	/* One report per pair of VMs, at the later one, in file order. */
	if (nclash > 0)
		qsort(clashes, nclash, sizeof(*clashes), clash_cmp);
	for (i = 0; i < nclash; i++) {
		if (i > 0 && clashes[i].vm == clashes[i - 1].vm &&
		    clashes[i].prev == clashes[i - 1].prev)
			continue;
		vm = vms[clashes[i].vm];
		lineerror(vm->file, clashes[i].line, "host \"%s\" would "
		    "reach vm \"%s\" and vm \"%s\"", clashes[i].name,
		    vms[clashes[i].prev]->name, vm->name);
	}

	free(clashes);
	free(refs);
	free(names);
	free(vms);
}

/* A VM's effective policy: its own setting, the global one, the default. */
static void
config_resolve(struct vmconf *vm)
{
	struct policy	*own = &vm->own, *glob = &conf->global;
	struct policy	*pol = &vm->pol;
	const struct policy *from;

	free(pol->addr_host);
	policy_init(pol);

#define RESOLVE(field, line, dflt) do {					\
	if (own->line != 0) {						\
		pol->field = own->field;				\
		pol->line = own->line;					\
	} else if (glob->line != 0) {					\
		pol->field = glob->field;				\
		pol->line = glob->line;					\
	} else								\
		pol->field = (dflt);					\
} while (0)
	RESOLVE(idle_timeout, idle_line, DEFAULT_IDLE_TIMEOUT);
	RESOLVE(idle_pause, pause_line, DURATION_NEVER);
	RESOLVE(boot_wait, boot_line, DEFAULT_BOOT_WAIT);
	RESOLVE(stop_wait, stop_line, DEFAULT_STOP_WAIT);
	RESOLVE(port, port_line, 0);
#undef RESOLVE

	from = own->addr != ADDR_UNSET ? own :
	    glob->addr != ADDR_UNSET ? glob : NULL;
	if (from != NULL) {
		pol->addr = from->addr;
		pol->addr_if = from->addr_if;
		pol->addr_prefix = from->addr_prefix;
		pol->addr_prefixlen = from->addr_prefixlen;
		if (from->addr_host != NULL)
			pol->addr_host = xstrdup(from->addr_host);
		pol->addr_line = from->addr_line;
	} else {
		/* vmd's default: the local interface, prefix 100.64/10. */
		pol->addr = ADDR_LOCAL;
		pol->addr_if = 0;
		if (parse_prefix(DEFAULT_LOCAL_PREFIX, &pol->addr_prefix,
		    &pol->addr_prefixlen) == -1)
			fatalx("bad default prefix");
	}

	if (vm->own_backend.type != BACKEND_UNSET)
		backend_copy(&vm->backend, &vm->own_backend);
	else if (conf->backend.type != BACKEND_UNSET)
		backend_copy(&vm->backend, &conf->backend);
	else {
		backend_clear(&vm->backend);
		vm->backend.type = BACKEND_VMD;
	}
	check_copy(&vm->check, vm->own_check.line != 0 ? &vm->own_check :
	    &conf->check);
	config_idle(vm);

	/* Only vmd knows a vm id to compute a local address from. */
	if (vm->backend.type != BACKEND_COMMAND || pol->addr != ADDR_LOCAL)
		return;
	if (own->addr == ADDR_LOCAL)
		lineerror(vm->file, own->addr_line, "vm \"%s\": address local "
		    "needs a vm id from vmd, which backend command does not "
		    "give", vm->name);
	else
		lineerror(vm->file, vm->line, "vm \"%s\": backend command "
		    "needs an address, fixed, tap or command: %s address "
		    "local needs a vm id from vmd", vm->name, from == NULL ?
		    "the default" : "the global");
}

/*
 * idle pause must come before the idle stop, and needs a backend that
 * can pause.  Each error is told once, at the statement that makes it:
 * the vm's own, else the global one (for the first vm it concerns).
 */
static void
config_idle(struct vmconf *vm)
{
	static struct config	*told;	/* the global pause, told once */
	const struct policy	*own = &vm->own, *pol = &vm->pol;
	char			 p[32], t[32];

	if (pol->idle_pause == DURATION_NEVER)
		return;
	print_duration(pol->idle_pause, p, sizeof(p));
	print_duration(pol->idle_timeout, t, sizeof(t));
	if (pol->idle_timeout != DURATION_NEVER &&
	    pol->idle_pause >= pol->idle_timeout) {
		if (own->pause_line != 0)
			lineerror(vm->file, own->pause_line, "vm \"%s\": idle "
			    "pause %s is not shorter than idle timeout %s",
			    vm->name, p, t);
		else if (own->idle_line != 0)
			lineerror(vm->file, own->idle_line, "vm \"%s\": idle "
			    "timeout %s is not longer than the global idle "
			    "pause %s", vm->name, t, p);
		else if (told != conf) {
			told = conf;
			lineerror(globalpause, conf->global.pause_line, "idle "
			    "pause %s is not shorter than idle timeout %s%s",
			    p, t, conf->global.idle_line == 0 ?
			    " (the default)" : "");
		}
	}
	if (vm->backend.type == BACKEND_COMMAND &&
	    (vm->backend.cmd[BACKEND_PAUSE] == NULL ||
	    vm->backend.cmd[BACKEND_UNPAUSE] == NULL))
		lineerror(own->pause_line != 0 ? vm->file : globalpause,
		    own->pause_line != 0 ? own->pause_line :
		    conf->global.pause_line, "vm \"%s\": idle pause needs "
		    "the pause and unpause commands of its backend command",
		    vm->name);
}

/*
 * Parse a file into a new config; NULL, after printing every error,
 * when it has any.
 */
struct config *
parse_config(const char *filename)
{
	struct config	*c;
	int		 nerrors;

	c = parse_config_errors(filename, 0, &nerrors);
	if (nerrors != 0) {
		config_free(c);
		return (NULL);
	}
	return (c);
}

/*
 * Parse a file into a new config, printing the first maxshow errors (0:
 * all, -1: none) and counting them in *nerrors.  The config is returned even with
 * errors, with what did parse and the defaults for the rest, for the
 * callers that only need a part of it (the control socket of -s).
 */
struct config *
parse_config_errors(const char *filename, int maxshow, int *nerrors)
{
	static int	 syntax_ready;
	struct config	*c;
	struct vmconf	*vm;
	struct macro	*m;
	struct lexstr	*ls;

	if (!syntax_ready) {
		file_classes();
		syntax_init(forms, nitems(forms), is_keyword);
		syntax_ready = 1;
	}
	TAILQ_INIT(&files);
	RB_INIT(&macros);
	SLIST_INIT(&lexstrs);
	file = NULL;
	curvm = NULL;
	curpol = NULL;
	curbackend = NULL;
	errors = 0;
	showmax = maxshow;
	lastline = 0;
	ungetpos = 0;
	errfile = NULL;
	errline = 0;
	lexerror = 0;
	lexquoted = 0;
	lexkeyword = NULL;
	blocklexerr = 0;
	nstmt = 0;
	stmtdone = 0;
	nbraces = 0;
	bracesover = 0;
	bogus = 0;
	lastclosed = 0;
	headless = NULL;
	globalpause = NULL;
	curcheck = NULL;

	c = xcalloc(1, sizeof(*c));
	c->file = xstrdup(filename);
	TAILQ_INIT(&c->files);
	c->vmctl_timeout = POLICY_UNSET;
	TAILQ_INIT(&c->domains);
	TAILQ_INIT(&c->vms);
	policy_init(&c->global);
	conf = c;

	if (file_push(filename, NULL, 0) != NULL) {
		yyparse();
		while (file_pop() != EOF)
			;
		free(file->text);
		free(file->name);
		free(file);
		file = NULL;
		config_check();
	}

	if (c->vmctl == NULL)
		c->vmctl = xstrdup(VMCTL_PATH);
	if (c->ssh == NULL)
		c->ssh = xstrdup(SSH_PATH);
	if (c->vmctl_timeout == POLICY_UNSET)
		c->vmctl_timeout = DEFAULT_VMCTL_TIMEOUT;
	TAILQ_FOREACH(vm, &c->vms, entry)
		config_resolve(vm);

	while ((m = RB_ROOT(&macros)) != NULL) {
		RB_REMOVE(macrotree, &macros, m);
		free(m->name);
		free(m->value);
		free(m);
	}
	while ((ls = SLIST_FIRST(&lexstrs)) != NULL) {
		SLIST_REMOVE_HEAD(&lexstrs, entry);
		free(ls);
	}
	conf = NULL;
	curvm = NULL;
	curpol = NULL;
	curbackend = NULL;
	headless = NULL;
	backend_clear(&dupbackend);
	showmax = 0;

	*nerrors = errors;
	return (c);
}

void
config_free(struct config *c)
{
	struct vmconf		*vm;
	struct alias		*a;
	struct autostart	*as;
	struct domain		*d;
	struct conffile		*cf;

	if (c == NULL)
		return;
	while ((vm = TAILQ_FIRST(&c->vms)) != NULL) {
		TAILQ_REMOVE(&c->vms, vm, entry);
		while ((a = TAILQ_FIRST(&vm->aliases)) != NULL) {
			TAILQ_REMOVE(&vm->aliases, a, entry);
			free(a->name);
			free(a);
		}
		while ((as = TAILQ_FIRST(&vm->autostarts)) != NULL) {
			TAILQ_REMOVE(&vm->autostarts, as, entry);
			free(as->command);
			free(as);
		}
		free(vm->own.addr_host);
		free(vm->pol.addr_host);
		backend_clear(&vm->own_backend);
		backend_clear(&vm->backend);
		free(vm->own_check.command);
		free(vm->check.command);
		free(vm->name);
		free(vm->file);
		free(vm);
	}
	while ((d = TAILQ_FIRST(&c->domains)) != NULL) {
		TAILQ_REMOVE(&c->domains, d, entry);
		free(d->name);
		free(d->file);
		free(d);
	}
	while ((cf = TAILQ_FIRST(&c->files)) != NULL) {
		TAILQ_REMOVE(&c->files, cf, entry);
		free(cf->path);
		free(cf);
	}
	free(c->global.addr_host);
	free(c->check.command);
	backend_clear(&c->backend);
	free(c->file);
	free(c->vmctl);
	free(c->ssh);
	free(c->socket);
	free(c);
}
