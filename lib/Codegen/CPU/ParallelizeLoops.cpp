//===- ParallelizeLoops.cpp - Marked loops to threads ---------------------===//
//
// graft-parallelize-loops: the scf.forall loops worth threads to
// scf.parallel, the others to scf.for.
// graft-thread-regions: the OpenMP regions convert-scf-to-openmp makes of
// them, fitted to the C runtime's thread pool (graft_threads.c).
//
//===----------------------------------------------------------------------===//

#include "graft/Codegen/Passes.h"
#include "graft/Support/Statistics.h"

#include "mlir/Dialect/SCF/Transforms/Transforms.h"

#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"

#include <algorithm>
#include <limits>

namespace graft {
#define GEN_PASS_DEF_PARALLELIZELOOPS
#define GEN_PASS_DEF_THREADREGIONS
#include "graft/Codegen/Passes.h.inc"
} // namespace graft

using namespace mlir;

GRAFT_STATISTIC(NumParallel, "graft-parallelize-loops",
                "scf.forall loops made scf.parallel (threads split them)");
GRAFT_STATISTIC(NumSequential, "graft-parallelize-loops",
                "scf.forall loops made scf.for (not worth threads, or nested)");
GRAFT_STATISTIC(NumRegions, "graft-thread-regions",
                "OpenMP regions fitted to the thread pool");

namespace {
constexpr int64_t kMaxWork = std::numeric_limits<int64_t>::max() / 2;

int64_t saturatingMul(int64_t a, int64_t b) {
  return a != 0 && b > kMaxWork / a ? kMaxWork : a * b;
}

/// The iterations of a loop from `lb` to `ub` by `step`, when constant.
std::optional<int64_t> staticTripCount(OpFoldResult lb, OpFoldResult ub,
                                       OpFoldResult step) {
  std::optional<APInt> trip = constantTripCount(
      lb, ub, step, /*isSigned=*/true,
      [](Value, Value, bool) { return std::optional<llvm::APSInt>(); });
  if (!trip)
    return std::nullopt;
  return trip->getSExtValue();
}

/// The operations one run of `region` executes, estimated: every op counts
/// one, and the body of an scf.for with constant bounds counts once per
/// iteration (other loops' bodies once).
int64_t estimateWork(Region &region) {
  int64_t work = 0;
  region.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      std::optional<APInt> trip = loop.getStaticTripCount();
      int64_t iterations = trip ? trip->getSExtValue() : 1;
      work = std::min(kMaxWork,
                      work + saturatingMul(std::max<int64_t>(iterations, 0),
                                           estimateWork(loop.getRegion())));
      return WalkResult::skip();
    }
    work = std::min(kMaxWork, work + 1);
    return WalkResult::advance();
  });
  return work;
}

struct ParallelizeLoopsPass
    : graft::impl::ParallelizeLoopsBase<ParallelizeLoopsPass> {
  using ParallelizeLoopsBase::ParallelizeLoopsBase;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    // Outermost first, a nesting level per round: a forall inside a
    // parallel loop runs on the thread that runs its iteration (regions do
    // not nest).
    for (;;) {
      SmallVector<scf::ForallOp> loops;
      getOperation().walk<WalkOrder::PreOrder>([&](scf::ForallOp loop) {
        loops.push_back(loop);
        return WalkResult::skip();
      });
      if (loops.empty())
        return;
      for (scf::ForallOp loop : loops) {
        if (loop.getNumResults() != 0 || loop.getRank() != 1) {
          loop.emitError("graft-parallelize-loops takes one-dimensional "
                         "scf.forall loops on buffers");
          return signalPassFailure();
        }
        std::optional<int64_t> trip = staticTripCount(
            loop.getMixedLowerBound()[0], loop.getMixedUpperBound()[0],
            loop.getMixedStep()[0]);
        bool worth =
            !loop->getParentOfType<scf::ParallelOp>() &&
            !(trip &&
              saturatingMul(*trip, estimateWork(loop.getRegion())) < minWork);
        rewriter.setInsertionPoint(loop);
        if (failed(worth ? scf::forallToParallelLoop(rewriter, loop)
                         : scf::forallToForLoop(rewriter, loop)))
          return signalPassFailure();
        ++(worth ? NumParallel : NumSequential);
      }
    }
  }
};

struct ThreadRegionsPass : graft::impl::ThreadRegionsBase<ThreadRegionsPass> {
  using ThreadRegionsBase::ThreadRegionsBase;

  void runOnOperation() override {
    WalkResult result = getOperation().walk([&](omp::ParallelOp region) {
      // The one form the pool implements: one worksharing loop, then the
      // region's end.
      Block &body = region.getRegion().front();
      auto loop = dyn_cast<omp::WsloopOp>(body.getTerminator()->getPrevNode());
      auto nest = loop ? dyn_cast<omp::LoopNestOp>(loop.getWrappedLoop())
                       : omp::LoopNestOp();
      if (!loop || !nest || region.getNumThreads() ||
          !region.getReductionVars().empty() ||
          loop.getScheduleKind().value_or(omp::ClauseScheduleKind::Static) !=
              omp::ClauseScheduleKind::Static ||
          loop.getScheduleChunk() || !loop.getReductionVars().empty() ||
          nest.getLoopLowerBounds().size() != 1 ||
          llvm::any_of(body.without_terminator(), [&](Operation &op) {
            return &op != loop.getOperation() && !isMemoryEffectFree(&op);
          })) {
        region.emitError("Graft's thread pool runs one statically "
                         "scheduled worksharing loop per parallel region");
        return WalkResult::interrupt();
      }
      loop.setNowait(true);
      int64_t iterations =
          staticTripCount(nest.getLoopLowerBounds()[0],
                          nest.getLoopUpperBounds()[0], nest.getLoopSteps()[0])
              .value_or(2);
      int64_t work = saturatingMul(iterations, estimateWork(nest.getRegion()));
      int64_t blocks = std::clamp<int64_t>(work / workPerBlock, 2,
                                           std::max<int64_t>(iterations, 2));
      OpBuilder builder(region);
      Value count = arith::ConstantIntOp::create(
          builder, region.getLoc(),
          static_cast<int32_t>(std::min<int64_t>(blocks, 1 << 20)), 32);
      region.getNumThreadsMutable().assign(count);
      ++NumRegions;
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
