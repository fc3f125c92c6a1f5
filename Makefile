# Everything a new user needs: `make run` and `make test` (both run the set-up first).
JOBS ?= $(shell nproc)
BUILD ?= build
BUILD_ASAN ?= build-asan
CMAKE_FLAGS ?=
PROMPT ?= Once upon a time
export CTEST_OUTPUT_ON_FAILURE = 1

.PHONY: all setup build build-asan run test test-release test-asan bench install format clean

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
	  ctest -j $(JOBS) --timeout 900 -LE slow

test: test-release test-asan

bench: build
	@bash bench/run_all.sh

install: build
	@cmake --install $(BUILD) --prefix $(or $(PREFIX),/usr/local)

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.hpp' '*.h')

clean:
	@rm -rf $(BUILD) $(BUILD_ASAN)
