//===- GraftEnums.h - The graft dialect's enums -----------------*- C++ -*-===//
//
// The enums of GraftDialect.td (graft::Role, graft::Reduction, ...) with
// their string conversions, without the dialect: for code that only names
// them (the JIT's tensor slots, the training tool).
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_DIALECT_GRAFT_IR_GRAFTENUMS_H
#define GRAFT_DIALECT_GRAFT_IR_GRAFTENUMS_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/DenseMapInfo.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <optional>

#include "graft/Dialect/Graft/IR/GraftEnums.h.inc"

namespace graft {
/// The discardable attributes of an entry point's arguments and results:
/// what the tensor holds (a RoleAttr) and its state_dict name (a StringAttr).
inline constexpr llvm::StringLiteral kRoleAttrName = "graft.role";
inline constexpr llvm::StringLiteral kNameAttrName = "graft.name";
/// The strategy's choice for an op of the code generator (a
/// #graft.lowering_config).
inline constexpr llvm::StringLiteral kLoweringConfigAttrName =
    "graft.lowering_config";
/// The GPU strategy's choice for an op (a #graft.gpu_config).
inline constexpr llvm::StringLiteral kGPUConfigAttrName = "graft.gpu_config";
} // namespace graft

#endif
