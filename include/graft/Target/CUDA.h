//===- CUDA.h - The CUDA target of graft compile ----------------*- C++ -*-===//
//
// `graft compile --target=cuda`: the training program through the GPU
// pipeline (graft/Pipelines/GPU.h), kernels embedded as PTX and cubins, and
// an entry shim per entry point that maps the C runtime's host pointers to
// the context's device copies (lib/Runtime/c/graft_cuda.c). See docs/GPU.md.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_TARGET_CUDA_H
#define GRAFT_TARGET_CUDA_H

#include "graft/Pipelines/GPU.h"
#include "graft/Target/JIT.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace llvm {
class Module;
} // namespace llvm

namespace graft {

/// Builds the training program and lowers it with the GPU pipeline
/// (`options`: the chips, TF32), then serializes the kernels (cubins too
/// when a CUDA toolkit is found: graft::findCUDAToolkit). `images` receives
/// the compiled kernels.
llvm::Error lowerTrainingProgramForCUDA(mlir::ModuleOp module,
                                        std::vector<EntryPoint> &entries,
                                        const GPUOptions &options,
                                        std::vector<GPUImage> &images);

/// Renames each entry point NAME of `ir` to NAME.device and defines NAME
/// (same bare-pointer signature, host pointers) as a shim: graft_cuda_enter
/// maps the pointers to device pointers and copies inputs in, NAME.device
/// runs (unless the entry's CUDA graph replayed it), graft_cuda_leave copies
/// results out (or asks for NAME.device to run again when capturing it into
/// a graph failed). The protocol is documented in graft_cuda.c.
llvm::Error addCUDAEntryShims(llvm::Module &ir,
                              const std::vector<EntryPoint> &entries);

/// Writes each image's PTX to `dir`/<model>.<kernel module>.<chip>.ptx.
llvm::Error writePTX(const std::string &dir, const std::string &model,
                     const std::vector<GPUImage> &images);

} // namespace graft

#endif
