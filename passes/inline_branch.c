/* inline_branch.c — an If whose condition has folded to a constant becomes the chosen branch: its
 * nodes are inlined right after the If (topological position: everything they read from enclosing
 * scopes comes earlier), and the fold pass goes on folding them, nested Ifs included. */
#include "passes.h"
#include "../ir/ops.h"
#include "../ir/ops/opcommon.h"

#include <stdlib.h>

/* branch-local names get the If's name as a prefix: "if_0/then_add" (nested: "if_0/if_1/x") */
static const char *local_name(Graph *g, const Node *owner, const char *name) {
  size_t n = strlen(owner->name) + strlen(name) + 2;
  char *s = ir_alloc(&g->arena, n);
  snprintf(s, n, "%s/%s", owner->name, name);
  return s;
}

/* the branch node computing v, or NULL (an outer value or an initializer) */
static Node *branch_producer(const Subgraph *b, const Value *v) {
  for (int i = 0; i < b->nnodes; i++)
    for (int k = 0; k < b->nodes[i]->nout; k++) if (b->nodes[i]->out[k] == v) return b->nodes[i];
  return NULL;
}

int pass_inline_branch(Graph *g, Node *n) {
  bool cond = oc_getf(n->in[0], 0) != 0;
  const Subgraph *b = ir_attr(n, cond ? "then_branch" : "else_branch")->sub;
  for (int i = 0; i < b->nnodes; i++) {
    Node *m = b->nodes[i];
    for (int k = 0; k < m->nout; k++) if (m->out[k] && *m->out[k]->name) m->out[k]->name = local_name(g, n, m->out[k]->name);
  }
  for (int i = 0; i < b->ninits; i++) b->inits[i]->name = local_name(g, n, b->inits[i]->name);
  Node **ns = malloc((size_t)(b->nnodes + n->nout + 1) * sizeof *ns);
  Value **from = malloc((size_t)(n->nout + 1) * sizeof *from), **to = malloc((size_t)(n->nout + 1) * sizeof *to);
  if (!ns || !from || !to) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  int k = 0, nr = 0;
  for (int i = 0; i < b->nnodes; i++) {
    b->nodes[i]->name = local_name(g, n, b->nodes[i]->name);
    ns[k++] = b->nodes[i];
  }
  /* the If's outputs keep their names (they may be graph outputs): a value a branch node computes is
   * written straight into the If's output; an outer value, an initializer, or a value the branch
   * returns twice is copied by an Identity (a view, or folded when constant) */
  for (int j = 0; j < n->nout; j++) {
    Value *o = n->out[j], *r = b->outputs[j];
    if (!o) continue;
    Node *p = branch_producer(b, r);
    if (p) {
      for (int s = 0; s < p->nout; s++) if (p->out[s] == r) p->out[s] = o;
      o->producer = p;
      from[nr] = r; to[nr++] = o;
    } else {
      char nm[32];
      snprintf(nm, sizeof nm, "output_%d", j);
      Node *id = ir_node_detached(g, local_name(g, n, nm), "Identity", n->opset);
      ir_add_input(g, id, r);
      ir_add_output(g, id, o);
      ns[k++] = id;
    }
  }
  n->dead = true;
  ir_insert_nodes(g, n->index + 1, ns, k);
  for (int i = 0; i < nr; i++) ir_replace_uses(g, from[i], to[i]);   /* the branch's own readers of its results */
  ir_recount_uses(g);
  free(ns); free(from); free(to);
  return 0;
}
