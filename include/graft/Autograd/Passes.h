//===- Passes.h - Autograd passes -------------------------------*- C++ -*-===//

#ifndef GRAFT_AUTOGRAD_PASSES_H
#define GRAFT_AUTOGRAD_PASSES_H

#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace graft {

#define GEN_PASS_DECL
#include "graft/Autograd/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "graft/Autograd/Passes.h.inc"

} // namespace graft

#endif
