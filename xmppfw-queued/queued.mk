# xmppfw-queued/queued.mk - build fragment for the NFQUEUE helper daemon,
# included by the top-level Makefile.  The daemon shares no code with
# the compiler: it is built from xmppfw-queued/*.c only, without the
# compiler's include directories.

QUEUED		= $(B)/xmppfw-queued
QUEUED_SRC	= $(wildcard xmppfw-queued/*.c)
QUEUED_OBJ	= $(patsubst xmppfw-queued/%.c,$(B)/qobj/%.o,$(QUEUED_SRC))
QUEUED_CFLAGS	= -std=c17 -D_GNU_SOURCE $(WARN) -MMD -MP $(SAN) \
		  $(shell $(PKG_CONFIG) --cflags libnetfilter_queue 2>/dev/null)
QUEUED_LIBS	= $(shell $(PKG_CONFIG) --libs libnetfilter_queue 2>/dev/null)

all: $(QUEUED)

$(B)/qobj/%.o: xmppfw-queued/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(QUEUED_CFLAGS) -c -o $@ $<

$(QUEUED): $(QUEUED_OBJ)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(QUEUED_LIBS)

# The unit tests include the daemon's parser sources directly.
$(B)/tests/check_queued_parse $(B)/tests/check_emit_nfqueue: \
	$(filter-out xmppfw-queued/main.c,$(QUEUED_SRC)) \
	$(wildcard xmppfw-queued/*.h)

# libFuzzer target over the stream header, ClientHello and config
# parsers (clang only); tests/suites/queued.sh runs it for a bounded time.
FUZZ_CC		?= clang
$(B)/fuzz/fuzz_queued: tests/fuzz/fuzz_queued.c \
	$(filter-out xmppfw-queued/main.c,$(QUEUED_SRC)) \
	$(wildcard xmppfw-queued/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) -g -O1 -std=c17 -D_GNU_SOURCE -Ixmppfw-queued \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o $@ tests/fuzz/fuzz_queued.c \
	    $(filter-out xmppfw-queued/main.c,$(QUEUED_SRC))

install-queued: $(QUEUED)
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MANDIR)/man8"
	install -m 0755 $(QUEUED) "$(DESTDIR)$(BINDIR)/xmppfw-queued"
	install -m 0644 docs/xmppfw-queued.8 \
	    "$(DESTDIR)$(MANDIR)/man8/xmppfw-queued.8"

.PHONY: install-queued

-include $(wildcard $(B)/qobj/*.d)
