//===- RequiresGrad.h - Static requires_grad analysis -----------*- C++ -*-===//
//
// PyTorch decides requires_grad, is_leaf and grad_fn while the program runs;
// Graft decides them from the IR. The rules are in docs/Autograd.md.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_AUTOGRAD_REQUIRESGRAD_H
#define GRAFT_AUTOGRAD_REQUIRESGRAD_H

#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringRef.h"

namespace graft {
class ModelOp;

/// The autograd facts of one value.
struct AutogradInfo {
  bool requiresGrad = false;
  /// Leaves: every value that does not require grad, and the declared
  /// parameters and inputs that do.
  bool isLeaf = true;
  /// PyTorch's backward node name for non-leaves, empty for leaves.
  llvm::StringRef gradFn;
};

class RequiresGradAnalysis {
public:
  explicit RequiresGradAnalysis(ModelOp model);
  AutogradInfo lookup(mlir::Value v) const { return info.lookup(v); }
  bool requiresGrad(mlir::Value v) const { return lookup(v).requiresGrad; }

  /// Whether `op` is recorded: it implements AutogradOpInterface, runs in
  /// grad mode, and one of its results requires grad.
  bool isRecorded(mlir::Operation *op) const;

private:
  llvm::DenseMap<mlir::Value, AutogradInfo> info;
};

/// The values backward visits: those that require grad and that the loss
/// depends on through recorded ops (and hook points). Empty without a loss.
/// Everything else that requires grad is pruned: its gradient would never
/// reach a leaf from this loss.
llvm::DenseSet<mlir::Value> computeActiveValues(ModelOp model,
                                                const RequiresGradAnalysis &ag);

} // namespace graft

#endif
