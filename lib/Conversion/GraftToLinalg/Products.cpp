//===- Products.cpp - graft-to-linalg: matrix products and attention ------===//
//
// Products are contractions (Lowering::contract): a 2-D one is marked for
// the CPU schedule's register tiles; batched ones iterate their batch. A
// linear layer starts from its broadcast bias; attention is its formula,
// softmax(q k^T * scale + causal mask) v.
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"

#include <cmath>

using namespace graft;
using namespace graft::lowering;

namespace {

FailureOr<Value> lowerMatmul(MatmulOp o, Lowering &L) {
  Value a = o.getLhs(), c = o.getRhs();
  SmallVector<int64_t> as(shapeOf(a)), cs(shapeOf(c));
  if (as.size() == 1)
    as.insert(as.begin(), 1);
  if (cs.size() == 1)
    cs.push_back(1);
  a = L.reshape(a, as);
  c = L.reshape(c, cs);
  // The product's shape before the vector dims are dropped.
  SmallVector<int64_t> batchA(as.begin(), as.end() - 2),
      batchC(cs.begin(), cs.end() - 2);
  size_t rank = std::max(batchA.size(), batchC.size());
  SmallVector<int64_t> out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < batchA.size() ? batchA[batchA.size() - 1 - i] : 1;
    int64_t dc = i < batchC.size() ? batchC[batchC.size() - 1 - i] : 1;
    out[rank - 1 - i] = da == 1 ? dc : da;
  }
  out.push_back(as[as.size() - 2]);
  out.push_back(cs.back());
  return L.reshape(L.contract(a, c, out), resultType(o).getShape());
}

FailureOr<Value> lowerLinear(LinearOp o, Lowering &L) {
  Value x = o.getInput(), w = o.getWeight();
  int64_t out = shapeOf(w)[0], in = shapeOf(w)[1];
  int64_t rows = tensorType(x).getNumElements() / in;
  Value x2 = L.reshape(x, {rows, in});
  Type elt = eltOf(x);
  // The product walks memory contiguously with its right operand
  // materialised as [K, N]: x @ w^T transposes w (out x in elements).
  // When x and the result together are smaller (a batch smaller than
  // the layer), y^T = w @ x^T transposes those instead: the MLP
  // benchmark's 784->512 layer moves 165K elements, not 401K, and its
  // right operand (x^T, 400 KB) stays in L2 across row blocks. Each
  // output still sums its terms from the bias in k order, so both
  // forms give the same bits. The rows become the product's columns,
  // which register tiles take 64 at a time (16 with AVX2): the form is
  // kept to at least 64 rows, in whole 16-lane vectors.
  if (rows >= 64 && rows % 16 == 0 && rows * (in + out) < out * in) {
    Value initT = o.getBias() ? L.broadcastTo(L.reshape(o.getBias(), {out, 1}),
                                              {out, rows})
                              : L.filled({out, rows}, elt, 0.0);
    Value yT = L.contract(w, L.transpose(x2, {1, 0}), {out, rows}, initT);
    return L.reshape(L.transpose(yT, {1, 0}), resultType(o).getShape());
  }
  // Start from the broadcast bias (or zero), then accumulate x @ w^T
  // with w^T materialised, so the product walks memory contiguously.
  Value init = o.getBias() ? L.broadcastTo(o.getBias(), {rows, out})
                           : L.filled({rows, out}, elt, 0.0);
  Value y = L.contract(x2, L.transpose(w, {1, 0}), {rows, out}, init);
  return L.reshape(y, resultType(o).getShape());
}

/// softmax(q k^T * scale + causal mask) v over flattened batch dims.
FailureOr<Value> lowerAttention(ScaledDotProductAttentionOp o, Lowering &L) {
  Value q = o.getQuery(), k = o.getKey(), v = o.getValue();
  ArrayRef<int64_t> qs = shapeOf(q);
  int64_t Lq = qs[qs.size() - 2], E = qs.back();
  int64_t S = shapeOf(k)[shapeOf(k).size() - 2], Ev = shapeOf(v).back();
  int64_t B = tensorType(q).getNumElements() / (Lq * E);
  double scale = o.getScale() ? o.getScale()->convertToDouble()
                              : 1.0 / std::sqrt((double)E);
  Type elt = eltOf(q);
  Value q3 = L.reshape(q, {B, Lq, E});
  Value kT = L.transpose(L.reshape(k, {B, S, E}), {0, 2, 1});
  Value v3 = L.reshape(v, {B, S, Ev});
  Value scores = L.contract(q3, kT, {B, Lq, S});
  bool causal = o.getIsCausal();
  Value scaled = L.floatElementwise(
      RankedTensorType::get({B, Lq, S}, elt), {scores},
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Type t = a[0].getType();
        Value s = arith::MulFOp::create(
            b, l, a[0],
            arith::ConstantOp::create(b, l, t, b.getFloatAttr(t, scale)));
        if (!causal)
          return s;
        Value above = arith::CmpIOp::create(b, l, arith::CmpIPredicate::sgt,
                                            linalg::IndexOp::create(b, l, 2),
                                            linalg::IndexOp::create(b, l, 1));
        return arith::SelectOp::create(
            b, l, above,
            arith::ConstantOp::create(b, l, t, b.getFloatAttr(t, -INFINITY)),
            s);
      });
  Value p = L.softmax(scaled, 2, /*log=*/false);
  return L.reshape(L.contract(p, v3, {B, Lq, Ev}), o.getType().getShape());
}

} // namespace

void graft::lowering::populateProductsPatterns(
    RewritePatternSet &patterns, const ConvertGraftToLinalgOptions &options) {
  addLowering<MatmulOp>(patterns, options, lowerMatmul);
  addLowering<LinearOp>(patterns, options, lowerLinear);
  addLowering<ScaledDotProductAttentionOp>(patterns, options, lowerAttention);
}
