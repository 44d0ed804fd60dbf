//===- ParallelMark.h - Loops whose iterations threads may split -*- C++
//-*-===//
//
// Internal to lib/Conversion: graft-cpu-schedule marks the loops whose
// iterations threads may split, graft-parallelize-loops turns them into
// scf.parallel, and graft-plan-memory keeps a buffer allocated inside one
// out of the shared workspace. The mark is in the location (a FusedLoc with
// metadata "graft.parallel"): bufferization recreates loops without their
// attributes, but keeps their locations.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_LIB_CONVERSION_PARALLELMARK_H
#define GRAFT_LIB_CONVERSION_PARALLELMARK_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/Operation.h"

namespace graft {

inline constexpr char kParallelMark[] = "graft.parallel";

/// Marks `loop` as one whose iterations threads may split.
inline void markParallel(mlir::Operation *loop) {
  mlir::MLIRContext *ctx = loop->getContext();
  loop->setLoc(mlir::FusedLoc::get(ctx, {loop->getLoc()},
                                   mlir::StringAttr::get(ctx, kParallelMark)));
}

/// True when `op` carries the mark.
inline bool isMarkedParallel(mlir::Operation *op) {
  auto fused = mlir::dyn_cast<mlir::FusedLoc>(op->getLoc());
  auto mark =
      fused ? mlir::dyn_cast_or_null<mlir::StringAttr>(fused.getMetadata())
            : mlir::StringAttr();
  return mark && mark.getValue() == kParallelMark;
}

} // namespace graft

#endif // GRAFT_LIB_CONVERSION_PARALLELMARK_H
