//===- Convolution.cpp - graft-to-linalg: conv2d and its gradients --------===//
//
// Convolutions are correlations over the padded input (generics with
// o * stride + k * dilation maps), their input gradients transposed
// correlations over the dilated, padded gradient. With `conv-products`
// (the CPU), ungrouped ones become 2-D products over their patches
// (im2col), in cache-sized chunks of the batch; grouped ones, one such
// convolution per group, except that a depthwise convolution (one input
// channel a group) and its gradients sum their kernel taps in generics
// that vectorise along the image rows.
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"

#include <array>

using namespace graft;
using namespace graft::lowering;

namespace {

/// The two spatial values of an attribute: empty -> `fallback`, one -> both.
std::array<int64_t, 2> pair2(ArrayRef<int64_t> v,
                             std::array<int64_t, 2> fallback) {
  if (v.empty())
    return fallback;
  if (v.size() == 1)
    return {v[0], v[0]};
  return {v[0], v[1]};
}

/// acc + a * b over all iterations: the body of a correlation.
SmallVector<Value> macBody(OpBuilder &b, Location l, ValueRange a) {
  Value p = arith::MulFOp::create(b, l, a[0], a[1]);
  return {arith::AddFOp::create(b, l, a[2], p).getResult()};
}

/// Attributes of conv2d and its backward ops.
struct ConvAttrs {
  std::array<int64_t, 2> s, p, d;
  int64_t groups;
  template <typename OpT> static ConvAttrs of(OpT o) {
    return {pair2(o.getStride(), {1, 1}), pair2(o.getPadding(), {0, 0}),
            pair2(o.getDilation(), {1, 1}), (int64_t)o.getGroups()};
  }
};

/// True when a convolution lowers to products over patches: an ungrouped
/// one directly, a grouped one with several input channels a group as one
/// ungrouped convolution per group (overGroups).
bool asProduct(Lowering &L, const ConvAttrs &a) {
  return L.convProducts && a.groups == 1;
}
bool asGroupProducts(Lowering &L, const ConvAttrs &a,
                     int64_t channelsPerGroup) {
  return L.convProducts && a.groups > 1 && channelsPerGroup > 1;
}
/// True when a depthwise convolution (one input channel a group) and its
/// gradients sum their kernel taps on the CPU (depthwiseTaps,
/// depthwiseWeightGrad): as products, each group's would be a single row,
/// [M, KH*KW] @ patches, and its weight gradient's output gradient columns
/// padded from M to 16 (a 64-channel 3x3 one over 32x32 images, batch 32,
/// took 29 ms that way, 4 ms by taps).
bool asDepthwiseTaps(Lowering &L, const ConvAttrs &a,
                     int64_t channelsPerGroup) {
  return L.convProducts && a.groups > 1 && channelsPerGroup == 1;
}

/// The most terms one tap generic sums: one input and one step per term
/// make an op grow with the kernel (98 operands for a 7x7 kernel's).
constexpr int64_t kMaxTapTerms = 16;

/// `acc` plus the sum over terms t of window_t * weight_t: the windows are
/// [N, C, P, Q]; `acc` is [N, C, M, P, Q] (M the channel multiplier) with
/// weights [C, M], or [N, C, P, Q] with weights [C]. Each generic is
/// elementwise over the outputs, so the CPU vectorises it along Q, and
/// sums at most kMaxTapTerms terms, in order, onto what the one before it
/// left: every output adds its terms in the order given.
Value depthwiseTaps(Lowering &L, ArrayRef<Value> windows,
                    ArrayRef<Value> weights, Value acc) {
  MLIRContext *ctx = L.b.getContext();
  unsigned rank = shapeOf(acc).size();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  // Over (n, c, m, p, q) or, when rank is 4, (n, c, p, q).
  AffineMap window = rank == 5 ? mapOf(ctx, 5, {d(0), d(1), d(3), d(4)})
                               : AffineMap::getMultiDimIdentityMap(4, ctx);
  AffineMap weight =
      rank == 5 ? mapOf(ctx, 5, {d(1), d(2)}) : mapOf(ctx, 4, {d(1)});
  AffineMap out = AffineMap::getMultiDimIdentityMap(rank, ctx);
  for (size_t first = 0; first < windows.size(); first += kMaxTapTerms) {
    size_t n = std::min<size_t>(kMaxTapTerms, windows.size() - first);
    SmallVector<Value> ins(windows.slice(first, n));
    llvm::append_range(ins, weights.slice(first, n));
    SmallVector<AffineMap> maps(n, window);
    maps.append(n, weight);
    maps.push_back(out);
    acc =
        generic(L, ins, {acc}, maps,
                SmallVector<IteratorType>(rank, IteratorType::parallel),
                [n](OpBuilder &b, Location l, ValueRange a) {
                  Value sum = a[2 * n];
                  for (size_t t = 0; t < n; ++t)
                    sum = arith::AddFOp::create(
                        b, l, sum, arith::MulFOp::create(b, l, a[t], a[n + t]));
                  return SmallVector<Value>{sum};
                })[0];
  }
  return acc;
}

/// `v`'s strided box at `offsets` of `sizes` (`strides`), as a tensor of
/// `resultShape` (the sizes, less dims of one that it drops).
Value stridedBox(Lowering &L, Value v, ArrayRef<int64_t> offsets,
                 ArrayRef<int64_t> sizes, ArrayRef<int64_t> strides,
                 ArrayRef<int64_t> resultShape) {
  return tensor::ExtractSliceOp::create(
      L.b, L.loc, RankedTensorType::get(resultShape, eltOf(v)), v,
      indexAttrs(L.b, offsets), indexAttrs(L.b, sizes),
      indexAttrs(L.b, strides));
}

/// The window of kernel tap (kh, kw) in the padded input xp [N, C, Hp, Wp]:
/// xp[n, c, oh*s + kh*d, ow*s + kw*d], [N, C, OH, OW].
Value tapWindow(Lowering &L, Value xp, int64_t kh, int64_t kw, int64_t OH,
                int64_t OW, const ConvAttrs &a) {
  ArrayRef<int64_t> xs = shapeOf(xp);
  return stridedBox(L, xp, {0, 0, kh * a.d[0], kw * a.d[1]},
                    {xs[0], xs[1], OH, OW}, {1, 1, a.s[0], a.s[1]},
                    {xs[0], xs[1], OH, OW});
}

/// The `size` elements of `v` along `dim` from group `g` on (g * size).
Value groupSlice(Lowering &L, Value v, int64_t dim, Value g, int64_t size) {
  ArrayRef<int64_t> s = shapeOf(v);
  SmallVector<int64_t> sizes(s);
  sizes[dim] = size;
  SmallVector<OpFoldResult> offsets(s.size(), L.b.getIndexAttr(0));
  offsets[dim] =
      arith::MulIOp::create(L.b, L.loc, g, idx(L.b, L.loc, size)).getResult();
  return tensor::ExtractSliceOp::create(
      L.b, L.loc, RankedTensorType::get(sizes, eltOf(v)), v, offsets,
      indexAttrs(L.b, sizes),
      indexAttrs(L.b, SmallVector<int64_t>(s.size(), 1)));
}

/// A grouped convolution, or one of its gradients, of type `type` as one
/// ungrouped convolution per group on the groups' channels (so each is
/// products over patches): an scf.for over the `G` groups, `body(g)` group
/// g's result, written into `dim` of the result from g * type[dim] / G on.
/// The groups' outputs are disjoint and each is summed as the ungrouped
/// convolution sums it.
Value overGroups(Lowering &L, int64_t G, RankedTensorType type, int64_t dim,
                 function_ref<Value(Value g)> body) {
  Value lb = idx(L.b, L.loc, 0), ub = idx(L.b, L.loc, G),
        step = idx(L.b, L.loc, 1);
  Value init = L.empty(type.getShape(), type.getElementType());
  auto loop = scf::ForOp::create(L.b, L.loc, lb, ub, step, ValueRange{init});
  OpBuilder::InsertionGuard guard(L.b);
  L.b.setInsertionPointToStart(loop.getBody());
  Value g = loop.getInductionVar(), acc = loop.getRegionIterArgs()[0];
  Value part = body(g);
  ArrayRef<int64_t> ps = shapeOf(part);
  SmallVector<OpFoldResult> offsets(ps.size(), L.b.getIndexAttr(0));
  offsets[dim] = arith::MulIOp::create(L.b, L.loc, g, idx(L.b, L.loc, ps[dim]))
                     .getResult();
  Value next = tensor::InsertSliceOp::create(
      L.b, L.loc, part, acc, offsets, indexAttrs(L.b, ps),
      indexAttrs(L.b, SmallVector<int64_t>(ps.size(), 1)));
  scf::YieldOp::create(L.b, L.loc, next);
  return loop.getResult(0);
}

/// `a` for one group's ungrouped convolution.
ConvAttrs ungrouped(ConvAttrs a) {
  a.groups = 1;
  return a;
}

/// A convolution's batch [0, N) as chunks of `size` images whose patches
/// fit the lowering's budget (at least one image a chunk): `count` whole
/// chunks, then a `tail` of fewer images. The chunks are balanced: 64
/// images at 29 a chunk are 22 + 22 + 20.
struct BatchChunks {
  int64_t size, count, tail;

