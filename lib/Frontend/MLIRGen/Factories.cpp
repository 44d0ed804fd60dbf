//===- Factories.cpp - Tensors made at compile time
//-------------------------===//
//
// arange, zeros, ones, full (and their _like forms), tril and triu: constants
// written into the model.
//
//===----------------------------------------------------------------------===//

#include "Gen.h"
#include "mlir/IR/Matchers.h"
#include <cmath>

using namespace graft;
using namespace graft::frontend;

/// A constant of `type` with `v` everywhere: a splat, one value in the IR
/// whatever the size.
Val Gen::splatConstant(RankedTensorType type, double v, Loc loc) {
  Type elt = type.getElementType();
  mlir::Attribute element;
  if (auto f = mlir::dyn_cast<mlir::FloatType>(elt))
    element = builder.getFloatAttr(f, v);
  else if (elt.isInteger(1))
    element = builder.getBoolAttr(v != 0);
  else
    element = builder.getIntegerAttr(elt, static_cast<int64_t>(v));
  return Val::tensor(ConstantOp::create(
      builder, L(loc), mlir::DenseElementsAttr::get(type, element)));
}

/// A constant of `type` whose element i is value(i). Constants are written
/// into the IR: at most 2^24 elements.
FailureOr<Val> Gen::constantOf(RankedTensorType type,
                               llvm::function_ref<double(int64_t)> value,
                               Loc loc, const Twine &what) {
  constexpr int64_t maxElements = int64_t(1) << 24;
  Type elt = type.getElementType();
  int64_t n = type.getNumElements();
  if (n > maxElements) {
    error(loc, what + " would make a constant of " + Twine(n) +
                   " elements (at most 2^24 are written into the model)");
    return failure();
  }
  mlir::DenseElementsAttr attr;
  if (auto f = mlir::dyn_cast<mlir::FloatType>(elt)) {
    std::vector<llvm::APFloat> values;
    for (int64_t i = 0; i < n; ++i) {
      llvm::APFloat a(value(i));
      bool lost;
      a.convert(f.getFloatSemantics(), llvm::APFloat::rmNearestTiesToEven,
                &lost);
      values.push_back(a);
    }
    attr = mlir::DenseElementsAttr::get(type, values);
  } else {
    std::vector<llvm::APInt> values;
    for (int64_t i = 0; i < n; ++i)
      values.push_back(llvm::APInt(elt.getIntOrFloatBitWidth(),
                                   static_cast<int64_t>(value(i)),
                                   /*isSigned=*/true, /*implicitTrunc=*/true));
    attr = mlir::DenseElementsAttr::get(type, values);
  }
  return Val::tensor(ConstantOp::create(builder, L(loc), attr));
}

