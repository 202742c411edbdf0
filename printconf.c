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
 * Print a parsed config back in canonical form: every setting in a fixed
 * order, every vm with its effective policy.  The output is itself a
 * valid config that prints back to the same text (-nv and the regress
 * suite depend on that).
 */

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmlaunch.h"

static void	print_string(FILE *, const char *);
static void	print_policy(FILE *, const struct policy *, const char *, int);
static void	print_backend(FILE *, const struct backend *, const char *);
static void	print_check(FILE *, const struct idlecheck *, const char *);
static void	default_prefix(struct in_addr *, int *);

/* Seconds in the largest unit that divides them: 600 is 10m, 90 is 90s. */
const char *
print_duration(long long secs, char *buf, size_t len)
{
	static const struct {
		long long	 secs;
		char		 unit;
	} units[] = {
		{ 24 * 60 * 60, 'd' },
		{ 60 * 60, 'h' },
		{ 60, 'm' },
		{ 1, 's' }
	};
	size_t	 i;

	if (secs == DURATION_NEVER) {
		strlcpy(buf, "never", len);
		return (buf);
	}
	for (i = 0; i < nitems(units) - 1; i++)
		if (secs != 0 && secs % units[i].secs == 0)
			break;
	snprintf(buf, len, "%lld%c", secs / units[i].secs, units[i].unit);
	return (buf);
}

