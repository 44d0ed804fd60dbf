//===- OpEvaluator.h - One op of the reference evaluator --------*- C++ -*-===//
//
// Private to lib/Evaluator: the indexing helpers and the class that
// evaluates one op, whose members are defined by op family, one file each
// (Elementwise, Shapes, Reductions, Products, Convolution, Pooling,
// Normalization, Losses, Indexing: the families of the lowering,
// lib/Conversion/GraftToLinalg/), the model's own ops in Evaluator.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_LIB_EVALUATOR_OPEVALUATOR_H
#define GRAFT_LIB_EVALUATOR_OPEVALUATOR_H

#include "graft/Dialect/Graft/IR/Init.h"
#include "graft/Dialect/Graft/IR/ShapeFunctions.h"
#include "graft/Dialect/Graft/IR/UnaryOps.h"
#include "graft/Evaluator/Evaluator.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace graft::eval {
using llvm::ArrayRef;
using llvm::SmallVector;
using mlir::Operation;
using mlir::RankedTensorType;
using mlir::Value;

inline llvm::Error err(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}
} // namespace graft::eval

//===----------------------------------------------------------------------===//
// Indexing helpers
//===----------------------------------------------------------------------===//

namespace graft::eval {
/// For each linear index of `out`, the linear index of the element of a
/// tensor of shape `in` that broadcasting maps to it.
inline std::vector<int64_t> broadcastMap(ArrayRef<int64_t> out,
                                         ArrayRef<int64_t> in) {
  std::vector<int64_t> map(numelOf(out));
  std::vector<int64_t> inStrides = stridesOf(in);
  size_t lead = out.size() - in.size();
  std::vector<int64_t> idx(out.size(), 0);
  for (size_t lin = 0; lin < map.size(); ++lin) {
    int64_t off = 0;
    for (size_t d = 0; d < in.size(); ++d)
      if (in[d] != 1)
        off += idx[lead + d] * inStrides[d];
    map[lin] = off;
    for (int64_t d = static_cast<int64_t>(out.size()) - 1; d >= 0; --d) {
      if (++idx[d] < out[d])
        break;
      idx[d] = 0;
    }
  }
  return map;
}

/// The multi-index of linear index `lin` in `shape`.
inline std::vector<int64_t> unravel(int64_t lin, ArrayRef<int64_t> shape) {
  std::vector<int64_t> idx(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    idx[d] = shape[d] ? lin % shape[d] : 0;
    lin = shape[d] ? lin / shape[d] : 0;
  }
  return idx;
}

/// Sizes before, at and after `dim`.
struct Split {
  int64_t outer, n, inner;
};
inline Split splitAt(ArrayRef<int64_t> shape, int64_t dim) {
  return {numelOf(shape.take_front(dim)), shape[dim],
          numelOf(shape.drop_front(dim + 1))};
}

inline int64_t normDim(int64_t dim, int64_t rank) {
  return dim < 0 ? dim + rank : dim;
}

inline double nan() { return std::numeric_limits<double>::quiet_NaN(); }
inline double inf() { return std::numeric_limits<double>::infinity(); }
} // namespace graft::eval

namespace graft::eval {
/// Evaluates one op: reads operands from the evaluator, writes results.
class OpEvaluator {
public:
  OpEvaluator(Evaluator &ev, Operation *op) : ev(ev), op(op) {}

  llvm::Error error(const llvm::Twine &msg) {
    std::string where;
    llvm::raw_string_ostream os(where);
    if (auto fl = op->getLoc()->findInstanceOf<mlir::FileLineColLoc>())
      os << fl.getFilename().getValue() << ":" << fl.getLine() << ":"
         << fl.getColumn() << ": ";
    else
      os << op->getLoc() << ": ";
    return err(where + "'" + op->getName().getStringRef() + "': " + msg);
  }

  const Tensor &in(unsigned i) { return ev.values[op->getOperand(i)]; }
  const Tensor &in(Value v) { return ev.values[v]; }
  RankedTensorType resultType(unsigned i = 0) {
    return mlir::cast<RankedTensorType>(op->getResult(i).getType());
  }
  /// An empty result tensor of the op's result type.
  Tensor result(unsigned i = 0, double fill = 0.0) {
    return Tensor::filled(resultType(i).getShape(),
                          *elementTypeOf(resultType(i).getElementType()), fill);
  }
  /// Rounds to the result's element type and stores it.
  void set(Tensor t, unsigned i = 0) {
    RankedTensorType type = resultType(i);
    t.dtype = *elementTypeOf(type.getElementType());
    t.shape.assign(type.getShape().begin(), type.getShape().end());
    if (!isFloat(t.dtype) || !ev.computeInF64)
      for (double &x : t.data)
        x = roundTo(t.dtype, x);
    ev.values[op->getResult(i)] = std::move(t);
  }

  template <typename F> llvm::Error unary(F f) {
    Tensor r = in(0);
    for (double &x : r.data)
      x = f(x);
    set(std::move(r));
    return llvm::Error::success();
  }

  /// `f(a, b)` with `a` and `b` broadcast to the result shape.
  template <typename F> llvm::Error binary(Value a, Value b, F f) {
    Tensor r = result();
    auto ma = broadcastMap(r.shape, in(a).shape);
    auto mb = broadcastMap(r.shape, in(b).shape);
    for (int64_t i = 0; i < r.numel(); ++i)
      r.data[i] = f(in(a).data[ma[i]], in(b).data[mb[i]]);
    set(std::move(r));
    return llvm::Error::success();
  }
  template <typename F> llvm::Error binary(F f) {
    return binary(op->getOperand(0), op->getOperand(1), f);
  }

  llvm::Error eval();

  static llvm::Error ok() { return llvm::Error::success(); }
  /// The result is the operand `v`, unchanged.
  llvm::Error identity(Value v) {
    set(in(v));
    return ok();
  }

private:
  // One per op family, each in its file: the op's evaluation, or nullopt
  // when the op is not of the family.
  std::optional<llvm::Error> evalModel();
  std::optional<llvm::Error> evalElementwise();
  std::optional<llvm::Error> evalProducts();
  std::optional<llvm::Error> evalReductions();
  std::optional<llvm::Error> evalShapes();
  std::optional<llvm::Error> evalConvolution();
  std::optional<llvm::Error> evalPooling();
  std::optional<llvm::Error> evalNormalization();
  std::optional<llvm::Error> evalLosses();
  std::optional<llvm::Error> evalIndexing();

  llvm::Error matmul(const Tensor &a, const Tensor &b);
  llvm::Error reduce(ArrayRef<int64_t> dims, int kind);
  llvm::Error conv2d(Conv2dOp c);
  llvm::Error convBackwardInput(Conv2dBackwardInputOp c);
  llvm::Error convBackwardWeight(Conv2dBackwardWeightOp c);
  llvm::Error pool(Operation *, bool isMax, bool backward);
  llvm::Error layerNorm(LayerNormOp ln);
  llvm::Error batchNorm(BatchNormOp bn);
  llvm::Error attention(ScaledDotProductAttentionOp a);
  llvm::Error classLoss(const Tensor &x, const Tensor &target,
                        int64_t ignoreIndex, double smoothing,
                        Reduction reduction, bool logSoftmaxFirst);
  llvm::Error softmax(int64_t dim, bool log);
  llvm::Error slice(const Tensor &x, int64_t dim, int64_t start, int64_t end,
                    int64_t step, bool backward);

  Evaluator &ev;
  Operation *op;
};
} // namespace graft::eval

#endif
