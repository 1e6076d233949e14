/* test_codegen.c — codegen pieces testable without a model: the relaxed-SIMD rewrite of a module
 * (codegen/wasm_relax.c) on hand-assembled modules, checked byte for byte against the module written out by
 * hand from the spec's encodings (the relaxed probe of runtime/js/onnx2wasm.mjs is the same encoding,
 * validated by wasm-validate --enable-relaxed-simd and by V8). */
#include <stdlib.h>
#include <string.h>

#include "codegen/wasm_relax.h"
#include "harness.h"

#define HDR 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00
/* type 0: (v128 v128 v128) -> v128; type 1: () -> v128 */
#define TYPES 0x01, 0x0c, 0x02, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, 0x60, 0x00, 0x01, 0x7b
#define SPLAT0 0x41, 0x00, 0xfd, 0x11   /* i32.const 0; i32x4.splat */

/* import o2w_relaxed.f32x4_madd (function 0); function 1 calls it on three splats, function 2 calls function 1
 * and is exported as "f" */
static const unsigned char with_placeholder[] = {
    HDR, TYPES,
    0x02, 0x1a, 0x01, 0x0b, 'o', '2', 'w', '_', 'r', 'e', 'l', 'a', 'x', 'e', 'd', 0x0a, 'f', '3', '2', 'x', '4', '_',
    'm', 'a', 'd', 'd', 0x00, 0x00,
    0x03, 0x03, 0x02, 0x01, 0x01,
    0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x02,
    0x0a, 0x17, 0x02, 0x10, 0x00, SPLAT0, SPLAT0, SPLAT0, 0x10, 0x00, 0x0b, 0x04, 0x00, 0x10, 0x01, 0x0b,
};
/* the same with f32x4.relaxed_madd (0xfd 0x105) in place of the call, no import, indices shifted by one */
static const unsigned char expected[] = {
    HDR, TYPES,
    0x03, 0x03, 0x02, 0x01, 0x01,
    0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x01,
    0x0a, 0x18, 0x02, 0x11, 0x00, SPLAT0, SPLAT0, SPLAT0, 0xfd, 0x85, 0x02, 0x0b, 0x04, 0x00, 0x10, 0x00, 0x0b,
};

TEST(relax_rewrites_placeholder_calls) {
  unsigned char *out = NULL;
  size_t n = 0;
  char err[200] = "";
  CHECK_MSG(cg_wasm_relax(with_placeholder, sizeof with_placeholder, &out, &n, err, sizeof err) == 0, "%s", err);
  CHECK_MSG(n == sizeof expected, "%zu bytes, expected %zu", n, sizeof expected);
  CHECK(out && n == sizeof expected && !memcmp(out, expected, n));
  free(out);
}

TEST(relax_leaves_other_modules_alone) {
  unsigned char *out = NULL;
  size_t n = 0;
  char err[200] = "";
  CHECK_MSG(cg_wasm_relax(expected, sizeof expected, &out, &n, err, sizeof err) == 0, "%s", err);
  CHECK(out && n == sizeof expected && !memcmp(out, expected, n));
  free(out);
}

TEST(relax_refuses_what_it_cannot_rewrite) {
  unsigned char m[sizeof with_placeholder];
  unsigned char *out = NULL;
  size_t n = 0;
  char err[200] = "";
  /* the export names the placeholder itself (function 0): not an instruction any more */
  memcpy(m, with_placeholder, sizeof m);
  for (size_t i = 0; i + 2 < sizeof m; i++)
    if (m[i] == 'f' && m[i + 1] == 0x00 && m[i + 2] == 0x02 && m[i - 1] == 0x01) { m[i + 2] = 0x00; break; }
  CHECK(cg_wasm_relax(m, sizeof m, &out, &n, err, sizeof err) != 0);
  CHECK_MSG(strstr(err, "placeholder") != NULL, "%s", err);
  /* an unknown placeholder name */
  memcpy(m, with_placeholder, sizeof m);
  for (size_t i = 0; i + 4 <= sizeof m; i++)   /* f32x4_madd -> f32x4_mxdd, same length */
    if (!memcmp(m + i, "madd", 4)) { m[i + 1] = 'x'; break; }
  CHECK(cg_wasm_relax(m, sizeof m, &out, &n, err, sizeof err) != 0);
  CHECK_MSG(strstr(err, "unknown relaxed-SIMD placeholder") != NULL, "%s", err);
  /* a truncated module */
  CHECK(cg_wasm_relax(with_placeholder, sizeof with_placeholder - 3, &out, &n, err, sizeof err) != 0);
  CHECK(cg_wasm_relax((const unsigned char *)"\0asn", 4, &out, &n, err, sizeof err) != 0);
}

int main(void) {
  RUN(relax_rewrites_placeholder_calls);
  RUN(relax_leaves_other_modules_alone);
  RUN(relax_refuses_what_it_cannot_rewrite);
  return harness_done();
}
