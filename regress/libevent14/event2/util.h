#error "<event2/util.h> is libevent 2; OpenBSD has 1.4 (regress/libevent14/event.h)"
