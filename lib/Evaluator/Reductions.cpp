//===- Reductions.cpp - Evaluation: reductions
//------------------------------===//
//
// sum, mean, amax, argmax, softmax and log_softmax.
//
//===----------------------------------------------------------------------===//

#include "OpEvaluator.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace graft;
using namespace graft::eval;
using llvm::Error;

/// kind: 0 sum, 1 mean, 2 amax.
llvm::Error OpEvaluator::reduce(ArrayRef<int64_t> dims0, int kind) {
  const Tensor &x = in(0);
  std::vector<bool> reduced(x.rank(), dims0.empty());
  for (int64_t d : dims0)
    reduced[normDim(d, x.rank())] = true;
  std::vector<int64_t> kept; // keepdim shape
  int64_t count = 1;
  for (int64_t d = 0; d < x.rank(); ++d) {
    kept.push_back(reduced[d] ? 1 : x.shape[d]);
    if (reduced[d])
      count *= x.shape[d];
  }
  std::vector<int64_t> keptStrides = stridesOf(kept);
  Tensor r = result(0, kind == 2 ? -inf() : 0.0);
  for (int64_t lin = 0; lin < x.numel(); ++lin) {
    auto idx = unravel(lin, x.shape);
    int64_t o = 0;
    for (int64_t d = 0; d < x.rank(); ++d)
      if (!reduced[d])
        o += idx[d] * keptStrides[d];
    double v = x.data[lin];
    if (kind == 2)
      r.data[o] = (std::isnan(v) || std::isnan(r.data[o]))
                      ? nan()
                      : std::max(r.data[o], v);
    else
      r.data[o] += v;
  }
  if (kind == 1)
    for (double &v : r.data)
      v /= static_cast<double>(count);
  set(std::move(r));
  return llvm::Error::success();
}

llvm::Error OpEvaluator::softmax(int64_t dim, bool log) {
  const Tensor &x = in(0);
  Split s = splitAt(x.shape, normDim(dim, x.rank()));
  Tensor r = x;
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t i = 0; i < s.inner; ++i) {
      auto at = [&](int64_t j) { return (o * s.n + j) * s.inner + i; };
      double mx = -inf();
      for (int64_t j = 0; j < s.n; ++j)
        mx = std::max(mx, x.data[at(j)]);
      if (std::isinf(mx))
        mx = 0;
      double sum = 0;
      for (int64_t j = 0; j < s.n; ++j)
        sum += std::exp(x.data[at(j)] - mx);
      for (int64_t j = 0; j < s.n; ++j)
        r.data[at(j)] = log ? x.data[at(j)] - mx - std::log(sum)
                            : std::exp(x.data[at(j)] - mx) / sum;
    }
  set(std::move(r));
  return llvm::Error::success();
}

std::optional<llvm::Error> OpEvaluator::evalReductions() {
  return llvm::TypeSwitch<Operation *, std::optional<llvm::Error>>(op)
      .Case([&](SumOp o) { return reduce(o.getDims(), 0); })
      .Case([&](MeanOp o) { return reduce(o.getDims(), 1); })
      .Case([&](MaxOp o) { return reduce(o.getDims(), 2); })
      .Case([&](ArgmaxOp o) {
        const Tensor &x = in(0);
        Split s = splitAt(x.shape, normDim(o.getDim(), x.rank()));
        Tensor r = result();
        for (int64_t a = 0; a < s.outer; ++a)
          for (int64_t i = 0; i < s.inner; ++i) {
            int64_t best = 0;
            for (int64_t j = 1; j < s.n; ++j) {
              double v = x.data[(a * s.n + j) * s.inner + i];
              double b = x.data[(a * s.n + best) * s.inner + i];
              if (!std::isnan(b) && (v > b || std::isnan(v)))
                best = j;
            }
            r.data[a * s.inner + i] = best;
          }
        set(std::move(r));
        return ok();
      })
      // Neural-network ops.
      .Case([&](SoftmaxOp o) { return softmax(o.getDim(), false); })
      .Case([&](LogSoftmaxOp o) { return softmax(o.getDim(), true); })
      .Default([](Operation *) { return std::nullopt; });
}
