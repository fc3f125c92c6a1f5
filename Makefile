# Everything a new user needs: `make run` and `make test` (both run the set-up first).
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc)
BUILD ?= build
BUILD_ASAN ?= build-asan
CMAKE_FLAGS ?=
PROMPT ?= Once upon a time
export CTEST_OUTPUT_ON_FAILURE = 1

.PHONY: all setup build build-asan run test test-release test-asan bench fuzz install format clean

all: build

setup:
	@bash scripts/setup.sh

$(BUILD)/CMakeCache.txt:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

build: setup $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)

$(BUILD_ASAN)/CMakeCache.txt:
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DORTLM_SANITIZE=ON -DORTLM_BUILD_BENCH=OFF \
	  -DCMAKE_CXX_FLAGS=-O1 $(CMAKE_FLAGS) >/dev/null

build-asan: setup $(BUILD_ASAN)/CMakeCache.txt
	@cmake --build $(BUILD_ASAN) -j $(JOBS)

# Generates a story with the bundled model (models/stories260k) and prints tokens/s.
run: build
	@$(BUILD)/ortlm generate -p "$(PROMPT)" -n 256

test-release: build
	@cd $(BUILD) && ctest -j $(JOBS) --timeout 600

# The sanitizer run skips the tests marked SLOW (long benchmarks-like checks); see tests/README.md.
test-asan: build-asan
	@cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  ctest -j $(JOBS) --timeout 900 -LE slow

test: test-release test-asan

bench: build
	@bash bench/run_all.sh

# Short libFuzzer runs of every fuzz/*_fuzz.cpp target (clang, ASan+UBSan), FUZZ_SECONDS each, from
# the seed corpus in fuzz/corpus/<target>/. Runaway memory is a finding: -rss_limit_mb and -malloc_limit_mb.
FUZZ_SECONDS ?= 60
FUZZERS ?= $(patsubst fuzz/%.cpp,%,$(wildcard fuzz/*_fuzz.cpp))
fuzz: setup
	@CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORTLM_BUILD_FUZZERS=ON \
	  -DORTLM_BUILD_TESTS=OFF -DORTLM_BUILD_BENCH=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target $(FUZZERS)
	@for f in $(FUZZERS); do \
	  echo "== $$f ($(FUZZ_SECONDS) s)"; mkdir -p build-fuzz/corpus/$$f build-fuzz/findings/$$f; \
	  if [ -d fuzz/corpus/$$f ]; then cp -rn fuzz/corpus/$$f/. build-fuzz/corpus/$$f/; fi; \
	  build-fuzz/fuzz/$$f build-fuzz/corpus/$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -rss_limit_mb=2048 -malloc_limit_mb=1024 -artifact_prefix=build-fuzz/findings/$$f/ \
	    -print_final_stats=1 >build-fuzz/$$f.log 2>&1; status=$$?; tail -n 12 build-fuzz/$$f.log; \
	  [ $$status -eq 0 ] || { echo "$$f: finding in build-fuzz/findings/$$f (log: build-fuzz/$$f.log)"; exit 1; }; \
	done

install: build
	@cmake --install $(BUILD) --prefix $(or $(PREFIX),/usr/local)

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.hpp' '*.h')

clean:
	@rm -rf $(BUILD) $(BUILD_ASAN)
