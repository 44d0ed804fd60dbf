//===- Backward.h - Reverse-mode differentiation of a model -----*- C++ -*-===//

#ifndef GRAFT_AUTOGRAD_BACKWARD_H
#define GRAFT_AUTOGRAD_BACKWARD_H

#include "mlir/Support/LLVM.h"

namespace graft {
class ModelOp;

struct BackwardStats {
  unsigned vjps = 0, pruned = 0, gradients = 0;
};

/// Appends the backward pass of the model's loss to its body and marks every
/// exposed gradient with graft.gradient (see the graft-derive-backward pass
/// for the rules). Emits PyTorch's diagnostics and fails on a model whose
/// backward would fail in PyTorch. A model without a loss is left alone.
mlir::LogicalResult deriveBackward(ModelOp model, BackwardStats *stats = nullptr);

} // namespace graft

#endif
