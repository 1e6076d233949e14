/* dce.c — dead-node removal: drops nodes none of whose outputs is read or is a graph output. */
#include "passes.h"

int pass_dce(Graph *g) {
  ir_recount_uses(g);
  bool changed = true;
  while (changed) {                           /* backwards sweeps until nothing more dies */
    changed = false;
    for (int i = g->nnodes - 1; i >= 0; i--) {
      Node *n = g->nodes[i];
      if (n->dead) continue;
      bool live = false;
      for (int k = 0; k < n->nout; k++)
        if (n->out[k] && (n->out[k]->nuses > 0 || n->out[k]->is_output)) live = true;
      if (live) continue;
      n->dead = true;
      for (int k = 0; k < n->nin; k++) if (n->in[k]) n->in[k]->nuses--;
      if (n->res) n->res->nuses--;
      if (n->xscale) n->xscale->nuses--;
      changed = true;
    }
  }
  ir_compact(g);
  return 0;
}
