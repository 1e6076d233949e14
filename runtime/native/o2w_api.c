/* o2w_api.c — the C API of a native model library (docs/abi.md, "Native libraries").
 *
 * Built to bitcode with the kernels and linked into every native model by codegen/llvm_emit.c, which
 * supplies the model: o2w__desc (runtime/native/o2w_desc.h), o2w__strings, o2w__weights, o2w__params
 * (the parameter blocks as lowered), o2w__signature (the JSON of the wasm signature section) and
 * o2w__graph (the straight line of kernel calls). The emitter renames every o2w__NAME defined here to
 * PREFIX_NAME and internalizes everything else, so several models link into one program.
 *
 * All state lives in the caller's arena (O2W_ARENA_ALIGN-aligned, PREFIX_arena_bytes() long): the
 * inputs, outputs and intermediates, the parameter blocks (patched from the run-time dims), the dims
 * table. The weights are constant and shared. The only other state is thread-local: the bases the
 * kernels' RT_PTR reads during a run, and the kernels' packing buffers. So threads may run one model
 * at once, each on its own arena. */
#include <stddef.h>
#include <stdint.h>
#include "../rt_abi.h"
#include "o2w_desc.h"

#define API __attribute__((visibility("default")))

extern const int64_t o2w__desc[];
extern const char o2w__strings[];
extern const unsigned char o2w__weights[];
extern const unsigned char o2w__params[];
extern const char o2w__signature[];
void o2w__graph(unsigned char *params);

void *aligned_alloc(size_t align, size_t size);
void free(void *p);

_Thread_local RtMem rt_mem;

#define D(i) o2w__desc[i]
static const int64_t *sym_at(int i) { return &o2w__desc[D(O2W_D_SYMS) + O2W_D_SYM_WORDS * i]; }
static const int64_t *tensor_at(int i) { return &o2w__desc[D(O2W_D_TENSORS) + O2W_D_TENSOR_WORDS * i]; }

static int streq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}
static int bad_arena(const void *arena) { return !arena || ((uintptr_t)arena & (O2W_ARENA_ALIGN - 1)); }
/* the arena holds the Program's addresses [arena_addr, ...): the byte at address addr */
static unsigned char *at(const void *arena, int64_t addr) { return (unsigned char *)arena + (addr - D(O2W_D_ARENA_ADDR)); }
static int32_t *dims_table(const void *arena) { return (int32_t *)at(arena, D(O2W_D_PARAMS_ADDR)); }

/* a dim polynomial at the arena's symbol values */
static int64_t eval_poly(const void *arena, int64_t idx) {
  const int64_t *q = &o2w__desc[D(O2W_D_POLYS) + idx];
  const int32_t *dims = dims_table(arena);
  int64_t n = *q++, v = 0;
  for (int64_t t = 0; t < n; t++) {
    int64_t term = *q++, deg = *q++;
    for (int64_t k = 0; k < deg; k++) term *= dims[*q++];
    v += term;
  }
  return v;
}

API size_t o2w__arena_bytes(void) { return (size_t)D(O2W_D_ARENA_BYTES); }

API int o2w__init(void *arena) {
  if (bad_arena(arena)) return O2W_ERR_ARG;
  __builtin_memset(arena, 0, (size_t)D(O2W_D_ARENA_BYTES));
  __builtin_memcpy(at(arena, D(O2W_D_PARAMS_ADDR)), o2w__params, (size_t)D(O2W_D_PARAMS_BYTES));
  for (int i = 0; i < D(O2W_D_NSYMS); i++) dims_table(arena)[sym_at(i)[2]] = (int32_t)sym_at(i)[1];
  return O2W_OK;
}

API void *o2w__create(void) {
  size_t n = ((size_t)D(O2W_D_ARENA_BYTES) + O2W_ARENA_ALIGN - 1) & ~(size_t)(O2W_ARENA_ALIGN - 1);
  void *a = aligned_alloc(O2W_ARENA_ALIGN, n ? n : O2W_ARENA_ALIGN);
  if (a && o2w__init(a)) { free(a); a = 0; }
  return a;
}
API void o2w__destroy(void *arena) { free(arena); }

