/* subgraph.c — GRAPH attributes (If's then_branch / else_branch) to detached IR subgraphs (ir.h). */
#include "fe_internal.h"

#include <stdlib.h>
#include <string.h>

void fe_namelist_add(NameList *l, const char *name) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 16;
    l->s = realloc(l->s, l->cap * sizeof *l->s);
    if (!l->s) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  }
  l->s[l->n++] = name;
}

/* the names gp reads but does not define (its inputs, initializers and node outputs), nested
 * subgraphs included */
static void graph_captures(const Onnx__GraphProto *gp, NameList *out) {
  Names local = {0};
  for (size_t i = 0; i < gp->n_input; i++) if (gp->input[i]->name) fe_names_put(&local, gp->input[i]->name, &local);
  for (size_t i = 0; i < gp->n_initializer; i++) if (gp->initializer[i]->name) fe_names_put(&local, gp->initializer[i]->name, &local);
  for (size_t i = 0; i < gp->n_node; i++)
    for (size_t k = 0; k < gp->node[i]->n_output; k++)
      if (gp->node[i]->output[k] && *gp->node[i]->output[k]) fe_names_put(&local, gp->node[i]->output[k], &local);
  NameList reads = {0};
  for (size_t i = 0; i < gp->n_node; i++) {
    const Onnx__NodeProto *np = gp->node[i];
    for (size_t k = 0; k < np->n_input; k++) if (np->input[k] && *np->input[k]) fe_namelist_add(&reads, np->input[k]);
    fe_node_captures(np, &reads);
  }
  for (size_t i = 0; i < gp->n_output; i++) if (gp->output[i]->name && *gp->output[i]->name) fe_namelist_add(&reads, gp->output[i]->name);
  for (size_t i = 0; i < reads.n; i++) if (!fe_names_get(&local, reads.s[i])) fe_namelist_add(out, reads.s[i]);
  free(reads.s);
  free(local.s);
}

void fe_node_captures(const Onnx__NodeProto *np, NameList *out) {
  for (size_t k = 0; k < np->n_attribute; k++) {
    const Onnx__AttributeProto *a = np->attribute[k];
    if (a->g) graph_captures(a->g, out);
    for (size_t j = 0; j < a->n_graphs; j++) graph_captures(a->graphs[j], out);
  }
}

Subgraph *fe_subgraph(Graph *g, const Onnx__GraphProto *gp, FeScope *outer, const Node *owner, const char *attr) {
  if (gp->n_input) {
    ir_errorf(g, owner, "attribute '%s': the subgraph declares %zu inputs; an If branch takes none", attr, gp->n_input);
    return NULL;
  }
  if (gp->n_sparse_initializer) { ir_errorf(g, owner, "attribute '%s': sparse initializers are not supported", attr); return NULL; }
  Subgraph *sub = ir_alloc(&g->arena, sizeof *sub);
  sub->name = ir_strdup(&g->arena, gp->name ? gp->name : attr);
  sub->nodes = ir_alloc(&g->arena, (gp->n_node + 1) * sizeof *sub->nodes);
  sub->inits = ir_alloc(&g->arena, (gp->n_initializer + 1) * sizeof *sub->inits);
  sub->outputs = ir_alloc(&g->arena, (gp->n_output + 1) * sizeof *sub->outputs);
  FeScope sc = {.up = outer};                  /* the branch's own names shadow the enclosing ones */
  for (size_t i = 0; i < gp->n_initializer && !g->failed; i++) {
    Value *v = fe_tensor_value(g, gp->initializer[i], "initializer");
    if (!v) break;
    sub->inits[sub->ninits++] = v;
    fe_names_put(&sc.names, v->name, v);
  }
  size_t *order = calloc(gp->n_node + 1, sizeof *order);
  if (!order) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  if (!g->failed) fe_topo_order(g, gp, order);
  for (size_t i = 0; i < gp->n_node && !g->failed; i++) {
    const Onnx__NodeProto *np = gp->node[order[i]];
    char label[96];
    snprintf(label, sizeof label, "%s_%zu", np->op_type ? np->op_type : "", order[i]);
    Node *n = fe_node(g, np, &sc, np->name && *np->name ? np->name : label);
    if (!n) break;
    sub->nodes[sub->nnodes++] = n;
  }
  for (size_t i = 0; i < gp->n_output && !g->failed; i++) {
    const char *nm = gp->output[i]->name ? gp->output[i]->name : "";
    Value *v = fe_lookup(&sc, nm);
    if (!v) { ir_errorf(g, owner, "attribute '%s': output '%s' is not produced by the subgraph or an enclosing graph", attr, nm); break; }
    sub->outputs[sub->noutputs++] = v;
  }
  free(order);
  free(sc.names.s);
  return g->failed ? NULL : sub;
}
