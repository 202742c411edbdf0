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
 * Text from outside (host names on the command line, config strings,
 * names a supervisor sends) made safe for a terminal before it is
 * printed: control characters, bytes that are not UTF-8 and the Unicode
 * characters that reorder or hide text become vis(3) escapes (\033,
 * \n, \377); other UTF-8 is kept, so a message reads as written.
 */

/* libbsd: keep OpenBSD's vis.h (only vis() is used; base has it). */
#define LIBBSD_OPENBSD_VIS

#include <stdint.h>
#include <string.h>
#include <vis.h>

#include "vmlaunch.h"

#define ESCAPE_FLAGS	(VIS_CSTYLE | VIS_OCTAL | VIS_TAB | VIS_NL)

/* Length of the UTF-8 character at s that may be shown as is, else 0. */
static size_t
escape_utf8(const unsigned char *s)
{
	uint32_t	 cp;
	size_t		 len, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return (0);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond Unicode. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return (0);
	/* C1 controls; marks and overrides that reorder a line; separators. */
	if (cp <= 0x9f || cp == 0x61c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0x2028 || cp == 0x2029 || cp == 0xfeff)
		return (0);
	return (len);
}

/*
 * src escaped into dst (always terminated; cut at a character boundary
 * when dst is too small).  Returns dst.
 */
char *
escape_str(const char *src, char *dst, size_t dstlen)
{
	const unsigned char	*s = (const unsigned char *)src;
	char			 one[5];
	size_t			 n, len, off = 0;

	if (dstlen == 0)
		return (dst);
	while (*s != '\0') {
		if ((len = escape_utf8(s)) > 0) {
			memcpy(one, s, len);
			one[len] = '\0';
		} else {
			*vis(one, *s, ESCAPE_FLAGS, s[1]) = '\0';
			len = 1;
		}
		n = strlen(one);
		if (off + n >= dstlen)
			break;
		memcpy(dst + off, one, n);
		off += n;
		s += len;
	}
	dst[off] = '\0';
	return (dst);
}
