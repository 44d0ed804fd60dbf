//===- Forall.cpp - Tile loops as scf.forall ------------------------------===//

#include "Common/Forall.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

FailureOr<scf::ForallOp> graft::forToForall(RewriterBase &rewriter,
                                            scf::ForOp loop) {
  // Each result: an insert_slice into its own iteration argument, used only
  // by the yield.
  auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
  SmallVector<tensor::InsertSliceOp> inserts;
  for (auto [value, arg] :
       llvm::zip_equal(yield.getOperands(), loop.getRegionIterArgs())) {
    auto insert = value.getDefiningOp<tensor::InsertSliceOp>();
    if (!insert || insert.getDest() != arg || !insert->hasOneUse() ||
        insert->getBlock() != loop.getBody())
      return failure();
    inserts.push_back(insert);
  }
  rewriter.setInsertionPoint(loop);
  auto forall = scf::ForallOp::create(
      rewriter, loop.getLoc(), ArrayRef<OpFoldResult>{loop.getLowerBound()},
      ArrayRef<OpFoldResult>{loop.getUpperBound()},
      ArrayRef<OpFoldResult>{loop.getStep()}, loop.getInitArgs(),
      /*mapping=*/std::nullopt);
  scf::InParallelOp terminator = forall.getTerminator();
  // The loop's body, its yield dropped, before the forall's terminator.
  rewriter.eraseOp(yield);
  SmallVector<Value> args{forall.getInductionVar(0)};
  llvm::append_range(args, forall.getRegionIterArgs());
  rewriter.inlineBlockBefore(loop.getBody(), terminator, args);
  rewriter.setInsertionPointToStart(terminator.getBody());
  for (tensor::InsertSliceOp insert : inserts) {
    tensor::ParallelInsertSliceOp::create(
        rewriter, insert.getLoc(), insert.getSource(), insert.getDest(),
        insert.getMixedOffsets(), insert.getMixedSizes(),
        insert.getMixedStrides());
    rewriter.eraseOp(insert);
  }
  rewriter.replaceOp(loop, forall->getResults());
  return forall;
}
