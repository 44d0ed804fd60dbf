//===- Pipelines.cpp - Graft's lowering pipelines -------------------------===//

#include "graft/Pipelines/Pipelines.h"
#include "graft/Autograd/Passes.h"
#include "graft/Codegen/Passes.h"
#include "graft/Conversion/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Affine/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/TransformOps/DialectExtension.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Transforms/TilingInterfaceImpl.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/SCF/TransformOps/SCFTransformOps.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/TensorTilingInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/SubsetInsertionOpInterfaceImpl.h"
#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/Dialect/Transform/LoopExtension/LoopExtension.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/TransformOps/VectorTransformOps.h"
#include "mlir/Dialect/Vector/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/Transforms/SubsetOpInterfaceImpl.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/TargetParser/Host.h"

#include <mutex>

using namespace mlir;

void graft::registerCodegenDialects(DialectRegistry &registry) {
  registry.insert<GraftDialect, func::FuncDialect, linalg::LinalgDialect,
                  tensor::TensorDialect, arith::ArithDialect,
                  math::MathDialect, scf::SCFDialect, memref::MemRefDialect,
                  bufferization::BufferizationDialect, cf::ControlFlowDialect,
                  affine::AffineDialect, LLVM::LLVMDialect,
                  vector::VectorDialect, transform::TransformDialect,
                  omp::OpenMPDialect>();
  // The CPU schedule: transform ops and the interfaces tiling needs.
  linalg::registerTransformDialectExtension(registry);
  scf::registerTransformDialectExtension(registry);
  vector::registerTransformDialectExtension(registry);
  transform::registerLoopExtension(registry);
  linalg::registerTilingInterfaceExternalModels(registry);
  tensor::registerTilingInterfaceExternalModels(registry);
  affine::registerValueBoundsOpInterfaceExternalModels(registry);
  arith::registerValueBoundsOpInterfaceExternalModels(registry);
  linalg::registerValueBoundsOpInterfaceExternalModels(registry);
  scf::registerValueBoundsOpInterfaceExternalModels(registry);
  tensor::registerValueBoundsOpInterfaceExternalModels(registry);
  vector::registerBufferizableOpInterfaceExternalModels(registry);
  // Subsets: loop-invariant accumulator tiles hoist out of the k loop.
  vector::registerSubsetOpInterfaceExternalModels(registry);
  tensor::registerSubsetOpInterfaceExternalModels(registry);
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerBufferizableOpInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(
      registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
}

void graft::addLinalgPasses(OpPassManager &pm, bool cpu) {
  HookPointsOptions hooks;
  hooks.target = cpu ? "cpu" : "cuda";
  pm.addPass(createHookPoints(hooks));
  ConvertGraftToLinalgOptions lowering;
  lowering.convProducts = cpu;
  lowering.poolTaps = cpu;
  lowering.batchProducts = cpu;
  OpPassManager &fn = pm.nest<func::FuncOp>();
  fn.addPass(createConvertGraftToLinalg(lowering));
  fn.addPass(createCanonicalizerPass());
  fn.addPass(createCSEPass());
  fn.addPass(createFuseElementwise());
  fn.addPass(createCanonicalizerPass());
  fn.addPass(createCSEPass());
}

void graft::addBufferizePasses(OpPassManager &pm) {
  pm.addPass(createSplitEmptyTensors());
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.modifyPublicFunctions = true;
  outParams.addResultAttribute = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(createPlanMemory());
}

void graft::addBufferDeallocationPasses(OpPassManager &pm) {
  pm.addPass(createDeallocateRemaining());
  pm.addPass(createConvertBufferizationToMemRefPass());
}

// Every step is a pass with a stable name, so `graft-opt
// --graft-cpu-pipeline --dump-pass-pipeline` prints it as text and a failing
// step can be rerun alone.
void graft::buildCPUPipeline(OpPassManager &pm, unsigned vectorBits) {
  registerCodegenPasses();
  addLinalgPasses(pm, /*cpu=*/true);
  CPUStrategyOptions strategy;
  strategy.vectorBits = vectorBits;
  pm.addPass(createCPUStrategy(strategy));
  CPUScheduleOptions schedule;
  schedule.vectorBits = vectorBits;
  pm.addPass(createCPUSchedule(schedule));
  pm.addPass(createCanonicalizerPass());
  addBufferizePasses(pm);
  CPUVectorizeOptions vectorize;
  vectorize.vectorBits = vectorBits;
  pm.addPass(createCPUVectorize(vectorize));
  pm.addPass(createCanonicalizerPass());
  addBufferDeallocationPasses(pm);
  pm.addNestedPass<func::FuncOp>(createStridedCopies());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  VectorTransferToSCFOptions toSCF;
  toSCF.enableFullUnroll(true);
  pm.addPass(createConvertVectorToSCFPass(toSCF));
  pm.addPass(createLowerAffinePass());
  // Threads: the loops the schedule marked, where worth it, become OpenMP
  // worksharing loops, run on the C runtime's thread pool
  // (graft-thread-regions; graft_threads.c); canonicalize inlines the
  // alloca scopes that wrap their bodies (they hold no allocas).
  pm.addNestedPass<func::FuncOp>(createParallelizeLoops());
  // One function per distinct loop nest keeps LLVM's work per function
  // small, and repeated layers compiled once.
  pm.addPass(createOutlineKernels());
  pm.addPass(createConvertSCFToOpenMPPass());
  pm.addPass(createThreadRegions());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // Math ops without an LLVM intrinsic become libm calls, on vectors one
  // lane at a time: before the vector ops that this unrolling creates are
  // lowered.
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createExpandBF16());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  ConvertFuncToLLVMPassOptions toLLVM;
  toLLVM.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(toLLVM));
  // After the functions: this pass would convert them too, without the
  // bare-pointer convention.
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

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
  registerConversionPasses(); // graft's own: to linalg
  registerGraftCodegenPasses(); // and from linalg on
  PassPipelineRegistration<CPUPipelineOptions>(
      "graft-cpu-pipeline",
      "Lowers the training program's functions to the LLVM dialect",
      [](OpPassManager &pm, const CPUPipelineOptions &options) {
        buildCPUPipeline(pm, options.vectorBits);
      });
}

unsigned graft::hostVectorBits() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  if (features.lookup("avx512f"))
    return 512;
  return features.lookup("avx2") ? 256 : 128;
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
  buildCPUPipeline(lower);
  return lower.run(module);
}
