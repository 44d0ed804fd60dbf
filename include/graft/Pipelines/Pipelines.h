//===- Pipelines.h - Graft's lowering pipelines ----------------*- C++ -*-===//

#ifndef GRAFT_PIPELINES_PIPELINES_H
#define GRAFT_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir {
class DialectRegistry;
class ModuleOp;
} // namespace mlir

namespace graft {

/// Every dialect and external interface the code generators use.
void registerCodegenDialects(mlir::DialectRegistry &registry);

/// Registers the upstream passes the pipelines name, and the pipelines
/// themselves (`graft-cpu-pipeline`) for graft-opt. Idempotent.
void registerCodegenPasses();
void registerCodegenPassesOnce();

/// The start of every pipeline: the hook points (graft-hook-points: calls
/// of the runtime's graft_run_hook on the CPU, a compile-time error for
/// register_hook points on CUDA), graft -> linalg and elementwise fusion, on
/// tensors; for the CPU (`cpu`), convolutions become products over patches,
/// max pooling runs tap by tap and batched products loop over 2-D ones (the
/// GPU keeps the kernels verified on a device).
void addLinalgPasses(mlir::OpPassManager &pm, bool cpu);
/// What follows it on every target: bufferization with results as
/// out-parameters and the planned workspace (graft-plan-memory).
void addBufferizePasses(mlir::OpPassManager &pm);
/// Buffer deallocation for the allocations graft-plan-memory left
/// (graft-deallocate-remaining), then bufferization ops to memref.
void addBufferDeallocationPasses(mlir::OpPassManager &pm);

/// The widest vectors of the host CPU in bits: 512 with AVX-512, 256 with
/// AVX2, else 128; the schedule's tile sizes follow it.
unsigned hostVectorBits();

/// The options of `graft-opt --graft-cpu-pipeline`.
struct CPUPipelineOptions
    : public mlir::PassPipelineOptions<CPUPipelineOptions> {
  Option<unsigned> vectorBits{
      *this, "vector-bits",
      llvm::cl::desc("The widest vectors in bits (512: AVX-512, 256: AVX2, "
                     "128); the schedule's tiles follow it. The host's by "
                     "default"),
      llvm::cl::init(hostVectorBits())};
};

/// From the training program's functions (graft ops on tensors) to the LLVM
/// dialect: lowering to linalg, elementwise fusion, one-shot bufferization
/// with results as out-parameters, loops, LLVM with the bare-pointer calling
/// convention (every tensor argument or result is one pointer).
void buildCPUPipeline(mlir::OpPassManager &pm,
                      unsigned vectorBits = hostVectorBits());

/// Runs the training-program builder and the CPU pipeline on `module`:
/// models are replaced by the LLVM functions of their entry points.
mlir::LogicalResult lowerToLLVM(mlir::ModuleOp module);

} // namespace graft

#endif
