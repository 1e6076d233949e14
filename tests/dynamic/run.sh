#!/bin/sh
# run.sh BUILD_DIR — run-time symbolic dims end to end (see run.mjs).
exec node "$(dirname "$0")/run.mjs" "$@"
