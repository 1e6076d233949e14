#!/bin/sh
# run.sh BUILD_DIR — the native backend end to end (docs/abi.md, "Native libraries"):
#  1. two models (make_models.py) compiled to x86-64 shared libraries and objects, and to AArch64;
#  2. docs/abi.md's C example, extracted from the page, built against small_cnn.so and against
#     small_cnn.o, its printed probabilities compared with onnxruntime-web on the same input;
#  3. api_test.c (names, dims and their bounds, refused arenas, four threads at once) on dyn_mlp.so;
#  4. onnx2wasm-run on the .so (x86-64, and AArch64 under qemu-user through a cross-built host) against
#     onnxruntime-web's outputs, with the run-time dim at two values; the same for the .wasm.
set -eu
build="$(cd "$1" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
py=/usr/bin/python3
work="$build/native-tests"
rm -rf "$work"
mkdir -p "$work"
cd "$work"
c="$build/onnx2wasm"
ok() { echo "PASS $*"; }

"$py" "$here/make_models.py" "$work"
"$c" small_cnn.onnx -o small_cnn.so
"$c" small_cnn.onnx -o small_cnn.o --cpu x86-64-v3
"$c" small_cnn.onnx -o small_cnn.wasm
"$c" dyn_mlp.onnx -o dyn_mlp.so --max-dim seq=64
"$c" dyn_mlp.onnx -o dyn_mlp.wasm --max-dim seq=64
mkdir -p a64
"$c" small_cnn.onnx -o a64/small_cnn.so --target aarch64-linux-gnu
"$c" dyn_mlp.onnx -o a64/dyn_mlp.so --target aarch64-linux-gnu --max-dim seq=64
test -f small_cnn.h && test -f dyn_mlp.h && test -f a64/small_cnn.h
ok "compiled to .so/.o/.h for x86-64 and aarch64"
# a shared library depends on libc only; no libm calls survive (the kernels bring their own math)
undef=$(nm -D --undefined-only small_cnn.so | awk '{print $2}' | sed 's/@.*//' | sort -u | tr '\n' ' ')
for s in $undef; do
  case "$s" in memcpy|memset|memmove|aligned_alloc|free|__tls_get_addr) ;; *) echo "FAIL small_cnn.so needs '$s'"; exit 1 ;; esac
done
ok "small_cnn.so needs only: $undef"

# 2. the documented example, both link kinds
sed -n '/<!-- abi-example -->/,/<!-- \/abi-example -->/p' "$root/docs/abi.md" | sed '1,2d;$d' | sed '$d' > example.c
cc -std=c11 -Wall -Wextra -I. example.c ./small_cnn.so -Wl,-rpath,"$work" -o example_so
cc -std=c11 -Wall -Wextra -I. example.c small_cnn.o -o example_o
./example_so > example_so.txt
./example_o > example_o.txt
node "$here/check_example.mjs" small_cnn.onnx example_so.txt example_o.txt
ok "docs/abi.md example against small_cnn.so and small_cnn.o"

# two models in one program: their prefixed APIs and internalized kernels do not clash
"$c" dyn_mlp.onnx -o dyn_mlp.o --max-dim seq=64
cat > two.c <<'EOF2'
#include <stdio.h>
#include "small_cnn.h"
#include "dyn_mlp.h"
int main(void) {
  void *a = small_cnn_create(), *b = dyn_mlp_create();
  int64_t d[8];
  if (!a || !b || dyn_mlp_set_dim(b, "seq", 3) || small_cnn_run(a) || dyn_mlp_run(b)) return 1;
  if (dyn_mlp_output_shape(b, 0, d) != 2 || d[0] != 3 || small_cnn_output_bytes(a, 0) != 40) return 1;
  small_cnn_destroy(a);
  dyn_mlp_destroy(b);
  return 0;
}
EOF2
cc -std=c11 -Wall -Wextra -I. two.c small_cnn.o dyn_mlp.o -o two
./two
ok "two models (small_cnn.o, dyn_mlp.o) linked into one program"

# 3. the API contract
cc -std=c11 -Wall -Wextra -O1 -I. "$here/api_test.c" ./dyn_mlp.so -Wl,-rpath,"$work" -lpthread -o api_test
./api_test

# 4. the runner on native libraries, against the oracle
run="$build/onnx2wasm-run"
oracle="$root/tools/ort-oracle.mjs"
mkdir -p cnn dyn5 dyn64
node "$oracle" small_cnn.onnx --data cnn --gen --seed 3 --quiet
node "$oracle" dyn_mlp.onnx --data dyn5 --gen --seed 4 --dim seq=5 --quiet
node "$oracle" dyn_mlp.onnx --data dyn64 --gen --seed 5 --dim seq=64 --quiet
for m in small_cnn.wasm small_cnn.so; do "$run" "$m" --data cnn --quiet; done
for d in dyn5 dyn64; do "$run" dyn_mlp.so --data "$d" --quiet; "$run" dyn_mlp.wasm --data "$d" --quiet; done
ok "onnx2wasm-run on x86-64 libraries"
# a library replaced at the same path is loaded anew in the same process (dlopen would reuse the old one)
"$c" small_cnn.onnx -o same.so
O2W_NATIVE_ADDON="$build/o2w_native.node" node --input-type=module -e "
import { execFileSync } from 'node:child_process';
import { loadNative } from '$root/runtime/js/onnx2wasm-native.mjs';
const a = loadNative('same.so');
execFileSync('$c', ['dyn_mlp.onnx', '-o', 'same.so', '--max-dim', 'seq=64']);
const b = loadNative('same.so');
if (!a.inProcess || !b.inProcess || a.outputs[0].shape.join() !== '1,10' || b.outputs[0].shape.join() !== '64,8') {
  console.error('FAIL same path, two libraries:', a.outputs[0].shape, b.outputs[0].shape); process.exit(1);
}"
ok "a library replaced at the same path is loaded anew"
aarch64-linux-gnu-gcc -std=c11 -O2 -I"$root/runtime/native" "$root/runtime/native/host.c" -ldl -o a64/host
export O2W_NATIVE_HOST="qemu-aarch64 -L /usr/aarch64-linux-gnu $work/a64/host"
"$run" a64/small_cnn.so --data cnn --quiet
for d in dyn5 dyn64; do "$run" a64/dyn_mlp.so --data "$d" --quiet; done
ok "onnx2wasm-run on aarch64 libraries (qemu-user)"
echo "native: all passed"
