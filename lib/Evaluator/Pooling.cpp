//===- Pooling.cpp - Evaluation: pooling
//------------------------------------===//
//
// Max and average pooling and their backward ops.
//
//===----------------------------------------------------------------------===//

#include "OpEvaluator.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace graft;
using namespace graft::eval;
using llvm::Error;

/// max_pool2d / avg_pool2d and their backward ops. In backward, operand 0 is
/// the output gradient and (max only) operand 1 the forward input.
llvm::Error OpEvaluator::pool(Operation *, bool isMax, bool backward) {
  shape::Pool2dWindow w = poolWindow(op);
  Tensor r = result();
  // Input-side and output-side shapes.
  std::vector<int64_t> inShape =
      backward ? (isMax ? in(1).shape : r.shape) : in(0).shape;
  std::vector<int64_t> outShape = backward ? in(0).shape : r.shape;
  const Tensor &x = isMax ? (backward ? in(1) : in(0)) : in(0);
  int64_t planes = inShape.size() == 4 ? inShape[0] * inShape[1] : inShape[0];
  int64_t H = inShape[inShape.size() - 2], W = inShape.back();
  int64_t OH = outShape[outShape.size() - 2], OW = outShape.back();
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t oy = 0; oy < OH; ++oy)
      for (int64_t ox = 0; ox < OW; ++ox) {
        int64_t outAt = (p * OH + oy) * OW + ox;
        if (isMax) {
          double best = -inf();
          int64_t bestAt = -1;
          for (int64_t ky = 0; ky < w.kernel[0]; ++ky)
            for (int64_t kx = 0; kx < w.kernel[1]; ++kx) {
              int64_t iy = w.inputIndex(0, oy, ky);
              int64_t ix = w.inputIndex(1, ox, kx);
              if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                continue;
              int64_t at = (p * H + iy) * W + ix;
              double v = x.data[at];
              // PyTorch's CPU kernel: starting from the first element of the
              // window, take an element when it is greater or NaN.
              if (bestAt < 0 || v > best || std::isnan(v)) {
                best = v;
                bestAt = at;
              }
            }
          if (backward) {
            if (bestAt >= 0)
              r.data[bestAt] += in(0).data[outAt];
          } else {
            r.data[outAt] = best;
          }
          continue;
        }
        // avg: PyTorch's window and divisor.
        shape::Pool2dWindow::AvgTaps t = w.avgTaps(H, W, oy, ox);
        double divisor = static_cast<double>(t.divisor);
        double sum = 0;
        for (int64_t iy = t.y0; iy < t.y1; ++iy)
          for (int64_t ix = t.x0; ix < t.x1; ++ix) {
            int64_t at = (p * H + iy) * W + ix;
            if (backward)
              r.data[at] += in(0).data[outAt] / divisor;
            else
              sum += x.data[at];
          }
        if (!backward)
          r.data[outAt] = sum / divisor;
      }
  set(std::move(r));
  return llvm::Error::success();
}

std::optional<llvm::Error> OpEvaluator::evalPooling() {
  return llvm::TypeSwitch<Operation *, std::optional<llvm::Error>>(op)
      .Case([&](MaxPool2dOp) { return pool(op, true, false); })
      .Case([&](AvgPool2dOp) { return pool(op, false, false); })
      .Case([&](MaxPool2dBackwardOp) { return pool(op, true, true); })
      .Case([&](AvgPool2dBackwardOp) { return pool(op, false, true); })
      .Default([](Operation *) { return std::nullopt; });
}