  static BatchChunks of(const Lowering &L, int64_t N, int64_t perImage) {
    int64_t most = std::clamp<int64_t>(
        L.convChunkElements / std::max<int64_t>(perImage, 1), 1, N);
    int64_t chunks = llvm::divideCeil(N, most);
    int64_t size = llvm::divideCeil(N, chunks);
    return {size, N / size, N % size};
  }

  /// `acc` (initially `init`) updated by `body` chunk by chunk: body(n0,
  /// nb, acc) for the images [n0, n0 + nb). The whole chunks are an
  /// scf.for (n0 its induction variable) when there are several, so the IR
  /// does not grow with the batch; the tail follows.
  SmallVector<Value>
  fold(Lowering &L, ValueRange init,
       function_ref<SmallVector<Value>(OpFoldResult, int64_t, ValueRange)> body)
      const {
    SmallVector<Value> acc(init);
    if (count == 1) {
      acc = body(L.b.getIndexAttr(0), size, acc);
    } else {
      Value lb = arith::ConstantIndexOp::create(L.b, L.loc, 0);
      Value ub = arith::ConstantIndexOp::create(L.b, L.loc, count * size);
      Value step = arith::ConstantIndexOp::create(L.b, L.loc, size);
      auto loop = scf::ForOp::create(L.b, L.loc, lb, ub, step, acc);
      OpBuilder::InsertionGuard guard(L.b);
      L.b.setInsertionPointToStart(loop.getBody());
      SmallVector<Value> next =
          body(loop.getInductionVar(), size, loop.getRegionIterArgs());
      scf::YieldOp::create(L.b, L.loc, next);
      acc.assign(loop.getResults().begin(), loop.getResults().end());
    }
    if (tail)
      acc = body(L.b.getIndexAttr(count * size), tail, acc);
    return acc;
  }
};

/// Images [n0, n0 + nb) of a batch-major tensor (itself when that is all).
Value batchSlice(Lowering &L, Value v, OpFoldResult n0, int64_t nb) {
  ArrayRef<int64_t> s = shapeOf(v);
  if (nb == s[0])
    return v;
  SmallVector<int64_t> sizes(s);
  sizes[0] = nb;
  SmallVector<OpFoldResult> offsets(s.size(), L.b.getIndexAttr(0));
  offsets[0] = n0;
  return tensor::ExtractSliceOp::create(
      L.b, L.loc, RankedTensorType::get(sizes, eltOf(v)), v, offsets,
      indexAttrs(L.b, sizes),
      indexAttrs(L.b, SmallVector<int64_t>(s.size(), 1)));
}

/// `chunk` written as images [n0, n0 + nb) of `into` (`chunk` itself when
/// it is the whole batch).
Value insertBatchSlice(Lowering &L, Value chunk, Value into, OpFoldResult n0) {
  ArrayRef<int64_t> s = shapeOf(chunk);
  if (s == shapeOf(into))
    return chunk;
  SmallVector<OpFoldResult> offsets(s.size(), L.b.getIndexAttr(0));
  offsets[0] = n0;
  return tensor::InsertSliceOp::create(
      L.b, L.loc, chunk, into, offsets, indexAttrs(L.b, s),
      indexAttrs(L.b, SmallVector<int64_t>(s.size(), 1)));
}

/// The kernel taps of a convolution between the padded input's windows
/// and the patches: tap (kh, kw) reads the window
/// x[n, c, oh*s + kh*d, ow*s + kw*d] ([N, C, OH, OW], strided) of x
/// [N, C, Hp, Wp], whose elements are the plane col[c, kh, kw, n, oh, ow]
/// ([C, N, OH, OW]) of the patches [C, KH, KW, N, OH, OW].
struct Taps {
  Lowering &L;
  const ConvAttrs &a;
  int64_t N, C, KH, KW, OH, OW;
  Type elt;

