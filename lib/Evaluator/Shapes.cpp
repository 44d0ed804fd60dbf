//===- Shapes.cpp - Evaluation: shapes
//--------------------------------------===//
//
// Reshapes, transposes, broadcasts, slices and concatenation.
//
//===----------------------------------------------------------------------===//

#include "OpEvaluator.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace graft;
using namespace graft::eval;
using llvm::Error;

llvm::Error OpEvaluator::slice(const Tensor &x, int64_t dim, int64_t start,
                               int64_t end, int64_t step, bool backward) {
  // `x` is the sliced tensor in forward and the gradient in backward; `full`
  // is the shape of the tensor being sliced.
  Tensor r = result();
  const std::vector<int64_t> &full = backward ? r.shape : x.shape;
  dim = normDim(dim, static_cast<int64_t>(full.size()));
  int64_t size = full[dim];
  start = std::clamp<int64_t>(start, 0, size);
  end = std::clamp<int64_t>(end, start, size);
  Split fs = splitAt(full, dim);
  int64_t taken = (end - start + step - 1) / step;
  for (int64_t o = 0; o < fs.outer; ++o)
    for (int64_t j = 0; j < taken; ++j)
      for (int64_t i = 0; i < fs.inner; ++i) {
        int64_t fullAt = (o * fs.n + start + j * step) * fs.inner + i;
        int64_t smallAt = (o * taken + j) * fs.inner + i;
        if (backward)
          r.data[fullAt] = x.data[smallAt];
        else
          r.data[smallAt] = x.data[fullAt];
      }
  set(std::move(r));
  return llvm::Error::success();
}

std::optional<llvm::Error> OpEvaluator::evalShapes() {
  return llvm::TypeSwitch<Operation *, std::optional<llvm::Error>>(op)
      // Shapes.
      .Case<ReshapeOp, DetachOp, CloneOp>(
          [&](auto o) { return identity(o.getInput()); })
      .Case([&](TransposeOp o) {
        const Tensor &x = in(0);
        SmallVector<int64_t> perm;
        for (int64_t d = 0; d < x.rank(); ++d)
          perm.push_back(d);
        std::swap(perm[normDim(o.getDim0(), x.rank())],
                  perm[normDim(o.getDim1(), x.rank())]);
        Tensor r = result();
        auto xs = stridesOf(x.shape);
        for (int64_t lin = 0; lin < r.numel(); ++lin) {
          auto idx = unravel(lin, r.shape);
          int64_t off = 0;
          for (int64_t d = 0; d < x.rank(); ++d)
            off += idx[d] * xs[perm[d]];
          r.data[lin] = x.data[off];
        }
        set(std::move(r));
        return ok();
      })
      .Case([&](PermuteOp o) {
        const Tensor &x = in(0);
        Tensor r = result();
        auto xs = stridesOf(x.shape);
        for (int64_t lin = 0; lin < r.numel(); ++lin) {
          auto idx = unravel(lin, r.shape);
          int64_t off = 0;
          for (int64_t d = 0; d < x.rank(); ++d)
            off += idx[d] * xs[normDim(o.getDims()[d], x.rank())];
          r.data[lin] = x.data[off];
        }
        set(std::move(r));
        return ok();
      })
      .Case([&](BroadcastToOp o) {
        Tensor r = result();
        auto m = broadcastMap(r.shape, in(0).shape);
        for (int64_t i = 0; i < r.numel(); ++i)
          r.data[i] = in(0).data[m[i]];
        set(std::move(r));
        return ok();
      })
      .Case([&](SliceOp o) {
        return slice(in(0), o.getDim(), o.getStart(), o.getEnd(), o.getStep(),
                     false);
      })
      .Case([&](SliceBackwardOp o) {
        return slice(in(0), o.getDim(), o.getStart(), o.getEnd(), o.getStep(),
                     true);
      })
      .Case([&](ConcatOp o) {
        Tensor r = result();
        int64_t dim = normDim(o.getDim(), r.rank());
        Split rs = splitAt(r.shape, dim);
        int64_t offset = 0;
        for (Value v : o.getInputs()) {
          const Tensor &t = in(v);
          Split ts = splitAt(t.shape, dim);
          for (int64_t a = 0; a < ts.outer; ++a)
            for (int64_t j = 0; j < ts.n; ++j)
              for (int64_t i = 0; i < ts.inner; ++i)
                r.data[(a * rs.n + offset + j) * rs.inner + i] =
                    t.data[(a * ts.n + j) * ts.inner + i];
          offset += ts.n;
        }
        set(std::move(r));
        return ok();
      })
      .Default([](Operation *) { return std::nullopt; });
}
