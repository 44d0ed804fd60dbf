//===- Convolution.cpp - Evaluation: convolution
//----------------------------===//
//
// conv2d and its two backward ops.
//
//===----------------------------------------------------------------------===//

#include "OpEvaluator.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace graft;
using namespace graft::eval;
using llvm::Error;

namespace {
struct ConvGeom {
  int64_t n, c, h, w;    // input
  int64_t o, cg, kh, kw; // weight: [o, c / groups, kh, kw]
  int64_t oh, ow;        // output
  int64_t sh, sw, ph, pw, dh, dw, groups;
  int64_t xAt(int64_t ni, int64_t ci, int64_t y, int64_t x) const {
    return ((ni * c + ci) * h + y) * w + x;
  }
  int64_t wAt(int64_t oi, int64_t ci, int64_t y, int64_t x) const {
    return ((oi * cg + ci) * kh + y) * kw + x;
  }
  int64_t yAt(int64_t ni, int64_t oi, int64_t y, int64_t x) const {
    return ((ni * o + oi) * oh + y) * ow + x;
  }
  /// Calls f(x index, w index, y index) for every term of the convolution.
  template <typename F> void forEach(F f) const {
    int64_t og = o / groups;
    for (int64_t ni = 0; ni < n; ++ni)
      for (int64_t oi = 0; oi < o; ++oi) {
        int64_t g = oi / og;
        for (int64_t y = 0; y < oh; ++y)
          for (int64_t x = 0; x < ow; ++x)
            for (int64_t ci = 0; ci < cg; ++ci)
              for (int64_t ky = 0; ky < kh; ++ky)
                for (int64_t kx = 0; kx < kw; ++kx) {
                  int64_t iy = y * sh - ph + ky * dh;
                  int64_t ix = x * sw - pw + kx * dw;
                  if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                    continue;
                  f(xAt(ni, g * cg + ci, iy, ix), wAt(oi, ci, ky, kx),
                    yAt(ni, oi, y, x));
                }
      }
  }
};

ConvGeom convGeom(ArrayRef<int64_t> x, ArrayRef<int64_t> w, ArrayRef<int64_t> y,
                  ArrayRef<int64_t> stride, ArrayRef<int64_t> padding,
                  ArrayRef<int64_t> dilation, int64_t groups) {
  return {x[0],        x[1],      x[2],       x[3],       w[0],
          w[1],        w[2],      w[3],       y[2],       y[3],
          stride[0],   stride[1], padding[0], padding[1], dilation[0],
          dilation[1], groups};
}
} // namespace

llvm::Error OpEvaluator::conv2d(Conv2dOp c) {
  const Tensor &x = in(c.getInput()), &w = in(c.getWeight());
  Tensor r = result();
  ConvGeom g = convGeom(x.shape, w.shape, r.shape, c.getStride(),
                        c.getPadding(), c.getDilation(), c.getGroups());
  g.forEach([&](int64_t xi, int64_t wi, int64_t yi) {
    r.data[yi] += x.data[xi] * w.data[wi];
  });
  if (c.getBias()) {
    const Tensor &b = in(c.getBias());
    int64_t plane = g.oh * g.ow;
    for (int64_t i = 0; i < r.numel(); ++i)
      r.data[i] += b.data[(i / plane) % g.o];
  }
  set(std::move(r));
  return llvm::Error::success();
}

llvm::Error OpEvaluator::convBackwardInput(Conv2dBackwardInputOp c) {
  const Tensor &gy = in(c.getGrad()), &w = in(c.getOther());
  Tensor r = result();
  ConvGeom g = convGeom(r.shape, w.shape, gy.shape, c.getStride(),
                        c.getPadding(), c.getDilation(), c.getGroups());
  g.forEach([&](int64_t xi, int64_t wi, int64_t yi) {
    r.data[xi] += gy.data[yi] * w.data[wi];
  });
  set(std::move(r));
  return llvm::Error::success();
}

llvm::Error OpEvaluator::convBackwardWeight(Conv2dBackwardWeightOp c) {
  const Tensor &gy = in(c.getGrad()), &x = in(c.getOther());
  Tensor r = result();
  ConvGeom g = convGeom(x.shape, r.shape, gy.shape, c.getStride(),
                        c.getPadding(), c.getDilation(), c.getGroups());
  g.forEach([&](int64_t xi, int64_t wi, int64_t yi) {
    r.data[wi] += gy.data[yi] * x.data[xi];
  });
  set(std::move(r));
  return llvm::Error::success();
}

std::optional<llvm::Error> OpEvaluator::evalConvolution() {
  return llvm::TypeSwitch<Operation *, std::optional<llvm::Error>>(op)
      .Case([&](Conv2dOp o) { return conv2d(o); })
      .Case([&](Conv2dBackwardInputOp o) { return convBackwardInput(o); })
      .Case([&](Conv2dBackwardWeightOp o) { return convBackwardWeight(o); })
      .Default([](Operation *) { return std::nullopt; });
}
