//===- ShapeFunctions.h - Shape rules of graft ops --------------*- C++ -*-===//
//
// One function per shape rule, free of MLIR types so that the op verifiers,
// the builders and the front-end's diagnostics all use the same code. Each
// returns the result shape, or an error whose message says what was expected
// (both shapes where two meet).
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_DIALECT_GRAFT_IR_SHAPEFUNCTIONS_H
#define GRAFT_DIALECT_GRAFT_IR_SHAPEFUNCTIONS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <array>
#include <optional>
#include <string>

namespace graft::shape {

using Shape = llvm::SmallVector<int64_t, 4>;
using ShapeRef = llvm::ArrayRef<int64_t>;

/// The largest dimension size, and the most elements one tensor may have
/// (2^34: 64 GiB of f32). Every graft op's results are checked against
/// them (GraftSizedTensors), so the shape rules' arithmetic on valid shapes
/// and on attributes below kMaxDim stays far from int64 overflow.
constexpr int64_t kMaxDim = int64_t(1) << 31;
constexpr int64_t kMaxElements = int64_t(1) << 34;

/// "[4, 3]": how shapes appear in diagnostics.
std::string str(ShapeRef shape);
/// The element count; saturates at INT64_MAX instead of overflowing.
int64_t numel(ShapeRef shape);
/// Why `shape` cannot be a tensor's: a dimension outside [1, kMaxDim], or
/// more than kMaxElements elements. Success when it can.
llvm::Error checkSize(ShapeRef shape);

/// PyTorch broadcasting of two shapes.
llvm::Expected<Shape> broadcast(ShapeRef a, ShapeRef b);
/// Whether `from` broadcasts to exactly `to` (expand / in-place rules).
llvm::Error broadcastsTo(ShapeRef from, ShapeRef to);
/// torch.matmul, including the 1-D cases and batch broadcasting.
llvm::Expected<Shape> matmul(ShapeRef a, ShapeRef b);
/// F.linear: [..., in] x [out, in] (+ [out]) -> [..., out].
llvm::Expected<Shape> linear(ShapeRef x, ShapeRef w,
                             std::optional<ShapeRef> bias);
/// Reductions over `dims` (all when empty).
llvm::Expected<Shape> reduce(ShapeRef x, llvm::ArrayRef<int64_t> dims,
                             bool keepdim);
llvm::Error checkDim(int64_t dim, int64_t rank, llvm::StringRef what = "dim");
llvm::Error reshape(ShapeRef from, ShapeRef to);
llvm::Expected<Shape> transpose(ShapeRef x, int64_t dim0, int64_t dim1);
llvm::Expected<Shape> permute(ShapeRef x, llvm::ArrayRef<int64_t> perm);
llvm::Expected<Shape> slice(ShapeRef x, int64_t dim, int64_t start,
                            int64_t end, int64_t step);
llvm::Expected<Shape> concat(llvm::ArrayRef<ShapeRef> inputs, int64_t dim);
llvm::Expected<Shape> conv2d(ShapeRef x, ShapeRef w,
                             std::optional<ShapeRef> bias,
                             llvm::ArrayRef<int64_t> stride,
                             llvm::ArrayRef<int64_t> padding,
                             llvm::ArrayRef<int64_t> dilation, int64_t groups);
llvm::Expected<Shape> pool2d(ShapeRef x, llvm::ArrayRef<int64_t> kernel,
                             llvm::ArrayRef<int64_t> stride,
                             llvm::ArrayRef<int64_t> padding,
                             llvm::ArrayRef<int64_t> dilation, bool ceilMode);
/// The windows of a 2-D pooling as PyTorch moves them (F.max_pool2d,
/// F.avg_pool2d), one value per spatial dimension: what the evaluator and
/// the lowerings share, so that they cannot disagree on a window or a
/// divisor. Output (oy, ox) reads input rows oy*stride - padding +
/// k*dilation for k < kernel (and the same across).
struct Pool2dWindow {
  std::array<int64_t, 2> kernel, stride, padding, dilation;
  /// avg_pool2d: whether padded zeros count in the divisor.
  bool countIncludePad = true;

  /// The input index of tap `k` of output `o` in spatial dimension `dim`
  /// (outside [0, size) in the padding).
  int64_t inputIndex(int dim, int64_t o, int64_t k) const {
    return o * stride[dim] - padding[dim] + k * dilation[dim];
  }
  /// avg_pool2d's window of output (oy, ox) over an H x W input: rows
  /// [y0, y1) and columns [x0, x1) of the input, and PyTorch's divisor (the
  /// window's size within the padded input, or with countIncludePad false
  /// the number of input elements in it).
  struct AvgTaps {
    int64_t y0, y1, x0, x1, divisor;
  };
  AvgTaps avgTaps(int64_t H, int64_t W, int64_t oy, int64_t ox) const;
};

llvm::Error layerNorm(ShapeRef x, llvm::ArrayRef<int64_t> normalizedShape,
                      std::optional<ShapeRef> weight,
                      std::optional<ShapeRef> bias);
llvm::Error batchNorm(ShapeRef x, std::optional<ShapeRef> weight,
                      std::optional<ShapeRef> bias, ShapeRef runningMean,
                      ShapeRef runningVar);
llvm::Expected<Shape> embedding(ShapeRef weight, ShapeRef indices);
llvm::Expected<Shape> attention(ShapeRef q, ShapeRef k, ShapeRef v);
/// cross_entropy / nll_loss with class-index targets; `reduce` is false for
/// reduction 'none'.
llvm::Expected<Shape> classLoss(ShapeRef input, ShapeRef target, bool reduce);

} // namespace graft::shape

#endif
