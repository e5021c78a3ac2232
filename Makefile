# Sluice - one non-recursive Makefile. Release objects go to build/, the
# ASan/UBSan objects used by the tests to build/asan/.
#
#   make            build build/sluiced (release)
#   make run        install what is missing, build, start a single-node cluster
#   make test       install what is missing, build, run every test
#   make bench      performance beside this machine's limits
#   make fuzz       run each fuzz target (FUZZ_SECONDS each)
#   make gen        regenerate src/proto/gen from ../shared/kafka-protocol
#   make check-gen  fail if src/proto/gen differs from a fresh generation
#   make fmt        clang-format the sources

CC       ?= cc
SHARED   ?= ../shared
PYTHON   ?= /usr/bin/python3
CSTD     := -std=c11 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Werror -Wno-missing-field-initializers
CFLAGS   ?= -O2 -g
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
CPPFLAGS := -Isrc -MMD -MP
LDLIBS   := -lssl -lcrypto -lpthread -lz -llz4 -lzstd -lsnappy -lm -lmicrohttpd -ljansson

SRC      := $(sort $(filter-out src/cmd/%,$(wildcard src/*/*.c src/*/*/*.c)))
OBJ      := $(SRC:%.c=build/%.o)
ASAN_OBJ := $(SRC:%.c=build/asan/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/asan/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

all: build/sluiced build/sluice

build/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $(CPPFLAGS) -c $< -o $@

build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(ASAN_FLAGS) $(CPPFLAGS) -c $< -o $@

build/libsluice.a: $(OBJ)
	@rm -f $@
	ar rcs $@ $^

build/asan/libsluice.a: $(ASAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/sluiced: build/src/cmd/sluiced.o build/libsluice.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The command-line tool; only it links librdkafka (src/cli, docs/cli.md).
build/sluice: build/src/cmd/sluice.o build/libsluice.a
	$(CC) $(CFLAGS) -o $@ $^ -lrdkafka $(LDLIBS)

build/asan/sluiced: build/asan/src/cmd/sluiced.o build/asan/libsluice.a
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(LDLIBS)

build/asan/tests/%: tests/unit/%.c build/asan/tests/testlib.o build/asan/libsluice.a
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(ASAN_FLAGS) $(CPPFLAGS) -Itests/unit -o $@ $< build/asan/tests/testlib.o build/asan/libsluice.a $(LDLIBS)

build/asan/tests/testlib.o: tests/unit/testlib.c tests/unit/testlib.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(ASAN_FLAGS) $(CPPFLAGS) -c $< -o $@

.PHONY: all setup run test unit check-gen gen fmt fuzz bench clean

setup:
	@scripts/setup.sh

run: setup build/sluiced
	build/sluiced

unit: $(UNIT_BIN)

test: setup build/sluiced build/asan/sluiced build/sluice $(UNIT_BIN)
	@tests/run

gen:
	$(PYTHON) tools/kgen/kgen.py $(SHARED)/kafka-protocol src/proto/gen

check-gen:
	@if [ ! -d $(SHARED)/kafka-protocol ]; then \
		echo "check-gen: skipped, $(SHARED)/kafka-protocol is absent"; exit 0; fi; \
	tmp=$$(mktemp -d) && $(PYTHON) tools/kgen/kgen.py $(SHARED)/kafka-protocol $$tmp && \
	diff -r $$tmp src/proto/gen && echo "check-gen: src/proto/gen is up to date"; \
	rc=$$?; rm -rf $$tmp; exit $$rc

fmt:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 'bench/*.c' | grep -v /gen/)

fuzz:
	@tests/fuzz/run $(FUZZ_SECONDS)

# The bench installs its own packages (scripts/setup.sh --bench) and still runs
# when build/sluiced does not build: the Sluice column then says n/a.
bench: setup
	@scripts/setup.sh --bench
	@$(MAKE) --no-print-directory build/sluiced || echo "bench: build/sluiced failed to build; Sluice will be n/a"
	@$(MAKE) --no-print-directory build/loadgen build/natsgen
	@bench/run $(BENCH_ARGS)

build/loadgen: bench/loadgen.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) -o $@ $< -lrdkafka -lpthread

build/natsgen: bench/natsgen.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) -o $@ $< -lnats

clean:
	rm -rf build

-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d)
