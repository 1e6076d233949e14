#!/bin/sh
# run.sh BUILD_DIR — bad input gets a clear message, exit status 1 (2 for a bad command line),
# never a crash, and no output file left behind (a stale one is removed).
set -u
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
cc="$build/onnx2wasm"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$here/make_bad_models.py" "$tmp/m" || { echo "cannot generate the bad models"; exit 1; }
pass=0; fail=0

# mem_limited CMD...: runs CMD with 1 GiB of address space (a compiler that allocates what a tensor
# claims before checking the bytes present fails with "out of memory" instead of the expected message)
mem_limited() {
  if [ -n "${O2W_SANITIZED:-}" ]; then ASAN_OPTIONS="${ASAN_OPTIONS:-}:max_allocation_size_mb=1024:allocator_may_return_null=1" "$@"
  else (ulimit -v 1048576 && exec "$@"); fi
}
run=""

# expect STATUS 'MESSAGE SUBSTRING' ARGS...   (under $run when set)
expect() {
  want_status=$1; want_msg=$2; shift 2
  echo stale > "$tmp/out.wasm"
  $run "$cc" "$@" > "$tmp/stdout" 2> "$tmp/stderr"
  status=$?
  msg=$(cat "$tmp/stderr")
  target=""; prev=""
  for a in "$@"; do [ "$prev" = "-o" ] && target=$a; prev=$a; done
  if [ "$status" -ne "$want_status" ]; then
    fail=$((fail + 1)); echo "FAIL $*: exit $status, expected $want_status: $msg"
  elif [ -n "$want_msg" ] && ! grep -qF -- "$want_msg" "$tmp/stderr"; then
    fail=$((fail + 1)); echo "FAIL $*: message '$msg' lacks '$want_msg'"
  elif [ "$want_status" -eq 1 ] && [ -n "$target" ] && [ -e "$target" ]; then
    fail=$((fail + 1)); echo "FAIL $*: an output file was left behind"
  elif ls "$tmp" | grep -q 'tmp'; then
    fail=$((fail + 1)); echo "FAIL $*: a temporary file was left behind"
  else
    pass=$((pass + 1)); echo "ok   exit $status: ${want_msg:-compiles}"
  fi
}

m="$tmp/m"; o="-o $tmp/out.wasm"
expect 1 "node 'uq_7' (Unique, opset 13): unsupported op 'Unique'" "$m/unsupported.onnx" $o
expect 1 "node 'fa_1' (FusedAttention, opset 13): unsupported op 'FusedAttention'" "$m/internal_op.onnx" $o
expect 1 "node 'relu_nodom' (Relu, opset 0): the model imports no default-domain opset" "$m/no_default_domain.onnx" $o
expect 2 "pass is needed for correctness" "$m/good.onnx" $o --no-pass plan
expect 2 "unknown pass" "$m/good.onnx" $o --no-pass frobnicate
expect 1 "node 'add_bf16' (Add, opset 13): dtype bfloat16 is not supported at run time" "$m/wrong_dtype.onnx" $o
expect 1 "node 'conv_bad' (Conv, opset 13): strides/dilations/pads have the wrong number of entries" "$m/bad_attr.onnx" $o
expect 1 "node 'pool_0' (MaxPool, opset 13): kernel_shape, strides and dilations must be positive" "$m/zero_stride.onnx" $o
expect 1 "node 'conv_2' (Conv, opset 13): input has 3 channels, weight expects 5 x group 1" "$m/bad_shape.onnx" $o
expect 1 "node 'qmm_bad' (QLinearMatMul, opset 13): input 'a' (a) has dtype float32, expected uint8 or int8" "$m/qlinear_float.onnx" $o
expect 1 "node 'convi_bad' (ConvInteger, opset 13): zero point 'wz' must be a scalar or have one entry per output column/channel" "$m/convinteger_zp.onnx" $o
expect 1 "external data path '../outside.bin' leaves the model's folder" "$m/escape_dotdot.onnx" $o
expect 1 "external data path '/etc/passwd' is absolute" "$m/escape_abs.onnx" $o
expect 1 "node 'lrn_4' (LRN, opset 13): input 0 'x' has shape float32[N,3,8,8]; a concrete shape is needed (bind symbols with --dim NAME=VALUE)" "$m/unbound_dim.onnx" $o
expect 0 "" "$m/runtime_conv.onnx" $o --max-dim N=4
expect 1 "is not a valid ONNX model" "$m/truncated.onnx" $o
expect 1 "onnx2wasm: $m/garbage.onnx:" "$m/garbage.onnx" $o
expect 1 "is empty" "$m/empty.onnx" $o
expect 1 "cannot open" "$m/missing.onnx" $o
expect 1 "onnx2wasm: cannot create '$tmp/no/such/dir/out.wasm': No such file or directory" "$m/good.onnx" -o "$tmp/no/such/dir/out.wasm"
expect 2 "unknown option" "$m/good.onnx" --frobnicate
# native outputs (codegen/llvm_emit.c): the target and CPU checked before anything is compiled
expect 2 "a .so/.o output needs a native --target" "$m/good.onnx" -o "$tmp/out.so" --target wasm32
expect 2 "a native --target writes a .so or .o output" "$m/good.onnx" -o "$tmp/out.wasm" --target aarch64-linux-gnu
expect 2 "unknown --cpu 'skylake-avx513' for x86_64-linux-gnu (known: native, x86-64" "$m/good.onnx" -o "$tmp/out.so" --cpu skylake-avx513
expect 2 "unknown target 'riscv64-linux-gnu'" "$m/good.onnx" -o "$tmp/out.so" --target riscv64-linux-gnu
expect 2 "--cpu applies to native targets" "$m/good.onnx" -o "$tmp/out.wasm" --cpu x86-64-v3
expect 2 "--name must be a C identifier: 1abc" "$m/good.onnx" -o "$tmp/out.so" --name 1abc
expect 1 "is not a valid ONNX model" "$m/truncated.onnx" -o "$tmp/bad.so"
test ! -e "$tmp/bad.h" || { fail=$((fail + 1)); echo "FAIL a header was left beside a failed native output"; }
if [ -n "${O2W_SANITIZED:-}" ]; then   # a sanitizer build cannot open libLLVM (codegen/llvm_api.c): it says so
  expect 1 "native output is not available in a sanitizer build" "$m/good.onnx" -o "$tmp/good.so"
