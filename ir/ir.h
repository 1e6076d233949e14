/* ir.h — the compiler's graph IR: arena, dtypes, symbolic dims, values, nodes, graphs, errors.
 *
 * Usage:
 *   Graph *g = ir_graph_new();
 *   Value *x = ir_value(g, "x");  x->dt = DT_FLOAT; ir_set_shape(x, 2, (int64_t[]){1, 4});
 *   Node *n = ir_node(g, "relu0", "Relu", 13);  ir_add_input(g, n, x);  ir_add_output(g, n, ir_value(g, "y"));
 *   if (ir_failed(g)) fprintf(stderr, "%s\n", ir_error(g));
 *   ir_graph_free(g);
 *
 * Every allocation of a compilation comes from the graph's arena and is freed with the graph.
 * Bad input is reported with ir_errorf(g, node, ...) (first error wins) and a -1/NULL return;
 * assert() is for compiler bugs only.
 */
#ifndef IR_H
#define IR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define IR_MAX_RANK 8
struct Graph;

/* ---- arena ---- */
typedef struct ArenaBlock ArenaBlock;
typedef struct { ArenaBlock *head; size_t total; } Arena;
void *ir_alloc(Arena *a, size_t n);            /* zeroed, 16-byte aligned; aborts only on OOM */
char *ir_strdup(Arena *a, const char *s);
void ir_arena_free(Arena *a);

/* ---- dtypes: numbering is ONNX's TensorProto.DataType ---- */
typedef enum {
  DT_UNDEF = 0, DT_FLOAT = 1, DT_UINT8 = 2, DT_INT8 = 3, DT_UINT16 = 4, DT_INT16 = 5,
  DT_INT32 = 6, DT_INT64 = 7, DT_STRING = 8, DT_BOOL = 9, DT_FLOAT16 = 10, DT_DOUBLE = 11,
  DT_UINT32 = 12, DT_UINT64 = 13, DT_BFLOAT16 = 16, DT_COUNT_ = 17
} DType;
int ir_dtype_size(DType t);                    /* bytes per element, 0 if unsupported */
const char *ir_dtype_name(DType t);            /* "float32", "int64", ... */
bool ir_dtype_is_float(DType t);
bool ir_dtype_is_int(DType t);                 /* signed or unsigned integer (not bool) */

/* ---- dims: a constant or a polynomial over dim_param symbols (ir/dim.c) ----
 * A symbolic dim is kept in canonical form: a sum of terms coef * sym_1 * ... * sym_k, sorted, no
 * zero terms, so `past + seq` built in any order compares equal and (seq*768)/768 is seq. */
#define IR_DIM_MAX_TERMS 6
#define IR_DIM_MAX_DEG 3
typedef struct {
  int64_t coef;
  uint8_t deg;                   /* number of symbol factors (0: the constant term) */
  uint8_t sym[IR_DIM_MAX_DEG];   /* symbol indices, ascending */
} DimTerm;
typedef struct DimExpr {
  int n;                         /* terms */
  DimTerm t[IR_DIM_MAX_TERMS];
} DimExpr;
typedef struct {
  int64_t c;            /* the value when e == NULL */
  const DimExpr *e;     /* symbolic polynomial, or NULL for a constant */
} Dim;
static inline Dim ir_dimc(int64_t c) { Dim d = {c, NULL}; return d; }
static inline bool ir_dim_known(Dim d) { return d.e == NULL; }

/* ---- attributes (ONNX AttributeProto, decoded) ---- */
typedef enum { AT_NONE, AT_FLOAT, AT_INT, AT_STRING, AT_TENSOR, AT_GRAPH, AT_FLOATS, AT_INTS, AT_STRINGS } AttrType;
struct Value;
typedef struct {
  const char *name;
  AttrType type;
  float f;
  int64_t i;
  const char *s;                 /* AT_STRING (NUL-terminated copy) */
  int n;                         /* count for FLOATS / INTS / STRINGS */
  float *floats;
  int64_t *ints;
  const char **strings;
  struct Value *t;               /* AT_TENSOR: a constant value (not in the graph's value list) */
  struct Subgraph *sub;          /* AT_GRAPH: a branch/body graph (If's then_branch, else_branch) */
} Attr;

