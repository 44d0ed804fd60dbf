//===- Lowering.cpp - Building blocks of the graft-to-linalg patterns ----===//

#include "Lowering.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <cmath>
#include <functional>

using namespace graft;
using namespace graft::lowering;

//===----------------------------------------------------------------------===//
// Lowering
//===----------------------------------------------------------------------===//

Value Lowering::convert(OpBuilder &bb, Value v, Type to) {
  Type from = v.getType();
  if (from == to)
    return v;
  auto fFrom = dyn_cast<FloatType>(from), fTo = dyn_cast<FloatType>(to);
  if (fFrom && fTo)
    return fFrom.getWidth() < fTo.getWidth()
               ? arith::ExtFOp::create(bb, loc, to, v).getResult()
               : arith::TruncFOp::create(bb, loc, to, v).getResult();
  if (fTo)
    return from.isInteger(1)
               ? arith::UIToFPOp::create(bb, loc, to, v).getResult()
               : arith::SIToFPOp::create(bb, loc, to, v).getResult();
  if (fFrom) {
    if (to.isInteger(1))
      return arith::CmpFOp::create(bb, loc, arith::CmpFPredicate::UNE, v,
                                   constantIn(bb, from, 0));
    return arith::FPToSIOp::create(bb, loc, to, v);
  }
  unsigned wf = from.getIntOrFloatBitWidth(), wt = to.getIntOrFloatBitWidth();
  if (to.isInteger(1))
    return arith::CmpIOp::create(bb, loc, arith::CmpIPredicate::ne, v,
                                 constantIn(bb, from, 0));
  if (wf < wt)
    return from.isInteger(1)
               ? arith::ExtUIOp::create(bb, loc, to, v).getResult()
               : arith::ExtSIOp::create(bb, loc, to, v).getResult();
  return arith::TruncIOp::create(bb, loc, to, v);
}

Value Lowering::constantIn(OpBuilder &bb, Type t, double v) {
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
  return constant(t, v);
}

Value Lowering::denseConstant(RankedTensorType t, ArrayRef<double> values) {
  SmallVector<Attribute> attrs;
  for (double v : values)
    attrs.push_back(
        isa<FloatType>(t.getElementType())
            ? Attribute(b.getFloatAttr(t.getElementType(), v))
            : Attribute(b.getIntegerAttr(t.getElementType(), (int64_t)v)));
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(t, attrs));
}

Value Lowering::insertBox(Value src, Value dest, ArrayRef<OpFoldResult> offsets,
                          ArrayRef<OpFoldResult> strides) {
  ArrayRef<int64_t> ss = shapeOf(src);
  SmallVector<int64_t> off, st;
  for (auto [o, s] : llvm::zip(offsets, strides)) {
    off.push_back(*getConstantIntValue(o));
    st.push_back(*getConstantIntValue(s));
  }
  return elementwise(
      shapeOf(dest), eltOf(dest), {dest},
      [&](OpBuilder &bb, Location l, ValueRange a) -> Value {
        Value ok;
        SmallVector<Value> at;
        auto c = [&](int64_t v) {
          return arith::ConstantIndexOp::create(bb, l, v);
        };
        for (size_t d = 0; d < ss.size(); ++d) {
          if (off[d] == 0 && st[d] == 1 && ss[d] == shapeOf(dest)[d]) {
            at.push_back(linalg::IndexOp::create(bb, l, d));
            continue;
          }
          Value rel = arith::SubIOp::create(
              bb, l, linalg::IndexOp::create(bb, l, d), c(off[d]));
          Value in = arith::AndIOp::create(
              bb, l,
              arith::CmpIOp::create(bb, l, arith::CmpIPredicate::sge, rel,
                                    c(0)),
              arith::CmpIOp::create(bb, l, arith::CmpIPredicate::sle, rel,
                                    c((ss[d] - 1) * st[d])));
          if (st[d] != 1)
            in = arith::AndIOp::create(
                bb, l, in,
                arith::CmpIOp::create(
                    bb, l, arith::CmpIPredicate::eq,
                    arith::RemSIOp::create(bb, l, rel, c(st[d])), c(0)));
          ok = ok ? arith::AndIOp::create(bb, l, ok, in).getResult() : in;
          Value q =
              st[d] == 1
                  ? rel
                  : arith::DivSIOp::create(bb, l, rel, c(st[d])).getResult();
          at.push_back(arith::SelectOp::create(bb, l, in, q, c(0)));
        }
        Value v = tensor::ExtractOp::create(bb, l, src, at);
        if (!ok)
          return v;
        return arith::SelectOp::create(bb, l, ok, v, a[0]).getResult();
      });
}

