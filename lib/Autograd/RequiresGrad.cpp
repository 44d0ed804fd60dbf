//===- RequiresGrad.cpp - Static requires_grad analysis and its pass ------===//

#include "graft/Autograd/RequiresGrad.h"
#include "graft/Autograd/Passes.h"

#include "mlir/IR/Builders.h"

using namespace mlir;

namespace graft {
#define GEN_PASS_DEF_ANNOTATEREQUIRESGRAD
#include "graft/Autograd/Passes.h.inc"
} // namespace graft

using namespace graft;

/// Whether `op` runs under no_grad or inference mode.
static bool inGradFreeRegion(Operation *op) {
  return op->getParentOfType<NoGradOp>() || op->getParentOfType<InferenceOp>();
}

RequiresGradAnalysis::RequiresGradAnalysis(ModelOp model) {
  // Program order: operands are always decided before their users.
  model.getBody().walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (op->getNumResults() == 0)
      return;
    if (auto in = dyn_cast<InputOp>(op)) {
      info[in] = {in.getRequiresGrad(), true, {}};
      return;
    }
    if (auto p = dyn_cast<ParamOp>(op)) {
      info[p] = {!p.getFrozen(), true, {}};
      return;
    }
    // Regions and detach produce leaves that do not require grad; so does
    // every op under no_grad/inference and every op autograd does not record.
    if (inGradFreeRegion(op))
      return;
    if (isa<GradHookOp>(op)) {
      info[op->getResult(0)] = info.lookup(op->getOperand(0));
      return;
    }
    auto recorded = dyn_cast<AutogradOpInterface>(op);
    if (!recorded)
      return;
    bool anyOperand = llvm::any_of(op->getOperands(), [&](Value v) {
      return info.lookup(v).requiresGrad;
    });
    if (!anyOperand)
      return;
    for (Value r : op->getResults())
      if (isa<FloatType>(cast<ShapedType>(r.getType()).getElementType()))
        info[r] = {true, false, recorded.getGradFnName()};
  });
}

bool RequiresGradAnalysis::isRecorded(Operation *op) const {
  return isa<AutogradOpInterface>(op) && !inGradFreeRegion(op) &&
         llvm::any_of(op->getResults(),
                      [&](Value r) { return requiresGrad(r); });
}

llvm::DenseSet<Value> graft::computeActiveValues(ModelOp model,
                                                 const RequiresGradAnalysis &ag) {
  llvm::DenseSet<Value> active;
  Value loss = model.getLoss();
  if (!loss || !ag.requiresGrad(loss))
    return active;
  active.insert(loss);
  // Reverse program order visits every use of a value before its producer.
  for (Operation &op : llvm::reverse(model.getBody().front())) {
    bool feedsLoss = llvm::any_of(op.getResults(),
                                  [&](Value r) { return active.contains(r); });
    if (!feedsLoss || !(ag.isRecorded(&op) || isa<GradHookOp>(op)))
      continue;
    for (Value v : op.getOperands())
      if (ag.requiresGrad(v))
        active.insert(v);
  }
  return active;
}

namespace {
struct AnnotateRequiresGradPass
    : graft::impl::AnnotateRequiresGradBase<AnnotateRequiresGradPass> {
  void runOnOperation() override {
    ModelOp model = getOperation();
    RequiresGradAnalysis analysis(model);
    Builder b(model.getContext());
    model.getBody().walk([&](Operation *op) {
      if (op->getNumResults() != 1)
        return;
      AutogradInfo ai = analysis.lookup(op->getResult(0));
      op->removeAttr("graft.requires_grad");
      op->removeAttr("graft.grad_fn");
      if (!ai.requiresGrad)
        return;
      op->setAttr("graft.requires_grad", b.getUnitAttr());
      if (ai.isLeaf) {
        ++numTrainable;
      } else {
        op->setAttr("graft.grad_fn", b.getStringAttr(ai.gradFn));
        ++numRecorded;
      }
    });
  }
};
} // namespace
