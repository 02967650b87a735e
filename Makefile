# Tangelo's front door. `make run` and `make test` work on a fresh Debian 12
# machine: both install what is missing first.
.PHONY: all deps build debug asan run test test-release test-asan bench fuzz fuzz-build clean

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
	./build/release/tangelo serve --demo --data $(DATA) $(ARGS)

# The whole suite: every test on the release build, the unit and property
# tests again under ASan+UBSan, then a short libFuzzer run of every parser.
test: build asan fuzz-build
	cd build/release && $(CTEST)
	cd build/asan && $(CTEST) -L 'unit|property'
	scripts/fuzz.sh build/fuzz $(or $(FUZZ_SECONDS),20)

test-release: build
	cd build/release && $(CTEST)

test-asan: asan
	cd build/asan && $(CTEST) -L 'unit|property'

bench: build
	./build/release/tangelo bench ledger
	./build/release/tangelo bench recovery

# Only the fuzz targets (and what they link) are built with clang.
fuzz-build: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS) --target $$(cmake --build --preset fuzz --target help | sed -n 's/^\(.*_fuzz\):.*/\1/p')

fuzz: fuzz-build
	scripts/fuzz.sh build/fuzz $(or $(FUZZ_SECONDS),600)

clean:
	rm -rf build