Value Lowering::extractBox(RankedTensorType type, Value src,
                           ArrayRef<OpFoldResult> offsets,
                           ArrayRef<OpFoldResult> strides) {
  SmallVector<int64_t> off, st;
  for (auto [o, s] : llvm::zip(offsets, strides)) {
    off.push_back(*getConstantIntValue(o));
    st.push_back(*getConstantIntValue(s));
  }
  return elementwise(
      type.getShape(), type.getElementType(), {},
      [&](OpBuilder &bb, Location l, ValueRange) -> Value {
        SmallVector<Value> at;
        for (size_t d = 0; d < off.size(); ++d) {
          Value i = linalg::IndexOp::create(bb, l, d);
          if (st[d] != 1)
            i = arith::MulIOp::create(
                bb, l, i, arith::ConstantIndexOp::create(bb, l, st[d]));
          if (off[d] != 0)
            i = arith::AddIOp::create(
                bb, l, i, arith::ConstantIndexOp::create(bb, l, off[d]));
          at.push_back(i);
        }
        return tensor::ExtractOp::create(bb, l, src, at);
      });
}

AffineMap Lowering::broadcastMap(ArrayRef<int64_t> shape,
                                 ArrayRef<int64_t> iterShape) {
  SmallVector<AffineExpr> exprs;
  size_t lead = iterShape.size() - shape.size();
  for (auto [i, d] : llvm::enumerate(shape))
    exprs.push_back(d == 1 && iterShape[lead + i] != 1
                        ? b.getAffineConstantExpr(0)
                        : b.getAffineDimExpr(lead + i));
  return AffineMap::get(iterShape.size(), 0, exprs, b.getContext());
}

Value Lowering::elementwise(ArrayRef<int64_t> shape, Type resultElt,
                            ValueRange operands, BodyFn body) {
  SmallVector<AffineMap> maps;
  for (Value v : operands)
    maps.push_back(broadcastMap(shapeOf(v), shape));
  maps.push_back(b.getMultiDimIdentityMap(shape.size()));
  SmallVector<IteratorType> iters(shape.size(), IteratorType::parallel);
  auto type = RankedTensorType::get(shape, resultElt);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, operands,
             ValueRange{empty(shape, resultElt)}, maps, iters,
             [&](OpBuilder &bb, Location l, ValueRange args) {
               Value r = body(bb, l, args.drop_back());
               linalg::YieldOp::create(bb, l, r);
             })
      .getResult(0);
}

Value Lowering::floatElementwise(RankedTensorType resultType,
                                 ValueRange operands, BodyFn body) {
  Type elt = resultType.getElementType();
  Type ct = computeType(elt, b.getContext());
  return elementwise(
      resultType.getShape(), elt, operands,
      [&](OpBuilder &bb, Location l, ValueRange args) {
        SmallVector<Value> wide;
        for (Value a : args)
          wide.push_back(isa<FloatType>(a.getType()) ? convert(bb, a, ct) : a);
        return convert(bb, body(bb, l, wide), elt);
      });
}

/// Sums of more terms than this run in two stages (see Lowering::reduce).
static constexpr int64_t kSequentialSumLimit = 512;

/// The largest divisor of `n` not above `limit` (at least 1).
static int64_t largestDivisorUpTo(int64_t n, int64_t limit) {
  for (int64_t d = std::min(n, limit); d > 1; --d)
    if (n % d == 0)
      return d;
  return 1;
}

