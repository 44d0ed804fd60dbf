//===- Elementwise.cpp - Evaluation: elementwise
//----------------------------===//
//
// Elementwise ops: the unary rows (their scalar formula), arithmetic,
// clamps, comparisons, where, masked_fill, casts, dropout, constants and hooks.
//
//===----------------------------------------------------------------------===//

#include "OpEvaluator.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace graft;
using namespace graft::eval;
using llvm::Error;

std::optional<llvm::Error> OpEvaluator::evalElementwise() {
  // Unary elementwise ops: their row's formula.
  if (std::optional<llvm::Error> e =
          visitUnaryOp<llvm::Error>(op, [&](auto *tag) {
            using Op = std::remove_pointer_t<decltype(tag)>;
            return unary([](double x) { return Op::scalar(x); });
          }))
    return e;
  return llvm::TypeSwitch<Operation *, std::optional<llvm::Error>>(op)
      .Case([&](ConstantOp o) -> Error {
        auto dense = dyn_cast<DenseElementsAttr>(o.getValue());
        if (!dense)
          return error("only dense constants are supported");
        Tensor r = result();
        int64_t i = 0;
        if (isa<FloatType>(dense.getElementType())) {
          for (const llvm::APFloat &f : dense.getValues<llvm::APFloat>())
            r.data[i++] = f.convertToDouble();
        } else {
          bool isBool = dense.getElementType().isInteger(1);
          for (const llvm::APInt &v : dense.getValues<llvm::APInt>())
            r.data[i++] = isBool ? static_cast<double>(v.getZExtValue())
                                 : static_cast<double>(v.getSExtValue());
        }
        set(std::move(r));
        return ok();
      })
      .Case([&](GradHookOp o) { return identity(o.getInput()); })
      .Case([&](HookCallOp o) -> Error {
        auto it = ev.hooks.find(o.getName());
        if (it == ev.hooks.end())
          return identity(o.getGrad());
        Tensor t = it->second(in(o.getGrad()));
        if (t.shape != in(o.getGrad()).shape)
          return error("hook '" + o.getName() + "' returned " + t.typeStr() +
                       " for a gradient " + in(o.getGrad()).typeStr());
        set(std::move(t));
        return ok();
      })
      // Elementwise.
      .Case<AddOp, AddInPlaceOp>([&](auto) {
        return binary([](double a, double b) { return a + b; });
      })
      .Case<SubOp, SubInPlaceOp>([&](auto) {
        return binary([](double a, double b) { return a - b; });
      })
      .Case<MulOp, MulInPlaceOp>([&](auto) {
        return binary([](double a, double b) { return a * b; });
      })
      .Case<DivOp, DivInPlaceOp>([&](auto) {
        return binary([](double a, double b) { return a / b; });
      })
      .Case([&](PowOp) {
        return binary([](double a, double b) { return std::pow(a, b); });
      })
      .Case([&](MaximumOp) {
        return binary([](double a, double b) {
          return std::isnan(a) || std::isnan(b) ? nan() : std::max(a, b);
        });
      })
      .Case([&](MinimumOp) {
        return binary([](double a, double b) {
          return std::isnan(a) || std::isnan(b) ? nan() : std::min(a, b);
        });
      })
      .Case([&](GeluOp o) {
        if (o.getApproximate() == GeluApproximation::tanh)
          return unary([](double x) { return scalar::geluTanh(x); });
        return unary([](double x) { return scalar::gelu(x); });
      })
      .Case<ClampOp, ClampInPlaceOp>([&](auto o) {
        double lo = o.getLower().value_or(-INFINITY);
        double hi = o.getUpper().value_or(INFINITY);
        return unary([lo, hi](double x) {
          return std::isnan(x) ? x : std::min(std::max(x, lo), hi);
        });
      })
      .Case([&](WhereOp o) {
        Tensor r = result();
        auto mc = broadcastMap(r.shape, in(o.getCondition()).shape);
        auto ma = broadcastMap(r.shape, in(o.getLhs()).shape);
        auto mb = broadcastMap(r.shape, in(o.getRhs()).shape);
        for (int64_t i = 0; i < r.numel(); ++i)
          r.data[i] = in(o.getCondition()).data[mc[i]] != 0
                          ? in(o.getLhs()).data[ma[i]]
                          : in(o.getRhs()).data[mb[i]];
        set(std::move(r));
        return ok();
      })
      .Case<MaskedFillOp, MaskedFillInPlaceOp>([&](auto o) {
        double value = o.getValue().convertToDouble();
        return binary(
            op->getOperand(0), o.getMask(),
            [value](double x, double m) { return m != 0 ? value : x; });
      })
      .Case([&](CompareOp o) {
        ComparePredicate p = o.getPredicate();
        return binary([p](double a, double b) -> double {
          switch (p) {
          case ComparePredicate::eq:
            return a == b;
          case ComparePredicate::ne:
            return a != b;
          case ComparePredicate::lt:
            return a < b;
          case ComparePredicate::le:
            return a <= b;
          case ComparePredicate::gt:
            return a > b;
          case ComparePredicate::ge:
            return a >= b;
          }
          return 0.0;
        });
      })
      .Case([&](CastOp o) { return identity(o.getInput()); })
      .Case([&](DropoutOp o) {
        double p = o.getP().convertToDouble();
        Tensor r = in(0);
        if (ev.mode == Mode::Train)
          for (int64_t i = 0; i < r.numel(); ++i)
            r.data[i] = dropoutUniform(ev.seed, o.getStream(), i) < p
                            ? 0.0
                            : r.data[i] / (1.0 - p);
        set(std::move(r));
        return ok();
      })
      .Default([](Operation *) { return std::nullopt; });
}
