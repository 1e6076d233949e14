/* passes.c — the pass table (from passes.def), the pipeline driver and helpers shared by passes. */
#include "passes.h"
#include "../ir/ops.h"

#include <string.h>

const PassInfo pass_table[] = {
#define PASS(name, level, desc) {#name, desc, level, pass_##name},
#include "passes.def"
#undef PASS
};
const int pass_count = (int)(sizeof pass_table / sizeof pass_table[0]);

/* -O1 folds BN into convs; the flag is read by pass_fold_bn */
int pass_opt_level = 2;

const PassInfo *pass_find(const char *name) {
  for (int i = 0; i < pass_count; i++) if (!strcmp(pass_table[i].name, name)) return &pass_table[i];
  return NULL;
}

int pass_run_pipeline(Graph *g, const PassOptions *o) {
  pass_opt_level = o->opt_level;
  FILE *dump = o->dump ? o->dump : stderr;
  for (int i = 0; i < pass_count; i++) {
    const PassInfo *p = &pass_table[i];
    if (o->opt_level < p->min_level) continue;
    bool off = false;
    for (int d = 0; d < o->ndisabled; d++) off |= !strcmp(o->disabled[d], p->name);
    if (off && p->min_level > 0) continue;
    if (p->fn(g) || ir_failed(g)) {
      if (!ir_failed(g)) ir_errorf(g, NULL, "pass '%s' failed", p->name);
      return -1;
    }
    if (o->verify && ir_verify(g)) return -1;
    if (o->print_after && (!strcmp(o->print_after, "all") || !strcmp(o->print_after, p->name))) {
      fprintf(dump, "# IR after %s\n", p->name);
      ir_dump(g, dump);
    }
  }
  return 0;
}

int pass_infer_node(Graph *g, Node *n) {
  const OpInfo *op = &ops_table[n->op];
  if (n->op == OP_UNKNOWN) {                       /* from a chosen If branch (the frontend rejects the rest) */
    if (n->domain && *n->domain && strcmp(n->domain, "ai.onnx")) return ir_errorf(g, n, "op '%s' of domain '%s' is not supported", n->op_type, n->domain);
    return ir_errorf(g, n, "unsupported op '%s'", n->op_type);
  }
  int nin = n->nin;
  while (nin > 0 && !n->in[nin - 1]) nin--;       /* trailing absent optionals don't count */
  if (nin < op->min_in || nin > op->max_in)
    return ir_errorf(g, n, "has %d inputs, expected %d to %d", nin, op->min_in, op->max_in);
  if (n->nout < op->min_out || n->nout > op->max_out || !n->out[0])
    return ir_errorf(g, n, "has %d outputs, expected %d to %d", n->nout, op->min_out, op->max_out);
  for (int k = 0; k < (op->max_in >= 64 ? n->nin : op->min_in); k++)   /* a variadic op's inputs are all required */
    if (!n->in[k]) return ir_errorf(g, n, "required input %d is missing", k);
  for (int k = 0; k < nin; k++)
    if (n->in[k] && n->in[k]->rank < 0)
      return ir_errorf(g, n, "the shape of input %d '%s' is unknown", k, n->in[k]->name);
  g->cur = n;
  int rc = op->infer(g, n) || ir_failed(g) ? -1 : 0;
  for (int k = 0; k < n->nout && !rc; k++) rc = ir_check_size(g, n, n->out[k]);
  g->cur = NULL;
  return rc;
}

Node *pass_single_consumer(Graph *g, const Value *v) {
  Node *found = NULL;
  int start = v->producer ? v->producer->index + 1 : 0;
  for (int i = start; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    for (int k = 0; k < n->nin; k++)
      if (n->in[k] == v) { if (found && found != n) return NULL; found = n; }
    if (n->res == v) { if (found && found != n) return NULL; found = n; }
  }
  return found;
}

bool pass_private_to(Graph *g, const Value *v, Node *consumer) {
  return v->kind == VK_TEMP && !v->is_output && v->nuses == 1 && pass_single_consumer(g, v) == consumer;
}
