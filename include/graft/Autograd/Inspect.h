//===- Inspect.h - What autograd does to a model, for users -----*- C++ -*-===//
//
// `graft inspect`: the autograd table of a model (PyTorch's requires_grad,
// is_leaf, grad_fn and .grad for every named value, and why a parameter gets
// no gradient) and a Graphviz picture of its forward and backward graphs.
// Both are computed on a clone of the model whose backward pass is derived
// by graft-derive-backward; the model itself is left untouched.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_AUTOGRAD_INSPECT_H
#define GRAFT_AUTOGRAD_INSPECT_H

#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>

namespace graft {
class ModelOp;

struct InspectOptions {
  /// One row for every value of the model, not only the named ones.
  bool allValues = false;
};

/// The numbers `graft inspect` summarises a model with.
struct AutogradSummary {
  /// Parameter elements and tensors: all, trainable (not frozen), frozen.
  int64_t totalParams = 0, trainableParams = 0, frozenParams = 0;
  int64_t totalParamTensors = 0, trainableParamTensors = 0,
          frozenParamTensors = 0;
  /// Trainable parameters and requires_grad inputs that get no gradient.
  int64_t leavesWithoutGrad = 0;
  /// Forward values that backward reads (the union of
  /// AutogradOpInterface::getSavedForBackward over the differentiated ops),
  /// without declared tensors and constants, which live anyway.
  int64_t savedBytes = 0, savedTensors = 0;
  /// Recorded ops, those differentiated, and those pruned (recorded but not
  /// on a path from the loss to a leaf that requires grad).
  int64_t recordedOps = 0, differentiatedOps = 0, prunedOps = 0;
  /// Whether backward could be derived, and if not, why.
  bool hasBackward = false;
  std::string noBackwardReason;
};

/// Computes the summary of `model`.
AutogradSummary summarizeAutograd(ModelOp model);

/// Prints the autograd table of `model` followed by its summary.
void printAutogradTable(ModelOp model, llvm::raw_ostream &os,
                        const InspectOptions &options = {});

/// Prints the forward and the derived backward graph of `model` as one
/// Graphviz digraph.
void printAutogradDot(ModelOp model, llvm::raw_ostream &os);

} // namespace graft

#endif
