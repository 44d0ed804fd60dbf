//===- Decompositions.cpp - Functions written as PyTorch defines them -----===//
//
// Built-ins whose PyTorch definition is a formula over other built-ins:
// leaky_relu, elu, softplus, the regression and binary losses, kl_div,
// repeat, index_select, and scaled_dot_product_attention with a mask or
// dropout. Each is built from
// the language's own functions (callNamed), so its gradient is derived from
// theirs and every target lowers it. Branches that a `where` does not
// select are kept finite (exp of a clamped argument), so that their zero
// gradient does not become 0 * inf.
//
//===----------------------------------------------------------------------===//

#include "Gen.h"

#include <cmath>

using namespace graft;
using namespace graft::frontend;

FailureOr<Val> Gen::callNamed(StringRef fn, std::vector<Val> args, Loc l) {
  std::vector<CallArg> bound;
  for (Val &a : args)
    bound.push_back({"", l, std::move(a)});
  return callBuiltin(fn, bound, l);
}

/// A number argument, or `fallback` when it is not given.
FailureOr<double> Gen::numberOr(Call &c, StringRef name, double fallback) {
  if (!c.has(name))
    return fallback;
  return asNumber(c.get(name), c.locOf(name), name);
}

/// inplace=True where Graft has no in-place form: an error, not a copy.
LogicalResult Gen::noInPlace(Call &c) {
  if (!c.has("inplace"))
    return success();
  auto b = asBool(c.get("inplace"), c.locOf("inplace"), "inplace");
  if (failed(b))
    return failure();
  if (*b) {
    error(c.locOf("inplace"), c.name + "(inplace=True): Graft has no in-place "
                                       "form of it; assign the result");
    return failure();
  }
  return success();
}

FailureOr<Val> Gen::leakyRelu(Call &c) {
  auto x = floatInput(c);
  auto slope = numberOr(c, "negative_slope", 0.01);
  if (failed(x) || failed(slope) || failed(noInPlace(c)))
    return failure();
  // x > 0 ? x : x * negative_slope (the slope at 0, as PyTorch's backward).
  auto positive = callNamed("gt", {Val::tensor(*x), Val::real(0)}, c.loc);
  auto scaled = callNamed("mul", {Val::tensor(*x), Val::real(*slope)}, c.loc);
  if (failed(positive) || failed(scaled))
    return failure();
  return callNamed("where", {*positive, Val::tensor(*x), *scaled}, c.loc);
}

FailureOr<Val> Gen::elu(Call &c) {
  auto x = floatInput(c);
  auto alpha = numberOr(c, "alpha", 1.0);
  if (failed(x) || failed(alpha) || failed(noInPlace(c)))
    return failure();
  // x > 0 ? x : alpha * (exp(x) - 1), the exp of 0 where x > 0. (A select,
  // not minimum(x, 0), whose gradient at the tie x = 0 is halved.)
  Val xv = Val::tensor(*x);
  auto positive = callNamed("gt", {xv, Val::real(0)}, c.loc);
  auto clamped = succeeded(positive)
                     ? callNamed("where", {*positive, Val::real(0), xv}, c.loc)
                     : positive;
  FailureOr<Val> negative = failure();
  if (succeeded(clamped))
    negative = callNamed("exp", {*clamped}, c.loc);
  if (succeeded(negative))
    negative = callNamed("sub", {*negative, Val::real(1)}, c.loc);
  if (succeeded(negative) && *alpha != 1) // x * 1 is x: no op
    negative = callNamed("mul", {*negative, Val::real(*alpha)}, c.loc);
  if (failed(positive) || failed(negative))
    return failure();
  return callNamed("where", {*positive, xv, *negative}, c.loc);
}