API int o2w__num_dims(void) { return (int)D(O2W_D_NSYMS); }
API const char *o2w__dim_name(int i) { return i >= 0 && i < D(O2W_D_NSYMS) ? o2w__strings + sym_at(i)[0] : 0; }
API int64_t o2w__dim_max(int i) { return i >= 0 && i < D(O2W_D_NSYMS) ? sym_at(i)[1] : -1; }
static int dim_index(const char *name) {
  for (int i = 0; name && i < D(O2W_D_NSYMS); i++)
    if (streq(o2w__strings + sym_at(i)[0], name)) return i;
  return -1;
}
API int o2w__set_dim(void *arena, const char *name, int64_t value) {
  if (bad_arena(arena)) return O2W_ERR_ARG;
  int i = dim_index(name);
  if (i < 0 || sym_at(i)[3] || sym_at(i)[5]) return O2W_ERR_NAME;   /* a derived or element dim is computed by run */
  if (value < 0 || value > sym_at(i)[1]) return O2W_ERR_BOUND;
  dims_table(arena)[sym_at(i)[2]] = (int32_t)value;
  return O2W_OK;
}
API int64_t o2w__get_dim(const void *arena, const char *name) {
  int i = dim_index(name);
  return bad_arena(arena) || i < 0 ? -1 : dims_table(arena)[sym_at(i)[2]];
}

/* tensors: inputs are 0 .. ninputs-1, outputs follow */
static int tensor_index(int output, int i) {
  int n = (int)(output ? D(O2W_D_NOUTPUTS) : D(O2W_D_NINPUTS));
  return i >= 0 && i < n ? (output ? (int)D(O2W_D_NINPUTS) : 0) + i : -1;
}
static int find_tensor(int output, const char *name) {
  int n = (int)(output ? D(O2W_D_NOUTPUTS) : D(O2W_D_NINPUTS));
  for (int i = 0; name && i < n; i++)
    if (streq(o2w__strings + tensor_at(tensor_index(output, i))[0], name)) return i;
  return -1;
}
static int tensor_shape(const void *arena, int t, int64_t *dims) {
  if (t < 0 || bad_arena(arena)) return -1;
  const int64_t *d = tensor_at(t);
  for (int a = 0; a < d[2]; a++) dims[a] = eval_poly(arena, d[7 + a]);
  return (int)d[2];
}
static size_t tensor_bytes(const void *arena, int t) {
  int64_t dims[O2W_D_MAX_RANK];
  int r = tensor_shape(arena, t, dims);
  if (r < 0) return 0;
  int64_t dt = tensor_at(t)[1];
  size_t n = dt == 11 || dt == 7 || dt == 13 ? 8 : dt == 1 || dt == 6 || dt == 12 ? 4 : dt == 10 || dt == 16 || dt == 4 || dt == 5 ? 2 : 1;
  for (int a = 0; a < r; a++) n *= (size_t)dims[a];
  return n;
}

API int o2w__num_inputs(void) { return (int)D(O2W_D_NINPUTS); }
API int o2w__num_outputs(void) { return (int)D(O2W_D_NOUTPUTS); }
API int o2w__input_index(const char *name) { return find_tensor(0, name); }
API int o2w__output_index(const char *name) { return find_tensor(1, name); }
API const char *o2w__input_name(int i) { int t = tensor_index(0, i); return t < 0 ? 0 : o2w__strings + tensor_at(t)[0]; }
API const char *o2w__output_name(int i) { int t = tensor_index(1, i); return t < 0 ? 0 : o2w__strings + tensor_at(t)[0]; }
API int o2w__input_dtype(int i) { int t = tensor_index(0, i); return t < 0 ? -1 : (int)tensor_at(t)[1]; }
API int o2w__output_dtype(int i) { int t = tensor_index(1, i); return t < 0 ? -1 : (int)tensor_at(t)[1]; }
API int o2w__input_shape(const void *arena, int i, int64_t *dims) { return tensor_shape(arena, tensor_index(0, i), dims); }
API int o2w__output_shape(const void *arena, int i, int64_t *dims) { return tensor_shape(arena, tensor_index(1, i), dims); }
API size_t o2w__input_bytes(const void *arena, int i) { return tensor_bytes(arena, tensor_index(0, i)); }
API size_t o2w__output_bytes(const void *arena, int i) { return tensor_bytes(arena, tensor_index(1, i)); }
API void *o2w__input(void *arena, int i) {
  int t = tensor_index(0, i);
  return t < 0 || bad_arena(arena) ? 0 : at(arena, tensor_at(t)[3]);
}
API const void *o2w__output(const void *arena, int i) {
  int t = tensor_index(1, i);
  return t < 0 || bad_arena(arena) ? 0 : at(arena, tensor_at(t)[3]);
}
API const char *o2w__signature_json(void) { return o2w__signature; }

