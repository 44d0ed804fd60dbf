//===- PassFuzzer.cpp - libFuzzer target: graft-opt's passes on any IR ----===//
//
// Every pass must either succeed or fail with a diagnostic on any IR that
// parses and verifies: never crash, never leave IR that does not verify.
// The input is IR text as graft-opt reads it; like the lit tests it may
// hold several modules split at `// -----`, and its first `RUN:` line chooses
// the passes: the `-graft-*`, `-convert-graft-*`, `-canonicalize` and `-cse`
// flags in it, in order (the seeds are the lit tests of test/Dialect,
// test/Autograd, test/Conversion and test/Codegen, so mutated inputs keep
// their pass).
// Without such a line: the autograd passes and then the whole CPU pipeline.
//
//===----------------------------------------------------------------------===//

#include "FuzzUtil.h"

#include "graft/Autograd/Passes.h"
#include "graft/Pipelines/GPU.h"
#include "graft/Pipelines/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"

#include <cstdint>
#include <string>

using namespace mlir;

namespace {
MLIRContext &context() {
  static MLIRContext *ctx = [] {
    DialectRegistry registry;
    graft::registerCodegenDialects(registry);
    graft::registerGPUCodegenDialects(registry);
    graft::registerAutogradPasses();
    graft::registerCodegenPasses();
    graft::registerGPUCodegenPasses();
    registerCanonicalizerPass();
    registerCSEPass();
    auto *c = new MLIRContext(registry);
    c->loadAllAvailableDialects();
    return c;
  }();
  return *ctx;
}

struct VerifyAfterEachPass : PassInstrumentation {
  void runAfterPass(Pass *pass, Operation *op) override {
    if (failed(verify(op)))
      graft::fuzz::bug(("pass '" + pass->getArgument().str() +
                        "' succeeded and left IR that does not verify")
                           .c_str(),
                       op);
  }
};

/// The passes the input's RUN line names, or the default pipeline.
std::string passesOf(llvm::StringRef text) {
  std::string passes;
  size_t run = text.find("RUN:");
  if (run != llvm::StringRef::npos) {
    llvm::SmallVector<llvm::StringRef> words;
    llvm::SplitString(text.substr(run).split('\n').first, words, " \t");
    for (llvm::StringRef w : words) {
      if (!w.consume_front("-"))
        continue;
      w.consume_front("-");
      w = w.split('=').first; // pass options are left at their defaults
      if (w.starts_with("graft-") || w.starts_with("convert-graft") ||
          w == "canonicalize" || w == "cse")
        passes += (passes.empty() ? "" : ",") + w.str();
    }
  }
  if (passes.empty())
    passes = "graft-annotate-requires-grad,graft-check-inplace,"
             "graft-derive-backward,graft-build-training-program,"
             "graft-cpu-pipeline";
  return passes;
}

/// Whether `ir` spells a linalg.transpose/broadcast/reduce whose
/// `permutation = ` or `dimensions = ` is not a `[...]` list: MLIR 22's
/// parser of those ops dereferences a null attribute then (a crash in
/// mlir::Attribute::getContext, upstream, in Debian's libMLIR; the seeds
/// fuzz/corpus/passes/linalg-*-not-a-list.mlir). Such inputs are skipped.
bool hitsUpstreamLinalgParserBug(llvm::StringRef ir) {
  for (llvm::StringRef key : {"permutation", "dimensions"}) {
    for (size_t at = ir.find(key); at != llvm::StringRef::npos;
         at = ir.find(key, at + 1)) {
      llvm::StringRef rest = ir.substr(at + key.size()).ltrim();
      if (rest.consume_front("=") && !rest.ltrim().starts_with("["))
        return true;
    }
  }
  return false;
}

/// Whether the default pipeline would meet OpenMP ops in `ir`: MLIR 22's
/// ownership-based-buffer-deallocation puts constants inside an
/// omp.wsloop, which then does not verify (upstream; the CPU pipeline
/// creates its OpenMP ops after deallocation, so a real input never has
/// them; seed fuzz/corpus/passes/omp-before-deallocation.mlir). Such inputs
/// are skipped for the whole pipeline.
bool hitsUpstreamDeallocationBug(llvm::StringRef ir, llvm::StringRef passes) {
  return passes.contains("graft-cpu-pipeline") && ir.contains("omp.");
}

void runOn(const std::string &ir, llvm::StringRef passes) {
  if (hitsUpstreamLinalgParserBug(ir) ||
      hitsUpstreamDeallocationBug(ir, passes))
    return;
  MLIRContext &ctx = context();
  ScopedDiagnosticHandler quiet(&ctx, [](Diagnostic &) { return success(); });
  ParserConfig config(&ctx);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(ir, config);
  if (!module || failed(verify(*module)))
    return;
  PassManager pm(&ctx, ModuleOp::getOperationName(),
                 OpPassManager::Nesting::Implicit);
  // Each pass that succeeds must leave IR that verifies.
  pm.enableVerifier(false);
  pm.addInstrumentation(std::make_unique<VerifyAfterEachPass>());
  for (llvm::StringRef name : llvm::split(passes, ',')) {
    const PassInfo *info = PassInfo::lookup(name);
    const PassPipelineInfo *pipeline = PassPipelineInfo::lookup(name);
    auto ignore = [](const llvm::Twine &) { return failure(); };
    if ((info && failed(info->addToPipeline(pm, "", ignore))) ||
        (pipeline && failed(pipeline->addToPipeline(pm, "", ignore))) ||
        (!info && !pipeline))
      return; // not a pass this build has
  }
  // A pass may fail (it reports why); crashing is the bug libFuzzer catches.
  (void)pm.run(*module);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  std::string passes = passesOf(text);
  // -split-input-file: every part on its own.
  llvm::SmallVector<llvm::StringRef> parts;
  text.split(parts, "// -----");
  // MLIR's lexer reads the byte after its buffer, which must be a NUL (as
  // in a file's MemoryBuffer, which graft-opt and graft read): give each part
  // one. (libFuzzer's input has none; that read past it was this harness's.)
  for (llvm::StringRef part : parts)
    runOn(part.str(), passes);
  return 0;
}
