# xmppfwc - XMPP firewall policy compiler.  Plain GNU make.
#
#   make            build build/xmppfwc (and the helper daemon)
#   make demo       install missing Debian packages, compile policies/
#   make check      install missing Debian packages, run every test,
#                   then the units and the compiler and kernel suites again
#                   under ASan+UBSan
#   make bench      print speed and memory figures
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
CC	?= cc
PKG_CONFIG ?= pkg-config
BISON	?= bison
FLEX	?= flex
B	?= build
SAN	?=

# Debian 12 packages the build, the tests and the demo need.
DEB_PKGS = build-essential pkg-config flex bison check libsubunit-dev \
	libxml2-dev libxml2-utils libidn-dev libstrophe-dev libnftnl-dev \
	libmnl-dev libnetfilter-queue-dev nftables iptables ipset iproute2 jq time \
	ejabberd socat openssl clang iputils-ping prosody prosody-modules \
	ferm

PKGS	= libxml-2.0 libidn libstrophe libnftnl libmnl

WARN	= -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	  -Wwrite-strings -Wundef -Wformat=2 -Wshadow -Wno-format-nonliteral
# -Wno-format-nonliteral: diag.c forwards printf formats through va_list;
# every caller passes a literal and -Wformat=2 checks them at the call.
CFLAGS	?= -O2 -g
XCFLAGS	= -std=c17 -D_GNU_SOURCE $(WARN) -MMD -MP \
	  -Iutil -Igrammar -Icompiler -Ibackends -I$(B) \
	  $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null) $(SAN)
LDLIBS	= $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

# Flex and bison emit code that trips some of our warnings ("yacc and lex
# generate dirty code", nftables' Makefile.am); relax only for those files.
GEN_CFLAGS = -Wno-unused-function -Wno-sign-compare -Wno-missing-prototypes \
	  -Wno-unused-parameter -Wno-shadow

UTIL_OBJ = $(patsubst %.c,$(B)/obj/%.o,$(wildcard util/*.c))
GRAMMAR_OBJ = $(B)/obj/parse.o $(B)/obj/lex.o \
	$(patsubst %.c,$(B)/obj/%.o,$(wildcard grammar/*.c))
COMPILER_OBJ = $(patsubst %.c,$(B)/obj/%.o,$(wildcard compiler/*.c))
BACKEND_OBJ = $(patsubst %.c,$(B)/obj/%.o,$(wildcard backends/*.c))
LIB	= $(B)/libxfw.a
BIN	= $(B)/xmppfwc
UNIT_SRC = $(wildcard tests/check_*.c)
UNIT	= $(patsubst tests/%.c,$(B)/tests/%,$(UNIT_SRC))
# The differential kernel tests' probe generator and prober.
KPROBE	= $(B)/kprobes $(B)/kprobe

all: $(BIN) $(KPROBE)

-include xmppfw-queued/queued.mk

$(B) $(B)/obj $(B)/tests:
	mkdir -p $@

$(B)/parse.c $(B)/parse.h: grammar/parse.y | $(B)
	$(BISON) -Wall -Werror --defines=$(B)/parse.h -o $(B)/parse.c $<

$(B)/lex.c $(B)/lex.h: grammar/lex.l $(B)/parse.h | $(B)
	$(FLEX) --header-file=$(B)/lex.h -o $(B)/lex.c $<

$(B)/obj/parse.o: $(B)/parse.c $(B)/lex.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) $(GEN_CFLAGS) -c -o $@ $<

$(B)/obj/lex.o: $(B)/lex.c $(B)/parse.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) $(GEN_CFLAGS) -c -o $@ $<

$(B)/obj/%.o: %.c $(B)/parse.h $(B)/lex.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XCFLAGS) -c -o $@ $<

$(LIB): $(UTIL_OBJ) $(GRAMMAR_OBJ) $(COMPILER_OBJ) $(BACKEND_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(B)/obj/driver/main.o $(LIB)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LDLIBS) -lm

$(B)/tests/%: tests/%.c $(LIB) tests/testutil.h | $(B)/tests
	$(CC) $(CFLAGS) $(XCFLAGS) -Itests -o $@ $< $(LIB) $(CHECK_LIBS) \
	    $(LDLIBS) -lm

$(B)/kprobes: tests/kprobes.c $(LIB) | $(B)
	$(CC) $(CFLAGS) $(XCFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lm

$(B)/kprobe: tests/kprobe.c | $(B)
	$(CC) $(CFLAGS) $(XCFLAGS) -o $@ $<

# --- set-up ---------------------------------------------------------------

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
	    grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# --- main job -------------------------------------------------------------

demo: deps
	$(MAKE) all
	./tests/demo.sh $(BIN)

# --- tests ----------------------------------------------------------------

units: $(UNIT) $(BIN)
	@fail=0; for t in $(UNIT); do \
	    XFW=$(BIN) ./$$t || fail=1; done; exit $$fail

# The sanitizer pass: ASan (with LeakSanitizer: the leak check) and UBSan.
# A sanitizer report exits 99, so it cannot pass for a policy error (1).
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
SAN_ENV	= ASAN_OPTIONS=detect_leaks=1:exitcode=99:abort_on_error=0 \
	UBSAN_OPTIONS=halt_on_error=1:exitcode=99:print_stacktrace=1

check: deps
	$(MAKE) all units
	XFW=$(B)/xmppfwc ./tests/run.sh
	$(MAKE) B=build-san SAN="$(SAN_FLAGS)" CFLAGS="-O1 -g" all
	$(SAN_ENV) $(MAKE) B=build-san SAN="$(SAN_FLAGS)" CFLAGS="-O1 -g" units
	$(SAN_ENV) XFW=build-san/xmppfwc ./tests/run.sh golden corpus policies nft ipt apply kernel
	@echo "make check: all suites passed"

bench: deps
	$(MAKE) all
	./bench/run.sh $(BIN)

install: $(BIN)
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MANDIR)/man1"
	install -m 0755 $(BIN) "$(DESTDIR)$(BINDIR)/xmppfwc"
	install -m 0644 docs/xmppfwc.1 "$(DESTDIR)$(MANDIR)/man1/xmppfwc.1"

clean:
	rm -rf build build-san

.PHONY: all deps demo units check bench install clean

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
