/* tfidf.c — TfIdfVectorizer (RtTfIdf, runtime/rt_abi.h): scalar n-gram counting against the compiler's
 * table of pool n-grams, row by row. */
#include "rt_internal.h"

static int64_t tf_x(const void *x, int32_t x64, ptrdiff_t i) {
  return x64 ? ((const int64_t *)x)[i] : (int64_t)((const int32_t *)x)[i];
}

RT_EXPORT("rt_tfidf") void rt_tfidf(const RtTfIdf *p) {
  const void *x = RT_PTR(const void, p->x);
  float *y = RT_PTR(float, p->y);
  const int32_t *tab = (const int32_t *)(const void *)((const char *)p + p->tab);
  const unsigned char *vals = (const unsigned char *)(tab + 4 * (ptrdiff_t)p->ngrams);
  for (ptrdiff_t i = 0; i < (ptrdiff_t)p->n * p->nout; i++) y[i] = 0.0f;
  for (int32_t r = 0; r < p->n; r++) {
    float *yr = y + (ptrdiff_t)r * p->nout;
    const ptrdiff_t row = (ptrdiff_t)r * p->c;
    for (int32_t j = 0; j < p->ngrams; j++) {
      const int32_t len = tab[4 * j], oi = tab[4 * j + 1], first = tab[4 * j + 3];
      float wt;
      __builtin_memcpy(&wt, &tab[4 * j + 2], 4);
      int32_t count = 0;
      for (int32_t s = 0; s <= (len == 1 ? 0 : p->max_skip); s++) {
        const ptrdiff_t span = (ptrdiff_t)(len - 1) * (s + 1);
        for (ptrdiff_t i = 0; i + span < p->c; i++) {
          int32_t k = 0;
          for (; k < len; k++) {
            int64_t v;
            __builtin_memcpy(&v, vals + 8 * ((ptrdiff_t)first + k), 8);
            if (tf_x(x, p->x64, row + i + (ptrdiff_t)k * (s + 1)) != v) break;
          }
          count += k == len;
        }
      }
      if (oi < 0 || oi >= p->nout || !count) continue;
      if (p->mode == 1) yr[oi] = wt;
      else yr[oi] += p->mode == 0 ? (float)count : (float)count * wt;
    }
  }
}
