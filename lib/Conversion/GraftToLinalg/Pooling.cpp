//===- Pooling.cpp - graft-to-linalg: max and average pooling -------------===//
//
// Pooling windows are generics with affine maps (o * stride + k *
// dilation) over the padded input; with `pool-taps` (the CPU) a small
// kernel is read tap by tap, each tap a strided window that vectorises.
// max_pool2d_backward finds each window's first maximum, then scatter-adds
// in an scf.for; avg_pool2d_backward is a transposed correlation with a
// kernel of ones.
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"
#include "graft/Dialect/Graft/IR/ShapeFunctions.h"

#include <cmath>

using namespace graft;
using namespace graft::lowering;

namespace {

/// Geometry of a pooling op, on planes [P, H, W] -> [P, OH, OW].
struct PoolGeom : graft::shape::Pool2dWindow {
  int64_t P, H, W, OH, OW;
  /// The padded input: left padding, then enough on the bottom/right for
  /// every window (ceil_mode's last window may reach past the padding).
  int64_t Hp() const {
    return std::max(H + 2 * padding[0],
                    (OH - 1) * stride[0] + (kernel[0] - 1) * dilation[0] + 1);
  }
  int64_t Wp() const {
    return std::max(W + 2 * padding[1],
                    (OW - 1) * stride[1] + (kernel[1] - 1) * dilation[1] + 1);
  }

  static PoolGeom of(Operation *op, ArrayRef<int64_t> in,
                     ArrayRef<int64_t> out) {
    PoolGeom g;
    static_cast<graft::shape::Pool2dWindow &>(g) = poolWindow(op);
    g.P = 1;
    for (size_t i = 0; i + 2 < in.size(); ++i)
      g.P *= in[i];
    g.H = in[in.size() - 2];
    g.W = in.back();
    g.OH = out[out.size() - 2];
    g.OW = out.back();
    return g;
  }

  /// PyTorch's avg_pool2d divisor of each output position.
  SmallVector<double> avgDivisors() const {
    SmallVector<double> r;
    for (int64_t oy = 0; oy < OH; ++oy)
      for (int64_t ox = 0; ox < OW; ++ox)
        r.push_back((double)avgTaps(H, W, oy, ox).divisor);
    return r;
  }

  /// Maps of a window generic over (p, oh, ow | kh, kw): the padded input
  /// and the kernel-shaped dummy operand that gives kh, kw their range.
  SmallVector<AffineMap> windowMaps(MLIRContext *ctx) const {
    auto e = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    return {mapOf(ctx, 5,
                  {e(0), e(1) * stride[0] + e(3) * dilation[0],
                   e(2) * stride[1] + e(4) * dilation[1]}),
            mapOf(ctx, 5, {e(3), e(4)}), mapOf(ctx, 5, {e(0), e(1), e(2)})};
  }

