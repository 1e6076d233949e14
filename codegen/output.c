/* output.c — writing the compiler's output files: atomically, with a compiler's permissions, and
 * streamed (the weights go from the Graph's constants to the file, never through one more copy). */
#define _POSIX_C_SOURCE 200809L
#include "output.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct CgOut {
  Graph *g;
  FILE *f;
  char *path, *tmp;       /* tmp NULL: stdout */
  int err;                /* first errno, 0 while all is well */
};

CgOut *cg_out_open(Graph *g, const char *path) {
  CgOut *o = calloc(1, sizeof *o);
  if (!o) { ir_errorf(g, NULL, "out of memory"); return NULL; }
  o->g = g;
  o->path = strdup(path);
  if (!strcmp(path, "-")) { o->f = stdout; return o; }
  size_t pl = strlen(path);
  o->tmp = malloc(pl + 16);
  if (!o->path || !o->tmp) { free(o->path); free(o->tmp); free(o); ir_errorf(g, NULL, "out of memory"); return NULL; }
  snprintf(o->tmp, pl + 16, "%s.tmpXXXXXX", path);
  int fd = mkstemp(o->tmp);
  if (fd < 0) {
    int e = errno;
    ir_errorf(g, NULL, "cannot create '%s': %s", path, strerror(e));
    free(o->path); free(o->tmp); free(o);
    return NULL;
  }
  mode_t mask = umask(0);   /* the mode any compiler output gets (0666 & ~umask; mkstemp's is 0600) */
  umask(mask);
  if (fchmod(fd, 0666 & ~mask)) o->err = errno;
  o->f = fdopen(fd, "wb");
  if (!o->f) { o->err = errno; close(fd); }
  return o;
}

int cg_out_write(CgOut *o, const void *data, size_t n) {
  if (!o->err && n && fwrite(data, 1, n, o->f) != n) o->err = errno ? errno : EIO;
  return o->err ? -1 : 0;
}

int cg_out_zeros(CgOut *o, size_t n) {
  static const char zero[4096];
  for (; n && !o->err; n -= n < sizeof zero ? n : sizeof zero) cg_out_write(o, zero, n < sizeof zero ? n : sizeof zero);
  return o->err ? -1 : 0;
}

static void out_free(CgOut *o) { free(o->path); free(o->tmp); free(o); }

void cg_out_abort(CgOut *o) {
  if (!o) return;
  if (o->tmp) {
    if (o->f) fclose(o->f);
    unlink(o->tmp);
  }
  out_free(o);
}

int cg_out_commit(CgOut *o) {
  Graph *g = o->g;
  if (!o->tmp) {   /* stdout */
    if (!o->err && fflush(stdout)) o->err = errno;
    int e = o->err;
    out_free(o);
    return e ? ir_errorf(g, NULL, "cannot write the module to stdout: %s", strerror(e)) : 0;
  }
  if (o->f && fclose(o->f) && !o->err) o->err = errno;
  o->f = NULL;
  if (!o->err && rename(o->tmp, o->path)) o->err = errno;
  if (o->err) {
    int e = o->err;
    unlink(o->tmp);
    ir_errorf(g, NULL, "cannot write '%s': %s", o->path, strerror(e));
    out_free(o);
    return -1;
  }
  out_free(o);
  return 0;
}

int cg_write_atomic(Graph *g, const char *path, const void *data, size_t len) {
  CgOut *o = cg_out_open(g, path);
  if (!o) return -1;
  cg_out_write(o, data, len);
  return cg_out_commit(o);
}

int cg_out_weights(CgOut *o, const Program *p) {
  size_t at = 0;
  for (int i = 0; i < p->npieces && !o->err; i++) {
    const CgPiece *w = &p->pieces[i];
    cg_out_zeros(o, w->off - at);
    cg_out_write(o, w->src, w->n);
    ir_release(o->g, w->src, w->n);   /* a mapped constant's pages need not stay resident */
    at = w->off + w->n;
  }
  cg_out_zeros(o, p->weights_size - at);
  return o->err ? -1 : 0;
}
