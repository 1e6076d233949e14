#!/bin/sh
# run.sh BUILD_DIR — runs the code blocks of README.md and docs/*.md marked `sh run`, `js run` and `html run`
# (snippets.mjs: the convention, and the folder they run in); html blocks in headless Chromium.
set -u
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
exec node "$root/tests/docs/snippets.mjs" "$build"
