/* harness.c — the unit-test harness (see harness.h). */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#include <stdlib.h>
#include <string.h>

int harness_failed_checks;
static int passed, failed;

void harness_run(const char *name, void (*fn)(void)) {
  int before = harness_failed_checks;
  fn();
  if (harness_failed_checks == before) { passed++; printf("ok   %s\n", name); }
  else { failed++; printf("FAIL %s\n", name); }
}

int harness_done(void) {
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

const char *harness_src(const char *rel) {
  static char buf[8][4096];
  static int k;
  const char *src = getenv("O2W_SRC");
  char *b = buf[k++ & 7];
  snprintf(b, sizeof buf[0], "%s/%s", src ? src : ".", rel);
  return b;
}

const char *harness_tmp(const char *name) {
  static char dir[256];
  static char buf[8][4096];
  static int k;
  if (!dir[0]) {
    snprintf(dir, sizeof dir, "/tmp/o2w-unit-XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); exit(2); }
  }
  char *b = buf[k++ & 7];
  snprintf(b, sizeof buf[0], "%s/%s", dir, name);
  return b;
}
