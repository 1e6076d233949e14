#!/bin/sh
# tests/scale: peak compile memory against the weight bytes, compile time against graph length (check.py)
set -eu
BUILD=${1:-build}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/o2w-scale.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
/usr/bin/python3 "$(dirname "$0")/check.py" "$BUILD" "$WORK"
