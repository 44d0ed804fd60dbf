//===- GPUFoldTransposes.cpp - Products read through transposes -----------===//
//
// graft-gpu-fold-transposes: a product that reads a transposed copy reads
// its source through the composed map instead, and the transpose goes.
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "graft/Codegen/Passes.h"
#include "graft/Support/Statistics.h"

#include "GPU/BufferOf.h"
#include "GPU/KernelMatch.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

namespace graft {
#define GEN_PASS_DEF_GPUFOLDTRANSPOSES
#include "graft/Codegen/Passes.h.inc"
} // namespace graft

using namespace mlir;
using namespace graft::gpu;

GRAFT_STATISTIC(NumTransposesFolded, "graft-gpu-fold-transposes",
                "Transposes whose products read their source instead");

namespace {

/// Does `op` write memory that may overlap `m`? (Unknown writes: yes.)
bool writes(Operation *op, Value m) {
  std::optional<SmallVector<MemoryEffects::EffectInstance>> effects =
      getEffectsRecursively(op);
  if (!effects)
    return true;
  return llvm::any_of(*effects, [&](const MemoryEffects::EffectInstance &e) {
    if (!isa<MemoryEffects::Write>(e.getEffect()))
      return false;
    Value v = e.getValue();
    return !v || graft::mayOverlap(v, m);
  });
}

/// The CPU lowering materialises transposes so that its products read
/// contiguous rows (`linalg.transpose ins(%w) outs(%wt)`, then a product
/// reading %wt). The GPU kernel stages tiles through shared memory and can
/// read %w through the composed map instead: a transposed buffer that only
/// transposes write and only products read (each reading what the latest
/// transpose before it wrote, whose source nothing overwrites in between)
/// is dropped with its transposes. One buffer at a time: folding changes
/// what the products read and erases transposes, which other buffers'
/// users were (a transpose's source is one), so the users are found anew
/// after each fold. Returns whether a buffer was folded.
bool foldTransposesOfOneBuffer(Block &block) {
  // Each buffer's users, as the top-level ops that hold them, in order.
  llvm::MapVector<Value, SmallVector<Operation *>> users;
  for (Operation &top : block)
    top.walk([&](Operation *op) {
      for (Value v : op->getOperands())
        if (isa<MemRefType>(v.getType()) &&
            (users[v].empty() || users[v].back() != &top))
          users[v].push_back(&top);
    });
  for (auto &[buffer, ops] : users) {
    // Pairs (transpose, the products after it up to the next transpose).
    linalg::TransposeOp last;
    SmallVector<std::pair<linalg::TransposeOp, OpOperand *>> reads;
    bool ok = true;
    for (Operation *op : ops) {
      if (auto t = dyn_cast<linalg::TransposeOp>(op);
          t && t.getInit() == buffer && t.getInput() != buffer) {
        last = t;
        continue;
      }
      auto g = dyn_cast<linalg::GenericOp>(op);
      if (!g || !last || !matchProduct(g) || g.getDpsInits()[0] == buffer) {
        ok = false;
        break;
      }
      for (OpOperand *in : g.getDpsInputOperands())
        if (in->get() == buffer)
          reads.push_back({last, in});
    }
    if (!ok || !last || reads.empty())
      continue;
    // The source must hold the same values when the product reads it, and
    // nothing else may read or write the transposed buffer (views of it).
    for (auto [t, in] : reads)
      for (Operation *op = t->getNextNode(); op != in->getOwner();
           op = op->getNextNode())
        ok &= !writes(op, t.getInput());
    if (!ok)
      continue;
    for (auto [t, in] : reads) {
      auto g = cast<linalg::GenericOp>(in->getOwner());
      // Index j of the source is index d of the copy where perm[d] == j.
      ArrayRef<int64_t> perm = t.getPermutation();
      AffineMap map = g.getMatchingIndexingMap(in);
      SmallVector<AffineExpr> results(perm.size());
      for (auto [d, j] : llvm::enumerate(perm))
        results[j] = map.getResult(d);
      SmallVector<AffineMap> maps = g.getIndexingMapsArray();
      maps[in->getOperandNumber()] =
          AffineMap::get(map.getNumDims(), 0, results, g.getContext());
      g.setIndexingMapsAttr(OpBuilder(g).getAffineMapArrayAttr(maps));
      in->set(t.getInput());
    }
    llvm::SetVector<Operation *> dead;
    for (auto [t, in] : reads)
      dead.insert(t);
    for (Operation *t : dead)
      t->erase();
    NumTransposesFolded += dead.size();
    return true;
  }
  return false;
}

void foldTransposes(Block &block) {
  while (foldTransposesOfOneBuffer(block)) {
  }
}

struct GPUFoldTransposesPass
    : graft::impl::GPUFoldTransposesBase<GPUFoldTransposesPass> {
  void runOnOperation() override {
    if (getOperation().getBody().empty())
      return;
    generalizeNamedProducts(getOperation());
    foldTransposes(getOperation().getBody().front());
  }
};

} // namespace
