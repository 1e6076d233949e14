/* flush_denormals.c — float32 constants read only as operands of the arithmetic-heavy ops (Conv,
 * ConvTranspose, Gemm, MatMul) get their subnormal values (0 < |v| < FLT_MIN) replaced by zero of
 * the same sign.
 *
 * Why: x86 cores take a microcode assist, ~100 cycles, for every multiply with a subnormal operand or
 * result, and WebAssembly has no flush-to-zero mode to turn that off. Trained models carry such
 * weights: weight decay shrinks dead channels towards zero (PaddleOCR's ppocr_rec has 31,350 of them,
 * most in its squeeze-excite convs, where one 480->120 1x1 conv on a 1x1 input took 0.43 ms instead of
 * 0.03). A subnormal weight contributes less than FLT_MIN * |x| to a sum, far below float32's
 * resolution of any non-tiny result.
 *
 * A constant that anything else reads (a comparison, a graph output, a shape) keeps its exact bits. */
#include "passes.h"
#include "../ir/ops.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool arithmetic_reader(const Node *n) {
  return n->op == OP_Conv || n->op == OP_ConvTranspose || n->op == OP_Gemm || n->op == OP_MatMul;
}

int pass_flush_denormals(Graph *g) {
  /* ok[v->id]: every live reader of v (ir_node_reads: inputs and fused operands alike) is an arithmetic op */
  char *ok = malloc((size_t)g->nvalues + 1);
  if (!ok) return ir_errorf(g, NULL, "out of memory");
  memset(ok, 1, (size_t)g->nvalues + 1);
  Value *reads[IR_MAX_IO + 8];
  for (int i = 0; i < g->nnodes; i++) {
    const Node *n = g->nodes[i];
    if (n->dead || arithmetic_reader(n)) continue;
    int k = ir_node_reads(n, reads);
    for (int j = 0; j < k; j++) ok[reads[j]->id] = 0;
  }
  for (int i = 0; i < g->nvalues; i++) {
    Value *v = g->values[i];
    if (v->kind != VK_CONST || v->dt != DT_FLOAT || !v->data || v->is_output || v->nuses == 0 || !ok[v->id]) continue;
    int64_t n = ir_numel(v);
    float *d = v->data;
    for (int64_t k = 0; k < n; k++)
      if (d[k] != 0.0f && fabsf(d[k]) < FLT_MIN) d[k] = signbit(d[k]) ? -0.0f : 0.0f;
    ir_release(g, d, (size_t)ir_nbytes(v));   /* scanned: the untouched pages of a mapped weight may go */
  }
  free(ok);
  return 0;
}
