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

  /// For a result of a graft.no_grad / graft.inference region that is a
  /// tensor from outside the region, possibly updated in place inside it
  /// (`no_grad { w.add_(1) }`), that outer tensor; null otherwise. Such a
  /// result is the same tensor as PyTorch sees it (an in-place op does not
  /// make a new tensor): it has the outer tensor's autograd facts, and its
  /// gradient is the outer tensor's (backward passes it through).
  mlir::Value identityOf(mlir::Value v) const { return identity.lookup(v); }

private:
  llvm::DenseMap<mlir::Value, AutogradInfo> info;
  llvm::DenseMap<mlir::Value, mlir::Value> identity;
};

/// The outer tensor that result `r` of the no_grad/inference region `region`
/// is (see RequiresGradAnalysis::identityOf), or null: `r`'s yielded value,
/// followed through in-place ops (to the tensor they overwrite) and nested
/// regions, when that leads out of the region without passing any other op.
mlir::Value regionResultIdentity(mlir::Operation *region, mlir::Value r);

/// The newest version of each parameter and buffer of `model` that was
/// updated in place in the model body (directly in grad mode, under
/// no_grad/inference, or through a detach alias): declared value -> the
/// top-level value that holds its contents at the end of the body. A step
/// that keeps such an update writes this value back.
llvm::DenseMap<mlir::Value, mlir::Value> latestStateVersions(ModelOp model);

/// The values backward visits: those that require grad and that the loss
/// depends on through recorded ops (and hook points). Empty without a loss.
/// Everything else that requires grad is pruned: its gradient would never
/// reach a leaf from this loss.
llvm::DenseSet<mlir::Value> computeActiveValues(ModelOp model,
                                                const RequiresGradAnalysis &ag);

} // namespace graft

#endif
