#!/bin/sh
# tests/fuzz: replays every input that ever crashed or hung (regressions/), then fuzzes the whole
# pipeline for a bounded time from the ONNX backend test models and tests/errors' bad models.
#   sh tests/fuzz/run.sh BUILD_ASAN [SECONDS]     (default 120; README.md here has the long run)
set -eu
BUILD=$(cd "${1:?usage: run.sh BUILD_ASAN [SECONDS]}" && pwd)
SECS=${2:-${O2W_FUZZ_SECONDS:-120}}
HERE=$(cd "$(dirname "$0")" && pwd)
FUZZ=$BUILD/tests/fuzz_compile
[ -x "$FUZZ" ] || { echo "FAIL: $FUZZ is missing (configure with CC=clang-19 -DO2W_SANITIZE=ON)"; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/o2w-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
OPTS="-rss_limit_mb=2560 -timeout=30 -max_len=200000 -print_final_stats=1"

# 1. regressions: each input once
n=$(ls "$HERE/regressions" 2>/dev/null | wc -l)
if [ "$n" -gt 0 ]; then
  "$FUZZ" $OPTS -runs=0 "$HERE/regressions" > "$WORK/replay.log" 2>&1 || { tail -40 "$WORK/replay.log"; echo "FAIL: a regression input fails again"; exit 1; }
  echo "ok   $n regression inputs replay clean"
fi

# 2. seeds: the backend test models (small ones) and the bad models of tests/errors
mkdir -p "$WORK/corpus" "$WORK/seeds" "$WORK/bad"
i=0
for m in /usr/share/libonnx-testdata/data/node/*/model.onnx; do
  [ -f "$m" ] || continue
  [ "$(stat -c %s "$m")" -le 200000 ] || continue
  i=$((i + 1)); cp "$m" "$WORK/seeds/$i.onnx"
done
if /usr/bin/python3 "$HERE/../errors/make_bad_models.py" "$WORK/bad" > /dev/null 2>&1; then
  for m in "$WORK"/bad/*.onnx; do i=$((i + 1)); cp "$m" "$WORK/seeds/$i.onnx"; done
fi
echo "fuzzing for $SECS s from $i seeds"
cd "$WORK"
if ! "$FUZZ" $OPTS -max_total_time="$SECS" -artifact_prefix="$WORK/" "$WORK/corpus" "$WORK/seeds" > "$WORK/fuzz.log" 2>&1; then
  tail -60 "$WORK/fuzz.log"
  for a in "$WORK"/crash-* "$WORK"/timeout-* "$WORK"/oom-* "$WORK"/leak-*; do
    [ -f "$a" ] && { mkdir -p "${O2W_FUZZ_ARTIFACTS:-/tmp/o2w-fuzz-artifacts}"; cp "$a" "${O2W_FUZZ_ARTIFACTS:-/tmp/o2w-fuzz-artifacts}/"; echo "artifact: ${O2W_FUZZ_ARTIFACTS:-/tmp/o2w-fuzz-artifacts}/$(basename "$a")"; }
  done
  echo "FAIL: the fuzzer found an input (kept above; add it to tests/fuzz/regressions/ with the fix)"
  exit 1
fi
grep -E "stat::number_of_executed_units|cov:" "$WORK/fuzz.log" | tail -2
echo "PASS: fuzz ($SECS s, no findings)"