  /// `acc` ([P, OH, OW] each) updated by `body` from every kernel tap in
  /// (kh, kw) order: one elementwise generic over the outputs whose inputs
  /// are the taps' strided windows xp[p, oh*s + kh*d, ow*s + kw*d] of the
  /// padded input, which the CPU vectorises along ow; `body` gets the tap
  /// (kh, kw), its element and the values so far. The taps visit each
  /// window in the order of a window loop nest.
  SmallVector<Value>
  updateFromTaps(Lowering &L, Value xp, ValueRange acc,
                 function_ref<SmallVector<Value>(OpBuilder &, Location, int64_t,
                                                 int64_t, Value, ValueRange)>
                     body) const {
    SmallVector<Value> taps;
    for (int64_t kh = 0; kh < kernel[0]; ++kh)
      for (int64_t kw = 0; kw < kernel[1]; ++kw)
        taps.push_back(tensor::ExtractSliceOp::create(
            L.b, L.loc, RankedTensorType::get({P, OH, OW}, eltOf(xp)), xp,
            indexAttrs(L.b, {0, kh * dilation[0], kw * dilation[1]}),
            indexAttrs(L.b, {P, OH, OW}),
            indexAttrs(L.b, {1, stride[0], stride[1]})));
    SmallVector<AffineMap> maps(
        taps.size() + acc.size(),
        AffineMap::getMultiDimIdentityMap(3, L.b.getContext()));
    int64_t n = taps.size();
    return generic(L, taps, acc, maps,
                   SmallVector<IteratorType>(3, IteratorType::parallel),
                   [&](OpBuilder &b, Location l, ValueRange a) {
                     SmallVector<Value> cur(a.drop_front(n));
                     for (int64_t t = 0; t < n; ++t)
                       cur =
                           body(b, l, t / kernel[1], t % kernel[1], a[t], cur);
                     return cur;
                   });
  }
};

/// Kernels with more taps than this pool in one window generic even with
/// pool-taps: one input and one body step per tap make the op grow with
/// the kernel (784 strided slices and steps for a kernel of 28x28).
constexpr int64_t kMaxPoolTaps = 16;

/// Whether max pooling over `g` runs tap by tap.
bool byTaps(const Lowering &L, const PoolGeom &g) {
  return L.poolTaps && g.kernel[0] <= kMaxPoolTaps &&
         g.kernel[1] <= kMaxPoolTaps &&
         g.kernel[0] * g.kernel[1] <= kMaxPoolTaps;
}

SmallVector<IteratorType> windowIters() {
  return {IteratorType::parallel, IteratorType::parallel,
          IteratorType::parallel, IteratorType::reduction,
          IteratorType::reduction};
}

/// max_pool2d: the maximum over each window of the -inf padded input
/// (arith.maximumf propagates NaN as the evaluator does).
FailureOr<Value> lowerMaxPool(MaxPool2dOp o, Lowering &L) {
  Value x = o.getInput();
  RankedTensorType rt = o.getType();
  PoolGeom g = PoolGeom::of(o, shapeOf(x), rt.getShape());
  Type elt = eltOf(x);
  Value x3 = L.reshape(x, {g.P, g.H, g.W});
  Value xp = embed(L, x3, {g.P, g.Hp(), g.Wp()}, -INFINITY,
                   {0, g.padding[0], g.padding[1]}, {1, 1, 1});
  Value y = L.filled({g.P, g.OH, g.OW}, elt, -INFINITY);
  auto max = [](OpBuilder &b, Location l, Value acc,
                Value v) -> SmallVector<Value> {
    return {arith::MaximumFOp::create(b, l, acc, v).getResult()};
  };
  // One window generic (the GPU: a thread per output; large kernels).
  if (!byTaps(L, g))
    return L.reshape(generic(L, {xp, L.empty({g.kernel[0], g.kernel[1]}, elt)},
                             {y}, g.windowMaps(L.b.getContext()), windowIters(),
                             [&](OpBuilder &b, Location l, ValueRange a) {
                               return max(b, l, a[2], a[0]);
                             })[0],
                     rt.getShape());
  y = g.updateFromTaps(L, xp, {y},
                       [&](OpBuilder &b, Location l, int64_t, int64_t, Value v,
                           ValueRange acc) { return max(b, l, acc[0], v); })[0];
  return L.reshape(y, rt.getShape());
}

/// max_pool2d_backward: the index of the first maximal element of each
/// window (the evaluator's rule: among in-bounds elements, take one that is
/// greater or NaN), then an scf.for scatter-add of the gradient.
FailureOr<Value> lowerMaxPoolBackward(MaxPool2dBackwardOp o, Lowering &L) {
  Value gy = o.getGrad(), x = o.getInput();
  RankedTensorType rt = o.getType();
  PoolGeom g = PoolGeom::of(o, shapeOf(x), shapeOf(gy));
  Type elt = eltOf(x), i64 = L.b.getI64Type();
  Value x3 = L.reshape(x, {g.P, g.H, g.W});
  Value g3 = L.reshape(gy, {g.P, g.OH, g.OW});
  Value xp = embed(L, x3, {g.P, g.Hp(), g.Wp()}, -INFINITY,
                   {0, g.padding[0], g.padding[1]}, {1, 1, 1});
  // One step of the search: element v at window position (kh, kw) of
  // output (oh, ow), against the best so far and its index `at`.
  auto step = [&](OpBuilder &b, Location l, Value v, Value best, Value at,
                  Value kh, Value kw) -> SmallVector<Value> {
    auto index = [&](unsigned d) { return linalg::IndexOp::create(b, l, d); };
    auto inBounds = [&](Value o, Value k, int64_t s, int64_t d, int64_t p,
                        int64_t size) -> Value {
      Value i = arith::AddIOp::create(
          b, l, arith::MulIOp::create(b, l, o, idx(b, l, s)),
          arith::MulIOp::create(b, l, k, idx(b, l, d)));
      i = arith::SubIOp::create(b, l, i, idx(b, l, p));
      return arith::AndIOp::create(
          b, l,
          arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, i,
                                idx(b, l, 0)),
          arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i,
                                idx(b, l, size)));
    };
    Value valid = arith::AndIOp::create(
        b, l,
        inBounds(index(1), kh, g.stride[0], g.dilation[0], g.padding[0], g.H),
        inBounds(index(2), kw, g.stride[1], g.dilation[1], g.padding[1], g.W));
    Value none = arith::CmpIOp::create(
        b, l, arith::CmpIPredicate::slt, at,
        arith::ConstantOp::create(b, l, i64, b.getI64IntegerAttr(0)));
    Value greater =
        arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, v, best);
    Value isNan = arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, v, v);
    Value take = arith::AndIOp::create(
        b, l, valid,
        arith::OrIOp::create(b, l, none,
                             arith::OrIOp::create(b, l, greater, isNan)));
    Value cand = arith::IndexCastOp::create(
        b, l, i64,
        arith::AddIOp::create(
            b, l, arith::MulIOp::create(b, l, kh, idx(b, l, g.kernel[1])), kw));
    return {arith::SelectOp::create(b, l, take, v, best).getResult(),
            arith::SelectOp::create(b, l, take, cand, at).getResult()};
  };
  Value best = L.filled({g.P, g.OH, g.OW}, elt, -INFINITY);
  Value where = L.filled({g.P, g.OH, g.OW}, i64, -1);
  if (byTaps(L, g)) {
    // Tap by tap, in (kh, kw) order as the window's loops run.
    where = g.updateFromTaps(L, xp, {best, where},
                             [&](OpBuilder &b, Location l, int64_t kh,
                                 int64_t kw, Value v, ValueRange acc) {
                               return step(b, l, v, acc[0], acc[1],
                                           idx(b, l, kh), idx(b, l, kw));
                             })[1];
  } else {
    // One window generic over (p, oh, ow | kh, kw).
    SmallVector<AffineMap> maps = g.windowMaps(L.b.getContext());
    maps.push_back(maps.back());
    where = generic(
        L, {xp, L.empty({g.kernel[0], g.kernel[1]}, elt)}, {best, where}, maps,
        windowIters(), [&](OpBuilder &b, Location l, ValueRange a) {
          return step(b, l, a[0], a[2], a[3], linalg::IndexOp::create(b, l, 3),
                      linalg::IndexOp::create(b, l, 4));
        })[1];
  }
  Value zeros = L.filled({g.P, g.H, g.W}, elt, 0.0);
  Value gx = loopNest(
      L, {g.P, g.OH, g.OW}, zeros,
      [&](OpBuilder &b, Location l, ValueRange iv, Value acc) -> Value {
        Value at = tensor::ExtractOp::create(b, l, where, iv);
        Value found = arith::CmpIOp::create(
            b, l, arith::CmpIPredicate::sge, at,
            arith::ConstantOp::create(b, l, i64, b.getI64IntegerAttr(0)));
        Value k = arith::IndexCastOp::create(b, l, b.getIndexType(), at);
        Value kh = arith::DivSIOp::create(b, l, k, idx(b, l, g.kernel[1]));
        Value kw = arith::RemSIOp::create(b, l, k, idx(b, l, g.kernel[1]));
        auto coord = [&](Value o, Value kk, int64_t s, int64_t d,
                         int64_t p) -> Value {
          Value i = arith::AddIOp::create(
              b, l, arith::MulIOp::create(b, l, o, idx(b, l, s)),
              arith::MulIOp::create(b, l, kk, idx(b, l, d)));
          i = arith::SubIOp::create(b, l, i, idx(b, l, p));
          return arith::SelectOp::create(b, l, found, i, idx(b, l, 0));
        };
        Value iy = coord(iv[1], kh, g.stride[0], g.dilation[0], g.padding[0]);
        Value ix = coord(iv[2], kw, g.stride[1], g.dilation[1], g.padding[1]);
        SmallVector<Value> dst = {iv[0], iy, ix};
        Value old = tensor::ExtractOp::create(b, l, acc, dst);
        Value gv = tensor::ExtractOp::create(b, l, g3, iv);
        Value sum = arith::AddFOp::create(b, l, old, gv);
        Value nv = arith::SelectOp::create(b, l, found, sum, old);
        return tensor::InsertOp::create(b, l, nv, acc, dst);
      });
  return L.reshape(gx, rt.getShape());
}

