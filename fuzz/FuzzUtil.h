//===- FuzzUtil.h - What Graft's libFuzzer targets share --------*- C++ -*-===//

#ifndef GRAFT_FUZZ_FUZZUTIL_H
#define GRAFT_FUZZ_FUZZUTIL_H

#include "mlir/IR/Operation.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

namespace graft::fuzz {

/// A file of this process for inputs that the code under test reads by
/// path: $TMPDIR (or /tmp)/graft-fuzz-<pid>-<name>, removed at exit.
inline std::string scratchPath(const char *name) {
  const char *dir = std::getenv("TMPDIR");
  std::string path = std::string(dir && *dir ? dir : "/tmp") + "/graft-fuzz-" +
                     std::to_string(::getpid()) + "-" + name;
  static auto *owned = new std::vector<std::string>();
  if (owned->empty())
    std::atexit([] {
      for (const std::string &p : *owned)
        std::remove(p.c_str());
    });
  owned->push_back(path);
  return path;
}

/// Replaces the file at `path` with `data`; false when it cannot.
inline bool writeScratch(const std::string &path, const uint8_t *data,
                         size_t size) {
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return false;
  bool ok = std::fwrite(data, 1, size, f) == size;
  return std::fclose(f) == 0 && ok;
}

/// An invariant the input broke: print what and where, and crash, so that
/// libFuzzer saves the input.
[[noreturn]] inline void bug(const char *what, mlir::Operation *op) {
  llvm::errs() << "graft fuzzer: " << what << ":\n";
  op->print(llvm::errs(), mlir::OpPrintingFlags().printGenericOpForm());
  llvm::errs() << "\n";
  std::abort();
}

} // namespace graft::fuzz

#endif
