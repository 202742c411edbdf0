# vmlaunch: GNU make and BSD make alike (no conditionals, no GNU functions).

PROG=		vmlaunch
PREFIX?=	/usr/local
BINDIR?=	$(PREFIX)/bin
MANDIR?=	$(PREFIX)/man
EXAMPLESDIR?=	$(PREFIX)/share/examples/vmlaunch
DESTDIR?=

CC?=		cc
YACC?=		yacc
CFLAGS?=	-O2 -g
WARNFLAGS=	-Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
		-Wpointer-arith -Wshadow -Wno-unused-parameter

# The platform differs in libraries and one osdep file; the shell picks.
# On Linux, libevent_core: the event loop is all vmlaunch uses, and the
# whole libevent, bound at load (Debian links it -z now), costs every
# ProxyCommand start ~85,000 instructions for symbols it never calls.
OS!=		uname -s | tr 'A-Z' 'a-z'
OSCFLAGS!=	if [ "`uname -s`" = Linux ]; then \
		    pkg-config --cflags libevent_core libbsd-overlay; fi
OSLIBS!=	if [ "`uname -s`" = Linux ]; then \
		    pkg-config --libs libevent_core libbsd-overlay; \
		    else echo -levent -lutil; fi
# vmlaunch itself takes them from their archives on Linux (Debian's
# libevent-dev and libbsd-dev ship them): a ProxyCommand starts for every
# ssh, and loading three shared libraries was a quarter of its start
# (bench/README.md).  The sanitizer, pledge model and fuzzing builds keep
# OSLIBS.
PROGLIBS!=	if [ "`uname -s`" = Linux ]; then \
		    echo -Wl,-Bstatic `pkg-config --libs --static \
		    libevent_core libbsd-overlay` -Wl,-Bdynamic; \
		    else echo -levent -lutil; fi

SRCS=		vmlaunch.c parse.c syntax.c config.c printconf.c escape.c \
		supervisor.c peer.c session.c vm.c start.c adopt.c pause.c \
		stop.c boot.c halt.c idle.c busy.c hold.c \
		history.c state.c probe.c control.c client.c status.c \
		proxy.c backend.c vmctl.c address.c autostart.c job.c buf.c \
		log.c sandbox.c osdep-$(OS).c
OBJS=		vmlaunch.o parse.o syntax.o config.o printconf.o escape.o \
		supervisor.o peer.o session.o vm.o start.o adopt.o pause.o \
		stop.o boot.o halt.o idle.o busy.o hold.o \
		history.o state.o probe.o control.o client.o status.o \
		proxy.o backend.o vmctl.o address.o autostart.o job.o buf.o \
		log.o sandbox.o osdep-$(OS).o

ALLCFLAGS=	$(CFLAGS) $(WARNFLAGS) $(OSCFLAGS) -I. -D_GNU_SOURCE

all: $(PROG)

$(PROG): $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $(PROG) $(OBJS) $(PROGLIBS)

.SUFFIXES: .c .o
.c.o:
	$(CC) $(ALLCFLAGS) -c $< -o $@

parse.c: parse.y
	$(YACC) -o parse.c parse.y

$(OBJS): vmlaunch.h compat/compat.h
vm.o start.o adopt.o pause.o stop.o: vm.h

# Sanitizers: a separate binary from the same sources, then the same
# tests run against it (every report, from any process, fails the run).
SANFLAGS=	-O1 -g -fno-omit-frame-pointer \
		-fsanitize=address,undefined -fno-sanitize-recover=all

# (It keeps the name vmlaunch: messages start with the program's name.)
sanitize/$(PROG): $(SRCS) vmlaunch.h vm.h compat/compat.h
	mkdir -p sanitize
	$(CC) $(SANFLAGS) $(WARNFLAGS) $(OSCFLAGS) -I. -D_GNU_SOURCE \
	    -o sanitize/$(PROG) $(SRCS) $(OSLIBS)

sanitize: sanitize/$(PROG)

test-sanitize: sanitize/$(PROG)
	VMLAUNCH=`pwd`/sanitize/$(PROG) SANITIZE=1 sh regress/run.sh

# pledge(2) and unveil(2) modelled on Linux (only): the same sources plus
# regress/pledge/model.c, whose checks the linker puts in front of every
# call that needs more than "stdio"; then the same tests run against it
# (a call outside the promises aborts; any report fails the run).
pledge/$(PROG): $(SRCS) vmlaunch.h vm.h compat/compat.h regress/pledge/model.c
	mkdir -p pledge
	$(CC) $(CFLAGS) $(WARNFLAGS) $(OSCFLAGS) -I. -D_GNU_SOURCE \
	    -o pledge/$(PROG) $(SRCS) regress/pledge/model.c \
	    `sh regress/pledge/wrapflags.sh` $(OSLIBS)