FailureOr<Val> Gen::factory(Call &c) {
  StringRef name = c.name;
  std::vector<CallArg> &args = c.args;
  Loc loc = c.loc;
  auto dtypeOf = [&](CallArg &a, Type &elt) -> LogicalResult {
    auto s = asString(a.value, a.loc, "dtype");
    if (failed(s))
      return failure();
    elt = elementTypeNamed(*s);
    if (!elt) {
      error(a.loc, "unknown dtype '" + *s +
                       "'; expected f32, f64, bf16, i64, i32 or bool");
      return failure();
    }
    return success();
  };
  auto splat = [&](RankedTensorType type, double v) {
    return splatConstant(type, v, loc);
  };
  auto constant = [&](RankedTensorType type,
                      llvm::function_ref<double(int64_t)> value) {
    return constantOf(type, value, loc, name + "()");
  };

  // The positional arguments and the keywords, split.
  std::vector<CallArg *> positional;
  llvm::StringMap<CallArg *> keywords;
  for (CallArg &a : args) {
    if (a.keyword.empty()) {
      if (!keywords.empty()) {
        error(a.loc, "positional argument follows keyword argument");
        return FailureOr<Val>(failure());
      }
      positional.push_back(&a);
    } else {
      keywords[a.keyword] = &a;
    }
  }
  auto unexpected = [&](llvm::ArrayRef<StringRef> allowed) -> LogicalResult {
    for (auto &kv : keywords)
      if (!llvm::is_contained(allowed, kv.getKey())) {
        error(kv.getValue()->loc, name +
                                      "() got an unexpected keyword "
                                      "argument '" +
                                      kv.getKey() + "'");
        return failure();
      }
    return success();
  };

  if (name == "tril" || name == "triu") {
    // PyTorch: elements on and below (tril) or above (triu) the diagonal
    // `diagonal` of the last two dimensions are kept, the others zeroed.
    if (failed(unexpected({"input", "diagonal"})))
      return FailureOr<Val>(failure());
    auto b = bindArgs(name, {"input", "diagonal"}, 1, args, loc);
    if (failed(b))
      return FailureOr<Val>(failure());
    auto x = asTensor(b->get("input"), b->locOf("input"), name);
    if (failed(x))
      return FailureOr<Val>(failure());
    int64_t diagonal = 0;
    if (b->has("diagonal")) {
      auto d = asInt(b->get("diagonal"), b->locOf("diagonal"), "diagonal");
      if (failed(d))
        return FailureOr<Val>(failure());
      diagonal = *d;
    }
    RankedTensorType xt = typeOf(*x);
    if (xt.getRank() < 2) {
      error(b->locOf("input"), name + ": input tensor must have at least 2 "
                                      "dimensions");
      return FailureOr<Val>(failure());
    }
    int64_t rows = xt.getDimSize(xt.getRank() - 2),
            cols = xt.getDimSize(xt.getRank() - 1);
    bool lower = name == "tril";
    auto inTriangle = [&](int64_t i) {
      int64_t r = (i / cols) % rows, c = i % cols;
      return lower ? c - r <= diagonal : c - r >= diagonal;
    };
    if (xt.getElementType().isInteger(1)) {
      // A boolean mask (torch.ones(T, T, dtype=torch.bool).tril()): made
      // when compiling, from a constant.
      mlir::DenseElementsAttr bits;
      if (!mlir::matchPattern(*x, mlir::m_Constant(&bits))) {
        error(b->locOf("input"),
              name + " of a computed bool tensor: build the mask from "
                     "constants, e.g. torch.tril(torch.ones(T, T, "
                     "dtype=torch.bool))");
        return FailureOr<Val>(failure());
      }
      auto values = bits.getValues<bool>();
      return constant(xt, [&](int64_t i) -> double {
        return inTriangle(i) && values[bits.isSplat() ? 0 : i];
      });
    }
    auto mask =
        constant(RankedTensorType::get({rows, cols}, builder.getI1Type()),
                 [&](int64_t i) -> double { return inTriangle(i); });
    if (failed(mask))
      return FailureOr<Val>(failure());
    Value zero = scalar(0, xt.getElementType(), loc);
    auto kept = make<WhereOp>(loc, name, {mask->t, *x, zero});
    if (failed(kept))
      return FailureOr<Val>(failure());
    return FailureOr<Val>(Val::tensor(*kept));
  }

  bool like = name.ends_with("_like");
  StringRef base = like ? name.drop_back(5) : name;
  Type elt;
  if (auto it = keywords.find("dtype"); it != keywords.end())
    if (failed(dtypeOf(*it->getValue(), elt)))
      return FailureOr<Val>(failure());

  if (name == "arange") {
    // arange(end), arange(start, end), arange(start, end, step): integers
    // give i64 values, any float f32 (PyTorch's inference).
    if (failed(unexpected({"start", "end", "step", "dtype"})))
      return FailureOr<Val>(failure());
    std::vector<Val> bounds;
    for (CallArg *a : positional)
      bounds.push_back(a->value);
    for (StringRef k : {"start", "end", "step"})
      if (auto it = keywords.find(k); it != keywords.end())
        bounds.push_back(it->getValue()->value);
    if (bounds.empty() || bounds.size() > 3) {
      error(loc, "arange() takes 1 to 3 numbers (end; start, end; start, "
                 "end, step)");
      return FailureOr<Val>(failure());
    }
    double nums[3] = {0, 0, 1};
    bool allInt = true;
    for (auto [i, v] : llvm::enumerate(bounds)) {
      auto d = asNumber(v, loc, "arange()");
      if (failed(d))
        return FailureOr<Val>(failure());
      nums[bounds.size() == 1 ? 1 : i] = *d;
      allInt &= v.isInt;
    }
    double start = nums[0], end = nums[1], step = nums[2];
    if (step == 0) {
      error(loc, "arange(): step must be nonzero");
      return FailureOr<Val>(failure());
    }
    if ((step > 0 && end < start) || (step < 0 && end > start)) {
      error(loc, "arange(): upper bound and larger bound inconsistent with "
                 "step sign");
      return FailureOr<Val>(failure());
    }
    int64_t n = static_cast<int64_t>(std::ceil((end - start) / step));
    if (n < 1) {
      error(loc, "arange() of no elements: Graft's tensors have at least one");
      return FailureOr<Val>(failure());
    }
    if (!elt)
      elt = allInt ? Type(builder.getI64Type()) : Type(builder.getF32Type());
    return constant(RankedTensorType::get({n}, elt), [&](int64_t i) {
      return start + static_cast<double>(i) * step;
    });
  }

  if (name == "eye") {
    // eye(n, m=n): ones on the diagonal.
    if (failed(unexpected({"n", "m", "dtype"})))
      return FailureOr<Val>(failure());
    auto b = bindArgs(name, {"n", "m", "dtype"}, 1, args, loc);
    if (failed(b))
      return FailureOr<Val>(failure());
    auto n = asInt(b->get("n"), b->locOf("n"), "n");
    if (failed(n))
      return FailureOr<Val>(failure());
    int64_t m = *n;
    if (b->has("m")) {
      auto v = asInt(b->get("m"), b->locOf("m"), "m");
      if (failed(v))
        return FailureOr<Val>(failure());
      m = *v;
    }
    if (*n < 1 || m < 1) {
      error(loc, "eye(): sizes must be positive (Graft's tensors have "
                 "dimensions of at least 1)");
      return FailureOr<Val>(failure());
    }
    if (!elt)
      elt = builder.getF32Type();
    return constant(RankedTensorType::get({*n, m}, elt),
                    [&](int64_t i) { return i / m == i % m ? 1.0 : 0.0; });
  }

  // zeros, ones, full and the _like forms.
  llvm::SmallVector<int64_t> shape;
  double fill = base == "ones" ? 1.0 : 0.0;
  size_t fillArg = base == "full" ? 1 : 0; // positional args after the size
  if (like) {
    // zeros_like(input), ones_like(input), full_like(input, fill_value);
    // dtype is keyword-only, as in torch.
    if (positional.size() > 1 + fillArg) {
      error(positional[1 + fillArg]->loc,
            name + "() takes dtype as a keyword: dtype=\"f64\"");
      return FailureOr<Val>(failure());
    }
    auto b = bindArgs(
        name,
        fillArg ? llvm::ArrayRef<StringRef>{"input", "fill_value", "dtype"}
                : llvm::ArrayRef<StringRef>{"input", "dtype"},
        1 + fillArg, args, loc);
    if (failed(b))
      return FailureOr<Val>(failure());
    auto x = asTensor(b->get("input"), b->locOf("input"), name);
    if (failed(x))
      return FailureOr<Val>(failure());
    RankedTensorType xt = typeOf(*x);
    llvm::append_range(shape, xt.getShape());
    if (!elt)
      elt = xt.getElementType();
    if (fillArg) {
      auto f =
          asNumber(b->get("fill_value"), b->locOf("fill_value"), "fill_value");
      if (failed(f))
        return FailureOr<Val>(failure());
      fill = *f;
    }
  } else {
    if (failed(unexpected({"size", "fill_value", "dtype"})))
      return FailureOr<Val>(failure());
    // The size: numbers, or one list or tuple of them (full takes the
    // size as its first argument, as torch.full does).
    std::vector<const CallArg *> sizeArgs;
    for (size_t i = 0; i < (fillArg ? std::min<size_t>(1, positional.size())
                                    : positional.size());
         ++i)
      sizeArgs.push_back(positional[i]);
    if (auto it = keywords.find("size"); it != keywords.end())
      sizeArgs.push_back(it->getValue());
    if (fillArg && positional.size() > 2) {
      error(positional[2]->loc, "full() takes the size as one list or "
                                "tuple, then fill_value: full((2, 3), 0.5)");
      return FailureOr<Val>(failure());
    }
    std::vector<std::pair<Val, Loc>> dims;
    if (sizeArgs.size() == 1 && sizeArgs[0]->value.k == Val::K::List)
      for (const Val &v : *sizeArgs[0]->value.list)
        dims.push_back({v, sizeArgs[0]->loc});
    else
      for (const CallArg *a : sizeArgs)
        dims.push_back({a->value, a->loc});
    if (dims.empty()) {
      error(loc, name + "() needs a size, e.g. " + name +
                     (fillArg ? "((3, 4), 0.5)" : "(3, 4)"));
      return FailureOr<Val>(failure());
    }
    for (auto &[v, l] : dims) {
      auto d = asInt(v, l, "a dimension");
      if (failed(d))
        return FailureOr<Val>(failure());
      if (*d < 1) {
        error(l, name + "(): dimension " + Twine(*d) +
                     " (Graft's tensors have dimensions of at least 1)");
        return FailureOr<Val>(failure());
      }
      shape.push_back(*d);
    }
    if (fillArg) {
      const CallArg *v = positional.size() == 2 ? positional[1]
                                                : keywords.lookup("fill_value");
      if (!v) {
        error(loc, "full() missing required argument 'fill_value'");
        return FailureOr<Val>(failure());
      }
      auto f = asNumber(v->value, v->loc, "fill_value");
      if (failed(f))
        return FailureOr<Val>(failure());
      fill = *f;
      // PyTorch infers full()'s dtype from the fill value.
      if (!elt && v->value.k == Val::K::Num && v->value.isInt)
        elt = builder.getI64Type();
      if (!elt && v->value.k == Val::K::Bool)
        elt = builder.getI1Type();
    }
    if (!elt)
      elt = builder.getF32Type();
  }
  return splat(RankedTensorType::get(shape, elt), fill);
}
