//===- GraftToLinalg.h - Lowering graft ops to linalg -----------*- C++ -*-===//
//
// The lowering of graft ops to target-neutral ops on tensors (linalg,
// tensor, arith, math, scf), as conversion patterns: one per op, kept by op
// family in lib/Conversion/GraftToLinalg/. The pass convert-graft-to-linalg
// applies them; a pipeline or a test may apply them with its own target.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_CONVERSION_GRAFTTOLINALG_H
#define GRAFT_CONVERSION_GRAFTTOLINALG_H

#include "graft/Conversion/Passes.h"

namespace mlir {
class ConversionTarget;
class FrozenRewritePatternSet;
class RewritePatternSet;
} // namespace mlir

namespace graft {

/// Adds a pattern for every graft op that can appear in a function of the
/// training program.
void populateGraftToLinalgPatterns(mlir::RewritePatternSet &patterns,
                                   const ConvertGraftToLinalgOptions &options);

/// The lowering's target: graft ops illegal, the dialects it builds legal.
void configureGraftToLinalgTarget(mlir::ConversionTarget &target);

/// Emits an error at the first op under `root` that `patterns` cannot
/// lower, or whose pattern's assumptions do not hold (dropout without the
/// step's seed, a hook call without the runtime's dispatcher), before any
/// rewriting.
mlir::LogicalResult
checkGraftToLinalg(mlir::Operation *root,
                   const mlir::FrozenRewritePatternSet &patterns);

} // namespace graft

#endif
