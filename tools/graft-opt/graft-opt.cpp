//===- graft-opt.cpp - The pass driver for graft IR -----------------------===//
//
// mlir-opt for Graft: parses graft IR, runs passes, prints the result. Used by
// the lit tests. Only the dialects and passes Graft uses are registered.
//
//===----------------------------------------------------------------------===//

#include "graft/Autograd/Passes.h"
#include "graft/Conversion/Passes.h"
#include "graft/Pipelines/GPU.h"
#include "graft/Pipelines/Pipelines.h"
#include "graft/Dialect/Graft/IR/GraftDialect.h"
#include "graft/Support/NestingCheck.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/Statistic.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

static llvm::cl::opt<bool> graftStats(
    "graft-stats", llvm::cl::init(false),
    llvm::cl::desc("Print the counts of Graft's passes (ops tiled, loops "
                   "split across threads, buffers planned, ...) to stderr"));

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  graft::registerCodegenDialects(registry);
  graft::registerGPUCodegenDialects(registry);
  graft::registerAutogradPasses();
  graft::registerCodegenPasses();
  graft::registerGPUCodegenPasses();
  auto [input, output] = mlir::registerAndParseCLIOptions(
      argc, argv, "Graft optimizer driver\n", registry);
  // MLIR's parser overflows the stack on input nested ~10,000 deep: such a
  // file is refused with a located error first (stdin is not pre-read).
  if (input != "-") {
    auto file = llvm::MemoryBuffer::getFile(input, /*IsText=*/true);
    if (file) {
      llvm::StringRef text = (*file)->getBuffer();
      if (std::optional<size_t> at = graft::findTooDeepNesting(text)) {
        llvm::SourceMgr sm;
        const char *start = text.data();
        sm.AddNewSourceBuffer(std::move(*file), llvm::SMLoc());
        sm.PrintMessage(llvm::errs(), llvm::SMLoc::getFromPointer(start + *at),
                        llvm::SourceMgr::DK_Error,
                        "the IR nests more than " +
                            llvm::Twine(graft::kMaxIRNesting) +
                            " levels deep (regions, brackets, types or attributes): not IR Graft reads");
        return 1;
      }
    }
  }
  if (!graftStats)
    return mlir::asMainReturnCode(
        mlir::MlirOptMain(argc, argv, input, output, registry));
  // The same steps as that MlirOptMain, which ends with llvm_shutdown (and
  // so drops the statistics), then the statistics.
  llvm::EnableStatistics(/*DoPrintOnExit=*/false);
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> file = mlir::openInputFile(input, &error);
  std::unique_ptr<llvm::ToolOutputFile> out =
      file ? mlir::openOutputFile(output, &error) : nullptr;
  if (!out) {
    llvm::errs() << error << "\n";
    return 1;
  }
  mlir::LogicalResult result =
      mlir::MlirOptMain(out->os(), std::move(file), registry,
                        mlir::MlirOptMainConfig::createFromCLOptions());
  if (mlir::succeeded(result))
    out->keep();
  llvm::PrintStatistics(llvm::errs());
  return mlir::asMainReturnCode(result);
}