/* ---- values ---- */
typedef enum { VK_TEMP = 0, VK_INPUT, VK_CONST } ValueKind;
typedef struct Node Node;
typedef struct Value {
  const char *name;
  ValueKind kind;
  bool is_output;                /* listed in the graph's outputs */
  DType dt;
  int rank;                      /* -1: shape not known yet */
  Dim dims[IR_MAX_RANK];
  const char *dim_names[IR_MAX_RANK]; /* dim_param symbols as written in the model (inputs/outputs) */
  void *data;                    /* VK_CONST: dense little-endian row-major data (ir_nbytes long) */
  Dim *sym;                      /* VK_CONST integer tensors of shape arithmetic whose elements are
                                    symbolic dims (e.g. Shape of [1, seq]); data is NULL then */
  Node *producer;
  int nuses;                     /* number of node-input slots that read this value (live nodes) */
  /* memory plan */
  struct Value *alias;           /* shares the storage of alias (view ops), or NULL */
  int64_t offset;                /* arena / weights offset, -1 until planned */
  int last_use;                  /* index of the last node reading it (planner) */
  /* storage layout: dense row-major, except a resident cache (passes/resident_kv.c): its axis
   * cap_axis holds `cap` slots of which dims[cap_axis] are in use (cap > 0) */
  int64_t cap;
  int cap_axis;
  struct Value *resident_in;     /* a graph input stored in the first dims[cap_axis] slots of this
                                    graph output's storage, so the host need not copy it in */
  /* a constant the module computes when it starts instead of shipping it (data is NULL): init_kind says
   * how (IR_INIT_*), from the constant init_src (shipped) and init_aux (an integer conv's weight zero points, or
   * NULL), with init_arg (the Winograd tile size, the group, the int16 format) */
  int init_kind;
  struct Value *init_src, *init_aux;
  int init_arg;
  int id;
} Value;
enum { IR_INIT_NONE = 0, IR_INIT_WINO = 1, IR_INIT_CONVPACK = 2, IR_INIT_QCONV = 3 };   /* init_arg: tile size / group / RtWFormat */

/* ---- size arithmetic and the limit policy ----
 * Shapes come from the model, so their products and sums may overflow int64: every size, stride and
 * offset is computed with these (false on overflow). The policy: dims are in [0, 2^32) and a tensor's bytes
 * (run-time dims at their bounds) fit the 32-bit wasm address space, i.e. are below IR_MAX_BYTES. */
#define IR_MAX_BYTES ((int64_t)1 << 32)
static inline bool ir_mul_ok(int64_t a, int64_t b, int64_t *r) { return !__builtin_mul_overflow(a, b, r); }
static inline bool ir_add_ok(int64_t a, int64_t b, int64_t *r) { return !__builtin_add_overflow(a, b, r); }
/* 0 if v obeys the policy, else -1 with an error naming n (or the node being worked on) and the value */
int ir_check_size(struct Graph *g, const Node *n, const Value *v);

/* element and byte counts saturate at INT64_MAX on overflow (so they fail ir_check_size) */
int64_t ir_numel(const Value *v);              /* -1 if some dim is symbolic or rank unknown */
int64_t ir_nbytes(const Value *v);
int64_t ir_numel_max(const struct Graph *g, const Value *v);  /* storage elements: symbols at their bounds, a resident cache at its capacity; -1 if rank unknown */
int64_t ir_nbytes_max(const struct Graph *g, const Value *v);
void ir_set_shape(Value *v, int rank, const int64_t *dims);
bool ir_shape_known(const Value *v);           /* rank known and every dim constant */
bool ir_same_shape(const Value *a, const Value *b);
/* element strides of v's storage (dense, or with v->cap slots along v->cap_axis) */
void ir_strides(struct Graph *g, const Value *v, Dim *strides);

