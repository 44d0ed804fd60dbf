//===- Normalization.cpp - Evaluation: normalization
//------------------------===//
//
// layer_norm and batch_norm (train and eval modes).
//
//===----------------------------------------------------------------------===//

#include "OpEvaluator.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace graft;
using namespace graft::eval;
using llvm::Error;

llvm::Error OpEvaluator::layerNorm(LayerNormOp ln) {
  const Tensor &x = in(ln.getInput());
  int64_t m = numelOf(ln.getNormalizedShape());
  int64_t rows = x.numel() / m;
  double eps = ln.getEps().convertToDouble();
  Tensor r = x;
  for (int64_t row = 0; row < rows; ++row) {
    const double *p = x.data.data() + row * m;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < m; ++i)
      mean += p[i];
    mean /= m;
    for (int64_t i = 0; i < m; ++i)
      var += (p[i] - mean) * (p[i] - mean);
    var /= m;
    double rstd = 1.0 / std::sqrt(var + eps);
    for (int64_t i = 0; i < m; ++i) {
      double v = (p[i] - mean) * rstd;
      if (ln.getWeight())
        v *= in(ln.getWeight()).data[i];
      if (ln.getBias())
        v += in(ln.getBias()).data[i];
      r.data[row * m + i] = v;
    }
  }
  set(std::move(r));
  return llvm::Error::success();
}

llvm::Error OpEvaluator::batchNorm(BatchNormOp bn) {
  const Tensor &x = in(bn.getInput());
  const Tensor &rm = in(bn.getRunningMean()), &rv = in(bn.getRunningVar());
  int64_t n = x.shape[0], c = x.shape[1];
  int64_t spatial = numelOf(ArrayRef<int64_t>(x.shape).drop_front(2));
  int64_t count = n * spatial;
  double eps = bn.getEps().convertToDouble();
  double momentum = bn.getMomentum().convertToDouble();
  // F.batch_norm's `training` flag, and the module's mode: batch statistics
  // only when both say train (the model body leaves the flag at true).
  bool train = ev.mode == Mode::Train && bn.getTraining();
  Tensor r = x;
  Tensor newMean = rm, newVar = rv;
  for (int64_t ci = 0; ci < c; ++ci) {
    auto at = [&](int64_t ni, int64_t s) {
      return (ni * c + ci) * spatial + s;
    };
    double mean, var;
    if (train) {
      if (count <= 1)
        return error(llvm::formatv("Expected more than 1 value per channel "
                                   "when training, got input size {0}",
                                   x.typeStr()));
      mean = 0;
      for (int64_t ni = 0; ni < n; ++ni)
        for (int64_t s = 0; s < spatial; ++s)
          mean += x.data[at(ni, s)];
      mean /= count;
      var = 0;
      for (int64_t ni = 0; ni < n; ++ni)
        for (int64_t s = 0; s < spatial; ++s)
          var += (x.data[at(ni, s)] - mean) * (x.data[at(ni, s)] - mean);
      double unbiased = var / (count - 1);
      var /= count;
      newMean.data[ci] = (1 - momentum) * rm.data[ci] + momentum * mean;
      newVar.data[ci] = (1 - momentum) * rv.data[ci] + momentum * unbiased;
    } else {
      mean = rm.data[ci];
      var = rv.data[ci];
    }
    double rstd = 1.0 / std::sqrt(var + eps);
    double w = bn.getWeight() ? in(bn.getWeight()).data[ci] : 1.0;
    double b = bn.getBias() ? in(bn.getBias()).data[ci] : 0.0;
    for (int64_t ni = 0; ni < n; ++ni)
      for (int64_t s = 0; s < spatial; ++s)
        r.data[at(ni, s)] = (x.data[at(ni, s)] - mean) * rstd * w + b;
  }
  set(std::move(r));
  if (train) {
    for (auto [v, t] : {std::make_pair(bn.getRunningMean(), &newMean),
                        std::make_pair(bn.getRunningVar(), &newVar)}) {
      auto buf = v.getDefiningOp<BufferOp>();
      if (!buf)
        return error("running statistics must be graft.buffer values");
      if (!ev.computeInF64)
        for (double &d : t->data)
          d = roundTo(t->dtype, d);
      ev.updatedBuffers[buf.getName()] = std::move(*t);
    }
    // torch.nn.BatchNorm counts its train-mode calls in num_batches_tracked,
    // the buffer beside running_mean (as the training program does).
    auto meanBuf = bn.getRunningMean().getDefiningOp<BufferOp>();
    llvm::StringRef meanName = meanBuf.getName();
    if (meanName.ends_with("running_mean")) {
      std::string count =
          (meanName.drop_back(strlen("running_mean")) + "num_batches_tracked")
              .str();
      if (std::optional<Tensor> c = ev.buffer(count)) {
        for (double &d : c->data)
          d += 1;
        ev.updatedBuffers[count] = std::move(*c);
      }
    }
  }
  return llvm::Error::success();
}

std::optional<llvm::Error> OpEvaluator::evalNormalization() {
  return llvm::TypeSwitch<Operation *, std::optional<llvm::Error>>(op)
      .Case([&](LayerNormOp o) { return layerNorm(o); })
      .Case([&](BatchNormOp o) { return batchNorm(o); })
      .Default([](Operation *) { return std::nullopt; });
}
