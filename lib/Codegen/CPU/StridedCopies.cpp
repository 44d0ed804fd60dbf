//===- StridedCopies.cpp - Copies between strided views as linalg.copy ----===//
//
// graft-strided-copies: a memref.copy with a non-contiguous side becomes a
// linalg.copy (a loop nest after convert-linalg-to-loops) instead of a call
// to MLIR's runner-library memrefCopy. See the pass description in
// Passes.td.
//
//===----------------------------------------------------------------------===//

#include "graft/Codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/IR/Builders.h"

namespace graft {
#define GEN_PASS_DEF_STRIDEDCOPIES
#include "graft/Codegen/Passes.h.inc"
} // namespace graft

using namespace mlir;

namespace {

/// What the LLVM lowering copies with a memcpy.
bool contiguous(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && (type.getLayout().isIdentity() ||
                  memref::isStaticShapeAndContiguousRowMajor(type));
}

struct StridedCopiesPass : graft::impl::StridedCopiesBase<StridedCopiesPass> {
  void runOnOperation() override {
    getOperation().walk([](memref::CopyOp copy) {
      if (contiguous(copy.getSource()) && contiguous(copy.getTarget()))
        return;
      OpBuilder b(copy);
      linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy->erase();
    });
  }
};

} // namespace
