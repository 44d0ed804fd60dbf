//===- graft.cpp - The Graft command line ---------------------------------===//
//
// `graft <subcommand> ...`. Exit codes: 0 success, 1 the input has errors
// (diagnostics were printed with file:line:col), 2 the command line is wrong.
//
//===----------------------------------------------------------------------===//

#include "Version.h"

#include "graft/Autograd/RequiresGrad.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "graft/Dialect/Graft/IR/ShapeFunctions.h"
#include "graft/Frontend/MLIRGen.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {
enum ExitCode { Ok = 0, InputError = 1, UsageError = 2 };

cl::SubCommand checkCmd("check",
                        "Parse and verify a model; print its summary");
cl::opt<std::string> checkFile(cl::Positional, cl::Required,
                               cl::desc("<model.graft | model.mlir>"),
                               cl::sub(checkCmd));

cl::SubCommand emitCmd("emit-mlir",
                       "Compile a .graft model file and print its graft IR");
cl::opt<std::string> emitFile(cl::Positional, cl::Required,
                              cl::desc("<model.graft>"), cl::sub(emitCmd));
cl::opt<std::string> emitOutput("o", cl::desc("Write the IR to <file>"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::sub(emitCmd));
cl::opt<bool> emitLocations(
    "locations", cl::desc("Print the source location of every op"),
    cl::init(false), cl::sub(emitCmd));
cl::list<std::string> dimOverrides(
    "dim", cl::desc("Override a named dimension: --dim B=32"),
    cl::value_desc("NAME=VALUE"), cl::sub(checkCmd), cl::sub(emitCmd));

struct Subcommand {
  cl::SubCommand *cmd;
  int (*run)();
};

/// Parses `path` as graft IR and verifies it. Diagnostics go to stderr with
/// file:line:col, the source line and a caret.
OwningOpRef<ModuleOp> load(MLIRContext &ctx, llvm::SourceMgr &sm,
                           llvm::StringRef path) {
  std::string err;
  auto file = openInputFile(path, &err);
  if (!file) {
    llvm::errs() << "graft: error: " << err << "\n";
    return nullptr;
  }
  sm.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  return parseSourceFile<ModuleOp>(sm, &ctx);
}

std::string typeStr(RankedTensorType t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t.getElementType() << graft::shape::str(t.getShape());
  return s;
}

bool isModelFile(llvm::StringRef path) {
  return llvm::sys::path::extension(path) == ".graft";
}

/// Parses `--dim NAME=VALUE` options; false after reporting a usage error.
bool parseDims(graft::frontend::GenOptions &options) {
  for (const std::string &d : dimOverrides) {
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

/// Loads a .graft model file (through the front-end) or graft IR (.mlir).
OwningOpRef<ModuleOp> loadAny(MLIRContext &ctx, llvm::SourceMgr &sm,
                              llvm::StringRef path,
                              const graft::frontend::GenOptions &options) {
  if (isModelFile(path))
    return graft::frontend::compileFile(ctx, sm, path, options, llvm::errs());
  return load(ctx, sm, path);
}

int runCheck() {
  MLIRContext ctx;
  ctx.loadDialect<graft::GraftDialect>();
  graft::frontend::GenOptions options;
  if (!parseDims(options))
    return UsageError;
  if (!isModelFile(checkFile) && !options.dims.empty()) {
    llvm::errs() << "graft: error: --dim applies to .graft model files\n";
    return UsageError;
  }
  llvm::SourceMgr sm;
  SourceMgrDiagnosticHandler handler(sm, &ctx);
  OwningOpRef<ModuleOp> module = loadAny(ctx, sm, checkFile, options);
  if (!module)
    return InputError;
  auto &os = llvm::outs();
  int models = 0;
  for (auto model : module->getOps<graft::ModelOp>()) {
    ++models;
    graft::RequiresGradAnalysis ag(model);
    int64_t total = 0, trainable = 0, frozen = 0, buffers = 0;
    os << "model @" << model.getSymName() << "\n";
    for (Operation &op : model.getBody().front()) {
      if (auto in = dyn_cast<graft::InputOp>(op))
        os << "  input  " << in.getName() << ": " << typeStr(in.getType())
           << (in.getRequiresGrad() ? " (requires_grad)" : "") << "\n";
      else if (auto p = dyn_cast<graft::ParamOp>(op)) {
        int64_t n = p.getType().getNumElements();
        total += n;
        (p.getFrozen() ? frozen : trainable) += n;
        os << "  param  " << p.getName() << ": " << typeStr(p.getType())
           << (p.getFrozen() ? " (frozen)" : "") << "\n";
      } else if (auto b = dyn_cast<graft::BufferOp>(op)) {
        buffers += b.getType().getNumElements();
        os << "  buffer " << b.getName() << ": " << typeStr(b.getType())
           << "\n";
      }
    }
    os << "  parameters: " << total << " total, " << trainable
       << " trainable, " << frozen << " frozen; buffer elements: " << buffers
       << "\n";
    if (Value loss = model.getLoss())
      os << "  loss: " << (ag.requiresGrad(loss) ? "requires grad"
                                                 : "does not require grad")
         << "\n";
    else
      os << "  loss: none (inference only)\n";
  }
  if (models == 0) {
    llvm::errs() << checkFile << ": error: no graft.model found\n";
    return InputError;
  }
  return Ok;
}

int runEmitMlir() {
  MLIRContext ctx;
  ctx.loadDialect<graft::GraftDialect>();
  graft::frontend::GenOptions options;
  if (!parseDims(options))
    return UsageError;
  llvm::SourceMgr sm;
  SourceMgrDiagnosticHandler handler(sm, &ctx);
  OwningOpRef<ModuleOp> module = loadAny(ctx, sm, emitFile, options);
  if (!module)
    return InputError;
  std::string err;
  auto out = openOutputFile(emitOutput, &err);
  if (!out) {
    llvm::errs() << "graft: error: " << err << "\n";
    return UsageError;
  }
  OpPrintingFlags flags;
  if (emitLocations)
    flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false)
        .useLocalScope();
  module->print(out->os(), flags);
  out->keep();
  return Ok;
}

Subcommand subcommands[] = {{&checkCmd, runCheck}, {&emitCmd, runEmitMlir}};

void printVersion(llvm::raw_ostream &os) {
  os << "graft " << GRAFT_VERSION << " (LLVM/MLIR " << GRAFT_LLVM_VERSION
     << ")\n";
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::SetVersionPrinter(printVersion);
  const char *overview =
      "Graft: an ahead-of-time autograd compiler\n\n"
      "  graft <subcommand> [options] <file>\n"
      "  graft <subcommand> --help\n";

  // Reject unknown subcommands ourselves: cl would take them for files.
  if (argc >= 2 && argv[1][0] != '-') {
    bool known = llvm::any_of(subcommands, [&](const Subcommand &s) {
      return s.cmd->getName() == argv[1];
    });
    if (!known) {
      llvm::errs() << "graft: error: unknown subcommand '" << argv[1]
                   << "'; run 'graft --help' for the list\n";
      return UsageError;
    }
  }
  std::string errors;
  llvm::raw_string_ostream errStream(errors);
  if (!cl::ParseCommandLineOptions(argc, argv, overview, &errStream)) {
    llvm::errs() << errors;
    return UsageError;
  }
  for (const Subcommand &s : subcommands)
    if (*s.cmd)
      return s.run();
  llvm::errs() << "graft: error: no subcommand given; run 'graft --help'\n";
  return UsageError;
}
