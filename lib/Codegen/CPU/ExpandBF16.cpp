//===- ExpandBF16.cpp - bf16 conversions as integer arithmetic
//-------------===//
//
// graft-expand-bf16: f32 <-> bf16 conversions become bit operations, so the
// generated code calls no compiler-runtime helper. See the pass description
// in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "graft/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace graft {
#define GEN_PASS_DEF_EXPANDBF16
#include "graft/Codegen/Passes.h.inc"
} // namespace graft

using namespace mlir;

namespace {
struct ExpandBF16Pass : graft::impl::ExpandBF16Base<ExpandBF16Pass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    arith::populateExpandBFloat16Patterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