else
  expect 1 "onnx2wasm: cannot create '$tmp/no/such/dir/out.so': No such file or directory" "$m/good.onnx" -o "$tmp/no/such/dir/out.so"
  expect 0 "" "$m/good.onnx" -o "$tmp/good.so"
  if [ -s "$tmp/good.h" ]; then pass=$((pass + 1)); echo "ok   a native output gets its header"
  else fail=$((fail + 1)); echo "FAIL a native output got no header"; fi
  rm -f "$tmp/good.so" "$tmp/good.h"
fi
expect 2 "no output given" "$m/good.onnx"
expect 2 "--dim expects NAME=VALUE" "$m/good.onnx" $o --dim N
expect 0 "" "$m/unbound_dim.onnx" $o --dim N=1
# repeats read at run time (element symbols r[0..3]): at the default bound (1024 each) the output cannot fit;
# --max-dim bounds them by name
expect 1 "node 'tile_3' (Tile, opset 13): 'y' has shape float32[r[0],3*r[1],8*r[2],8*r[3]] (844424930131968 bytes): a tensor must be smaller than the 4 GiB" "$m/tile_runtime.onnx" $o
expect 0 "" "$m/tile_runtime.onnx" $o --max-dim "r[0]=2" --max-dim "r[1]=2" --max-dim "r[2]=3" --max-dim "r[3]=1"
expect 1 "--dim/--max-dim names 'r[4]', but no graph input has a dim_param of that name" "$m/tile_runtime.onnx" $o --max-dim "r[4]=2"
expect 1 "node 'sum_5' (Sum, opset 13): dtype int32 is not supported" "$m/sum_int.onnx" $o
expect 1 "node 'topk_2' (TopK, opset 13): input 1 'k' is read at run time; the model must declare its size along the axis (the output's shape)" "$m/topk_runtime.onnx" $o
expect 1 "node 'lstm_1' (LSTM, opset 14): the clip attribute is not supported" "$m/lstm_clip.onnx" $o
expect 1 "node 'gru_1' (GRU, opset 14): W must be [1, 6, input size]" "$m/gru_bad_w.onnx" $o
expect 1 "node 'range_pos' (Range, opset 13): input 0 must be a constant (computed at compile time): 'p' depends on the run-time dim past" "$m/range_runtime.onnx" $o
expect 1 "node 'add_c' (Add) is on a cycle: its output 'r' feeds back into its own inputs" "$m/cycle.onnx" $o
expect 1 "node 'cos_big' (ConstantOfShape, opset 13): 'c' has shape float32[4611686018427387904,4]: dim 0 is 2^32 or more" "$m/huge_dim.onnx" $o
expect 1 "node 'cos_4g' (ConstantOfShape, opset 13): 'c' has shape float32[1048576,1024] (4294967296 bytes): a tensor must be smaller than the 4 GiB a wasm32 module addresses" "$m/tensor_4gib.onnx" $o
expect 1 "'x' has shape float32[4611686018427387904,4]: dim 0 is 2^32 or more" "$m/huge_input.onnx" $o
expect 1 "node 'tile_big' (Tile, opset 13): dimension arithmetic overflows: 2 * 9223372036854775807" "$m/tile_overflow.onnx" $o
expect 1 "node 'reshape_big' (Reshape, opset 13): dimension arithmetic overflows: 2147483648 * 9223372036854775807" "$m/reshape_overflow.onnx" $o
expect 0 "%y:float32[1,3,8,1] = Slice" "$m/slice_min_step.onnx" $o --print-after fold
ifrt="the condition must be known at compile time (computed from shapes or constants); run-time branching is not supported yet"
expect 1 "node 'if_rt' (If, opset 13): $ifrt" "$m/if_runtime.onnx" $o
expect 1 "node 'if_len' (If, opset 13): $ifrt" "$m/if_runtime_dim.onnx" $o
expect 0 "%y:float32[3,4] = Relu(%x)  # if_len/relu_t" "$m/if_runtime_dim.onnx" $o --dim N=3 --print-after fold
expect 0 "%y:float32[1,4] = Neg(%x)  # if_len/neg_e" "$m/if_runtime_dim.onnx" $o --dim N=1 --print-after fold
expect 1 "node 'if_bad' (If, opset 13): then_branch has 2 outputs, the node 1" "$m/if_bad_outputs.onnx" $o
expect 1 "node 'add_nope' (Add, opset 13): input 'nope' is not produced by any earlier node, initializer or graph input" "$m/if_unknown_name.onnx" $o
expect 1 "node 'loop_1' (Loop, opset 13): unsupported op 'Loop'" "$m/loop.onnx" $o
expect 0 "" "$m/if_unsupported_in_branch.onnx" $o --dim N=2
expect 1 "node 'if_u/loop_e' (Loop, opset 13): unsupported op 'Loop'" "$m/if_unsupported_in_branch.onnx" $o --dim N=1
run=mem_limited
expect 1 "initializer 'w': raw_data has 4 bytes, expected 2147483648" "$m/claim_raw.onnx" $o
expect 1 "initializer 'w': external data 'w.bin' has 64 bytes, shorter than offset 0 + 2147483648 bytes" "$m/claim_external.onnx" $o
expect 1 "node 'const_big' (Constant, opset 13): attribute tensor 'big': raw_data has 4 bytes, expected 2147483648" "$m/claim_attr.onnx" $o
expect 1 "initializer 'w': external data 'wdir' is a directory, not a file" "$m/external_dir.onnx" $o
expect 0 "" "$m/good.onnx" $o
run=""

