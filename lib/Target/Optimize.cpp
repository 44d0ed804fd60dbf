//===- Optimize.cpp - LLVM's optimisation of generated code --------------===//

#include "graft/Target/Optimize.h"
#include "ModulePasses.h"

#include "llvm/IR/Module.h"
#include "llvm/IR/PassManager.h"
#include "llvm/Target/TargetMachine.h"

void graft::runModulePasses(
    llvm::Module &module, llvm::TargetMachine &targetMachine,
    const llvm::PipelineTuningOptions &tuning,
    llvm::function_ref<void(llvm::PassBuilder &, llvm::ModulePassManager &)>
        build) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(&targetMachine, tuning);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager passes;
  build(builder, passes);
  passes.run(module, mam);
}

void graft::optimizeModule(llvm::Module &module,
                           llvm::TargetMachine &targetMachine) {
  llvm::PipelineTuningOptions tuning;
  tuning.LoopUnrolling = false;
  runModulePasses(
      module, targetMachine, tuning,
      [](llvm::PassBuilder &builder, llvm::ModulePassManager &passes) {
        passes =
            builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
      });
}
