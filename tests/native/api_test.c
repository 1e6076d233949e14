/* api_test.c — the native C API on a model with a run-time dim (dyn_mlp: x[seq,16] -> y[seq,8], seq <= 64):
 * names and indices, dtypes and shapes, bound-checked dims, refused arenas, and four threads running the
 * model at once on their own arenas with different dims, each result compared with a single-threaded run.
 * Prints "api: N checks passed, M failed"; exit status 1 on any failure. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dyn_mlp.h"

static int pass, fail;
#define CHECK(c, ...) do { if (c) pass++; else { fail++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

static void fill(float *x, int seq, int salt) {
  for (int i = 0; i < seq * 16; i++) x[i] = (float)((i * 7 + salt) % 13) / 13.0f - 0.4f;
}

typedef struct { int seq, salt, rounds; float *out; int status; } Job;

static void *worker(void *arg) {
  Job *j = arg;
  void *a = dyn_mlp_create();
  if (!a) { j->status = -1; return NULL; }
  for (int r = 0; r < j->rounds; r++) {
    if (dyn_mlp_set_dim(a, "seq", j->seq) || !dyn_mlp_input(a, 0)) { j->status = -2; break; }
    fill(dyn_mlp_input(a, 0), j->seq, j->salt);
    if ((j->status = dyn_mlp_run(a))) break;
    memcpy(j->out, dyn_mlp_output(a, 0), dyn_mlp_output_bytes(a, 0));
  }
  dyn_mlp_destroy(a);
  return NULL;
}

int main(void) {
  CHECK(dyn_mlp_num_inputs() == 1 && dyn_mlp_num_outputs() == 1, "one input, one output");
  CHECK(!strcmp(dyn_mlp_input_name(0), "x") && !strcmp(dyn_mlp_output_name(0), "y"), "names");
  CHECK(dyn_mlp_input_index("x") == 0 && dyn_mlp_output_index("y") == 0 && dyn_mlp_input_index("nope") == -1, "indices");
  CHECK(dyn_mlp_input_name(1) == NULL && dyn_mlp_input(NULL, 0) == NULL, "out-of-range index, NULL arena");
  CHECK(dyn_mlp_input_dtype(0) == O2W_FLOAT32 && dyn_mlp_output_dtype(0) == O2W_FLOAT32, "dtypes");
  CHECK(dyn_mlp_num_dims() == 1 && !strcmp(dyn_mlp_dim_name(0), "seq") && dyn_mlp_dim_max(0) == 64, "the dim and its bound");
  CHECK(dyn_mlp_arena_bytes() == DYN_MLP_ARENA_BYTES, "arena size macro");

  void *a = dyn_mlp_create();
  CHECK(a != NULL, "create");
  int64_t d[8];
  CHECK(dyn_mlp_get_dim(a, "seq") == 64 && dyn_mlp_input_shape(a, 0, d) == 2 && d[0] == 64 && d[1] == 16, "dims at the bound after init");
  CHECK(dyn_mlp_set_dim(a, "seq", 65) == O2W_ERR_BOUND && dyn_mlp_get_dim(a, "seq") == 64, "past the bound: refused, unchanged");
  CHECK(dyn_mlp_set_dim(a, "seq", -1) == O2W_ERR_BOUND, "negative: refused");
  CHECK(dyn_mlp_set_dim(a, "len", 3) == O2W_ERR_NAME, "unknown dim");
  CHECK(dyn_mlp_set_dim(a, "seq", 5) == O2W_OK && dyn_mlp_output_shape(a, 0, d) == 2 && d[0] == 5 && d[1] == 8, "output shape follows");
  CHECK(dyn_mlp_input_bytes(a, 0) == 5 * 16 * 4 && dyn_mlp_output_bytes(a, 0) == 5 * 8 * 4, "bytes at the dims");
  CHECK(dyn_mlp_run((char *)a + 4) == O2W_ERR_ARG && dyn_mlp_init((char *)a + 4) == O2W_ERR_ARG, "misaligned arena refused");
  /* a corrupted dims table (the arena is the caller's memory) is caught by run itself */
  dyn_mlp_set_dim(a, "seq", 64);
  unsigned char *raw = a;
  int32_t bad = 1 << 20;
  size_t at = 0;
  for (size_t i = 0; i + 4 <= dyn_mlp_arena_bytes(); i += 4) {
    int32_t v;
    memcpy(&v, raw + i, 4);
    if (v == 64) { dyn_mlp_set_dim(a, "seq", 63); memcpy(&v, raw + i, 4); if (v == 63) { at = i; break; } dyn_mlp_set_dim(a, "seq", 64); }
  }
  CHECK(at > 0, "found the dims table");
  memcpy(raw + at, &bad, 4);
  CHECK(dyn_mlp_run(a) == O2W_ERR_BOUND, "run refuses a corrupted dim");
  dyn_mlp_destroy(a);

  /* threads: reference results single-threaded, then all at once */
  enum { T = 4 };
  Job jobs[T], ref[T];
  pthread_t th[T];
  for (int t = 0; t < T; t++) {
    ref[t] = (Job){1 + 17 * t, t, 1, calloc(64 * 8, 4), 0};
    jobs[t] = (Job){ref[t].seq, t, 50, calloc(64 * 8, 4), 0};
    worker(&ref[t]);
  }
  for (int t = 0; t < T; t++) pthread_create(&th[t], NULL, worker, &jobs[t]);
  for (int t = 0; t < T; t++) pthread_join(th[t], NULL);
  for (int t = 0; t < T; t++)
    CHECK(jobs[t].status == 0 && ref[t].status == 0 && !memcmp(jobs[t].out, ref[t].out, (size_t)jobs[t].seq * 8 * 4),
          "thread %d (seq %d): same result as alone", t, jobs[t].seq);
  printf("api: %d checks passed, %d failed\n", pass, fail);
  return fail ? 1 : 0;
}
