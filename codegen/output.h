/* output.h — writing output files (the .wasm, a package's files).
 *
 * Usage:
 *   if (cg_write_atomic(g, "out/model.wasm", bytes, n)) fprintf(stderr, "%s\n", ir_error(g));
 */
#ifndef OUTPUT_H
#define OUTPUT_H
#include <stddef.h>
#include "../ir/ir.h"

/* data to path through a temporary file and a rename, so a failure never leaves a partial file; mode
 * 0666 & ~umask. path "-" writes to stdout. Errors name the path and the OS reason. */
int cg_write_atomic(Graph *g, const char *path, const void *data, size_t len);
#endif
