#error "<event2/rpc_compat.h> is libevent 2; OpenBSD has 1.4 (regress/libevent14/event.h)"
