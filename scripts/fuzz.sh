#!/usr/bin/env bash
# Runs every libFuzzer binary (*_fuzz) found in a build directory for the
# given number of seconds each, seeded from tests/fuzz/<name without _fuzz>/.
# Fails (exit 1) if any fuzzer crashes, leaks, times out or trips a sanitizer.
#
#   scripts/fuzz.sh build/fuzz 60        # what `make fuzz` runs, longer
#   FUZZ_ARGS="-max_len=8192" scripts/fuzz.sh build/fuzz 600
#
# The corpus is copied to a temporary directory first, so a run never writes
# into the repository. Crash inputs land in <build dir>/fuzz-artifacts/<name>/;
# once fixed, copy them into tests/fuzz/<name>/ so the corpus unit test keeps
# replaying them.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 <build dir> [seconds per fuzzer, default 60]" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$(cd "$1" && pwd)
seconds=${2:-60}
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds == 0)); then
  echo "fuzz.sh: seconds must be a positive integer, not '$seconds'" >&2
  exit 2
fi

mapfile -t fuzzers < <(find "$build_dir" -type f -name '*_fuzz' -perm -u+x | sort)
if ((${#fuzzers[@]} == 0)); then
  echo "fuzz.sh: no *_fuzz binaries under $build_dir (configure with the fuzz preset)" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tangelo-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Stop at the first report of any sanitizer, with a stack.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

failed=()
for fuzzer in "${fuzzers[@]}"; do
  name=$(basename "$fuzzer")
  target=${name%_fuzz}
  seeds="$root/tests/fuzz/$target"
  corpus="$work/$target"
  artifacts="$build_dir/fuzz-artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  if [[ -d $seeds ]]; then
    cp -R "$seeds/." "$corpus/"
  else
    echo "fuzz.sh: warning: no seed corpus at tests/fuzz/$target/, starting empty" >&2
  fi
  echo "fuzz.sh: $name for ${seconds}s from $(find "$corpus" -type f | wc -l) seed inputs"
  log="$work/$target.log"
  # shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags.
  if "$fuzzer" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" ${FUZZ_ARGS:-} "$corpus" >"$log" 2>&1; then
    grep -E '^(#[0-9]+ +DONE|Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)' \
      "$log" | sed "s/^/  /" || true
  else
    echo "fuzz.sh: $name FAILED; last lines of its log:" >&2
    tail -n 60 "$log" >&2
    echo "fuzz.sh: the crashing input is in $artifacts/; after the fix, copy it into" \
      "tests/fuzz/$target/ so the corpus test keeps it fixed" >&2
    failed+=("$name")
  fi
done

if ((${#failed[@]} > 0)); then
  echo "fuzz.sh: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: ${#fuzzers[@]} fuzzer(s) ran ${seconds}s each without a failure"
