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
 * A main() for the fuzz harnesses without libFuzzer, so replay.sh can run
 * the kept crashers with any compiler that has ASan and UBSan: each
 * argument is one input, run once.
 */

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
main(int argc, char *argv[])
{
	FILE	*fp;
	uint8_t	*data;
	long	 len;
	int	 i;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if ((fp = fopen(argv[i], "rb")) == NULL)
			err(1, "%s", argv[i]);
		if (fseek(fp, 0, SEEK_END) == -1 || (len = ftell(fp)) == -1 ||
		    fseek(fp, 0, SEEK_SET) == -1)
			err(1, "%s", argv[i]);
		/* Exactly len bytes, so an overread is caught. */
		if ((data = malloc(len > 0 ? len : 1)) == NULL)
			err(1, NULL);
		if (len > 0 && fread(data, 1, len, fp) != (size_t)len)
			err(1, "%s: short read", argv[i]);
		fclose(fp);
		LLVMFuzzerTestOneInput(data, len);
		free(data);
	}
	return (0);
}
