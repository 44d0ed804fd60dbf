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
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Transforms/Passes.h"
#include "mlir/Dialect/Affine/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/TransformOps/DialectExtension.h"
#include "mlir/Dialect/Linalg/Transforms/TilingInterfaceImpl.h"
#include "mlir/Dialect/SCF/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/SCF/TransformOps/SCFTransformOps.h"
#include "mlir/Dialect/Tensor/IR/TensorTilingInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/Dialect/Transform/LoopExtension/LoopExtension.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/TransformOps/VectorTransformOps.h"
#include "mlir/Dialect/Vector/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/Transforms/SubsetOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/SubsetInsertionOpInterfaceImpl.h"

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

std::string graft::linalgPipeline(bool cpu) {
  std::string on = cpu ? "true" : "false";
  return std::string("graft-hook-points{target=") + (cpu ? "cpu" : "cuda") +
         "},"
         "func.func(convert-graft-to-linalg{conv-products=" + on +
         " pool-taps=" + on + " batch-products=" + on +
         "}, canonicalize, cse, graft-fuse-elementwise, canonicalize, cse),";
}

const char graft::kBufferizePipeline[] =
    "graft-split-empty-tensors, eliminate-empty-tensors,"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "buffer-results-to-out-params{modify-public-functions add-result-attr},"
    "graft-plan-memory,";

// The CPU pipeline in MLIR's textual form, nested in builtin.module: every
// step is a pass with a stable name, so a failing step can be rerun alone
// with graft-opt.
static const std::string kCPUPipeline =
    graft::linalgPipeline(/*cpu=*/true) +
    "graft-cpu-schedule{vector-bits=VECTOR_BITS}, canonicalize," +
    graft::kBufferizePipeline +
    "graft-cpu-vectorize{vector-bits=VECTOR_BITS}, canonicalize,"
    "buffer-deallocation-pipeline, convert-bufferization-to-memref,"
    "func.func(convert-linalg-to-loops),"
    "convert-vector-to-scf{full-unroll=true}, lower-affine,"
    // Threads: the loops the schedule marked, where worth it, become
    // OpenMP worksharing loops, run on the C runtime's thread pool
    // (graft-thread-regions; graft_threads.c); canonicalize inlines the
    // alloca scopes that wrap their bodies (they hold no allocas).
    "func.func(graft-parallelize-loops),"
    // One function per distinct loop nest keeps LLVM's work per function
    // small, and repeated layers compiled once.
    "graft-outline-kernels,"
    "convert-scf-to-openmp, graft-thread-regions, canonicalize,"
    "convert-scf-to-cf,"
    "expand-strided-metadata, lower-affine,"
    // Math ops without an LLVM intrinsic become libm calls, on vectors one
    // lane at a time: before the vector ops that this unrolling creates
    // are lowered.
    "convert-math-to-llvm, convert-math-to-libm, convert-vector-to-llvm,"
    "finalize-memref-to-llvm,"
    "convert-arith-to-llvm, convert-index-to-llvm,"
    "convert-func-to-llvm{use-bare-ptr-memref-call-conv=1},"
    // After the functions: this pass would convert them too, without the
    // bare-pointer convention.
    "convert-openmp-to-llvm,"
    "convert-cf-to-llvm, convert-ub-to-llvm, reconcile-unrealized-casts";

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

unsigned graft::hostVectorBits() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  if (features.lookup("avx512f"))
    return 512;
  return features.lookup("avx2") ? 256 : 128;
}

LogicalResult graft::buildCPUPipeline(OpPassManager &pm, unsigned vectorBits) {
  registerCodegenPasses();
  std::string text = kCPUPipeline;
  for (size_t at; (at = text.find("VECTOR_BITS")) != std::string::npos;)
    text.replace(at, 11, std::to_string(vectorBits));
  // `pm` runs on builtin.module; the string holds what nests in it (a
  // "builtin.module(...)" wrapper would be silently ignored here).
  return parsePassPipeline(text, pm, llvm::errs());
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
