//===- Load.h - Reading models for the subcommands --------------*- C++ -*-===//

#ifndef GRAFT_TOOLS_LOAD_H
#define GRAFT_TOOLS_LOAD_H

#include "graft/Frontend/MLIRGen.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/ArrayRef.h"

#include <string>

namespace llvm {
class SourceMgr;
namespace cl {
class SubCommand;
} // namespace cl
} // namespace llvm

namespace graft::cli {

/// Appends `--dim NAME=VALUE` overrides to `options`; false after printing a
/// usage error.
bool parseDims(llvm::ArrayRef<std::string> overrides,
               frontend::GenOptions &options);

/// Makes the front-end's size limits (`--max-ops`, `--max-evaluations`)
/// options of `subcommands`, which loadModule then applies. Call before
/// parsing the command line.
void addModelLimitOptions(llvm::ArrayRef<llvm::cl::SubCommand *> subcommands);

/// Loads a .graft model file (through the front-end) or graft IR (.mlir),
/// verified. Diagnostics go to stderr with file:line:col; null on errors.
mlir::OwningOpRef<mlir::ModuleOp> loadModule(mlir::MLIRContext &ctx,
                                             llvm::SourceMgr &sm,
                                             llvm::StringRef path,
                                             const frontend::GenOptions &options);

} // namespace graft::cli

#endif