FailureOr<Val> Gen::softplus(Call &c) {
  auto x = floatInput(c);
  auto beta = numberOr(c, "beta", 1.0);
  auto threshold = numberOr(c, "threshold", 20.0);
  if (failed(x) || failed(beta) || failed(threshold))
    return failure();
  // x * beta > threshold ? x : log1p(exp(x * beta)) / beta, the exp of
  // the threshold where x * beta is above it.
  Val xv = Val::tensor(*x);
  FailureOr<Val> bx = xv; // x * 1 and x / 1 are x: no ops
  if (*beta != 1)
    bx = callNamed("mul", {xv, Val::real(*beta)}, c.loc);
  if (failed(bx))
    return failure();
  auto linear = callNamed("gt", {*bx, Val::real(*threshold)}, c.loc);
  auto soft =
      succeeded(linear)
          ? callNamed("where", {*linear, Val::real(*threshold), *bx}, c.loc)
          : linear;
  for (StringRef fn : {"exp", "log1p"})
    if (succeeded(soft))
      soft = callNamed(fn, {*soft}, c.loc);
  if (succeeded(soft) && *beta != 1)
    soft = callNamed("div", {*soft, Val::real(*beta)}, c.loc);
  if (failed(linear) || failed(soft))
    return failure();
  return callNamed("where", {*linear, xv, *soft}, c.loc);
}

FailureOr<std::string> Gen::reductionArg(Call &c, bool batchmean) {
  if (!c.has("reduction"))
    return std::string("mean");
  auto r = asString(c.get("reduction"), c.locOf("reduction"), "reduction");
  if (failed(r))
    return failure();
  if (*r == "none" || *r == "mean" || *r == "sum" ||
      (batchmean && *r == "batchmean"))
    return r;
  error(c.locOf("reduction"),
        "'" + *r + "' is not a valid value for reduction; expected " +
            (batchmean ? "'none', 'batchmean', 'sum' or 'mean'"
                       : "'none', 'mean' or 'sum'"));
  return failure();
}

FailureOr<Val> Gen::reduceLoss(Call &c, Val pointwise) {
  auto reduction = reductionArg(c, /*batchmean=*/c.name == "kl_div");
  if (failed(reduction))
    return failure();
  if (*reduction == "none")
    return pointwise;
  if (*reduction == "mean" || *reduction == "sum")
    return callNamed(*reduction, {pointwise}, c.loc);
  // batchmean: the sum divided by the batch size (the first dimension).
  RankedTensorType t = typeOf(pointwise.t);
  auto sum = callNamed("sum", {pointwise}, c.loc);
  if (failed(sum))
    return failure();
  return callNamed("div", {*sum, Val::real(t.getRank() ? t.getDimSize(0) : 1)},
                   c.loc);
}

FailureOr<Val> Gen::regressionLoss(Call &c) {
  auto x = floatInput(c);
  auto t = asTensor(c.get("target"), c.locOf("target"), "target");
  if (failed(x) || failed(t))
    return failure();
  auto diff = callNamed("sub", {Val::tensor(*x), Val::tensor(*t)}, c.loc);
  auto z = succeeded(diff) ? callNamed("abs", {*diff}, c.loc) : diff;
  if (failed(z))
    return failure();
  if (c.name == "l1_loss")
    return reduceLoss(c, *z);
  // smooth_l1_loss: z < beta ? 0.5 z^2 / beta : z - 0.5 beta (beta 0: l1);
  // huber_loss: z < delta ? 0.5 z^2 : delta (z - 0.5 delta).
  bool huber = c.name == "huber_loss";
  auto width = numberOr(c, huber ? "delta" : "beta", 1.0);
  if (failed(width))
    return failure();
  if (*width < 0 || (huber && *width == 0)) {
    error(c.locOf(huber ? "delta" : "beta"),
          c.name + (huber ? " does not support non-positive values for delta"
                          : " does not support negative values for beta"));
    return failure();
  }
  if (*width == 0)
    return reduceLoss(c, *z);
  auto small = callNamed("lt", {*z, Val::real(*width)}, c.loc);
  auto square = callNamed("mul", {*z, *z}, c.loc);
  if (succeeded(square))
    square = callNamed("mul", {*square, Val::real(0.5)}, c.loc);
  if (succeeded(square) && !huber)
    square = callNamed("div", {*square, Val::real(*width)}, c.loc);
  auto linear = callNamed("sub", {*z, Val::real(0.5 * *width)}, c.loc);
  if (succeeded(linear) && huber)
    linear = callNamed("mul", {*linear, Val::real(*width)}, c.loc);
  if (failed(small) || failed(square) || failed(linear))
    return failure();
  auto pointwise = callNamed("where", {*small, *square, *linear}, c.loc);
  if (failed(pointwise))
    return failure();
  return reduceLoss(c, *pointwise);
}

