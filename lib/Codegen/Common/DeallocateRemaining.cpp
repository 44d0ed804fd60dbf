//===- DeallocateRemaining.cpp - Deallocation where allocations are left --===//
//
// graft-deallocate-remaining: MLIR's buffer deallocation pipeline, run only
// when graft-plan-memory left allocations (inside loops whose iterations
// threads split). See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "graft/Codegen/Passes.h"
#include "graft/Support/Statistics.h"

#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace graft {
#define GEN_PASS_DEF_DEALLOCATEREMAINING
#include "graft/Codegen/Passes.h.inc"
} // namespace graft

using namespace mlir;

GRAFT_STATISTIC(NumDeallocationRuns, "graft-deallocate-remaining",
                "Modules whose left allocations were given deallocations");

namespace {

/// The passes to run: the deallocation pipeline (which ends with cse and
/// canonicalize), or, with nothing to deallocate, its cse and canonicalize.
void buildPipeline(OpPassManager &pm, bool allocations) {
  if (allocations) {
    bufferization::buildBufferDeallocationPipeline(
        pm, bufferization::BufferDeallocationPipelineOptions());
    return;
  }
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
}

struct DeallocateRemainingPass
    : graft::impl::DeallocateRemainingBase<DeallocateRemainingPass> {
  void getDependentDialects(DialectRegistry &registry) const override {
    for (bool allocations : {false, true}) {
      OpPassManager pm(ModuleOp::getOperationName());
      buildPipeline(pm, allocations);
      pm.getDependentDialects(registry);
    }
  }

  void runOnOperation() override {
    bool allocations = getOperation()
                           .walk([](Operation *op) {
                             return isa<memref::AllocOp, memref::ReallocOp>(op)
                                        ? WalkResult::interrupt()
                                        : WalkResult::advance();
                           })
                           .wasInterrupted();
    OpPassManager pm(ModuleOp::getOperationName());
    buildPipeline(pm, allocations);
    if (allocations)
      ++NumDeallocationRuns;
    if (failed(runPipeline(pm, getOperation())))
      signalPassFailure();
  }
};

} // namespace
