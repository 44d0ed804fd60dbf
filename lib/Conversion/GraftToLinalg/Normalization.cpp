//===- Normalization.cpp - graft-to-linalg: layer and batch norm ----------===//
//
// Both normalise with the moments of their dims (biased variance):
// (x - mean) * rsqrt(var + eps), then the affine weight and bias. Batch norm
// in eval mode uses the running statistics; their update in train mode is
// the training program's (separate graft ops).
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"

using namespace graft;
using namespace graft::lowering;

namespace {

/// (x - mean) * rsqrt(var + eps), optionally * w + b, over shape `s` where
/// `mean`, `var`, `w` and `bias` broadcast.
Value normalizeWith(Lowering &L, Value x, Value mean, Value var, Value w,
                    Value bias, double eps) {
  SmallVector<Value> ops = {x, mean, var};
  if (w)
    ops.push_back(w);
  if (bias)
    ops.push_back(bias);
  return L.floatElementwise(
      tensorType(x), ops, [&](OpBuilder &b, Location l, ValueRange a) {
        Type t = a[0].getType();
        Value e = arith::ConstantOp::create(b, l, t, b.getFloatAttr(t, eps));
        Value one = arith::ConstantOp::create(b, l, t, b.getFloatAttr(t, 1.0));
        Value rstd = arith::DivFOp::create(
            b, l, one,
            math::SqrtOp::create(b, l, arith::AddFOp::create(b, l, a[2], e)));
        Value y = arith::MulFOp::create(
            b, l, arith::SubFOp::create(b, l, a[0], a[1]), rstd);
        unsigned i = 3;
        if (w)
          y = arith::MulFOp::create(b, l, y, a[i++]);
        if (bias)
          y = arith::AddFOp::create(b, l, y, a[i++]);
        return y;
      });
}

/// Mean and biased variance of `x` over `dims` (keepdim).
std::pair<Value, Value> moments(Lowering &L, Value x, ArrayRef<int64_t> dims) {
  int64_t count = 1;
  for (int64_t d : dims)
    count *= shapeOf(x)[d];
  auto divide = [&](Value s) {
    return L.floatElementwise(
        tensorType(s), {s}, [&](OpBuilder &b, Location l, ValueRange a) {
          Type t = a[0].getType();
          return arith::DivFOp::create(
                     b, l, a[0],
                     arith::ConstantOp::create(
                         b, l, t, b.getFloatAttr(t, (double)count)))
              .getResult();
        });
  };
  Value mean =
      divide(L.reduce(x, dims, /*keepdim=*/true, Lowering::Combine::Sum));
  Value sq = L.floatElementwise(
      tensorType(x), {x, mean}, [](OpBuilder &b, Location l, ValueRange a) {
        Value c = arith::SubFOp::create(b, l, a[0], a[1]);
        return arith::MulFOp::create(b, l, c, c).getResult();
      });
  Value var =
      divide(L.reduce(sq, dims, /*keepdim=*/true, Lowering::Combine::Sum));
  return {mean, var};
}

FailureOr<Value> lowerLayerNorm(LayerNormOp o, Lowering &L) {
  Value x = o.getInput();
  int64_t m = 1;
  for (int64_t d : o.getNormalizedShape())
    m *= d;
  int64_t rows = tensorType(x).getNumElements() / m;
  Value x2 = L.reshape(x, {rows, m});
  auto [mean, var] = moments(L, x2, {1});
  Value w = o.getWeight() ? L.reshape(o.getWeight(), {m}) : Value();
  Value bias = o.getBias() ? L.reshape(o.getBias(), {m}) : Value();
  Value y =
      normalizeWith(L, x2, mean, var, w, bias, o.getEps().convertToDouble());
  return L.reshape(y, o.getType().getShape());
}

/// batch_norm: batch statistics (biased variance) when `training`, else the
/// running statistics. The running-statistics update is the training
/// program's (separate graft ops).
FailureOr<Value> lowerBatchNorm(BatchNormOp o, Lowering &L) {
  Value x = o.getInput();
  ArrayRef<int64_t> xs = shapeOf(x);
  int64_t N = xs[0], C = xs[1], S = tensorType(x).getNumElements() / (N * C);
  Value x3 = L.reshape(x, {N, C, S});
  Value mean, var;
  if (o.getTraining()) {
    std::tie(mean, var) = moments(L, x3, {0, 2});
  } else {
    mean = L.reshape(o.getRunningMean(), {C, 1});
    var = L.reshape(o.getRunningVar(), {C, 1});
  }
  Value w = o.getWeight() ? L.reshape(o.getWeight(), {C, 1}) : Value();
  Value bias = o.getBias() ? L.reshape(o.getBias(), {C, 1}) : Value();
  Value y =
      normalizeWith(L, x3, mean, var, w, bias, o.getEps().convertToDouble());
  return L.reshape(y, xs);
}

} // namespace

void graft::lowering::populateNormalizationPatterns(
    RewritePatternSet &patterns, const ConvertGraftToLinalgOptions &options) {
  addLowering<LayerNormOp>(patterns, options, lowerLayerNorm);
  addLowering<BatchNormOp>(patterns, options, lowerBatchNorm);
}
