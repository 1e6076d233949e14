/* output.h — writing output files (the .wasm, a package's files, a header).
 *
 * A file is written to a temporary name beside it and renamed when complete, so a failure never leaves
 * a partial file; it gets mode 0666 & ~umask. Path "-" writes to stdout. Errors name the path and the
 * OS reason.
 *
 * Usage:
 *   if (cg_write_atomic(g, "out/model.wasm", bytes, n)) fprintf(stderr, "%s\n", ir_error(g));
 *
 *   CgOut *o = cg_out_open(g, path);          // streamed: any number of writes, then commit or abort
 *   if (!o) return -1;
 *   cg_out_write(o, head, nhead);
 *   cg_out_weights(o, prog);                   // the weights region, straight from the constants
 *   return cg_out_commit(o);                   // reports the first write error, if any
 */
#ifndef OUTPUT_H
#define OUTPUT_H
#include <stddef.h>
#include <stdio.h>
#include "../ir/ir.h"
#include "program.h"

int cg_write_atomic(Graph *g, const char *path, const void *data, size_t len);

typedef struct CgOut CgOut;
CgOut *cg_out_open(Graph *g, const char *path);       /* NULL with an error in g */
int cg_out_write(CgOut *o, const void *data, size_t n); /* -1 once a write has failed (commit reports it) */
int cg_out_zeros(CgOut *o, size_t n);
int cg_out_weights(CgOut *o, const Program *p);         /* [weights_addr, +weights_size) as the module's bytes */
int cg_out_commit(CgOut *o);                            /* close, rename into place; frees o */
void cg_out_abort(CgOut *o);                            /* remove the temporary file; frees o */
#endif
