//===- Passes.h - Conversion passes of Graft --------------------*- C++ -*-===//
//
// The passes from graft ops to target-neutral ops on tensors
// (lib/Conversion): the hook points and convert-graft-to-linalg.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_CONVERSION_PASSES_H
#define GRAFT_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace graft {

#define GEN_PASS_DECL
#include "graft/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "graft/Conversion/Passes.h.inc"

} // namespace graft

#endif
