//===- RequiresGrad.cpp - Static requires_grad analysis and its pass ------===//

#include "graft/Autograd/RequiresGrad.h"
#include "graft/Autograd/Passes.h"
#include "graft/Support/Statistics.h"

#include "mlir/IR/Builders.h"

using namespace mlir;

namespace graft {
#define GEN_PASS_DEF_ANNOTATEREQUIRESGRAD
#include "graft/Autograd/Passes.h.inc"
} // namespace graft

using namespace graft;

GRAFT_STATISTIC(numRecorded, "graft-annotate-requires-grad",
                "Ops recorded for backward (non-leaf results)");
GRAFT_STATISTIC(numTrainable, "graft-annotate-requires-grad",
                "Leaves that require grad");

/// Whether `op` runs under no_grad or inference mode.
static bool inGradFreeRegion(Operation *op) {
  return op->getParentOfType<NoGradOp>() || op->getParentOfType<InferenceOp>();
}

Value graft::regionResultIdentity(Operation *region, Value r) {
  auto result = dyn_cast<OpResult>(r);
  if (!result || result.getOwner() != region ||
      !isa<NoGradOp, InferenceOp>(region))
    return {};
  auto yieldValue = [](Operation *op, unsigned i) {
    return cast<YieldOp>(op->getRegion(0).front().getTerminator())
        .getValues()[i];
  };
  Value u = yieldValue(region, result.getResultNumber());
  while (true) {
    Operation *def = u.getDefiningOp();
    if (!def || !region->isAncestor(def))
      return u; // defined outside: the region hands the tensor back
    if (auto inPlace = dyn_cast<InPlaceOpInterface>(def)) {
      u = inPlace.getOverwrittenOperand().get();
      continue;
    }
    if (isa<NoGradOp, InferenceOp>(def)) {
      u = yieldValue(def, cast<OpResult>(u).getResultNumber());
      continue;
    }
    return {}; // a tensor made inside the region
  }
}

llvm::DenseMap<Value, Value> graft::latestStateVersions(ModelOp model) {
  llvm::DenseMap<Value, Value> latest;
  for (Operation &op : model.getBody().front()) {
    for (Value v : op.getResults()) {
      Value root = v;
      while (true) {
        Operation *def = root.getDefiningOp();
        if (auto inPlace = dyn_cast_or_null<InPlaceOpInterface>(def)) {
          root = inPlace.getOverwrittenOperand().get();
          continue;
        }
        if (def && isa<NoGradOp, InferenceOp>(def)) {
          Value outer = regionResultIdentity(def, root);
          if (!outer)
            break;
          root = outer;
          continue;
        }
        break;
      }
      if (root != v && root.getDefiningOp() &&
          isa<ParamOp, BufferOp>(root.getDefiningOp()))
        latest[root] = v;
    }
  }
  return latest;
}

RequiresGradAnalysis::RequiresGradAnalysis(ModelOp model) {
  // Program order: operands are always decided before their users.
  model.getBody().walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (op->getNumResults() == 0)
      return;
    // A region result that is an outer tensor (updated in place inside) is
    // that tensor: `no_grad { w.add_(1) }` leaves `w` a leaf that requires
    // grad, as in PyTorch. Inside another region it requires no grad.
    if (isa<NoGradOp, InferenceOp>(op)) {
      for (Value r : op->getResults())
        if (Value outer = regionResultIdentity(op, r)) {
          identity[r] = outer;
          if (!inGradFreeRegion(op))
            info[r] = info.lookup(outer);
        }
      return;
    }
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
    // The gradient of a region result that is an outer tensor is that
    // tensor's.
    if (feedsLoss && isa<NoGradOp, InferenceOp>(op)) {
      for (Value r : op.getResults())
        if (Value outer = ag.identityOf(r);
            outer && active.contains(r) && ag.requiresGrad(outer))
          active.insert(outer);
      continue;
    }
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
      op->removeAttr(GraftDialect::RequiresGradAttrHelper::getNameStr());
      op->removeAttr(GraftDialect::GradFnAttrHelper::getNameStr());
      if (!ai.requiresGrad)
        return;
      op->setAttr(GraftDialect::RequiresGradAttrHelper::getNameStr(),
                  b.getUnitAttr());
      if (ai.isLeaf) {
        ++numTrainable;
      } else {
        op->setAttr(GraftDialect::GradFnAttrHelper::getNameStr(),
                    b.getStringAttr(ai.gradFn));
        ++numRecorded;
      }
    });
  }
};
} // namespace
