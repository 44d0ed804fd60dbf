//===- FrontendFuzzer.cpp - libFuzzer target: model file to verified IR ---===//
//
// What `graft check` does with a model file, on any byte string: lex, parse,
// MLIRGen (with its budgets), the in-place checks and the derivation of the
// backward. Errors are fine; a crash, a sanitizer report, a hang, or IR that
// the front-end or the backward derivation built and the verifier rejects
// is a bug. Built in a clang GRAFT_SANITIZE build with GRAFT_FUZZERS
// (fuzz/CMakeLists.txt); ctest runs it for a bounded time as fuzz-frontend,
// scripts/fuzz.sh for as long as you like.
//
//===----------------------------------------------------------------------===//

#include "FuzzUtil.h"

#include "graft/Autograd/Backward.h"
#include "graft/Dialect/Graft/IR/GraftDialect.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "graft/Frontend/MLIRGen.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace mlir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // One context for the whole run: MLIR's uniqued types and attributes
  // accumulate, but stay small next to the inputs' IR.
  static MLIRContext *ctx = [] {
    auto *c = new MLIRContext();
    c->loadDialect<graft::GraftDialect>();
    return c;
  }();
  static const std::string path = graft::fuzz::scratchPath("model.graft");
  if (!graft::fuzz::writeScratch(path, data, size))
    return 0;
  // Budgets a tenth of the defaults and less: each input takes well under a
  // second, so that libFuzzer's -timeout finds real hangs, not big models.
  graft::frontend::GenOptions options;
  options.maxOps = 20'000;
  options.maxEvaluations = 200'000;
  llvm::SourceMgr sm;
  ScopedDiagnosticHandler quiet(ctx, [](Diagnostic &) { return success(); });
  OwningOpRef<ModuleOp> module =
      graft::frontend::compileFile(*ctx, sm, path, options, llvm::nulls());
  if (!module)
    return 0;
  if (failed(verify(*module)))
    graft::fuzz::bug("the front-end returned IR that does not verify", *module);
  for (auto model : module->getOps<graft::ModelOp>()) {
    if (failed(graft::checkInPlace(model)))
      continue;
    OwningOpRef<Operation *> copy = model->clone();
    if (succeeded(graft::deriveBackward(cast<graft::ModelOp>(*copy))) &&
        failed(verify(*copy)))
      graft::fuzz::bug("the derived backward does not verify", *copy);
  }
  return 0;
}
