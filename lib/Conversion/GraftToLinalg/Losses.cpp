//===- Losses.cpp - graft-to-linalg: losses ------------------------------===//
//
// cross_entropy and nll_loss gather the log-probability of each target
// class (an out-of-range target makes the loss NaN, never a silently
// finite loss), with label smoothing, ignore_index and PyTorch's
// reductions; mse_loss is the mean (or sum) of squared differences.
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"

#include <limits>

using namespace graft;
using namespace graft::lowering;

namespace {

/// cross_entropy / nll_loss with class-index targets.
Value lowerClassLoss(Lowering &L, Value input, Value target, int64_t ignore,
                     double smoothing, Reduction reduction, bool fromLogits,
                     RankedTensorType resultType) {
  ArrayRef<int64_t> xs = shapeOf(input);
  int64_t rank = xs.size(), classDim = rank == 1 ? 0 : 1,
          classes = xs[classDim];
  Type elt = eltOf(input);
  // Put classes last: [N, d..., C].
  Value logp = fromLogits ? L.softmax(input, classDim, /*log=*/true) : input;
  if (rank > 2) {
    SmallVector<int64_t> perm = {0};
    for (int64_t d = 2; d < rank; ++d)
      perm.push_back(d);
    perm.push_back(1);
    logp = L.transpose(logp, perm);
  }
  // A target outside [0, C) (not ignore_index, which is masked below) makes
  // the loss NaN, which the C API and graft train report, where PyTorch
  // raises "Target N is out of bounds": never a silently finite loss.
  Value picked =
      L.gatherLast(logp, target, std::numeric_limits<double>::quiet_NaN());
  ArrayRef<int64_t> ts = shapeOf(target);
  auto tt = RankedTensorType::get(ts, elt);
  Type tElt = eltOf(target);
  // per-element loss: valid ? -(1-eps) logp[t] - eps/C sum_c logp_c : 0
  Value smooth;
  if (smoothing != 0) {
    SmallVector<int64_t> lastDim = {(int64_t)shapeOf(logp).size() - 1};
    smooth = L.reduce(logp, lastDim, /*keepdim=*/false, Lowering::Combine::Sum);
  }
  SmallVector<Value> operands = {picked, target};
  if (smooth)
    operands.push_back(smooth);
  Value perElement = L.floatElementwise(
      tt, operands, [&](OpBuilder &bb, Location l, ValueRange a) {
        Type ft = a[0].getType();
        auto c = [&](double v) -> Value {
          return arith::ConstantOp::create(bb, l, ft, bb.getFloatAttr(ft, v));
        };
        Value loss = arith::MulFOp::create(bb, l, a[0], c(-(1.0 - smoothing)));
        if (smooth)
          loss = arith::SubFOp::create(
              bb, l, loss,
              arith::MulFOp::create(bb, l, a[2], c(smoothing / classes)));
        Value ig = arith::ConstantOp::create(bb, l, tElt,
                                             bb.getIntegerAttr(tElt, ignore));
        Value valid =
            arith::CmpIOp::create(bb, l, arith::CmpIPredicate::ne, a[1], ig);
        return arith::SelectOp::create(bb, l, valid, loss, c(0.0)).getResult();
      });
  if (reduction == Reduction::none)
    return perElement;
  Value total = L.reduce(perElement, {}, false, Lowering::Combine::Sum);
  if (reduction == Reduction::sum)
    return total;
  Value validF = L.floatElementwise(
      tt, {target}, [&](OpBuilder &bb, Location l, ValueRange a) {
        Value ig = arith::ConstantOp::create(bb, l, tElt,
                                             bb.getIntegerAttr(tElt, ignore));
        Value valid =
            arith::CmpIOp::create(bb, l, arith::CmpIPredicate::ne, a[0], ig);
        Type ft = Lowering::computeType(elt, bb.getContext());
        return arith::UIToFPOp::create(bb, l, ft, valid).getResult();
      });
  Value count = L.reduce(validF, {}, false, Lowering::Combine::Sum);
  return L.floatElementwise(
      resultType, {total, count}, [&](OpBuilder &bb, Location l, ValueRange a) {
        return arith::DivFOp::create(bb, l, a[0], a[1]).getResult();
      });
}

FailureOr<Value> lowerCrossEntropy(CrossEntropyOp o, Lowering &L) {
  return lowerClassLoss(L, o.getInput(), o.getTarget(), o.getIgnoreIndex(),
                        o.getLabelSmoothing().convertToDouble(),
                        o.getReduction(), /*fromLogits=*/true, resultType(o));
}

FailureOr<Value> lowerNllLoss(NllLossOp o, Lowering &L) {
  return lowerClassLoss(L, o.getInput(), o.getTarget(), o.getIgnoreIndex(), 0.0,
                        o.getReduction(), /*fromLogits=*/false, resultType(o));
}

FailureOr<Value> lowerMseLoss(MseLossOp o, Lowering &L) {
  RankedTensorType it = tensorType(o.getInput());
  Value sq =
      L.floatElementwise(it, {o.getInput(), o.getTarget()},
                         [](OpBuilder &b, Location l, ValueRange a) {
                           Value d = arith::SubFOp::create(b, l, a[0], a[1]);
                           return arith::MulFOp::create(b, l, d, d).getResult();
                         });
  if (o.getReduction() == Reduction::none)
    return sq;
  Value s = L.reduce(sq, {}, false, Lowering::Combine::Sum);
  if (o.getReduction() == Reduction::sum)
    return s;
  double n = (double)it.getNumElements();
  return L.floatElementwise(
      resultType(o), {s}, [&](OpBuilder &b, Location l, ValueRange a) {
        Type t = a[0].getType();
        return arith::DivFOp::create(
                   b, l, a[0],
                   arith::ConstantOp::create(b, l, t, b.getFloatAttr(t, n)))
            .getResult();
      });
}

} // namespace

void graft::lowering::populateLossesPatterns(
    RewritePatternSet &patterns, const ConvertGraftToLinalgOptions &options) {
  addLowering<CrossEntropyOp>(patterns, options, lowerCrossEntropy);
  addLowering<NllLossOp>(patterns, options, lowerNllLoss);
  addLowering<MseLossOp>(patterns, options, lowerMseLoss);
}
