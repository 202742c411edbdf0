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
 * libFuzzer harness for the config parser.  The input becomes a mode 0600
 * file in a private directory that also holds fixed files to include
 * (inc.conf, a nested include, and lax.conf, which the secrecy check must
 * refuse), so include, macros and every statement are reachable.  A
 * config that parses is printed, parsed again and printed again: the two
 * texts must be equal, as regress/parse demands of -nv.
 */

#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	 dir[PATH_MAX], input[PATH_MAX], printed[PATH_MAX];

static const struct {
	const char	*name;
	mode_t		 mode;
	const char	*text;
} fixed[] = {
	{ "inc.conf", 0600,
	    "# included\n"
	    "incmacro = \"from-inc\"\n"
	    "domain \"inc\"\n"
	    "vm \"incvm\" {\n\talias \"iv\"\n\tport 2222\n}\n"
	    "include \"nested.conf\"\n" },
	{ "nested.conf", 0600,
	    "nestmacro = 5m\n"
	    "vm \"nested\" { address 100.64.9.3 }\n" },
	{ "lax.conf", 0666,
	    "vm \"lax\" { port 22 }\n" },
	{ "empty.conf", 0600, "" },
};

static void
cleanup(void)
{
	char	 path[PATH_MAX];
	size_t	 i;

	for (i = 0; i < nitems(fixed); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, fixed[i].name);
		unlink(path);
	}
	unlink(input);
	unlink(printed);
	rmdir(dir);
}

static void
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		err(1, "%s", path);
	/* Set the mode explicitly: the umask must not decide the test. */
	if (fchmod(fd, mode) == -1)
		err(1, "fchmod %s", path);
	if (len > 0 && write(fd, data, len) != (ssize_t)len)
		err(1, "write %s", path);
	close(fd);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*tmp;
	char		 path[PATH_MAX];
	size_t		 i;

	/* A memory file system keeps the file writes cheap. */
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/vmlaunch-fuzz-config.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	atexit(cleanup);
	for (i = 0; i < nitems(fixed); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, fixed[i].name);
		write_file(path, fixed[i].text, strlen(fixed[i].text),
		    fixed[i].mode);
	}
	snprintf(input, sizeof(input), "%s/fuzz.conf", dir);
	snprintf(printed, sizeof(printed), "%s/printed.conf", dir);

	/*
	 * Parse errors go to stdio's stderr; the sanitizers and libFuzzer
	 * write to fd 2 (or a stream they opened already), so only the
	 * expected noise is silenced.
	 */
	if (getenv("FUZZ_VERBOSE") == NULL &&
	    (stderr = fopen("/dev/null", "w")) == NULL)
		err(1, "/dev/null");
	return (0);
}

static char *
print_to_string(struct config *c, size_t *lenp)
{
	FILE	*fp;
	char	*text = NULL;

	if ((fp = open_memstream(&text, lenp)) == NULL)
		err(1, "open_memstream");
	print_config(fp, c);
	fclose(fp);
	return (text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	*c, *c2;
	struct vmconf	*vm;
	char		*text, *text2;
	size_t		 len, len2;

	write_file(input, data, size, 0600);
	if ((c = parse_config(input)) == NULL)
		return (0);

	/* The lookups the supervisor and client do on a parsed config. */
	TAILQ_FOREACH(vm, &c->vms, entry) {
		if (config_lookup_host(c, vm->name) == NULL)
			abort();
		if (config_find_vm(c, vm->name) == NULL)
			abort();
	}
	(void)config_lookup_host(c, "ubuntu.vm");
	(void)config_lookup_host(c, "");
	free(config_socket_path(c));
	free(config_dir_path(c));

	text = print_to_string(c, &len);
	write_file(printed, text, len, 0600);
	if ((c2 = parse_config(printed)) == NULL) {
		fprintf(stdout, "printed config does not parse:\n%s", text);
		abort();
	}
	text2 = print_to_string(c2, &len2);
	if (len != len2 || memcmp(text, text2, len) != 0) {
		fprintf(stdout, "printed config changes when reparsed:\n"
		    "%s---\n%s", text, text2);
		abort();
	}
	free(text);
	free(text2);
	config_free(c2);
	config_free(c);
	return (0);
}
