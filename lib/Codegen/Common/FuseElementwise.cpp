//===- FuseElementwise.cpp - Fusion without recomputation -----------------===//
//
// Elementwise fusion with a control function that only fuses a producer
// whose every element the fused loop nest computes once (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "graft/Codegen/Passes.h"
#include "graft/Support/Statistics.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace graft {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "graft/Codegen/Passes.h.inc"
} // namespace graft

using namespace mlir;

GRAFT_STATISTIC(NumFused, "graft-fuse-elementwise",
                "Producers fused into their consumers");

namespace {
/// True when fusing the producer of `operand` into its consumer computes
/// each producer element exactly once.
bool fusesWithoutRecomputation(OpOperand *operand) {
  Operation *producer = operand->get().getDefiningOp();
  if (!producer || !producer->hasOneUse())
    return false;
  auto consumer = dyn_cast<linalg::LinalgOp>(operand->getOwner());
  if (!consumer)
    return false;
  AffineMap map = consumer.getMatchingIndexingMap(operand);
  return map.isProjectedPermutation() &&
         map.getNumResults() == consumer.getNumLoops();
}

/// True for the source of a tensor.expand_shape that splits the operand of
/// a reduction (a long sum's first stage, Lowering::reduce) when an
/// elementwise generic with no other use produces it: the producer then
/// runs on the split shape, and fuses into the reduction as it would have
/// into the unsplit one.
bool expandsIntoReduction(OpOperand *operand) {
  auto expand = dyn_cast<tensor::ExpandShapeOp>(operand->getOwner());
  if (!expand || !expand->hasOneUse())
    return false;
  auto producer = expand.getSrc().getDefiningOp<linalg::GenericOp>();
  auto consumer = dyn_cast<linalg::GenericOp>(*expand->user_begin());
  return producer && producer->hasOneUse() &&
         producer.getNumLoops() == producer.getNumParallelLoops() && consumer &&
         consumer.getNumReductionLoops() != 0;
}

struct FuseElementwisePass
    : graft::impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    auto countGenerics = [&] {
      unsigned n = 0;
      getOperation().walk([&](linalg::GenericOp) { ++n; });
      return n;
    };
    unsigned before = countGenerics();
    RewritePatternSet patterns(context);
    linalg::populateElementwiseOpsFusionPatterns(patterns,
                                                 fusesWithoutRecomputation);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns,
                                                      expandsIntoReduction);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, context);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, context);
    context->getLoadedDialect<linalg::LinalgDialect>()
        ->getCanonicalizationPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    unsigned after = countGenerics();
    if (after < before)
      NumFused += before - after;
  }
};
} // namespace
