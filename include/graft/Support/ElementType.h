//===- ElementType.h - The element types of Graft's tensors -----*- C++ -*-===//
//
// One enumeration of the element types a tensor may have, for every layer
// that holds tensors outside the IR: the reference evaluator (its DType),
// the JIT's and the library's tensor slots, checkpoints and data files. It
// is numbered as graft_api.h's GRAFT_DTYPE_* (Checkpoint.cpp checks), whose
// names are graft_safetensors.c's.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_SUPPORT_ELEMENTTYPE_H
#define GRAFT_SUPPORT_ELEMENTTYPE_H

#include "mlir/IR/Types.h"

#include <cstddef>
#include <optional>

namespace graft {

enum class ElementType { F32, F64, BF16, I64, I32, I1 };

/// Bytes per element.
inline size_t elementSize(ElementType t) {
  switch (t) {
  case ElementType::F64:
  case ElementType::I64:
    return 8;
  case ElementType::F32:
  case ElementType::I32:
    return 4;
  case ElementType::BF16:
    return 2;
  case ElementType::I1:
    return 1;
  }
  return 0; // every type is above
}

inline bool isFloat(ElementType t) {
  return t == ElementType::F32 || t == ElementType::F64 ||
         t == ElementType::BF16;
}

/// The ElementType of an MLIR element type, if Graft has it.
inline std::optional<ElementType> elementTypeOf(mlir::Type t) {
  if (t.isF32())
    return ElementType::F32;
  if (t.isF64())
    return ElementType::F64;
  if (t.isBF16())
    return ElementType::BF16;
  if (t.isInteger(64))
    return ElementType::I64;
  if (t.isInteger(32))
    return ElementType::I32;
  if (t.isInteger(1))
    return ElementType::I1;
  return std::nullopt;
}

} // namespace graft

#endif
