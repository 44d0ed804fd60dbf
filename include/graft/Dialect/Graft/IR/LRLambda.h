//===- LRLambda.h - LambdaLR's function of the step count -------*- C++ -*-===//
//
// A LambdaLR schedule's lr_lambda, as the front-end translates a Python
// `lambda step: ...` or `def f(step)` into an attribute of graft.train: a
// tree the host evaluates with Python's arithmetic at each scheduler step.
// A node is
//   - a FloatAttr: a constant;
//   - the StringAttr "n": the step count (LambdaLR's last_epoch);
//   - an ArrayAttr [StringAttr op, operands...], op one of
//       add sub mul div floordiv mod pow (two operands; div is true division,
//       floordiv and mod Python's, with the sign of the divisor),
//       lt le gt ge eq ne (1 or 0), and or (Python's: the deciding operand),
//       neg not abs trunc floor ceil sqrt exp log cos sin (one),
//       min max (two or more), select (cond, then, else: only the one taken
//       is evaluated).
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_DIALECT_GRAFT_IR_LRLAMBDA_H
#define GRAFT_DIALECT_GRAFT_IR_LRLAMBDA_H

#include "mlir/IR/Attributes.h"

#include <string>

namespace graft {

/// Empty when `node` is a well-formed tree, else what is wrong.
std::string checkLRLambda(mlir::Attribute node);

/// The tree's value at step count `n` (NaN for a math domain error, as
/// Python would raise one; inf for a division by zero).
double evaluateLRLambda(mlir::Attribute node, double n);

} // namespace graft

#endif
