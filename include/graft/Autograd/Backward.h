//===- Backward.h - Reverse-mode differentiation of a model -----*- C++ -*-===//

#ifndef GRAFT_AUTOGRAD_BACKWARD_H
#define GRAFT_AUTOGRAD_BACKWARD_H

#include "mlir/Support/LLVM.h"

namespace graft {
class ModelOp;

struct BackwardStats {
  unsigned vjps = 0, pruned = 0, gradients = 0;
};

/// PyTorch's version-counter and inference-tensor checks, statically (the
/// graft-check-inplace pass): emits PyTorch's errors and fails on a model
/// whose backward PyTorch would refuse to run. deriveBackward runs it first,
/// and so does every way of loading a model (graft::cli::loadModule).
mlir::LogicalResult checkInPlace(ModelOp model);

/// Appends the backward pass of the model's loss to its body and marks every
/// exposed gradient with graft.gradient (see the graft-derive-backward pass
/// for the rules). Emits PyTorch's diagnostics and fails on a model whose
/// backward would fail in PyTorch (checkInPlace included). A model without
/// a loss is left alone.
mlir::LogicalResult deriveBackward(ModelOp model, BackwardStats *stats = nullptr);

} // namespace graft

#endif
