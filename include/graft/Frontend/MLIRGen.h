//===- MLIRGen.h - From .graft files to the graft dialect -------*- C++ -*-===//
//
// Semantic analysis and IR generation: resolves names, instantiates modules
// with state_dict names, fixes named dimensions, checks shapes, dtypes and the
// autograd rules a model file can break, and builds one graft.model per
// `model` declaration. Every op carries the FileLineColLoc of its source.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_FRONTEND_MLIRGEN_H
#define GRAFT_FRONTEND_MLIRGEN_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/SourceMgr.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace graft::frontend {

struct GenOptions {
  /// `--dim NAME=VALUE` overrides of `dim` declarations, in order.
  std::vector<std::pair<std::string, int64_t>> dims;
  /// Functions are inlined and loops unrolled at compile time: a model that
  /// asks for more operations or expression evaluations than these is an
  /// error (`--max-ops`, `--max-evaluations`), in bounded time and memory.
  /// The defaults are far above any real model (nanoGPT's 12 layers are a
  /// few thousand ops) and far below what would exhaust time or memory.
  uint64_t maxOps = 1'000'000;
  uint64_t maxEvaluations = 20'000'000;
};

/// Reads `path` and the files it includes into `sm`, and generates graft IR.
/// Errors are printed to `os` as `file:line:col: error: ...` with the line
/// and a caret; the result is null when there was any.
mlir::OwningOpRef<mlir::ModuleOp> compileFile(mlir::MLIRContext &ctx,
                                              llvm::SourceMgr &sm,
                                              llvm::StringRef path,
                                              const GenOptions &options,
                                              llvm::raw_ostream &os);

} // namespace graft::frontend

#endif
