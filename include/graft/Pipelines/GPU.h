//===- GPU.h - Graft's CUDA code generation --------------------*- C++ -*-===//
//
// The GPU pipeline: the training program's functions (graft ops on tensors)
// to host code in the LLVM dialect that launches NVVM kernels through the
// `mgpu*` runtime ABI (implemented by lib/Runtime/c/graft_cuda.c), and the
// kernels' gpu.modules serialized to PTX and cubins. See docs/GPU.md.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_PIPELINES_GPU_H
#define GRAFT_PIPELINES_GPU_H

#include "mlir/Pass/PassManager.h"

#include <string>
#include <vector>

namespace mlir {
class DialectRegistry;
class ModuleOp;
} // namespace mlir

namespace graft {

/// The GPU dialects, the NVVM target and the LLVM IR translations of the
/// gpu and nvvm dialects (gpu.binary embedding and kernel launches).
void registerGPUCodegenDialects(mlir::DialectRegistry &registry);

/// Registers the GPU passes and pipelines for graft-opt: the upstream
/// passes the pipeline names, `graft-gpu-map-loops`,
/// `graft-gpu-device-memory` and `graft-gpu-pipeline` (which ends with
/// `gpu-module-to-binary{format=isa}`: PTX in the IR). Idempotent.
void registerGPUCodegenPasses();

/// The chips every kernel is compiled for.
std::vector<std::string> defaultGPUChips();

/// What the CUDA pipeline compiles for, and how.
struct GPUOptions {
  std::vector<std::string> chips = defaultGPUChips();
  /// f32 products on the tensor cores in TF32 (PyTorch's allow_tf32;
  /// `graft compile --allow-tf32`).
  bool tf32 = false;
};

/// From the training program's functions to host LLVM-dialect functions
/// (bare-pointer convention; every pointer is a device pointer) and
/// gpu.modules of NVVM kernels with a target per chip. The gpu.modules are
/// left for serializeGPUModules (or gpu-module-to-binary).
void buildGPUPipeline(mlir::OpPassManager &pm, const GPUOptions &options);

/// The CUDA toolkit (a directory with bin/ptxas): $GRAFT_CUDA_PATH,
/// $CUDA_HOME, $CUDA_PATH, then /usr/local/cuda. Empty when none is found.
std::string findCUDAToolkit();

/// One compiled kernel module for one chip.
struct GPUImage {
  std::string module; // the gpu.module's name
  std::string chip;   // "sm_90"
  std::string ptx;
  std::string cubin; // empty without a toolkit
};

/// Replaces every gpu.module of `module` by a gpu.binary holding one object:
/// a Graft GPU image container (PTX for every chip, and a cubin per chip
/// when `toolkit` is not empty) that graft_cuda.c's mgpuModuleLoad reads,
/// picking the cubin of the device's architecture or else JIT-compiling the
/// PTX. `images` receives what was compiled.
mlir::LogicalResult serializeGPUModules(mlir::ModuleOp module,
                                        const std::string &toolkit,
                                        std::vector<GPUImage> &images);

} // namespace graft

#endif
