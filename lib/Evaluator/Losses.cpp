//===- Losses.cpp - Evaluation: losses
//--------------------------------------===//
//
// cross_entropy, nll_loss and mse_loss.
//
//===----------------------------------------------------------------------===//

#include "OpEvaluator.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace graft;
using namespace graft::eval;
using llvm::Error;

/// cross_entropy (logSoftmaxFirst) and nll_loss with class-index targets.
llvm::Error OpEvaluator::classLoss(const Tensor &x, const Tensor &target,
                                   int64_t ignoreIndex, double smoothing,
                                   Reduction reduction, bool logSoftmaxFirst) {
  int64_t n = x.rank() == 1 ? 1 : x.shape[0];
  int64_t c = x.rank() == 1 ? x.shape[0] : x.shape[1];
  int64_t spatial =
      x.rank() <= 2 ? 1 : numelOf(ArrayRef<int64_t>(x.shape).drop_front(2));
  std::vector<double> per(n * spatial, 0.0);
  double total = 0, count = 0;
  for (int64_t ni = 0; ni < n; ++ni)
    for (int64_t s = 0; s < spatial; ++s) {
      auto at = [&](int64_t ci) { return (ni * c + ci) * spatial + s; };
      int64_t t = static_cast<int64_t>(target.data[ni * spatial + s]);
      if (t == ignoreIndex)
        continue;
      if (t < 0 || t >= c)
        return error(llvm::formatv("Target {0} is out of bounds.", t));
      std::vector<double> logp(c);
      double lse = 0;
      if (logSoftmaxFirst) {
        double mx = -inf();
        for (int64_t ci = 0; ci < c; ++ci)
          mx = std::max(mx, x.data[at(ci)]);
        double sum = 0;
        for (int64_t ci = 0; ci < c; ++ci)
          sum += std::exp(x.data[at(ci)] - mx);
        lse = mx + std::log(sum);
      }
      for (int64_t ci = 0; ci < c; ++ci)
        logp[ci] = x.data[at(ci)] - lse;
      double l = -logp[t];
      if (smoothing > 0) {
        double smooth = 0;
        for (int64_t ci = 0; ci < c; ++ci)
          smooth -= logp[ci];
        l = (1 - smoothing) * l + smoothing / c * smooth;
      }
      per[ni * spatial + s] = l;
      total += l;
      count += 1;
    }
  Tensor r = result();
  if (reduction == Reduction::none)
    r.data = per;
  else
    r.data[0] = reduction == Reduction::sum ? total : total / count;
  set(std::move(r));
  return llvm::Error::success();
}

std::optional<llvm::Error> OpEvaluator::evalLosses() {
  return llvm::TypeSwitch<Operation *, std::optional<llvm::Error>>(op)
      .Case([&](CrossEntropyOp o) {
        return classLoss(in(0), in(1), static_cast<int64_t>(o.getIgnoreIndex()),
                         o.getLabelSmoothing().convertToDouble(),
                         o.getReduction(), true);
      })
      .Case([&](NllLossOp o) {
        return classLoss(in(0), in(1), static_cast<int64_t>(o.getIgnoreIndex()),
                         0.0, o.getReduction(), false);
      })
      .Case([&](MseLossOp o) {
        const Tensor &a = in(0), &b = in(1);
        Tensor r = result();
        double total = 0;
        std::vector<double> per(a.numel());
        for (int64_t i = 0; i < a.numel(); ++i)
          total += per[i] = (a.data[i] - b.data[i]) * (a.data[i] - b.data[i]);
        if (o.getReduction() == Reduction::none)
          r.data = per;
        else
          r.data[0] =
              o.getReduction() == Reduction::sum ? total : total / a.numel();
        set(std::move(r));
        return ok();
      })
      .Default([](Operation *) { return std::nullopt; });
}
