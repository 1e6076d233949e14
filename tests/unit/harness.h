/* harness.h — a minimal test harness: CHECK records a failure and goes on; main prints "N passed, M failed".
 *
 * Usage:
 *   TEST(parse_dims) { CHECK(x == 1); CHECK_MSG(ok, "detail %d", k); }
 *   int main(void) { RUN(parse_dims); return harness_done(); }
 */
#ifndef HARNESS_H
#define HARNESS_H
#include <stdio.h>

extern int harness_failed_checks;
void harness_run(const char *name, void (*fn)(void));
int harness_done(void);
const char *harness_src(const char *rel);     /* path under the source tree ($O2W_SRC) */
const char *harness_tmp(const char *name);    /* path in a per-run temporary directory */

#define TEST(name) static void test_##name(void)
#define RUN(name) harness_run(#name, test_##name)
#define CHECK(cond) CHECK_MSG(cond, "%s", #cond)
#define CHECK_MSG(cond, ...)                                              \
  do {                                                                    \
    if (!(cond)) {                                                        \
      harness_failed_checks++;                                            \
      fprintf(stderr, "  %s:%d: check failed: ", __FILE__, __LINE__);     \
      fprintf(stderr, __VA_ARGS__);                                       \
      fputc('\n', stderr);                                                \
    }                                                                     \
  } while (0)
#endif
