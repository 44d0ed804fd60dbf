//===- SplitEmptyTensors.cpp - One tensor.empty per destination -----------===//
//
// graft-split-empty-tensors (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "graft/Codegen/Passes.h"
#include "graft/Support/Statistics.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

namespace graft {
#define GEN_PASS_DEF_SPLITEMPTYTENSORS
#include "graft/Codegen/Passes.h.inc"
} // namespace graft

using namespace mlir;

GRAFT_STATISTIC(NumCopies, "graft-split-empty-tensors",
                "tensor.empty copies made, one per independent use");

namespace {
/// Where a slice op reads or writes: its offsets, sizes and strides.
template <typename SliceOp>
auto sliceKey(SliceOp op) {
  return std::make_tuple(op.getStaticOffsets(), op.getStaticSizes(),
                         op.getStaticStrides(), op.getOffsets(),
                         op.getSizes(), op.getStrides());
}

struct SplitEmptyTensorsPass
    : graft::impl::SplitEmptyTensorsBase<SplitEmptyTensorsPass> {
  void runOnOperation() override {
    SmallVector<tensor::EmptyOp> empties;
    getOperation()->walk([&](tensor::EmptyOp op) { empties.push_back(op); });
    OpBuilder builder(&getContext());
    for (tensor::EmptyOp op : empties) {
      // The uses in program order (by their ancestor in the empty's block).
      Block *block = op->getBlock();
      // Uses with one ancestor keep their use-list order (the index).
      SmallVector<std::pair<OpOperand *, unsigned>> ordered;
      for (OpOperand &use : op->getUses())
        ordered.push_back({&use, (unsigned)ordered.size()});
      auto at = [&](OpOperand *u) {
        return block->findAncestorOpInBlock(*u->getOwner());
      };
      llvm::sort(ordered, [&](auto &a, auto &b) {
        Operation *x = at(a.first), *y = at(b.first);
        return x != y ? x->isBeforeInBlock(y) : a.second < b.second;
      });
      SmallVector<OpOperand *> uses;
      for (auto &[use, index] : ordered)
        uses.push_back(use);
      // Groups of uses that keep sharing one empty: a tile extracted from
      // it and the insert of the tile's result at the same place (a
      // peeled product tile), so that bufferization writes it in place.
      // Every other use is a group of its own.
      SmallVector<SmallVector<OpOperand *, 2>> groups;
      SmallVector<std::pair<tensor::ExtractSliceOp, unsigned>> open;
      for (OpOperand *use : uses) {
        auto insert = dyn_cast<tensor::InsertSliceOp>(use->getOwner());
        if (insert && use->get() == insert.getDest()) {
          auto match = llvm::find_if(open, [&](auto &e) {
            return sliceKey(e.first) == sliceKey(insert);
          });
          if (match != open.end()) {
            groups[match->second].push_back(use);
            open.erase(match);
            continue;
          }
        }
        groups.push_back({use});
        if (auto extract = dyn_cast<tensor::ExtractSliceOp>(use->getOwner()))
          open.push_back({extract, unsigned(groups.size() - 1)});
      }
      // The first group keeps `op`; each other gets a copy at the same
      // place (so no allocation moves into a loop).
      builder.setInsertionPoint(op);
      for (auto &group : llvm::drop_begin(groups)) {
        Value copy = builder.clone(*op)->getResult(0);
        ++NumCopies;
        for (OpOperand *use : group)
          use->set(copy);
      }
    }
  }
};
} // namespace
