//===- Load.cpp - Reading models for the subcommands ----------------------===//

#include "Load.h"

#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

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

OwningOpRef<ModuleOp>
graft::cli::loadModule(MLIRContext &ctx, llvm::SourceMgr &sm,
                       llvm::StringRef path,
                       const frontend::GenOptions &options) {
  if (llvm::sys::path::extension(path) == ".graft")
    return frontend::compileFile(ctx, sm, path, options, llvm::errs());
  std::string err;
  auto file = openInputFile(path, &err);
  if (!file) {
    llvm::errs() << "graft: error: " << err << "\n";
    return nullptr;
  }
  sm.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  return parseSourceFile<ModuleOp>(sm, &ctx);
}
