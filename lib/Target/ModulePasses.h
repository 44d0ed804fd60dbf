//===- ModulePasses.h - Running LLVM module passes on generated code -----===//
//
// Private to GraftTarget: the new pass manager's set-up that both the
// optimisation (Optimize.cpp) and the AddressSanitizer instrumentation
// (Sanitize.cpp) of a model's LLVM module need.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_LIB_TARGET_MODULEPASSES_H
#define GRAFT_LIB_TARGET_MODULEPASSES_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Passes/PassBuilder.h"

namespace graft {

/// Runs over `module` the passes `build` adds, with the analyses of a
/// PassBuilder for `targetMachine` tuned by `tuning`.
void runModulePasses(
    llvm::Module &module, llvm::TargetMachine &targetMachine,
    const llvm::PipelineTuningOptions &tuning,
    llvm::function_ref<void(llvm::PassBuilder &, llvm::ModulePassManager &)>
        build);

} // namespace graft

#endif
