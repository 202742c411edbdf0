# vmlaunch: GNU make and BSD make alike (no conditionals, no GNU functions).

PROG=		vmlaunch
PREFIX?=	/usr/local
BINDIR?=	$(PREFIX)/bin
MANDIR?=	$(PREFIX)/man
DESTDIR?=

CC?=		cc
YACC?=		yacc
CFLAGS?=	-O2 -g
WARNFLAGS=	-Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
		-Wpointer-arith -Wshadow -Wno-unused-parameter

# The platform differs in libraries and one osdep file; the shell picks.
OS!=		uname -s | tr 'A-Z' 'a-z'
OSCFLAGS!=	if [ "`uname -s`" = Linux ]; then \
		    pkg-config --cflags libevent libbsd-overlay; fi
OSLIBS!=	if [ "`uname -s`" = Linux ]; then \
		    pkg-config --libs libevent libbsd-overlay; \
		    else echo -levent -lutil; fi

SRCS=		vmlaunch.c parse.c printconf.c supervisor.c control.c \
		client.c proxy.c vmctl.c address.c autostart.c job.c buf.c \
		log.c escape.c syntax.c osdep-$(OS).c
OBJS=		vmlaunch.o parse.o printconf.o supervisor.o control.o \
		client.o proxy.o vmctl.o address.o autostart.o job.o buf.o \
		log.o escape.o syntax.o osdep-$(OS).o

ALLCFLAGS=	$(CFLAGS) $(WARNFLAGS) $(OSCFLAGS) -I. -D_GNU_SOURCE

all: $(PROG)

$(PROG): $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $(PROG) $(OBJS) $(OSLIBS)

.SUFFIXES: .c .o
.c.o:
	$(CC) $(ALLCFLAGS) -c $< -o $@

parse.c: parse.y
	$(YACC) -o parse.c parse.y

$(OBJS): vmlaunch.h compat/compat.h

# Sanitizers: a separate binary from the same sources, then the same
# tests run against it (every report, from any process, fails the run).
SANFLAGS=	-O1 -g -fno-omit-frame-pointer \
		-fsanitize=address,undefined -fno-sanitize-recover=all

# (It keeps the name vmlaunch: messages start with the program's name.)
sanitize/$(PROG): $(SRCS) vmlaunch.h compat/compat.h
	mkdir -p sanitize
	$(CC) $(SANFLAGS) $(WARNFLAGS) $(OSCFLAGS) -I. -D_GNU_SOURCE \
	    -o sanitize/$(PROG) $(SRCS) $(OSLIBS)

sanitize: sanitize/$(PROG)

test-sanitize: sanitize/$(PROG)
	VMLAUNCH=`pwd`/sanitize/$(PROG) SANITIZE=1 sh regress/run.sh

# Everything CI runs: the suite, the suite under the sanitizers, each
# fuzzer for FUZZTIME seconds, and vmlaunch under valgrind.
check: test test-sanitize fuzz valgrind
	@echo "make check: test, test-sanitize, fuzz and valgrind all passed"

# Fuzzing: libFuzzer harnesses built straight from the sources, then each
# run for FUZZTIME seconds (regress/fuzz/run.sh; crashers: replay.sh).
FUZZCC?=	clang
FUZZTIME?=	60
FUZZFLAGS=	-g -O1 -fno-omit-frame-pointer \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZCFLAGS=	$(FUZZFLAGS) $(WARNFLAGS) $(OSCFLAGS) -I. -D_GNU_SOURCE

fuzz: parse.c
	$(FUZZCC) $(FUZZCFLAGS) -o regress/fuzz/fuzz-config \
	    regress/fuzz/fuzz_config.c parse.c syntax.c printconf.c log.c \
	    escape.c $(OSLIBS)
	$(FUZZCC) $(FUZZCFLAGS) -o regress/fuzz/fuzz-control \
	    regress/fuzz/fuzz_control.c control.c buf.c parse.c syntax.c \
	    log.c escape.c $(OSLIBS)
	sh regress/fuzz/replay.sh
	FUZZTIME=$(FUZZTIME) sh regress/fuzz/run.sh

# Every vmlaunch process under valgrind memcheck across a subset of the
# e2e tests.
valgrind: $(PROG)
	sh regress/fuzz/valgrind.sh

test: $(PROG)
	sh regress/run.sh

demo: $(PROG)
	sh regress/demo.sh

bench: $(PROG)
	sh bench/run.sh

install: $(PROG)
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5
	install -m 755 $(PROG) $(DESTDIR)$(BINDIR)/$(PROG)
	install -m 644 vmlaunch.1 $(DESTDIR)$(MANDIR)/man1/vmlaunch.1
	install -m 644 vmlaunch.conf.5 $(DESTDIR)$(MANDIR)/man5/vmlaunch.conf.5

clean:
	rm -f $(PROG) sanitize/$(PROG) $(OBJS) parse.c y.tab.h

.PHONY: all test demo bench sanitize test-sanitize check install clean \
	fuzz valgrind