test-pledge: pledge/$(PROG)
	VMLAUNCH=`pwd`/pledge/$(PROG) PLEDGE=1 sh regress/run.sh

# OpenBSD's base libevent is 1.4: every file compiled against the
# declarations of regress/libevent14 alone (the real headers out of
# reach, <event2/...> an error); newer.c, which uses libevent 2, must not.
EV14FLAGS=	-fsyntax-only -Werror=implicit-function-declaration \
		$(WARNFLAGS) -Iregress/libevent14 -I. -D_GNU_SOURCE $(OSCFLAGS)

check-libevent14: parse.c
	$(CC) $(EV14FLAGS) $(SRCS)
	@if $(CC) $(EV14FLAGS) regress/libevent14/newer.c 2>/dev/null; then \
	    echo "check-libevent14: libevent 2 calls compile"; exit 1; fi

# The VM state machine (vm.c, state.c and the rest, as they are) run
# against a simulated vmd, clock, guests and users (regress/sim):
# SIM_SEQS random sequences of SIM_EVENTS events from SIM_SEED (empty:
# the time; fixed by default, so that make check fails only when the
# code changed), invariants checked after every event, a failure
# shrunk and kept; then every case in regress/sim/cases.  sim-asan: the
# same under ASan and UBSan.  regress/sim/README says more.
SIM_SEQS?=	3000
SIM_EVENTS?=	300
SIM_SEED?=	1

sim: parse.c
	SIM_SEQS=$(SIM_SEQS) SIM_EVENTS=$(SIM_EVENTS) SIM_SEED=$(SIM_SEED) \
	    sh regress/sim/run.sh sim

sim-asan: parse.c
	SANITIZE=1 SIM_SEQS=$(SIM_SEQS) SIM_EVENTS=$(SIM_EVENTS) \
	    SIM_SEED=$(SIM_SEED) sh regress/sim/run.sh sim

# Everything CI runs: the libevent 1.4 API, the port's packing list, the
# suite, the suite under the sanitizers and the pledge model, the
# simulation, each fuzzer for FUZZTIME seconds, vmlaunch under valgrind.
check: check-libevent14 check-plist test test-sanitize test-pledge sim \
	fuzz valgrind
	@echo "make check: check-libevent14, check-plist, test," \
	    "test-sanitize, test-pledge, sim, fuzz and valgrind all passed"

# Fuzzing: libFuzzer harnesses built straight from the sources, then each
# run for FUZZTIME seconds (regress/fuzz/run.sh; crashers: replay.sh).
# What parsing a config needs, for the harnesses that link it alone.
CONFSRCS=	parse.c syntax.c config.c printconf.c escape.c address.c vmctl.c \
		job.c log.c osdep-$(OS).c
FUZZCC?=	clang
FUZZTIME?=	60
FUZZFLAGS=	-g -O1 -fno-omit-frame-pointer \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZCFLAGS=	$(FUZZFLAGS) $(WARNFLAGS) $(OSCFLAGS) -I. -D_GNU_SOURCE

fuzz: parse.c
	$(FUZZCC) $(FUZZCFLAGS) -o regress/fuzz/fuzz-config \
	    regress/fuzz/fuzz_config.c $(CONFSRCS) $(OSLIBS)
	$(FUZZCC) $(FUZZCFLAGS) -o regress/fuzz/fuzz-control \
	    regress/fuzz/fuzz_control.c control.c buf.c $(CONFSRCS) \
	    $(OSLIBS)
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

# The examples: every examples/*.conf and ssh_config, as they come.
install: $(PROG)
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(EXAMPLESDIR)
	install -m 755 $(PROG) $(DESTDIR)$(BINDIR)/$(PROG)
	install -m 644 vmlaunch.1 $(DESTDIR)$(MANDIR)/man1/vmlaunch.1
	install -m 644 vmlaunch.conf.5 $(DESTDIR)$(MANDIR)/man5/vmlaunch.conf.5
	install -m 644 examples/*.conf examples/ssh_config \
	    $(DESTDIR)$(EXAMPLESDIR)

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/$(PROG) $(DESTDIR)$(MANDIR)/man1/vmlaunch.1 \
	    $(DESTDIR)$(MANDIR)/man5/vmlaunch.conf.5
	rm -f $(DESTDIR)$(EXAMPLESDIR)/*.conf $(DESTDIR)$(EXAMPLESDIR)/ssh_config
	rmdir $(DESTDIR)$(EXAMPLESDIR) 2>/dev/null || true

# The OpenBSD port's packing list against what make install installs.
check-plist: $(PROG)
	sh regress/ports/plist.sh

clean:
	rm -f $(PROG) sanitize/$(PROG) pledge/$(PROG) $(OBJS) parse.c y.tab.h

.PHONY: all test demo bench sanitize test-sanitize test-pledge check \
	check-libevent14 check-plist install uninstall clean fuzz valgrind \
	sim sim-asan
