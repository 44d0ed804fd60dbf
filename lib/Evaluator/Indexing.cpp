//===- Indexing.cpp - Evaluation: indexing
//----------------------------------===//
//
// embedding, its backward, and one_hot.
//
//===----------------------------------------------------------------------===//

#include "OpEvaluator.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace graft;
using namespace graft::eval;
using llvm::Error;

std::optional<llvm::Error> OpEvaluator::evalIndexing() {
  return llvm::TypeSwitch<Operation *, std::optional<llvm::Error>>(op)
      .Case([&](EmbeddingOp o) -> Error {
        const Tensor &w = in(o.getWeight()), &idx = in(o.getIndices());
        int64_t num = w.shape[0], dim = w.shape[1];
        std::optional<int64_t> pad;
        if (auto p = o.getPaddingIdx())
          pad = static_cast<int64_t>(*p) < 0 ? static_cast<int64_t>(*p) + num
                                             : static_cast<int64_t>(*p);
        auto held = ev.paddingRows.find(op);
        Tensor r = result();
        for (int64_t i = 0; i < idx.numel(); ++i) {
          int64_t row = static_cast<int64_t>(idx.data[i]);
          if (row < 0 || row >= num)
            return error(llvm::formatv("index {0} is out of range for an "
                                       "embedding of {1} rows",
                                       row, num));
          const Tensor &from =
              pad && row == *pad && held != ev.paddingRows.end() ? held->second
                                                                 : w;
          for (int64_t j = 0; j < dim; ++j)
            r.data[i * dim + j] = from.data[row * dim + j];
        }
        set(std::move(r));
        return ok();
      })
      .Case([&](EmbeddingBackwardOp o) -> Error {
        const Tensor &g = in(o.getGrad()), &idx = in(o.getIndices());
        Tensor r = result();
        int64_t num = r.shape[0], dim = r.shape[1];
        std::optional<int64_t> pad;
        if (auto p = o.getPaddingIdx())
          pad = static_cast<int64_t>(*p) < 0 ? static_cast<int64_t>(*p) + num
                                             : static_cast<int64_t>(*p);
        for (int64_t i = 0; i < idx.numel(); ++i) {
          int64_t row = static_cast<int64_t>(idx.data[i]);
          if (row < 0 || row >= num)
            return error(llvm::formatv("index {0} is out of range for an "
                                       "embedding of {1} rows",
                                       row, num));
          if (pad && row == *pad)
            continue;
          for (int64_t j = 0; j < dim; ++j)
            r.data[row * dim + j] += g.data[i * dim + j];
        }
        set(std::move(r));
        return ok();
      })
      .Case([&](OneHotOp o) {
        Tensor r = result();
        int64_t c = r.shape.back();
        const Tensor &t = in(0);
        for (int64_t i = 0; i < t.numel(); ++i) {
          int64_t k = static_cast<int64_t>(t.data[i]);
          if (k >= 0 && k < c)
            r.data[i * c + k] = 1.0;
        }
        set(std::move(r));
        return ok();
      })
      .Default([](Operation *) { return std::nullopt; });
}
