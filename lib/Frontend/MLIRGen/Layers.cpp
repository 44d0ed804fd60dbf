//===- Layers.cpp - Layers written over the language's built-ins ----------===//
//
// torch.nn's layers that PyTorch defines over other ops, written over the
// built-ins: group_norm normalises groups of channels by their mean and
// variance; conv1d is conv2d over a height of one; conv_transpose2d is the
// correlation of the zero-stuffed, padded input with the flipped kernel;
// adaptive average pooling and linear interpolation are products with
// constant matrices whose rows hold PyTorch's window weights; nearest
// interpolation repeats or gathers PyTorch's source indices; RNN, LSTM and
// GRU unroll their cells over the sequence; MultiheadAttention projects,
// masks and attends as F.multi_head_attention_forward; gather selects
// through one_hot and topk gathers argmax rounds. Their gradients are the
// built-ins', and every target lowers them.
//
//===----------------------------------------------------------------------===//

#include "Gen.h"

#include <algorithm>
#include <cmath>
#include <optional>

using namespace graft;
using namespace graft::frontend;

namespace {
std::string shapeStr(llvm::ArrayRef<int64_t> shape, StringRef open = "[",
                     StringRef close = "]") {
  std::string s = open.str();
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? ", " : "") + std::to_string(d);
  return s + close.str();
}
} // namespace

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