API int o2w__run(void *arena) {
  if (bad_arena(arena)) return O2W_ERR_ARG;
  int32_t *dims = dims_table(arena);
  for (int i = 0; i < D(O2W_D_NSYMS); i++) {       /* the arena is the caller's memory: check again */
    const int64_t *s = sym_at(i);
    if (s[3]) {                                    /* derived: after the symbols it reads */
      int64_t num = eval_poly(arena, s[3]);
      if (num < 0) return O2W_ERR_BOUND;
      dims[s[2]] = (int32_t)(num / s[4]);
    }
    if (s[5]) {                                    /* element s[6] of an input: the inputs are in place */
      const int64_t *t = tensor_at((int)s[5] - 1);
      int64_t v;
      if (t[1] == 7) __builtin_memcpy(&v, at(arena, t[3] + 8 * s[6]), 8);
      else if (t[1] == 11 || t[1] == 1) {          /* float64 / float32: truncated; NaN or huge: refused */
        double f;
        if (t[1] == 11) __builtin_memcpy(&f, at(arena, t[3] + 8 * s[6]), 8);
        else { float h; __builtin_memcpy(&h, at(arena, t[3] + 4 * s[6]), 4); f = h; }
        v = f > -1e18 && f < 1e18 ? (int64_t)f : -1;
      } else { int32_t w; __builtin_memcpy(&w, at(arena, t[3] + 4 * s[6]), 4); v = w; }
      for (int k = 0; k < s[7]; k++)
        if (v == s[8 + 2 * k]) { v = eval_poly(arena, s[9 + 2 * k]); break; }
      if (v < 0 || v > s[1]) return O2W_ERR_BOUND;
      dims[s[2]] = (int32_t)v;
    }
    int32_t v = dims[s[2]];
    if (v < 0 || v > s[1]) return O2W_ERR_BOUND;
  }
  const int64_t *ck = &o2w__desc[D(O2W_D_CHECKS)];
  for (int i = 0; i < D(O2W_D_NCHECKS); i++)
    if (eval_poly(arena, ck[2 * i]) != eval_poly(arena, ck[2 * i + 1])) return O2W_ERR_BOUND;
  unsigned char *params = at(arena, D(O2W_D_PARAMS_ADDR));
  const int64_t *pt = &o2w__desc[D(O2W_D_PATCHES)];
  for (int i = 0; i < D(O2W_D_NPATCHES); i++) {
    int32_t v = (int32_t)eval_poly(arena, pt[2 * i + 1]);
    __builtin_memcpy(params + pt[2 * i], &v, 4);
  }
  RtMem saved = rt_mem;
  rt_mem.wbase = (uintptr_t)o2w__weights - (uintptr_t)D(O2W_D_WEIGHTS_ADDR);
  rt_mem.ibase = (uintptr_t)arena - (uintptr_t)D(O2W_D_ARENA_ADDR);
  rt_mem.split = (uint32_t)D(O2W_D_SPLIT);
  o2w__graph(params);
  rt_mem = saved;
  return O2W_OK;
}

/* For hosts that load a library at run time (dlopen) without knowing its prefix: the same functions
 * through one well-known name (emitted only into shared libraries). */

static const O2wModelApi api = {
  1, o2w__arena_bytes, o2w__init, o2w__run, o2w__num_dims, o2w__dim_name, o2w__dim_max, o2w__set_dim,
  o2w__num_inputs, o2w__num_outputs, o2w__input_name, o2w__output_name, o2w__input_dtype, o2w__output_dtype,
  o2w__input_shape, o2w__output_shape, o2w__input_bytes, o2w__output_bytes, o2w__input, o2w__output,
  o2w__signature_json,
};
API const O2wModelApi *o2w__model_api(void) { return &api; }
