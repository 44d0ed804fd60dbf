//===- Import.cpp - graft import ------------------------------------------===//
//
// Writes an ONNX model as a .graft file and its weights as safetensors
// (lib/Import/OnnxImport.cpp), then loads the written file as `graft check`
// does: the import either gives a model Graft compiles or an error.
//
//===----------------------------------------------------------------------===//

#include "Import.h"
#include "Load.h"

#include "graft/Dialect/Graft/IR/GraftOps.h"
#ifdef GRAFT_HAVE_ONNX
#include "graft/Import/OnnxImport.h"
#endif
#include "graft/Runtime/Checkpoint.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

cl::SubCommand graft::cli::importCmd(
    "import", "Write an ONNX model as a .graft model file and its weights");

namespace {
cl::opt<std::string> importFile(cl::Positional, cl::Required,
                                cl::desc("<model.onnx>"),
                                cl::sub(graft::cli::importCmd));
cl::opt<std::string> importOutput("o", cl::Required,
                                  cl::desc("Write the model to <file>"),
                                  cl::value_desc("model.graft"),
                                  cl::sub(graft::cli::importCmd));
cl::opt<std::string> importWeights(
    "weights",
    cl::desc("Write the initializers (parameters, buffers) to <file> as "
             "safetensors, for graft train --init or graft_load"),
    cl::value_desc("weights.safetensors"), cl::sub(graft::cli::importCmd));
cl::list<std::string> importDims(
    "dim", cl::desc("The size of an input's dynamic dimension: --dim batch=32"),
    cl::value_desc("NAME=VALUE"), cl::sub(graft::cli::importCmd));
cl::list<std::string> importTargets(
    "target",
    cl::desc("An input only the loss reads: --target 'target=i64[batch]'"),
    cl::value_desc("NAME=TYPE"), cl::sub(graft::cli::importCmd));
cl::opt<std::string> importLoss(
    "loss",
    cl::desc("Add a train block with this loss, over the outputs and inputs: "
             "--loss 'F.cross_entropy(output, target)'"),
    cl::value_desc("expr"), cl::sub(graft::cli::importCmd));
cl::opt<std::string> importOptimizer(
    "optimizer", cl::desc("The train block's optimizer (default SGD(lr=0.01))"),
    cl::value_desc("expr"), cl::init("SGD(lr=0.01)"),
    cl::sub(graft::cli::importCmd));
cl::list<std::string>
    importFreeze("freeze",
                 cl::desc("Freeze parameters: a name, a module or a pattern "
                          "(features.*); repeatable"),
                 cl::value_desc("pattern"), cl::sub(graft::cli::importCmd));
cl::opt<std::string> importName("name",
                                cl::desc("The model's name (default: the "
                                         "file's stem)"),
                                cl::value_desc("name"),
                                cl::sub(graft::cli::importCmd));
} // namespace

int graft::cli::runImport() {
#ifndef GRAFT_HAVE_ONNX
  llvm::errs() << "graft: error: this graft was built without ONNX "
                  "(libonnx-dev): graft import is not available\n";
  return 2;
#else
  OnnxImportOptions options;
  frontend::GenOptions dims;
  if (!parseDims(importDims, dims))
    return 2;
  options.dims.insert(dims.dims.begin(), dims.dims.end());
  if (importLoss.empty() && importOptimizer.getNumOccurrences()) {
    llvm::errs() << "graft: error: --optimizer belongs to the train block, "
                    "which --loss adds\n";
    return 2;
  }
  options.targets = importTargets;
  options.loss = importLoss;
  options.optimizer = importOptimizer;
  options.freeze = importFreeze;
  options.name = importName;
  options.source = llvm::sys::path::filename(importFile).str();
  auto file = llvm::MemoryBuffer::getFile(importFile, /*IsText=*/false);
  if (!file) {
    llvm::errs() << "graft: error: cannot read " << importFile << ": "
                 << file.getError().message() << "\n";
    return 1;
  }
  auto imported = importOnnx(importFile, (*file)->getBuffer(), options);
  if (!imported) {
    llvm::errs() << llvm::toString(imported.takeError()) << "\n";
    return 1;
  }
  if (auto err = writeFileAtomically(importOutput, imported->text)) {
    llvm::errs() << "graft: error: " << llvm::toString(std::move(err)) << "\n";
    return 1;
  }
  if (!importWeights.empty())
    if (auto err = writeSafetensors(importWeights, imported->weights,
                                    {{"graft.import.constants",
                                      llvm::join(imported->constants, ",")}})) {
      llvm::errs() << "graft: error: " << llvm::toString(std::move(err))
                   << "\n";
      return 1;
    }
  // The written file must be a model Graft compiles.
  mlir::MLIRContext ctx;
  ctx.loadDialect<graft::GraftDialect>();
  llvm::SourceMgr sm;
  mlir::SourceMgrDiagnosticHandler handler(sm, &ctx);
  frontend::GenOptions genOptions;
  if (!loadModule(ctx, sm, importOutput, genOptions)) {
    llvm::errs() << importOutput
                 << ": error: the imported model does not compile (above); "
                    "this is a bug of graft import, please report it\n";
    return 1;
  }
  llvm::outs() << "imported " << importFile << ": " << importOutput;
  if (!importWeights.empty())
    llvm::outs() << ", " << imported->weights.size() << " tensors in "
                 << importWeights;
  llvm::outs() << "\n";
  return 0;
#endif
}
