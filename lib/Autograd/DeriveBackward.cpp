//===- DeriveBackward.cpp - Reverse-mode differentiation of a model -------===//

#include "graft/Autograd/Backward.h"
#include "graft/Autograd/Passes.h"
#include "graft/Autograd/RequiresGrad.h"
#include "graft/Support/Statistics.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;

namespace graft {
#define GEN_PASS_DEF_DERIVEBACKWARD
#include "graft/Autograd/Passes.h.inc"
} // namespace graft

using namespace graft;

GRAFT_STATISTIC(numVJPs, "graft-derive-backward",
                "Recorded ops differentiated");
GRAFT_STATISTIC(numPruned, "graft-derive-backward",
                "Recorded ops not on a path from the loss to a trainable leaf");
GRAFT_STATISTIC(numGradients, "graft-derive-backward",
                "Gradients exposed (graft.gradient)");

LogicalResult graft::deriveBackward(ModelOp model, BackwardStats *stats) {
  BackwardStats local;
  BackwardStats &st = stats ? *stats : local;
  Block &body = model.getBody().front();
  // dL/d(value), summed over the uses visited so far.
  llvm::DenseMap<Value, Value> grads;
  auto accumulate = [&](OpBuilder &b, Location loc, Value v, Value g) {
    Value &slot = grads[v];
    slot = slot ? AddOp::create(b, loc, slot, g).getResult() : g;
  };
  Value loss = model.getLoss();
  if (!loss)
    return success(); // an inference-only model has no backward
  // No path to a backward skips PyTorch's version-counter checks.
  if (failed(checkInPlace(model)))
    return failure();
  // Each random op draws from its own stream: two forward dropouts with one
  // stream drop the same elements (PyTorch draws fresh bits per call). The
  // VJPs added below reuse their op's stream on purpose (the same mask).
  llvm::DenseMap<int64_t, DropoutOp> streams;
  WalkResult shared = model.getBody().walk([&](DropoutOp d) {
    auto [it, fresh] = streams.try_emplace(d.getStream(), d);
    if (fresh)
      return WalkResult::advance();
    d.emitError("dropout shares random stream ")
            .append(d.getStream(), " with another dropout: both would drop "
                                   "the same elements")
            .attachNote(it->second.getLoc())
        << "the other dropout; give each graft.dropout its own stream (the "
           "front-end numbers them in program order)";
    return WalkResult::interrupt();
  });
  if (shared.wasInterrupted())
    return failure();
  if (!body.getOps<GradientOp>().empty())
    return model.emitOpError("already has a backward pass (graft.gradient ops)");

  RequiresGradAnalysis ag(model);
  Operation *lossOp = *body.getOps<LossOp>().begin();
  if (!ag.requiresGrad(loss)) {
    InFlightDiagnostic diag =
        lossOp->emitError("element 0 of tensors does not require grad and "
                          "does not have a grad_fn");
    diag.attachNote(loss.getLoc())
        << "the loss is computed only from values that do not require grad: "
           "every parameter it uses is frozen, detached or used under "
           "no_grad/inference";
    diag.attachNote()
        << "hint: make a parameter on the loss's path trainable, or mark an "
           "input 'requires_grad'";
    return failure();
  }
  llvm::DenseSet<Value> retained;
  // Hooks belong to a tensor, not to one use of it: `h.register_hook(f)`
  // rebinds the name h to a graft.grad_hook result, but f sees h's whole
  // gradient (uses before the register line too). So every hook point of
  // a tensor runs where its gradient is complete, in registration order,
  // then the hook point of a retained value (PyTorch runs retain_grad's
  // hook last): a hook registered on a retained value (the C API's
  // graft_register_grad_hook by its name) changes what flows on, and the
  // retained gradient is what the hooks leave. A name that a
  // graft.grad_hook already uses keeps that one hook point.
  auto baseOf = [](Value v) {
    while (auto hook = v.getDefiningOp<GradHookOp>())
      v = hook.getInput();
    return v;
  };
  struct HookPoint {
    StringRef name;
    bool retained;
    Location loc; // of the register_hook / retain_grad
  };
  llvm::DenseMap<Value, SmallVector<HookPoint>> hooksOf;
  llvm::StringSet<> hookNames;
  for (auto hook : body.getOps<GradHookOp>()) {
    hookNames.insert(hook.getName());
    hooksOf[baseOf(hook.getInput())].push_back(
        {hook.getName(), false, hook.getLoc()});
  }
  for (auto retain : body.getOps<RetainGradOp>()) {
    if (!ag.requiresGrad(retain.getValue()))
      return retain.emitError("can't retain_grad on Tensor that has "
                              "requires_grad=False");
    retained.insert(retain.getValue());
    if (hookNames.insert(retain.getName()).second)
      hooksOf[baseOf(retain.getValue())].push_back(
          {retain.getName(), true, retain.getLoc()});
  }
  for (auto read : body.getOps<ReadGradOp>()) {
    AutogradInfo info = ag.lookup(read.getValue());
    if (!info.requiresGrad)
      return read.emitError("the tensor does not require grad, so its .grad "
                            "is always None");
    if (!info.isLeaf && !retained.contains(read.getValue())) {
      InFlightDiagnostic d = read.emitError(
          "The .grad attribute of a Tensor that is not a leaf Tensor is being "
          "accessed. Its .grad attribute won't be populated during "
          "autograd.backward(). If you indeed want the .grad field to be "
          "populated for a non-leaf Tensor, use .retain_grad() on the "
          "non-leaf Tensor.");
      d.attachNote(read.getValue().getLoc())
          << "the non-leaf is computed here (grad_fn " << info.gradFn << ")";
      return d;
    }
  }

  llvm::DenseSet<Value> active = computeActiveValues(model, ag);
  SmallVector<Operation *> forward = llvm::to_vector(
      llvm::make_pointer_range(body.getOperations()));

  OpBuilder b = OpBuilder::atBlockEnd(&body);
  auto lossType = cast<RankedTensorType>(loss.getType());
  grads[loss] = ConstantOp::create(
      b, loss.getLoc(),
      DenseElementsAttr::get(lossType, ArrayRef<Attribute>{FloatAttr::get(
                                           lossType.getElementType(), 1.0)}));

  for (Operation *op : llvm::reverse(forward)) {
    // A result's gradient is complete here (its uses come later in program
    // order): through its hook points before it flows upstream.
    for (Value r : op->getResults()) {
      auto it = hooksOf.find(r);
      Value g = grads.lookup(r);
      if (it == hooksOf.end() || !g)
        continue;
      b.setInsertionPointToEnd(&body);
      for (const HookPoint &point : it->second) {
        auto call = HookCallOp::create(b, point.loc, point.name, g);
        if (point.retained)
          call->setAttr(GraftDialect::RetainedAttrHelper::getNameStr(),
                        b.getUnitAttr());
        g = call;
      }
      grads[r] = g;
    }
    // The rebound name's gradient is the tensor's (hooked where complete).
    if (auto hook = dyn_cast<GradHookOp>(op)) {
      if (Value g = grads.lookup(hook.getResult())) {
        b.setInsertionPointToEnd(&body);
        accumulate(b, op->getLoc(), hook.getInput(), g);
      }
      continue;
    }
    // A no_grad/inference region's result that is an outer tensor updated
    // in place there (`no_grad { w.add_(1) }`) is that tensor: its gradient
    // is the tensor's (RequiresGradAnalysis::identityOf).
    if (isa<NoGradOp, InferenceOp>(op)) {
      for (Value r : op->getResults())
        if (Value outer = ag.identityOf(r); outer && active.contains(outer))
          if (Value g = grads.lookup(r)) {
            b.setInsertionPointToEnd(&body);
            accumulate(b, op->getLoc(), outer, g);
          }
      continue;
    }
    auto diff = dyn_cast<AutogradOpInterface>(op);
    if (!diff || !ag.isRecorded(op))
      continue;
    SmallVector<Value> resultGrads;
    bool any = false;
    for (Value r : op->getResults()) {
      resultGrads.push_back(grads.lookup(r));
      any |= (bool)resultGrads.back();
    }
    if (!any) {
      ++st.pruned;
      continue;
    }
    SmallVector<bool> needed;
    for (Value v : op->getOperands())
      needed.push_back(active.contains(v));
    SmallVector<Value> operandGrads(op->getNumOperands());
    b.setInsertionPointToEnd(&body);
    if (failed(diff.buildVJP(b, resultGrads, needed, operandGrads)))
      return op->emitError("cannot differentiate '")
             << op->getName() << "' (" << diff.getGradFnName() << ")";
    ++st.vjps;
    for (auto [i, v] : llvm::enumerate(op->getOperands())) {
      if (!needed[i])
        continue;
      Value g = operandGrads[i];
      if (!g || g.getType() != v.getType())
        return op->emitError("internal error: the VJP rule of '")
               << op->getName() << "' gave no gradient of the right type for "
               << "operand " << i;
      accumulate(b, op->getLoc(), v, g);
    }
  }

  // Expose .grad of the leaves and of retained values, in declaration order.
  b.setInsertionPointToEnd(&body);
  auto expose = [&](Operation *at, StringRef name, Value v) {
    if (Value g = grads.lookup(baseOf(v))) {
      GradientOp::create(b, at->getLoc(), name, g);
      ++st.gradients;
    }
  };
  for (Operation *op : forward) {
    if (auto p = dyn_cast<ParamOp>(op); p && !p.getFrozen())
      expose(op, p.getName(), p);
    else if (auto in = dyn_cast<InputOp>(op); in && in.getRequiresGrad())
      expose(op, in.getName(), in);
    else if (auto r = dyn_cast<RetainGradOp>(op))
      expose(op, r.getName(), r.getValue());
    else if (auto r = dyn_cast<ReadGradOp>(op))
      expose(op, r.getName(), r.getValue());
  }
  return success();
}

namespace {
struct DeriveBackwardPass
    : graft::impl::DeriveBackwardBase<DeriveBackwardPass> {
  void runOnOperation() override {
    BackwardStats stats;
    if (failed(deriveBackward(getOperation(), &stats)))
      return signalPassFailure();
    numVJPs += stats.vjps;
    numPruned += stats.pruned;
    numGradients += stats.gradients;
  }
};
} // namespace
