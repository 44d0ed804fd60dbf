//===- Indexing.cpp - graft-to-linalg: embeddings and one-hot -------------===//
//
// An embedding gathers table rows (an out-of-range index reads zeros, never
// memory); its gradient is an scf.for scatter-add into a zero table;
// one_hot compares each class index with the last dim's position.
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"

using namespace graft;
using namespace graft::lowering;

namespace {

/// (d0, ..., d[rank-1]) -> (d0, ..., d[rank-2]): an operand indexed by all
/// but the result's last dimension, `()` for a rank-1 result (a 0-d index
/// or target). AffineMap::getMajorSubMap(0) is the null map instead.
AffineMap leadingDims(int64_t rank, MLIRContext *ctx) {
  SmallVector<AffineExpr> dims;
  for (int64_t i = 0; i + 1 < rank; ++i)
    dims.push_back(getAffineDimExpr(i, ctx));
  return AffineMap::get(rank, 0, dims, ctx);
}

/// out[i..., d] = weight[indices[i...], d]
FailureOr<Value> lowerEmbedding(EmbeddingOp o, Lowering &L) {
  // out[i..., d] = weight[indices[i...], d]
  ArrayRef<int64_t> rs = resultType(o).getShape();
  Value w = o.getWeight();
  int64_t rows = shapeOf(w)[0];
  Type elt = resultType(o).getElementType();
  SmallVector<AffineMap> maps = {leadingDims(rs.size(), L.b.getContext()),
                                 L.b.getMultiDimIdentityMap(rs.size())};
  SmallVector<IteratorType> iters(rs.size(), IteratorType::parallel);
  return linalg::GenericOp::create(
             L.b, L.loc, TypeRange{resultType(o)}, ValueRange{o.getIndices()},
             ValueRange{L.empty(rs, elt)}, maps, iters,
             [&](OpBuilder &b, Location l, ValueRange a) {
               Value i =
                   arith::IndexCastOp::create(b, l, b.getIndexType(), a[0]);
               Value zero = arith::ConstantIndexOp::create(b, l, 0);
               Value hi = arith::ConstantIndexOp::create(b, l, rows);
               Value ok = arith::AndIOp::create(
                   b, l,
                   arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, i,
                                         zero),
                   arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i,
                                         hi));
               Value safe = arith::SelectOp::create(b, l, ok, i, zero);
               Value d = linalg::IndexOp::create(b, l, rs.size() - 1);
               Value v =
                   tensor::ExtractOp::create(b, l, w, ValueRange{safe, d});
               linalg::YieldOp::create(
                   b, l,
                   arith::SelectOp::create(
                       b, l, ok, v,
                       arith::ConstantOp::create(b, l, elt,
                                                 b.getFloatAttr(elt, 0.0)))
                       .getResult());
             })
      .getResult(0);
}

/// embedding_backward: an scf.for scatter-add of gradient rows into a zero
/// table; the padding_idx row (and out-of-range indices) stay untouched.
FailureOr<Value> lowerEmbeddingBackward(EmbeddingBackwardOp o, Lowering &L) {
  RankedTensorType rt = o.getType();
  int64_t num = rt.getDimSize(0), dim = rt.getDimSize(1);
  int64_t rows = tensorType(o.getIndices()).getNumElements();
  Value ind = L.reshape(o.getIndices(), {rows});
  Value g2 = L.reshape(o.getGrad(), {rows, dim});
  std::optional<int64_t> pad;
  if (auto p = o.getPaddingIdx())
    pad = (int64_t)*p < 0 ? (int64_t)*p + num : (int64_t)*p;
  Value zeros = L.filled({num, dim}, rt.getElementType(), 0.0);
  return loopNest(
      L, {rows, dim}, zeros,
      [&](OpBuilder &b, Location l, ValueRange iv, Value acc) -> Value {
        Value r = arith::IndexCastOp::create(
            b, l, b.getIndexType(),
            tensor::ExtractOp::create(b, l, ind, iv[0]));
        Value ok = arith::AndIOp::create(
            b, l,
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, r,
                                  idx(b, l, 0)),
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, r,
                                  idx(b, l, num)));
        if (pad)
          ok = arith::AndIOp::create(
              b, l, ok,
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, r,
                                    idx(b, l, *pad)));
        Value row = arith::SelectOp::create(b, l, ok, r, idx(b, l, 0));
        SmallVector<Value> dst = {row, iv[1]};
        Value old = tensor::ExtractOp::create(b, l, acc, dst);
        Value gv = tensor::ExtractOp::create(b, l, g2, iv);
        Value nv = arith::SelectOp::create(
            b, l, ok, arith::AddFOp::create(b, l, old, gv), old);
        return tensor::InsertOp::create(b, l, nv, acc, dst);
      });
}

FailureOr<Value> lowerOneHot(OneHotOp o, Lowering &L) {
  Type elt = resultType(o).getElementType();
  ArrayRef<int64_t> rs = resultType(o).getShape();
  int64_t last = rs.size() - 1;
  Value t = o.getTarget();
  SmallVector<AffineMap> maps = {leadingDims(rs.size(), L.b.getContext()),
                                 L.b.getMultiDimIdentityMap(rs.size())};
  SmallVector<IteratorType> iters(rs.size(), IteratorType::parallel);
  return linalg::GenericOp::create(
             L.b, L.loc, TypeRange{resultType(o)}, ValueRange{t},
             ValueRange{L.empty(rs, elt)}, maps, iters,
             [&](OpBuilder &b, Location l, ValueRange a) {
               Value c = arith::IndexCastOp::create(
                   b, l, a[0].getType(), linalg::IndexOp::create(b, l, last));
               Value eq = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                                a[0], c);
               linalg::YieldOp::create(b, l, L.convert(b, eq, elt));
             })
      .getResult(0);
}

} // namespace

void graft::lowering::populateIndexingPatterns(
    RewritePatternSet &patterns, const ConvertGraftToLinalgOptions &options) {
  addLowering<EmbeddingOp>(patterns, options, lowerEmbedding);
  addLowering<EmbeddingBackwardOp>(patterns, options, lowerEmbeddingBackward);
  addLowering<OneHotOp>(patterns, options, lowerOneHot);
}
