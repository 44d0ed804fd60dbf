//===- Tensor.h - Tensors of the reference evaluator ------------*- C++ -*-===//
//
// A dense, row-major tensor for the reference evaluator: a shape, an element
// type and the elements as doubles. Float elements of every width are held in
// double (rounded to the element type after each op unless the evaluator
// computes in f64); integers are held exactly (|v| < 2^53 covers every index
// and label), i1 as 0 or 1.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_EVALUATOR_TENSOR_H
#define GRAFT_EVALUATOR_TENSOR_H

#include "graft/Support/ElementType.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace graft::eval {

/// An element type (graft::ElementType, with elementTypeOf and isFloat).
using DType = ElementType;

/// Its name in the language ("f32").
llvm::StringRef name(DType t);
/// `x` rounded to the nearest value of `t` (round to nearest even for f32 and
/// bf16, truncation toward zero for integers, x != 0 for i1).
double roundTo(DType t, double x);

struct Tensor {
  std::vector<int64_t> shape;
  DType dtype = DType::F64;
  std::vector<double> data;

  Tensor() = default;
  Tensor(std::vector<int64_t> shape, DType dtype, std::vector<double> data);
  /// A tensor of `shape` filled with `fill`.
  static Tensor filled(llvm::ArrayRef<int64_t> shape, DType dtype,
                       double fill = 0.0);
  int64_t numel() const { return static_cast<int64_t>(data.size()); }
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  /// "f32[2, 3]".
  std::string typeStr() const;
  /// The type and the elements, for messages and test failures.
  std::string str() const;
};

/// Row-major strides of `shape`.
std::vector<int64_t> stridesOf(llvm::ArrayRef<int64_t> shape);
int64_t numelOf(llvm::ArrayRef<int64_t> shape);

} // namespace graft::eval

#endif