/* ---- nodes ---- */
#define IR_MAX_IO 64
struct Node {
  const char *name;              /* node name (or a generated "<op>_<index>" when the model has none) */
  const char *op_type;           /* as written in the model */
  const char *domain;
  int op;                        /* OpId (ir/ops.h), OP_UNKNOWN if not registered */
  int opset;                     /* opset version of the node's domain */
  int nin, nout;
  Value **in;                    /* NULL entries are absent optional inputs */
  Value **out;
  int nattr;
  Attr *attrs;
  bool dead;
  int index;                     /* position in Graph.nodes */
  /* fused epilogue, set by passes (kernel-level; see runtime/rt_abi.h) */
  int act;                       /* RtActKind */
  float act_a, act_b;
  Value *res;                    /* fused residual add, or NULL */
  Value *xscale;                 /* Conv: per-input-channel scale [N or 1, C, 1, 1] folded in (x * xscale), or NULL */
  Value *wpack;                  /* weights repacked for the kernel (replaces in[1] at run time), or NULL */
  int wino;                      /* Conv: 2 or 4 when wpack holds Winograd F(wino x wino, 3x3) weights (rt_conv_wino_f32) */
  int wfmt;                      /* MatMul: how wpack stores B (RtWFormat, runtime/rt_abi.h; 0 = no wpack) */
  int wblock;                    /* MatMul, RT_WF_Q8/Q4_PANELS: K rows per scale */
  bool wzeros;                   /* MatMul, RT_WF_Q8/Q4_PANELS: some zero point is nonzero */
  Value *wscale;                 /* MatMul, RT_WF_Q8/Q4_PANELS: the per-block scales and zero points (runtime/pack.h);
                                    in[1] is then a shape-only constant (data NULL): B exists only packed */
  bool trans_b;                  /* MatMul: in[1] holds B transposed in its last two axes (a folded Transpose) */
  Value *bias;                   /* MatMul: a fused bias over the last axis [N], or NULL */
  int64_t scratch_off, scratch_bytes; /* memory plan: temporary arena space for the kernel */
};

/* ---- subgraphs (If branches) ----
 * A subgraph's nodes are detached: built in the graph's arena but not in Graph.nodes, in topological
 * order. Their inputs point straight at the values they read, so a reference to an enclosing scope
 * is the outer Value itself (resolved by name in the frontend, innermost scope first). Its values
 * (node outputs, initializers) are in Graph.values, unread until the nodes are inlined. */
typedef struct Subgraph {
  const char *name;              /* the GraphProto's name */
  Node **nodes; int nnodes;      /* detached, topologically ordered */
  Value **inits; int ninits;     /* the subgraph's own initializers */
  Value **outputs; int noutputs; /* branch results: local values, initializers or outer values */
} Subgraph;

/* A derived symbol: a run-time dim no host sets, computed by the module at the start of each run as
 * floor(num / den) from the symbols before it (a Conv's output height over a run-time input height,
 * floor((h + 2 - 3) / 2) + 1). num < 0 (an input too small for the window) is a run-time error, like a
 * symbol past its bound; the bound is num's value at the bounds, divided. (ir_dim_floordiv) */
/* An element symbol: a run-time dim whose value is element `elem` of the graph input `src` (int64 or int32, or
 * float32/float64 truncated toward zero, as OneHot's depth; a Reshape's shape, an Expand's shape given as an
 * input), read by the module at the start of each run, when
 * the inputs are in memory. A value map_from[k] there stands for the dim map_to[k] (Reshape's 0 and -1 entries,
 * Expand's 1); the result past [0, bound] is a run-time error naming `node`. The bound is a declared shape's
 * dim, a size the op keeps (a Reshape's element count), or --max-dim "src[elem]" (else the default). map_to
 * reads only the symbols before it. (ir_dim_elem) */
#define IR_ELEM_MAP 4
typedef struct SymDef {
  Dim num; int64_t den;          /* derived (src NULL) */
  const struct Value *src;       /* element symbol: the graph input, its index in Graph.inputs, the element */
  int input; int64_t elem;
  int nmap; int64_t map_from[IR_ELEM_MAP]; Dim map_to[IR_ELEM_MAP];
  const char *node;              /* the node that reads it (errors) */
} SymDef;
/* Two run-time dims the graph needs equal that the compiler cannot prove equal (an FPN's Add of an upsampled
 * map, 2*floor((h-1)/32) + 2, and a skip connection, floor((h-1)/16) + 1: equal when h is a multiple of 32).
 * The module checks them at the start of each run: unequal is a run-time error, like a dim past its bound. */
