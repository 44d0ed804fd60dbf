//===- Products.cpp - Evaluation: products
//----------------------------------===//
//
// Matrix products, linear and scaled dot-product attention.
//
//===----------------------------------------------------------------------===//

#include "OpEvaluator.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace graft;
using namespace graft::eval;
using llvm::Error;

llvm::Error OpEvaluator::matmul(const Tensor &a0, const Tensor &b0) {
  std::vector<int64_t> as = a0.shape, bs = b0.shape;
  if (as.size() == 1)
    as.insert(as.begin(), 1);
  if (bs.size() == 1)
    bs.push_back(1);
  int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  std::vector<int64_t> ab(as.begin(), as.end() - 2),
      bb(bs.begin(), bs.end() - 2);
  std::vector<int64_t> batch(std::max(ab.size(), bb.size()), 1);
  for (size_t i = 0; i < batch.size(); ++i) {
    int64_t da =
        i < batch.size() - ab.size() ? 1 : ab[i - (batch.size() - ab.size())];
    int64_t db =
        i < batch.size() - bb.size() ? 1 : bb[i - (batch.size() - bb.size())];
    batch[i] = da == 1 ? db : da;
  }
  auto mapA = broadcastMap(batch, ab), mapB = broadcastMap(batch, bb);
  Tensor r = result();
  int64_t nb = numelOf(batch);
  for (int64_t bi = 0; bi < nb; ++bi) {
    const double *pa = a0.data.data() + mapA[bi] * m * k;
    const double *pb = b0.data.data() + mapB[bi] * k * n;
    double *pr = r.data.data() + bi * m * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t l = 0; l < k; ++l)
          s += pa[i * k + l] * pb[l * n + j];
        pr[i * n + j] = s;
      }
  }
  set(std::move(r));
  return llvm::Error::success();
}

llvm::Error OpEvaluator::attention(ScaledDotProductAttentionOp a) {
  const Tensor &q = in(a.getQuery()), &k = in(a.getKey()),
               &v = in(a.getValue());
  int64_t L = q.shape[q.rank() - 2], E = q.shape.back();
  int64_t S = k.shape[k.rank() - 2], Ev = v.shape.back();
  int64_t batch = q.numel() / (L * E);
  double scale = a.getScale() ? a.getScale()->convertToDouble()
                              : 1.0 / std::sqrt(static_cast<double>(E));
  Tensor r = result();
  std::vector<double> w(S);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < L; ++i) {
      double mx = -inf();
      for (int64_t j = 0; j < S; ++j) {
        double s = 0;
        for (int64_t e = 0; e < E; ++e)
          s += q.data[(b * L + i) * E + e] * k.data[(b * S + j) * E + e];
        s *= scale;
        if (a.getIsCausal() && j > i)
          s = -inf();
        w[j] = s;
        mx = std::max(mx, s);
      }
      double sum = 0;
      for (int64_t j = 0; j < S; ++j)
        sum += (w[j] = std::isinf(mx) ? nan() : std::exp(w[j] - mx));
      for (int64_t e = 0; e < Ev; ++e) {
        double o = 0;
        for (int64_t j = 0; j < S; ++j)
          o += w[j] / sum * v.data[(b * S + j) * Ev + e];
        r.data[(b * L + i) * Ev + e] = o;
      }
    }
  set(std::move(r));
  return llvm::Error::success();
}

std::optional<llvm::Error> OpEvaluator::evalProducts() {
  return llvm::TypeSwitch<Operation *, std::optional<llvm::Error>>(op)
      // Linear algebra and reductions.
      .Case([&](MatmulOp o) { return matmul(in(o.getLhs()), in(o.getRhs())); })
      .Case([&](LinearOp o) {
        const Tensor &x = in(o.getInput()), &w = in(o.getWeight());
        int64_t k = w.shape[1], out = w.shape[0], rows = x.numel() / k;
        Tensor r = result();
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t j = 0; j < out; ++j) {
            double s = o.getBias() ? in(o.getBias()).data[j] : 0.0;
            double dot = 0;
            for (int64_t l = 0; l < k; ++l)
              dot += x.data[i * k + l] * w.data[j * k + l];
            r.data[i * out + j] = dot + s;
          }
        set(std::move(r));
        return ok();
      })
      .Case([&](ScaledDotProductAttentionOp o) { return attention(o); })
      .Default([](Operation *) { return std::nullopt; });
}
