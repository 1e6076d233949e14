/* o2w_desc.h — the model descriptor a native library carries: what the LLVM emitter writes
 * (codegen/llvm_emit.c) and what the C API (runtime/native/o2w_api.c) reads. One flat int64 table
 * plus a string blob, so the emitter writes plain arrays and the API needs no relocations.
 *
 * Table layout (every entry int64; names are offsets into the string blob, NUL-terminated):
 *   header   [O2W_D_*] (below)
 *   symbols  nsyms x {name, max, slot, num, den, src, elem, nmap, from0, to0, .. from3, to3}   run-time dims; slot
 *            in the dims table; num: 0 for a dim the host sets, else the poly of a derived dim the run computes,
 *            floor(num / den) (num < 0: bound error); src: 0, or 1 + the input (tensor index) an element symbol is
 *            read from, at element elem (int64 or int32), where the value fromK stands for poly toK (K < nmap;
 *            ir.h SymDef); past [0, max]: bound error
 *   tensors  (ninputs + noutputs) x {name, dtype, rank, addr, bytes, cap, cap_axis, dim[8]}
 *            dtype: ONNX TensorProto code; dim[a]: index of a polynomial (below) for axis a
 *   patches  npatches x {param_off, poly}           int32 fields written from the dims before a run
 *   checks   nchecks x {poly, poly}                  dims that must be equal (else run fails with a bound error)
 *   polys    at poly index i: {nterms, then per term: coef, deg, slot x deg}
 * Addresses are RtAddr offsets (runtime/rt_abi.h): weights below `split`, everything else in the
 * caller's arena, which holds [arena_addr, instance_end) of the Program's layout. */
#ifndef O2W_DESC_H
#define O2W_DESC_H

enum {
  O2W_D_VERSION, O2W_D_NINPUTS, O2W_D_NOUTPUTS, O2W_D_NSYMS, O2W_D_NPATCHES,
  O2W_D_SPLIT,          /* first arena address; below it: weights */
  O2W_D_ARENA_ADDR,     /* = split */
  O2W_D_ARENA_BYTES,    /* bytes of the caller's arena */
  O2W_D_PARAMS_ADDR,    /* parameter blocks (the dims table first) */
  O2W_D_PARAMS_BYTES,
  O2W_D_WEIGHTS_ADDR,
  O2W_D_SYMS, O2W_D_TENSORS, O2W_D_PATCHES, O2W_D_POLYS,   /* table offsets of the sections */
  O2W_D_NCHECKS, O2W_D_CHECKS,
  O2W_D_HEADER
};
#define O2W_DESC_VERSION 3
#define O2W_D_MAX_RANK 8
#define O2W_D_SYM_WORDS 16                        /* name, max, slot, num, den, src, elem, nmap, 4 x {from, to} */
#define O2W_D_TENSOR_WORDS (7 + O2W_D_MAX_RANK)   /* name, dtype, rank, addr, bytes, cap, cap_axis, dim[8] */
#define O2W_ARENA_ALIGN 64

/* result codes of the C API (also in the generated header) */
enum { O2W_OK = 0, O2W_ERR_BOUND = 1, O2W_ERR_NAME = 2, O2W_ERR_ARG = 3 };

/* PREFIX_model_api(): every function of the C API in one table, also exported from shared libraries
 * as `onnx2wasm_model_api` for hosts that dlopen a model without knowing its prefix (the runner). */
#include <stddef.h>
#include <stdint.h>
typedef struct {
  int version;
  size_t (*arena_bytes)(void);
  int (*init)(void *);
  int (*run)(void *);
  int (*num_dims)(void);
  const char *(*dim_name)(int);
  int64_t (*dim_max)(int);
  int (*set_dim)(void *, const char *, int64_t);
  int (*num_inputs)(void), (*num_outputs)(void);
  const char *(*input_name)(int), *(*output_name)(int);
  int (*input_dtype)(int), (*output_dtype)(int);
  int (*input_shape)(const void *, int, int64_t *), (*output_shape)(const void *, int, int64_t *);
  size_t (*input_bytes)(const void *, int), (*output_bytes)(const void *, int);
  void *(*input)(void *, int);
  const void *(*output)(const void *, int);
  const char *(*signature_json)(void);
} O2wModelApi;
#endif
