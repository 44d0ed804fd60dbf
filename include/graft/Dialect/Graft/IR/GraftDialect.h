//===- GraftDialect.h - The graft dialect -----------------------*- C++ -*-===//

#ifndef GRAFT_DIALECT_GRAFT_IR_GRAFTDIALECT_H
#define GRAFT_DIALECT_GRAFT_IR_GRAFTDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/Operation.h"

#include "graft/Dialect/Graft/IR/GraftDialect.h.inc"

#endif
