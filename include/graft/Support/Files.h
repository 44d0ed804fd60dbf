//===- Files.h - What Graft's readers accept as an input file ---*- C++ -*-===//

#ifndef GRAFT_SUPPORT_FILES_H
#define GRAFT_SUPPORT_FILES_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"

namespace graft {

/// The reason every reader of user files (model includes, data sets,
/// checkpoints) gives for refusing a device, FIFO or socket.
constexpr llvm::StringLiteral kNotRegularFile =
    "not a regular file (a device, FIFO or socket)";

/// Whether `path` names a device, FIFO or socket (following links): reading
/// /dev/zero or /dev/urandom would not end before memory does, and opening
/// a FIFO blocks. Regular files and directories (which the readers' own
/// open reports) are not; nor is a path that does not exist.
inline bool isDeviceLike(llvm::StringRef path) {
  llvm::sys::fs::file_status status;
  return !llvm::sys::fs::status(path, status) &&
         status.type() != llvm::sys::fs::file_type::regular_file &&
         status.type() != llvm::sys::fs::file_type::directory_file;
}

} // namespace graft

#endif
