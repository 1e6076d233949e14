#!/bin/sh
# run.sh BUILD_DIR [conformance options] — the ONNX backend conformance suite (see conformance.mjs), then the
# backend cases whose shape inputs (Resize roi/scales/sizes, Upsample scales, Pad pads, CumSum axis, Tile
# repeats, OneHot depth, Compress condition, TopK K, If condition) must be frozen into initializers to compile (see
# frozen.py). Fails if either part fails.
here=$(cd "$(dirname "$0")" && pwd)
node "$here/conformance.mjs" "$@"
a=$?
/usr/bin/python3 "$here/frozen.py" "$1"
b=$?
[ "$a" -eq 0 ] && [ "$b" -eq 0 ]