typedef struct DimCheck { Dim a, b; const char *node; } DimCheck;

/* ---- graph ---- */
typedef struct Graph {
  Arena arena;
  Node **nodes; int nnodes, capnodes;
  Value **values; int nvalues, capvalues;
  Value **inputs; int ninputs;   /* runtime inputs (initializers excluded) */
  Value **outputs; int noutputs;
  const char **syms; int nsyms;  /* dim_param symbols */
  int64_t *sym_value;            /* value bound at compile time (--dim) per symbol, -1 if run-time */
  int64_t *sym_max;              /* upper bound per run-time symbol (--max-dim) */
  struct SymDef **sym_def;       /* per symbol: NULL, or how the module computes it (a derived symbol) */
  DimCheck *checks; int nchecks; /* run-time dim equalities (ir_dim_assume_eq) */
  int64_t default_max;           /* bound for symbols without --max-dim */
  struct IrDeclared { const char *name; int rank; int64_t dims[IR_MAX_RANK]; } *decl; int ndecl;
                                 /* shapes the model declares (graph outputs, value_info): -1 for a dim not concrete */
  int opset;                     /* default-domain opset */
  const char *model_dir;         /* folder of the model file (external data) */
  const char *name;
  int64_t weights_size, arena_size; /* memory plan results (passes/plan.c) */
  int64_t shipped_size;          /* the part of weights_size with bytes in the output; past it, the constants
                                    computed when the module starts (Value.init_kind) */
  char err[1024];
  bool failed;
  const Node *cur;               /* the node whose hook runs (infer, lower): named by errors raised below
                                    it without a node, e.g. by dim arithmetic that overflows */
  int debug_verify;
  bool no_winograd;              /* --no-winograd: 3x3 convs keep the direct GEMM kernel */
  bool no_bf16_weights;          /* --no-bf16-weights: MatMul panels stay float32 even when bfloat16 is exact */
  struct {                       /* --quantize (passes/quant_weights.c) */
    int bits;                    /* 0 none, 8 (int8 per output column) or 4 (int4 blocks) */
    int block;                   /* int4: K rows per scale */
    const char *skip[16]; int nskip; /* --quantize-skip: node names or op types left in float32 */
    FILE *report;                /* a line per quantized MatMul (its weight error), or NULL */
  } quant;
  const struct Target *target;   /* what the output is for (codegen/target.h); NULL: the wasm32 defaults */
  struct IrMapping *maps; int nmaps; /* files mapped for constants to read in place (ir_map_file) */
} Graph;

Graph *ir_graph_new(void);
void ir_graph_free(Graph *g);
Value *ir_value(Graph *g, const char *name);   /* new value (names need not be unique) */
Value *ir_const(Graph *g, const char *name, DType dt, int rank, const int64_t *dims, const void *data);
/* a constant computed when the module starts (Value.init_kind) from src: no data at compile time */
Value *ir_init_const(Graph *g, const char *name, DType dt, int rank, const int64_t *dims, int kind, Value *src, int arg);
/* Constants read in place from a file (external data): the file is mapped once per graph, privately (an
 * in-place edit of a constant stays in this process), and unmapped by ir_graph_free. ir_release tells the
 * OS that bytes of a mapping will not be read again soon: their clean pages are reclaimed (and re-read
 * from the file if they are), so a model's weights need not all be resident at once. It does nothing for
 * other memory. */
