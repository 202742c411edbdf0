#error "<event2/event_struct.h> is libevent 2; OpenBSD has 1.4 (regress/libevent14/event.h)"