static void
default_prefix(struct in_addr *net, int *len)
{
	char	 err[128];

	if (address_parse_prefix(DEFAULT_LOCAL_PREFIX, net, len, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
}

/* Quoted, with the escapes the lexer undoes. */
static void
print_string(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

/* pausing: idle pause is on globally, so "never" must be said. */
static void
print_policy(FILE *fp, const struct policy *pol, const char *indent,
    int pausing)
{
	char	 buf[32], net[INET_ADDRSTRLEN];

	fprintf(fp, "%sidle timeout %s\n", indent,
	    print_duration(pol->idle_timeout, buf, sizeof(buf)));
	/* Off unless given: said where it is on, or differs. */
	if (pol->idle_pause > 0 || pausing)
		fprintf(fp, "%sidle pause %s\n", indent,
		    print_duration(pol->idle_pause, buf, sizeof(buf)));
	fprintf(fp, "%sboot wait %s\n", indent,
	    print_duration(pol->boot_wait, buf, sizeof(buf)));
	fprintf(fp, "%sstop wait %s\n", indent,
	    print_duration(pol->stop_wait, buf, sizeof(buf)));
	/* No port: the one ssh asks for; there is no way to write that. */
	if (pol->port != 0)
		fprintf(fp, "%sport %d\n", indent, pol->port);
	switch (pol->addr) {
	case ADDR_TAP:
		fprintf(fp, "%saddress tap interface %d\n", indent,
		    pol->addr_if);
		break;
	case ADDR_LOCAL:
		if (inet_ntop(AF_INET, &pol->addr_prefix, net,
		    sizeof(net)) == NULL)
			strlcpy(net, "?", sizeof(net));
		fprintf(fp, "%saddress local interface %d prefix %s/%d\n",
		    indent, pol->addr_if, net, pol->addr_prefixlen);
		break;
	case ADDR_FIXED:
		fprintf(fp, "%saddress ", indent);
		print_string(fp, pol->addr_host);
		fputc('\n', fp);
		break;
	case ADDR_COMMAND:
		fprintf(fp, "%saddress command ", indent);
		print_string(fp, pol->addr_host);
		fputc('\n', fp);
		break;
	case ADDR_UNSET:
		break;
	}
}

static void
print_check(FILE *fp, const struct idlecheck *c, const char *indent)
{
	char	 buf[32];

	if (c->command == NULL)
		return;
	fprintf(fp, "%sidle check ", indent);
	print_string(fp, c->command);
	fprintf(fp, " timeout %s\n", print_duration(c->timeout, buf,
	    sizeof(buf)));
}

static void
print_backend(FILE *fp, const struct backend *b, const char *indent)
{
	int	 i;

	if (b->type != BACKEND_COMMAND) {
		fprintf(fp, "%sbackend vmd\n", indent);
		return;
	}
	fprintf(fp, "%sbackend command {\n", indent);
	for (i = 0; i < BACKEND_NCMDS; i++) {
		/* The optional ones only when given. */
		if (i > BACKEND_STATUS && b->cmd[i] == NULL)
			continue;
		fprintf(fp, "%s\t%s ", indent, config_backend_word(i));
		print_string(fp, b->cmd[i] != NULL ? b->cmd[i] : "");
		fputc('\n', fp);
	}
	fprintf(fp, "%s}\n", indent);
}

void
print_vm(FILE *fp, struct config *conf, struct vmconf *vm)
{
	struct alias		*a;
	struct autostart	*as;

	fprintf(fp, "vm ");
	print_string(fp, vm->name);
	fprintf(fp, " {\n");
	TAILQ_FOREACH(a, &vm->aliases, entry) {
		fprintf(fp, "\talias ");
		print_string(fp, a->name);
		fputc('\n', fp);
	}
	TAILQ_FOREACH(as, &vm->autostarts, entry) {
		fprintf(fp, "\tautostart ");
		print_string(fp, as->command);
		if (as->restart)
			fprintf(fp, " restart %d", as->restart_max);
		fputc('\n', fp);
	}
	print_policy(fp, &vm->pol, "\t", conf->global.pause_line != 0 &&
	    conf->global.idle_pause != DURATION_NEVER);
	print_check(fp, &vm->check, "\t");
	/*
	 * vmd is the default and goes unsaid, unless the global backend
	 * is a command one that this vm does not use.
	 */
	if (vm->backend.type == BACKEND_COMMAND ||
	    conf->backend.type == BACKEND_COMMAND)
		print_backend(fp, &vm->backend, "\t");
	fprintf(fp, "}\n");
}

void
print_config(FILE *fp, struct config *conf)
{
	struct policy	 pol;
	struct domain	*d;
	struct vmconf	*vm;
	char		 buf[32];

	fprintf(fp, "vmctl ");
	print_string(fp, conf->vmctl);
	fprintf(fp, "\nvmctl timeout %s\n",
	    print_duration(conf->vmctl_timeout, buf, sizeof(buf)));
	fprintf(fp, "ssh ");
	print_string(fp, conf->ssh);
	fputc('\n', fp);
	/* The default as the page writes it: ~ is the user's home. */
	fprintf(fp, "socket ");
	print_string(fp, conf->socket != NULL ? conf->socket :
	    "~/" VMLAUNCH_DIR "/" VMLAUNCH_SOCKET);
	fputc('\n', fp);
	TAILQ_FOREACH(d, &conf->domains, entry) {
		fprintf(fp, "domain ");
		print_string(fp, d->name);
		fputc('\n', fp);
	}

	/* The global policy with the built-in defaults filled in. */
	pol = conf->global;
	if (pol.idle_line == 0)
		pol.idle_timeout = DEFAULT_IDLE_TIMEOUT;
	if (pol.pause_line == 0)
		pol.idle_pause = DURATION_NEVER;
	if (pol.boot_line == 0)
		pol.boot_wait = DEFAULT_BOOT_WAIT;
	if (pol.stop_line == 0)
		pol.stop_wait = DEFAULT_STOP_WAIT;
	if (pol.addr == ADDR_UNSET) {
		pol.addr = ADDR_LOCAL;
		pol.addr_if = 0;
		default_prefix(&pol.addr_prefix, &pol.addr_prefixlen);
	}
	print_policy(fp, &pol, "", 0);
	print_check(fp, &conf->check, "");
	print_backend(fp, &conf->backend, "");

	TAILQ_FOREACH(vm, &conf->vms, entry) {
		fputc('\n', fp);
		print_vm(fp, conf, vm);
	}
}
