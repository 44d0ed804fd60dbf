//===- Decompositions.cpp - Functions written as PyTorch defines them -----===//
//
// Built-ins whose PyTorch definition is a formula over other built-ins:
// leaky_relu, elu, softplus, the regression and binary losses, kl_div,
// repeat, index_select, scaled_dot_product_attention with a mask or
// dropout, and torchvision's stochastic_depth. Each is built from
// the language's own functions (a Composer), so its gradient is derived from
// theirs and every target lowers it. Branches that a `where` does not
// select are kept finite (exp of a clamped argument), so that their zero
// gradient does not become 0 * inf.
//
//===----------------------------------------------------------------------===//

#include "Gen.h"

#include <cmath>

using namespace graft;
using namespace graft::frontend;

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
  Composer f(*this, c.loc);
  Val xv = Val::tensor(*x);
  return f.result(f("where", {f("gt", {xv, Val::real(0)}), xv,
                              f("mul", {xv, Val::real(*slope)})}));
}

/// torchvision.ops.stochastic_depth(input, p, mode, training=True):
/// input * noise, where noise is bernoulli(1 - p) / (1 - p) per sample
/// ("row": [N, 1, ...]) or once for the batch ("batch": [1, ...]). The noise
/// is dropout applied to ones of that shape: drawn in the training entry
/// points only, from its own random stream, and ones in eval and predict
/// (as torchvision's training=self.training), and its gradient is the same
/// noise.
FailureOr<Val> Gen::stochasticDepth(Call &c) {
  auto x = floatInput(c);
  auto p = asNumber(c.get("p"), c.locOf("p"), "p");
  auto mode = asString(c.get("mode"), c.locOf("mode"), "mode");
  if (failed(x) || failed(p) || failed(mode))
    return failure();
  if (!(*p >= 0 && *p <= 1)) { // torchvision's ValueErrors
    error(c.locOf("p"),
          "drop probability has to be between 0 and 1, but got " + fmt(*p));
    return failure();
  }
  if (*mode != "batch" && *mode != "row") {
    error(c.locOf("mode"),
          "mode has to be either 'batch' or 'row', but got " + *mode);
    return failure();
  }
  auto off = trainingOff(c);
  if (failed(off))
    return failure();
  if (*off || *p == 0)
    return c.get("input");
  auto type = mlir::cast<mlir::RankedTensorType>(x->getType());
  llvm::SmallVector<int64_t> shape(type.getRank(), 1);
  if (*mode == "row" && type.getRank() > 0)
    shape[0] = type.getDimSize(0);
  Composer f(*this, c.loc);
  Val ones = splatConstant(
      mlir::RankedTensorType::get(shape, type.getElementType()), 1.0, c.loc);
  Val noise = f("dropout", {ones, Val::real(*p)});
  return f.result(f("mul", {Val::tensor(*x), noise}));
}

FailureOr<Val> Gen::elu(Call &c) {
  auto x = floatInput(c);
  auto alpha = numberOr(c, "alpha", 1.0);
  if (failed(x) || failed(alpha) || failed(noInPlace(c)))
    return failure();
  // x > 0 ? x : alpha * (exp(x) - 1), the exp of 0 where x > 0. (A select,
  // not minimum(x, 0), whose gradient at the tie x = 0 is halved.)
  Composer f(*this, c.loc);
  Val xv = Val::tensor(*x);
  Val positive = f("gt", {xv, Val::real(0)});
  Val negative = f("sub", {f("exp", {f("where", {positive, Val::real(0), xv})}),
                           Val::real(1)});
  if (*alpha != 1) // x * 1 is x: no op
    negative = f("mul", {negative, Val::real(*alpha)});
  return f.result(f("where", {positive, xv, negative}));
}

FailureOr<Val> Gen::softplus(Call &c) {
  auto x = floatInput(c);
  auto beta = numberOr(c, "beta", 1.0);
  auto threshold = numberOr(c, "threshold", 20.0);
  if (failed(x) || failed(beta) || failed(threshold))
    return failure();
  // x * beta > threshold ? x : log1p(exp(x * beta)) / beta, the exp of
  // the threshold where x * beta is above it. (x * 1 and x / 1 are x: no
  // ops.)
  Composer f(*this, c.loc);
  Val xv = Val::tensor(*x);
  Val bx = *beta != 1 ? f("mul", {xv, Val::real(*beta)}) : xv;
  Val linear = f("gt", {bx, Val::real(*threshold)});
  Val soft =
      f("log1p", {f("exp", {f("where", {linear, Val::real(*threshold), bx})})});
  if (*beta != 1)
    soft = f("div", {soft, Val::real(*beta)});
  return f.result(f("where", {linear, xv, soft}));
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
  Composer f(*this, c.loc);
  if (*reduction == "mean" || *reduction == "sum")
    return f.result(f(*reduction, {pointwise}));
  // batchmean: the sum divided by the batch size (the first dimension).
  RankedTensorType t = typeOf(pointwise.t);
  return f.result(f("div", {f("sum", {pointwise}),
                            Val::real(t.getRank() ? t.getDimSize(0) : 1)}));
}

FailureOr<Val> Gen::regressionLoss(Call &c) {
  auto x = floatInput(c);
  auto t = asTensor(c.get("target"), c.locOf("target"), "target");
  if (failed(x) || failed(t))
    return failure();
  Composer f(*this, c.loc);
  Val z = f("abs", {f("sub", {Val::tensor(*x), Val::tensor(*t)})});
  if (!f.ok())
    return failure();
  if (c.name == "l1_loss")
    return reduceLoss(c, z);
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
    return reduceLoss(c, z);
  Val small = f("lt", {z, Val::real(*width)});
  Val square = f("mul", {f("mul", {z, z}), Val::real(0.5)});
  if (!huber)
    square = f("div", {square, Val::real(*width)});
  Val linear = f("sub", {z, Val::real(0.5 * *width)});
  if (huber)
    linear = f("mul", {linear, Val::real(*width)});
  Val pointwise = f("where", {small, square, linear});
  if (!f.ok())
    return failure();
  return reduceLoss(c, pointwise);
}

