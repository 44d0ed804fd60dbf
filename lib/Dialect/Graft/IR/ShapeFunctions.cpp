//===- ShapeFunctions.cpp - Shape rules of graft ops ----------------------===//

#include "graft/Dialect/Graft/IR/ShapeFunctions.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

using namespace graft::shape;
using llvm::Error;
using llvm::Expected;

namespace {
template <typename... Ts>
Error fail(const char *fmt, Ts &&...args) {
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      llvm::formatv(fmt, std::forward<Ts>(args)...).str());
}

std::string strOpt(std::optional<ShapeRef> s) {
  return s ? str(*s) : std::string("none");
}
} // namespace

std::string graft::shape::str(ShapeRef shape) {
  std::string out = "[";
  llvm::raw_string_ostream os(out);
  llvm::interleave(shape, os, ", ");
  os << "]";
  return out;
}

int64_t graft::shape::numel(ShapeRef shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    if (llvm::MulOverflow(n, d, n))
      return std::numeric_limits<int64_t>::max();
  return n;
}

Error graft::shape::checkSize(ShapeRef shape) {
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (d == 0)
      return fail("shape {0} has no elements (dimension {1} is 0): Graft "
                  "needs at least one element in every tensor",
                  str(shape), i);
    if (d < 0 || d > kMaxDim)
      return fail("dimension {0} of shape {1} is {2}, outside 1 to 2^31",
                  i, str(shape), d);
  }
  if (numel(shape) > kMaxElements)
    return fail("shape {0} has {1} elements, more than the limit of 2^34 "
                "per tensor",
                str(shape), numel(shape));
  return Error::success();
}

