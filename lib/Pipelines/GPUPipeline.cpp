//===- GPUPipeline.cpp - Graft's CUDA lowering
//-----------------------------===//
//
// The training program's functions to NVVM kernels and host code that
// launches them through the mgpu* runtime ABI (lib/Runtime/c/graft_cuda.c).
// The graft -> linalg part is the CPU pipeline's; from linalg on:
//
//   bufferize (results as out-parameters, the planned workspace)
//   -> graft-gpu-fold-transposes (products read transposed copies' sources)
//   -> graft-gpu-strategy (each product's and long reduction's kernel, as a
//      #graft.gpu_config) -> graft-gpu-schedule (builds them: tiled
//      products, warp and block reductions)
//   -> the rest: linalg to scf.parallel loops -> graft-gpu-map-loops (tile
//   every loop nest into thread blocks, map
//      dims to blocks and threads, run serial code as one-thread kernels)
//   -> gpu.launch -> kernel outlining -> graft-gpu-device-memory (buffers
//      are device buffers: gpu.alloc/dealloc/memcpy) -> one async stream
//   -> NVVM for every chip, host code to LLVM (bare pointers).
//
// The Graft passes are in lib/Codegen/GPU (GPUFoldTransposes.cpp,
// GPUStrategy.cpp, GPUSchedule.cpp, GPUMapping.cpp).
// See docs/GPU.md.
//
//===----------------------------------------------------------------------===//

#include "graft/Pipelines/GPU.h"
#include "graft/Codegen/Passes.h"
#include "graft/Pipelines/Pipelines.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/GPUCommon/GPUToLLVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVM.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVM.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"

#include <mutex>

using namespace mlir;

void graft::registerGPUCodegenDialects(DialectRegistry &registry) {
  registerCodegenDialects(registry);
  registry.insert<gpu::GPUDialect, NVVM::NVVMDialect, nvgpu::NVGPUDialect,
                  index::IndexDialect, ub::UBDialect>();
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerGPUDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  gpu::registerOffloadingLLVMTranslationInterfaceExternalModels(registry);
  // convert-gpu-to-nvvm and gpu-to-llvm lower the ops of every dialect
  // through its ConvertToLLVMPatternInterface.
  arith::registerConvertArithToLLVMInterface(registry);
  cf::registerConvertControlFlowToLLVMInterface(registry);
  registerConvertFuncToLLVMInterface(registry);
  index::registerConvertIndexToLLVMInterface(registry);
  registerConvertMathToLLVMInterface(registry);
  registerConvertMemRefToLLVMInterface(registry);
  registerConvertNVVMToLLVMInterface(registry);
  NVVM::registerConvertGpuToNVVMInterface(registry);
  ub::registerConvertUBToLLVMInterface(registry);
  vector::registerConvertVectorToLLVMInterface(registry);
  gpu::registerConvertGpuToLLVMInterface(registry);
}

namespace {

void registerOnce() {
  graft::registerCodegenPasses();
  registerGPUPasses();
  PassPipelineRegistration<>(
      "graft-gpu-pipeline",
      "Lowers the training program's functions to host LLVM code launching "
      "NVVM kernels (sm_80 and sm_90), with the kernels as PTX",
      [](OpPassManager &pm) {
        graft::buildGPUPipeline(pm, graft::GPUOptions());
        GpuModuleToBinaryPassOptions toBinary;
        toBinary.compilationTarget = "isa";
        pm.addPass(createGpuModuleToBinaryPass(toBinary));
      });
}
} // namespace

void graft::registerGPUCodegenPasses() {
  static std::once_flag once;
  std::call_once(once, registerOnce);
}

std::vector<std::string> graft::defaultGPUChips() { return {"sm_80", "sm_90"}; }

// After the target-neutral steps every pipeline shares (Pipelines.h), the
// GPU's. The workspace that graft-plan-memory plans is allocated once on
// the device by the CUDA runtime. The tensor-core products' nvgpu.mma.sync
// become NVVM before the rest of the kernels.
void graft::buildGPUPipeline(OpPassManager &pm, const GPUOptions &options) {
  registerGPUCodegenPasses();
  addLinalgPasses(pm, /*cpu=*/false);
  addBufferizePasses(pm);
  addBufferDeallocationPasses(pm);
  pm.addPass(createGPUParallelFirst());
  pm.addNestedPass<func::FuncOp>(createGPUFoldTransposes());
  GPUStrategyOptions strategy;
  strategy.tf32 = options.tf32;
  pm.addNestedPass<func::FuncOp>(createGPUStrategy(strategy));
  pm.addNestedPass<func::FuncOp>(createGPUSchedule());
  OpPassManager &loops = pm.nest<func::FuncOp>();
  loops.addPass(createConvertLinalgToParallelLoopsPass());
  loops.addPass(createGPUFuseParallel());
  pm.addPass(createGPUMapLoops());
  pm.addNestedPass<func::FuncOp>(createConvertParallelLoopToGpuPass());
  pm.addPass(createGpuLaunchSinkIndexComputationsPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createGPUMergeModules());
  pm.addPass(createGPUDeviceMemory());
  pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  for (const std::string &chip : options.chips) {
    GpuNVVMAttachTargetOptions attach;
    attach.chip = chip;
    attach.optLevel = 3;
    pm.addPass(createGpuNVVMAttachTarget(attach));
  }
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createConvertNVGPUToNVVMPass());
  ConvertGpuOpsToNVVMOpsOptions toNVVM;
  toNVVM.useBarePtrCallConv = true;
  kernels.addPass(createConvertGpuOpsToNVVMOps(toNVVM));
  kernels.addPass(createArithToLLVMConversionPass());
  kernels.addPass(createConvertIndexToLLVMPass());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  GpuToLLVMConversionPassOptions host;
  host.kernelBarePtrCallConv = true;
  host.hostBarePtrCallConv = true;
  pm.addPass(createGpuToLLVMConversionPass(host));
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

