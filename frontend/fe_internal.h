/* fe_internal.h — what the frontend's files share: name tables, scopes, tensors, nodes, subgraphs.
 *
 * Usage (a subgraph's node, its inputs resolved innermost scope first):
 *   FeScope sc = {.up = outer};
 *   Node *n = fe_node(g, np, &sc, "Add_0");   // detached: not in g->nodes
 *   free(sc.names.s);
 */
#ifndef FE_INTERNAL_H
#define FE_INTERNAL_H
#include "frontend.h"
#include "onnx.pb-c.h"

/* name -> pointer table (open addressing); keys are borrowed */
typedef struct { const char *key; void *v; } Slot;
typedef struct { Slot *s; size_t cap, n; } Names;
void *fe_names_get(const Names *t, const char *k);
void fe_names_put(Names *t, const char *k, void *v);

/* a graph's value names, and the scope enclosing it (NULL for the model's graph) */
typedef struct FeScope { Names names; struct FeScope *up; } FeScope;
Value *fe_lookup(const FeScope *sc, const char *name);  /* innermost scope first, NULL if none */

/* a growable list of borrowed names (malloc'd; free(l.s)) */
typedef struct { const char **s; size_t n, cap; } NameList;
void fe_namelist_add(NameList *l, const char *name);

Value *fe_tensor_value(Graph *g, const Onnx__TensorProto *t, const char *what);
/* np into g->nodes (name NULL) or detached under `name`; NULL on error */
Node *fe_node(Graph *g, const Onnx__NodeProto *np, FeScope *sc, const char *name);
/* node order of gp: each node after the producers of its inputs and of the names its subgraphs read */
int fe_topo_order(Graph *g, const Onnx__GraphProto *gp, size_t *order);

/* subgraph.c */
/* the names np's subgraph attributes read from scopes enclosing np (appended to out) */
void fe_node_captures(const Onnx__NodeProto *np, NameList *out);
/* the GRAPH attribute `attr` of node owner as a Subgraph of g, read in the scope `outer` */
Subgraph *fe_subgraph(Graph *g, const Onnx__GraphProto *gp, FeScope *outer, const Node *owner, const char *attr);
#endif