Expected<Shape> graft::shape::broadcast(ShapeRef a, ShapeRef b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1)
      return fail("shapes {0} and {1} are not broadcastable: the size of "
                  "dimension {2} from the right is {3} vs {4} (sizes must be "
                  "equal or 1)",
                  str(a), str(b), i, da, db);
    out[rank - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

Error graft::shape::broadcastsTo(ShapeRef from, ShapeRef to) {
  if (from.size() > to.size())
    return fail("shape {0} cannot be broadcast to {1}: it has more dimensions",
                str(from), str(to));
  for (size_t i = 0; i < from.size(); ++i) {
    int64_t df = from[from.size() - 1 - i], dt = to[to.size() - 1 - i];
    if (df != dt && df != 1)
      return fail("shape {0} cannot be broadcast to {1}: the size of dimension "
                  "{2} from the right is {3}, expected {4} or 1",
                  str(from), str(to), i, df, dt);
  }
  return Error::success();
}

Expected<Shape> graft::shape::matmul(ShapeRef a, ShapeRef b) {
  if (a.empty() || b.empty())
    return fail("matmul needs operands of at least 1 dimension, got {0} and {1}",
                str(a), str(b));
  Shape sa(a.begin(), a.end()), sb(b.begin(), b.end());
  bool rowVec = sa.size() == 1, colVec = sb.size() == 1;
  if (rowVec)
    sa.insert(sa.begin(), 1);
  if (colVec)
    sb.push_back(1);
  int64_t k1 = sa.back(), k2 = sb[sb.size() - 2];
  if (k1 != k2)
    return fail("matmul shapes {0} and {1} cannot be multiplied: the "
                "contracted sizes are {2} and {3}",
                str(a), str(b), k1, k2);
  auto batch = broadcast(ShapeRef(sa).drop_back(2), ShapeRef(sb).drop_back(2));
  if (!batch)
    return fail("matmul batch dimensions of {0} and {1} do not broadcast: {2}",
                str(a), str(b), llvm::toString(batch.takeError()));
  Shape out = *batch;
  if (!rowVec)
    out.push_back(sa[sa.size() - 2]);
  if (!colVec)
    out.push_back(sb.back());
  return out;
}

Expected<Shape> graft::shape::linear(ShapeRef x, ShapeRef w,
                                     std::optional<ShapeRef> bias) {
  if (w.size() != 2)
    return fail("linear weight must be 2-D [out_features, in_features], got {0}",
                str(w));
  if (x.empty() || x.back() != w[1])
    return fail("linear input {0} does not match weight {1}: expected the last "
                "dimension of the input to be in_features = {2}",
                str(x), str(w), w[1]);
  if (bias && (bias->size() != 1 || (*bias)[0] != w[0]))
    return fail("linear bias must be [{0}] (out_features), got {1}", w[0],
                str(*bias));
  Shape out(x.begin(), x.end());
  out.back() = w[0];
  return out;
}

Error graft::shape::checkDim(int64_t dim, int64_t rank, llvm::StringRef what) {
  if (dim < 0 || dim >= std::max<int64_t>(rank, 1))
    return fail("{0} {1} is out of range for a tensor of rank {2} (expected "
                "0 <= {0} < {3})",
                what, dim, rank, std::max<int64_t>(rank, 1));
  return Error::success();
}

Expected<Shape> graft::shape::reduce(ShapeRef x, llvm::ArrayRef<int64_t> dims,
                                     bool keepdim) {
  llvm::SmallSet<int64_t, 4> seen;
  for (int64_t d : dims) {
    if (Error e = checkDim(d, x.size()))
      return std::move(e);
    if (!seen.insert(d).second)
      return fail("dim {0} appears more than once in the reduced dims", d);
  }
  Shape out;
  for (auto [i, size] : llvm::enumerate(x)) {
    bool reduced = dims.empty() || seen.contains(i);
    if (!reduced)
      out.push_back(size);
    else if (keepdim)
      out.push_back(1);
  }
  return out;
}

Error graft::shape::reshape(ShapeRef from, ShapeRef to) {
  if (numel(from) != numel(to))
    return fail("shape {0} is invalid for input of size {1} (shape {2})",
                str(to), numel(from), str(from));
  return Error::success();
}

Expected<Shape> graft::shape::transpose(ShapeRef x, int64_t dim0,
                                        int64_t dim1) {
  if (x.empty() && dim0 == 0 && dim1 == 0)
    return Shape();
  if (Error e = checkDim(dim0, x.size(), "dim0"))
    return std::move(e);
  if (Error e = checkDim(dim1, x.size(), "dim1"))
    return std::move(e);
  Shape out(x.begin(), x.end());
  std::swap(out[dim0], out[dim1]);
  return out;
}

Expected<Shape> graft::shape::permute(ShapeRef x,
                                      llvm::ArrayRef<int64_t> perm) {
  if (perm.size() != x.size())
    return fail("permute needs {0} dims for a tensor of shape {1}, got {2}",
                x.size(), str(x), perm.size());
  llvm::SmallSet<int64_t, 4> seen;
  Shape out;
  for (int64_t d : perm) {
    if (Error e = checkDim(d, x.size()))
      return std::move(e);
    if (!seen.insert(d).second)
      return fail("permute dims {0} repeat dim {1}: expected a permutation",
                  str(perm), d);
    out.push_back(x[d]);
  }
  return out;
}

Expected<Shape> graft::shape::slice(ShapeRef x, int64_t dim, int64_t start,
                                    int64_t end, int64_t step) {
  if (Error e = checkDim(dim, x.size()))
    return std::move(e);
  if (x.empty())
    return fail("cannot slice a 0-d tensor");
  if (step <= 0)
    return fail("slice step must be positive, got {0}", step);
  if (start < 0 || end < 0)
    return fail("slice bounds must be non-negative after normalisation, got "
                "{0}:{1}",
                start, end);
  int64_t size = x[dim];
  start = std::min(start, size);
  end = std::min(std::max(end, start), size);
  Shape out(x.begin(), x.end());
  out[dim] = (end - start + step - 1) / step;
  return out;
}

Expected<Shape> graft::shape::concat(llvm::ArrayRef<ShapeRef> inputs,
                                     int64_t dim) {
  if (inputs.empty())
    return fail("cat needs at least one tensor");
  ShapeRef first = inputs.front();
  if (first.empty())
    return fail("zero-dimensional tensor cannot be concatenated");
  if (Error e = checkDim(dim, first.size()))
    return std::move(e);
  Shape out(first.begin(), first.end());
  for (auto [i, s] : llvm::enumerate(inputs.drop_front())) {
    if (s.size() != first.size())
      return fail("cat tensors must have the same rank: tensor 0 is {0}, "
                  "tensor {1} is {2}",
                  str(first), i + 1, str(s));
    for (size_t d = 0; d < s.size(); ++d)
      if ((int64_t)d != dim && s[d] != first[d])
        return fail("cat sizes must match except in dimension {0}: tensor 0 "
                    "is {1}, tensor {2} is {3}",
                    dim, str(first), i + 1, str(s));
    out[dim] += s[dim];
  }
  return out;
}

static Error checkPair(llvm::StringRef name, llvm::ArrayRef<int64_t> v,
                       int64_t min) {
  if (v.size() != 2)
    return fail("{0} must have 2 values (height, width), got {1}", name,
                v.size());
  for (int64_t x : v)
    if (x < min)
      return fail("{0} must be >= {1}, got {2}", name, min, str(v));
    else if (x > kMaxDim)
      return fail("{0} must be at most 2^31, got {1}", name, str(v));
  return Error::success();
}

Expected<Shape> graft::shape::conv2d(ShapeRef x, ShapeRef w,
                                     std::optional<ShapeRef> bias,
                                     llvm::ArrayRef<int64_t> stride,
                                     llvm::ArrayRef<int64_t> padding,
                                     llvm::ArrayRef<int64_t> dilation,
                                     int64_t groups) {
  if (x.size() != 4)
    return fail("conv2d input must be 4-D [N, C, H, W], got {0}", str(x));
  if (w.size() != 4)
    return fail("conv2d weight must be 4-D [out, in / groups, kH, kW], got {0}",
                str(w));
  for (auto [name, v, min] :
       {std::tuple{"stride", stride, 1}, {"padding", padding, 0},
        {"dilation", dilation, 1}})
    if (Error e = checkPair(name, v, min))
      return std::move(e);
  if (groups < 1)
    return fail("groups must be positive, got {0}", groups);
  if (x[1] % groups != 0 || w[0] % groups != 0)
    return fail("conv2d channels must be divisible by groups = {0}: input has "
                "{1}, weight has {2} output channels",
                groups, x[1], w[0]);
  if (w[1] * groups != x[1])
    return fail("conv2d weight {0} expects {1} input channels (groups = {2}), "
                "but the input {3} has {4}",
                str(w), w[1] * groups, groups, str(x), x[1]);
  if (bias && (bias->size() != 1 || (*bias)[0] != w[0]))
    return fail("conv2d bias must be [{0}] (out channels), got {1}", w[0],
                str(*bias));
  Shape out = {x[0], w[0], 0, 0};
  for (int i = 0; i < 2; ++i) {
    int64_t eff = dilation[i] * (w[2 + i] - 1) + 1;
    int64_t padded = x[2 + i] + 2 * padding[i];
    if (padded < eff)
      return fail("conv2d kernel size {0} (dilated to {1}) is larger than the "
                  "padded input size {2} in spatial dimension {3}",
                  w[2 + i], eff, padded, i);
    out[2 + i] = (padded - eff) / stride[i] + 1;
  }
  return out;
}

Expected<Shape> graft::shape::pool2d(ShapeRef x, llvm::ArrayRef<int64_t> kernel,
                                     llvm::ArrayRef<int64_t> stride,
                                     llvm::ArrayRef<int64_t> padding,
                                     llvm::ArrayRef<int64_t> dilation,
                                     bool ceilMode) {
  if (x.size() != 4)
    return fail("pooling input must be 4-D [N, C, H, W], got {0}", str(x));
  for (auto [name, v, min] :
       {std::tuple{"kernel_size", kernel, 1}, {"stride", stride, 1},
        {"padding", padding, 0}, {"dilation", dilation, 1}})
    if (Error e = checkPair(name, v, min))
      return std::move(e);
  Shape out = {x[0], x[1], 0, 0};
  for (int i = 0; i < 2; ++i) {
    if (padding[i] * 2 > kernel[i])
      return fail("pad should be at most half of the kernel size, but got "
                  "pad = {0} and kernel_size = {1}",
                  padding[i], kernel[i]);
    int64_t eff = dilation[i] * (kernel[i] - 1) + 1;
    int64_t span = x[2 + i] + 2 * padding[i] - eff;
    if (span < 0)
      return fail("pooling window {0} (dilated to {1}) is larger than the "
                  "padded input size {2} in spatial dimension {3}",
                  kernel[i], eff, x[2 + i] + 2 * padding[i], i);
    int64_t size = (span + (ceilMode ? stride[i] - 1 : 0)) / stride[i] + 1;
    // PyTorch: the last window must start inside the input or left padding.
    if (ceilMode && (size - 1) * stride[i] >= x[2 + i] + padding[i])
      --size;
    out[2 + i] = size;
  }
  return out;
}

Pool2dWindow::AvgTaps Pool2dWindow::avgTaps(int64_t H, int64_t W, int64_t oy,
                                            int64_t ox) const {
  int64_t y0 = oy * stride[0] - padding[0], x0 = ox * stride[1] - padding[1];
  int64_t y1 = std::min(y0 + kernel[0], H + padding[0]);
  int64_t x1 = std::min(x0 + kernel[1], W + padding[1]);
  int64_t padded = (y1 - y0) * (x1 - x0);
  y0 = std::max<int64_t>(y0, 0);
  x0 = std::max<int64_t>(x0, 0);
  y1 = std::min(y1, H);
  x1 = std::min(x1, W);
  return {y0, y1, x0, x1, countIncludePad ? padded : (y1 - y0) * (x1 - x0)};
}

Error graft::shape::layerNorm(ShapeRef x,
                              llvm::ArrayRef<int64_t> normalizedShape,
                              std::optional<ShapeRef> weight,
                              std::optional<ShapeRef> bias) {
  if (normalizedShape.empty())
    return fail("layer_norm normalized_shape must not be empty");
  if (normalizedShape.size() > x.size() ||
      x.take_back(normalizedShape.size()) != normalizedShape)
    return fail("layer_norm input {0} does not end with normalized_shape {1}",
                str(x), str(normalizedShape));
  if (weight && *weight != normalizedShape)
    return fail("layer_norm weight must be {0} (normalized_shape), got {1}",
                str(normalizedShape), strOpt(weight));
  if (bias && *bias != normalizedShape)
    return fail("layer_norm bias must be {0} (normalized_shape), got {1}",
                str(normalizedShape), strOpt(bias));
  return Error::success();
}

Error graft::shape::batchNorm(ShapeRef x, std::optional<ShapeRef> weight,
                              std::optional<ShapeRef> bias,
                              ShapeRef runningMean, ShapeRef runningVar) {
  if (x.size() < 2)
    return fail("batch_norm input must be [N, C, ...] with at least 2 "
                "dimensions, got {0}",
                str(x));
  Shape c = {x[1]};
  for (auto [name, s] :
       {std::pair{"weight", weight}, {"bias", bias},
        {"running_mean", std::optional<ShapeRef>(runningMean)},
        {"running_var", std::optional<ShapeRef>(runningVar)}})
    if (s && *s != ShapeRef(c))
      return fail("batch_norm {0} must be {1} (the channels of input {2}), "
                  "got {3}",
                  name, str(c), str(x), str(*s));
  return Error::success();
}

Expected<Shape> graft::shape::embedding(ShapeRef weight, ShapeRef indices) {
  if (weight.size() != 2)
    return fail("embedding weight must be 2-D [num_embeddings, "
                "embedding_dim], got {0}",
                str(weight));
  Shape out(indices.begin(), indices.end());
  out.push_back(weight[1]);
  return out;
}

Expected<Shape> graft::shape::attention(ShapeRef q, ShapeRef k, ShapeRef v) {
  if (q.size() < 2 || k.size() != q.size() || v.size() != q.size())
    return fail("scaled_dot_product_attention needs query, key and value of "
                "the same rank >= 2, got {0}, {1} and {2}",
                str(q), str(k), str(v));
  if (q.drop_back(2) != k.drop_back(2) || q.drop_back(2) != v.drop_back(2))
    return fail("scaled_dot_product_attention batch dimensions differ: query "
                "{0}, key {1}, value {2}",
                str(q), str(k), str(v));
  if (q.back() != k.back())
    return fail("scaled_dot_product_attention query {0} and key {1} must have "
                "the same embedding size (last dimension)",
                str(q), str(k));
  if (k[k.size() - 2] != v[v.size() - 2])
    return fail("scaled_dot_product_attention key {0} and value {1} must have "
                "the same sequence length (dimension -2)",
                str(k), str(v));
  Shape out(q.begin(), q.end());
  out.back() = v.back();
  return out;
}

Expected<Shape> graft::shape::classLoss(ShapeRef input, ShapeRef target,
                                        bool reduce) {
  if (input.empty())
    return fail("loss input must have a class dimension, got a 0-d tensor");
  Shape expected;
  if (input.size() == 1) {
    expected = {};
  } else {
    expected.push_back(input[0]);
    expected.append(input.begin() + 2, input.end());
  }
  if (target != ShapeRef(expected))
    return fail("expected target of shape {0} for input {1} (classes in "
                "dimension {2}), got {3}",
                str(expected), str(input), input.size() == 1 ? 0 : 1,
                str(target));
  return reduce ? Shape() : expected;
}
