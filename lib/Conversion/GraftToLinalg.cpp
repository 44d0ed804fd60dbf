//===- GraftToLinalg.cpp - graft ops to linalg/tensor/arith/math ----------===//
//
// Each graft op becomes target-neutral ops on tensors. The building blocks:
//
//   elementwise(): one linalg.generic over the result shape; operands are
//                  read through broadcasting maps (size-1 dims map to 0);
//   reduce():      one linalg.generic with reduction iterators;
//   contract():    a batched matrix product with broadcast batch dims.
//
// Composite ops are written with these; scatter-like backward ops use scf.for
// nests over tensors. Scalar math of bf16 runs in f32.
//
//===----------------------------------------------------------------------===//

#include "graft/Conversion/Passes.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;

namespace graft {
#define GEN_PASS_DEF_CONVERTGRAFTTOLINALG
#include "graft/Conversion/Passes.h.inc"
} // namespace graft

using namespace graft;
using utils::IteratorType;

namespace {

using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}
ArrayRef<int64_t> shapeOf(Value v) { return tensorType(v).getShape(); }
Type eltOf(Value v) { return tensorType(v).getElementType(); }

/// Builds lowered IR at one op's location.
class Lowering {
public:
  Lowering(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  //===--------------------------------------------------------------------===//
  // Scalars
  //===--------------------------------------------------------------------===//

  Value constant(Type t, double v) {
    if (auto ft = dyn_cast<FloatType>(t))
      return arith::ConstantOp::create(b, loc, t, b.getFloatAttr(ft, v));
    if (t.isIndex())
      return arith::ConstantIndexOp::create(b, loc, (int64_t)v);
    return arith::ConstantOp::create(b, loc, t,
                                     b.getIntegerAttr(t, (int64_t)v));
  }
  static Type computeType(Type t, MLIRContext *ctx) {
    return t.isBF16() ? Float32Type::get(ctx) : t;
  }
  /// Converts a scalar between element types (float, int, i1).
  Value convert(OpBuilder &bb, Value v, Type to) {
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
  Value constantIn(OpBuilder &bb, Type t, double v) {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
    return constant(t, v);
  }

  //===--------------------------------------------------------------------===//
  // Tensors
  //===--------------------------------------------------------------------===//

  Value empty(ArrayRef<int64_t> shape, Type elt) {
    return tensor::EmptyOp::create(b, loc, shape, elt);
  }
  Value filled(ArrayRef<int64_t> shape, Type elt, double v) {
    return linalg::FillOp::create(b, loc, ValueRange{constant(elt, v)},
                                  ValueRange{empty(shape, elt)})
        .getResult(0);
  }
  Value denseConstant(RankedTensorType t, ArrayRef<double> values) {
    SmallVector<Attribute> attrs;
    for (double v : values)
      attrs.push_back(isa<FloatType>(t.getElementType())
                          ? Attribute(b.getFloatAttr(t.getElementType(), v))
                          : Attribute(b.getIntegerAttr(t.getElementType(),
                                                       (int64_t)v)));
    return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(t, attrs));
  }

  /// The map reading an operand of `shape` at an iteration point of
  /// `rank` dims whose trailing dims line up with the operand's (NumPy
  /// broadcasting: a size-1 operand dim reads index 0).
  AffineMap broadcastMap(ArrayRef<int64_t> shape, ArrayRef<int64_t> iterShape) {
    SmallVector<AffineExpr> exprs;
    size_t lead = iterShape.size() - shape.size();
    for (auto [i, d] : llvm::enumerate(shape))
      exprs.push_back(d == 1 && iterShape[lead + i] != 1
                          ? b.getAffineConstantExpr(0)
                          : b.getAffineDimExpr(lead + i));
    return AffineMap::get(iterShape.size(), 0, exprs, b.getContext());
  }

  /// result[i] = body(operands[i]...) over `shape`, with broadcasting.
  Value elementwise(ArrayRef<int64_t> shape, Type resultElt, ValueRange operands,
                    BodyFn body) {
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

  /// Like elementwise(), with float math done in f32 for bf16.
  Value floatElementwise(RankedTensorType resultType, ValueRange operands,
                         BodyFn body) {
    Type elt = resultType.getElementType();
    Type ct = computeType(elt, b.getContext());
    return elementwise(resultType.getShape(), elt, operands,
                       [&](OpBuilder &bb, Location l, ValueRange args) {
                         SmallVector<Value> wide;
                         for (Value a : args)
                           wide.push_back(isa<FloatType>(a.getType())
                                              ? convert(bb, a, ct)
                                              : a);
                         return convert(bb, body(bb, l, wide), elt);
                       });
  }

  enum class Combine { Sum, Max };
  /// Reduces `input` over `dims` (all when empty); keepdim keeps size-1 dims.
  Value reduce(Value input, ArrayRef<int64_t> dims, bool keepdim,
               Combine kind) {
    ArrayRef<int64_t> in = shapeOf(input);
    Type elt = eltOf(input);
    SmallVector<int64_t> outShape;
    SmallVector<AffineExpr> outExprs;
    SmallVector<IteratorType> iters;
    for (auto [i, d] : llvm::enumerate(in)) {
      bool reduced = dims.empty() || llvm::is_contained(dims, (int64_t)i);
      iters.push_back(reduced ? IteratorType::reduction
                              : IteratorType::parallel);
      if (!reduced) {
        outShape.push_back(d);
        outExprs.push_back(b.getAffineDimExpr(i));
      }
    }
    double init = kind == Combine::Sum ? 0.0 : -INFINITY;
    Value acc = filled(outShape, elt, init);
    SmallVector<AffineMap> maps = {
        b.getMultiDimIdentityMap(in.size()),
        AffineMap::get(in.size(), 0, outExprs, b.getContext())};
    Value r = linalg::GenericOp::create(
                  b, loc, TypeRange{acc.getType()}, ValueRange{input},
                  ValueRange{acc}, maps, iters,
                  [&](OpBuilder &bb, Location l, ValueRange args) {
                    Value v =
                        kind == Combine::Sum
                            ? arith::AddFOp::create(bb, l, args[1], args[0])
                                  .getResult()
                            : arith::MaximumFOp::create(bb, l, args[1], args[0])
                                  .getResult();
                    linalg::YieldOp::create(bb, l, v);
                  })
                  .getResult(0);
    if (!keepdim)
      return r;
    SmallVector<int64_t> kept;
    for (auto [i, d] : llvm::enumerate(in))
      kept.push_back(dims.empty() || llvm::is_contained(dims, (int64_t)i) ? 1
                                                                          : d);
    return reshape(r, kept);
  }

  Value reshape(Value v, ArrayRef<int64_t> shape) {
    auto to = RankedTensorType::get(shape, eltOf(v));
    if (to == v.getType())
      return v;
    auto shapeType =
        RankedTensorType::get({(int64_t)shape.size()}, b.getI64Type());
    SmallVector<double> dims(shape.begin(), shape.end());
    return tensor::ReshapeOp::create(b, loc, to, v,
                                     denseConstant(shapeType, dims));
  }

  Value transpose(Value v, ArrayRef<int64_t> perm) {
    SmallVector<int64_t> shape;
    for (int64_t p : perm)
      shape.push_back(shapeOf(v)[p]);
    return linalg::TransposeOp::create(b, loc, v, empty(shape, eltOf(v)), perm)
        .getResult()[0];
  }

  /// Broadcasts `v` to `shape` (NumPy rules).
  Value broadcastTo(Value v, ArrayRef<int64_t> shape) {
    if (shapeOf(v) == shape)
      return v;
    return elementwise(shape, eltOf(v), {v},
                       [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  }

  /// Batched matrix product a [..., M, K] @ c [..., K, N] with broadcast
  /// batch dims; plain 2-D products are linalg.matmul.
  Value contract(Value a, Value c, ArrayRef<int64_t> outShape) {
    ArrayRef<int64_t> as = shapeOf(a), cs = shapeOf(c);
    Type elt = eltOf(a);
    Value acc = filled(outShape, elt, 0.0);
    if (as.size() == 2 && cs.size() == 2)
      return linalg::MatmulOp::create(b, loc, TypeRange{acc.getType()},
                                      ValueRange{a, c}, ValueRange{acc})
          .getResult(0);
    int64_t batch = outShape.size() - 2, dims = batch + 3;
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
    AffineExpr m = getAffineDimExpr(batch, ctx), n = getAffineDimExpr(batch + 1, ctx),
               k = getAffineDimExpr(batch + 2, ctx);
    SmallVector<AffineExpr> outE;
    for (int64_t i = 0; i < batch + 2; ++i)
      outE.push_back(getAffineDimExpr(i, ctx));
    SmallVector<AffineMap> maps = {operandMap(as, m, k), operandMap(cs, k, n),
                                   AffineMap::get(dims, 0, outE, ctx)};
    SmallVector<IteratorType> iters(batch + 2, IteratorType::parallel);
    iters.push_back(IteratorType::reduction);
    return linalg::GenericOp::create(
               b, loc, TypeRange{acc.getType()}, ValueRange{a, c},
               ValueRange{acc}, maps, iters,
               [&](OpBuilder &bb, Location l, ValueRange args) {
                 Value p = arith::MulFOp::create(bb, l, args[0], args[1]);
                 linalg::YieldOp::create(
                     bb, l, arith::AddFOp::create(bb, l, args[2], p).getResult());
               })
        .getResult(0);
  }

  /// Softmax (or log-softmax) along `dim`, max-subtracted.
  Value softmax(Value x, int64_t dim, bool log) {
    RankedTensorType t = tensorType(x);
    Value mx = reduce(x, {dim}, /*keepdim=*/true, Combine::Max);
    Value e = floatElementwise(t, {x, mx}, [&](OpBuilder &bb, Location l,
                                               ValueRange a) {
      return math::ExpOp::create(bb, l, arith::SubFOp::create(bb, l, a[0], a[1]))
          .getResult();
    });
    Value s = reduce(e, {dim}, /*keepdim=*/true, Combine::Sum);
    if (!log)
      return floatElementwise(t, {e, s}, [&](OpBuilder &bb, Location l,
                                             ValueRange a) {
        return arith::DivFOp::create(bb, l, a[0], a[1]).getResult();
      });
    // x - max - log(sum)
    return floatElementwise(t, {x, mx, s}, [&](OpBuilder &bb, Location l,
                                               ValueRange a) {
      Value c = arith::SubFOp::create(bb, l, a[0], a[1]);
      return arith::SubFOp::create(bb, l, c, math::LogOp::create(bb, l, a[2]))
          .getResult();
    });
  }

  /// Reads `table` at the integer `index` along its last dim: out[..., ] =
  /// table[..., index[...]], for index tensors shaped like table minus its
  /// last dim. Out-of-range indices read 0 (the C API rejects them first).
  Value gatherLast(Value table, Value index) {
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
                                         constantIn(bb, elt, 0))
              .getResult();
        });
  }

  OpBuilder &b;
  Location loc;
};

//===----------------------------------------------------------------------===//
// Scalar formulas of elementwise ops
//===----------------------------------------------------------------------===//

Value sigmoidScalar(OpBuilder &b, Location l, Value x) {
  Type t = x.getType();
  Value one = arith::ConstantOp::create(b, l, t, b.getFloatAttr(t, 1.0));
  Value e = math::ExpOp::create(b, l, arith::NegFOp::create(b, l, x));
  return arith::DivFOp::create(b, l, one, arith::AddFOp::create(b, l, one, e));
}

Value geluScalar(OpBuilder &b, Location l, Value x, bool tanhApprox) {
  Type t = x.getType();
  auto c = [&](double v) -> Value {
    return arith::ConstantOp::create(b, l, t, b.getFloatAttr(t, v));
  };
  Value inner;
  if (tanhApprox) {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    Value x3 = arith::MulFOp::create(b, l, x, arith::MulFOp::create(b, l, x, x));
    Value u = arith::AddFOp::create(b, l, x, arith::MulFOp::create(b, l, x3, c(0.044715)));
    inner = math::TanhOp::create(
        b, l, arith::MulFOp::create(b, l, u, c(std::sqrt(2.0 / M_PI))));
  } else {
    inner = math::ErfOp::create(b, l, arith::MulFOp::create(b, l, x, c(M_SQRT1_2)));
  }
  Value half = arith::MulFOp::create(b, l, x, c(0.5));
  return arith::MulFOp::create(b, l, half, arith::AddFOp::create(b, l, c(1.0), inner));
}

/// The scalar body of a unary graft op, or null.
Value unaryScalar(Operation *op, OpBuilder &b, Location l, Value x) {
  Type t = x.getType();
  auto c = [&](double v) -> Value {
    return arith::ConstantOp::create(b, l, t, b.getFloatAttr(t, v));
  };
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case<NegOp>([&](auto) { return arith::NegFOp::create(b, l, x); })
      .Case<ExpOp, ExpInPlaceOp>([&](auto) { return math::ExpOp::create(b, l, x); })
      .Case<LogOp>([&](auto) { return math::LogOp::create(b, l, x); })
      .Case<SqrtOp>([&](auto) { return math::SqrtOp::create(b, l, x); })
      .Case<RsqrtOp>([&](auto) { return math::RsqrtOp::create(b, l, x); })
      .Case<AbsOp>([&](auto) { return math::AbsFOp::create(b, l, x); })
      .Case<ErfOp>([&](auto) { return math::ErfOp::create(b, l, x); })
      .Case<TanhOp, TanhInPlaceOp>([&](auto) { return math::TanhOp::create(b, l, x); })
      .Case<ReluOp, ReluInPlaceOp>(
          [&](auto) { return arith::MaximumFOp::create(b, l, x, c(0.0)); })
      .Case<SigmoidOp, SigmoidInPlaceOp>(
          [&](auto) { return sigmoidScalar(b, l, x); })
      .Case<SiluOp>([&](auto) {
        return arith::MulFOp::create(b, l, x, sigmoidScalar(b, l, x));
      })
      .Case<GeluOp>([&](GeluOp g) {
        return geluScalar(b, l, x,
                          g.getApproximate() == GeluApproximation::tanh);
      })
      .Case<ZeroInPlaceOp>([&](auto) { return c(0.0); })
      .Default([](Operation *) { return Value(); });
}

/// The scalar body of a binary arithmetic graft op (or its in-place twin).
Value binaryScalar(Operation *op, OpBuilder &b, Location l, Value x, Value y) {
  bool isFloat = isa<FloatType>(x.getType());
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case<AddOp, AddInPlaceOp>([&](auto) -> Value {
        return isFloat ? arith::AddFOp::create(b, l, x, y).getResult()
                       : arith::AddIOp::create(b, l, x, y).getResult();
      })
      .Case<SubOp, SubInPlaceOp>([&](auto) -> Value {
        return isFloat ? arith::SubFOp::create(b, l, x, y).getResult()
                       : arith::SubIOp::create(b, l, x, y).getResult();
      })
      .Case<MulOp, MulInPlaceOp>([&](auto) -> Value {
        return isFloat ? arith::MulFOp::create(b, l, x, y).getResult()
                       : arith::MulIOp::create(b, l, x, y).getResult();
      })
      .Case<DivOp, DivInPlaceOp>(
          [&](auto) { return arith::DivFOp::create(b, l, x, y); })
      .Case<PowOp>([&](auto) { return math::PowFOp::create(b, l, x, y); })
      .Case<MaximumOp>([&](auto) { return arith::MaximumFOp::create(b, l, x, y); })
      .Case<MinimumOp>([&](auto) { return arith::MinimumFOp::create(b, l, x, y); })
      .Default([](Operation *) { return Value(); });
}

//===----------------------------------------------------------------------===//
// Ops that need more than one generic
//===----------------------------------------------------------------------===//

/// The function argument that carries the step's random seed.
Value findSeed(Operation *op) {
  auto fn = op->getParentOfType<func::FuncOp>();
  if (!fn)
    return {};
  for (BlockArgument a : fn.getArguments())
    if (auto role = fn.getArgAttrOfType<StringAttr>(a.getArgNumber(), "graft.role");
        role && role.getValue() == "seed")
      return a;
  return {};
}

/// splitmix64's finaliser on i64 values (the evaluator's mix64).
Value mix64(OpBuilder &b, Location l, Value z) {
  auto c = [&](uint64_t v) -> Value {
    return arith::ConstantOp::create(b, l, b.getI64Type(),
                                     b.getI64IntegerAttr((int64_t)v));
  };
  auto xorShift = [&](Value v, uint64_t s) -> Value {
    return arith::XOrIOp::create(b, l, v, arith::ShRUIOp::create(b, l, v, c(s)));
  };
  z = arith::AddIOp::create(b, l, z, c(0x9e3779b97f4a7c15ULL));
  z = arith::MulIOp::create(b, l, xorShift(z, 30), c(0xbf58476d1ce4e5b9ULL));
  z = arith::MulIOp::create(b, l, xorShift(z, 27), c(0x94d049bb133111ebULL));
  return xorShift(z, 31);
}

FailureOr<Value> lowerDropout(DropoutOp op, Lowering &L) {
  double p = op.getP().convertToDouble();
  RankedTensorType t = op.getType();
  if (p == 0)
    return op.getInput();
  if (p == 1)
    return L.filled(t.getShape(), t.getElementType(), 0.0);
  Value seed = findSeed(op);
  if (!seed)
    return op.emitError("dropout outside a train-mode function has no seed");
  Value seedScalar = tensor::ExtractOp::create(L.b, L.loc, seed, ValueRange{});
  // Keep an element when its uniform draw is >= p: (bits >> 11) >= ceil(p 2^53).
  uint64_t threshold = (uint64_t)std::ceil(p * 9007199254740992.0);
  double scale = 1.0 / (1.0 - p);
  ArrayRef<int64_t> shape = t.getShape();
  return L.floatElementwise(t, {op.getInput()}, [&](OpBuilder &bb, Location l,
                                                    ValueRange a) {
    // Row-major linear index of the element.
    Value linear = arith::ConstantIndexOp::create(bb, l, 0);
    for (size_t d = 0; d < shape.size(); ++d) {
      Value i = linalg::IndexOp::create(bb, l, d);
      linear = arith::AddIOp::create(
          bb, l,
          arith::MulIOp::create(bb, l, linear,
                                arith::ConstantIndexOp::create(bb, l, shape[d])),
          i);
    }
    Value idx = arith::IndexCastOp::create(bb, l, bb.getI64Type(), linear);
    Value stream = arith::ConstantOp::create(
        bb, l, bb.getI64Type(), bb.getI64IntegerAttr(op.getStream()));
    // mix64(mix64(mix64(seed) ^ stream) ^ index), as the evaluator draws it.
    Value s1 = arith::XOrIOp::create(bb, l, mix64(bb, l, seedScalar), stream);
    Value s2 = arith::XOrIOp::create(bb, l, mix64(bb, l, s1), idx);
    Value bits = arith::ShRUIOp::create(
        bb, l, mix64(bb, l, s2),
        arith::ConstantOp::create(bb, l, bb.getI64Type(), bb.getI64IntegerAttr(11)));
    Value keep = arith::CmpIOp::create(
        bb, l, arith::CmpIPredicate::uge, bits,
        arith::ConstantOp::create(bb, l, bb.getI64Type(),
                                  bb.getI64IntegerAttr((int64_t)threshold)));
    Type ft = a[0].getType();
    Value scaled = arith::MulFOp::create(
        bb, l, a[0], arith::ConstantOp::create(bb, l, ft, bb.getFloatAttr(ft, scale)));
    return arith::SelectOp::create(
               bb, l, keep, scaled,
               arith::ConstantOp::create(bb, l, ft, bb.getFloatAttr(ft, 0.0)))
        .getResult();
  });
}

/// cross_entropy / nll_loss with class-index targets.
Value lowerClassLoss(Lowering &L, Value input, Value target, int64_t ignore,
                     double smoothing, Reduction reduction, bool fromLogits,
                     RankedTensorType resultType) {
  ArrayRef<int64_t> xs = shapeOf(input);
  int64_t rank = xs.size(), classDim = rank == 1 ? 0 : 1, classes = xs[classDim];
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
  Value picked = L.gatherLast(logp, target); // target-shaped
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
  return L.floatElementwise(resultType, {total, count},
                            [&](OpBuilder &bb, Location l, ValueRange a) {
                              return arith::DivFOp::create(bb, l, a[0], a[1])
                                  .getResult();
                            });
}

//===----------------------------------------------------------------------===//
// The dispatcher
//===----------------------------------------------------------------------===//

FailureOr<Value> lowerOp(Operation *op, Lowering &L) {
  auto resultType = [&]() { return cast<RankedTensorType>(op->getResult(0).getType()); };

  // Elementwise arithmetic with broadcasting, out-of-place and in-place.
  if (isa<AddOp, SubOp, MulOp, DivOp, PowOp, MaximumOp, MinimumOp, AddInPlaceOp,
          SubInPlaceOp, MulInPlaceOp, DivInPlaceOp>(op))
    return L.floatElementwise(resultType(), op->getOperands(),
                              [&](OpBuilder &b, Location l, ValueRange a) {
                                return binaryScalar(op, b, l, a[0], a[1]);
                              });
  if (isa<NegOp, ExpOp, LogOp, SqrtOp, RsqrtOp, AbsOp, ErfOp, TanhOp, ReluOp,
          SigmoidOp, SiluOp, GeluOp, ReluInPlaceOp, ExpInPlaceOp,
          SigmoidInPlaceOp, TanhInPlaceOp, ZeroInPlaceOp>(op))
    return L.floatElementwise(resultType(), {op->getOperand(0)},
                              [&](OpBuilder &b, Location l, ValueRange a) {
                                return unaryScalar(op, b, l, a[0]);
                              });

  return llvm::TypeSwitch<Operation *, FailureOr<Value>>(op)
      .Case([&](ConstantOp c) -> FailureOr<Value> {
        return arith::ConstantOp::create(L.b, L.loc, cast<TypedAttr>(c.getValue()))
            .getResult();
      })
      .Case<DetachOp, CloneOp, GradHookOp>(
          [&](auto o) -> FailureOr<Value> { return o->getOperand(0); })
      .Case([&](HookCallOp o) -> FailureOr<Value> {
        // No callback mechanism in this lowering: gradients pass through.
        return o.getGrad();
      })
      .Case([&](CompareOp o) -> FailureOr<Value> {
        bool isFloat = isa<FloatType>(eltOf(o.getLhs()));
        ComparePredicate p = o.getPredicate();
        return L.elementwise(
            resultType().getShape(), L.b.getI1Type(), {o.getLhs(), o.getRhs()},
            [&](OpBuilder &b, Location l, ValueRange a) -> Value {
              if (isFloat) {
                arith::CmpFPredicate fp[] = {
                    arith::CmpFPredicate::OEQ, arith::CmpFPredicate::UNE,
                    arith::CmpFPredicate::OLT, arith::CmpFPredicate::OLE,
                    arith::CmpFPredicate::OGT, arith::CmpFPredicate::OGE};
                return arith::CmpFOp::create(b, l, fp[(int)p], a[0], a[1]);
              }
              arith::CmpIPredicate ip[] = {
                  arith::CmpIPredicate::eq,  arith::CmpIPredicate::ne,
                  arith::CmpIPredicate::slt, arith::CmpIPredicate::sle,
                  arith::CmpIPredicate::sgt, arith::CmpIPredicate::sge};
              return arith::CmpIOp::create(b, l, ip[(int)p], a[0], a[1]);
            });
      })
      .Case([&](WhereOp o) -> FailureOr<Value> {
        return L.elementwise(resultType().getShape(), resultType().getElementType(),
                             o->getOperands(),
                             [](OpBuilder &b, Location l, ValueRange a) {
                               return arith::SelectOp::create(b, l, a[0], a[1], a[2])
                                   .getResult();
                             });
      })
      .Case<MaskedFillOp, MaskedFillInPlaceOp>([&](auto o) -> FailureOr<Value> {
        Type elt = resultType().getElementType();
        double v = o.getValue().convertToDouble();
        return L.elementwise(resultType().getShape(), elt,
                             {o->getOperand(0), o->getOperand(1)},
                             [&](OpBuilder &b, Location l, ValueRange a) {
                               Value c = arith::ConstantOp::create(
                                   b, l, elt, b.getFloatAttr(elt, v));
                               return arith::SelectOp::create(b, l, a[1], c, a[0])
                                   .getResult();
                             });
      })
      .Case([&](CastOp o) -> FailureOr<Value> {
        Type to = resultType().getElementType();
        return L.elementwise(resultType().getShape(), to, {o.getInput()},
                             [&](OpBuilder &b, Location, ValueRange a) {
                               return L.convert(b, a[0], to);
                             });
      })
      .Case([&](OneHotOp o) -> FailureOr<Value> {
        Type elt = resultType().getElementType();
        ArrayRef<int64_t> rs = resultType().getShape();
        int64_t last = rs.size() - 1;
        Value t = o.getTarget();
        SmallVector<AffineMap> maps = {
            AffineMap::getMultiDimIdentityMap(rs.size(), L.b.getContext())
                .getMajorSubMap(last),
            L.b.getMultiDimIdentityMap(rs.size())};
        SmallVector<IteratorType> iters(rs.size(), IteratorType::parallel);
        return linalg::GenericOp::create(
                   L.b, L.loc, TypeRange{resultType()}, ValueRange{t},
                   ValueRange{L.empty(rs, elt)}, maps, iters,
                   [&](OpBuilder &b, Location l, ValueRange a) {
                     Value c = arith::IndexCastOp::create(
                         b, l, a[0].getType(), linalg::IndexOp::create(b, l, last));
                     Value eq = arith::CmpIOp::create(
                         b, l, arith::CmpIPredicate::eq, a[0], c);
                     linalg::YieldOp::create(b, l, L.convert(b, eq, elt));
                   })
            .getResult(0);
      })
      .Case<SumOp, MeanOp, MaxOp>([&](auto o) -> FailureOr<Value> {
        bool isMax = isa<MaxOp>(op);
        Value r = L.reduce(o.getInput(), o.getDims(), o.getKeepdim(),
                           isMax ? Lowering::Combine::Max : Lowering::Combine::Sum);
        if (!isa<MeanOp>(op))
          return r;
        ArrayRef<int64_t> in = shapeOf(o.getInput());
        int64_t n = 1;
        for (auto [i, d] : llvm::enumerate(in))
          if (o.getDims().empty() || llvm::is_contained(o.getDims(), (int64_t)i))
            n *= d;
        return L.floatElementwise(resultType(), {r},
                                  [&](OpBuilder &b, Location l, ValueRange a) {
                                    Type t = a[0].getType();
                                    return arith::DivFOp::create(
                                               b, l, a[0],
                                               arith::ConstantOp::create(
                                                   b, l, t, b.getFloatAttr(t, (double)n)))
                                        .getResult();
                                  });
      })
      .Case([&](ArgmaxOp o) -> FailureOr<Value> {
        // One pass keeping (max, index); the first maximum wins.
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
        AffineMap outMap = AffineMap::get(in.size(), 0, outE, L.b.getContext());
        auto generic = linalg::GenericOp::create(
            L.b, L.loc, TypeRange{maxInit.getType(), idxInit.getType()},
            ValueRange{x}, ValueRange{maxInit, idxInit},
            {L.b.getMultiDimIdentityMap(in.size()), outMap, outMap}, iters,
            [&](OpBuilder &b, Location l, ValueRange a) {
              Value i = arith::IndexCastOp::create(b, l, i64,
                                                   linalg::IndexOp::create(b, l, dim));
              Value better = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT,
                                                   a[0], a[1]);
              linalg::YieldOp::create(
                  b, l,
                  ValueRange{arith::SelectOp::create(b, l, better, a[0], a[1]),
                             arith::SelectOp::create(b, l, better, i, a[2])});
            });
        Value r = generic.getResult(1);
        return L.reshape(r, resultType().getShape());
      })
      .Case([&](MatmulOp o) -> FailureOr<Value> {
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
        return L.reshape(L.contract(a, c, out), resultType().getShape());
      })
      .Case([&](LinearOp o) -> FailureOr<Value> {
        Value x = o.getInput(), w = o.getWeight();
        ArrayRef<int64_t> ws = shapeOf(w);
        int64_t rows = tensorType(x).getNumElements() / ws[1];
        Value x2 = L.reshape(x, {rows, ws[1]});
        Type elt = eltOf(x);
        // Start from the broadcast bias (or zero), then accumulate x @ w^T.
        Value init = o.getBias() ? L.broadcastTo(o.getBias(), {rows, ws[0]})
                                 : L.filled({rows, ws[0]}, elt, 0.0);
        MLIRContext *ctx = L.b.getContext();
        AffineExpr p = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
                   k = getAffineDimExpr(2, ctx);
        SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {p, k}, ctx),
                                       AffineMap::get(3, 0, {n, k}, ctx),
                                       AffineMap::get(3, 0, {p, n}, ctx)};
        Value y = linalg::GenericOp::create(
                      L.b, L.loc, TypeRange{init.getType()}, ValueRange{x2, w},
                      ValueRange{init}, maps,
                      {IteratorType::parallel, IteratorType::parallel,
                       IteratorType::reduction},
                      [&](OpBuilder &b, Location l, ValueRange a) {
                        Value m = arith::MulFOp::create(b, l, a[0], a[1]);
                        linalg::YieldOp::create(
                            b, l, arith::AddFOp::create(b, l, a[2], m).getResult());
                      })
                      .getResult(0);
        return L.reshape(y, resultType().getShape());
      })
      .Case([&](ReshapeOp o) -> FailureOr<Value> {
        return L.reshape(o.getInput(), resultType().getShape());
      })
      .Case([&](TransposeOp o) -> FailureOr<Value> {
        SmallVector<int64_t> perm;
        for (int64_t i = 0; i < tensorType(o.getInput()).getRank(); ++i)
          perm.push_back(i);
        std::swap(perm[o.getDim0()], perm[o.getDim1()]);
        return L.transpose(o.getInput(), perm);
      })
      .Case([&](PermuteOp o) -> FailureOr<Value> {
        return L.transpose(o.getInput(), o.getDims());
      })
      .Case([&](BroadcastToOp o) -> FailureOr<Value> {
        return L.broadcastTo(o.getInput(), resultType().getShape());
      })
      .Case([&](SliceOp o) -> FailureOr<Value> {
        int64_t rank = tensorType(o.getInput()).getRank();
        SmallVector<OpFoldResult> offsets(rank, L.b.getIndexAttr(0)),
            strides(rank, L.b.getIndexAttr(1)), sizes;
        for (int64_t d : resultType().getShape())
          sizes.push_back(L.b.getIndexAttr(d));
        offsets[o.getDim()] = L.b.getIndexAttr(o.getStart());
        strides[o.getDim()] = L.b.getIndexAttr(o.getStep());
        return tensor::ExtractSliceOp::create(L.b, L.loc, resultType(),
                                              o.getInput(), offsets, sizes,
                                              strides)
            .getResult();
      })
      .Case([&](SliceBackwardOp o) -> FailureOr<Value> {
        RankedTensorType rt = resultType();
        Value zeros = L.filled(rt.getShape(), rt.getElementType(), 0.0);
        int64_t rank = rt.getRank();
        SmallVector<OpFoldResult> offsets(rank, L.b.getIndexAttr(0)),
            strides(rank, L.b.getIndexAttr(1)), sizes;
        for (int64_t d : shapeOf(o.getGrad()))
          sizes.push_back(L.b.getIndexAttr(d));
        offsets[o.getDim()] = L.b.getIndexAttr(o.getStart());
        strides[o.getDim()] = L.b.getIndexAttr(o.getStep());
        return tensor::InsertSliceOp::create(L.b, L.loc, o.getGrad(), zeros,
                                             offsets, sizes, strides)
            .getResult();
      })
      .Case([&](ConcatOp o) -> FailureOr<Value> {
        RankedTensorType rt = resultType();
        Value acc = L.empty(rt.getShape(), rt.getElementType());
        int64_t offset = 0, rank = rt.getRank();
        for (Value in : o.getInputs()) {
          SmallVector<OpFoldResult> offsets(rank, L.b.getIndexAttr(0)),
              strides(rank, L.b.getIndexAttr(1)), sizes;
          for (int64_t d : shapeOf(in))
            sizes.push_back(L.b.getIndexAttr(d));
          offsets[o.getDim()] = L.b.getIndexAttr(offset);
          acc = tensor::InsertSliceOp::create(L.b, L.loc, in, acc, offsets,
                                              sizes, strides);
          offset += shapeOf(in)[o.getDim()];
        }
        return acc;
      })
      .Case([&](SoftmaxOp o) -> FailureOr<Value> {
        return L.softmax(o.getInput(), o.getDim(), /*log=*/false);
      })
      .Case([&](LogSoftmaxOp o) -> FailureOr<Value> {
        return L.softmax(o.getInput(), o.getDim(), /*log=*/true);
      })
      .Case([&](DropoutOp o) { return lowerDropout(o, L); })
      .Case([&](CrossEntropyOp o) -> FailureOr<Value> {
        return lowerClassLoss(L, o.getInput(), o.getTarget(), o.getIgnoreIndex(),
                              o.getLabelSmoothing().convertToDouble(),
                              o.getReduction(), /*fromLogits=*/true,
                              resultType());
      })
      .Case([&](NllLossOp o) -> FailureOr<Value> {
        return lowerClassLoss(L, o.getInput(), o.getTarget(), o.getIgnoreIndex(),
                              0.0, o.getReduction(), /*fromLogits=*/false,
                              resultType());
      })
      .Case([&](MseLossOp o) -> FailureOr<Value> {
        RankedTensorType it = tensorType(o.getInput());
        Value sq = L.floatElementwise(
            it, {o.getInput(), o.getTarget()},
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
        return L.floatElementwise(resultType(), {s},
                                  [&](OpBuilder &b, Location l, ValueRange a) {
                                    Type t = a[0].getType();
                                    return arith::DivFOp::create(
                                               b, l, a[0],
                                               arith::ConstantOp::create(
                                                   b, l, t, b.getFloatAttr(t, n)))
                                        .getResult();
                                  });
      })
      .Case([&](EmbeddingOp o) -> FailureOr<Value> {
        // out[i..., d] = weight[indices[i...], d]
        ArrayRef<int64_t> rs = resultType().getShape();
        Value w = o.getWeight();
        int64_t rows = shapeOf(w)[0];
        Type elt = resultType().getElementType();
        SmallVector<AffineMap> maps = {
            AffineMap::getMultiDimIdentityMap(rs.size(), L.b.getContext())
                .getMajorSubMap(rs.size() - 1),
            L.b.getMultiDimIdentityMap(rs.size())};
        SmallVector<IteratorType> iters(rs.size(), IteratorType::parallel);
        return linalg::GenericOp::create(
                   L.b, L.loc, TypeRange{resultType()}, ValueRange{o.getIndices()},
                   ValueRange{L.empty(rs, elt)}, maps, iters,
                   [&](OpBuilder &b, Location l, ValueRange a) {
                     Value i = arith::IndexCastOp::create(b, l, b.getIndexType(), a[0]);
                     Value zero = arith::ConstantIndexOp::create(b, l, 0);
                     Value hi = arith::ConstantIndexOp::create(b, l, rows);
                     Value ok = arith::AndIOp::create(
                         b, l,
                         arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, i, zero),
                         arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, hi));
                     Value safe = arith::SelectOp::create(b, l, ok, i, zero);
                     Value d = linalg::IndexOp::create(b, l, rs.size() - 1);
                     Value v = tensor::ExtractOp::create(b, l, w, ValueRange{safe, d});
                     linalg::YieldOp::create(
                         b, l,
                         arith::SelectOp::create(
                             b, l, ok, v,
                             arith::ConstantOp::create(b, l, elt, b.getFloatAttr(elt, 0.0)))
                             .getResult());
                   })
            .getResult(0);
      })
      .Default([&](Operation *) -> FailureOr<Value> {
        return op->emitError("'")
               << op->getName()
               << "' is not supported by the CPU code generator yet";
      });
}

