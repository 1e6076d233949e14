/* pack_weights.c — repacks constant Conv weights into the layout the GEMM micro-kernel reads, and
 * constant 2-D MatMul B operands into 8-column panels (runtime/pack.h), once at compile time; the
 * panels are stored as bfloat16 when every value of B is exactly one (a checkpoint shipped in bfloat16:
 * half the bytes to stream, the same products; --no-bf16-weights keeps float32); the
 * node keeps its ONNX-layout weight for inference and carries the packed copy in Node.wpack, which
 * lowering passes to the kernel. 3x3 stride-1 convs chosen by op_conv_winograd get
 * Winograd-transformed weights instead (Node.wino = tile size). Both enlarge the weights (Winograd 4x, the
 * panels' zero rows up to a multiple of MR), so for a target that defers such transforms
 * (Target.init_transforms: wasm) they are constants the module computes when it starts (ir_init_const,
 * lowered to `once` calls of rt_wino_pack_f32 / rt_conv_pack_f32) and the download keeps w as the ONNX file
 * has it; a conv whose panels need no zero rows is packed here (the same bytes, nothing to gain). */
#include "passes.h"
#include "../ir/ops.h"
#include "../runtime/pack.h"
#include "../runtime/prepack.h"
#include "../runtime/rt_abi.h"
#include "../codegen/target.h"

#include <stdlib.h>

/* an integer conv's constant weights minus their zero points in int16 (runtime/prepack.h rt_q_conv_pack_i16): 2x
 * the int8 bytes as rows, 3.6x as Winograd's U, so computed when a wasm module starts (from w and w_zp, which ship
 * as the ONNX file has them), at compile time for a native library */
static int pack_qconv(Graph *g, Node *n, int fmt, Value *w, Value *wz) {
  int k = (int)w->dims[0].c, cg = (int)w->dims[1].c, khkw = (int)(ir_numel(w) / k / cg);
  int64_t ne = (int64_t)rt_q_conv_packed_bytes(fmt, k, cg, khkw) / 2;
  char name[256];
  snprintf(name, sizeof name, "%s.%s", w->name, fmt == RT_WF_I16_WINO ? "wino_i16" : "i16");
  Value *pw;
  if (!g->target || g->target->init_transforms) {
    pw = ir_init_const(g, name, DT_INT16, 1, &ne, IR_INIT_QCONV, w, fmt);
    pw->init_aux = wz;
  } else {
    int fl = (w->dt == DT_INT8 ? RT_Q_B_S8 : 0) | (wz && ir_numel(wz) > 1 ? RT_Q_BZP_VEC : 0);
    pw = ir_const(g, name, DT_INT16, 1, &ne, NULL);
    if (!pw->data) return ir_errorf(g, n, "out of memory");
    rt_q_conv_pack_i16(w->data, wz ? wz->data : NULL, fl, fmt, k, cg, khkw, pw->data);
    ir_release(g, w->data, (size_t)ir_nbytes(w));
  }
  n->wpack = pw;
  n->wfmt = fmt;
  return 0;
}

int pass_pack_weights(Graph *g) {
  const int mr = g->target ? g->target->panel_rows : RT_PANEL_ROWS_WASM;   /* the GEMM tile's rows on the target */
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (!n->dead && n->op == OP_MatMul && !n->wpack && !n->trans_b) {
      Value *b = n->in[1];
      if (b->kind != VK_CONST || !b->data || b->dt != DT_FLOAT || b->rank != 2 || !ir_shape_known(b)) continue;
      int k = (int)b->dims[0].c, nn = (int)b->dims[1].c;
      if (k <= 0 || nn <= 0) continue;
      int64_t nf = (int64_t)rt_matmul_panels_floats(k, nn);
      bool bf16 = !g->no_bf16_weights && rt_is_bf16_exact(b->data, (size_t)k * (size_t)nn);
      char name[256];
      snprintf(name, sizeof name, "%s.panels%s", b->name, bf16 ? ".bf16" : "");
      Value *pb = ir_const(g, name, bf16 ? DT_BFLOAT16 : DT_FLOAT, 1, &nf, NULL);
      if (bf16) rt_pack_matmul_panels_bf16(b->data, pb->data, k, nn);
      else rt_pack_matmul_panels(b->data, pb->data, k, nn);
      ir_release(g, b->data, (size_t)ir_nbytes(b));   /* the panels are what ships: b's pages may go */
      n->wpack = pb;
      n->wfmt = bf16 ? RT_WF_BF16_PANELS : RT_WF_F32_PANELS;
      continue;
    }
    if (!n->dead && (n->op == OP_ConvInteger || n->op == OP_QLinearConv || n->op == OP_ConvIntegerScaled) && !n->wpack) {
      Value *w, *wz;
      int fmt = op_qconv_prepack(g, n, &w, &wz);
      if (fmt < 0) return -1;
      if (fmt && pack_qconv(g, n, fmt, w, wz)) return -1;
      continue;
    }
    if (n->dead || n->op != OP_Conv || n->wpack) continue;
    Value *w = n->in[1], *x = n->in[0];
    if (w->kind != VK_CONST || w->dt != DT_FLOAT || !ir_shape_known(w) || !ir_dim_known(x->dims[1])) continue;
    if (w->rank > 4) continue;   /* 3-D convs: rt_conv3d_f32 reads the ONNX layout */
    int k = (int)w->dims[0].c, c = (int)x->dims[1].c, group = (int)ir_attr_int(n, "group", 1);
    int crs = (int)(ir_numel(w) / k);
    int m = op_conv_winograd(g, n);
    if (m) { /* Winograd: the transformed weights U = G w G^T, per tile position (runtime/pack.h) */
      int64_t nf = (int64_t)rt_wino_packed_floats(k, c, m, mr);
      char name[256];
      snprintf(name, sizeof name, "%s.wino%d", w->name, m);
      Value *pw;
      if (!g->target || g->target->init_transforms) {   /* computed when the module starts, from w */
        pw = ir_init_const(g, name, DT_FLOAT, 1, &nf, IR_INIT_WINO, w, m);
      } else {
        pw = ir_const(g, name, DT_FLOAT, 1, &nf, NULL);
        rt_pack_wino_weights(w->data, pw->data, k, c, m, mr);
        ir_release(g, w->data, (size_t)ir_nbytes(w));
      }
      n->wpack = pw;
      n->wino = m;
      continue;
    }
    if (!rt_conv2d_wants_packing(k, c, group)) continue;
    int64_t nf = (int64_t)rt_conv2d_packed_floats(k, crs, group, mr);
    char name[256];
    snprintf(name, sizeof name, "%s.packed", w->name);
    Value *pw;
    if ((!g->target || g->target->init_transforms) && nf > ir_numel(w))   /* zero rows added: pack at start-up */
      pw = ir_init_const(g, name, DT_FLOAT, 1, &nf, IR_INIT_CONVPACK, w, group);
    else {
      pw = ir_const(g, name, DT_FLOAT, 1, &nf, NULL);
      rt_pack_conv2d_weights(w->data, pw->data, k, crs, group, mr);
      ir_release(g, w->data, (size_t)ir_nbytes(w));
    }
    n->wpack = pw;
  }
  ir_recount_uses(g);
  return 0;
}
