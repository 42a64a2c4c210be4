# mamfast: small C programs that turn a Libation library into seeding MAM torrents.
# Programs, library modules, unit tests and fuzz targets are found by name, so a new
# cmd/mf-x.c, lib/x.c, tests/unit/test_x.c or fuzz/fuzz_x.c needs no edit here.

VERSION   = 0.1.0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DATADIR  ?= $(PREFIX)/share/mamfast
DESTDIR  ?=

CC       ?= cc
PKGS      = libcurl libcrypto libcjson

OPT      ?= -O2 -g
WARN      = -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wwrite-strings -Wundef \
            -Wno-unused-parameter
CFLAGS   ?=
CPPFLAGS += -D_GNU_SOURCE -DMF_VERSION='"$(VERSION)"' -DMF_DATADIR='"$(DATADIR)"' -Ilib
ALL_CFLAGS = -std=c11 $(OPT) $(WARN) $(PKG_CFLAGS) $(CFLAGS)
LDLIBS   += $(PKG_LIBS) $(KAKASI_LIBS) -lpthread -lm

# Out-of-tree build folder: `make B=build-asan` keeps sanitizer objects apart.
B        ?= build
LIB_SRC  := $(sort $(wildcard lib/*.c))
LIB_OBJ  := $(LIB_SRC:lib/%.c=$(B)/lib/%.o)
LIBA     := $(B)/libmamfast.a
CMD_SRC  := $(sort $(wildcard cmd/mf-*.c))
PROGS    := $(CMD_SRC:cmd/%.c=$(B)/bin/%)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNITS    := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZERS  := $(FUZZ_SRC:fuzz/%.c=$(B)/fuzz/%)
SCRIPTS  := $(wildcard scripts/mamfast)
MAN1     := $(wildcard man/*.1)
MAN7     := $(wildcard man/*.7)
HDRS     := $(wildcard lib/*.h)

.PHONY: all check check-qbt unit asan fuzz bench demo install uninstall clean deps fresh-check

# Goals that need nothing installed: the rest go through the two steps below.
PLAIN_GOALS := clean uninstall deps fresh-check
GOALS     := $(or $(MAKECMDGOALS),all)
WORK      := $(filter-out $(PLAIN_GOALS),$(GOALS))
# The test set (scripts/deps --test) for the goals that test; the build set for the others.
DEPS_SET  := $(if $(filter check check-qbt asan fuzz bench,$(WORK)),--test)

ifndef DEPS_DONE
# Step 1, for every goal a user types: scripts/deps installs what is missing (the compiler,
# pkg-config and the libraries among it), then step 2, a second make with DEPS_DONE=1, does
# the work.  Only that one reads pkg-config, so a machine with nothing but make builds on
# its first try, and -j runs inside it, never beside an apt-get.  All the goals go to one
# second make, so `make -j check demo` builds each object once.  DEPS_DONE=1 skips step 1
# (for what is installed by other means).
ifneq ($(WORK),)
.PHONY: $(WORK)
$(firstword $(WORK)):
	@scripts/deps $(DEPS_SET) --check >/dev/null 2>&1 || scripts/deps $(DEPS_SET)
	@$(MAKE) --no-print-directory DEPS_DONE=1 $(WORK)
$(wordlist 2,$(words $(WORK)),$(WORK)): $(firstword $(WORK))
	@:
endif
else
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
# libkakasi (romaji for Japanese names): Debian ships no .pc file for it.
KAKASI_LIBS := $(shell pkg-config --libs kakasi 2>/dev/null || echo -lkakasi)
ifneq ($(WORK),)
ifeq ($(PKG_LIBS),)
$(error pkg-config knows none of $(PKGS): run scripts/deps (or make without DEPS_DONE))
endif
endif

all: $(PROGS) $(UNITS)

$(B)/lib/%.o: lib/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/bin/%: cmd/%.c $(LIBA) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(LIBA) $(LDFLAGS) $(LDLIBS)

$(B)/tests/%: tests/unit/%.c tests/unit/harness.h $(LIBA) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(LIBA) $(LDFLAGS) $(LDLIBS)

# The test command of the README: unit tests and bats, one summary line at the end.
check: all
	MF_BIN=$(CURDIR)/$(B)/bin MF_UNIT_BIN=$(CURDIR)/$(B)/tests tests/run $(TESTS)

# The tests that start a qBittorrent, against one release of the matrix (4.5 = the host's,
# 5.1, 5.3: scripts/qbt-versions builds and caches their Debian roots; root only).
QBT_VERSION ?= 4.5
check-qbt: all
	MF_BIN=$(CURDIR)/$(B)/bin tests/run --qbt $(QBT_VERSION) $(TESTS)

unit: all
	MF_UNIT_BIN=$(CURDIR)/$(B)/tests tests/run --unit-only

# The whole suite again under AddressSanitizer and UBSan, in its own build folder.
ASAN_B ?= build-asan
asan:
	$(MAKE) B=$(ASAN_B) CC=clang OPT='-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined' \
	    LDFLAGS='-fsanitize=address,undefined' check

# libFuzzer targets, each run FUZZ_SECONDS under ASan and UBSan.
FUZZ_SECONDS ?= 30
FUZZ_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
$(B)/fuzz/%: fuzz/%.c $(LIB_SRC) $(HDRS)
	@mkdir -p $(@D)
	clang $(CPPFLAGS) -std=c11 $(FUZZ_FLAGS) $(PKG_CFLAGS) -o $@ $< $(LIB_SRC) $(PKG_LIBS) $(KAKASI_LIBS) -lpthread -lm

fuzz: $(FUZZERS)
	@set -e; for f in $(FUZZERS); do \
	    n=$$(basename $$f); mkdir -p $(B)/corpus/$$n; \
	    seeds=; [ -d fuzz/corpus/$$n ] && seeds=fuzz/corpus/$$n; \
	    echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=$(B)/fuzz/$$n- $(B)/corpus/$$n $$seeds 2>$(B)/fuzz/$$n.log \
	        || { tail -40 $(B)/fuzz/$$n.log; exit 1; }; \
	    grep -E 'stat::number_of_executed_units' $(B)/fuzz/$$n.log; \
	done

bench: all
	MF_BIN=$(CURDIR)/$(B)/bin bench/run $(BENCH)

demo: all
	MF_BIN=$(CURDIR)/$(B)/bin scripts/demo

install: $(PROGS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(DATADIR)
	install -m 0755 $(PROGS) $(SCRIPTS) $(DESTDIR)$(BINDIR)
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1
	install -m 0644 $(MAN7) $(DESTDIR)$(MANDIR)/man7
	install -m 0644 $(wildcard data/*.json) $(DESTDIR)$(DATADIR)

endif

deps:
	scripts/deps

# The README's two commands on a pristine Debian 12 (tests/fresh-check; root, 4 to 6
# minutes).  FRESH_FLAGS: e.g. -k to keep the copy for a look inside.
fresh-check:
	tests/fresh-check $(FRESH_FLAGS)

uninstall:
	rm -f $(PROGS:$(B)/bin/%=$(DESTDIR)$(BINDIR)/%) $(SCRIPTS:scripts/%=$(DESTDIR)$(BINDIR)/%)
	rm -f $(MAN1:man/%=$(DESTDIR)$(MANDIR)/man1/%) $(MAN7:man/%=$(DESTDIR)$(MANDIR)/man7/%)
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build build-asan build-*
