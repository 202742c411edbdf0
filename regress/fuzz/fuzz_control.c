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
 * libFuzzer harness for the control protocol decoder.  The input is read
 * three ways: as a byte stream cut into frames with ctl_frame() as the
 * supervisor does, each payload given to the decoder for its type; whole,
 * by every ctl_unpack_*; and through a socketpair by ctl_recv(), as the
 * client reads.  The codec promises one encoding per message, so whatever
 * decodes must encode back to the very same bytes.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlaunch.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
same(const struct buf *b, const uint8_t *data, size_t len, const char *what)
{
	if (b->len != len || (len > 0 && memcmp(b->data, data, len) != 0)) {
		fprintf(stdout, "%s: %zu bytes decode but encode to %zu "
		    "other bytes\n", what, len, b->len);
		abort();
	}
}

/* Decode as every message type; what decodes must round-trip. */
static void
decode_all(const uint8_t *data, size_t len)
{
	struct ctl_connect	 c;
	struct ctl_progress	 p;
	struct ctl_ready	 r;
	struct ctl_error	 e;
	struct ctl_hold		 h;
	struct ctl_status_sup	 sup;
	struct ctl_status_vm	*s;
	struct buf		 b;

	buf_init(&b);
	if (ctl_unpack_connect(data, len, &c) == 0) {
		ctl_pack_connect(&b, &c);
		same(&b, data, len, "connect");
		if (!config_host_valid(c.host))
			(void)config_vm_name_valid(c.host);
	}
	buf_reset(&b);
	if (ctl_unpack_progress(data, len, &p) == 0) {
		ctl_pack_progress(&b, &p);
		same(&b, data, len, "progress");
	}
	buf_reset(&b);
	if (ctl_unpack_ready(data, len, &r) == 0) {
		ctl_pack_ready(&b, &r);
		same(&b, data, len, "ready");
	}
	buf_reset(&b);
	if (ctl_unpack_error(data, len, &e) == 0) {
		ctl_pack_error(&b, &e);
		same(&b, data, len, "error");
	}
	buf_reset(&b);
	if (ctl_unpack_hold(data, len, &h) == 0) {
		ctl_pack_hold(&b, &h);
		same(&b, data, len, "hold");
	}
	buf_reset(&b);
	if (ctl_unpack_status_sup(data, len, &sup) == 0) {
		ctl_pack_status_sup(&b, &sup);
		same(&b, data, len, "status-sup");
	}
	buf_reset(&b);
	/* Large: on the heap, so ASan sees every overrun. */
	if ((s = malloc(sizeof(*s))) == NULL)
		err(1, NULL);
	if (ctl_unpack_status_vm(data, len, s) == 0) {
		ctl_pack_status_vm(&b, s);
		same(&b, data, len, "status-vm");
	}
	free(s);
	buf_free(&b);
}

/* The payload to the one decoder its type selects, as the peers do. */
static void
decode_typed(uint32_t type, const uint8_t *data, size_t len)
{
	union {
		struct ctl_connect	 c;
		struct ctl_progress	 p;
		struct ctl_ready	 r;
		struct ctl_error	 e;
		struct ctl_hold		 h;
		struct ctl_status_sup	 sup;
	} *u;
	struct ctl_status_vm	*s;

	if ((u = malloc(sizeof(*u))) == NULL ||
	    (s = malloc(sizeof(*s))) == NULL)
		err(1, NULL);
	(void)ctl_type_name(type);
	switch (type) {
	case CTL_CONNECT:
		(void)ctl_unpack_connect(data, len, &u->c);
		break;
	case CTL_PROGRESS:
		(void)ctl_unpack_progress(data, len, &u->p);
		break;
	case CTL_READY:
		(void)ctl_unpack_ready(data, len, &u->r);
		break;
	case CTL_ERROR:
	case CTL_DONE:
		(void)ctl_unpack_error(data, len, &u->e);
		break;
	case CTL_HOLD:
		(void)ctl_unpack_hold(data, len, &u->h);
		break;
	case CTL_STATUS_SUP:
		(void)ctl_unpack_status_sup(data, len, &u->sup);
		break;
	case CTL_STATUS_VM:
		(void)ctl_unpack_status_vm(data, len, s);
		break;
	}
	free(s);
	free(u);
}

/* Cut the stream into frames; an invalid header ends it (peer dropped). */
static void
frames(const uint8_t *data, size_t size)
{
	uint8_t		*copy;
	size_t		 off = 0, paylen;
	ssize_t		 n;
	uint32_t	 type;

	while ((n = ctl_frame(data + off, size - off, &type, &paylen)) > 0) {
		if ((size_t)n != paylen + 8 || (size_t)n > size - off ||
		    type == 0 || type >= CTL_TYPE_MAX)
			abort();
		/* An exact-size copy: reading past the payload is a bug. */
		if ((copy = malloc(paylen + 1)) == NULL)
			err(1, NULL);
		memcpy(copy, data + off + 8, paylen);
		decode_typed(type, copy, paylen);
		free(copy);
		off += n;
	}
}

/* The blocking reader, fed through a socket that then hits EOF. */
static void
recv_all(const uint8_t *data, size_t size)
{
	struct buf	 b;
	uint32_t	 type;
	int		 sp[2], fd, i;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1)
		err(1, "socketpair");
	if (fcntl(sp[1], F_SETFL, O_NONBLOCK) == -1)
		err(1, "fcntl");
	/* What the socket buffer takes; the rest is as good as cut off. */
	if (size > 0 && write(sp[1], data, size) == -1 && errno != EAGAIN)
		err(1, "write");
	close(sp[1]);

	buf_init(&b);
	for (i = 0; i < 64; i++) {
		if (ctl_recv(sp[0], &type, &b, &fd, -1) != 1)
			break;
		if (fd != -1)
			abort();	/* nothing was passed */
		if (type == 0 || type >= CTL_TYPE_MAX || b.len > CTL_MSG_MAX)
			abort();
		decode_typed(type, b.data, b.len);
	}
	buf_free(&b);
	close(sp[0]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	frames(data, size);
	decode_all(data, size);
	recv_all(data, size);
	return (0);
}