Value Lowering::reduce(Value input, ArrayRef<int64_t> dims, bool keepdim,
                       Combine kind) {
  ArrayRef<int64_t> in = shapeOf(input);
  auto isReduced = [&](int64_t i) {
    return dims.empty() || llvm::is_contained(dims, i);
  };
  int64_t count = 1;
  for (auto [i, d] : llvm::enumerate(in))
    if (isReduced(i))
      count *= d;

  // A sum of many f32 terms in one accumulator loses precision with their
  // count: its rounding error grows linearly (PyTorch sums in a cascade,
  // whose error grows far slower). Long sums run in two stages instead: the
  // reduced dims are split into an inner part of about sqrt(count)
  // elements, kept by the first stage, and the outer rest, which it sums;
  // the second sums the partial sums (in stages again when they are many).
  // Each output then sums about 2 sqrt(count) terms one after another
  // instead of count. The first stage keeps the innermost dims, so it sums
  // whole vectors of them (a bias gradient's batch, batch norm's batch and
  // rows).
  SmallVector<int64_t> expanded;            // input dims, reduced ones split
  SmallVector<ReassociationIndices> groups; // input dim -> expanded dims
  SmallVector<bool> firstStage;             // expanded dims the first sums
  SmallVector<int64_t> second;              // partial dims the second sums
  if (kind == Combine::Sum && count > kSequentialSumLimit) {
    int64_t target = (int64_t)std::ceil(std::sqrt((double)count));
    int64_t inner = 1;
    bool outer = false;
    SmallVector<SmallVector<std::pair<int64_t, int>>> parts(in.size());
    for (int64_t i = (int64_t)in.size() - 1; i >= 0; --i) {
      // Each part: its size and the stage that sums it (0: none).
      if (!isReduced(i)) {
        parts[i] = {{in[i], 0}};
      } else if (outer) {
        parts[i] = {{in[i], 1}};
      } else if (inner * in[i] <= target) {
        inner *= in[i];
        parts[i] = {{in[i], 2}};
      } else {
        outer = true;
        int64_t keep = largestDivisorUpTo(in[i], target / inner);
        inner *= keep;
        parts[i] = {{in[i] / keep, 1}};
        if (keep > 1)
          parts[i].push_back({keep, 2});
      }
    }
    if (outer && inner > 1)
      for (auto &dimParts : parts) {
        groups.emplace_back();
        for (auto [size, stage] : dimParts) {
          groups.back().push_back(expanded.size());
          expanded.push_back(size);
          firstStage.push_back(stage == 1);
          if (stage == 2)
            second.push_back(expanded.size() - 1 -
                             llvm::count(firstStage, true));
        }
      }
  }
  Value r;
  if (expanded.empty()) {
    SmallVector<bool> all;
    for (int64_t i = 0; i < (int64_t)in.size(); ++i)
      all.push_back(isReduced(i));
    r = reduceOnce(input, all, kind);
  } else {
    auto type = RankedTensorType::get(expanded, eltOf(input));
    Value split = tensor::ExpandShapeOp::create(b, loc, type, input, groups);
    Value partial = reduceOnce(split, firstStage, kind);
    r = reduce(partial, second, /*keepdim=*/false, kind);
  }
  if (eltOf(r) != eltOf(input)) // bf16: summed in f32, rounded once
    r = elementwise(shapeOf(r), eltOf(input), {r},
                    [&](OpBuilder &bb, Location, ValueRange a) {
                      return convert(bb, a[0], eltOf(input));
                    });
  if (!keepdim)
    return r;
  SmallVector<int64_t> kept;
  for (auto [i, d] : llvm::enumerate(in))
    kept.push_back(isReduced(i) ? 1 : d);
  return reshape(r, kept);
}

