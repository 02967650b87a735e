# Tangelo's front door. `make run` and `make test` work on a fresh Debian 12
# machine: both install what is missing first.
.PHONY: all deps build debug asan run test test-release test-asan bench fuzz clean

DATA ?= ./data
JOBS ?= $(shell nproc)
CTEST = ctest --output-on-failure -j $(JOBS)

all: build

deps:
	@scripts/install-deps.sh

build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)

run: build
	./build/release/tangelo serve --data $(DATA) $(ARGS)

# The whole suite: every test on the release build, then the unit and
# property tests again under ASan+UBSan.
test: build asan
	cd build/release && $(CTEST)
	cd build/asan && $(CTEST) -L 'unit|property'

test-release: build
	cd build/release && $(CTEST)

test-asan: asan
	cd build/asan && $(CTEST) -L 'unit|property'

bench: build
	./build/release/tangelo bench ledger
	./build/release/tangelo bench recovery

fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)
	@scripts/fuzz.sh build/fuzz $(or $(FUZZ_SECONDS),600)

clean:
	rm -rf build
