/* node_addon.c — o2w_native.node: a Node-API addon that loads a native model library into the Node
 * process, so the runner, the tests and the benchmarks run a .so in-process, beside onnxruntime-node,
 * exactly as they run a .wasm (runtime/js/onnx2wasm-native.mjs wraps it in the loader's interface).
 *
 *   const h = addon.open('/abs/model.so');        // dlopen + one arena (create)
 *   addon.signature(h)                             // JSON string
 *   addon.setDim(h, 'seq', 5)                      // 0, or O2W_ERR_* (bound, name)
 *   addon.run(h, [u8view, ...])                    // copies each input in (byte length checked), runs: status
 *   addon.output(h, k)                             // a copy of output k (ArrayBuffer, its current size)
 *   addon.outputShape(h, k)                        // [dims] at the arena's dims
 * Errors (a file that is not a model library, a wrong input size) throw. */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>

#include "o2w_desc.h"

typedef struct {
  void *lib;
  const O2wModelApi *m;
  void *arena;
} Model;

#define TRY(call) do { if ((call) != napi_ok) return NULL; } while (0)

static napi_value fail(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  Model *md = data;
  free(md->arena);
  if (md->lib) dlclose(md->lib);
  free(md);
}

static Model *model_arg(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) { fail(env, "expected a model handle from open()"); return NULL; }
  return p;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char path[4096];
  size_t len;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok) return fail(env, "open(path)");
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) return fail(env, dlerror());
  const O2wModelApi *(*get)(void) = (const O2wModelApi *(*)(void))dlsym(lib, "onnx2wasm_model_api");
  if (!get || get()->version != 1) { dlclose(lib); return fail(env, "not an onnx2wasm model library (no onnx2wasm_model_api v1)"); }
  Model *md = calloc(1, sizeof *md);
  md->lib = lib;
  md->m = get();
  size_t n = (md->m->arena_bytes() + O2W_ARENA_ALIGN - 1) & ~(size_t)(O2W_ARENA_ALIGN - 1);
  md->arena = aligned_alloc(O2W_ARENA_ALIGN, n ? n : O2W_ARENA_ALIGN);
  if (!md->arena || md->m->init(md->arena)) { finalize(env, md, NULL); return fail(env, "cannot allocate the model's arena"); }
  napi_value h;
  TRY(napi_create_external(env, md, finalize, NULL, &h));
  return h;
}

static napi_value js_signature(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], s;
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Model *md = model_arg(env, argv[0]);
  if (!md) return NULL;
  TRY(napi_create_string_utf8(env, md->m->signature_json(), NAPI_AUTO_LENGTH, &s));
  return s;
}

static napi_value js_set_dim(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], r;
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Model *md = model_arg(env, argv[0]);
  char name[256];
  size_t len;
  int64_t v;
  if (!md || napi_get_value_string_utf8(env, argv[1], name, sizeof name, &len) != napi_ok ||
      napi_get_value_int64(env, argv[2], &v) != napi_ok)
    return md ? fail(env, "setDim(handle, name, value)") : NULL;
  TRY(napi_create_int32(env, md->m->set_dim(md->arena, name, v), &r));
  return r;
}

static napi_value js_run(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], r;
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Model *md = model_arg(env, argv[0]);
  if (!md) return NULL;
  uint32_t n;
  if (napi_get_array_length(env, argv[1], &n) != napi_ok || (int)n != md->m->num_inputs()) return fail(env, "run(handle, inputs): one view per input");
  for (uint32_t k = 0; k < n; k++) {
    napi_value e, ab;
    napi_typedarray_type t;
    size_t len, off;
    void *data;
    TRY(napi_get_element(env, argv[1], k, &e));
    if (napi_get_typedarray_info(env, e, &t, &len, &data, &ab, &off) != napi_ok || t != napi_uint8_array) return fail(env, "inputs must be Uint8Array views");
    if (len != md->m->input_bytes(md->arena, (int)k)) return fail(env, "an input's size does not match its shape at these dims");
    memcpy(md->m->input(md->arena, (int)k), data, len);
  }
  TRY(napi_create_int32(env, md->m->run(md->arena), &r));
  return r;
}

static napi_value js_output(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], ab;
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Model *md = model_arg(env, argv[0]);
  int32_t k;
  if (!md || napi_get_value_int32(env, argv[1], &k) != napi_ok || k < 0 || k >= md->m->num_outputs()) return md ? fail(env, "output(handle, k)") : NULL;
  size_t len = md->m->output_bytes(md->arena, k);
  void *dst;
  TRY(napi_create_arraybuffer(env, len, &dst, &ab));
  memcpy(dst, md->m->output(md->arena, k), len);
  return ab;
}

static napi_value js_output_shape(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], arr;
  TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Model *md = model_arg(env, argv[0]);
  int32_t k;
  if (!md || napi_get_value_int32(env, argv[1], &k) != napi_ok || k < 0 || k >= md->m->num_outputs()) return md ? fail(env, "outputShape(handle, k)") : NULL;
  int64_t dims[O2W_D_MAX_RANK];
  int rank = md->m->output_shape(md->arena, k, dims);
  TRY(napi_create_array_with_length(env, (size_t)rank, &arr));
  for (int a = 0; a < rank; a++) {
    napi_value d;
    TRY(napi_create_int64(env, dims[a], &d));
    TRY(napi_set_element(env, arr, (uint32_t)a, d));
  }
  return arr;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor p[] = {
    {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
    {"signature", NULL, js_signature, NULL, NULL, NULL, napi_default, NULL},
    {"setDim", NULL, js_set_dim, NULL, NULL, NULL, napi_default, NULL},
    {"run", NULL, js_run, NULL, NULL, NULL, napi_default, NULL},
    {"output", NULL, js_output, NULL, NULL, NULL, napi_default, NULL},
    {"outputShape", NULL, js_output_shape, NULL, NULL, NULL, napi_default, NULL},
  };
  TRY(napi_define_properties(env, exports, sizeof p / sizeof *p, p));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