  SmallVector<int64_t> patchShape() const { return {C, KH, KW, N, OH, OW}; }

  /// The row of taps kh of `v` (x or the patches): x's band of rows the
  /// windows of kh read, [N, C, (OH - 1) * s + 1, Wp], or the patches'
  /// [C, 1, KW, N, OH, OW]. The taps update a row (update), then the row
  /// goes back: chains of KH and KW updates of one value rather than one of
  /// KH * KW, whose bufferization analysis compares every update with those
  /// before it.
  SmallVector<OpFoldResult> rowAt(Value v, int64_t kh) const {
    return shapeOf(v).size() == 4 ? indexAttrs(L.b, {0, 0, kh * a.d[0], 0})
                                  : indexAttrs(L.b, {0, kh, 0, 0, 0, 0});
  }
  SmallVector<int64_t> rowShape(Value v) const {
    ArrayRef<int64_t> s = shapeOf(v);
    if (s.size() == 4)
      return {s[0], s[1], (OH - 1) * a.s[0] + 1, s[3]};
    return {C, 1, KW, N, OH, OW};
  }
  Value extractRow(Value v, int64_t kh) {
    SmallVector<int64_t> shape = rowShape(v);
    return tensor::ExtractSliceOp::create(
        L.b, L.loc, RankedTensorType::get(shape, elt), v, rowAt(v, kh),
        indexAttrs(L.b, shape),
        indexAttrs(L.b, SmallVector<int64_t>(shape.size(), 1)));
  }
  Value insertRow(Value row, Value into, int64_t kh) {
    SmallVector<int64_t> shape = rowShape(into);
    return tensor::InsertSliceOp::create(
        L.b, L.loc, row, into, rowAt(into, kh), indexAttrs(L.b, shape),
        indexAttrs(L.b, SmallVector<int64_t>(shape.size(), 1)));
  }