# check 'WHAT' CMD...: CMD must succeed
check() {
  what=$1; shift
  if "$@" 2> "$tmp/stderr"; then pass=$((pass + 1)); echo "ok   $what"
  else fail=$((fail + 1)); echo "FAIL $what: $(cat "$tmp/stderr")"; fi
}
# command line: the output's mode follows the umask (not mkstemp's 0600); VALUE forms of options
# (-oFILE, --output=FILE, --dim=N=1, --max-dim=N=8) give the module the spaced forms give; -o - writes it to stdout
mode_of() { (umask "$1" && "$cc" "$m/good.onnx" -o "$tmp/mode.wasm") && stat -c %a "$tmp/mode.wasm"; }
check "output mode 644 under umask 022" test "$(mode_of 022)" = 644
check "output mode 640 under umask 027" test "$(mode_of 027)" = 640
rm -f "$tmp/mode.wasm"
d="$tmp/forms"; mkdir "$d"
check "-o FILE" "$cc" "$m/good.onnx" -o "$d/ref.wasm"
check "-oFILE is -o FILE" sh -c '"$1" "$2" "-o$3/a.wasm" && cmp "$3/ref.wasm" "$3/a.wasm"' - "$cc" "$m/good.onnx" "$d"
check "--output=FILE is -o FILE" sh -c '"$1" "$2" "--output=$3/b.wasm" && cmp "$3/ref.wasm" "$3/b.wasm"' - "$cc" "$m/good.onnx" "$d"
check "-o - writes the module to stdout" sh -c '"$1" "$2" -o - > "$3/c.wasm" && cmp "$3/ref.wasm" "$3/c.wasm"' - "$cc" "$m/good.onnx" "$d"
check "--dim=N=1 is --dim N=1" sh -c '"$1" "$2" --dim N=1 -o "$3/d1.wasm" && "$1" "$2" --dim=N=1 -o "$3/d2.wasm" && cmp "$3/d1.wasm" "$3/d2.wasm"' - "$cc" "$m/unbound_dim.onnx" "$d"
check "--max-dim=N=8 is --max-dim N=8" sh -c '"$1" "$2" --max-dim N=8 -o "$3/m1.wasm" && "$1" "$2" --max-dim=N=8 -o "$3/m2.wasm" && cmp "$3/m1.wasm" "$3/m2.wasm" && ! "$1" "$2" --max-dim=N=9 -o - | cmp -s - "$3/m1.wasm"' - "$cc" "$m/runtime_dim.onnx" "$d"
# the progress line: only on a terminal (script(1) gives the compiler one), only past the delay (O2W_PROGRESS_MS,
# default 2 s), erased at the end; the module is the same
check "progress line on a terminal past the delay, erased at the end" sh -c '
  out=$(O2W_PROGRESS_MS=0 script -qec "\"$1\" \"$2\" -o \"$3/p.wasm\"" /dev/null | od -An -c | tr -d " \n")
  case "$out" in \\r033\[Konnx2wasm:*good.onnx:*s\)*\\r033\[K) ;; *) echo "got: $out" >&2; exit 1 ;; esac
  cmp "$3/ref.wasm" "$3/p.wasm"' - "$cc" "$m/good.onnx" "$d"
