//===- GraftOps.h - Ops, attributes and interfaces of graft -----*- C++ -*-===//

#ifndef GRAFT_DIALECT_GRAFT_IR_GRAFTOPS_H
#define GRAFT_DIALECT_GRAFT_IR_GRAFTOPS_H

#include "graft/Dialect/Graft/IR/GraftDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "graft/Dialect/Graft/IR/GraftEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "graft/Dialect/Graft/IR/GraftAttrs.h.inc"

#include "graft/Dialect/Graft/IR/GraftInterfaces.h.inc"

#define GET_OP_CLASSES
#include "graft/Dialect/Graft/IR/GraftOps.h.inc"

#endif