  /// The row `into` of taps kh (extractRow) with `from`'s elements (or
  /// their sum with its own, `add`) at tap (kh, kw): the window of x when
  /// `into` is a band of x, else the plane of the patches. `from` is read
  /// at tap (kh, kw), `into` at (0, kw). Every tap is one generic,
  /// vectorised along ow.
  Value update(Value from, Value into, int64_t kh, int64_t kw, bool add) {
    bool toWindow = shapeOf(into).size() == 4;
    auto windowAt = [&](int64_t h) {
      return indexAttrs(L.b, {0, 0, h * a.d[0], kw * a.d[1]});
    };
    auto planeAt = [&](int64_t h) {
      return indexAttrs(L.b, {0, h, kw, 0, 0, 0});
    };
    SmallVector<OpFoldResult> windowSizes = indexAttrs(L.b, {N, C, OH, OW}),
                              windowStrides =
                                  indexAttrs(L.b, {1, 1, a.s[0], a.s[1]}),
                              planeSizes =
                                  indexAttrs(L.b, {C, 1, 1, N, OH, OW}),
                              ones = indexAttrs(L.b, {1, 1, 1, 1, 1, 1});
    auto window = RankedTensorType::get({N, C, OH, OW}, elt);
    auto plane = RankedTensorType::get({C, N, OH, OW}, elt);
    auto slice = [&](Value v, bool isWindow, int64_t h) -> Value {
      return isWindow ? tensor::ExtractSliceOp::create(L.b, L.loc, window, v,
                                                       windowAt(h), windowSizes,
                                                       windowStrides)
                      : tensor::ExtractSliceOp::create(
                            L.b, L.loc, plane, v, planeAt(h), planeSizes, ones);
    };
    // The window is [N, C, ...] and the plane [C, N, ...]: either reads the
    // other through (d1, d0, d2, d3).
    MLIRContext *ctx = L.b.getContext();
    SmallVector<AffineMap> maps = {
        AffineMap::getPermutationMap(ArrayRef<unsigned>{1, 0, 2, 3}, ctx),
        AffineMap::getMultiDimIdentityMap(4, ctx)};
    Value source = slice(from, !toWindow, kh), dest = slice(into, toWindow, 0);
    Value result = generic(
        L, {source}, {dest}, maps,
        SmallVector<IteratorType>(4, IteratorType::parallel),
        [add](OpBuilder &b, Location l, ValueRange v) {
          Value r =
              add ? arith::AddFOp::create(b, l, v[1], v[0]).getResult() : v[0];
          return SmallVector<Value>{r};
        })[0];
    return toWindow
               ? tensor::InsertSliceOp::create(L.b, L.loc, result, into,
                                               windowAt(0), windowSizes,
                                               windowStrides)
               : tensor::InsertSliceOp::create(L.b, L.loc, result, into,
                                               planeAt(0), planeSizes, ones);
  }
};

/// The patches of a convolution as the columns of a matrix (im2col):
/// col[(c, kh, kw), (n, oh, ow)] = xp[n, c, oh*s + kh*d, ow*s + kw*d],
/// [C*KH*KW, N*OH*OW], from the padded input `xp`: one strided window copy
/// per kernel tap, which the CPU vectorises along ow.
Value im2col(Lowering &L, Value xp, int64_t KH, int64_t KW, int64_t OH,
             int64_t OW, const ConvAttrs &a) {
  ArrayRef<int64_t> xs = shapeOf(xp);
  Taps taps{L, a, xs[0], xs[1], KH, KW, OH, OW, eltOf(xp)};
  Value col = L.empty(taps.patchShape(), taps.elt);
  for (int64_t kh = 0; kh < KH; ++kh) {
    Value row = taps.extractRow(col, kh);
    for (int64_t kw = 0; kw < KW; ++kw)
      row = taps.update(xp, row, kh, kw, /*add=*/false);
    col = taps.insertRow(row, col, kh);
  }
  return L.reshape(col, {xs[1] * KH * KW, xs[0] * OH * OW});
}

/// v [A, B, P] -> [B, A, P]: batch-major and channel-major activations, as
/// a generic that the CPU vectorises along P.
Value swapOuter(Lowering &L, Value v) {
  ArrayRef<int64_t> vs = shapeOf(v);
  MLIRContext *ctx = L.b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineMap> maps = {mapOf(ctx, 3, {d(1), d(0), d(2)}),
                                 AffineMap::getMultiDimIdentityMap(3, ctx)};
  return generic(L, {v}, {L.empty({vs[1], vs[0], vs[2]}, eltOf(v))}, maps,
                 SmallVector<IteratorType>(3, IteratorType::parallel),
                 [](OpBuilder &, Location, ValueRange a) {
                   return SmallVector<Value>{a[0]};
                 })[0];
}

/// `v` with the dims of each group of `groups` merged: a view, which keeps
/// a slice of the batch (strided) in place where tensor.reshape would copy.
Value collapse(Lowering &L, Value v, ArrayRef<ReassociationIndices> groups) {
  return tensor::CollapseShapeOp::create(L.b, L.loc, v, groups);
}

/// The output gradient gy [N, O, OH, OW] as [O, N*OH*OW], the layout of the
/// product over patches (for one image, a view of gy).
Value gradAsMatrix(Lowering &L, Value gy) {
  ArrayRef<int64_t> gs = shapeOf(gy);
  Value g = collapse(L, gy, {{0}, {1}, {2, 3}});
  if (gs[0] == 1)
    return collapse(L, g, {{0, 1}, {2}});
  return L.reshape(swapOuter(L, g), {gs[1], gs[0] * gs[2] * gs[3]});
}

/// The output gradient gy [N, O, OH, OW] as [N*OH*OW, Op], its O channels
/// followed by Op - O zero columns.
Value gradAsColumns(Lowering &L, Value gy, int64_t Op) {
  ArrayRef<int64_t> gs = shapeOf(gy);
  int64_t N = gs[0], O = gs[1], P = gs[2] * gs[3];
  Type elt = eltOf(gy);
  Value g = collapse(L, gy, {{0}, {1}, {2, 3}});
  Value cols =
      Op == O ? L.empty({N, P, Op}, elt) : L.filled({N, P, Op}, elt, 0.0);
  SmallVector<OpFoldResult> zero = indexAttrs(L.b, {0, 0, 0}),
                            sizes = indexAttrs(L.b, {N, P, O}),
                            ones = indexAttrs(L.b, {1, 1, 1});
  Value dest = tensor::ExtractSliceOp::create(
      L.b, L.loc, RankedTensorType::get({N, P, O}, elt), cols, zero, sizes,
      ones);
  Value t = linalg::TransposeOp::create(L.b, L.loc, g, dest,
                                        ArrayRef<int64_t>{0, 2, 1})
                .getResult()[0];
  cols = tensor::InsertSliceOp::create(L.b, L.loc, t, cols, zero, sizes, ones);
  return L.reshape(cols, {N * P, Op});
}

/// y = conv2d(x, w) (+ bias): padding by insertion into zeros, then
/// linalg.conv_2d_nchw_fchw, or a grouped generic
///   y[n, g, f, oh, ow] +=
///       xp[n, g, c, oh*s + kh*d, ow*s + kw*d] * w[g, f, c, kh, kw].
Value lowerConv2d(Lowering &L, Value x, Value w, Value bias,
                  RankedTensorType resultType, const ConvAttrs &a) {
  ArrayRef<int64_t> xs = shapeOf(x), ws = shapeOf(w),
                    os = resultType.getShape();
  int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
  int64_t O = ws[0], Cg = ws[1], KH = ws[2], KW = ws[3], OH = os[2], OW = os[3];
  int64_t G = a.groups, Og = O / G;
  int64_t Hp = H + 2 * a.p[0], Wp = W + 2 * a.p[1];
  Type elt = eltOf(x);
  MLIRContext *ctx = L.b.getContext();
  if (asGroupProducts(L, a, Cg))
    return overGroups(L, G, resultType, 1, [&](Value g) {
      Value xg = groupSlice(L, x, 1, g, Cg), wg = groupSlice(L, w, 0, g, Og);
      Value bg = bias ? groupSlice(L, bias, 0, g, Og) : Value();
      auto type = RankedTensorType::get({N, Og, OH, OW}, elt);
      return lowerConv2d(L, xg, wg, bg, type, ungrouped(a));
    });
  Value xp =
      embed(L, x, {N, C, Hp, Wp}, 0.0, {0, 0, a.p[0], a.p[1]}, {1, 1, 1, 1});
  Value y;
  if (asDepthwiseTaps(L, a, Cg)) {
    // y[n, c, m, oh, ow] = sum over taps (kh, kw) of
    // xp[n, c, oh*s + kh*d, ow*s + kw*d] * w[c, m, kh, kw], then the bias.
    Value w3 = L.reshape(w, {C, Og, KH * KW});
    SmallVector<Value> windows, weights;
    for (int64_t kh = 0; kh < KH; ++kh)
      for (int64_t kw = 0; kw < KW; ++kw) {
        windows.push_back(tapWindow(L, xp, kh, kw, OH, OW, a));
        weights.push_back(stridedBox(L, w3, {0, 0, kh * KW + kw}, {C, Og, 1},
                                     {1, 1, 1}, {C, Og}));
      }
    y = L.reshape(depthwiseTaps(L, windows, weights,
                                L.filled({N, C, Og, OH, OW}, elt, 0.0)),
                  os);
  } else if (asProduct(L, a)) {
    // Per chunk of images: y[o, (n, oh, ow)] = w[o, (c, kh, kw)] @ col,
    // starting from the bias, then [O, n, OH*OW] -> [n, O, OH*OW].
    int64_t K = C * KH * KW;
    Value w2 = L.reshape(w, {O, K});
    auto chunks = BatchChunks::of(L, N, K * OH * OW);
    return chunks.fold(
        L, {L.empty(os, elt)},
        [&](OpFoldResult n0, int64_t nb, ValueRange acc) {
          int64_t M = nb * OH * OW;
          Value init =
              bias ? L.broadcastTo(L.reshape(bias, {O, 1}), {O, M}) : Value();
          // One op per statement: the order of a call's arguments is
          // unspecified.
          Value col = im2col(L, batchSlice(L, xp, n0, nb), KH, KW, OH, OW, a);
          Value y2 = L.contract(w2, col, {O, M}, init);
          Value y = L.reshape(swapOuter(L, L.reshape(y2, {O, nb, OH * OW})),
                              {nb, O, OH, OW});
          return SmallVector<Value>{insertBatchSlice(L, y, acc[0], n0)};
        })[0];
  } else if (G == 1) {
    Value init = L.filled(os, elt, 0.0);
    auto i64x2 = RankedTensorType::get({2}, L.b.getI64Type());
    y = linalg::Conv2DNchwFchwOp::create(
            L.b, L.loc, TypeRange{init.getType()}, ValueRange{xp, w},
            ValueRange{init},
            DenseIntElementsAttr::get(i64x2, ArrayRef<int64_t>{a.s[0], a.s[1]}),
            DenseIntElementsAttr::get(i64x2, ArrayRef<int64_t>{a.d[0], a.d[1]}))
            .getResult(0);
  } else {
    Value x5 = L.reshape(xp, {N, G, Cg, Hp, Wp});
    Value w5 = L.reshape(w, {G, Og, Cg, KH, KW});
    Value init = L.filled({N, G, Og, OH, OW}, elt, 0.0);
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    // n g f oh ow | c kh kw
    SmallVector<AffineMap> maps = {
        mapOf(ctx, 8,
              {d(0), d(1), d(5), d(3) * a.s[0] + d(6) * a.d[0],
               d(4) * a.s[1] + d(7) * a.d[1]}),
        mapOf(ctx, 8, {d(1), d(2), d(5), d(6), d(7)}),
        mapOf(ctx, 8, {d(0), d(1), d(2), d(3), d(4)})};
    SmallVector<IteratorType> iters(5, IteratorType::parallel);
    iters.append(3, IteratorType::reduction);
    y = L.reshape(generic(L, {x5, w5}, {init}, maps, iters, macBody)[0], os);
  }
  if (!bias)
    return y;
  return L.floatElementwise(
      resultType, {y, L.reshape(bias, {O, 1, 1})},
      [](OpBuilder &b, Location l, ValueRange v) {
        return arith::AddFOp::create(b, l, v[0], v[1]).getResult();
      });
}

/// dL/dx of a depthwise conv2d: gx[n, c, ih, iw] is the sum over (m, kh,
/// kw) of gy[n, c*M + m, oh, ow] * w[c, m, kh, kw] where
/// oh = (ih + p - kh*d) / s is whole (and in range; ow alike), by phases of
/// the stride: the inputs (s*qh + rh, s*qw + rw) of phase (rh, rw) take
/// their terms from the same taps, at oh = qh + (rh + p - kh*d) / s, so a
/// phase is one depthwiseTaps over those taps' windows of gy (padded with
/// zeros so that every window is in range), written to the phase's strided
/// box of gx. Each input adds its terms in the (m, kh, kw) order of the
/// direct loops, without the zeros they add between strided outputs (3 of
/// 4 at stride 2); at stride 1 there is one phase.
Value depthwiseInputGrad(Lowering &L, Value gy, Value w,
                         RankedTensorType resultType, const ConvAttrs &a) {
  ArrayRef<int64_t> xs = resultType.getShape(), ws = shapeOf(w),
                    gs = shapeOf(gy);
  int64_t N = xs[0], C = xs[1], M = ws[0] / C, KW = ws[3];
  std::array<int64_t, 2> size = {xs[2], xs[3]}, kernel = {ws[2], ws[3]},
                         out = {gs[2], gs[3]};
  Type elt = eltOf(gy);
  struct Tap {
    int64_t k, e; // the kernel tap and its output offset
  };
  // Dim i's taps in phase r.
  auto phaseTaps = [&](int i, int64_t r) {
    SmallVector<Tap> taps;
    for (int64_t k = 0; k < kernel[i]; ++k) {
      int64_t t = r + a.p[i] - k * a.d[i];
      if (t % a.s[i] == 0)
        taps.push_back({k, t / a.s[i]});
    }
    return taps;
  };
  auto phases = [&](int i) { return std::min(a.s[i], size[i]); };
  auto inPhase = [&](int i, int64_t r) -> int64_t {
    return (size[i] - r + a.s[i] - 1) / a.s[i];
  };
  // The zeros every window needs before and after gy's rows (columns).
  std::array<int64_t, 2> lo = {0, 0}, hi = {0, 0};
  for (int i = 0; i < 2; ++i)
    for (int64_t r = 0; r < phases(i); ++r)
      for (Tap t : phaseTaps(i, r)) {
        lo[i] = std::max(lo[i], -t.e);
        hi[i] = std::max(hi[i], inPhase(i, r) - 1 + t.e - (out[i] - 1));
      }
  int64_t Hq = out[0] + lo[0] + hi[0], Wq = out[1] + lo[1] + hi[1];
  Value gq =
      embed(L, gy, {N, C * M, Hq, Wq}, 0.0, {0, 0, lo[0], lo[1]}, {1, 1, 1, 1});
  Value gq5 = L.reshape(gq, {N, C, M, Hq, Wq});
  Value w3 = L.reshape(w, {C, M, kernel[0] * KW});
  Value gx = L.empty(xs, elt);
  for (int64_t rh = 0; rh < phases(0); ++rh)
    for (int64_t rw = 0; rw < phases(1); ++rw) {
      int64_t qh = inPhase(0, rh), qw = inPhase(1, rw);
      SmallVector<Value> windows, weights;
      for (int64_t m = 0; m < M; ++m)
        for (Tap th : phaseTaps(0, rh))
          for (Tap tw : phaseTaps(1, rw)) {
            windows.push_back(
                stridedBox(L, gq5, {0, 0, m, lo[0] + th.e, lo[1] + tw.e},
                           {N, C, 1, qh, qw}, {1, 1, 1, 1, 1}, {N, C, qh, qw}));
            weights.push_back(stridedBox(L, w3, {0, m, th.k * KW + tw.k},
                                         {C, 1, 1}, {1, 1, 1}, {C}));
          }
      Value phase = depthwiseTaps(L, windows, weights,
                                  L.filled({N, C, qh, qw}, elt, 0.0));
      gx = tensor::InsertSliceOp::create(
          L.b, L.loc, phase, gx, indexAttrs(L.b, {0, 0, rh, rw}),
          indexAttrs(L.b, {N, C, qh, qw}),
          indexAttrs(L.b, {1, 1, a.s[0], a.s[1]}));
    }
  return gx;
}

/// dL/dx of conv2d as a transposed convolution: the gradient dilated by the
/// stride and padded by the dilated kernel extent, correlated with the
/// flipped kernel, then the forward padding cut off:
///   gxp[n, g, c, iy, ix] +=
///       gq[n, g, f, iy - kh*d + (KH-1)*d, ...] * w[g, f, c, kh, kw].
Value lowerConvBackwardInput(Lowering &L, Value gy, Value w,
                             RankedTensorType resultType, const ConvAttrs &a) {
  ArrayRef<int64_t> xs = resultType.getShape(), ws = shapeOf(w);
  int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
  int64_t O = ws[0], Cg = ws[1], KH = ws[2], KW = ws[3];
  int64_t G = a.groups, Og = O / G;
  int64_t Hp = H + 2 * a.p[0], Wp = W + 2 * a.p[1];
  int64_t P0 = (KH - 1) * a.d[0], P1 = (KW - 1) * a.d[1];
  Type elt = eltOf(gy);
  MLIRContext *ctx = L.b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  ArrayRef<int64_t> gs = shapeOf(gy);
  if (asDepthwiseTaps(L, a, Cg))
    return depthwiseInputGrad(L, gy, w, resultType, a);
  if (asGroupProducts(L, a, Cg))
    return overGroups(L, G, resultType, 1, [&](Value g) {
      Value gyg = groupSlice(L, gy, 1, g, Og), wg = groupSlice(L, w, 0, g, Og);
      auto type = RankedTensorType::get({N, Cg, H, W}, elt);
      return lowerConvBackwardInput(L, gyg, wg, type, ungrouped(a));
    });
  if (asProduct(L, a)) {
    // Per chunk of images: the patches' gradient gcol = w^T @ gy
    // [C*KH*KW, n*OH*OW], then each input element sums the patch entries it
    // was copied to (col2im): tap by tap, each adding its plane into the
    // strided window it read, so every element sums its taps in (kh, kw)
    // order.
    int64_t OH = gs[2], OW = gs[3], K = C * KH * KW;
    Value wT = L.transpose(L.reshape(w, {O, K}), {1, 0});
    auto chunks = BatchChunks::of(L, N, K * OH * OW);
    return chunks.fold(
        L, {L.empty(xs, elt)},
        [&](OpFoldResult n0, int64_t nb, ValueRange acc) {
          Taps taps{L, a, nb, C, KH, KW, OH, OW, elt};
          Value g = gradAsMatrix(L, batchSlice(L, gy, n0, nb));
          Value gcol = L.reshape(L.contract(wT, g, {K, nb * OH * OW}),
                                 taps.patchShape());
          Value gxp = L.filled({nb, C, Hp, Wp}, elt, 0.0);
          for (int64_t kh = 0; kh < KH; ++kh) {
            Value row = taps.extractRow(gxp, kh);
            for (int64_t kw = 0; kw < KW; ++kw)
              row = taps.update(gcol, row, kh, kw, /*add=*/true);
            gxp = taps.insertRow(row, gxp, kh);
          }
          Value gx = extractBox(L, gxp, {0, 0, a.p[0], a.p[1]}, {nb, C, H, W});
          return SmallVector<Value>{insertBatchSlice(L, gx, acc[0], n0)};
        })[0];
  }
  Value gq = embed(L, gy, {N, O, Hp + P0, Wp + P1}, 0.0, {0, 0, P0, P1},
                   {1, 1, a.s[0], a.s[1]});
  Value gq5 = L.reshape(gq, {N, G, Og, Hp + P0, Wp + P1});
  Value w5 = L.reshape(w, {G, Og, Cg, KH, KW});
  Value init = L.filled({N, G, Cg, Hp, Wp}, elt, 0.0);
  // n g c iy ix | f kh kw
  SmallVector<AffineMap> maps = {
      mapOf(ctx, 8,
            {d(0), d(1), d(5), d(3) - d(6) * a.d[0] + P0,
             d(4) - d(7) * a.d[1] + P1}),
      mapOf(ctx, 8, {d(1), d(5), d(2), d(6), d(7)}),
      mapOf(ctx, 8, {d(0), d(1), d(2), d(3), d(4)})};
  SmallVector<IteratorType> iters(5, IteratorType::parallel);
  iters.append(3, IteratorType::reduction);
  Value gxp = L.reshape(generic(L, {gq5, w5}, {init}, maps, iters, macBody)[0],
                        {N, C, Hp, Wp});
  return extractBox(L, gxp, {0, 0, a.p[0], a.p[1]}, {N, C, H, W});
}

/// dL/dw of a depthwise conv2d, gw[c, m, 0, kh, kw] = sum over (n, oh, ow)
/// of gy[n, c, m, oh, ow] * xp[n, c, oh*s + kh*d, ow*s + kw*d]: first each
/// tap's sums over (n, oh) for every ow, [C, M, OW] (outer dims reduced,
/// so the CPU vectorises along ow, each lane adding in (n, oh) order; at
/// most kMaxTapTerms taps an op, each its own output), then over ow.
Value depthwiseWeightGrad(Lowering &L, Value gy, Value xp,
                          RankedTensorType resultType, const ConvAttrs &a) {
  ArrayRef<int64_t> ws = resultType.getShape(), gs = shapeOf(gy);
  int64_t N = gs[0], C = shapeOf(xp)[1], M = ws[0] / C, KH = ws[2], KW = ws[3];
  int64_t OH = gs[2], OW = gs[3], T = KH * KW;
  Type elt = eltOf(gy);
  MLIRContext *ctx = L.b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  Value gy5 = L.reshape(gy, {N, C, M, OH, OW});
  // (c, m, n, oh | ow): ow parallel and innermost.
  AffineMap gyMap = mapOf(ctx, 5, {d(2), d(0), d(1), d(3), d(4)}),
            winMap = mapOf(ctx, 5, {d(2), d(0), d(3), d(4)}),
            partMap = mapOf(ctx, 5, {d(0), d(1), d(4)});
  SmallVector<IteratorType> partIters = {
      IteratorType::parallel, IteratorType::parallel, IteratorType::reduction,
      IteratorType::reduction, IteratorType::parallel};
  SmallVector<AffineMap> sumMaps = {AffineMap::getMultiDimIdentityMap(3, ctx),
                                    mapOf(ctx, 3, {d(0), d(1)})};
  Value gw = L.empty({C, M, T}, elt);
  for (int64_t first = 0; first < T; first += kMaxTapTerms) {
    int64_t n = std::min<int64_t>(kMaxTapTerms, T - first);
    SmallVector<Value> ins = {gy5}, outs;
    SmallVector<AffineMap> maps = {gyMap};
    for (int64_t t = first; t < first + n; ++t) {
      int64_t kh = t / KW, kw = t % KW;
      ins.push_back(tapWindow(L, xp, kh, kw, OH, OW, a));
      maps.push_back(winMap);
    }
    for (int64_t t = 0; t < n; ++t) {
      outs.push_back(L.filled({C, M, OW}, elt, 0.0));
      maps.push_back(partMap);
    }
    SmallVector<Value> parts =
        generic(L, ins, outs, maps, partIters,
                [n](OpBuilder &b, Location l, ValueRange v) {
                  SmallVector<Value> r;
                  for (int64_t t = 0; t < n; ++t)
                    r.push_back(arith::AddFOp::create(
                        b, l, v[1 + n + t],
                        arith::MulFOp::create(b, l, v[0], v[1 + t])));
                  return r;
                });
    for (int64_t t = 0; t < n; ++t) {
      Value sum = generic(L, {parts[t]}, {L.filled({C, M}, elt, 0.0)}, sumMaps,
                          {IteratorType::parallel, IteratorType::parallel,
                           IteratorType::reduction},
                          [](OpBuilder &b, Location l, ValueRange v) {
                            return SmallVector<Value>{
                                arith::AddFOp::create(b, l, v[1], v[0])};
                          })[0];
      gw = tensor::InsertSliceOp::create(
          L.b, L.loc, sum, gw, indexAttrs(L.b, {0, 0, first + t}),
          indexAttrs(L.b, {C, M, 1}), indexAttrs(L.b, {1, 1, 1}));
    }
  }
  return L.reshape(gw, ws);
}

/// dL/dw of conv2d: gw[g, f, c, kh, kw] += gy[n, g, f, oh, ow] *
/// xp[n, g, c, oh*s + kh*d, ow*s + kw*d], reducing over n, oh, ow.
Value lowerConvBackwardWeight(Lowering &L, Value gy, Value x,
                              RankedTensorType resultType, const ConvAttrs &a) {
  ArrayRef<int64_t> xs = shapeOf(x), ws = resultType.getShape(),
                    gs = shapeOf(gy);
  int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
  int64_t O = ws[0], Cg = ws[1], KH = ws[2], KW = ws[3], OH = gs[2], OW = gs[3];
  int64_t G = a.groups, Og = O / G;
  int64_t Hp = H + 2 * a.p[0], Wp = W + 2 * a.p[1];
  Type elt = eltOf(gy);
  MLIRContext *ctx = L.b.getContext();
  if (asGroupProducts(L, a, Cg))
    return overGroups(L, G, resultType, 0, [&](Value g) {
      Value gyg = groupSlice(L, gy, 1, g, Og), xg = groupSlice(L, x, 1, g, Cg);
      auto type = RankedTensorType::get({Og, Cg, KH, KW}, elt);
      return lowerConvBackwardWeight(L, gyg, xg, type, ungrouped(a));
    });
  Value xp =
      embed(L, x, {N, C, Hp, Wp}, 0.0, {0, 0, a.p[0], a.p[1]}, {1, 1, 1, 1});
  if (asDepthwiseTaps(L, a, Cg))
    return depthwiseWeightGrad(L, gy, xp, resultType, a);
  if (asProduct(L, a)) {
    // gw^T[(c, kh, kw), o] = sum over chunks of images of
    // col @ gy[(n, oh, ow), o]: the patches as they are, and the smaller
    // output gradient transposed. The product's columns are the O output
    // channels: padded with zero columns of gy to a multiple of 16, so that
    // every register tile is whole vectors (6 channels would otherwise make
    // a 6-lane accumulator).
    int64_t K = C * KH * KW, Op = (O + 15) / 16 * 16;
    auto chunks = BatchChunks::of(L, N, K * OH * OW);
    Value gwT = chunks.fold(
        L, {L.filled({K, Op}, elt, 0.0)},
        [&](OpFoldResult n0, int64_t nb, ValueRange acc) {
          Value col = im2col(L, batchSlice(L, xp, n0, nb), KH, KW, OH, OW, a);
          Value g = gradAsColumns(L, batchSlice(L, gy, n0, nb), Op);
          return SmallVector<Value>{L.contract(col, g, {K, Op}, acc[0])};
        })[0];
    Value gw = L.transpose(extractBox(L, gwT, {0, 0}, {K, O}), {1, 0});
    return L.reshape(gw, ws);
  }
  Value x5 = L.reshape(xp, {N, G, Cg, Hp, Wp});
  Value g5 = L.reshape(gy, {N, G, Og, OH, OW});
  Value init = L.filled({G, Og, Cg, KH, KW}, elt, 0.0);
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  // g f c kh kw | n oh ow
  SmallVector<AffineMap> maps = {
      mapOf(ctx, 8, {d(5), d(0), d(1), d(6), d(7)}),
      mapOf(ctx, 8,
            {d(5), d(0), d(2), d(6) * a.s[0] + d(3) * a.d[0],
             d(7) * a.s[1] + d(4) * a.d[1]}),
      mapOf(ctx, 8, {d(0), d(1), d(2), d(3), d(4)})};
  SmallVector<IteratorType> iters(5, IteratorType::parallel);
  iters.append(3, IteratorType::reduction);
  return L.reshape(generic(L, {g5, x5}, {init}, maps, iters, macBody)[0], ws);
}

/// `lower(operands, type)`, or with bf16 elements, `lower` of their f32
/// values rounded to bf16 once, as the evaluator rounds its sums: bf16
/// arithmetic has no CPU instruction (LLVM calls __truncsfbf2 for it,
/// which the JIT lacks), and a bf16 accumulator would round every term.
Value inComputeType(
    Lowering &L, SmallVector<Value> operands, RankedTensorType type,
    function_ref<Value(ArrayRef<Value>, RankedTensorType)> lower) {
  Type elt = type.getElementType();
  if (!elt.isBF16())
    return lower(operands, type);
  Type f32 = L.b.getF32Type();
  for (Value &v : operands)
    if (v)
      v = L.castElements(v, f32);
  return L.castElements(
      lower(operands, RankedTensorType::get(type.getShape(), f32)), elt);
}

FailureOr<Value> lowerConv(Conv2dOp o, Lowering &L) {
  return inComputeType(
      L, {o.getInput(), o.getWeight(), o.getBias()}, o.getType(),
      [&](ArrayRef<Value> v, RankedTensorType type) {
        return lowerConv2d(L, v[0], v[1], v[2], type, ConvAttrs::of(o));
      });
}

FailureOr<Value> lowerConvInputGrad(Conv2dBackwardInputOp o, Lowering &L) {
  return inComputeType(L, {o.getGrad(), o.getOther()}, resultType(o),
                       [&](ArrayRef<Value> v, RankedTensorType type) {
                         return lowerConvBackwardInput(L, v[0], v[1], type,
                                                       ConvAttrs::of(o));
                       });
}

FailureOr<Value> lowerConvWeightGrad(Conv2dBackwardWeightOp o, Lowering &L) {
  return inComputeType(L, {o.getGrad(), o.getOther()}, resultType(o),
                       [&](ArrayRef<Value> v, RankedTensorType type) {
                         return lowerConvBackwardWeight(L, v[0], v[1], type,
                                                        ConvAttrs::of(o));
                       });
}

} // namespace

void graft::lowering::populateConvolutionPatterns(
    RewritePatternSet &patterns, const ConvertGraftToLinalgOptions &options) {
  addLowering<Conv2dOp>(patterns, options, lowerConv);
  addLowering<Conv2dBackwardInputOp>(patterns, options, lowerConvInputGrad);
  addLowering<Conv2dBackwardWeightOp>(patterns, options, lowerConvWeightGrad);
}