FailureOr<Val> Gen::binaryCrossEntropy(Call &c) {
  auto x = floatInput(c);
  auto t = asTensor(c.get("target"), c.locOf("target"), "target");
  if (failed(x) || failed(t))
    return failure();
  Val xv = Val::tensor(*x), tv = Val::tensor(*t);
  FailureOr<Val> loss = failure();
  if (c.name == "binary_cross_entropy") {
    // -(t log(x) + (1 - t) log(1 - x)), each log clamped at -100 as
    // PyTorch's.
    auto logOf = [&](FailureOr<Val> v) -> FailureOr<Val> {
      if (succeeded(v))
        v = callNamed("log", {*v}, c.loc);
      if (succeeded(v))
        v = callNamed("maximum", {*v, Val::real(-100)}, c.loc);
      return v;
    };
    auto logX = logOf(xv);
    auto oneMinusX = callNamed("sub", {Val::real(1), xv}, c.loc);
    auto log1mX = logOf(oneMinusX);
    auto oneMinusT = callNamed("sub", {Val::real(1), tv}, c.loc);
    if (failed(logX) || failed(log1mX) || failed(oneMinusT))
      return failure();
    auto a = callNamed("mul", {tv, *logX}, c.loc);
    auto b = callNamed("mul", {*oneMinusT, *log1mX}, c.loc);
    if (failed(a) || failed(b))
      return failure();
    loss = callNamed("add", {*a, *b}, c.loc);
    if (succeeded(loss))
      loss = callNamed("neg", {*loss}, c.loc);
  } else {
    // PyTorch's stable form: with m = max(-x, 0),
    // (1 - t) x + w (log(exp(-m) + exp(-x - m)) + m), w = (pos_weight - 1)
    // t + 1 (1 without pos_weight).
    auto m = callNamed("neg", {xv}, c.loc);
    if (succeeded(m))
      m = callNamed("maximum", {*m, Val::real(0)}, c.loc);
    if (failed(m))
      return failure();
    auto e1 = callNamed("neg", {*m}, c.loc);
    if (succeeded(e1))
      e1 = callNamed("exp", {*e1}, c.loc);
    auto e2 = callNamed("neg", {xv}, c.loc);
    if (succeeded(e2))
      e2 = callNamed("sub", {*e2, *m}, c.loc);
    if (succeeded(e2))
      e2 = callNamed("exp", {*e2}, c.loc);
    if (failed(e1) || failed(e2))
      return failure();
    auto softTerm = callNamed("add", {*e1, *e2}, c.loc);
    if (succeeded(softTerm))
      softTerm = callNamed("log", {*softTerm}, c.loc);
    if (succeeded(softTerm))
      softTerm = callNamed("add", {*softTerm, *m}, c.loc);
    if (succeeded(softTerm) && c.has("pos_weight")) {
      auto w = callNamed("sub", {c.get("pos_weight"), Val::real(1)}, c.loc);
      if (succeeded(w))
        w = callNamed("mul", {*w, tv}, c.loc);
      if (succeeded(w))
        w = callNamed("add", {*w, Val::real(1)}, c.loc);
      softTerm = succeeded(w) ? callNamed("mul", {*w, *softTerm}, c.loc) : w;
    }
    auto oneMinusT = callNamed("sub", {Val::real(1), tv}, c.loc);
    auto first = succeeded(oneMinusT)
                     ? callNamed("mul", {*oneMinusT, xv}, c.loc)
                     : oneMinusT;
    if (failed(softTerm) || failed(first))
      return failure();
    loss = callNamed("add", {*first, *softTerm}, c.loc);
  }
  if (succeeded(loss) && c.has("weight"))
    loss = callNamed("mul", {*loss, c.get("weight")}, c.loc);
  if (failed(loss))
    return failure();
  return reduceLoss(c, *loss);
}

