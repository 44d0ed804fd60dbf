//===- Library.h - A model as a static library with a C header --*- C++ -*-===//
//
// `graft compile`: the training program of a model compiled ahead of time to
// an object for the host (or a named CPU), packed with Graft's C runtime and
// the model's metadata into libNAME.a, and described by NAME.h. See
// docs/CAPI.md.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_TARGET_LIBRARY_H
#define GRAFT_TARGET_LIBRARY_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace mlir {
class ModuleOp;
class TimingScope;
} // namespace mlir

namespace graft {

struct LibraryOptions {
  /// Where libNAME.a and NAME.h go (created if missing).
  std::string outputDir;
  /// The CPU to compile for; empty: the host's CPU and features.
  std::string targetCPU;
  /// Which model of the module (empty: the only one).
  std::string modelName;
  /// The bytes of Graft's C runtime object (graft_runtime.o); with
  /// sanitizeAddress, one compiled with -fsanitize=address.
  llvm::StringRef runtimeObject;
  /// Instrument the model's code with AddressSanitizer (Target/Sanitize.h):
  /// `graft compile --sanitize=address`.
  bool sanitizeAddress = false;
  /// The text of graft_api.h, which starts NAME.h.
  llvm::StringRef apiHeader;
  /// "cpu", or "cuda": kernels for NVIDIA GPUs (docs/GPU.md).
  std::string target = "cpu";
  /// For "cuda": the bytes of graft_cuda.o and the text of graft_cuda_api.h.
  llvm::StringRef cudaRuntimeObject, cudaApiHeader;
  /// For "cuda": also write each kernel module's PTX into outputDir.
  bool emitPTX = false;
  /// For "cuda": f32 products on the tensor cores in TF32 (PyTorch's
  /// allow_tf32; docs/GPU.md).
  bool allowTF32 = false;
  /// Where to record the time of each pass and LLVM phase (null: nowhere).
  mlir::TimingScope *timing = nullptr;
};

/// Compiles one graft.model of `module` (rewritten in place) into
/// `outputDir`/lib<model>.a and `outputDir`/<model>.h. Returns the model's
/// name.
llvm::Expected<std::string> compileLibrary(mlir::ModuleOp module,
                                           const LibraryOptions &options);

/// The widest vectors in bits (512: AVX-512, 256: AVX2, else 128) of the
/// CPU `cpu` names as LLVM does (`znver3`, `skylake-avx512`; the host's
/// when empty or "native"), whose width the CPU schedule's tiles follow.
llvm::Expected<unsigned> cpuVectorBits(llvm::StringRef cpu);

} // namespace graft

#endif
