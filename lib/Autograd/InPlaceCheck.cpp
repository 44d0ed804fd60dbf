//===- InPlaceCheck.cpp - PyTorch's version counter, statically -----------===//
//
// PyTorch counts writes to each tensor's storage and compares, in backward,
// the version of every saved tensor with the version it had when saved. In a
// model's IR the writes are in-place ops in program order, so the same check
// runs at compile time: storage is an alias class (a value, its views and
// its in-place versions), versions are counts of in-place ops on it.
//
//===----------------------------------------------------------------------===//

#include "graft/Autograd/Backward.h"
#include "graft/Autograd/Passes.h"
#include "graft/Autograd/RequiresGrad.h"
#include "graft/Dialect/Graft/IR/ShapeFunctions.h"

#include "mlir/IR/Builders.h"

using namespace mlir;

namespace graft {
#define GEN_PASS_DEF_CHECKINPLACE
#include "graft/Autograd/Passes.h.inc"
} // namespace graft

using namespace graft;

namespace {
/// The value that owns the storage `v` lives in.
Value storageOf(Value v) {
  while (true) {
    if (auto r = dyn_cast<OpResult>(v)) {
      Operation *op = r.getOwner();
      if (isa<ReshapeOp, TransposeOp, PermuteOp, BroadcastToOp, SliceOp,
              DetachOp, GradHookOp>(op)) {
        v = op->getOperand(0);
        continue;
      }
      if (auto inPlace = dyn_cast<InPlaceOpInterface>(op)) {
        v = inPlace.getOverwrittenOperand().get();
        continue;
      }
      if (isa<NoGradOp, InferenceOp>(op)) { // through the yielded value
        auto yield = cast<YieldOp>(
            op->getRegion(0).front().getTerminator());
        v = yield.getValues()[r.getResultNumber()];
        continue;
      }
    }
    return v;
  }
}

/// PyTorch's name of a tensor type in version-counter messages.
std::string torchTypeName(Type t) {
  auto tensor = cast<RankedTensorType>(t);
  Type e = tensor.getElementType();
  const char *name = e.isF32()    ? "torch.FloatTensor"
                     : e.isF64()  ? "torch.DoubleTensor"
                     : e.isBF16() ? "torch.BFloat16Tensor"
                     : e.isInteger(64) ? "torch.LongTensor"
                     : e.isInteger(32) ? "torch.IntTensor"
                                       : "torch.BoolTensor";
  return "[" + std::string(name) + " " + shape::str(tensor.getShape()) + "]";
}

/// Whether `v` holds the version `newer` or a later one of the same tensor:
/// `newer` is reached from `v` through in-place ops (to the tensor they
/// overwrite) and no_grad/inference region results (to what they yield).
bool isAtOrAfter(Value v, Value newer) {
  while (true) {
    if (v == newer)
      return true;
    auto r = dyn_cast<OpResult>(v);
    if (!r)
      return false;
    Operation *op = r.getOwner();
    if (auto inPlace = dyn_cast<InPlaceOpInterface>(op)) {
      v = inPlace.getOverwrittenOperand().get();
      continue;
    }
    if (isa<NoGradOp, InferenceOp>(op)) {
      v = cast<YieldOp>(op->getRegion(0).front().getTerminator())
              .getValues()[r.getResultNumber()];
      continue;
    }
    return false;
  }
}

/// The tensor whose view `v` is, for autograd: through view ops, not through
/// `detach` (a detached alias shares storage but is a tensor of its own,
/// without grad) nor in-place versions (an in-place op returns its target).
Value viewBaseOf(Value v) {
  while (auto r = dyn_cast<OpResult>(v)) {
    if (!isa<ReshapeOp, TransposeOp, PermuteOp, BroadcastToOp, SliceOp>(
            r.getOwner()))
      break;
    v = r.getOwner()->getOperand(0);
  }
  return v;
}

bool inMode(Operation *op) {
  return op->getParentOfType<NoGradOp>() || op->getParentOfType<InferenceOp>();
}

struct CheckInPlacePass : graft::impl::CheckInPlaceBase<CheckInPlacePass> {
  void runOnOperation() override;
};
} // namespace

void CheckInPlacePass::runOnOperation() {
  if (failed(checkInPlace(getOperation())))
    signalPassFailure();
}

