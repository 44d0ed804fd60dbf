//===- CodeOps.h - The graft ops a model's code can hold --------*- C++ -*-===//
//
// For the coverage tests (LoweringTest, OpCoverageTest): every registered
// graft op except the model (graft.model) and its declarations (inputs,
// outputs, parameters, the train block: ops whose parent must be the
// model), and graft.yield, which ends a grad-mode region.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_UNITTESTS_CODEOPS_H
#define GRAFT_UNITTESTS_CODEOPS_H

#include "graft/Dialect/Graft/IR/GraftOps.h"

#include "mlir/IR/MLIRContext.h"

#include <vector>

namespace graft {

inline std::vector<mlir::RegisteredOperationName>
codeOps(mlir::MLIRContext &ctx) {
  ctx.loadDialect<GraftDialect>();
  std::vector<mlir::RegisteredOperationName> ops;
  for (mlir::RegisteredOperationName name : ctx.getRegisteredOperations())
    if (name.getDialectNamespace() == GraftDialect::getDialectNamespace() &&
        name.getTypeID() != mlir::TypeID::get<ModelOp>() &&
        !name.hasTrait<mlir::OpTrait::HasParent<ModelOp>::Impl>() &&
        name.getTypeID() != mlir::TypeID::get<YieldOp>())
      ops.push_back(name);
  return ops;
}

} // namespace graft

#endif
