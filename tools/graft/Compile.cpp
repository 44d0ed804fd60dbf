//===- Compile.cpp - graft compile ----------------------------------------===//
//
// Compiles a model ahead of time into OUTDIR/libNAME.a and OUTDIR/NAME.h
// (see docs/CAPI.md and graft/Target/Library.h).
//
//===----------------------------------------------------------------------===//

#include "Compile.h"
#include "Load.h"

#include "graft/Frontend/MLIRGen.h"
#include "graft/Pipelines/GPU.h"
#include "graft/Pipelines/Pipelines.h"
#include "graft/Runtime/EmbeddedCUDARuntime.inc"
#include "graft/Runtime/EmbeddedAsanRuntime.inc"
#include "graft/Runtime/EmbeddedRuntime.inc"
#include "graft/Target/Library.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/Statistic.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/SourceMgr.h"

#include <chrono>
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

cl::SubCommand graft::cli::compileCmd(
    "compile", "Compile a model into a static library and a C header");

namespace {
cl::opt<std::string> input(cl::Positional, cl::Required,
                           cl::desc("<model.graft or model.mlir>"),
                           cl::sub(graft::cli::compileCmd));
cl::opt<std::string> outDir("o", cl::Required,
                            cl::desc("Directory for libNAME.a and NAME.h"),
                            cl::value_desc("OUTDIR"),
                            cl::sub(graft::cli::compileCmd));
cl::opt<std::string> targetCPU(
    "target-cpu", cl::init(""),
    cl::desc("CPU to compile for (default: the host's CPU and features)"),
    cl::sub(graft::cli::compileCmd));
cl::opt<std::string> modelName("model", cl::init(""),
                               cl::desc("The model to compile when the file "
                                        "has several"),
                               cl::sub(graft::cli::compileCmd));
cl::opt<std::string> target(
    "target", cl::init("cpu"),
    cl::desc("cpu (default), or cuda: NVIDIA GPUs, sm_80 and sm_90 (docs/GPU.md)"),
    cl::sub(graft::cli::compileCmd));
cl::opt<bool> emitPTX("emit-ptx", cl::init(false),
                      cl::desc("With --target=cuda: also write the kernels' "
                               "PTX to OUTDIR"),
                      cl::sub(graft::cli::compileCmd));
cl::opt<bool> allowTF32(
    "allow-tf32", cl::init(false),
    cl::desc("With --target=cuda: f32 matrix products and convolutions on "
             "the tensor cores in TF32 (PyTorch's allow_tf32; about 1e-3 "
             "relative error)"),
    cl::sub(graft::cli::compileCmd));
cl::opt<bool> timing("timing", cl::init(false),
                      cl::desc("Print the time of each compiler stage and "
                               "pass (to stderr)"),
                      cl::sub(graft::cli::compileCmd));
cl::opt<bool> stats(
    "stats", cl::init(false),
    cl::desc("Print what each compiler pass did: ops tiled, vectorised and "
             "split across threads, buffers planned, kernels (to stderr)"),
    cl::sub(graft::cli::compileCmd));
enum class Sanitizer { None, Address };
cl::opt<Sanitizer> sanitize(
    "sanitize", cl::init(Sanitizer::None),
    cl::desc("Instrument the library for a sanitizer; link the program "
             "with the same -fsanitize option"),
    cl::values(clEnumValN(Sanitizer::Address, "address",
                          "AddressSanitizer: the kernels and the C runtime")),
    cl::sub(graft::cli::compileCmd));
cl::list<std::string> dims("dim", cl::desc("Override a named dimension: --dim B=32"),
                           cl::value_desc("NAME=VALUE"),
                           cl::sub(graft::cli::compileCmd));
} // namespace

int graft::cli::runCompile() {
  auto start = std::chrono::steady_clock::now();
  if (stats)
    llvm::EnableStatistics(/*DoPrintOnExit=*/false);
  DialectRegistry registry;
  for (auto [set, name] : {std::pair<bool, const char *>{emitPTX, "--emit-ptx"},
                           {allowTF32, "--allow-tf32"}})
    if (set && target != "cuda") {
      llvm::errs() << "graft: error: " << name << " needs --target=cuda\n";
      return 2;
    }
  if (target == "cuda")
    registerGPUCodegenDialects(registry);
  else
    registerCodegenDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  DefaultTimingManager timer;
  timer.setEnabled(timing);
  TimingScope root = timer.getRootScope();
  llvm::SourceMgr sm;
  SourceMgrDiagnosticHandler handler(sm, &ctx);
  frontend::GenOptions options;
  if (!graft::cli::parseDims(dims, options))
    return 2;
  TimingScope reading = root.nest("front-end");
  OwningOpRef<ModuleOp> module =
      graft::cli::loadModule(ctx, sm, input, options);
  reading.stop();
  if (!module)
    return 1;
  LibraryOptions lib;
  lib.outputDir = outDir;
  lib.targetCPU = targetCPU;
  lib.modelName = modelName;
  lib.target = target;
  lib.emitPTX = emitPTX;
  lib.allowTF32 = allowTF32;
  lib.timing = &root;
  lib.cudaRuntimeObject =
      llvm::StringRef(reinterpret_cast<const char *>(graftCudaRuntimeObject),
                      graftCudaRuntimeObjectSize);
  lib.cudaApiHeader =
      llvm::StringRef(reinterpret_cast<const char *>(graftCudaApiHeader),
                      graftCudaApiHeaderSize);
  lib.sanitizeAddress = sanitize == Sanitizer::Address;
  lib.runtimeObject =
      lib.sanitizeAddress
          ? llvm::StringRef(
                reinterpret_cast<const char *>(graftAsanRuntimeObject),
                graftAsanRuntimeObjectSize)
          : llvm::StringRef(reinterpret_cast<const char *>(graftRuntimeObject),
                            graftRuntimeObjectSize);
  lib.apiHeader = llvm::StringRef(reinterpret_cast<const char *>(graftApiHeader),
                                  graftApiHeaderSize);
  auto name = compileLibrary(*module, lib);
  if (!name) {
    llvm::errs() << llvm::toString(name.takeError()) << "\n";
    return 1;
  }
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  llvm::outs() << "wrote " << outDir << "/lib" << *name << ".a and " << outDir
               << "/" << *name << ".h (compiled in "
               << llvm::format("%.2f", seconds) << " s)\n";
  if (stats)
    llvm::PrintStatistics(llvm::errs());
  return 0;
}
