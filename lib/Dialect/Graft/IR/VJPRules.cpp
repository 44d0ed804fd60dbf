//===- VJPRules.cpp - The backward rule of every recorded op --------------===//
//
// Each op that autograd records says what it saves for backward and how to
// build its vector-Jacobian product (AutogradOpInterface). The rules follow
// PyTorch's derivatives.yaml, written with graft ops so that the backward
// graph is lowered by the same pipeline as the forward one.
//
// Convention: `g` is dL/d(result); every rule returns dL/d(operand) with the
// operand's exact type (broadcast operands are summed back to their shape).
//
//===----------------------------------------------------------------------===//

#include "graft/Dialect/Graft/IR/GraftOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <numeric>

using namespace mlir;
using namespace graft;

namespace {
/// Builds graft ops for gradient formulas at one location.
class GradBuilder {
public:
  GradBuilder(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  static RankedTensorType type(Value v) {
    return cast<RankedTensorType>(v.getType());
  }
  static ArrayRef<int64_t> shape(Value v) { return type(v).getShape(); }
  static Type elt(Value v) { return type(v).getElementType(); }

  /// A 0-d constant of `eltType`.
  Value scalar(double x, Type eltType) {
    auto t = RankedTensorType::get({}, eltType);
    Attribute a = isa<FloatType>(eltType)
                      ? Attribute(FloatAttr::get(eltType, x))
                      : Attribute(IntegerAttr::get(eltType, (int64_t)x));
    return ConstantOp::create(b, loc, DenseElementsAttr::get(t, {a}));
  }
  /// A 0-d constant of the element type of `like`.
  Value scalarLike(double x, Value like) { return scalar(x, elt(like)); }
  Value zerosLike(Value v) {
    return broadcastTo(scalarLike(0, v), shape(v));
  }

  Value add(Value x, Value y) { return AddOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return SubOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return MulOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return DivOp::create(b, loc, x, y); }
  Value mul(Value x, double c) { return mul(x, scalarLike(c, x)); }
  Value neg(Value x) { return NegOp::create(b, loc, x); }
  Value exp(Value x) { return ExpOp::create(b, loc, x); }
  Value log(Value x) { return LogOp::create(b, loc, x); }
  Value log1p(Value x) { return Log1pOp::create(b, loc, x); }
  Value sin(Value x) { return SinOp::create(b, loc, x); }
  Value cos(Value x) { return CosOp::create(b, loc, x); }
  Value erf(Value x) { return ErfOp::create(b, loc, x); }
  Value tanh(Value x) { return TanhOp::create(b, loc, x); }
  Value sigmoid(Value x) { return SigmoidOp::create(b, loc, x); }
  Value rsqrt(Value x) { return RsqrtOp::create(b, loc, x); }
  Value pow(Value x, Value y) { return PowOp::create(b, loc, x, y); }
  Value softmax(Value x, int64_t dim) {
    return SoftmaxOp::create(b, loc, x.getType(), x, dim);
  }
  Value cmp(ComparePredicate p, Value x, Value y) {
    return CompareOp::create(b, loc, p, x, y);
  }
  Value where(Value c, Value x, Value y) {
    return WhereOp::create(b, loc, c, x, y);
  }
  /// A mask as 0/1 in the element type of `like`.
  Value toFloat(Value mask, Value like) { return castTo(mask, elt(like)); }
  Value castTo(Value v, Type eltType) {
    auto t = RankedTensorType::get(shape(v), eltType);
    if (t == v.getType())
      return v;
    return CastOp::create(b, loc, t, v);
  }
  Value reshape(Value v, ArrayRef<int64_t> s) {
    auto t = RankedTensorType::get(s, elt(v));
    if (t == v.getType())
      return v;
    return ReshapeOp::create(b, loc, t, v);
  }
  Value broadcastTo(Value v, ArrayRef<int64_t> s) {
    auto t = RankedTensorType::get(s, elt(v));
    if (t == v.getType())
      return v;
    return BroadcastToOp::create(b, loc, t, v);
  }
  Value transpose(Value v, int64_t d0, int64_t d1) {
    return TransposeOp::create(b, loc, v, d0, d1);
  }
  /// Swaps the last two dimensions.
  Value mT(Value v) {
    int64_t r = shape(v).size();
    return transpose(v, r - 2, r - 1);
  }
  Value matmul(Value x, Value y) { return MatmulOp::create(b, loc, x, y); }
  Value sum(Value v, ArrayRef<int64_t> dims, bool keepdim) {
    return SumOp::create(b, loc, v, dims, keepdim);
  }
  Value mean(Value v, ArrayRef<int64_t> dims, bool keepdim) {
    return MeanOp::create(b, loc, v, dims, keepdim);
  }

  /// Sums a broadcast gradient back to `target` (PyTorch's sum_to_size).
  Value sumTo(Value g, ArrayRef<int64_t> target) {
    ArrayRef<int64_t> gs = shape(g);
    if (gs == target)
      return g;
    size_t lead = gs.size() - target.size();
    SmallVector<int64_t> dims;
    for (size_t i = 0; i < gs.size(); ++i)
      if (i < lead || (target[i - lead] == 1 && gs[i] != 1))
        dims.push_back(i);
    Value s = dims.empty() ? g : sum(g, dims, /*keepdim=*/false);
    return reshape(s, target);
  }
  Value sumTo(Value g, Value like) { return sumTo(g, shape(like)); }

  /// Re-inserts reduced dimensions as size 1 (undoes keepdim = false).
  Value keepDims(Value g, ArrayRef<int64_t> inShape, ArrayRef<int64_t> dims,
                 bool keepdim) {
    if (keepdim)
      return g;
    SmallVector<int64_t> s;
    for (auto [i, d] : llvm::enumerate(inShape))
      s.push_back(dims.empty() || llvm::is_contained(dims, (int64_t)i) ? 1 : d);
    return reshape(g, s);
  }

  OpBuilder &b;
  Location loc;
};

/// The gradient of the single result; null means no gradient flows.
Value grad0(ValueRange resultGrads) { return resultGrads[0]; }

SmallVector<Value> savedIf(std::initializer_list<std::pair<bool, Value>> s) {
  SmallVector<Value> out;
  for (auto [cond, v] : s)
    if (cond && !llvm::is_contained(out, v))
      out.push_back(v);
  return out;
}

int64_t product(ArrayRef<int64_t> s) {
  return std::accumulate(s.begin(), s.end(), int64_t(1),
                         std::multiplies<int64_t>());
}

/// Number of elements reduced by `dims` (all when empty).
int64_t reducedCount(ArrayRef<int64_t> shape, ArrayRef<int64_t> dims) {
  if (dims.empty())
    return product(shape);
  int64_t n = 1;
  for (int64_t d : dims)
    n *= shape[d];
  return n;
}
} // namespace

//===----------------------------------------------------------------------===//
// Elementwise binary ops (broadcasting)
//===----------------------------------------------------------------------===//

namespace {
enum class Arith { Add, Sub, Mul, Div };

/// What a + c, a - c, a * c and a / c save (their in-place twins, whose self
/// is `a`, save the same: PyTorch keeps the original self as a copy).
SmallVector<Value> arithSaved(Arith k, Value a, Value c, ArrayRef<bool> need) {
  switch (k) {
  case Arith::Add:
  case Arith::Sub:
    return {};
  case Arith::Mul:
    return savedIf({{need[0], c}, {need[1], a}});
  case Arith::Div:
    return savedIf({{need[0] || need[1], c}, {need[1], a}});
  }
  llvm_unreachable("unknown arithmetic op");
}

/// The VJP of a + c, a - c, a * c, a / c; broadcast operands are summed
/// back to their shapes (a no-op for an in-place self).
void arithVJP(Arith k, GradBuilder &gb, Value g, Value a, Value c,
              ArrayRef<bool> need, SmallVectorImpl<Value> &out) {
  Value ga, gc;
  switch (k) {
  case Arith::Add:
    ga = g, gc = g;
    break;
  case Arith::Sub:
    ga = g, gc = need[1] ? gb.neg(g) : Value();
    break;
  case Arith::Mul:
    ga = need[0] ? gb.mul(g, c) : Value();
    gc = need[1] ? gb.mul(g, a) : Value();
    break;
  case Arith::Div: // d(a/c)/dc = -a / c^2
    ga = need[0] ? gb.div(g, c) : Value();
    gc = need[1] ? gb.neg(gb.div(gb.mul(g, a), gb.mul(c, c))) : Value();
    break;
  }
  if (need[0])
    out[0] = gb.sumTo(ga, a);
  if (need[1])
    out[1] = gb.sumTo(gc, c);
}
} // namespace

#define GRAFT_ARITH_VJP(OP, KIND)                                              \
  SmallVector<Value> OP::getSavedForBackward(ArrayRef<bool> need) {            \
    return arithSaved(Arith::KIND, (*this)->getOperand(0),                     \
                      (*this)->getOperand(1), need);                           \
  }                                                                            \
  LogicalResult OP::buildVJP(OpBuilder &b, ValueRange rg,                      \
                             ArrayRef<bool> need,                              \
                             SmallVectorImpl<Value> &out) {                    \
    GradBuilder gb(b, getLoc());                                               \
    arithVJP(Arith::KIND, gb, grad0(rg), (*this)->getOperand(0),               \
             (*this)->getOperand(1), need, out);                               \
    return success();                                                          \
  }

GRAFT_ARITH_VJP(AddOp, Add)
GRAFT_ARITH_VJP(SubOp, Sub)
GRAFT_ARITH_VJP(MulOp, Mul)
GRAFT_ARITH_VJP(DivOp, Div)
GRAFT_ARITH_VJP(AddInPlaceOp, Add)
GRAFT_ARITH_VJP(SubInPlaceOp, Sub)
GRAFT_ARITH_VJP(MulInPlaceOp, Mul)
GRAFT_ARITH_VJP(DivInPlaceOp, Div)
#undef GRAFT_ARITH_VJP

SmallVector<Value> PowOp::getSavedForBackward(ArrayRef<bool> need) {
  return savedIf({{true, getLhs()}, {true, getRhs()}, {need[1], getResult()}});
}
LogicalResult PowOp::buildVJP(OpBuilder &b, ValueRange rg, ArrayRef<bool> need,
                              SmallVectorImpl<Value> &out) {
  GradBuilder gb(b, getLoc());
  Value g = grad0(rg), a = getLhs(), e = getRhs();
  if (need[0]) { // g * e * a^(e - 1); PyTorch masks e == 0 to 0.
    Value em1 = gb.sub(e, gb.scalarLike(1, e));
    Value d = gb.mul(gb.mul(g, e), gb.pow(a, em1));
    Value eZero = gb.cmp(ComparePredicate::eq, e, gb.scalarLike(0, e));
    d = gb.where(eZero, gb.scalarLike(0, d), d);
    out[0] = gb.sumTo(d, a);
  }
  if (need[1]) { // g * a^e * log(a), 0 where a == 0 and e >= 0
    Value d = gb.mul(gb.mul(g, getResult()), gb.log(a));
    Value aZero = gb.cmp(ComparePredicate::eq, a, gb.scalarLike(0, a));
    Value eNonNeg = gb.cmp(ComparePredicate::ge, e, gb.scalarLike(0, e));
    Value both = gb.cmp(ComparePredicate::eq,
                        gb.add(gb.toFloat(aZero, g), gb.toFloat(eNonNeg, g)),
                        gb.scalarLike(2, g));
    d = gb.where(both, gb.scalarLike(0, d), d);
    out[1] = gb.sumTo(d, e);
  }
  return success();
}

/// maximum/minimum: the gradient goes to the winner; ties split it evenly.
static void minMaxVJP(GradBuilder &gb, Value g, Value a, Value c, bool isMax,
                      ArrayRef<bool> need, SmallVectorImpl<Value> &out) {
  Value half = gb.mul(gb.toFloat(gb.cmp(ComparePredicate::eq, a, c), g), 0.5);
  auto win = [&](Value x, Value y) {
    Value w = gb.cmp(isMax ? ComparePredicate::gt : ComparePredicate::lt, x, y);
    return gb.add(gb.toFloat(w, g), half);
  };
  if (need[0])
    out[0] = gb.sumTo(gb.mul(g, win(a, c)), a);
  if (need[1])
    out[1] = gb.sumTo(gb.mul(g, win(c, a)), c);
}

SmallVector<Value> MaximumOp::getSavedForBackward(ArrayRef<bool>) {
  return {getLhs(), getRhs()};
}
LogicalResult MaximumOp::buildVJP(OpBuilder &b, ValueRange rg,
                                  ArrayRef<bool> need,
                                  SmallVectorImpl<Value> &out) {
  GradBuilder gb(b, getLoc());
  minMaxVJP(gb, grad0(rg), getLhs(), getRhs(), /*isMax=*/true, need, out);
  return success();
}

SmallVector<Value> MinimumOp::getSavedForBackward(ArrayRef<bool>) {
  return {getLhs(), getRhs()};
}
LogicalResult MinimumOp::buildVJP(OpBuilder &b, ValueRange rg,
                                  ArrayRef<bool> need,
                                  SmallVectorImpl<Value> &out) {
  GradBuilder gb(b, getLoc());
  minMaxVJP(gb, grad0(rg), getLhs(), getRhs(), /*isMax=*/false, need, out);
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise unary ops
//===----------------------------------------------------------------------===//

// Each rule is dL/dx = g * f'(x), written with what PyTorch saves: the input
// or the result.
#define GRAFT_UNARY_VJP(OP, SAVED, FORMULA)                                    \
  SmallVector<Value> OP::getSavedForBackward(ArrayRef<bool>) { return SAVED; } \
  LogicalResult OP::buildVJP(OpBuilder &b, ValueRange rg,                      \
                             ArrayRef<bool> need,                              \
                             SmallVectorImpl<Value> &out) {                    \
    if (!need[0])                                                              \
      return success();                                                        \
    GradBuilder gb(b, getLoc());                                               \
    Value g = grad0(rg);                                                       \
    Value x = (*this)->getOperand(0), y = (*this)->getResult(0);               \
    (void)x;                                                                   \
    (void)y;                                                                   \
    out[0] = FORMULA;                                                          \
    return success();                                                          \
  }

// Formulas an op and its in-place twin share (y is the result).
static Value reluGrad(GradBuilder &gb, Value g, Value y) {
  return gb.where(gb.cmp(ComparePredicate::gt, y, gb.scalarLike(0, y)), g,
                  gb.scalarLike(0, g));
}
static Value tanhGrad(GradBuilder &gb, Value g, Value y) {
  return gb.mul(g, gb.sub(gb.scalarLike(1, y), gb.mul(y, y)));
}
static Value sigmoidGrad(GradBuilder &gb, Value g, Value y) {
  return gb.mul(gb.mul(g, y), gb.sub(gb.scalarLike(1, y), y));
}

#define NONE SmallVector<Value>{}
#define INPUT SmallVector<Value>{(*this)->getOperand(0)}
#define RESULT SmallVector<Value>{(*this)->getResult(0)}

GRAFT_UNARY_VJP(NegOp, NONE, gb.neg(g))
GRAFT_UNARY_VJP(ExpOp, RESULT, gb.mul(g, y))
GRAFT_UNARY_VJP(LogOp, INPUT, gb.div(g, x))
GRAFT_UNARY_VJP(SqrtOp, RESULT, gb.div(g, gb.mul(y, 2.0)))
// -0.5 * g * y^3
GRAFT_UNARY_VJP(RsqrtOp, RESULT,
                gb.mul(gb.mul(g, gb.mul(y, gb.mul(y, y))), -0.5))
// g * sign(x)
GRAFT_UNARY_VJP(AbsOp, INPUT,
                gb.mul(g, gb.sub(gb.toFloat(gb.cmp(ComparePredicate::gt, x,
                                                   gb.scalarLike(0, x)),
                                            x),
                                 gb.toFloat(gb.cmp(ComparePredicate::lt, x,
                                                   gb.scalarLike(0, x)),
                                            x))))
// threshold_backward(g, result, 0)
GRAFT_UNARY_VJP(ReluOp, RESULT, reluGrad(gb, g, y))
GRAFT_UNARY_VJP(TanhOp, RESULT, tanhGrad(gb, g, y))
GRAFT_UNARY_VJP(SigmoidOp, RESULT, sigmoidGrad(gb, g, y))
// 2 / sqrt(pi) * exp(-x^2)
GRAFT_UNARY_VJP(ErfOp, INPUT,
                gb.mul(gb.mul(g, gb.exp(gb.neg(gb.mul(x, x)))),
                       2.0 / std::sqrt(M_PI)))

// PyTorch's vectorised hardswish_backward: 0 below -3, g from 3 on, and
// g * (x / 3 + 1/2) between. (Its scalar tail, for the last few elements of
// a tensor, takes the middle formula at exactly 3 too.)
static Value hardswishGrad(GradBuilder &gb, Value g, Value x) {
  Value below = gb.cmp(ComparePredicate::lt, x, gb.scalarLike(-3, x));
  Value above = gb.cmp(ComparePredicate::ge, x, gb.scalarLike(3, x));
  Value slope = gb.div(x, gb.scalarLike(3, x));
  slope = gb.add(slope, gb.scalarLike(0.5, x));
  Value middle = gb.mul(g, slope);
  Value upper = gb.where(above, g, middle);
  return gb.where(below, gb.scalarLike(0, g), upper);
}
GRAFT_UNARY_VJP(HardswishOp, INPUT, hardswishGrad(gb, g, x))

// PyTorch's hardsigmoid_backward: g / 6 strictly between -3 and 3, else 0.
static Value hardsigmoidGrad(GradBuilder &gb, Value g, Value x) {
  Value below = gb.cmp(ComparePredicate::le, x, gb.scalarLike(-3, x));
  Value above = gb.cmp(ComparePredicate::ge, x, gb.scalarLike(3, x));
  Value zero = gb.scalarLike(0, g);
  Value middle = gb.mul(g, 1.0 / 6.0);
  Value upper = gb.where(above, zero, middle);
  return gb.where(below, zero, upper);
}
GRAFT_UNARY_VJP(HardsigmoidOp, INPUT, hardsigmoidGrad(gb, g, x))

// g / (x + 1)
static Value log1pGrad(GradBuilder &gb, Value g, Value x) {
  Value xp1 = gb.add(x, gb.scalarLike(1, x));
  return gb.div(g, xp1);
}
GRAFT_UNARY_VJP(Log1pOp, INPUT, log1pGrad(gb, g, x))

// PyTorch's mish_backward: with s = sigmoid(x) and t = tanh(log1p(exp(x))),
// g * (t + x * s * (1 - t * t)).
static Value mishGrad(GradBuilder &gb, Value g, Value x) {
  Value s = gb.sigmoid(x);
  Value e = gb.exp(x);
  Value sp = gb.log1p(e);
  Value t = gb.tanh(sp);
  Value tt = gb.mul(t, t);
  Value oneMinus = gb.sub(gb.scalarLike(1, x), tt);
  Value xs = gb.mul(x, s);
  Value term = gb.mul(xs, oneMinus);
  Value sum = gb.add(t, term);
  return gb.mul(g, sum);
}
GRAFT_UNARY_VJP(MishOp, INPUT, mishGrad(gb, g, x))

// g * cos(x) and -g * sin(x)
static Value sinGrad(GradBuilder &gb, Value g, Value x) {
  Value c = gb.cos(x);
  return gb.mul(g, c);
}
GRAFT_UNARY_VJP(SinOp, INPUT, sinGrad(gb, g, x))
static Value cosGrad(GradBuilder &gb, Value g, Value x) {
  Value s = gb.sin(x);
  Value ns = gb.neg(s);
  return gb.mul(g, ns);
}
GRAFT_UNARY_VJP(CosOp, INPUT, cosGrad(gb, g, x))

SmallVector<Value> SiluOp::getSavedForBackward(ArrayRef<bool>) {
  return {getInput()};
}
LogicalResult SiluOp::buildVJP(OpBuilder &b, ValueRange rg, ArrayRef<bool> need,
                               SmallVectorImpl<Value> &out) {
  if (!need[0])
    return success();
  GradBuilder gb(b, getLoc());
  Value x = getInput(), s = gb.sigmoid(x);
  // g * s * (1 + x * (1 - s))
  Value one = gb.scalarLike(1, x);
  out[0] = gb.mul(gb.mul(grad0(rg), s),
                  gb.add(one, gb.mul(x, gb.sub(one, s))));
  return success();
}

SmallVector<Value> GeluOp::getSavedForBackward(ArrayRef<bool>) {
  return {getInput()};
}
LogicalResult GeluOp::buildVJP(OpBuilder &b, ValueRange rg, ArrayRef<bool> need,
                               SmallVectorImpl<Value> &out) {
  if (!need[0])
    return success();
  GradBuilder gb(b, getLoc());
  Value x = getInput(), g = grad0(rg);
  auto c = [&](double v) { return gb.scalarLike(v, x); };
  if (getApproximate() == GeluApproximation::none) {
    // Phi(x) + x * phi(x)
    Value cdf = gb.mul(gb.add(c(1), gb.erf(gb.mul(x, M_SQRT1_2))), 0.5);
    Value pdf = gb.mul(gb.exp(gb.mul(gb.mul(x, x), -0.5)),
                       1.0 / std::sqrt(2 * M_PI));
    out[0] = gb.mul(g, gb.add(cdf, gb.mul(x, pdf)));
    return success();
  }
  // PyTorch's tanh formula (GeluKernel.cpp).
  const double kBeta = M_SQRT2 * M_2_SQRTPI * 0.5, kKappa = 0.044715;
  Value x2 = gb.mul(x, x);
  Value inner = gb.mul(gb.add(x, gb.mul(gb.mul(x2, x), kKappa)), kBeta);
  Value t = gb.tanh(inner);
  Value leftDerivative = gb.mul(gb.add(c(1), t), 0.5);
  Value rightDerivative =
      gb.mul(gb.mul(gb.mul(x, 0.5), gb.sub(c(1), gb.mul(t, t))),
             gb.mul(gb.add(c(1), gb.mul(x2, 3 * kKappa)), kBeta));
  out[0] = gb.mul(g, gb.add(leftDerivative, rightDerivative));
  return success();
}

SmallVector<Value> WhereOp::getSavedForBackward(ArrayRef<bool>) {
  return {getCondition()};
}
LogicalResult WhereOp::buildVJP(OpBuilder &b, ValueRange rg,
                                ArrayRef<bool> need,
                                SmallVectorImpl<Value> &out) {
  GradBuilder gb(b, getLoc());
  Value g = grad0(rg), zero = gb.scalarLike(0, g);
  if (need[1])
    out[1] = gb.sumTo(gb.where(getCondition(), g, zero), getLhs());
  if (need[2])
    out[2] = gb.sumTo(gb.where(getCondition(), zero, g), getRhs());
  return success();
}

SmallVector<Value> MaskedFillOp::getSavedForBackward(ArrayRef<bool>) {
  return {getMask()};
}
LogicalResult MaskedFillOp::buildVJP(OpBuilder &b, ValueRange rg,
                                     ArrayRef<bool> need,
                                     SmallVectorImpl<Value> &out) {
  GradBuilder gb(b, getLoc());
  Value g = grad0(rg);
  if (need[0])
    out[0] = gb.where(getMask(), gb.scalarLike(0, g), g);
  return success();
}

/// The gradient of a clamp of `x`, also in place (of the old version):
/// g where PyTorch's clamp_backward (min <= x <= max, each bound given) or
/// hardtanh_backward (neither x <= min nor x >= max) lets it through.
template <typename OpTy>
static Value clampGrad(OpTy op, GradBuilder &gb, Value g, Value x) {
  bool hardtanh = op.getKind() == ClampKind::hardtanh;
  Value zero = gb.scalarLike(0, g);
  auto bound = [&](std::optional<double> v, ComparePredicate passes,
                   ComparePredicate stops, Value grad) {
    if (!v)
      return grad;
    Value c = gb.scalarLike(*v, x);
    return hardtanh ? gb.where(gb.cmp(stops, x, c), zero, grad)
                    : gb.where(gb.cmp(passes, x, c), grad, zero);
  };
  g = bound(op.getLower(), ComparePredicate::ge, ComparePredicate::le, g);
  return bound(op.getUpper(), ComparePredicate::le, ComparePredicate::ge, g);
}

SmallVector<Value> ClampOp::getSavedForBackward(ArrayRef<bool>) {
  return {getInput()};
}
LogicalResult ClampOp::buildVJP(OpBuilder &b, ValueRange rg,
                                ArrayRef<bool> need,
                                SmallVectorImpl<Value> &out) {
  GradBuilder gb(b, getLoc());
  if (need[0])
    out[0] = clampGrad(*this, gb, grad0(rg), getInput());
  return success();
}

SmallVector<Value> CastOp::getSavedForBackward(ArrayRef<bool>) { return {}; }
LogicalResult CastOp::buildVJP(OpBuilder &b, ValueRange rg, ArrayRef<bool> need,
                               SmallVectorImpl<Value> &out) {
  GradBuilder gb(b, getLoc());
  if (need[0] && isa<FloatType>(GradBuilder::elt(getInput())))
    out[0] = gb.castTo(grad0(rg), GradBuilder::elt(getInput()));
  return success();
}

SmallVector<Value> CloneOp::getSavedForBackward(ArrayRef<bool>) { return {}; }
LogicalResult CloneOp::buildVJP(OpBuilder &, ValueRange rg,
                                ArrayRef<bool> need,
                                SmallVectorImpl<Value> &out) {
  if (need[0])
    out[0] = grad0(rg);
  return success();
}

//===----------------------------------------------------------------------===//
// In-place variants: the out-of-place rule on the old version of self
//===----------------------------------------------------------------------===//

GRAFT_UNARY_VJP(ReluInPlaceOp, RESULT, reluGrad(gb, g, y))
GRAFT_UNARY_VJP(ExpInPlaceOp, RESULT, gb.mul(g, y))
GRAFT_UNARY_VJP(SigmoidInPlaceOp, RESULT, sigmoidGrad(gb, g, y))
GRAFT_UNARY_VJP(TanhInPlaceOp, RESULT, tanhGrad(gb, g, y))
GRAFT_UNARY_VJP(ZeroInPlaceOp, NONE, gb.zerosLike(g))

#undef GRAFT_UNARY_VJP
#undef NONE
#undef INPUT
#undef RESULT

SmallVector<Value> MaskedFillInPlaceOp::getSavedForBackward(ArrayRef<bool>) {
  return {getMask()};
}
LogicalResult MaskedFillInPlaceOp::buildVJP(OpBuilder &b, ValueRange rg,
                                            ArrayRef<bool> need,
                                            SmallVectorImpl<Value> &out) {
  GradBuilder gb(b, getLoc());
  Value g = grad0(rg);
  if (need[0])
    out[0] = gb.where(getMask(), gb.scalarLike(0, g), g);
  return success();
}

SmallVector<Value> ClampInPlaceOp::getSavedForBackward(ArrayRef<bool>) {
  return {getSelf()};
}
LogicalResult ClampInPlaceOp::buildVJP(OpBuilder &b, ValueRange rg,
                                       ArrayRef<bool> need,
                                       SmallVectorImpl<Value> &out) {
  GradBuilder gb(b, getLoc());
  if (need[0])
    out[0] = clampGrad(*this, gb, grad0(rg), getSelf());
  return success();
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

SmallVector<Value> MatmulOp::getSavedForBackward(ArrayRef<bool> need) {
  return savedIf({{need[0], getRhs()}, {need[1], getLhs()}});
}
LogicalResult MatmulOp::buildVJP(OpBuilder &b, ValueRange rg,
                                 ArrayRef<bool> need,
                                 SmallVectorImpl<Value> &out) {
  GradBuilder gb(b, getLoc());
  Value g = grad0(rg), a = getLhs(), c = getRhs();
  ArrayRef<int64_t> as = GradBuilder::shape(a), cs = GradBuilder::shape(c);
  if (as.size() == 1 && cs.size() == 1) { // dot product: g is 0-d
    if (need[0])
      out[0] = gb.mul(g, c);
    if (need[1])
      out[1] = gb.mul(g, a);
    return success();
  }
  // Work on matrices: a vector operand becomes a row (lhs) or column (rhs),
  // and the gradient gets the removed dimension back.
  SmallVector<int64_t> a2(as), c2(cs);
  if (as.size() == 1)
    a2.insert(a2.begin(), 1);
  if (cs.size() == 1)
    c2.push_back(1);
  Value am = gb.reshape(a, a2), cm = gb.reshape(c, c2);
  SmallVector<int64_t> g2(GradBuilder::shape(g));
  if (as.size() == 1)
    g2.insert(g2.end() - (cs.size() == 1 ? 0 : 1), 1);
  if (cs.size() == 1)
    g2.push_back(1);
  Value gm = gb.reshape(g, g2);
  if (need[0])
    out[0] = gb.reshape(gb.sumTo(gb.matmul(gm, gb.mT(cm)), a2), as);
  if (need[1])
    out[1] = gb.reshape(gb.sumTo(gb.matmul(gb.mT(am), gm), c2), cs);
  return success();
}

SmallVector<Value> LinearOp::getSavedForBackward(ArrayRef<bool> need) {
  return savedIf({{need[0], getWeight()}, {need[1], getInput()}});
}
LogicalResult LinearOp::buildVJP(OpBuilder &b, ValueRange rg,
                                 ArrayRef<bool> need,
                                 SmallVectorImpl<Value> &out) {
  GradBuilder gb(b, getLoc());
  Value g = grad0(rg), x = getInput(), w = getWeight();
  ArrayRef<int64_t> ws = GradBuilder::shape(w);
  if (need[0]) // [..., out] @ [out, in]
    out[0] = gb.matmul(g, w);
  if (need[1]) { // flatten the batch: g2^T [out, P] @ x2 [P, in]
    int64_t rows = product(GradBuilder::shape(x)) / ws[1];
    Value g2 = gb.reshape(g, {rows, ws[0]});
    Value x2 = gb.reshape(x, {rows, ws[1]});
    out[1] = gb.matmul(gb.transpose(g2, 0, 1), x2);
  }
  if (getBias() && need.size() > 2 && need[2])
    out[2] = gb.sumTo(g, getBias());
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

SmallVector<Value> SumOp::getSavedForBackward(ArrayRef<bool>) { return {}; }
LogicalResult SumOp::buildVJP(OpBuilder &b, ValueRange rg, ArrayRef<bool> need,
                              SmallVectorImpl<Value> &out) {
  if (!need[0])
    return success();
  GradBuilder gb(b, getLoc());
  ArrayRef<int64_t> in = GradBuilder::shape(getInput());
  out[0] = gb.broadcastTo(gb.keepDims(grad0(rg), in, getDims(), getKeepdim()),
                          in);
  return success();
}

SmallVector<Value> MeanOp::getSavedForBackward(ArrayRef<bool>) { return {}; }
LogicalResult MeanOp::buildVJP(OpBuilder &b, ValueRange rg, ArrayRef<bool> need,
                               SmallVectorImpl<Value> &out) {
  if (!need[0])
    return success();
  GradBuilder gb(b, getLoc());
  ArrayRef<int64_t> in = GradBuilder::shape(getInput());
  Value g = gb.keepDims(grad0(rg), in, getDims(), getKeepdim());
  g = gb.mul(g, 1.0 / (double)reducedCount(in, getDims()));
  out[0] = gb.broadcastTo(g, in);
  return success();
}

SmallVector<Value> MaxOp::getSavedForBackward(ArrayRef<bool>) {
  return {getInput(), getResult()};
}
LogicalResult MaxOp::buildVJP(OpBuilder &b, ValueRange rg, ArrayRef<bool> need,
                              SmallVectorImpl<Value> &out) {
  if (!need[0])
    return success();
  // amax: the gradient is shared evenly by all maximal elements.
  GradBuilder gb(b, getLoc());
  Value x = getInput();
  ArrayRef<int64_t> in = GradBuilder::shape(x);
  Value y = gb.keepDims(getResult(), in, getDims(), getKeepdim());
  Value g = gb.keepDims(grad0(rg), in, getDims(), getKeepdim());
  Value mask = gb.toFloat(gb.cmp(ComparePredicate::eq, x, y), x);
  SmallVector<int64_t> dims(getDims());
  if (dims.empty())
    for (size_t i = 0; i < in.size(); ++i)
      dims.push_back(i);
  Value count = gb.sum(mask, dims, /*keepdim=*/true);
  out[0] = gb.mul(gb.div(g, count), mask);
  return success();
}

//===----------------------------------------------------------------------===//
// Shape and layout
//===----------------------------------------------------------------------===//

SmallVector<Value> ReshapeOp::getSavedForBackward(ArrayRef<bool>) { return {}; }
LogicalResult ReshapeOp::buildVJP(OpBuilder &b, ValueRange rg,
                                  ArrayRef<bool> need,
                                  SmallVectorImpl<Value> &out) {
  if (need[0])
    out[0] = GradBuilder(b, getLoc())
                 .reshape(grad0(rg), GradBuilder::shape(getInput()));
  return success();
}

SmallVector<Value> TransposeOp::getSavedForBackward(ArrayRef<bool>) {
  return {};
}
LogicalResult TransposeOp::buildVJP(OpBuilder &b, ValueRange rg,
                                    ArrayRef<bool> need,
                                    SmallVectorImpl<Value> &out) {
  if (need[0])
    out[0] = GradBuilder(b, getLoc()).transpose(grad0(rg), getDim0(), getDim1());
  return success();
}

SmallVector<Value> PermuteOp::getSavedForBackward(ArrayRef<bool>) {
  return {};
}
LogicalResult PermuteOp::buildVJP(OpBuilder &b, ValueRange rg,
                                  ArrayRef<bool> need,
                                  SmallVectorImpl<Value> &out) {
  if (!need[0])
    return success();
  SmallVector<int64_t> inverse(getDims().size());
  for (auto [i, d] : llvm::enumerate(getDims()))
    inverse[d] = i;
  out[0] = PermuteOp::create(b, getLoc(), grad0(rg), inverse);
  return success();
}

SmallVector<Value> BroadcastToOp::getSavedForBackward(ArrayRef<bool>) {
  return {};
}
LogicalResult BroadcastToOp::buildVJP(OpBuilder &b, ValueRange rg,
                                      ArrayRef<bool> need,
                                      SmallVectorImpl<Value> &out) {
  if (need[0])
    out[0] = GradBuilder(b, getLoc()).sumTo(grad0(rg), getInput());
  return success();
}

SmallVector<Value> SliceOp::getSavedForBackward(ArrayRef<bool>) { return {}; }
LogicalResult SliceOp::buildVJP(OpBuilder &b, ValueRange rg,
                                ArrayRef<bool> need,
                                SmallVectorImpl<Value> &out) {
  if (need[0])
    out[0] = SliceBackwardOp::create(b, getLoc(), getInput().getType(),
                                     grad0(rg), getDim(), getStart(), getEnd(),
                                     getStep());
  return success();
}

SmallVector<Value> ConcatOp::getSavedForBackward(ArrayRef<bool>) { return {}; }
LogicalResult ConcatOp::buildVJP(OpBuilder &b, ValueRange rg,
                                 ArrayRef<bool> need,
                                 SmallVectorImpl<Value> &out) {
  int64_t dim = getDim(), offset = 0;
  for (auto [i, v] : llvm::enumerate(getInputs())) {
    int64_t size = GradBuilder::shape(v)[dim];
    if (need[i])
      out[i] = SliceOp::create(b, getLoc(), grad0(rg), dim, offset,
                               offset + size, 1);
    offset += size;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Neural-network ops
//===----------------------------------------------------------------------===//

SmallVector<Value> SoftmaxOp::getSavedForBackward(ArrayRef<bool>) {
  return {getResult()};
}
LogicalResult SoftmaxOp::buildVJP(OpBuilder &b, ValueRange rg,
                                  ArrayRef<bool> need,
                                  SmallVectorImpl<Value> &out) {
  if (!need[0])
    return success();
  GradBuilder gb(b, getLoc());
  Value g = grad0(rg), y = getResult();
  // y * (g - sum(g * y, dim))
  Value dot = gb.sum(gb.mul(g, y), {(int64_t)getDim()}, /*keepdim=*/true);
  out[0] = gb.mul(y, gb.sub(g, dot));
  return success();
}

SmallVector<Value> LogSoftmaxOp::getSavedForBackward(ArrayRef<bool>) {
  return {getResult()};
}
LogicalResult LogSoftmaxOp::buildVJP(OpBuilder &b, ValueRange rg,
                                     ArrayRef<bool> need,
                                     SmallVectorImpl<Value> &out) {
  if (!need[0])
    return success();
  GradBuilder gb(b, getLoc());
  Value g = grad0(rg);
  // g - exp(y) * sum(g, dim)
  Value s = gb.sum(g, {(int64_t)getDim()}, /*keepdim=*/true);
  out[0] = gb.sub(g, gb.mul(gb.exp(getResult()), s));
  return success();
}

SmallVector<Value> Conv2dOp::getSavedForBackward(ArrayRef<bool> need) {
  return savedIf({{need[0], getWeight()}, {need[1], getInput()}});
}
LogicalResult Conv2dOp::buildVJP(OpBuilder &b, ValueRange rg,
                                 ArrayRef<bool> need,
                                 SmallVectorImpl<Value> &out) {
  GradBuilder gb(b, getLoc());
  Value g = grad0(rg);
  if (need[0])
    out[0] = Conv2dBackwardInputOp::create(
        b, getLoc(), getInput().getType(), g, getWeight(), getStride(),
        getPadding(), getDilation(), getGroups());
  if (need[1])
    out[1] = Conv2dBackwardWeightOp::create(
        b, getLoc(), getWeight().getType(), g, getInput(), getStride(),
        getPadding(), getDilation(), getGroups());
  if (getBias() && need.size() > 2 && need[2])
    out[2] = gb.sum(g, {0, 2, 3}, /*keepdim=*/false);
  return success();
}

SmallVector<Value> MaxPool2dOp::getSavedForBackward(ArrayRef<bool>) {
  return {getInput()};
}
LogicalResult MaxPool2dOp::buildVJP(OpBuilder &b, ValueRange rg,
                                    ArrayRef<bool> need,
                                    SmallVectorImpl<Value> &out) {
  if (need[0])
    out[0] = MaxPool2dBackwardOp::create(
        b, getLoc(), getInput().getType(), grad0(rg), getInput(),
        getKernelSize(), getStride(), getPadding(), getDilation(),
        getCeilMode());
  return success();
}

SmallVector<Value> AvgPool2dOp::getSavedForBackward(ArrayRef<bool>) {
  return {};
}
LogicalResult AvgPool2dOp::buildVJP(OpBuilder &b, ValueRange rg,
                                    ArrayRef<bool> need,
                                    SmallVectorImpl<Value> &out) {
  if (need[0])
    out[0] = AvgPool2dBackwardOp::create(
        b, getLoc(), getInput().getType(), grad0(rg), getKernelSize(),
        getStride(), getPadding(), getCeilMode(), getCountIncludePad());
  return success();
}

/// Normalisation over `dims` (keepdim statistics), shared by layer_norm and
/// batch_norm in train mode: returns dL/dx given dL/dxhat, and xhat.
static Value normBackward(GradBuilder &gb, Value x, Value gxhat,
                          ArrayRef<int64_t> dims, double eps, Value &xhat) {
  Value mu = gb.mean(x, dims, true);
  Value xc = gb.sub(x, mu);
  Value var = gb.mean(gb.mul(xc, xc), dims, true);
  Value rstd = gb.rsqrt(gb.add(var, gb.scalarLike(eps, x)));
  xhat = gb.mul(xc, rstd);
  // rstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat))
  Value m1 = gb.mean(gxhat, dims, true);
  Value m2 = gb.mean(gb.mul(gxhat, xhat), dims, true);
  return gb.mul(rstd, gb.sub(gb.sub(gxhat, m1), gb.mul(xhat, m2)));
}

SmallVector<Value> LayerNormOp::getSavedForBackward(ArrayRef<bool>) {
  SmallVector<Value> saved = {getInput()};
  if (getWeight())
    saved.push_back(getWeight());
  return saved;
}
LogicalResult LayerNormOp::buildVJP(OpBuilder &b, ValueRange rg,
                                    ArrayRef<bool> need,
                                    SmallVectorImpl<Value> &out) {
  GradBuilder gb(b, getLoc());
  Value x = getInput(), g = grad0(rg), w = getWeight(), bias = getBias();
  int64_t rank = GradBuilder::shape(x).size();
  int64_t k = getNormalizedShape().size();
  SmallVector<int64_t> dims;
  for (int64_t d = rank - k; d < rank; ++d)
    dims.push_back(d);
  Value gxhat = w ? gb.mul(g, w) : g;
  Value xhat;
  Value gx = normBackward(gb, x, gxhat, dims,
                          getEps().convertToDouble(), xhat);
  // Operand order: input, weight?, bias?.
  unsigned i = 0;
  if (need[i])
    out[i] = gx;
  ++i;
  if (w) {
    if (need[i])
      out[i] = gb.sumTo(gb.mul(g, xhat), w);
    ++i;
  }
  if (bias && need[i])
    out[i] = gb.sumTo(g, bias);
  return success();
}

SmallVector<Value> BatchNormOp::getSavedForBackward(ArrayRef<bool>) {
  SmallVector<Value> saved = {getInput()};
  if (getWeight())
    saved.push_back(getWeight());
  return saved;
}
LogicalResult BatchNormOp::buildVJP(OpBuilder &b, ValueRange rg,
                                    ArrayRef<bool> need,
                                    SmallVectorImpl<Value> &out) {
  // Backward exists only for train mode: batch statistics.
  GradBuilder gb(b, getLoc());
  Value x = getInput(), g = grad0(rg), w = getWeight(), bias = getBias();
  ArrayRef<int64_t> xs = GradBuilder::shape(x);
  SmallVector<int64_t> dims = {0}, cshape(xs.size(), 1);
  for (size_t d = 2; d < xs.size(); ++d)
    dims.push_back(d);
  cshape[1] = xs[1];
  Value gxhat = w ? gb.mul(g, gb.reshape(w, cshape)) : g;
  Value xhat;
  Value gx = normBackward(gb, x, gxhat, dims,
                          getEps().convertToDouble(), xhat);
  unsigned i = 0;
  if (need[i])
    out[i] = gx;
  ++i;
  if (w) {
    if (need[i])
      out[i] = gb.sum(gb.mul(g, xhat), dims, /*keepdim=*/false);
    ++i;
  }
  if (bias && need[i])
    out[i] = gb.sum(g, dims, /*keepdim=*/false);
  return success();
}

SmallVector<Value> DropoutOp::getSavedForBackward(ArrayRef<bool>) {
  return {};
}
LogicalResult DropoutOp::buildVJP(OpBuilder &b, ValueRange rg,
                                  ArrayRef<bool> need,
                                  SmallVectorImpl<Value> &out) {
  // The same stream draws the same mask: dropout of g is g * mask / (1 - p).
  if (need[0])
    out[0] = DropoutOp::create(b, getLoc(), grad0(rg).getType(), grad0(rg),
                               getP(), getStream());
  return success();
}

SmallVector<Value> EmbeddingOp::getSavedForBackward(ArrayRef<bool>) {
  return {getIndices()};
}
LogicalResult EmbeddingOp::buildVJP(OpBuilder &b, ValueRange rg,
                                    ArrayRef<bool> need,
                                    SmallVectorImpl<Value> &out) {
  if (need[0])
    out[0] = EmbeddingBackwardOp::create(b, getLoc(), getWeight().getType(),
                                         grad0(rg), getIndices(),
                                         getPaddingIdxAttr());
  return success();
}

SmallVector<Value> ScaledDotProductAttentionOp::getSavedForBackward(
    ArrayRef<bool>) {
  return {getQuery(), getKey(), getValue()};
}
LogicalResult ScaledDotProductAttentionOp::buildVJP(
    OpBuilder &b, ValueRange rg, ArrayRef<bool> need,
    SmallVectorImpl<Value> &out) {
  GradBuilder gb(b, getLoc());
  Value q = getQuery(), k = getKey(), v = getValue(), g = grad0(rg);
  ArrayRef<int64_t> qs = GradBuilder::shape(q), ks = GradBuilder::shape(k);
  int64_t rank = qs.size(), len = qs[rank - 2], srcLen = ks[rank - 2];
  double scale = getScale() ? getScale()->convertToDouble()
                            : 1.0 / std::sqrt((double)qs.back());
  // Recompute the probabilities rather than saving them.
  Value s = gb.mul(gb.matmul(q, gb.mT(k)), scale);
  if (getIsCausal()) {
    SmallVector<bool> above;
    for (int64_t i = 0; i < len; ++i)
      for (int64_t j = 0; j < srcLen; ++j)
        above.push_back(j > i);
    auto maskType = RankedTensorType::get({len, srcLen}, b.getI1Type());
    Value mask = ConstantOp::create(b, getLoc(),
                                    DenseElementsAttr::get(maskType, above));
    s = MaskedFillOp::create(b, getLoc(), s, mask,
                             b.getF64FloatAttr(-INFINITY));
  }
  Value p = gb.softmax(s, rank - 1);
  Value dp = gb.matmul(g, gb.mT(v));
  Value ds = gb.mul(p, gb.sub(dp, gb.sum(gb.mul(dp, p), {rank - 1}, true)));
  if (need[0])
    out[0] = gb.mul(gb.matmul(ds, k), scale);
  if (need[1])
    out[1] = gb.mul(gb.matmul(gb.mT(ds), q), scale);
  if (need[2])
    out[2] = gb.matmul(gb.mT(p), g);
  return success();
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

namespace {
/// What cross_entropy and nll_loss share: the class dimension, the one-hot
/// target laid out like the input, the 0/1 mask of targets that count, and
/// the upstream gradient broadcast over the input.
struct ClassLossGrad {
  Value oneHot, valid, scale;
};

ClassLossGrad classLossGrad(GradBuilder &gb, Value input, Value target,
                            int64_t ignoreIndex, Reduction reduction,
                            Value g) {
  ArrayRef<int64_t> xs = GradBuilder::shape(input);
  int64_t rank = xs.size(), classDim = rank == 1 ? 0 : 1;
  Type elt = GradBuilder::elt(input);
  SmallVector<int64_t> ohShape(GradBuilder::shape(target));
  ohShape.push_back(xs[classDim]);
  Value oneHot = OneHotOp::create(gb.b, gb.loc,
                                  RankedTensorType::get(ohShape, elt), target);
  if (rank > 2) { // [N, d..., C] -> [N, C, d...]
    SmallVector<int64_t> perm = {0, rank - 1};
    for (int64_t d = 1; d < rank - 1; ++d)
      perm.push_back(d);
    oneHot = PermuteOp::create(gb.b, gb.loc, oneHot, perm);
  }
  // Target-shaped values get the class dimension back as size 1.
  SmallVector<int64_t> withClass(xs);
  withClass[classDim] = 1;
  Value ignore = gb.scalar(ignoreIndex, GradBuilder::elt(target));
  Value valid = gb.toFloat(gb.cmp(ComparePredicate::ne, target, ignore), input);
  Value scale;
  switch (reduction) {
  case Reduction::none:
    scale = gb.reshape(g, withClass);
    break;
  case Reduction::sum:
    scale = g;
    break;
  case Reduction::mean:
    scale = gb.div(g, gb.sum(valid, {}, false));
    break;
  }
  return {oneHot, gb.reshape(valid, withClass), scale};
}
} // namespace

SmallVector<Value> CrossEntropyOp::getSavedForBackward(ArrayRef<bool>) {
  return {getInput(), getTarget()};
}
LogicalResult CrossEntropyOp::buildVJP(OpBuilder &b, ValueRange rg,
                                       ArrayRef<bool> need,
                                       SmallVectorImpl<Value> &out) {
  if (!need[0])
    return success();
  GradBuilder gb(b, getLoc());
  Value x = getInput();
  ArrayRef<int64_t> xs = GradBuilder::shape(x);
  int64_t classDim = xs.size() == 1 ? 0 : 1;
  double eps = getLabelSmoothing().convertToDouble();
  ClassLossGrad c = classLossGrad(gb, x, getTarget(), getIgnoreIndex(),
                                  getReduction(), grad0(rg));
  // softmax(x) - (1 - eps) * onehot - eps / C
  Value d = gb.sub(gb.softmax(x, classDim), gb.mul(c.oneHot, 1.0 - eps));
  if (eps != 0)
    d = gb.sub(d, gb.scalarLike(eps / (double)xs[classDim], d));
  out[0] = gb.mul(gb.mul(d, c.valid), c.scale);
  return success();
}

SmallVector<Value> NllLossOp::getSavedForBackward(ArrayRef<bool>) {
  return {getTarget()};
}
LogicalResult NllLossOp::buildVJP(OpBuilder &b, ValueRange rg,
                                  ArrayRef<bool> need,
                                  SmallVectorImpl<Value> &out) {
  if (!need[0])
    return success();
  GradBuilder gb(b, getLoc());
  ClassLossGrad c = classLossGrad(gb, getInput(), getTarget(),
                                  getIgnoreIndex(), getReduction(), grad0(rg));
  out[0] = gb.neg(gb.mul(gb.mul(c.oneHot, c.valid), c.scale));
  return success();
}

SmallVector<Value> MseLossOp::getSavedForBackward(ArrayRef<bool>) {
  return {getInput(), getTarget()};
}
LogicalResult MseLossOp::buildVJP(OpBuilder &b, ValueRange rg,
                                  ArrayRef<bool> need,
                                  SmallVectorImpl<Value> &out) {
  GradBuilder gb(b, getLoc());
  Value x = getInput(), g = grad0(rg);
  double factor = 2.0;
  if (getReduction() == Reduction::mean)
    factor /= (double)product(GradBuilder::shape(x));
  Value d = gb.mul(gb.mul(gb.sub(x, getTarget()), g), factor);
  if (need[0])
    out[0] = d;
  if (need[1])
    out[1] = gb.neg(d);
  return success();
}
