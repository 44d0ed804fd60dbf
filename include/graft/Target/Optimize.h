//===- Optimize.h - LLVM's optimisation of generated code -------*- C++ -*-===//
//
// The LLVM pipeline that both the library writer (`graft compile`) and the
// JIT (`graft train`, `graft bench`, the tests) run on the LLVM IR of a
// model before code generation.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_TARGET_OPTIMIZE_H
#define GRAFT_TARGET_OPTIMIZE_H

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace graft {

/// Runs LLVM's O3 module pipeline for `targetMachine` over `module`,
/// without loop unrolling. Graft's code is tiled, vectorised and unrolled
/// as far as it pays before it reaches LLVM (register tiles, the taps of a
/// convolution, transposes through registers); LLVM's unrolling of what is
/// left (k loops, tap loops, elementwise loops of a few vectors) took half
/// of O3's time and most of code generation's, made objects 2.4x larger,
/// and did not make the steps faster (docs/Codegen.md).
void optimizeModule(llvm::Module &module, llvm::TargetMachine &targetMachine);

} // namespace graft

#endif // GRAFT_TARGET_OPTIMIZE_H
