//===- Checkpoint.h - safetensors checkpoints -------------------*- C++ -*-===//
//
// Checkpoints are safetensors files (an 8-byte little-endian header length,
// a JSON header naming each tensor's dtype, shape and byte range, then the
// data), keyed by PyTorch state_dict names, so they load with
// `safetensors.torch.load_file` into a PyTorch model and back.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_RUNTIME_CHECKPOINT_H
#define GRAFT_RUNTIME_CHECKPOINT_H

#include "graft/Target/JIT.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <string>
#include <vector>

namespace graft {

/// One named tensor of a checkpoint.
struct NamedTensor {
  std::string name;
  ElementType type;
  std::vector<int64_t> shape;
  std::vector<char> bytes;
};

/// Writes `tensors` (and string metadata) to `path` atomically
/// (writeFileAtomically): a crash never leaves a partial file or loses the
/// previous one. The header is graft_st_header's, as graft_save writes it:
/// the metadata gets "graft.checksum": "crc32:<8 hex digits>", the CRC-32
/// (zlib's) of the whole file with those digits read as '0's (docs/CAPI.md,
/// "Checksums"); a "graft.checksum" in `metadata` is replaced.
llvm::Error writeSafetensors(llvm::StringRef path,
                             const std::vector<NamedTensor> &tensors,
                             const std::map<std::string, std::string> &metadata);

/// Replaces `path` atomically with what `write` writes: the bytes go to a
/// temporary file beside it, named `<path>.tmp-<pid>-<6 hex digits>` (the
/// writer's process id: graft_st_create_temporary, as graft_save names its
/// temporaries), are
/// flushed to disk (fsync), and replace `path` by a rename, after which the
/// directory is flushed too. An error (ENOSPC, EROFS, ...) names `path`, the
/// step that failed and the system's reason; `path` is then left as it
/// was. The temporary is removed
/// on an error and, while it exists, on SIGINT/SIGTERM/SIGHUP (LLVM's
/// RemoveFileOnSignal); the temporaries a killed writer left are removed the
/// next time `path` is written (removeStaleTemporaries).
llvm::Error writeFileAtomically(
    llvm::StringRef path, llvm::function_ref<void(llvm::raw_ostream &)> write);
llvm::Error writeFileAtomically(llvm::StringRef path, llvm::StringRef contents);

/// Removes the temporaries of `path` that a writer killed before its rename
/// left behind: the regular files in `path`'s directory named exactly
/// `<filename>.tmp-<pid>-<6 hex digits>` whose process no longer exists
/// (kill(pid, 0) fails with ESRCH). Nothing else is touched; errors are
/// ignored. Returns the number of files removed.
unsigned removeStaleTemporaries(llvm::StringRef path);

/// Reads a safetensors file with graft_st_read, as graft_load does; every
/// malformed input (truncated file, bad header, byte ranges that overlap or
/// leave the file) is an error naming the file, and so is a file whose
/// "graft.checksum" does not match its bytes ("the checkpoint is corrupted:
/// checksum mismatch") and a tensor of a dtype Graft has no type for;
/// files without a checksum (of other tools) are read as they are.
/// `metadata`, when given, receives the header's "__metadata__" strings.
llvm::Expected<std::vector<NamedTensor>>
readSafetensors(llvm::StringRef path,
                std::map<std::string, std::string> *metadata = nullptr);

} // namespace graft

#endif