LogicalResult graft::checkInPlace(ModelOp model) {
  RequiresGradAnalysis ag(model);
  llvm::DenseSet<Value> active = computeActiveValues(model, ag);

  // Program order, nested regions included, and the in-place writes per
  // storage in that order.
  llvm::DenseMap<Operation *, unsigned> position;
  llvm::DenseMap<Value, SmallVector<Operation *>> writes;
  model.getBody().walk<WalkOrder::PreOrder>([&](Operation *op) {
    position[op] = position.size();
    if (auto inPlace = dyn_cast<InPlaceOpInterface>(op))
      writes[storageOf(inPlace.getOverwrittenOperand().get())].push_back(op);
  });
  // The version of `storage` right after the op at `pos` ran: what a value
  // saved by that op (its operand, or its result) was saved at. An in-place
  // op's own write counts (its saved result is that version).
  auto versionAfter = [&](Value storage, unsigned pos) {
    unsigned n = 0;
    for (Operation *w : writes.lookup(storage))
      n += position[w] <= pos;
    return n;
  };
  // Storage made by an op inside an inference region.
  auto isInferenceTensor = [](Value storage) {
    Operation *def = storage.getDefiningOp();
    return def && def->getParentOfType<InferenceOp>();
  };

  bool failedAny = false;
  model.getBody().walk<WalkOrder::PreOrder>([&](Operation *op) {
    // Uses of a version that an in-place op has since overwritten.
    for (Value v : op->getOperands()) {
      Value storage = storageOf(v);
      for (Operation *w : writes.lookup(storage)) {
        if (position[w] >= position[op] || w == op)
          continue;
        Value newer = w->getResult(0);
        // `v` is stale when it was defined before the write and is not a
        // version produced by the write or later.
        Operation *def = v.getDefiningOp();
        unsigned defPos = def ? position.lookup(def) : 0;
        if (defPos < position[w] && !isAtOrAfter(v, newer)) {
          op->emitError("uses a tensor after an in-place op overwrote it")
                  .attachNote(w->getLoc())
              << "overwritten here; use its result (the new version)";
          failedAny = true;
          return;
        }
      }
    }

    auto inPlace = dyn_cast<InPlaceOpInterface>(op);
    if (inPlace) {
      Value target = inPlace.getOverwrittenOperand().get();
      Value storage = storageOf(target);
      // PyTorch's check is on the tensor written, or the base of the view
      // written: a leaf that requires grad (its versions made by in-place
      // ops under no_grad are the same leaf). A detached alias does not
      // require grad: writing through it is allowed (and bumps the
      // version of the storage it shares, checked below).
      Value base = viewBaseOf(target);
      AutogradInfo info = ag.lookup(base);
      if (!inMode(op) && info.requiresGrad && info.isLeaf) {
        InFlightDiagnostic d = op->emitError(
            target == base
                ? "a leaf Variable that requires grad is being used in an "
                  "in-place operation."
                : "a view of a leaf Variable that requires grad is being "
                  "used in an in-place operation.");
        d.attachNote(storage.getLoc()) << "the leaf is declared here";
        d.attachNote() << "hint: use the out-of-place op ('graft."
                       << inPlace.getOutOfPlaceName()
                       << "'), or update it under no_grad";
        failedAny = true;
        return;
      }
      if (isInferenceTensor(storage) && !op->getParentOfType<InferenceOp>()) {
        op->emitError("Inplace update to inference tensor outside "
                      "InferenceMode is not allowed.You can make a clone to "
                      "get a normal tensor before doing inplace update.See "
                      "https://github.com/pytorch/rfcs/pull/17 for more "
                      "details.")
                .attachNote(storage.getLoc())
            << "the inference tensor is made here";
        failedAny = true;
        return;
      }
    }

    // Recorded ops on the backward path: what they save must not change.
    auto diff = dyn_cast<AutogradOpInterface>(op);
    if (!diff || !ag.isRecorded(op) ||
        llvm::none_of(op->getResults(),
                      [&](Value r) { return active.contains(r); }))
      return;
    SmallVector<bool> needed;
    for (Value v : op->getOperands())
      needed.push_back(active.contains(v));
    for (Value saved : diff.getSavedForBackward(needed)) {
      // What an in-place op saves of the self it overwrites is a copy
      // (PyTorch's original self, as for `y.mul_(w)` or `y.clamp_(0, 1)`):
      // later writes to `y` do not reach it.
      if (inPlace && saved == inPlace.getOverwrittenOperand().get())
        continue;
      Value storage = storageOf(saved);
      if (isInferenceTensor(storage)) {
        op->emitError("Inference tensors cannot be saved for backward. To "
                      "work around you can make a clone to get a normal "
                      "tensor and use it in autograd.")
                .attachNote(storage.getLoc())
            << "the inference tensor is made here";
        failedAny = true;
        return;
      }
      unsigned expected = versionAfter(storage, position[op]);
      unsigned final = writes.lookup(storage).size();
      if (final == expected)
        continue;
      // The first write after the save (there is one: final > expected).
      Operation *writer = *llvm::find_if(writes.lookup(storage),
                                         [&](Operation *w) {
                                           return position[w] > position[op];
                                         });
      std::string what = torchTypeName(saved.getType());
      AutogradInfo savedInfo = ag.lookup(saved);
      if (!savedInfo.isLeaf) {
        auto r = cast<OpResult>(saved);
        what += ", which is output " + std::to_string(r.getResultNumber()) +
                " of " + savedInfo.gradFn.str() + ",";
      }
      InFlightDiagnostic d = writer->emitError(
          "one of the variables needed for gradient computation has been "
          "modified by an inplace operation: ")
          << what << " is at version " << final << "; expected version "
          << expected << " instead.";
      d.attachNote(op->getLoc())
          << "saved for backward here by '" << op->getName() << "' ("
          << diff.getGradFnName() << ")";
      d.attachNote() << "hint: clone() the value before modifying it in "
                        "place, or use the out-of-place op";
      failedAny = true;
      return;
    }
  });
  return failure(failedAny);
}
