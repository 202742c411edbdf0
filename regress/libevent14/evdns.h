#error "<evdns.h>: vmlaunch uses only <event.h> of libevent 1.4 (regress/libevent14/event.h)"
