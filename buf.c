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
 * A growable byte buffer for control message payloads.  Writers append
 * in network byte order; readers check every access against the bytes
 * present and, on an overrun, set b->error and return zero or an empty
 * string, so a decoder can read all its fields and test once at the end.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmlaunch.h"

#define BUF_MIN		256

static void	buf_grow(struct buf *, size_t);
static int	buf_avail(struct buf *, size_t);

void
buf_init(struct buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

/* Empty the buffer for reuse, keeping its memory. */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->off = 0;
	b->error = 0;
}

static void
buf_grow(struct buf *b, size_t need)
{
	size_t	 size;
	uint8_t	*p;

	if (need <= b->size - b->len)
		return;
	if (need > SIZE_MAX / 2 - b->len)
		fatalx("buf_grow: size overflow");
	size = b->size < BUF_MIN ? BUF_MIN : b->size;
	while (size < b->len + need)
		size *= 2;
	if ((p = realloc(b->data, size)) == NULL)
		fatal("buf_grow");
	b->data = p;
	b->size = size;
}

void
buf_put(struct buf *b, const void *data, size_t len)
{
	if (len == 0)
		return;
	buf_grow(b, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

void
buf_put_u16(struct buf *b, uint16_t v)
{
	uint8_t	 p[2];

	p[0] = v >> 8;
	p[1] = v;
	buf_put(b, p, sizeof(p));
}

void
buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t	 p[4];

	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
	buf_put(b, p, sizeof(p));
}

void
buf_put_u64(struct buf *b, uint64_t v)
{
	buf_put_u32(b, v >> 32);
	buf_put_u32(b, v & 0xffffffff);
}

/* A u16 length then the bytes, no NUL; longer strings are cut. */
void
buf_put_str(struct buf *b, const char *s)
{
	size_t	 len;

	len = strnlen(s, UINT16_MAX);
	buf_put_u16(b, len);
	buf_put(b, s, len);
}

/* True if n more bytes can be read; otherwise mark the buffer bad. */
static int
buf_avail(struct buf *b, size_t n)
{
	if (b->error || b->off > b->len || n > b->len - b->off) {
		b->error = 1;
		return (0);
	}
	return (1);
}

uint16_t
buf_get_u16(struct buf *b)
{
	const uint8_t	*p;

	if (!buf_avail(b, 2))
		return (0);
	p = b->data + b->off;
	b->off += 2;
	return ((uint16_t)p[0] << 8 | p[1]);
}

uint32_t
buf_get_u32(struct buf *b)
{
	const uint8_t	*p;

	if (!buf_avail(b, 4))
		return (0);
	p = b->data + b->off;
	b->off += 4;
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

uint64_t
buf_get_u64(struct buf *b)
{
	uint64_t	 hi, lo;

	if (!buf_avail(b, 8))
		return (0);
	hi = buf_get_u32(b);
	lo = buf_get_u32(b);
	return (hi << 32 | lo);
}

/*
 * Read a string into dst (size bytes, NUL terminated).  One that does not
 * fit, or holds a NUL byte, is an error: truncating it silently would
 * change its meaning.
 */
void
buf_get_str(struct buf *b, char *dst, size_t size)
{
	uint16_t	 len;

	if (size > 0)
		dst[0] = '\0';
	len = buf_get_u16(b);
	if (!buf_avail(b, len))
		return;
	if (size == 0 || len > size - 1 || (len > 0 &&
	    memchr(b->data + b->off, '\0', len) != NULL)) {
		b->error = 1;
		return;
	}
	if (len > 0)
		memcpy(dst, b->data + b->off, len);
	dst[len] = '\0';
	b->off += len;
}

/* Every byte was read and nothing ran past the end. */
int
buf_done(struct buf *b)
{
	return (!b->error && b->off == b->len);
}