std::string graft::findCUDAToolkit() {
  SmallVector<std::string> candidates;
  for (const char *var : {"GRAFT_CUDA_PATH", "CUDA_HOME", "CUDA_PATH"})
    if (auto v = llvm::sys::Process::GetEnv(var))
      candidates.push_back(*v);
  candidates.push_back("/usr/local/cuda");
  for (const std::string &dir : candidates) {
    llvm::SmallString<256> ptxas(dir);
    llvm::sys::path::append(ptxas, "bin", "ptxas");
    if (llvm::sys::fs::can_execute(ptxas))
      return dir;
  }
  return "";
}

// The container graft_cuda.c's mgpuModuleLoad reads (little-endian):
//   "GRAFTGPU", u32 version (1), u32 count,
//   count x {u32 kind (0 PTX, 1 cubin), u32 sm (80, 90), u64 offset,
//            u64 size}, then the images (PTX NUL-terminated).
static void appendU32(std::string &s, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    s += static_cast<char>((v >> (8 * i)) & 0xff);
}
static void appendU64(std::string &s, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    s += static_cast<char>((v >> (8 * i)) & 0xff);
}

LogicalResult graft::serializeGPUModules(ModuleOp module,
                                         const std::string &toolkit,
                                         std::vector<GPUImage> &images) {
  std::optional<SymbolTable> table;
  auto symbolTable = [&]() -> SymbolTable * {
    if (!table)
      table.emplace(module);
    return &*table;
  };
  for (auto gm : llvm::to_vector(module.getOps<gpu::GPUModuleOp>())) {
    ArrayAttr targets = gm.getTargetsAttr();
    if (!targets || targets.empty())
      return gm.emitError("the kernel module has no NVVM target");
    struct Part {
      uint32_t kind, sm;
      std::string bytes;
    };
    SmallVector<Part> parts;
    for (Attribute t : targets) {
      auto nvvm = dyn_cast<NVVM::NVVMTargetAttr>(t);
      auto target = dyn_cast<gpu::TargetAttrInterface>(t);
      if (!nvvm || !target)
        return gm.emitError("only NVVM targets are supported");
      StringRef chip = nvvm.getChip();
      uint32_t sm = 0;
      if (!chip.starts_with("sm_") || chip.drop_front(3).getAsInteger(10, sm))
        return gm.emitError("unexpected chip '") << chip << "'";
      GPUImage image{gm.getName().str(), chip.str(), "", ""};
      auto isa = [&](StringRef ptx) { image.ptx = ptx.str(); };
      gpu::TargetOptions options(
          toolkit, {}, "", "",
          toolkit.empty() ? gpu::CompilationTarget::Assembly
                          : gpu::CompilationTarget::Binary,
          symbolTable, {}, {}, {}, isa);
      std::optional<SmallVector<char, 0>> object =
          target.serializeToObject(gm, options);
      if (!object)
        return gm.emitError("compiling the kernels for ") << chip << " failed";
      std::string bytes(object->begin(), object->end());
      if (toolkit.empty())
        image.ptx = bytes;
      else
        image.cubin = bytes;
      if (image.ptx.empty())
        return gm.emitError("no PTX for ") << chip;
      std::string ptx = image.ptx;
      if (ptx.back() != '\0')
        ptx += '\0';
      parts.push_back({0, sm, ptx});
      if (!image.cubin.empty())
        parts.push_back({1, sm, image.cubin});
      images.push_back(std::move(image));
    }
    std::string blob = "GRAFTGPU";
    appendU32(blob, 1);
    appendU32(blob, parts.size());
    uint64_t offset = blob.size() + parts.size() * 24;
    for (const Part &p : parts) {
      appendU32(blob, p.kind);
      appendU32(blob, p.sm);
      appendU64(blob, offset);
      appendU64(blob, p.bytes.size());
      offset += p.bytes.size();
    }
    for (const Part &p : parts)
      blob += p.bytes;
    MLIRContext *ctx = module.getContext();
    auto object = gpu::ObjectAttr::get(ctx, targets[0],
                                       gpu::CompilationTarget::Binary,
                                       StringAttr::get(ctx, blob), nullptr,
                                       nullptr);
    OpBuilder b(gm);
    gpu::BinaryOp::create(b, gm.getLoc(), gm.getName(), nullptr,
                          ArrayRef<Attribute>{object});
    gm.erase();
  }
  return success();
}
