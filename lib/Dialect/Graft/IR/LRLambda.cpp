//===- LRLambda.cpp - LambdaLR's function of the step count ---------------===//

#include "graft/Dialect/Graft/IR/LRLambda.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/StringSwitch.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace {
/// Operand counts of each operator: exactly `min` when `max` is 0, else
/// between them; -1 for an unknown operator.
struct Arity {
  int min, max;
};
Arity arityOf(StringRef op) {
  return llvm::StringSwitch<Arity>(op)
      .Cases({"add", "sub", "mul", "div", "floordiv", "mod", "pow"}, {2, 0})
      .Cases({"lt", "le", "gt", "ge", "eq", "ne", "and", "or"}, {2, 0})
      .Cases({"neg", "not", "abs", "trunc", "floor", "ceil", "sqrt"}, {1, 0})
      .Cases({"exp", "log", "cos", "sin"}, {1, 0})
      .Cases({"min", "max"}, {2, 1 << 20})
      .Case("select", {3, 0})
      .Default({-1, 0});
}
} // namespace

std::string graft::checkLRLambda(Attribute node) {
  if (isa_and_nonnull<FloatAttr>(node))
    return "";
  if (auto s = dyn_cast_or_null<StringAttr>(node))
    return s.getValue() == "n" ? ""
                               : "unknown name '" + s.getValue().str() + "'";
  auto list = dyn_cast_or_null<ArrayAttr>(node);
  if (!list || list.empty() || !isa<StringAttr>(list[0]))
    return "a node is a number, \"n\" or [op, operands...]";
  StringRef op = cast<StringAttr>(list[0]).getValue();
  Arity a = arityOf(op);
  int n = static_cast<int>(list.size()) - 1;
  if (a.min < 0)
    return "unknown operator '" + op.str() + "'";
  if (a.max ? (n < a.min || n > a.max) : n != a.min)
    return "'" + op.str() + "' takes " + std::to_string(a.min) +
           (a.max ? " or more" : "") + " operands, got " + std::to_string(n);
  for (Attribute operand : list.getValue().drop_front())
    if (std::string e = checkLRLambda(operand); !e.empty())
      return e;
  return "";
}

/// Python's float floor division and modulo.
static double floorDiv(double a, double b) { return std::floor(a / b); }
static double pyMod(double a, double b) {
  double r = std::fmod(a, b);
  return r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
}

double graft::evaluateLRLambda(Attribute node, double n) {
  if (auto f = dyn_cast<FloatAttr>(node))
    return f.getValueAsDouble();
  if (isa<StringAttr>(node))
    return n;
  auto list = cast<ArrayAttr>(node);
  StringRef op = cast<StringAttr>(list[0]).getValue();
  auto arg = [&](unsigned i) { return evaluateLRLambda(list[i + 1], n); };
  if (op == "select")
    return arg(0) != 0 ? arg(1) : arg(2);
  if (op == "and") {
    double a = arg(0);
    return a != 0 ? arg(1) : a;
  }
  if (op == "or") {
    double a = arg(0);
    return a != 0 ? a : arg(1);
  }
  if (op == "min" || op == "max") {
    double r = arg(0);
    for (unsigned i = 1; i + 1 < list.size(); ++i)
      r = op == "min" ? std::min(r, arg(i)) : std::max(r, arg(i));
    return r;
  }
  double a = arg(0);
  if (list.size() == 2) {
    return llvm::StringSwitch<double>(op)
        .Case("neg", -a)
        .Case("not", a == 0)
        .Case("abs", std::fabs(a))
        .Case("trunc", std::trunc(a))
        .Case("floor", std::floor(a))
        .Case("ceil", std::ceil(a))
        .Case("sqrt", std::sqrt(a))
        .Case("exp", std::exp(a))
        .Case("log", std::log(a))
        .Case("cos", std::cos(a))
        .Case("sin", std::sin(a))
        .Default(std::numeric_limits<double>::quiet_NaN());
  }
  double b = arg(1);
  return llvm::StringSwitch<double>(op)
      .Case("add", a + b)
      .Case("sub", a - b)
      .Case("mul", a * b)
      .Case("div", a / b)
      .Case("floordiv", floorDiv(a, b))
      .Case("mod", pyMod(a, b))
      .Case("pow", std::pow(a, b))
      .Case("lt", a < b)
      .Case("le", a <= b)
      .Case("gt", a > b)
      .Case("ge", a >= b)
      .Case("eq", a == b)
      .Case("ne", a != b)
      .Default(std::numeric_limits<double>::quiet_NaN());
}