void *ir_map_file(Graph *g, const char *path, size_t *len);   /* NULL (errno set) on failure */
Value *ir_const_view(Graph *g, const char *name, DType dt, int rank, const int64_t *dims, void *data);
void ir_release(Graph *g, const void *p, size_t n);
Node *ir_node(Graph *g, const char *name, const char *op_type, int opset);
Node *ir_node_detached(Graph *g, const char *name, const char *op_type, int opset); /* not in g->nodes (index -1); name required */
void ir_insert_nodes(Graph *g, int pos, Node *const *ns, int k); /* detached nodes into g->nodes at pos, in order */
void ir_add_input(Graph *g, Node *n, Value *v);
void ir_add_output(Graph *g, Node *n, Value *v);
Node *ir_insert_after(Graph *g, Node *after, const char *name, const char *op_type); /* new node right after `after` */
void ir_recount_uses(Graph *g);                /* recompute nuses and producer over live nodes */
int ir_node_reads(const Node *n, Value **out); /* the values n reads at run time (<= IR_MAX_IO + 4) */
void ir_replace_uses(Graph *g, Value *from, Value *to); /* every live reader and output slot */
void ir_compact(Graph *g);                     /* drop dead nodes, renumber */
int ir_sym(Graph *g, const char *name);        /* intern a dim_param symbol */
Dim ir_dim_sym(Graph *g, int sym);
Dim ir_dim_add(Graph *g, Dim a, Dim b);
Dim ir_dim_sub(Graph *g, Dim a, Dim b);
Dim ir_dim_mul(Graph *g, Dim a, Dim b);
bool ir_dim_div(Graph *g, Dim a, Dim b, Dim *q);   /* exact division only; false if not representable */
/* floor(a / den), den >= 1, for an a that must be >= 0 at run time: a constant, or a polynomial when a
 * cannot be negative and den divides it exactly, else a derived symbol (Graph.sym_def; one per distinct a
 * and den) which the module computes and checks (a < 0 is a run-time error) */
Dim ir_dim_floordiv(Graph *g, Dim a, int64_t den);
/* a == b where the compiler cannot tell (both run-time dims, not provably equal): records a run-time check
 * for the node being inferred (Graph.cur) and returns a; false (with an error) if they can never be equal */
bool ir_dim_assume_eq(Graph *g, Dim a, Dim b);
/* element elem of graph input src as a run-time dim (an element symbol, SymDef above; one per distinct src, elem
 * and map), for node n; the value from[k] there stands for the dim to[k] (nmap <= IR_ELEM_MAP); max: the bound
 * (-1: --max-dim or the default). An error (and 0) if src is not an integer graph input or elem is past its end. */
Dim ir_dim_elem(Graph *g, const Node *n, const Value *src, int64_t elem, int nmap, const int64_t *from, const Dim *to, int64_t max);
/* the shape the model declares for the value named name (rank, dims -1 where not concrete), or -1 */
int ir_declared_shape(const Graph *g, const char *name, int64_t *dims);
/* fills in the derived symbols' values (in order) from the others in vals; false if a numerator is < 0 */
bool ir_syms_derive(const Graph *g, int64_t *vals);
int64_t ir_dim_eval(const Graph *g, Dim d, const int64_t *sym_values);
int64_t ir_dim_max(const Graph *g, Dim d);         /* value with every symbol at its bound (sym_max) */
int ir_dim_str(const Graph *g, Dim d, char *buf, size_t n);  /* "past + seq", "768*seq", "4" */
int ir_dim_str_syms(const char *const *syms, Dim d, char *buf, size_t n);   /* the same with the symbols' names */
bool ir_dim_eq(Dim a, Dim b);

/* attributes */
const Attr *ir_attr(const Node *n, const char *name);
int64_t ir_attr_int(const Node *n, const char *name, int64_t dflt);
float ir_attr_float(const Node *n, const char *name, float dflt);
const char *ir_attr_str(const Node *n, const char *name, const char *dflt);
int ir_attr_ints(const Node *n, const char *name, const int64_t **out); /* count, -1 if absent */

/* errors: first one wins; returns -1 so callers can `return ir_errorf(...)` */
int ir_errorf(Graph *g, const Node *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline bool ir_failed(const Graph *g) { return g->failed; }
static inline const char *ir_error(const Graph *g) { return g->err; }

/* printing and checking */
void ir_dump(const Graph *g, FILE *f);
void ir_value_str(const Graph *g, const Value *v, char *buf, size_t n);  /* "float32[1,3,N]" */
int ir_verify(Graph *g);                       /* structural checks (compiler bugs), 0 if fine */

#endif
