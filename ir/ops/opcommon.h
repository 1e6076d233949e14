/* opcommon.h — helpers shared by the op family files: input/attribute checks, element access, broadcasting. */
#ifndef OPCOMMON_H
#define OPCOMMON_H
#include "../ir.h"
#include "../ops.h"
#include "../../codegen/lower.h"

#include <math.h>
#include <string.h>

/* element access of constant data in any numeric dtype, as double / int64. Unchecked: v->data must
 * be present and hold element i (eval hooks, whose inputs fold has checked; passes that test
 * v->data). An infer hook reads its inputs with oc_in_i / oc_in_f, or after oc_need_const. */
double oc_getf(const Value *v, int64_t i);
int64_t oc_geti(const Value *v, int64_t i);
void oc_setf(Value *v, int64_t i, double x);   /* rounds/casts into v->dt */
/* element i of an integer constant as a dim (symbolic elements included) */
Dim oc_elem(const Value *v, int64_t i);
/* symbolic evaluation of shape arithmetic (ir/ops/shape.c): 1 done, 0 not applicable, -1 error */
int op_sym_eval(Graph *g, Node *n);
/* allocate v->data for v's (known) shape and mark it constant */
void *oc_make_const(Graph *g, Value *v);

/* checks returning -1 with an error naming the node */
int oc_need_float(Graph *g, Node *n, int k);   /* input k is float32 */
int oc_need_rank(Graph *g, Node *n, int k, int rank);
int oc_need_known(Graph *g, Node *n, int k);   /* input k has a known, concrete shape */
int oc_need_const(Graph *g, Node *n, int k);   /* input k is a constant with data (not symbolic) */
int oc_need_const_dims(Graph *g, Node *n, int k); /* input k is a constant, maybe with symbolic elements (oc_elem) */
/* element i of input k, checked: -1 with an error naming the node when input k is missing, computed
 * at run time, known only symbolically (run-time dims) or has no element i */
int oc_in_i(Graph *g, Node *n, int k, int64_t i, int64_t *out);
int oc_in_f(Graph *g, Node *n, int k, int64_t i, double *out);
int oc_axis(Graph *g, Node *n, int64_t axis, int rank, int *out); /* normalizes a possibly negative axis */
/* input k is a graph input (not a constant) whose elements an op may read as run-time dims (oc_in_dim):
 * a 1-D int64/int32 tensor of a known length */
bool oc_is_rt_input(const Node *n, int k);
/* element i of input k as a dim: a constant's element (symbolic ones included), or, when input k is a graph
 * input (oc_is_rt_input), a run-time symbol the module reads from it at the start of each run and checks
 * against max (ir_dim_elem: the value from[j] there stands for the dim to[j]; a constant's element is not mapped) */
int oc_in_dim(Graph *g, Node *n, int k, int64_t i, int nmap, const int64_t *from, const Dim *to, int64_t max, Dim *out);
/* element i of input k as an integer (a float truncated toward zero): a constant's, or, when input k is a graph input
 * (int64/int32/float32/float64, at most 1-D), `want`, a size the model declares (what), which the element must
 * equal when the run starts (an element symbol with that bound and a dim check); want < 0: an error (not declared) */
int oc_in_declared(Graph *g, Node *n, int k, int64_t i, int64_t want, const char *what, int64_t *out);

/* numpy-style broadcast of a and b into out (dtype set by the caller) */
int oc_broadcast(Graph *g, Node *n, const Value *a, const Value *b, Value *out);
/* element strides of v when broadcast to a rank-r shape `dims` (0 on broadcast dims) */
void oc_bcast_strides(const Value *v, int r, const Dim *dims, int64_t *strides);
void oc_set_out(Value *out, DType dt, int rank, const Dim *dims);
/* symbolic versions for lowering: element strides when broadcast to `dims` (0 on broadcast dims),
 * element counts of a dim range */
void oc_bcast_strides_dim(Graph *g, const Value *v, int r, Dim *strides);
Dim oc_prod(Graph *g, const Dim *dims, int from, int to);
static inline bool oc_is1(Dim d) { return ir_dim_known(d) && d.c == 1; }
/* a and b must be equal: true if they are, or if one is a run-time dim the module checks equal when it runs
 * (ir_dim_assume_eq: an FPN's skip connection, a Concat or MatMul over sizes the compiler cannot relate) */
static inline bool oc_same_dim(Graph *g, Dim a, Dim b) {
  return ir_dim_eq(a, b) || ((!ir_dim_known(a) || !ir_dim_known(b)) && ir_dim_assume_eq(g, a, b));
}
/* The leading nb (batch) dims of y for a kernel reading operands ops[0..nops) (NULL = absent), each
 * with its batch dims first (its rank - 2 of them), right-aligned against y's: per operand the
 * storage stride (ir_strides) of each batch dim, 0 where the operand broadcasts. Size-1 dims are
 * dropped and runs contiguous in every operand merged; returns how many remain, in dims[] and
 * st[operand][]. (MatMul and FusedAttention lowering.) */
int oc_batch_dims(Graph *g, const Value *y, int nb, const Value *const *ops, int nops, Dim *dims, Dim st[][IR_MAX_RANK]);

/* sliding-window geometry of Conv / MaxPool / AveragePool over 1 to 3 spatial dims. The input and output
 * sizes may be run-time dims (din/dout; an output size over a run-time input is a derived dim, see
 * ir_dim_floordiv); in/out are their values at the bounds (what scratch and tiling are sized for). */
#define OC_MAX_SP 3
typedef struct {
  int sp;                                  /* spatial dims: 1 to OC_MAX_SP */
  int64_t in[OC_MAX_SP], k[OC_MAX_SP], s[OC_MAX_SP], d[OC_MAX_SP], pb[OC_MAX_SP], pe[OC_MAX_SP], out[OC_MAX_SP];
  Dim din[OC_MAX_SP], dout[OC_MAX_SP];
} Window;
/* reads kernel_shape (or `kshape` when given), strides, dilations, pads, auto_pad, ceil_mode; an input of
 * more than max_sp spatial dims (max_sp <= OC_MAX_SP: what the op's kernels take) is an error */
int oc_window(Graph *g, Node *n, const Value *x, const int64_t *kshape, int max_sp, Window *w);

/* the activation a unary node computes (Relu, Clip, ...), for lowering and epilogue fusion;
 * -1 if the node's parameters are not constant */
int op_unary_act(Graph *g, Node *n, RtAct *act);
/* reference activation in double precision (the oracle for the act kernels) */
double op_act_ref(RtAct act, double x);
#endif
