//===- Pipelines.cpp - Graft's lowering pipelines -------------------------===//

#include "graft/Pipelines/Pipelines.h"
#include "graft/Autograd/Passes.h"
#include "graft/Conversion/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

#include <mutex>

using namespace mlir;

void graft::registerCodegenDialects(DialectRegistry &registry) {
  registry.insert<GraftDialect, func::FuncDialect, linalg::LinalgDialect,
                  tensor::TensorDialect, arith::ArithDialect,
                  math::MathDialect, scf::SCFDialect, memref::MemRefDialect,
                  bufferization::BufferizationDialect, cf::ControlFlowDialect,
                  affine::AffineDialect, LLVM::LLVMDialect>();
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerBufferizableOpInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(
      registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

// The pipeline in MLIR's textual form, nested in builtin.module: every step
// is a pass with a stable name, so a failing step can be rerun alone with
// graft-opt.
static const char kCPUPipeline[] =
    "func.func(convert-graft-to-linalg, canonicalize, cse,"
    "          linalg-fuse-elementwise-ops, canonicalize, cse),"
    "eliminate-empty-tensors,"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "buffer-results-to-out-params{modify-public-functions},"
    "buffer-deallocation-pipeline, convert-bufferization-to-memref,"
    "func.func(convert-linalg-to-loops),"
    "lower-affine, convert-scf-to-cf, expand-strided-metadata, lower-affine,"
    "finalize-memref-to-llvm, convert-math-to-llvm, convert-math-to-libm,"
    "convert-arith-to-llvm, convert-index-to-llvm,"
    "convert-func-to-llvm{use-bare-ptr-memref-call-conv=1},"
    "convert-cf-to-llvm, reconcile-unrealized-casts";

void graft::registerCodegenPasses() {
  static std::once_flag once;
  std::call_once(once, registerCodegenPassesOnce);
}

void graft::registerCodegenPassesOnce() {
  registerTransformsPasses();
  registerLinalgPasses();
  bufferization::registerBufferizationPasses();
  bufferization::registerBufferizationPipelines();
  memref::registerMemRefPasses();
  mlir::registerConversionPasses();
  registerConversionPasses(); // graft's own
  PassPipelineRegistration<>(
      "graft-cpu-pipeline",
      "Lowers the training program's functions to the LLVM dialect",
      [](OpPassManager &pm) { (void)buildCPUPipeline(pm); });
}

LogicalResult graft::buildCPUPipeline(OpPassManager &pm) {
  registerCodegenPasses();
  // `pm` runs on builtin.module; the string holds what nests in it (a
  // "builtin.module(...)" wrapper would be silently ignored here).
  return parsePassPipeline(kCPUPipeline, pm, llvm::errs());
}

LogicalResult graft::lowerToLLVM(ModuleOp module) {
  PassManager program(module.getContext());
  program.addPass(createBuildTrainingProgram());
  if (failed(program.run(module)))
    return failure();
  // The models are metadata from here on; the pipeline lowers functions.
  for (auto model : llvm::to_vector(module.getOps<ModelOp>()))
    model->erase();
  PassManager lower(module.getContext());
  if (failed(buildCPUPipeline(lower)))
    return failure();
  return lower.run(module);
}
