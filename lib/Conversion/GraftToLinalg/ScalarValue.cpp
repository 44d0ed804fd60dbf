//===- ScalarValue.cpp - Scalar formulas built as arith/math ops ----------===//

#include "ScalarValue.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;

namespace graft::lowering {

ScalarValue ScalarValue::constant(double c) const {
  Type t = v.getType();
  return with(arith::ConstantOp::create(*b, loc, t, b->getFloatAttr(t, c)));
}

template <typename OpTy> static ScalarValue unary(ScalarValue x) {
  return x.with(OpTy::create(*x.b, x.loc, x.v));
}
template <typename OpTy>
static ScalarValue binary(ScalarValue x, ScalarValue y) {
  return x.with(OpTy::create(*x.b, x.loc, x.v, y.v));
}

ScalarValue operator-(ScalarValue x) { return unary<arith::NegFOp>(x); }
ScalarValue operator+(ScalarValue x, ScalarValue y) {
  return binary<arith::AddFOp>(x, y);
}
ScalarValue operator-(ScalarValue x, ScalarValue y) {
  return binary<arith::SubFOp>(x, y);
}
ScalarValue operator*(ScalarValue x, ScalarValue y) {
  return binary<arith::MulFOp>(x, y);
}
ScalarValue operator/(ScalarValue x, ScalarValue y) {
  return binary<arith::DivFOp>(x, y);
}
ScalarValue exp(ScalarValue x) { return unary<math::ExpOp>(x); }
ScalarValue log(ScalarValue x) { return unary<math::LogOp>(x); }
ScalarValue log1p(ScalarValue x) { return unary<math::Log1pOp>(x); }
ScalarValue sin(ScalarValue x) { return unary<math::SinOp>(x); }
ScalarValue cos(ScalarValue x) { return unary<math::CosOp>(x); }
ScalarValue sqrt(ScalarValue x) { return unary<math::SqrtOp>(x); }
ScalarValue rsqrt(ScalarValue x) { return unary<math::RsqrtOp>(x); }
ScalarValue abs(ScalarValue x) { return unary<math::AbsFOp>(x); }
ScalarValue erf(ScalarValue x) { return unary<math::ErfOp>(x); }
ScalarValue tanh(ScalarValue x) { return unary<math::TanhOp>(x); }
ScalarValue max(ScalarValue x, ScalarValue y) {
  return binary<arith::MaximumFOp>(x, y);
}
ScalarValue min(ScalarValue x, ScalarValue y) {
  return binary<arith::MinimumFOp>(x, y);
}
ScalarValue zeroLike(ScalarValue x) { return x.constant(0.0); }

} // namespace graft::lowering
