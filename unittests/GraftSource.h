//===- GraftSource.h - Model-language sources in unit tests -----*- C++ -*-===//
//
// Compiles a .graft source held in a string with the front-end (which reads
// files: the source goes through a temporary one). Shared by the tests of
// the front-end's goldens on the evaluator (FrontendGoldensTest.cpp) and on
// the generated code (FrontendGoldensJITTest.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_UNITTESTS_GRAFTSOURCE_H
#define GRAFT_UNITTESTS_GRAFTSOURCE_H

#include "graft/Frontend/MLIRGen.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace graft {

/// The module of `source`, or null with the front-end's messages in
/// `errors`. `ctx` must have the graft and func dialects loaded.
inline mlir::OwningOpRef<mlir::ModuleOp>
compileGraftSource(mlir::MLIRContext &ctx, llvm::StringRef source,
                   std::string &errors) {
  llvm::raw_string_ostream es(errors);
  llvm::SmallString<128> path;
  if (llvm::sys::fs::createTemporaryFile("golden", "graft", path)) {
    es << "cannot create a temporary file";
    return nullptr;
  }
  llvm::FileRemover remove(path);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    if (ec) {
      es << ec.message();
      return nullptr;
    }
    os << source;
  }
  llvm::SourceMgr sm;
  return frontend::compileFile(ctx, sm, path, {}, es);
}

} // namespace graft

#endif // GRAFT_UNITTESTS_GRAFTSOURCE_H
