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

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

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

/// Writes `tensors` (and string metadata) to `path` atomically: the data
/// goes to a temporary file in the same directory, is flushed to disk, and
/// replaces `path` by a rename, so a crash never leaves a partial file or
/// loses the previous one.
llvm::Error writeSafetensors(llvm::StringRef path,
                             const std::vector<NamedTensor> &tensors,
                             const std::map<std::string, std::string> &metadata);

/// Reads a safetensors file; every malformed input (truncated file, bad
/// header, unknown dtype, byte ranges that overlap or leave the file) is an
/// error naming the file.
/// `metadata`, when given, receives the header's "__metadata__" strings.
llvm::Expected<std::vector<NamedTensor>>
readSafetensors(llvm::StringRef path,
                std::map<std::string, std::string> *metadata = nullptr);

} // namespace graft

#endif
