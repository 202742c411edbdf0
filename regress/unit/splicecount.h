/*
 * What scratch.c's osdep_splice did, in memory the test maps shared
 * before it forks the relay, so the parent reads what the child did.
 * Index 0 is from a pipe (stdin up to the guest), 1 the other way.
 */
struct scratch_splice {
	size_t	 calls[2];
	size_t	 bytes[2];
	size_t	 again[2];	/* EAGAIN answers */
	size_t	 short_ask[2];	/* calls asking for less than the pipe holds */
};

extern struct scratch_splice	*scratch_splice;	/* NULL: not kept */