/// avg_pool2d: window sums of the zero-padded input over the divisor
/// constant (PyTorch's, per output position).
FailureOr<Value> lowerAvgPool(AvgPool2dOp o, Lowering &L) {
  Value x = o.getInput();
  RankedTensorType rt = o.getType();
  PoolGeom g = PoolGeom::of(o, shapeOf(x), rt.getShape());
  Type elt = eltOf(x);
  Value x3 = L.reshape(x, {g.P, g.H, g.W});
  Value xp = embed(L, x3, {g.P, g.Hp(), g.Wp()}, 0.0,
                   {0, g.padding[0], g.padding[1]}, {1, 1, 1});
  Value window = L.empty({g.kernel[0], g.kernel[1]}, elt);
  Value init = L.filled({g.P, g.OH, g.OW}, elt, 0.0);
  Value sum = generic(
      L, {xp, window}, {init}, g.windowMaps(L.b.getContext()), windowIters(),
      [](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
        return {arith::AddFOp::create(b, l, a[2], a[0]).getResult()};
      })[0];
  Value div = L.denseConstant(RankedTensorType::get({g.OH, g.OW}, elt),
                              g.avgDivisors());
  Value y = L.floatElementwise(
      RankedTensorType::get({g.P, g.OH, g.OW}, elt), {sum, div},
      [](OpBuilder &b, Location l, ValueRange a) {
        return arith::DivFOp::create(b, l, a[0], a[1]).getResult();
      });
  return L.reshape(y, rt.getShape());
}

