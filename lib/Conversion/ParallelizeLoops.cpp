//===- ParallelizeLoops.cpp - Marked loops to scf.parallel ----------------===//

#include "ParallelMark.h"
#include "graft/Conversion/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace graft {
#define GEN_PASS_DEF_PARALLELIZELOOPS
#include "graft/Conversion/Passes.h.inc"
} // namespace graft

using namespace mlir;

namespace {
struct ParallelizeLoopsPass
    : graft::impl::ParallelizeLoopsBase<ParallelizeLoopsPass> {
  void runOnOperation() override {
    SmallVector<scf::ForOp> loops;
    getOperation().walk([&](scf::ForOp loop) {
      // Outermost marked loops only: OpenMP regions do not nest here.
      if (graft::isMarkedParallel(loop) && loop.getNumResults() == 0 &&
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