FailureOr<Val> Gen::klDiv(Call &c) {
  auto x = floatInput(c);
  auto t = asTensor(c.get("target"), c.locOf("target"), "target");
  if (failed(x) || failed(t))
    return failure();
  bool logTarget = false;
  if (c.has("log_target")) {
    auto b = asBool(c.get("log_target"), c.locOf("log_target"), "log_target");
    if (failed(b))
      return failure();
    logTarget = *b;
  }
  Val xv = Val::tensor(*x), tv = Val::tensor(*t);
  FailureOr<Val> loss = failure();
  if (logTarget) {
    // exp(t) (t - x)
    auto e = callNamed("exp", {tv}, c.loc);
    auto d = callNamed("sub", {tv, xv}, c.loc);
    if (failed(e) || failed(d))
      return failure();
    loss = callNamed("mul", {*e, *d}, c.loc);
  } else {
    // xlogy(t, t) - t x: t log t, 0 where t is 0 (log of t where t > 0).
    auto positive = callNamed("gt", {tv, Val::real(0)}, c.loc);
    auto safe = succeeded(positive)
                    ? callNamed("where", {*positive, tv, Val::real(1)}, c.loc)
                    : positive;
    auto logT = succeeded(safe) ? callNamed("log", {*safe}, c.loc) : safe;
    auto tLogT = succeeded(logT) ? callNamed("mul", {tv, *logT}, c.loc) : logT;
    auto tx = callNamed("mul", {tv, xv}, c.loc);
    if (failed(tLogT) || failed(tx))
      return failure();
    loss = callNamed("sub", {*tLogT, *tx}, c.loc);
  }
  if (failed(loss))
    return failure();
  return reduceLoss(c, *loss);
}

FailureOr<Val> Gen::repeat(Call &c) {
  auto xs = tensorAndSizes(c);
  if (failed(xs))
    return failure();
  auto &[x, repeats] = *xs;
  RankedTensorType type = typeOf(x);
  int64_t rank = type.getRank(), k = static_cast<int64_t>(repeats.size());
  if (k < rank) {
    error(c.loc, "Number of dimensions of repeat dims can not be smaller "
                 "than number of dimensions of tensor");
    return failure();
  }
  if (llvm::any_of(repeats, [](int64_t r) { return r < 1; })) {
    error(c.loc, "repeat: every count must be at least 1 (Graft's tensors "
                 "have dimensions of at least 1)");
    return failure();
  }
  // Each dimension d of size s (1 for the leading new ones) becomes the
  // pair [1, s], expanded to [r, s], then merged: tiling, as torch's repeat.
  llvm::SmallVector<int64_t> pairs, expanded, result;
  for (int64_t i = 0; i < k; ++i) {
    int64_t s = i < k - rank ? 1 : type.getDimSize(i - (k - rank));
    pairs.append({1, s});
    expanded.append({repeats[i], s});
    result.push_back(repeats[i] * s);
  }
  Type elt = type.getElementType();
  auto split = make<ReshapeOp>(c.loc, c.name, {x}, {},
                               RankedTensorType::get(pairs, elt));
  if (failed(split))
    return failure();
  auto tiled = make<BroadcastToOp>(c.loc, c.name, {*split}, {},
                                   RankedTensorType::get(expanded, elt));
  if (failed(tiled))
    return failure();
  return tensorResult(make<ReshapeOp>(c.loc, c.name, {*tiled}, {},
                                      RankedTensorType::get(result, elt)));
}

FailureOr<Val> Gen::indexSelect(Call &c) {
  auto x = floatInput(c);
  auto index = asTensor(c.get("index"), c.locOf("index"), "index");
  if (failed(x) || failed(index))
    return failure();
  RankedTensorType xt = typeOf(*x), it = typeOf(*index);
  if (it.getRank() != 1 || !mlir::isa<mlir::IntegerType>(it.getElementType())) {
    error(c.locOf("index"), "index_select(): Index is supposed to be a "
                            "vector of integers, got " +
                                typeStr(*index));
    return failure();
  }
  auto dim = dimArg(c, "dim", xt.getRank());
  if (failed(dim))
    return failure();
  // The slices along `dim` are the rows of a table: move dim to the front,
  // flatten the rest, look the rows up (embedding: its backward adds each
  // row's gradient into the rows it came from, as index_select's does), and
  // put the shape back.
  int64_t rank = xt.getRank();
  llvm::SmallVector<int64_t> perm = {*dim}, inverse(rank);
  for (int64_t d = 0; d < rank; ++d)
    if (d != *dim)
      perm.push_back(d);
  for (int64_t d = 0; d < rank; ++d)
    inverse[perm[d]] = d;
  llvm::SmallVector<int64_t> moved;
  for (int64_t d : perm)
    moved.push_back(xt.getDimSize(d));
  int64_t rest = 1;
  for (int64_t s : llvm::ArrayRef<int64_t>(moved).drop_front())
    rest *= s;
  Val table = Val::tensor(*x);
  if (*dim != 0) {
    std::vector<Val> dims;
    for (int64_t d : perm)
      dims.push_back(Val::integer(d));
    auto p = callNamed("permute", {table, Val::listOf(std::move(dims))}, c.loc);
    if (failed(p))
      return failure();
    table = *p;
  }
  auto rows = callNamed(
      "reshape",
      {table, Val::listOf({Val::integer(moved.front()), Val::integer(rest)})},
      c.loc);
  auto picked = succeeded(rows) ? callNamed("embedding",
                                            {Val::tensor(*index), *rows}, c.loc)
                                : rows;
  if (failed(picked))
    return failure();
  std::vector<Val> shape = {Val::integer(it.getDimSize(0))};
  for (int64_t s : llvm::ArrayRef<int64_t>(moved).drop_front())
    shape.push_back(Val::integer(s));
  auto result =
      callNamed("reshape", {*picked, Val::listOf(std::move(shape))}, c.loc);
  if (failed(result) || *dim == 0)
    return result;
  std::vector<Val> back;
  for (int64_t d : inverse)
    back.push_back(Val::integer(d));
  return callNamed("permute", {*result, Val::listOf(std::move(back))}, c.loc);
}

