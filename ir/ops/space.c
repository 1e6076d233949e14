/* space.c — DepthToSpace and SpaceToDepth: a 4-D tensor viewed as 6-D and transposed (one rt_transpose
 * call, any element size). With b = blocksize and x [N, C, H, W]:
 *   DepthToSpace DCR: x as [N, b, b, C/b², H, W], perm (0, 3, 4, 1, 5, 2) -> [N, C/b², H*b, W*b]
 *   DepthToSpace CRD: x as [N, C/b², b, b, H, W], perm (0, 1, 4, 2, 5, 3) -> the same shape
 *   SpaceToDepth:     x as [N, C, H/b, b, W/b, b], perm (0, 3, 5, 1, 2, 4) -> [N, C*b², H/b, W/b] */
#include <stdint.h>
#include "opcommon.h"

static int blocksize(Graph *g, Node *n, int64_t *b) {
  *b = ir_attr_int(n, "blocksize", 0);
  if (*b < 1 || *b > INT32_MAX) return ir_errorf(g, n, "blocksize must be a positive integer below 2^31");
  return 0;
}

int op_space_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  int64_t b;
  if (blocksize(g, n, &b) || oc_need_known(g, n, 0)) return -1;
  if (x->rank != 4) return ir_errorf(g, n, "input has rank %d, expected 4 (N, C, H, W)", x->rank);
  int64_t c = x->dims[1].c, h = x->dims[2].c, w = x->dims[3].c;
  Dim d[4] = {x->dims[0], ir_dimc(0), ir_dimc(0), ir_dimc(0)};
  if (n->op == OP_DepthToSpace) {
    const char *mode = ir_attr_str(n, "mode", "DCR");
    if (strcmp(mode, "DCR") && strcmp(mode, "CRD")) return ir_errorf(g, n, "mode '%s' is not DCR or CRD", mode);
    if (c % (b * b)) return ir_errorf(g, n, "%lld channels are not a multiple of blocksize^2 = %lld", (long long)c, (long long)(b * b));
    d[1] = ir_dimc(c / (b * b)); d[2] = ir_dim_mul(g, ir_dimc(h), ir_dimc(b)); d[3] = ir_dim_mul(g, ir_dimc(w), ir_dimc(b));
  } else {
    if (h % b || w % b) return ir_errorf(g, n, "height %lld and width %lld must be multiples of blocksize %lld", (long long)h, (long long)w, (long long)b);
    d[1] = ir_dim_mul(g, ir_dimc(c), ir_dimc(b * b)); d[2] = ir_dimc(h / b); d[3] = ir_dimc(w / b);
  }
  oc_set_out(n->out[0], x->dt, 4, d);
  return 0;
}

int op_space_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0];
  int64_t b;
  if (blocksize(g, n, &b)) return -1;
  int64_t N = x->dims[0].c, c = x->dims[1].c, h = x->dims[2].c, w = x->dims[3].c, view[6];
  int perm[6];
  if (n->op == OP_SpaceToDepth) {
    int64_t v[6] = {N, c, h / b, b, w / b, b};
    int p[6] = {0, 3, 5, 1, 2, 4};
    memcpy(view, v, sizeof v); memcpy(perm, p, sizeof p);
  } else if (!strcmp(ir_attr_str(n, "mode", "DCR"), "CRD")) {
    int64_t v[6] = {N, c / (b * b), b, b, h, w};
    int p[6] = {0, 1, 4, 2, 5, 3};
    memcpy(view, v, sizeof v); memcpy(perm, p, sizeof p);
  } else {
    int64_t v[6] = {N, b, b, c / (b * b), h, w};
    int p[6] = {0, 3, 4, 1, 5, 2};
    memcpy(view, v, sizeof v); memcpy(perm, p, sizeof p);
  }
  int64_t st[6], s = 1;
  for (int i = 5; i >= 0; i--) { st[i] = s; s *= view[i]; }
  if (s > INT32_MAX) return ir_errorf(g, n, "tensor too large");
  RtTranspose p = {.x = cg_addr(cx, x), .y = cg_addr(cx, n->out[0]), .esize = ir_dtype_size(x->dt), .rank = 6};
  for (int i = 0; i < 6; i++) { p.dim[i] = (int32_t)view[perm[i]]; p.xstride[i] = (int32_t)st[perm[i]]; }
  return cg_call(cx, K_transpose, &p, sizeof p, n);
}