Value Lowering::reduceOnce(Value input, ArrayRef<bool> reduced, Combine kind) {
  ArrayRef<int64_t> in = shapeOf(input);
  Type elt = computeType(eltOf(input), b.getContext());
  SmallVector<int64_t> outShape;
  SmallVector<AffineExpr> outExprs;
  SmallVector<IteratorType> iters;
  for (auto [i, d] : llvm::enumerate(in)) {
    iters.push_back(reduced[i] ? IteratorType::reduction
                               : IteratorType::parallel);
    if (!reduced[i]) {
      outShape.push_back(d);
      outExprs.push_back(b.getAffineDimExpr(i));
    }
  }
  double init = kind == Combine::Sum ? 0.0 : -INFINITY;
  Value acc = filled(outShape, elt, init);
  SmallVector<AffineMap> maps = {
      b.getMultiDimIdentityMap(in.size()),
      AffineMap::get(in.size(), 0, outExprs, b.getContext())};
  return linalg::GenericOp::create(
             b, loc, TypeRange{acc.getType()}, ValueRange{input},
             ValueRange{acc}, maps, iters,
             [&](OpBuilder &bb, Location l, ValueRange args) {
               Value x = convert(bb, args[0], elt);
               Value v =
                   kind == Combine::Sum
                       ? arith::AddFOp::create(bb, l, args[1], x).getResult()
                       : arith::MaximumFOp::create(bb, l, args[1], x)
                             .getResult();
               linalg::YieldOp::create(bb, l, v);
             })
      .getResult(0);
}

Value Lowering::castElements(Value v, Type elt) {
  return elementwise(shapeOf(v), elt, {v},
                     [&](OpBuilder &bb, Location, ValueRange x) {
                       return convert(bb, x[0], elt);
                     });
}

Value Lowering::contract(Value a, Value c, ArrayRef<int64_t> outShape,
                         Value init) {
  Type elt = eltOf(a);
  if (elt.isBF16()) {
    // In f32, rounded to bf16 once, as the evaluator sums: a bf16
    // accumulator would round at every step, and its FMAs have no CPU
    // instruction (LLVM calls __truncsfbf2 for them, which the JIT lacks).
    Type f32 = b.getF32Type();
    return castElements(contract(castElements(a, f32), castElements(c, f32),
                                 outShape,
                                 init ? castElements(init, f32) : Value()),
                        elt);
  }
  ArrayRef<int64_t> as = shapeOf(a), cs = shapeOf(c);
  Value acc = init ? init : filled(outShape, elt, 0.0);
  int64_t batch = outShape.size() - 2, dims = batch + 3;
  if (batch > 0 && batchLoops)
    return batchLoop(a, c, outShape, acc);
  bool tiled = batch == 0;
  MLIRContext *ctx = b.getContext();
  auto operandMap = [&](ArrayRef<int64_t> s, AffineExpr r, AffineExpr col) {
    SmallVector<AffineExpr> e;
    int64_t lead = batch - (int64_t)(s.size() - 2);
    for (int64_t i = 0; i < (int64_t)s.size() - 2; ++i)
      e.push_back(s[i] == 1 && outShape[lead + i] != 1
                      ? getAffineConstantExpr(0, ctx)
                      : getAffineDimExpr(lead + i, ctx));
    e.push_back(r);
    e.push_back(col);
    return AffineMap::get(dims, 0, e, ctx);
  };
  AffineExpr m = getAffineDimExpr(batch, ctx);
  AffineExpr k = getAffineDimExpr(tiled ? 2 : batch + 1, ctx);
  AffineExpr n = getAffineDimExpr(tiled ? 1 : batch + 2, ctx);
  SmallVector<AffineExpr> outE;
  for (int64_t i = 0; i < batch; ++i)
    outE.push_back(getAffineDimExpr(i, ctx));
  outE.push_back(m);
  outE.push_back(n);
  SmallVector<AffineMap> maps = {operandMap(as, m, k), operandMap(cs, k, n),
                                 AffineMap::get(dims, 0, outE, ctx)};
  SmallVector<IteratorType> iters(batch + 1, IteratorType::parallel);
  iters.push_back(tiled ? IteratorType::parallel : IteratorType::reduction);
  iters.push_back(tiled ? IteratorType::reduction : IteratorType::parallel);
  auto op = linalg::GenericOp::create(
      b, loc, TypeRange{acc.getType()}, ValueRange{a, c}, ValueRange{acc}, maps,
      iters, [&](OpBuilder &bb, Location l, ValueRange args) {
        Value p = arith::MulFOp::create(bb, l, args[0], args[1]);
        linalg::YieldOp::create(
            bb, l, arith::AddFOp::create(bb, l, args[2], p).getResult());
      });
  if (tiled)
    op->setAttr(GraftDialect::ContractionAttrHelper::getNameStr(),
                b.getUnitAttr());
  return op.getResult(0);
}

