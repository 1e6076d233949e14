#!/bin/sh
# run.sh BUILD_DIR — the ONNX backend conformance suite (see conformance.mjs).
here=$(cd "$(dirname "$0")" && pwd)
exec node "$here/conformance.mjs" "$@"
