//===- Forall.h - Loops whose iterations threads may split ------*- C++ -*-===//
//
// Internal to lib/Codegen. The CPU schedule states which loops threads may
// split by making them scf.forall (the tile loops of a parallel dim);
// one-shot bufferization keeps them as scf.forall on buffers, and
// graft-parallelize-loops turns each into an scf.parallel where it is worth
// threads, or back into an scf.for.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_LIB_CODEGEN_COMMON_FORALL_H
#define GRAFT_LIB_CODEGEN_COMMON_FORALL_H

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace graft {

/// Rewrites `loop`, a tile loop whose iterations are independent, as an
/// scf.forall with the same bounds. On buffers it must have no results; on
/// tensors each result must be the yield of a tensor.insert_slice into its
/// iteration argument (one tile per iteration, as tiling makes them), which
/// becomes a tensor.parallel_insert_slice into the forall's shared output.
/// The caller vouches that the iterations are independent (the loop tiles a
/// parallel dim of every result); on any other form this fails and changes
/// nothing.
mlir::FailureOr<mlir::scf::ForallOp> forToForall(mlir::RewriterBase &rewriter,
                                                 mlir::scf::ForOp loop);

} // namespace graft

#endif // GRAFT_LIB_CODEGEN_COMMON_FORALL_H
