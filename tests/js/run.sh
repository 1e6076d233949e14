#!/bin/sh
# Runs the JavaScript-side tests (loader, tensorproto, runner, oracle) with node:test; --all adds the slow export check.
# POSIX sh (ctest runs it with `sh`).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
all=0
for a in "$@"; do
  case "$a" in
    --all) all=1 ;;
    -h|--help) echo "usage: tests/js/run.sh [--all]   (--all: also models/test_export_matches_torch.py, ~10 s)"; exit 0 ;;
    *) echo "unknown argument: $a" >&2; exit 2 ;;
  esac
done
cd "$root"
node --test --test-concurrency=1 tests/js/*.test.mjs
# Type declarations: checked when a TypeScript compiler is available (not a project dependency).
tsc=$(command -v tsc || true)
if [ -z "$tsc" ] && [ -x tools/node_modules/.bin/tsc ]; then tsc=tools/node_modules/.bin/tsc; fi
if [ -n "$tsc" ]; then
  "$tsc" --noEmit --strict --target es2022 --module nodenext --moduleResolution nodenext \
    --lib es2022,dom tests/js/types.check.ts
  echo "# types.check.ts: ok"
else
  echo "# types.check.ts: skipped (no tsc; e.g. npm i -g typescript)"
fi
if [ "$all" = 1 ]; then
  /usr/bin/python3 models/test_export_matches_torch.py
fi
