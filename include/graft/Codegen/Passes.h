//===- Passes.h - Code generation passes of Graft ---------------*- C++ -*-===//
//
// The passes from linalg on tensors to loops and kernels, by target
// (lib/Codegen): Common (elementwise fusion, empty-tensor splitting, the
// memory plan), CPU (register-tiled products, vectorisation, threads,
// kernel outlining) and GPU (tiled products and reductions, the mapping to
// blocks and threads, device memory). docs/generated/CodegenPasses.md
// documents each.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_CODEGEN_PASSES_H
#define GRAFT_CODEGEN_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace graft {

#define GEN_PASS_DECL
#include "graft/Codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "graft/Codegen/Passes.h.inc"

} // namespace graft

#endif
