//===- Reductions.cpp - graft-to-linalg: reductions and softmax -----------===//
//
// Sums, means and maxima are one linalg.generic with reduction iterators
// (Lowering::reduce); argmax carries (max, index) through one generic;
// softmax and log_softmax are max-subtracted (Lowering::softmax).
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"

#include <cmath>

using namespace graft;
using namespace graft::lowering;

namespace {

/// sum, mean and max over `dims` (all when empty).
template <typename OpTy> FailureOr<Value> lowerReduction(OpTy o, Lowering &L) {
  constexpr bool isMax = std::is_same_v<OpTy, MaxOp>;
  Value r = L.reduce(o.getInput(), o.getDims(), o.getKeepdim(),
                     isMax ? Lowering::Combine::Max : Lowering::Combine::Sum);
  if constexpr (!std::is_same_v<OpTy, MeanOp>)
    return r;
  ArrayRef<int64_t> in = shapeOf(o.getInput());
  int64_t n = 1;
  for (auto [i, d] : llvm::enumerate(in))
    if (o.getDims().empty() || llvm::is_contained(o.getDims(), (int64_t)i))
      n *= d;
  return L.floatElementwise(
      resultType(o), {r}, [&](OpBuilder &b, Location l, ValueRange a) {
        Type t = a[0].getType();
        return arith::DivFOp::create(b, l, a[0],
                                     arith::ConstantOp::create(
                                         b, l, t, b.getFloatAttr(t, (double)n)))
            .getResult();
      });
}

/// One pass keeping (max, index); the first maximum wins.
FailureOr<Value> lowerArgmax(ArgmaxOp o, Lowering &L) {
  Value x = o.getInput();
  ArrayRef<int64_t> in = shapeOf(x);
  int64_t dim = o.getDim();
  SmallVector<int64_t> outShape;
  SmallVector<AffineExpr> outE;
  SmallVector<IteratorType> iters;
  for (auto [i, d] : llvm::enumerate(in)) {
    iters.push_back((int64_t)i == dim ? IteratorType::reduction
                                      : IteratorType::parallel);
    if ((int64_t)i != dim) {
      outShape.push_back(d);
      outE.push_back(L.b.getAffineDimExpr(i));
    }
  }
  Type elt = eltOf(x), i64 = L.b.getI64Type();
  Value maxInit = L.filled(outShape, elt, -INFINITY);
  Value idxInit = L.filled(outShape, i64, 0);
  AffineMap outMap = mapOf(L.b.getContext(), in.size(), outE);
  SmallVector<AffineMap> maps = {L.b.getMultiDimIdentityMap(in.size()), outMap,
                                 outMap};
  Value r = generic(L, {x}, {maxInit, idxInit}, maps, iters,
                    [&](OpBuilder &b, Location l, ValueRange a) {
                      Value i = arith::IndexCastOp::create(
                          b, l, i64, linalg::IndexOp::create(b, l, dim));
                      Value better = arith::CmpFOp::create(
                          b, l, arith::CmpFPredicate::OGT, a[0], a[1]);
                      Value best =
                          arith::SelectOp::create(b, l, better, a[0], a[1]);
                      Value at = arith::SelectOp::create(b, l, better, i, a[2]);
                      return SmallVector<Value>{best, at};
                    })[1];
  return L.reshape(r, resultType(o).getShape());
}

FailureOr<Value> lowerSoftmax(SoftmaxOp o, Lowering &L) {
  return L.softmax(o.getInput(), o.getDim(), /*log=*/false);
}

FailureOr<Value> lowerLogSoftmax(LogSoftmaxOp o, Lowering &L) {
  return L.softmax(o.getInput(), o.getDim(), /*log=*/true);
}

} // namespace

void graft::lowering::populateReductionsPatterns(
    RewritePatternSet &patterns, const ConvertGraftToLinalgOptions &options) {
  addLowering<SumOp>(patterns, options, lowerReduction<SumOp>);
  addLowering<MeanOp>(patterns, options, lowerReduction<MeanOp>);
  addLowering<MaxOp>(patterns, options, lowerReduction<MaxOp>);
  addLowering<ArgmaxOp>(patterns, options, lowerArgmax);
  addLowering<SoftmaxOp>(patterns, options, lowerSoftmax);
  addLowering<LogSoftmaxOp>(patterns, options, lowerLogSoftmax);
}