Value Lowering::batchLoop(Value a, Value c, ArrayRef<int64_t> outShape,
                          Value acc) {
  int64_t batch = outShape.size() - 2, count = 1;
  for (int64_t i = 0; i < batch; ++i)
    count *= outShape[i];
  Value lb = arith::ConstantIndexOp::create(b, loc, 0);
  Value ub = arith::ConstantIndexOp::create(b, loc, count);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto loop = scf::ForOp::create(b, loc, lb, ub, one, ValueRange{acc});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  // The batch indices of iteration i, the last fastest.
  SmallVector<Value> at(batch);
  Value rest = loop.getInductionVar();
  for (int64_t i = batch - 1; i > 0; --i) {
    Value size = arith::ConstantIndexOp::create(b, loc, outShape[i]);
    at[i] = arith::RemUIOp::create(b, loc, rest, size);
    rest = arith::DivUIOp::create(b, loc, rest, size);
  }
  at[0] = rest;
  // Where iteration i's 2-D slice of a tensor of `shape` is (batch dims
  // aligned to the result's last ones; a broadcast one at 0).
  struct Slice {
    SmallVector<OpFoldResult> offsets, sizes, strides;
  };
  auto sliceOf = [&](ArrayRef<int64_t> shape) {
    int64_t rank = shape.size(), lead = batch - (rank - 2);
    Slice s;
    s.strides.assign(rank, b.getIndexAttr(1));
    for (int64_t i = 0; i < rank; ++i) {
      bool matrix = i >= rank - 2;
      s.offsets.push_back(matrix || shape[i] == 1
                              ? OpFoldResult(b.getIndexAttr(0))
                              : OpFoldResult(at[lead + i]));
      s.sizes.push_back(b.getIndexAttr(matrix ? shape[i] : 1));
    }
    return s;
  };
  auto extract = [&](Value v, const Slice &s) -> Value {
    auto type = RankedTensorType::get(shapeOf(v).take_back(2), eltOf(v));
    return tensor::ExtractSliceOp::create(b, loc, type, v, s.offsets, s.sizes,
                                          s.strides);
  };
  Value iterAcc = loop.getRegionIterArgs()[0];
  Slice accSlice = sliceOf(outShape);
  Value sa = extract(a, sliceOf(shapeOf(a)));
  Value sc = extract(c, sliceOf(shapeOf(c)));
  Value sacc = extract(iterAcc, accSlice);
  Value product = contract(sa, sc, outShape.take_back(2), sacc);
  Value next =
      tensor::InsertSliceOp::create(b, loc, product, iterAcc, accSlice.offsets,
                                    accSlice.sizes, accSlice.strides);
  scf::YieldOp::create(b, loc, next);
  return loop.getResult(0);
}

Value Lowering::softmax(Value x, int64_t dim, bool log) {
  RankedTensorType t = tensorType(x);
  Value mx = reduce(x, {dim}, /*keepdim=*/true, Combine::Max);
  Value e = floatElementwise(
      t, {x, mx}, [&](OpBuilder &bb, Location l, ValueRange a) {
        return math::ExpOp::create(bb, l,
                                   arith::SubFOp::create(bb, l, a[0], a[1]))
            .getResult();
      });
  Value s = reduce(e, {dim}, /*keepdim=*/true, Combine::Sum);
  if (!log)
    return floatElementwise(
        t, {e, s}, [&](OpBuilder &bb, Location l, ValueRange a) {
          return arith::DivFOp::create(bb, l, a[0], a[1]).getResult();
        });
  // x - max - log(sum)
  return floatElementwise(
      t, {x, mx, s}, [&](OpBuilder &bb, Location l, ValueRange a) {
        Value c = arith::SubFOp::create(bb, l, a[0], a[1]);
        return arith::SubFOp::create(bb, l, c, math::LogOp::create(bb, l, a[2]))
            .getResult();
      });
}

