//===- BufferOf.h - Which bytes a memref value addresses -------*- C++ -*-===//
//
// Internal to lib/Conversion: the GPU passes decide whether two memrefs of a
// bufferized function may overlap (graft-gpu-fuse-parallel, the disjoint
// loops of graft-gpu-map-loops, graft-gpu-fold-transposes).
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_LIB_CONVERSION_BUFFEROF_H
#define GRAFT_LIB_CONVERSION_BUFFEROF_H

#include "mlir/IR/Value.h"

#include <cstdint>
#include <limits>
#include <optional>

namespace graft {

constexpr int64_t kWhole = std::numeric_limits<int64_t>::max();

/// Where a memref value points: its root storage and, when known, the bytes
/// of the root it covers.
struct Buffer {
  /// The storage. A function argument with a `graft.role` and `graft.name`
  /// is its tensor's ([role, name]: the runtime gives every tensor its own
  /// storage, and a state result its argument's); a global is its symbol;
  /// any other root (another argument, the workspace, an allocation) is
  /// itself.
  const void *root = nullptr;
  /// The bytes [begin, end) of the root the value may address; [0, kWhole)
  /// when unknown.
  int64_t begin = 0, end = kWhole;
  /// Set when the value is the root itself or a static memref.view of it:
  /// then (root, offset, type) determines the address of every element.
  bool direct = false;
  int64_t offset = 0;
};

/// Traces `v` through views to its root; nullopt when it does not end at a
/// function argument, an allocation or a global.
std::optional<Buffer> bufferOf(mlir::Value v);

/// Whether `a` and `b` may address a common byte (true when either cannot
/// be traced).
bool mayOverlap(mlir::Value a, mlir::Value b);

} // namespace graft

#endif