struct ConvertGraftToLinalgPass
    : graft::impl::ConvertGraftToLinalgBase<ConvertGraftToLinalgPass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    // Grad modes only matter to autograd: inline no_grad/inference regions.
    SmallVector<Operation *> regions;
    fn.walk([&](Operation *op) {
      if (isa<NoGradOp, InferenceOp>(op))
        regions.push_back(op);
    });
    for (Operation *op : llvm::reverse(regions)) {
      Block &body = op->getRegion(0).front();
      auto yield = cast<YieldOp>(body.getTerminator());
      op->replaceAllUsesWith(yield.getValues());
      yield->erase();
      op->getBlock()->getOperations().splice(op->getIterator(),
                                             body.getOperations());
      op->erase();
    }
    SmallVector<Operation *> ops;
    fn.walk([&](Operation *op) {
      if (isa<GraftDialect>(op->getDialect()))
        ops.push_back(op);
    });
    OpBuilder b(fn.getContext());
    for (Operation *op : ops) {
      b.setInsertionPoint(op);
      Lowering L(b, op->getLoc());
      FailureOr<Value> r = lowerOp(op, L);
      if (failed(r))
        return signalPassFailure();
      op->getResult(0).replaceAllUsesWith(*r);
      op->erase();
    }
  }
};
} // namespace
