//===- Diagnostics.h - Errors with file:line:col and a caret ----*- C++ -*-===//
//
// The front-end reports through llvm::SourceMgr, which prints
// `file:line:col: error: message`, the source line and a caret. LLVM Support
// only, so the lexer and parser stay free of MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_FRONTEND_DIAGNOSTICS_H
#define GRAFT_FRONTEND_DIAGNOSTICS_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

namespace graft::frontend {

class Diagnostics {
public:
  Diagnostics(llvm::SourceMgr &sm, llvm::raw_ostream &os) : sm(sm), os(os) {}

  void error(llvm::SMLoc loc, const llvm::Twine &message);
  void warning(llvm::SMLoc loc, const llvm::Twine &message);
  /// A note or hint attached to the previous error (printed after it).
  void note(llvm::SMLoc loc, const llvm::Twine &message);

  unsigned getNumErrors() const { return numErrors; }
  /// Whether so many errors were reported that going on is pointless.
  bool tooMany() const { return numErrors >= maxErrors; }
  llvm::SourceMgr &getSourceMgr() { return sm; }

  static constexpr unsigned maxErrors = 20;

private:
  llvm::SourceMgr &sm;
  llvm::raw_ostream &os;
  unsigned numErrors = 0;
  bool suppressed = false;
};

} // namespace graft::frontend

#endif
