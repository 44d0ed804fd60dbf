//===- GraftOps.h - Ops, attributes and interfaces of graft -----*- C++ -*-===//

#ifndef GRAFT_DIALECT_GRAFT_IR_GRAFTOPS_H
#define GRAFT_DIALECT_GRAFT_IR_GRAFTOPS_H

#include "graft/Dialect/Graft/IR/GraftDialect.h"
#include "graft/Dialect/Graft/IR/ScalarMath.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "graft/Dialect/Graft/IR/GraftEnums.h"

namespace graft {
/// The check of GraftSizedTensors: each ranked tensor result satisfies
/// graft::shape::checkSize.
mlir::LogicalResult verifyTensorSizes(mlir::Operation *op);
} // namespace graft

namespace mlir::OpTrait {
template <typename ConcreteType>
class GraftSizedTensors : public TraitBase<ConcreteType, GraftSizedTensors> {
public:
  static LogicalResult verifyTrait(Operation *op) {
    return graft::verifyTensorSizes(op);
  }
};

/// Every element of the result is an element of an operand (views, slices,
/// concatenation, copies): integer values keep their range through the op.
template <typename ConcreteType>
class GraftKeepsElements : public TraitBase<ConcreteType, GraftKeepsElements> {
};
} // namespace mlir::OpTrait

#define GET_ATTRDEF_CLASSES
#include "graft/Dialect/Graft/IR/GraftAttrs.h.inc"

#include "graft/Dialect/Graft/IR/GraftInterfaces.h.inc"

#define GET_OP_CLASSES
#include "graft/Dialect/Graft/IR/GraftOps.h.inc"

namespace graft {
namespace shape {
struct Pool2dWindow;
} // namespace shape
/// The window of a graft.max_pool2d, avg_pool2d or their backward ops, from
/// its attributes (with their ODS defaults).
shape::Pool2dWindow poolWindow(mlir::Operation *op);

/// The values an integer tensor may hold: those the ops it reaches as
/// positions accept (IndexingOpInterface), followed through ops that keep
/// elements (GraftKeepsElements).
struct IndexRange {
  int64_t bound = 0;              ///< values lie in [0, bound)
  std::optional<int64_t> ignored; ///< or equal this one (ignore_index)
  IndexingOpInterface use;        ///< the op that sets `bound`
};
/// The range of `value`, or nullopt when no op reads it as positions.
std::optional<IndexRange> indexRangeOf(mlir::Value value);
/// What the range's use indexes, where, and PyTorch's error for a value out
/// of range with `value` in it: "the rows of graft.embedding at
/// gpt.graft:9:7 (IndexError: index out of range in self)".
std::string describeIndexUse(const IndexRange &range,
                             llvm::StringRef value = "{}");
} // namespace graft

#endif