FailureOr<Val> Gen::groupNorm(Call &c) {
  auto x = floatInput(c);
  auto groups = asInt(c.get("num_groups"), c.locOf("num_groups"), "num_groups");
  auto eps = numberOr(c, "eps", 1e-5);
  if (failed(x) || failed(groups) || failed(eps))
    return failure();
  RankedTensorType xt = typeOf(*x);
  if (xt.getRank() < 2) {
    error(c.locOf("input"), "group_norm(): expected an input of at least two "
                            "dimensions (N, C, *), got " +
                                typeStr(*x));
    return failure();
  }
  int64_t n = xt.getDimSize(0), channels = xt.getDimSize(1);
  if (*groups <= 0 || channels % *groups) {
    error(c.locOf("num_groups"),
          "Expected number of channels in input to be divisible by "
          "num_groups, but got input of shape " +
              shapeStr(xt.getShape()) + " and num_groups=" + Twine(*groups));
    return failure();
  }
  // Each group of channels of each sample normalised by its mean and its
  // biased variance, then scaled and shifted per channel.
  Composer f(*this, c.loc);
  Val g = f("reshape", {Val::tensor(*x), Val::ints({n, *groups, -1})});
  auto keep = std::vector<std::pair<StringRef, Val>>{
      {"dim", Val::integer(-1)}, {"keepdim", Val::boolean(true)}};
  Val centred = f("sub", {g, f("mean", {g}, keep)});
  Val var = f("mean", {f("mul", {centred, centred})}, keep);
  Val y = f("mul", {centred, f("rsqrt", {f("add", {var, Val::real(*eps)})})});
  y = f("reshape", {y, Val::ints(xt.getShape())});
  llvm::SmallVector<int64_t> perChannel(xt.getRank() - 1, 1);
  perChannel[0] = channels;
  for (auto [key, fn] : {std::pair{"weight", "mul"}, {"bias", "add"}}) {
    if (!c.has(key) || c.get(key).k == Val::K::None)
      continue;
    auto w = asFloatTensor(c.get(key), c.locOf(key), key);
    if (failed(w))
      return failure();
    if (typeOf(*w).getShape() != llvm::ArrayRef<int64_t>{channels}) {
      error(c.locOf(key), Twine("group_norm(): ") + key + " must have " +
                              Twine(channels) +
                              " elements (one a channel), "
                              "got " +
                              typeStr(*w));
      return failure();
    }
    y = f(fn, {y, f("reshape", {Val::tensor(*w), Val::ints(perChannel)})});
  }
  return f.result(y);
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

FailureOr<Val> Gen::conv1d(Call &c) {
  auto x = floatInput(c);
  auto w = asFloatTensor(c.get("weight"), c.locOf("weight"), c.name);
  auto stride = geometryArg(c, "stride", 1, 1, 1);
  auto padding = geometryArg(c, "padding", 1, 0, 0);
  auto dilation = geometryArg(c, "dilation", 1, 1, 1);
  if (failed(x) || failed(w) || failed(stride) || failed(padding) ||
      failed(dilation))
    return failure();
  int64_t rank = typeOf(*x).getRank();
  if (rank != 2 && rank != 3) {
    error(c.locOf("input"), "Expected 2D (unbatched) or 3D (batched) input to "
                            "conv1d, but got input of size: " +
                                shapeStr(typeOf(*x).getShape()));
    return failure();
  }
  if (typeOf(*w).getRank() != 3) {
    error(c.locOf("weight"), "conv1d(): weight must have three dimensions "
                             "(out_channels, in_channels / groups, kernel), "
                             "got " +
                                 typeStr(*w));
    return failure();
  }
  // conv2d over a height of one: (N, C, 1, L) with kernels (O, C / g, 1, K).
  Composer f(*this, c.loc);
  Val v = Val::tensor(*x);
  if (rank == 2)
    v = f("unsqueeze", {v, Val::integer(0)});
  std::vector<std::pair<StringRef, Val>> kw = {
      {"stride", Val::ints({1, (*stride)[0]})},
      {"padding", Val::ints({0, (*padding)[0]})},
      {"dilation", Val::ints({1, (*dilation)[0]})}};
  for (StringRef key : {"bias", "groups"})
    if (c.has(key) && c.get(key).k != Val::K::None)
      kw.push_back({key, c.get(key)});
  Val y = f("conv2d",
            {f("unsqueeze", {v, Val::integer(2)}),
             f("unsqueeze", {Val::tensor(*w), Val::integer(2)})},
            kw);
  y = f("squeeze", {y, Val::integer(2)});
  if (rank == 2)
    y = f("squeeze", {y, Val::integer(0)});
  return f.result(y);
}

FailureOr<Val> Gen::convTranspose2d(Call &c) {
  auto x = floatInput(c);
  auto w = asFloatTensor(c.get("weight"), c.locOf("weight"), c.name);
  auto stride = geometryArg(c, "stride", 2, 1, 1);
  auto padding = geometryArg(c, "padding", 2, 0, 0);
  auto outPadding = geometryArg(c, "output_padding", 2, 0, 0);
  auto dilation = geometryArg(c, "dilation", 2, 1, 1);
  FailureOr<int64_t> groups = 1;
  if (c.has("groups"))
    groups = asInt(c.get("groups"), c.locOf("groups"), "groups");
  if (failed(x) || failed(w) || failed(stride) || failed(padding) ||
      failed(outPadding) || failed(dilation) || failed(groups))
    return failure();
  RankedTensorType xt = typeOf(*x), wt = typeOf(*w);
  int64_t rank = xt.getRank();
  if (rank != 3 && rank != 4) {
    error(c.locOf("input"), "Expected 3D (unbatched) or 4D (batched) input to "
                            "conv_transpose2d, but got input of size: " +
                                shapeStr(xt.getShape()));
    return failure();
  }
  if (wt.getRank() != 4) {
    error(c.locOf("weight"), "conv_transpose2d(): weight must have four "
                             "dimensions (in_channels, out_channels / groups, "
                             "kH, kW), got " +
                                 typeStr(*w));
    return failure();
  }
  int64_t cin = xt.getDimSize(rank - 3), g = *groups;
  if (g <= 0 || cin != wt.getDimSize(0) || cin % g) {
    error(c.loc,
          "Given transposed=1, weight of size " + shapeStr(wt.getShape()) +
              ", expected input " + shapeStr(xt.getShape()) + " to have " +
              Twine(wt.getDimSize(0)) + " channels, but got " + Twine(cin) +
              " channels instead" +
              (g <= 0 || cin % g ? " (or groups that divide them)" : ""));
    return failure();
  }
  for (int i = 0; i < 2; ++i)
    if ((*outPadding)[i] >= (*stride)[i] &&
        (*outPadding)[i] >= (*dilation)[i]) {
      error(c.locOf("output_padding"),
            "output padding must be smaller than either stride or dilation, "
            "but got output_padding " +
                shapeStr(*outPadding) + ", stride " + shapeStr(*stride) +
                " and dilation " + shapeStr(*dilation));
      return failure();
    }

  // The gradient of a correlation with respect to its input: the input with
  // stride - 1 zeros between its elements, padded by dilation * (k - 1) -
  // padding on each side (cropped where that is negative) and by
  // output_padding more after, correlated at stride 1 with the kernel
  // flipped and its channel dimensions exchanged per group.
  Composer f(*this, c.loc);
  Val v = Val::tensor(*x);
  if (rank == 3)
    v = f("unsqueeze", {v, Val::integer(0)});
  llvm::SmallVector<int64_t> symmetric(2, 0);
  for (int i = 0; i < 2; ++i) {
    int64_t dim = 2 + i, s = (*stride)[i], k = wt.getDimSize(2 + i);
    int64_t size = xt.getDimSize(rank - 2 + i);
    int64_t lo = (*dilation)[i] * (k - 1) - (*padding)[i];
    int64_t hi = lo + (*outPadding)[i];
    int64_t stuffed = (size - 1) * s + 1;
    int64_t cropped =
        stuffed - std::max<int64_t>(0, -lo) - std::max<int64_t>(0, -hi);
    int64_t out = stuffed + lo + hi - (*dilation)[i] * (k - 1);
    if (cropped <= 0 || out <= 0) {
      error(c.loc, "conv_transpose2d(): input " + shapeStr(xt.getShape()) +
                       " with kernel " + shapeStr(wt.getShape()) +
                       " and this geometry gives an output of size " +
                       Twine(out) + " in dimension " + Twine(rank - 2 + i));
      return failure();
    }
    if (!f.ok())
      break;
    if (s > 1 && size > 1) {
      llvm::SmallVector<int64_t> shape(f.type(v).getShape());
      llvm::SmallVector<int64_t> gap(shape);
      gap.insert(gap.begin() + dim + 1, s - 1);
      Val spread = f("cat",
                     {Val::listOf({f("unsqueeze", {v, Val::integer(dim + 1)}),
                                   f.zeros(v, gap)})},
                     {{"dim", Val::integer(dim + 1)}});
      shape[dim] *= s;
      v = f.slice(f("reshape", {spread, Val::ints(shape)}), dim, 0, stuffed);
    }
    if (lo < 0 || hi < 0) {
      v = f.slice(v, dim, std::max<int64_t>(0, -lo),
                  stuffed - std::max<int64_t>(0, -hi));
      lo = std::max<int64_t>(lo, 0);
      hi = std::max<int64_t>(hi, 0);
    }
    // The common part of the two sides as conv2d's padding, the rest as
    // zeros.
    symmetric[i] = std::min(lo, hi);
    for (auto [extra, before] :
         {std::pair{lo - symmetric[i], true}, {hi - symmetric[i], false}}) {
      if (!extra || !f.ok())
        continue;
      llvm::SmallVector<int64_t> shape(f.type(v).getShape());
      shape[dim] = extra;
      Val z = f.zeros(v, shape);
      v = f("cat", {before ? Val::listOf({z, v}) : Val::listOf({v, z})},
            {{"dim", Val::integer(dim)}});
    }
  }
  // (in, out / g, kH, kW) -> (out, in / g, kH, kW), flipped in kH and kW.
  int64_t coutPerGroup = wt.getDimSize(1), kh = wt.getDimSize(2),
          kw = wt.getDimSize(3);
  Val kernel = f("reshape", {Val::tensor(*w),
                             Val::ints({g, cin / g, coutPerGroup, kh, kw})});
  kernel =
      f("reshape", {f("transpose", {kernel, Val::integer(1), Val::integer(2)}),
                    Val::ints({g * coutPerGroup, cin / g, kh, kw})});
  for (int i = 0; i < 2; ++i) {
    int64_t k = wt.getDimSize(2 + i);
    if (k == 1)
      continue;
    std::vector<double> reversed;
    for (int64_t j = k - 1; j >= 0; --j)
      reversed.push_back(j);
    kernel = f("index_select", {kernel, Val::integer(2 + i),
                                f.constant({k}, builder.getI64Type(), reversed,
                                           "conv_transpose2d()")});
  }
  std::vector<std::pair<StringRef, Val>> kwargs = {
      {"padding", Val::ints(symmetric)},
      {"dilation", Val::ints(*dilation)},
      {"groups", Val::integer(g)}};
  if (c.has("bias") && c.get("bias").k != Val::K::None)
    kwargs.push_back({"bias", c.get("bias")});
  Val y = f("conv2d", {v, kernel}, kwargs);
  if (rank == 3)
    y = f("squeeze", {y, Val::integer(0)});
  return f.result(y);
}

//===----------------------------------------------------------------------===//
// Resampling: adaptive pooling and interpolation
//===----------------------------------------------------------------------===//

namespace {
/// The rows of adaptive average pooling from `in` to `out` elements (row i
/// averages [floor(i * in / out), ceil((i + 1) * in / out))), as an
/// out x in matrix.
std::vector<double> adaptiveRows(int64_t in, int64_t out) {
  std::vector<double> m(out * in, 0.0);
  for (int64_t i = 0; i < out; ++i) {
    int64_t start = (i * in) / out, end = ((i + 1) * in + out - 1) / out;
    for (int64_t j = start; j < end; ++j)
      m[i * in + j] = 1.0 / double(end - start);
  }
  return m;
}

/// PyTorch's scale for a resampled dimension: 1 / scale_factor where one is
/// given (and not recomputed), else in / out.
template <typename T>
T scaleOf(int64_t in, int64_t out, std::optional<double> scale) {
  return scale && *scale > 0 ? static_cast<T>(1.0 / *scale)
                             : static_cast<T>(in) / static_cast<T>(out);
}

/// The rows of linear interpolation from `in` to `out` elements, as PyTorch's
/// CPU kernels weigh the two neighbours (in T: float for float tensors).
template <typename T>
std::vector<double> linearRows(int64_t in, int64_t out, bool alignCorners,
                               std::optional<double> scale) {
  std::vector<double> m(out * in, 0.0);
  T s = alignCorners ? (out > 1 ? static_cast<T>(in - 1) / (out - 1) : T(0))
                     : scaleOf<T>(in, out, scale);
  for (int64_t i = 0; i < out; ++i) {
    T src = alignCorners
                ? s * static_cast<T>(i)
                : std::max(s * (static_cast<T>(i) + T(0.5)) - T(0.5), T(0));
    int64_t i0 =
        std::min<int64_t>(static_cast<int64_t>(std::floor(src)), in - 1);
    int64_t i1 = i0 + (i0 < in - 1 ? 1 : 0);
    T l1 = std::min(std::max(src - static_cast<T>(i0), T(0)), T(1));
    T l0 = T(1) - l1;
    m[i * in + i0] += static_cast<double>(l0);
    m[i * in + i1] += static_cast<double>(l1);
  }
  return m;
}

/// The source index of each output element of nearest (`exact`:
/// nearest-exact) interpolation, as PyTorch computes it (in float).
std::vector<double> nearestIndices(int64_t in, int64_t out, bool exact,
                                   std::optional<double> scale) {
  std::vector<double> idx;
  float s = scaleOf<float>(in, out, scale);
  for (int64_t i = 0; i < out; ++i) {
    int64_t src;
    if (!exact && out == in)
      src = i;
    else if (!exact && out == 2 * in)
      src = i >> 1;
    else if (exact)
      src = static_cast<int64_t>(
          std::floor(static_cast<float>((i + 0.5) * static_cast<double>(s))));
    else
      src = static_cast<int64_t>(std::floor(static_cast<float>(i) * s));
    idx.push_back(static_cast<double>(std::min(src, in - 1)));
  }
  return idx;
}
} // namespace

/// x with its dimension `dim` (one of the last two) mapped from `in` to
/// `out` elements by the out x in matrix `rows`: rows @ x for the second
/// last, x @ rows^T for the last.
static Val resample(Composer &f, Type elt, Val x, int64_t dim, int64_t rank,
                    int64_t in, int64_t out, const std::vector<double> &rows,
                    StringRef what) {
  if (dim == rank - 2)
    return f("matmul", {f.constant({out, in}, elt, rows, what), x});
  std::vector<double> transposed(rows.size());
  for (int64_t i = 0; i < out; ++i)
    for (int64_t j = 0; j < in; ++j)
      transposed[j * out + i] = rows[i * in + j];
  return f("matmul", {x, f.constant({in, out}, elt, transposed, what)});
}

FailureOr<Val> Gen::adaptiveAvgPool2d(Call &c) {
  auto x = floatInput(c);
  if (failed(x))
    return failure();
  RankedTensorType xt = typeOf(*x);
  int64_t rank = xt.getRank();
  if (rank != 3 && rank != 4) {
    error(c.locOf("input"), "adaptive_avg_pool2d(): Expected 3D or 4D "
                            "tensor, but got: " +
                                shapeStr(xt.getShape()));
    return failure();
  }
  // output_size: one size for both, or two, None keeping the input's.
  int64_t in[2] = {xt.getDimSize(rank - 2), xt.getDimSize(rank - 1)};
  int64_t out[2] = {in[0], in[1]};
  const Val &os = c.get("output_size");
  Loc ol = c.locOf("output_size");
  std::vector<Val> sizes =
      os.k == Val::K::List ? *os.list : std::vector<Val>{os, os};
  if (sizes.size() != 2) {
    error(ol, "adaptive_avg_pool2d(): output_size must be 2");
    return failure();
  }
  for (int i = 0; i < 2; ++i) {
    if (sizes[i].k == Val::K::None)
      continue;
    auto s = asInt(sizes[i], ol, "output_size");
    if (failed(s))
      return failure();
    if (*s <= 0) {
      error(ol, "adaptive_avg_pool2d(): elements of output_size must be "
                "greater than 0, got " +
                    Twine(*s));
      return failure();
    }
    out[i] = *s;
  }
  Composer f(*this, c.loc);
  Val v = Val::tensor(*x);
  if (in[0] % out[0] == 0 && in[1] % out[1] == 0) {
    // Windows that tile the input: average pooling.
    if (in[0] == out[0] && in[1] == out[1])
      return v;
    Val k = Val::ints({in[0] / out[0], in[1] / out[1]});
    if (rank == 3)
      return f.result(
          f("squeeze",
            {f("avg_pool2d", {f("unsqueeze", {v, Val::integer(0)}), k}),
             Val::integer(0)}));
    return f.result(f("avg_pool2d", {v, k}));
  }
  for (int i = 0; i < 2; ++i)
    if (in[i] != out[i])
      v = resample(f, xt.getElementType(), v, rank - 2 + i, rank, in[i], out[i],
                   adaptiveRows(in[i], out[i]), "adaptive_avg_pool2d()");
  return f.result(v);
}

FailureOr<Val> Gen::interpolate(Call &c) {
  auto x = floatInput(c);
  if (failed(x))
    return failure();
  RankedTensorType xt = typeOf(*x);
  int64_t rank = xt.getRank(), spatial = rank - 2;
  std::string mode = "nearest";
  if (c.has("mode")) {
    auto m = asString(c.get("mode"), c.locOf("mode"), "mode");
    if (failed(m))
      return failure();
    mode = *m;
  }
  bool linear = mode == "linear" || mode == "bilinear";
  if (mode != "nearest" && mode != "nearest-exact" && mode != "area" &&
      !linear) {
    error(c.locOf("mode"), "interpolate(): mode '" + mode +
                               "' is not supported; Graft has 'nearest', "
                               "'nearest-exact', 'linear', 'bilinear' and "
                               "'area'");
    return failure();
  }
  if (rank != 3 && rank != 4) {
    error(c.locOf("input"), "interpolate(): Graft resamples 3D (N, C, L) and "
                            "4D (N, C, H, W) inputs, got input of size " +
                                shapeStr(xt.getShape()));
    return failure();
  }
  if ((mode == "linear" && rank != 3) || (mode == "bilinear" && rank != 4)) {
    error(c.locOf("mode"), "Got " + Twine(rank) + "D input, but " + mode +
                               " mode needs " + (rank == 3 ? "4" : "3") +
                               "D input");
    return failure();
  }
  bool alignCorners = false;
  if (c.has("align_corners") && c.get("align_corners").k != Val::K::None) {
    if (!linear) {
      error(c.locOf("align_corners"),
            "align_corners option can only be set with the interpolating "
            "modes: linear | bilinear | bicubic | trilinear");
      return failure();
    }
    auto a = asBool(c.get("align_corners"), c.locOf("align_corners"),
                    "align_corners");
    if (failed(a))
      return failure();
    alignCorners = *a;
  }
  if (c.has("antialias")) {
    auto a = asBool(c.get("antialias"), c.locOf("antialias"), "antialias");
    if (failed(a))
      return failure();
    if (*a) {
      error(c.locOf("antialias"), "interpolate(): antialias=True is not "
                                  "supported");
      return failure();
    }
  }
  bool recompute = false;
  if (c.has("recompute_scale_factor") &&
      c.get("recompute_scale_factor").k != Val::K::None) {
    auto r =
        asBool(c.get("recompute_scale_factor"),
               c.locOf("recompute_scale_factor"), "recompute_scale_factor");
    if (failed(r))
      return failure();
    recompute = *r;
  }

  // The output size: given, or the input's times scale_factor, floored.
  bool hasSize = c.has("size") && c.get("size").k != Val::K::None;
  bool hasScale =
      c.has("scale_factor") && c.get("scale_factor").k != Val::K::None;
  if (hasSize == hasScale) {
    error(c.loc, hasSize ? "only one of size or scale_factor should be defined"
                         : "either size or scale_factor should be defined");
    return failure();
  }
  StringRef key = hasSize ? "size" : "scale_factor";
  const Val &given = c.get(key);
  std::vector<Val> items =
      given.k == Val::K::List ? *given.list : std::vector<Val>(spatial, given);
  llvm::SmallVector<int64_t> in, out;
  llvm::SmallVector<std::optional<double>> scales;
  for (int64_t i = 0; i < spatial; ++i)
    in.push_back(xt.getDimSize(2 + i));
  if (int64_t(items.size()) != spatial) {
    error(c.locOf(key), "Input and output must have the same number of "
                        "spatial dimensions, but got input with spatial "
                        "dimensions of " +
                            shapeStr(in) + " and " + key + " of " +
                            Twine(items.size()) + " values");
    return failure();
  }
  for (int64_t i = 0; i < spatial; ++i) {
    if (hasSize) {
      auto s = asInt(items[i], c.locOf(key), "size");
      if (failed(s))
        return failure();
      out.push_back(*s);
      scales.push_back(std::nullopt);
    } else {
      auto s = asNumber(items[i], c.locOf(key), "scale_factor");
      if (failed(s))
        return failure();
      out.push_back(static_cast<int64_t>(std::floor(double(in[i]) * *s)));
      scales.push_back(recompute ? std::nullopt : std::optional<double>(*s));
    }
    if (out[i] <= 0) {
      error(c.locOf(key), "Input and output sizes should be greater than 0, "
                          "but got input " +
                              shapeStr(in) + " output " + shapeStr(out));
      return failure();
    }
  }

  Composer f(*this, c.loc);
  Val v = Val::tensor(*x);
  Type elt = xt.getElementType();
  for (int64_t i = 0; i < spatial && f.ok(); ++i) {
    int64_t dim = 2 + i;
    if (mode == "nearest" || mode == "nearest-exact") {
      std::vector<double> idx =
          nearestIndices(in[i], out[i], mode == "nearest-exact", scales[i]);
      // Each source element repeated k times (an integer factor), or a
      // gather of the indices.
      int64_t k = out[i] % in[i] ? 0 : out[i] / in[i];
      for (int64_t j = 0; k && j < out[i]; ++j)
        if (idx[j] != double(j / k))
          k = 0;
      if (k > 1) {
        llvm::SmallVector<int64_t> shape(f.type(v).getShape());
        shape.insert(shape.begin() + dim + 1, k);
        v = f("expand",
              {f("unsqueeze", {v, Val::integer(dim + 1)}), Val::ints(shape)});
        shape[dim] *= k;
        shape.erase(shape.begin() + dim + 1);
        v = f("reshape", {v, Val::ints(shape)});
      } else if (k != 1)
        v = f("index_select", {v, Val::integer(dim),
                               f.constant({out[i]}, builder.getI64Type(), idx,
                                          "interpolate()")});
      continue;
    }
    if (mode == "area" && in[i] == out[i])
      continue;
    std::vector<double> rows =
        mode == "area" ? adaptiveRows(in[i], out[i])
        : elt.isF64()
            ? linearRows<double>(in[i], out[i], alignCorners, scales[i])
            : linearRows<float>(in[i], out[i], alignCorners, scales[i]);
    v = resample(f, elt, v, dim, rank, in[i], out[i], rows, "interpolate()");
  }
  return f.result(v);
}

//===----------------------------------------------------------------------===//
// Recurrent layers
//===----------------------------------------------------------------------===//

namespace {
/// The state of a recurrent cell: h, and c for an LSTM.
struct CellState {
  Val h, c;
};

/// One step of a recurrent cell, as PyTorch's CPU cells compute it: `xp`
/// is this step's input projection x W_ih^T + b_ih, `mode` LSTM, GRU,
/// RNN_TANH or RNN_RELU.
CellState cellStep(Composer &f, StringRef mode, const Val &xp,
                   const CellState &s, const Val &whh, const Val &bhh) {
  Val hp = bhh.k == Val::K::None ? f("linear", {s.h, whh})
                                 : f("linear", {s.h, whh, bhh});
  auto chunks = [&](const Val &v, int64_t n) {
    Val parts = f("chunk", {v, Val::integer(n)}, {{"dim", Val::integer(1)}});
    return f.ok() ? *parts.list : std::vector<Val>(n, Val::poison());
  };
  if (mode == "LSTM") {
    std::vector<Val> g = chunks(f("add", {hp, xp}), 4);
    Val in = f("sigmoid", {g[0]}), forget = f("sigmoid", {g[1]});
    Val cell = f("tanh", {g[2]}), out = f("sigmoid", {g[3]});
    Val c = f("add", {f("mul", {forget, s.c}), f("mul", {in, cell})});
    return {f("mul", {out, f("tanh", {c})}), c};
  }
  if (mode == "GRU") {
    std::vector<Val> xg = chunks(xp, 3), hg = chunks(hp, 3);
    Val reset = f("sigmoid", {f("add", {hg[0], xg[0]})});
    Val update = f("sigmoid", {f("add", {hg[1], xg[1]})});
    Val cand = f("tanh", {f("add", {xg[2], f("mul", {hg[2], reset})})});
    // (h - n) * z + n: h' = (1 - z) * n + z * h.
    return {f("add", {f("mul", {f("sub", {s.h, cand}), update}), cand}), {}};
  }
  return {f(mode == "RNN_RELU" ? "relu" : "tanh", {f("add", {hp, xp})}), {}};
}
} // namespace

/// The state a recurrent layer starts from: `hx` (h, or the pair (h, c) of
/// an LSTM), of `shapes` (h's, then c's), or zeros of them where the call
/// gives none.
static std::vector<Val>
initialState(Composer &f, const Call &c, bool lstm,
             llvm::ArrayRef<llvm::SmallVector<int64_t>> shapes,
             const Val &like) {
  size_t n = lstm ? 2 : 1;
  if (!c.has("hx") || c.get("hx").k == Val::K::None) {
    std::vector<Val> zeros;
    for (size_t i = 0; i < n; ++i)
      zeros.push_back(f.zeros(like, shapes[i]));
    return zeros;
  }
  const Val &hx = c.get("hx");
  Loc l = c.locOf("hx");
  std::vector<Val> parts = {hx};
  if (lstm)
    parts = hx.k == Val::K::List ? *hx.list : std::vector<Val>();
  if (parts.size() != n) {
    f.fail(l, "an LSTM's hx is a pair (h_0, c_0), got " + Twine(kindName(hx)));
    return std::vector<Val>(n, Val::poison());
  }
  for (auto [i, p] : llvm::enumerate(parts)) {
    std::string what = lstm ? "hidden[" + std::to_string(i) + "]" : "hidden";
    llvm::ArrayRef<int64_t> shape = shapes[i];
    if (p.k != Val::K::Tensor)
      f.fail(l, "Expected " + what + " to be a tensor, got " + kindName(p));
    else if (f.type(p).getShape() != shape)
      f.fail(l, "Expected " + what + " size " + shapeStr(shape, "(", ")") +
                    ", got " + shapeStr(f.type(p).getShape()));
  }
  return parts;
}

int64_t graft::frontend::rnnGates(StringRef mode) {
  return mode == "LSTM" ? 4 : mode == "GRU" ? 3 : 1;
}

FailureOr<Val> Gen::rnn(Call &c) {
  auto x = floatInput(c);
  auto mode = asString(c.get("mode"), c.locOf("mode"), "mode");
  auto layers = asInt(c.get("num_layers"), c.locOf("num_layers"), "num_layers");
  auto hidden =
      asInt(c.get("hidden_size"), c.locOf("hidden_size"), "hidden_size");
  auto batchFirst =
      asBool(c.get("batch_first"), c.locOf("batch_first"), "batch_first");
  auto bidirectional =
      asBool(c.get("bidirectional"), c.locOf("bidirectional"), "bidirectional");
  auto dropout = asNumber(c.get("dropout"), c.locOf("dropout"), "dropout");
  FailureOr<int64_t> proj = 0;
  if (c.has("proj_size"))
    proj = asInt(c.get("proj_size"), c.locOf("proj_size"), "proj_size");
  if (failed(x) || failed(mode) || failed(layers) || failed(hidden) ||
      failed(batchFirst) || failed(bidirectional) || failed(dropout) ||
      failed(proj))
    return failure();
  // weights: per layer and direction, [W_ih, W_hh], then b_ih and b_hh
  // with biases, then W_hr with proj_size (the module's all_weights).
  const std::vector<Val> &weights = *c.get("weights").list;
  bool lstm = *mode == "LSTM";
  int64_t dirs = *bidirectional ? 2 : 1, h = *hidden;
  RankedTensorType xt = typeOf(*x);
  int64_t rank = xt.getRank();
  int64_t inSize = typeOf(weights[0].list->front().t).getDimSize(1);
  if (xt.getDimSize(rank - 1) != inSize) {
    error(c.locOf("input"), "input.size(-1) must be equal to input_size. "
                            "Expected " +
                                Twine(inSize) + ", got " +
                                Twine(xt.getDimSize(rank - 1)));
    return failure();
  }

  // The sequence as (T, B, features).
  Composer f(*this, c.loc);
  Val v = Val::tensor(*x);
  if (rank == 2)
    v = f("unsqueeze", {v, Val::integer(1)});
  else if (*batchFirst)
    v = f("transpose", {v, Val::integer(0), Val::integer(1)});
  if (!f.ok())
    return failure();
  int64_t steps = f.type(v).getDimSize(0), batch = f.type(v).getDimSize(1);
  // h has proj_size features with a projection, c hidden_size.
  int64_t hOut = *proj ? *proj : h;
  llvm::SmallVector<int64_t> hShape = {*layers * dirs, batch, hOut},
                             cShape = {*layers * dirs, batch, h};
  if (rank == 2) {
    hShape.erase(hShape.begin() + 1);
    cShape.erase(cShape.begin() + 1);
  }
  std::vector<Val> hx = initialState(f, c, lstm, {hShape, cShape}, v);
  if (rank == 2)
    for (Val &s : hx)
      s = f("unsqueeze", {s, Val::integer(1)});

  // Layer by layer, each direction over its steps (the reverse one from
  // the last), its input projected for all steps at once.
  std::vector<Val> hn, cn;
  Val layerIn = v;
  for (int64_t l = 0; l < *layers; ++l) {
    std::vector<Val> outs;
    for (int64_t d = 0; d < dirs; ++d) {
      int64_t k = l * dirs + d;
      const std::vector<Val> &w = *weights[k].list;
      Val none;
      bool biases = w.size() - (*proj ? 1 : 0) > 2;
      const Val &bih = biases ? w[2] : none;
      const Val &bhh = biases ? w[3] : none;
      const Val &whr = *proj ? w.back() : none;
      Val xp = bih.k == Val::K::None ? f("linear", {layerIn, w[0]})
                                     : f("linear", {layerIn, w[0], bih});
      CellState st;
      for (auto [i, s] : llvm::enumerate(hx))
        (i ? st.c : st.h) = f("reshape", {f.slice(s, 0, k, k + 1),
                                          Val::ints({batch, i ? h : hOut})});
      std::vector<Val> hs(steps);
      for (int64_t step = 0; step < steps; ++step) {
        int64_t t = d ? steps - 1 - step : step;
        Val xpt = f("reshape", {f.slice(xp, 0, t, t + 1),
                                Val::ints({batch, rnnGates(*mode) * h})});
        st = cellStep(f, *mode, xpt, st, w[1], bhh);
        if (*proj) // h_t = W_hr (o * tanh(c_t))
          st.h = f("linear", {st.h, whr});
        hs[t] = st.h;
      }
      outs.push_back(f("stack", {Val::listOf(hs)}));
      hn.push_back(st.h);
      if (lstm)
        cn.push_back(st.c);
    }
    layerIn = dirs == 2
                  ? f("cat", {Val::listOf(outs)}, {{"dim", Val::integer(2)}})
                  : outs.front();
    // Dropout on the outputs of each layer but the last (training only).
    if (*dropout > 0 && l + 1 < *layers)
      layerIn = f("dropout", {layerIn, Val::real(*dropout)});
  }
  Val out = layerIn, hN = f("stack", {Val::listOf(hn)});
  Val cN = lstm ? f("stack", {Val::listOf(cn)}) : Val();
  if (rank == 2) {
    out = f("squeeze", {out, Val::integer(1)});
    hN = f("squeeze", {hN, Val::integer(1)});
    if (lstm)
      cN = f("squeeze", {cN, Val::integer(1)});
  } else if (*batchFirst) {
    out = f("transpose", {out, Val::integer(0), Val::integer(1)});
  }
  return f.result(Val::listOf({out, lstm ? Val::listOf({hN, cN}) : hN}));
}

FailureOr<Val> Gen::rnnCell(Call &c) {
  auto x = floatInput(c);
  auto mode = asString(c.get("mode"), c.locOf("mode"), "mode");
  if (failed(x) || failed(mode))
    return failure();
  const Val &wih = c.get("weight_ih"), &whh = c.get("weight_hh");
  Val none;
  const Val &bih = c.has("bias_ih") ? c.get("bias_ih") : none;
  const Val &bhh = c.has("bias_hh") ? c.get("bias_hh") : none;
  bool lstm = *mode == "LSTM";
  RankedTensorType xt = typeOf(*x);
  int64_t rank = xt.getRank(), h = typeOf(whh.t).getDimSize(1);
  int64_t inSize = typeOf(wih.t).getDimSize(1);
  if (xt.getDimSize(rank - 1) != inSize) {
    error(c.locOf("input"), "input has inconsistent input_size: got " +
                                Twine(xt.getDimSize(rank - 1)) + " expected " +
                                Twine(inSize));
    return failure();
  }
  Composer f(*this, c.loc);
  Val v = Val::tensor(*x);
  if (rank == 1)
    v = f("unsqueeze", {v, Val::integer(0)});
  if (!f.ok())
    return failure();
  int64_t batch = f.type(v).getDimSize(0);
  llvm::SmallVector<int64_t> stateShape = {batch, h};
  if (rank == 1)
    stateShape.erase(stateShape.begin());
  std::vector<Val> hx = initialState(f, c, lstm, {stateShape, stateShape}, v);
  CellState st;
  for (auto [i, s] : llvm::enumerate(hx))
    (i ? st.c : st.h) = rank == 1 ? f("unsqueeze", {s, Val::integer(0)}) : s;
  Val xp = bih.k == Val::K::None ? f("linear", {v, wih})
                                 : f("linear", {v, wih, bih});
  st = cellStep(f, *mode, xp, st, whh, bhh);
  if (rank == 1) {
    st.h = f("squeeze", {st.h, Val::integer(0)});
    if (lstm)
      st.c = f("squeeze", {st.c, Val::integer(0)});
  }
  return f.result(lstm ? Val::listOf({st.h, st.c}) : st.h);
}

//===----------------------------------------------------------------------===//
// Multi-head attention
//===----------------------------------------------------------------------===//

FailureOr<Val> Gen::multiHeadAttention(Call &c) {
  auto q = asFloatTensor(c.get("query"), c.locOf("query"), "query");
  auto k = asFloatTensor(c.get("key"), c.locOf("key"), "key");
  auto v = asFloatTensor(c.get("value"), c.locOf("value"), "value");
  auto heads = asInt(c.get("num_heads"), c.locOf("num_heads"), "num_heads");
  auto dropout = asNumber(c.get("dropout"), c.locOf("dropout"), "dropout");
  auto batchFirst =
      asBool(c.get("batch_first"), c.locOf("batch_first"), "batch_first");
  FailureOr<bool> needWeights = true, average = true, causal = false;
  if (c.has("need_weights"))
    needWeights =
        asBool(c.get("need_weights"), c.locOf("need_weights"), "need_weights");
  if (c.has("average_attn_weights"))
    average = asBool(c.get("average_attn_weights"),
                     c.locOf("average_attn_weights"), "average_attn_weights");
  if (c.has("is_causal"))
    causal = asBool(c.get("is_causal"), c.locOf("is_causal"), "is_causal");
  if (failed(q) || failed(k) || failed(v) || failed(heads) || failed(dropout) ||
      failed(batchFirst) || failed(needWeights) || failed(average) ||
      failed(causal))
    return failure();
  int64_t rank = typeOf(*q).getRank();
  if (rank != 2 && rank != 3) {
    error(c.locOf("query"), "query should be unbatched 2D or batched 3D "
                            "tensor but received " +
                                Twine(rank) + "-D query tensor");
    return failure();
  }
  for (auto [name, t] : {std::pair{"key", *k}, {"value", *v}})
    if (typeOf(t).getRank() != rank) {
      error(c.locOf(name),
            Twine("For ") + (rank == 2 ? "unbatched (2-D)" : "batched (3-D)") +
                " `query`, expected `" + name + "` to be " + Twine(rank) +
                "-D but found a " + Twine(typeOf(t).getRank()) + "-D tensor");
      return failure();
    }
  // One packed in_proj_weight, or (kdim, vdim) one weight per projection.
  Val none;
  bool packed = c.has("in_proj_weight");
  const Val &w = packed ? c.get("in_proj_weight") : c.get("q_proj_weight");
  const Val &b = c.has("in_proj_bias") ? c.get("in_proj_bias") : none;
  Instance &outProj = *c.get("out_proj").inst;
  const Val &ow = outProj.scope.vars["weight"];
  const Val &ob =
      outProj.scope.vars.count("bias") ? outProj.scope.vars["bias"] : none;
  int64_t e = typeOf(w.t).getDimSize(1), h = *heads, hd = e / h;
  for (auto [name, t, want] :
       {std::tuple{"query", *q, e},
        {"key", *k,
         packed ? e : typeOf(c.get("k_proj_weight").t).getDimSize(1)},
        {"value", *v,
         packed ? e : typeOf(c.get("v_proj_weight").t).getDimSize(1)}})
    if (typeOf(t).getDimSize(rank - 1) != want) {
      error(c.locOf(name), Twine("was expecting embedding dimension of ") +
                               Twine(want) + " for " + name + ", but got " +
                               Twine(typeOf(t).getDimSize(rank - 1)));
      return failure();
    }
  if (*causal && !c.has("attn_mask")) {
    error(c.locOf("is_causal"), "Need attn_mask if specifying the is_causal "
                                "hint");
    hint("pass the causal mask too, e.g. attn_mask=torch.triu(torch.ones(L, "
         "L), diagonal=1) == 1");
    return failure();
  }

  // (L, B, E) as the module computes, then per head (B, H, L, E / H).
  Composer f(*this, c.loc);
  auto sequenceFirst = [&](Value t) {
    Val x = Val::tensor(t);
    if (rank == 2)
      return f("unsqueeze", {x, Val::integer(1)});
    return *batchFirst ? f("transpose", {x, Val::integer(0), Val::integer(1)})
                       : x;
  };
  Val qs = sequenceFirst(*q), ks = sequenceFirst(*k), vs = sequenceFirst(*v);
  if (!f.ok())
    return failure();
  int64_t l = f.type(qs).getDimSize(0), batch = f.type(qs).getDimSize(1);
  int64_t s = f.type(ks).getDimSize(0);
  auto project = [&](const Val &x, int64_t part, int64_t len) {
    static const char *separate[] = {"q_proj_weight", "k_proj_weight",
                                     "v_proj_weight"};
    Val wp = packed ? f.slice(w, 0, part * e, (part + 1) * e)
                    : c.get(separate[part]);
    Val p = b.k == Val::K::None
                ? f("linear", {x, wp})
                : f("linear", {x, wp, f.slice(b, 0, part * e, (part + 1) * e)});
    return f("permute", {f("reshape", {p, Val::ints({len, batch, h, hd})}),
                         Val::ints({1, 2, 0, 3})});
  };
  Val qh = f("div", {project(qs, 0, l), Val::real(std::sqrt(double(hd)))});
  Val kh = project(ks, 1, s), vh = project(vs, 2, s);
  Val scores = f(
      "matmul", {qh, f("transpose", {kh, Val::integer(-2), Val::integer(-1)})});

  // Masks: a boolean one says where not to attend, a float one is added;
  // attn_mask (L, S) for all, or (B * H, L, S) per batch element and head,
  // key_padding_mask (B, S) per key.
  auto applyMask = [&](StringRef key,
                       llvm::ArrayRef<llvm::SmallVector<int64_t>> shapes) {
    if (!c.has(key) || !f.ok())
      return;
    auto m = asTensor(c.get(key), c.locOf(key), key);
    if (failed(m))
      return f.abandon();
    llvm::ArrayRef<int64_t> shape = typeOf(*m).getShape();
    auto match = llvm::find(shapes, llvm::SmallVector<int64_t>(shape));
    if (match == shapes.end()) {
      std::string expected;
      for (auto [i, sh] : llvm::enumerate(shapes))
        expected += (i ? " or " : "") + shapeStr(sh);
      f.fail(c.locOf(key), "The shape of " + key + " is " + shapeStr(shape) +
                               ", but should be " + expected);
      return;
    }
    llvm::SmallVector<int64_t> to =
        key == "key_padding_mask" ? llvm::SmallVector<int64_t>{batch, 1, 1, s}
        : shape.size() == 3       ? llvm::SmallVector<int64_t>{batch, h, l, s}
                                  : llvm::SmallVector<int64_t>{l, s};
    Val mv = f("reshape", {Val::tensor(*m), Val::ints(to)});
    scores = typeOf(*m).getElementType().isInteger(1)
                 ? f("masked_fill", {scores, mv, Val::real(-INFINITY)})
                 : f("add", {scores, mv});
  };
  applyMask("attn_mask", {{l, s}, {batch * h, l, s}});
  applyMask("key_padding_mask",
            {rank == 2 ? llvm::SmallVector<int64_t>{s}
                       : llvm::SmallVector<int64_t>{batch, s}});

  Val attn = f("softmax", {scores, Val::integer(-1)});
  if (*dropout > 0)
    attn = f("dropout", {attn, Val::real(*dropout)});
  Val out = f("matmul", {attn, vh});
  out = f("reshape", {f("permute", {out, Val::ints({2, 0, 1, 3})}),
                      Val::ints({l, batch, e})});
  out = ob.k == Val::K::None ? f("linear", {out, ow})
                             : f("linear", {out, ow, ob});
  if (rank == 2)
    out = f("squeeze", {out, Val::integer(1)});
  else if (*batchFirst)
    out = f("transpose", {out, Val::integer(0), Val::integer(1)});
  Val weights;
  if (*needWeights) {
    weights = *average ? f("mean", {attn}, {{"dim", Val::integer(1)}}) : attn;
    if (rank == 2)
      weights = f("squeeze", {weights, Val::integer(0)});
  }
  return f.result(Val::listOf({out, weights}));
}

//===----------------------------------------------------------------------===//
// Gathers: F.one_hot and torch.gather, over graft.one_hot, whose index
// the runtime checks as it checks a loss's classes
//===----------------------------------------------------------------------===//

FailureOr<Val> Gen::oneHot(Call &c) {
  auto index = asTensor(c.get("tensor"), c.locOf("tensor"), "one_hot");
  FailureOr<int64_t> n = -1;
  if (c.has("num_classes"))
    n = asInt(c.get("num_classes"), c.locOf("num_classes"), "num_classes");
  if (failed(index) || failed(n))
    return failure();
  if (!typeOf(*index).getElementType().isInteger(64)) {
    error(c.locOf("tensor"), "one_hot is only applicable to index tensor, "
                             "got " +
                                 typeStr(*index));
    return failure();
  }
  if (*n <= 0) {
    error(c.has("num_classes") ? c.locOf("num_classes") : c.loc,
          "one_hot(): num_classes must be given and positive (-1 would "
          "infer it from the values, which are not known when compiling)");
    return failure();
  }
  // torch's one_hot is int64: the op's floats, cast.
  llvm::SmallVector<int64_t> shape(typeOf(*index).getShape());
  shape.push_back(*n);
  auto hot = make<OneHotOp>(c.loc, "one_hot", {*index}, {},
                            RankedTensorType::get(shape, builder.getF32Type()));
  if (failed(hot))
    return failure();
  return tensorResult(
      make<CastOp>(c.loc, "one_hot", {*hot}, {},
                   RankedTensorType::get(shape, builder.getI64Type())));
}

FailureOr<Val> Gen::gather(Call &c) {
  auto x = floatInput(c);
  auto index = asTensor(c.get("index"), c.locOf("index"), "index");
  if (failed(x) || failed(index))
    return failure();
  RankedTensorType xt = typeOf(*x), it = typeOf(*index);
  auto dim = dimArg(c, "dim", xt.getRank());
  if (failed(dim))
    return failure();
  if (!it.getElementType().isInteger(64)) {
    error(c.locOf("index"),
          "gather(): Expected dtype int64 for index, got " + typeStr(*index));
    return failure();
  }
  if (c.has("sparse_grad")) {
    auto sparse =
        asBool(c.get("sparse_grad"), c.locOf("sparse_grad"), "sparse_grad");
    if (failed(sparse))
      return failure();
    if (*sparse) {
      error(c.locOf("sparse_grad"), "gather(): sparse_grad=True is not "
                                    "supported");
      return failure();
    }
  }
  int64_t rank = xt.getRank();
  bool fits = it.getRank() == rank;
  for (int64_t d = 0; fits && d < rank; ++d)
    fits = d == *dim || it.getDimSize(d) <= xt.getDimSize(d);
  if (!fits) {
    error(c.locOf("index"),
          it.getRank() != rank
              ? "Index tensor must have the same number of dimensions as "
                "input tensor"
              : "Size does not match at a dimension: expected index " +
                    shapeStr(it.getShape()) + " to be smaller than self " +
                    shapeStr(xt.getShape()) + " apart from dimension " +
                    Twine(*dim));
    return failure();
  }
  // out[..., k, ...] = x[..., index[..., k, ...], ...] along dim: the
  // one-hot rows of the index (checked like any class index) select from
  // x, its dim moved last, and a sum over that last dimension takes the
  // one element each row picks. Its gradient is PyTorch's scatter-add.
  Composer f(*this, c.loc);
  Val v = Val::tensor(*x);
  for (int64_t d = 0; d < rank; ++d)
    if (d != *dim && it.getDimSize(d) < xt.getDimSize(d))
      v = f.slice(v, d, 0, it.getDimSize(d));
  llvm::SmallVector<int64_t> order;
  for (int64_t d = 0; d < rank; ++d)
    if (d != *dim)
      order.push_back(d);
  order.push_back(*dim);
  v = f("unsqueeze", {f("permute", {v, Val::ints(order)}), Val::integer(*dim)});
  int64_t n = xt.getDimSize(*dim);
  llvm::SmallVector<int64_t> hotShape(it.getShape());
  hotShape.push_back(n);
  if (!f.ok())
    return failure();
  auto hot =
      make<OneHotOp>(c.loc, "gather", {*index}, {},
                     RankedTensorType::get(hotShape, xt.getElementType()));
  if (failed(hot))
    return failure();
  Val picked = f("ne", {Val::tensor(*hot), Val::real(0)});
  Val out = f("sum", {f("where", {picked, v, Val::real(0)})},
              {{"dim", Val::integer(-1)}});
  return f.result(out);
}

FailureOr<Val> Gen::topk(Call &c) {
  auto x = floatInput(c);
  auto k = asInt(c.get("k"), c.locOf("k"), "k");
  if (failed(x) || failed(k))
    return failure();
  RankedTensorType xt = typeOf(*x);
  FailureOr<int64_t> dim = xt.getRank() - 1;
  if (c.has("dim"))
    dim = dimArg(c, "dim", xt.getRank());
  FailureOr<bool> largest = true;
  if (c.has("largest"))
    largest = asBool(c.get("largest"), c.locOf("largest"), "largest");
  if (c.has("sorted") &&
      failed(asBool(c.get("sorted"), c.locOf("sorted"), "sorted")))
    return failure();
  if (failed(dim) || failed(largest))
    return failure();
  int64_t n = xt.getDimSize(*dim);
  if (*k < 1 || *k > n) {
    error(c.locOf("k"), "selected index k out of range (k = " + Twine(*k) +
                            ", size " + Twine(n) + " in dimension " +
                            Twine(*dim) + "; Graft takes k >= 1)");
    return failure();
  }
  // k rounds of argmax, each excluding the positions taken (-inf there):
  // the indices in order, the first of equal values first, as torch's
  // argmax; the values gathered, so their gradient is gather's.
  Composer f(*this, c.loc);
  Val x0 = Val::tensor(*x);
  Val scores = *largest ? x0 : f("neg", {x0});
  llvm::SmallVector<int64_t> along(xt.getRank(), 1);
  along[*dim] = n;
  std::vector<double> positions(n);
  for (int64_t i = 0; i < n; ++i)
    positions[i] = double(i);
  Val arange = f.constant(along, builder.getI64Type(), positions, "topk()");
  std::vector<Val> indices;
  for (int64_t j = 0; j < *k; ++j) {
    Val i = f("argmax", {scores, Val::integer(*dim)},
              {{"keepdim", Val::boolean(true)}});
    indices.push_back(i);
    if (j + 1 < *k)
      scores = f("where", {f("eq", {arange, i}), Val::real(-INFINITY), scores});
  }
  Val index = indices.size() == 1 ? indices.front()
                                  : f("cat", {Val::listOf(indices)},
                                      {{"dim", Val::integer(*dim)}});
  Val values = f("gather", {x0, Val::integer(*dim), index});
  if (!f.ok())
    return failure();
  return Val::namedTuple({values, index}, {"values", "indices"});
}