# (a delay of 10 minutes, not the default 2 s: under a sanitizer on a loaded machine this compile can take longer)
check "no progress line for a compile shorter than the delay" sh -c '
  [ -z "$(O2W_PROGRESS_MS=600000 script -qec "\"$1\" \"$2\" -o \"$3/p.wasm\"" /dev/null)" ]' - "$cc" "$m/good.onnx" "$d"
check "no progress line when stderr is not a terminal" sh -c '
  O2W_PROGRESS_MS=0 "$1" "$2" -o "$3/p.wasm" 2> "$3/err" && [ ! -s "$3/err" ]' - "$cc" "$m/good.onnx" "$d"
rm -rf "$d"
# dims read from an input's values at run time (a Reshape's shape as a graph input): bad values are refused
# when the run starts, naming the node (JS loader, the module itself, a native library)
check "run-time shape values past their bound or against the declared shape are refused" \
  node "$here/runtime_values.mjs" "$build" "$m"
expect 2 "missing value for: --output" "$m/good.onnx" --output
expect 2 "--dim expects NAME=VALUE: N" "$m/good.onnx" $o --dim=N
expect 2 "unknown option: --outputs=x" "$m/good.onnx" --outputs=x

# same_module A B: node lists out of topological order compile to the same module as their ordered twin
same_module() {
  if "$cc" "$m/$1.onnx" -o "$tmp/$1.wasm" 2> "$tmp/stderr" && "$cc" "$m/$2.onnx" -o "$tmp/$2.wasm" 2>> "$tmp/stderr" &&
     cmp -s "$tmp/$1.wasm" "$tmp/$2.wasm"; then
    pass=$((pass + 1)); echo "ok   $2 compiles to the same module as $1"
  else
    fail=$((fail + 1)); echo "FAIL $2 does not compile to the same module as $1: $(cat "$tmp/stderr")"
  fi
  rm -f "$tmp/$1.wasm" "$tmp/$2.wasm"
}
same_module chain chain_reversed
same_module f16_casts_first f16_casts_last
same_module if_ordered if_reversed
"$cc" --help | grep -q -- "--print-after" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL --help"; }
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