FailureOr<Val> Gen::attentionByDefinition(Call &c, Value q, Value k, Value v) {
  // torch.nn.functional.scaled_dot_product_attention's documented
  // definition: the scores q @ k^T * scale, -inf where the causal or a
  // boolean mask excludes, plus a float mask, softmax over the keys,
  // dropout on the weights, times v. Each step is the built-in of its name.
  auto call = [&](StringRef fn, std::vector<Val> args) {
    return callNamed(fn, std::move(args), c.loc);
  };
  bool causal = false;
  if (c.has("is_causal")) {
    auto b = asBool(c.get("is_causal"), c.locOf("is_causal"), "is_causal");
    if (failed(b))
      return failure();
    causal = *b;
  }
  if (causal && c.has("attn_mask")) {
    error(c.locOf("attn_mask"), "_scaled_dot_product_attention: Explicit "
                                "attn_mask should not be set when "
                                "is_causal=True");
    return failure();
  }
  llvm::ArrayRef<int64_t> qs = typeOf(q).getShape(), ks = typeOf(k).getShape();
  if (qs.size() < 2 || ks.size() < 2) {
    error(c.loc, "scaled_dot_product_attention expects query and key of "
                 "rank >= 2 (..., L, E) and (..., S, E)");
    return failure();
  }
  double scale = 1.0 / std::sqrt(static_cast<double>(qs.back()));
  if (c.has("scale")) {
    auto s = asNumber(c.get("scale"), c.locOf("scale"), "scale");
    if (failed(s))
      return failure();
    scale = *s;
  }
  auto kt =
      call("transpose", {Val::tensor(k), Val::integer(-2), Val::integer(-1)});
  if (failed(kt))
    return failure();
  auto scores = call("matmul", {Val::tensor(q), *kt});
  if (succeeded(scores))
    scores = call("mul", {*scores, Val::real(scale)});
  if (failed(scores))
    return failure();
  Val minusInf = Val::real(-INFINITY);
  if (causal) {
    // torch.ones(L, S, dtype=torch.bool).tril(diagonal=0): where to attend.
    auto ones = call("full", {Val::listOf({Val::integer(qs.end()[-2]),
                                           Val::integer(ks.end()[-2])}),
                              Val::boolean(true)});
    auto keep = succeeded(ones) ? call("tril", {*ones}) : ones;
    if (succeeded(keep))
      scores = call("where", {*keep, *scores, minusInf});
  }
  if (c.has("attn_mask")) {
    auto mask = asTensor(c.get("attn_mask"), c.locOf("attn_mask"), "attn_mask");
    if (failed(mask))
      return failure();
    // A boolean mask says where to attend; a float one is added.
    scores = typeOf(*mask).getElementType().isInteger(1)
                 ? call("where", {Val::tensor(*mask), *scores, minusInf})
                 : call("add", {*scores, Val::tensor(*mask)});
  }
  if (succeeded(scores))
    scores = call("softmax", {*scores, Val::integer(-1)});
  // dropout_p was checked to be a number by attention().
  if (succeeded(scores) && c.has("dropout_p") && c.get("dropout_p").num != 0)
    scores = call("dropout", {*scores, c.get("dropout_p")});
  if (failed(scores))
    return failure();
  return call("matmul", {*scores, Val::tensor(v)});
}
