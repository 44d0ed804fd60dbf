//===- ParallelizeLoops.cpp - Marked loops to scf.parallel ----------------===//

#include "graft/Conversion/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace graft {
#define GEN_PASS_DEF_PARALLELIZELOOPS
#include "graft/Conversion/Passes.h.inc"
} // namespace graft

using namespace mlir;

namespace {
bool isMarkedParallel(scf::ForOp loop) {
  auto fused = dyn_cast<FusedLoc>(loop.getLoc());
  auto mark = fused ? dyn_cast_or_null<StringAttr>(fused.getMetadata())
                    : StringAttr();
  return mark && mark.getValue() == "graft.parallel";
}

struct ParallelizeLoopsPass
    : graft::impl::ParallelizeLoopsBase<ParallelizeLoopsPass> {
  void runOnOperation() override {
    SmallVector<scf::ForOp> loops;
    getOperation().walk([&](scf::ForOp loop) {
      // Outermost marked loops only: OpenMP regions do not nest here.
      if (isMarkedParallel(loop) && loop.getNumResults() == 0 &&
          !loop->getParentOfType<scf::ParallelOp>())
        loops.push_back(loop);
    });
    IRRewriter rewriter(&getContext());
    for (scf::ForOp loop : loops) {
      if (loop->getParentOfType<scf::ParallelOp>())
        continue;
      rewriter.setInsertionPoint(loop);
      auto parallel = scf::ParallelOp::create(
          rewriter, loop.getLoc(), ValueRange{loop.getLowerBound()},
          ValueRange{loop.getUpperBound()}, ValueRange{loop.getStep()});
      // The for body, its scf.yield dropped, goes before the parallel's
      // (empty) scf.reduce.
      rewriter.eraseOp(loop.getBody()->getTerminator());
      rewriter.inlineBlockBefore(loop.getBody(),
                                 parallel.getBody()->getTerminator(),
                                 {parallel.getInductionVars()[0]});
      rewriter.eraseOp(loop);
    }
  }
};
} // namespace