FailureOr<Val> Gen::binaryCrossEntropy(Call &c) {
  auto x = floatInput(c);
  auto t = asTensor(c.get("target"), c.locOf("target"), "target");
  if (failed(x) || failed(t))
    return failure();
  Composer f(*this, c.loc);
  Val xv = Val::tensor(*x), tv = Val::tensor(*t), one = Val::real(1);
  Val loss = Val::poison();
  if (c.name == "binary_cross_entropy") {
    // -(t log(x) + (1 - t) log(1 - x)), each log clamped at -100 as
    // PyTorch's.
    auto logOf = [&](Val v) {
      return f("maximum", {f("log", {v}), Val::real(-100)});
    };
    Val logX = logOf(xv);
    Val log1mX = logOf(f("sub", {one, xv}));
    Val oneMinusT = f("sub", {one, tv});
    loss = f("neg",
             {f("add", {f("mul", {tv, logX}), f("mul", {oneMinusT, log1mX})})});
  } else {
    // PyTorch's stable form: with m = max(-x, 0),
    // (1 - t) x + w (log(exp(-m) + exp(-x - m)) + m), w = (pos_weight - 1)
    // t + 1 (1 without pos_weight).
    Val m = f("maximum", {f("neg", {xv}), Val::real(0)});
    Val e1 = f("exp", {f("neg", {m})});
    Val e2 = f("exp", {f("sub", {f("neg", {xv}), m})});
    Val softTerm = f("add", {f("log", {f("add", {e1, e2})}), m});
    if (c.has("pos_weight")) {
      Val w =
          f("add", {f("mul", {f("sub", {c.get("pos_weight"), one}), tv}), one});
      softTerm = f("mul", {w, softTerm});
    }
    loss = f("add", {f("mul", {f("sub", {one, tv}), xv}), softTerm});
  }
  if (c.has("weight"))
    loss = f("mul", {loss, c.get("weight")});
  if (!f.ok())
    return failure();
  return reduceLoss(c, loss);
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
  Composer f(*this, c.loc);
  Val xv = Val::tensor(*x), tv = Val::tensor(*t);
  // exp(t) (t - x); or xlogy(t, t) - t x: t log t, 0 where t is 0 (the log
  // of t where t > 0).
  Val loss =
      logTarget
          ? f("mul", {f("exp", {tv}), f("sub", {tv, xv})})
          : f("sub",
              {f("mul", {tv, f("log", {f("where", {f("gt", {tv, Val::real(0)}),
                                                   tv, Val::real(1)})})}),
               f("mul", {tv, xv})});
  if (!f.ok())
    return failure();
  return reduceLoss(c, loss);
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
  Composer f(*this, c.loc);
  Val table = Val::tensor(*x);
  if (*dim != 0)
    table = f("permute", {table, Val::ints(perm)});
  Val rows = f("reshape", {table, Val::ints({moved.front(), rest})});
  Val picked = f("embedding", {Val::tensor(*index), rows});
  llvm::SmallVector<int64_t> shape = {it.getDimSize(0)};
  llvm::append_range(shape, llvm::ArrayRef<int64_t>(moved).drop_front());
  Val result = f("reshape", {picked, Val::ints(shape)});
  if (*dim != 0)
    result = f("permute", {result, Val::ints(inverse)});
  return f.result(result);
}

FailureOr<Val> Gen::attentionByDefinition(Call &c, Value q, Value k, Value v) {
  // torch.nn.functional.scaled_dot_product_attention's documented
  // definition: the scores q @ k^T * scale, -inf where the causal or a
  // boolean mask excludes, plus a float mask, softmax over the keys,
  // dropout on the weights, times v. Each step is the built-in of its name.
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
  FailureOr<Value> mask = failure();
  if (c.has("attn_mask")) {
    mask = asTensor(c.get("attn_mask"), c.locOf("attn_mask"), "attn_mask");
    if (failed(mask))
      return failure();
  }
  Composer f(*this, c.loc);
  Val kt = f("transpose", {Val::tensor(k), Val::integer(-2), Val::integer(-1)});
  Val scores = f("mul", {f("matmul", {Val::tensor(q), kt}), Val::real(scale)});
  Val minusInf = Val::real(-INFINITY);
  if (causal) {
    // torch.ones(L, S, dtype=torch.bool).tril(diagonal=0): where to attend.
    Val keep = f("tril", {f("full", {Val::ints({qs.end()[-2], ks.end()[-2]}),
                                     Val::boolean(true)})});
    scores = f("where", {keep, scores, minusInf});
  }
  // A boolean mask says where to attend; a float one is added.
  if (succeeded(mask))
    scores = typeOf(*mask).getElementType().isInteger(1)
                 ? f("where", {Val::tensor(*mask), scores, minusInf})
                 : f("add", {scores, Val::tensor(*mask)});
  scores = f("softmax", {scores, Val::integer(-1)});
  // dropout_p was checked to be a number by attention().
  if (c.has("dropout_p") && c.get("dropout_p").num != 0)
    scores = f("dropout", {scores, c.get("dropout_p")});
  return f.result(f("matmul", {scores, Val::tensor(v)}));
}
