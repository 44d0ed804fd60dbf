//===- Sanitize.cpp - AddressSanitizer for generated code -----------------===//

#include "graft/Target/Sanitize.h"
#include "ModulePasses.h"

#include "llvm/IR/Module.h"
#include "llvm/IR/PassManager.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Transforms/Instrumentation/AddressSanitizer.h"

void graft::instrumentForAddressSanitizer(llvm::Module &module,
                                          llvm::TargetMachine &targetMachine) {
  for (llvm::Function &f : module)
    if (!f.isDeclaration())
      f.addFnAttr(llvm::Attribute::SanitizeAddress);
  // Constant tables and the model's descriptor: no redzones, nothing to
  // register (ASan would otherwise add a constructor that does).
  for (llvm::GlobalVariable &g : module.globals()) {
    if (g.isDeclaration())
      continue;
    llvm::GlobalValue::SanitizerMetadata md;
    if (g.hasSanitizerMetadata())
      md = g.getSanitizerMetadata();
    md.NoAddress = true;
    g.setSanitizerMetadata(md);
  }

  llvm::AddressSanitizerOptions options;
  // No module constructor: no __asan_init or version check from this
  // object; the program's own ASan runtime is already initialised.
  options.InsertVersionCheck = false;
  runModulePasses(module, targetMachine, llvm::PipelineTuningOptions(),
                  [&](llvm::PassBuilder &, llvm::ModulePassManager &passes) {
                    passes.addPass(llvm::AddressSanitizerPass(
                        options, /*UseGlobalGC=*/false,
                        /*UseOdrIndicator=*/false, llvm::AsanDtorKind::None,
                        llvm::AsanCtorKind::None));
                  });
}

bool graft::processHasAddressSanitizer() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}
