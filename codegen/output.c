/* output.c — writing the compiler's output files: atomically, with a compiler's permissions. */
#define _POSIX_C_SOURCE 200809L
#include "output.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* writes to a temporary name and renames it, so a failed compile never leaves a partial output; the
 * file gets the mode any compiler output gets (0666 & ~umask; mkstemp's is 0600) */
int cg_write_atomic(Graph *g, const char *path, const void *data, size_t len) {
  if (!strcmp(path, "-")) {
    if (fwrite(data, 1, len, stdout) != len || fflush(stdout)) return ir_errorf(g, NULL, "cannot write the module to stdout: %s", strerror(errno));
    return 0;
  }
  size_t pl = strlen(path);
  char *tmp = malloc(pl + 16);
  if (!tmp) return ir_errorf(g, NULL, "out of memory");
  snprintf(tmp, pl + 16, "%s.tmpXXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) { int e = errno; free(tmp); return ir_errorf(g, NULL, "cannot create '%s': %s", path, strerror(e)); }
  mode_t mask = umask(0);
  umask(mask);
  FILE *f = fdopen(fd, "wb");
  bool ok = fchmod(fd, 0666 & ~mask) == 0;
  ok = f && fwrite(data, 1, len, f) == len && ok;
  if (f) ok = (fclose(f) == 0) && ok;
  else close(fd);
  int e = errno;
  if (!ok || rename(tmp, path)) {
    if (ok) e = errno;
    unlink(tmp);
    free(tmp);
    return ir_errorf(g, NULL, "cannot write '%s': %s", path, strerror(e));
  }
  free(tmp);
  return 0;
}
