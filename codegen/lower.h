/* lower.h — turning a planned Graph into a Program; the API op lowering hooks use.
 *
 * Usage (in an op's lower hook):
 *   RtUnary p = {.x = cg_addr(cx, n->in[0]), .y = cg_addr(cx, n->out[0]), .n = (int32_t)ir_numel(n->out[0])};
 *   p.act = (RtAct){RT_ACT_RELU, 0, 0};
 *   return cg_call(cx, K_unary_f32, &p, sizeof p, n);
 */
#ifndef LOWER_H
#define LOWER_H
#include "../ir/ir.h"
#include "../runtime/rt_abi.h"
#include "program.h"

typedef struct LowerCtx LowerCtx;
uint32_t cg_addr(LowerCtx *cx, const Value *v);    /* absolute address of a planned value (0 for NULL) */
uint32_t cg_scratch(LowerCtx *cx, const Node *n);  /* absolute address of the node's scratch space */
/* constant bytes stored with the parameter blocks (e.g. a scalar operand a kernel reads from memory);
 * returns their absolute address (16-byte aligned) */
uint32_t cg_data(LowerCtx *cx, const void *bytes, size_t size);
int cg_call(LowerCtx *cx, int kernel, const void *params, size_t size, const Node *n);
Graph *cg_graph(LowerCtx *cx);
/* sets an int32 field of the parameter block about to be passed to cg_call from a dim: its
 * value when constant, else a run-time patch (evaluated at the start of run) */
void cg_set(LowerCtx *cx, const void *block, int32_t *field, Dim d);
#define CG_DIM(cx, p, field, d) cg_set((cx), &(p), (int32_t *)&(p).field, (d))
RtAct cg_node_act(const Node *n);                   /* the node's fused epilogue activation */

/* Builds the Program; base = first free address after the runtime module's own data. */
int cg_lower(Graph *g, uint32_t base, Program *p);
#endif