Value Lowering::gatherLast(Value table, Value index, double outOfRange) {
  ArrayRef<int64_t> ts = shapeOf(table);
  int64_t classes = ts.back();
  Type elt = eltOf(table);
  return elementwise(
      shapeOf(index), elt, {index},
      [&](OpBuilder &bb, Location l, ValueRange a) {
        Value i = arith::IndexCastOp::create(bb, l, bb.getIndexType(), a[0]);
        SmallVector<Value> idx;
        for (size_t d = 0; d + 1 < ts.size(); ++d)
          idx.push_back(linalg::IndexOp::create(bb, l, d));
        Value zero = constantIn(bb, bb.getIndexType(), 0);
        Value hi = constantIn(bb, bb.getIndexType(), classes);
        Value inRange = arith::AndIOp::create(
            bb, l,
            arith::CmpIOp::create(bb, l, arith::CmpIPredicate::sge, i, zero),
            arith::CmpIOp::create(bb, l, arith::CmpIPredicate::slt, i, hi));
        Value safe = arith::SelectOp::create(bb, l, inRange, i, zero);
        idx.push_back(safe);
        Value v = tensor::ExtractOp::create(bb, l, table, idx);
        return arith::SelectOp::create(bb, l, inRange, v,
                                       constantIn(bb, elt, outOfRange))
            .getResult();
      });
}
//===----------------------------------------------------------------------===//
// Helpers shared by several families
//===----------------------------------------------------------------------===//

namespace graft::lowering {

SmallVector<OpFoldResult> indexAttrs(OpBuilder &b, ArrayRef<int64_t> v) {
  SmallVector<OpFoldResult> r;
  for (int64_t x : v)
    r.push_back(b.getIndexAttr(x));
  return r;
}

Value embed(Lowering &L, Value x, ArrayRef<int64_t> shape, double fill,
            ArrayRef<int64_t> offsets, ArrayRef<int64_t> strides) {
  if (shapeOf(x) == shape)
    return x;
  Value dest = L.filled(shape, eltOf(x), fill);
  return L.insertBox(x, dest, indexAttrs(L.b, offsets),
                     indexAttrs(L.b, strides));
}

Value extractBox(Lowering &L, Value x, ArrayRef<int64_t> offsets,
                 ArrayRef<int64_t> sizes) {
  if (shapeOf(x) == sizes)
    return x;
  SmallVector<int64_t> ones(sizes.size(), 1);
  return L.extractBox(RankedTensorType::get(sizes, eltOf(x)), x,
                      indexAttrs(L.b, offsets), indexAttrs(L.b, ones));
}

SmallVector<Value> generic(
    Lowering &L, ValueRange inputs, ValueRange inits, ArrayRef<AffineMap> maps,
    ArrayRef<IteratorType> iters,
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)> body) {
  SmallVector<Type> types;
  for (Value v : inits)
    types.push_back(v.getType());
  auto op = linalg::GenericOp::create(
      L.b, L.loc, types, inputs, inits, maps, iters,
      [&](OpBuilder &bb, Location l, ValueRange args) {
        linalg::YieldOp::create(bb, l, body(bb, l, args));
      });
  return SmallVector<Value>(op.getResults());
}

Value loopNest(
    Lowering &L, ArrayRef<int64_t> bounds, Value init,
    function_ref<Value(OpBuilder &, Location, ValueRange, Value)> body) {
  SmallVector<Value> ivs;
  std::function<Value(OpBuilder &, unsigned, Value)> build =
      [&](OpBuilder &b, unsigned depth, Value acc) -> Value {
    if (depth == bounds.size())
      return body(b, L.loc, ivs, acc);
    Value lb = arith::ConstantIndexOp::create(b, L.loc, 0);
    Value ub = arith::ConstantIndexOp::create(b, L.loc, bounds[depth]);
    Value one = arith::ConstantIndexOp::create(b, L.loc, 1);
    auto loop = scf::ForOp::create(
        b, L.loc, lb, ub, one, ValueRange{acc},
        [&](OpBuilder &bb, Location l, Value iv, ValueRange args) {
          ivs.push_back(iv);
          Value next = build(bb, depth + 1, args[0]);
          ivs.pop_back();
          scf::YieldOp::create(bb, l, next);
        });
    return loop.getResult(0);
  };
  return build(L.b, 0, init);
}

} // namespace graft::lowering
