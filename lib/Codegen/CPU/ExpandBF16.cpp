//===- ExpandBF16.cpp - bf16 conversions as integer arithmetic ----------===//
//
// graft-expand-bf16: conversions to and from bf16 become bit operations, so
// the generated code calls no compiler-runtime helper. See the pass
// description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "graft/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace graft {
#define GEN_PASS_DEF_EXPANDBF16
#include "graft/Codegen/Passes.h.inc"
} // namespace graft

using namespace mlir;

namespace {

/// `t` (a scalar or vector type) with element type f32.
Type withF32(Type t) {
  Type f32 = Float32Type::get(t.getContext());
  if (auto v = dyn_cast<VectorType>(t))
    return v.clone(f32);
  return f32;
}

bool isWiderThanF32(Type t) {
  auto f = dyn_cast<FloatType>(getElementTypeOrSelf(t));
  return f && f.getWidth() > 32;
}

/// f64 -> bf16 as f64 -> f32 -> bf16 (the reference evaluator rounds the
/// same way), whose second step the upstream expansion takes.
struct TruncThroughF32 : OpRewritePattern<arith::TruncFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::TruncFOp op,
                                PatternRewriter &rewriter) const override {
    if (!getElementTypeOrSelf(op.getType()).isBF16() ||
        !isWiderThanF32(op.getIn().getType()))
      return failure();
    Value f32 = arith::TruncFOp::create(rewriter, op.getLoc(),
                                        withF32(op.getType()), op.getIn());
    rewriter.replaceOpWithNewOp<arith::TruncFOp>(op, op.getType(), f32);
    return success();
  }
};

/// bf16 -> f64 as bf16 -> f32 -> f64 (exact either way).
struct ExtendThroughF32 : OpRewritePattern<arith::ExtFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::ExtFOp op,
                                PatternRewriter &rewriter) const override {
    if (!getElementTypeOrSelf(op.getIn().getType()).isBF16() ||
        !isWiderThanF32(op.getType()))
      return failure();
    Value f32 = arith::ExtFOp::create(
        rewriter, op.getLoc(), withF32(op.getIn().getType()), op.getIn());
    rewriter.replaceOpWithNewOp<arith::ExtFOp>(op, op.getType(), f32);
    return success();
  }
};

struct ExpandBF16Pass : graft::impl::ExpandBF16Base<ExpandBF16Pass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<TruncThroughF32, ExtendThroughF32>(&getContext());
    arith::populateExpandBFloat16Patterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