/// avg_pool2d_backward: the gradient over the divisor, dilated by the stride
/// and padded by kernel - 1, summed over flipped windows (a transposed
/// convolution with a kernel of ones), the forward padding cut off.
FailureOr<Value> lowerAvgPoolBackward(AvgPool2dBackwardOp o, Lowering &L) {
  Value gy = o.getGrad();
  RankedTensorType rt = o.getType();
  PoolGeom g = PoolGeom::of(o, rt.getShape(), shapeOf(gy));
  Type elt = eltOf(gy);
  MLIRContext *ctx = L.b.getContext();
  Value g3 = L.reshape(gy, {g.P, g.OH, g.OW});
  Value div = L.denseConstant(RankedTensorType::get({g.OH, g.OW}, elt),
                              g.avgDivisors());
  Value gs = L.floatElementwise(
      RankedTensorType::get({g.P, g.OH, g.OW}, elt), {g3, div},
      [](OpBuilder &b, Location l, ValueRange a) {
        return arith::DivFOp::create(b, l, a[0], a[1]).getResult();
      });
  int64_t P0 = g.kernel[0] - 1, P1 = g.kernel[1] - 1, Hp = g.Hp(), Wp = g.Wp();
  Value gq = embed(L, gs, {g.P, Hp + P0, Wp + P1}, 0.0, {0, P0, P1},
                   {1, g.stride[0], g.stride[1]});
  Value window = L.empty({g.kernel[0], g.kernel[1]}, elt);
  Value init = L.filled({g.P, Hp, Wp}, elt, 0.0);
  auto e = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineMap> maps = {
      mapOf(ctx, 5, {e(0), e(1) - e(3) + P0, e(2) - e(4) + P1}),
      mapOf(ctx, 5, {e(3), e(4)}), mapOf(ctx, 5, {e(0), e(1), e(2)})};
  Value gxp =
      generic(L, {gq, window}, {init}, maps, windowIters(),
              [](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
                return {arith::AddFOp::create(b, l, a[2], a[0]).getResult()};
              })[0];
  Value gx =
      extractBox(L, gxp, {0, g.padding[0], g.padding[1]}, {g.P, g.H, g.W});
  return L.reshape(gx, rt.getShape());
}

} // namespace

void graft::lowering::populatePoolingPatterns(
    RewritePatternSet &patterns, const ConvertGraftToLinalgOptions &options) {
  addLowering<MaxPool2dOp>(patterns, options, lowerMaxPool);
  addLowering<MaxPool2dBackwardOp>(patterns, options, lowerMaxPoolBackward);
  addLowering<AvgPool2dOp>(patterns, options, lowerAvgPool);
  addLowering<AvgPool2dBackwardOp>(patterns, options, lowerAvgPoolBackward);
}
