/* passes.h — the pass table and pipeline. Each pass: one file, one entry point `int pass_<name>(Graph *)`.
 *
 * Usage:
 *   PassOptions po = {.opt_level = 2, .print_after = "fold", .dump = stderr};
 *   if (pass_run_pipeline(g, &po)) fprintf(stderr, "%s\n", ir_error(g));
 */
#ifndef PASSES_H
#define PASSES_H
#include "../ir/ir.h"

typedef int (*PassFn)(Graph *);
typedef struct {
  const char *name;
  const char *desc;     /* one line for --list-passes */
  int min_level;        /* runs when opt_level >= min_level (0 = always: needed for correctness) */
  PassFn fn;
} PassInfo;

#define PASS(name, level, desc) int pass_##name(Graph *);
#include "passes.def"
#undef PASS

extern const PassInfo pass_table[];
extern const int pass_count;

typedef struct {
  int opt_level;                /* -O0 .. -O3 */
  const char *print_after;      /* pass name, "all", or NULL */
  FILE *dump;                   /* where --print-after writes (stderr by default) */
  bool verify;                  /* run ir_verify after every pass */
  const char *disabled[16];     /* optimization passes not to run (--no-pass NAME) */
  int ndisabled;
} PassOptions;

int pass_run_pipeline(Graph *g, const PassOptions *o);
const PassInfo *pass_find(const char *name);
/* shared by passes: infer one node's outputs (checks input/output counts first) */
int pass_infer_node(Graph *g, Node *n);
/* If n's condition is a constant: n's chosen branch inlined after it, n dead (passes/inline_branch.c) */
int pass_inline_branch(Graph *g, Node *n);
/* the one live node reading v, or NULL if none or several */
Node *pass_single_consumer(Graph *g, const Value *v);
/* v is an intermediate (not a graph output) read once, by `consumer`: a pass may fold it away */
bool pass_private_to(Graph *g, const Value *v, Node *consumer);
#endif
