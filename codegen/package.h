/* package.h — a compiled model as an npm package: onnx2wasm m.onnx -o DIR/ (docs/js-tools.md).
 *
 * Usage (the driver):
 *   cg_package_dir(g, "out");                        // the folder, created if missing
 *   cg_wasm_emit(g, &prog, "out/model.wasm", ...);   // and out/model.relaxed.wasm
 *   cg_package_files(g, &prog, "out", "m.onnx");     // loader, index.mjs, index.d.ts, package.json, README.md
 */
#ifndef PACKAGE_H
#define PACKAGE_H
#include "program.h"

int cg_package_dir(Graph *g, const char *dir);
int cg_package_files(Graph *g, const Program *p, const char *dir, const char *model_path);
#endif
