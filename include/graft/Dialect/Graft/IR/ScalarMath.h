//===- ScalarMath.h - The scalar formulas of elementwise ops ----*- C++ -*-===//
//
// A unary elementwise op is declared by one row in GraftOps.td, whose scalar
// formula is a C++ expression in `x`. The op class gets it as
//
//   template <typename T> static T scalar(T x);
//
// and every layer that computes the op instantiates that one formula: the
// reference evaluator with T = double, the lowering to linalg with a value
// type whose operators build arith and math ops (lib/Conversion). The
// functions a formula may call are the ones below; a lowering's value type
// provides the same names, found by argument-dependent lookup.
//
// Semantics are PyTorch's: max and min propagate NaN (torch.maximum), and
// rsqrt is 1 / sqrt.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_DIALECT_GRAFT_IR_SCALARMATH_H
#define GRAFT_DIALECT_GRAFT_IR_SCALARMATH_H

#include "llvm/ADT/StringRef.h"

#include <cmath>
#include <limits>

namespace graft {

/// The PyTorch binding of a unary elementwise op, from its row.
struct UnaryRow {
  /// The function and method name: torch.<name>(x), F.<name>(x),
  /// x.<name>(); for an in-place op, the method x.<name>() (`relu_`).
  llvm::StringRef torchName;
  /// The torch.nn module that applies it (`ReLU`), or empty.
  llvm::StringRef moduleName;
  /// Overwrites its operand (x.relu_()).
  bool inPlace;
};

namespace scalar {
inline double exp(double x) { return std::exp(x); }
inline double log(double x) { return std::log(x); }
inline double log1p(double x) { return std::log1p(x); }
inline double sin(double x) { return std::sin(x); }
inline double cos(double x) { return std::cos(x); }
inline double sqrt(double x) { return std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline double abs(double x) { return std::fabs(x); }
inline double erf(double x) { return std::erf(x); }
inline double tanh(double x) { return std::tanh(x); }
inline double max(double a, double b) {
  return std::isnan(a) || std::isnan(b)
             ? std::numeric_limits<double>::quiet_NaN()
             : (a > b ? a : b);
}
inline double min(double a, double b) {
  return std::isnan(a) || std::isnan(b)
             ? std::numeric_limits<double>::quiet_NaN()
             : (a < b ? a : b);
}
/// A zero of x's type (x.zero_(): NaN becomes 0 too).
inline double zeroLike(double) { return 0.0; }

/// Formulas several ops share, for any T.
template <typename T> T sigmoid(T x) { return 1 / (1 + exp(-x)); }
/// F.gelu(x): x * Phi(x), the normal CDF by erf.
template <typename T> T gelu(T x) {
  return x * 0.5 * (1 + erf(x * 0.70710678118654752440));
}
/// F.gelu(x, approximate='tanh'):
/// 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
template <typename T> T geluTanh(T x) {
  T u = x + x * (x * x) * 0.044715;
  return x * 0.5 * (1 + tanh(u * 0.79788456080286535588));
}
} // namespace scalar
} // namespace graft

#endif
