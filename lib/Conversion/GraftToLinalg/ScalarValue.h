//===- ScalarValue.h - Scalar formulas built as arith/math ops --*- C++ -*-===//
//
// The value type a unary row's formula (GraftOps.td, ScalarMath.h) is
// instantiated with when an op is lowered: each operator and function of
// ScalarMath.h, applied to ScalarValues, builds the arith or math op that
// computes it, at one builder and location. Numbers mixed in become
// constants of the operand's type.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_LIB_CONVERSION_SCALARVALUE_H
#define GRAFT_LIB_CONVERSION_SCALARVALUE_H

#include "mlir/IR/Builders.h"

namespace graft::lowering {

struct ScalarValue {
  mlir::OpBuilder *b;
  mlir::Location loc;
  mlir::Value v;

  /// `c` as a constant of this value's type.
  ScalarValue constant(double c) const;
  ScalarValue with(mlir::Value r) const { return {b, loc, r}; }
};

/// `formula(x)` built at `b` and `loc` for the scalar `x`.
template <typename F>
mlir::Value buildScalar(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                        F &&formula) {
  return formula(ScalarValue{&b, loc, x}).v;
}

ScalarValue operator-(ScalarValue x);
ScalarValue operator+(ScalarValue x, ScalarValue y);
ScalarValue operator-(ScalarValue x, ScalarValue y);
ScalarValue operator*(ScalarValue x, ScalarValue y);
ScalarValue operator/(ScalarValue x, ScalarValue y);
inline ScalarValue operator+(ScalarValue x, double c) {
  return x + x.constant(c);
}
inline ScalarValue operator+(double c, ScalarValue x) {
  return x.constant(c) + x;
}
inline ScalarValue operator-(ScalarValue x, double c) {
  return x - x.constant(c);
}
inline ScalarValue operator-(double c, ScalarValue x) {
  return x.constant(c) - x;
}
inline ScalarValue operator*(ScalarValue x, double c) {
  return x * x.constant(c);
}
inline ScalarValue operator*(double c, ScalarValue x) {
  return x.constant(c) * x;
}
inline ScalarValue operator/(ScalarValue x, double c) {
  return x / x.constant(c);
}
inline ScalarValue operator/(double c, ScalarValue x) {
  return x.constant(c) / x;
}

ScalarValue exp(ScalarValue x);
ScalarValue log(ScalarValue x);
ScalarValue log1p(ScalarValue x);
ScalarValue sin(ScalarValue x);
ScalarValue cos(ScalarValue x);
ScalarValue sqrt(ScalarValue x);
ScalarValue rsqrt(ScalarValue x);
ScalarValue abs(ScalarValue x);
ScalarValue erf(ScalarValue x);
ScalarValue tanh(ScalarValue x);
/// NaN-propagating, as torch.maximum and torch.minimum.
ScalarValue max(ScalarValue x, ScalarValue y);
ScalarValue min(ScalarValue x, ScalarValue y);
inline ScalarValue max(ScalarValue x, double c) {
  return max(x, x.constant(c));
}
inline ScalarValue min(ScalarValue x, double c) {
  return min(x, x.constant(c));
}
ScalarValue zeroLike(ScalarValue x);

} // namespace graft::lowering

#endif
