//===- Load.cpp - Reading models for the subcommands ----------------------===//

#include "Load.h"

#include "graft/Autograd/Backward.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "graft/Support/NestingCheck.h"

#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {
const graft::frontend::GenOptions defaults;
cl::opt<uint64_t> maxOps(
    "max-ops",
    cl::desc("Most operations a .graft model may build, after inlining and "
             "unrolling"),
    cl::init(defaults.maxOps), cl::value_desc("N"));
cl::opt<uint64_t> maxEvaluations(
    "max-evaluations",
    cl::desc("Most expression evaluations building a .graft model may take"),
    cl::init(defaults.maxEvaluations), cl::value_desc("N"));
} // namespace

void graft::cli::addModelLimitOptions(
    llvm::ArrayRef<cl::SubCommand *> subcommands) {
  // Registered at the top level when constructed (a subcommand of another
  // translation unit may not exist yet then); moved to the subcommands here.
  for (cl::Option *o : {static_cast<cl::Option *>(&maxOps),
                        static_cast<cl::Option *>(&maxEvaluations)}) {
    o->removeArgument();
    for (cl::SubCommand *s : subcommands)
      o->addSubCommand(*s);
    o->addArgument();
  }
}

bool graft::cli::parseDims(llvm::ArrayRef<std::string> overrides,
                           frontend::GenOptions &options) {
  for (const std::string &d : overrides) {
    auto [name, value] = llvm::StringRef(d).split('=');
    int64_t v;
    if (name.empty() || value.getAsInteger(10, v) || v <= 0) {
      llvm::errs() << "graft: error: --dim expects NAME=VALUE with a positive "
                      "integer VALUE, got '"
                   << d << "'\n";
      return false;
    }
    options.dims.emplace_back(name.str(), v);
  }
  return true;
}

/// Reads the file: the front-end's module, or parsed and verified IR.
static OwningOpRef<ModuleOp> readModule(MLIRContext &ctx, llvm::SourceMgr &sm,
                                        llvm::StringRef path,
                                        const graft::frontend::GenOptions &options) {
  if (llvm::sys::path::extension(path) == ".graft")
    return graft::frontend::compileFile(ctx, sm, path, options, llvm::errs());
  std::string err;
  auto file = openInputFile(path, &err);
  if (!file) {
    llvm::errs() << "graft: error: " << err << "\n";
    return nullptr;
  }
  llvm::StringRef text = file->getBuffer();
  unsigned id = sm.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  if (std::optional<size_t> at = graft::findTooDeepNesting(text)) {
    sm.PrintMessage(llvm::errs(),
                    llvm::SMLoc::getFromPointer(
                        sm.getMemoryBuffer(id)->getBufferStart() + *at),
                    llvm::SourceMgr::DK_Error,
                    "the IR nests more than " + llvm::Twine(graft::kMaxIRNesting) +
                        " levels deep (regions, brackets, types or "
                        "attributes): not IR Graft reads");
    return nullptr;
  }
  return parseSourceFile<ModuleOp>(sm, &ctx);
}

OwningOpRef<ModuleOp>
graft::cli::loadModule(MLIRContext &ctx, llvm::SourceMgr &sm,
                       llvm::StringRef path,
                       const frontend::GenOptions &options) {
  frontend::GenOptions limited = options;
  limited.maxOps = maxOps;
  limited.maxEvaluations = maxEvaluations;
  OwningOpRef<ModuleOp> module = readModule(ctx, sm, path, limited);
  if (!module)
    return nullptr;
  // Every subcommand gets the checks `graft check` makes: PyTorch's
  // version-counter and inference-tensor errors, whether or not it goes on
  // to derive a backward (deriveBackward checks again: no path skips it).
  bool ok = true;
  for (auto model : module->getOps<graft::ModelOp>())
    ok &= succeeded(checkInPlace(model));
  return ok ? std::move(module) : nullptr;
}
