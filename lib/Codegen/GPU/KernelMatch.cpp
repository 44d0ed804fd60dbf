//===- KernelMatch.cpp - The ops the GPU kernels take ---------------------===//
//
// See KernelMatch.h.
//
//===----------------------------------------------------------------------===//

#include "GPU/KernelMatch.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/RegionUtils.h"

using namespace mlir;
using namespace graft::gpu;

/// Index expressions the kernels compute: dims, constants, sums, products
/// and floordiv/mod by positive constants (convolutions' `oh * s + kh`,
/// `oh - kh + pad`; in bounds, so never negative).
static bool evaluable(AffineExpr e) {
  if (isa<AffineDimExpr, AffineConstantExpr>(e))
    return true;
  auto bin = dyn_cast<AffineBinaryOpExpr>(e);
  if (!bin || e.getKind() == AffineExprKind::CeilDiv)
    return false;
  if (e.getKind() == AffineExprKind::FloorDiv ||
      e.getKind() == AffineExprKind::Mod) {
    auto c = dyn_cast<AffineConstantExpr>(bin.getRHS());
    if (!c || c.getValue() <= 0)
      return false;
  }
  return evaluable(bin.getLHS()) && evaluable(bin.getRHS());
}

static bool simpleMaps(linalg::GenericOp g) {
  return llvm::all_of(g.getIndexingMapsArray(), [](AffineMap m) {
    return llvm::all_of(m.getResults(), evaluable);
  });
}

/// The iterations of loops `dims` together.
void graft::gpu::generalizeNamedProducts(func::FuncOp func) {
  SmallVector<linalg::LinalgOp> named;
  for (Operation &op : func.getBody().getOps())
    if (auto l = dyn_cast<linalg::LinalgOp>(op);
        l && !isa<linalg::GenericOp>(op) &&
        (linalg::isaConvolutionOpInterface(l) ||
         linalg::isaContractionOpInterface(l)))
      named.push_back(l);
  IRRewriter rewriter(func.getContext());
  for (linalg::LinalgOp op : named) {
    rewriter.setInsertionPoint(op);
    (void)linalg::generalizeNamedOp(rewriter, op);
  }
}

int64_t graft::gpu::extent(ArrayRef<int64_t> trips, ArrayRef<unsigned> dims) {
  int64_t s = 1;
  for (unsigned d : dims)
    s *= trips[d];
  return s;
}

/// Static trip counts of every loop of `g`, or nothing.
static std::optional<SmallVector<int64_t>> staticTrips(linalg::GenericOp g) {
  SmallVector<int64_t> trips = g.getStaticLoopRanges();
  if (llvm::any_of(trips, ShapedType::isDynamic))
    return std::nullopt;
  return trips;
}

std::optional<Product> graft::gpu::matchProduct(linalg::GenericOp g) {
  if (!g.hasPureBufferSemantics() || g.getNumDpsInputs() != 2 ||
      g.getNumDpsInits() != 1 || !simpleMaps(g))
    return std::nullopt;
  auto trips = staticTrips(g);
  if (!trips)
    return std::nullopt;
  Product p;
  p.trips = *trips;
  SmallVector<AffineMap> maps = g.getIndexingMapsArray();
  for (auto [d, it] : llvm::enumerate(g.getIteratorTypesArray())) {
    if (linalg::isReductionIterator(it)) {
      p.k.push_back(d);
      continue;
    }
    if (!p.k.empty()) // parallel dims first (graft-gpu-parallel-first)
      return std::nullopt;
    // Every output element belongs to one thread: C uses every parallel dim.
    if (!maps[2].isFunctionOfDim(d))
      return std::nullopt;
    bool a = maps[0].isFunctionOfDim(d), b = maps[1].isFunctionOfDim(d);
    (a && !b ? p.m : !a && b ? p.n : p.batch).push_back(d);
  }
  if (p.k.empty() || p.m.empty() || p.n.empty())
    return std::nullopt;
  for (unsigned d : p.k)
    if (maps[2].isFunctionOfDim(d))
      return std::nullopt;
  Block &body = g.getRegion().front();
  if (body.getOperations().size() != 3)
    return std::nullopt;
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto sum = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  Value a = body.getArgument(0), bArg = body.getArgument(1),
        out = body.getArgument(2);
  if (!sum)
    return std::nullopt;
  Value prod = sum.getLhs() == out ? sum.getRhs() : sum.getLhs();
  auto mulOp = prod.getDefiningOp<arith::MulFOp>();
  if ((sum.getLhs() != out && sum.getRhs() != out) || !mulOp ||
      !((mulOp.getLhs() == a && mulOp.getRhs() == bArg) ||
        (mulOp.getLhs() == bArg && mulOp.getRhs() == a)))
    return std::nullopt;
  p.f32 =
      cast<MemRefType>(g.getDpsInits()[0].getType()).getElementType().isF32();
  return p;
}

/// `out combine f(ins)` with out used only by the combine, parallel dims
/// first, the output indexed by every parallel dim; or nothing.
std::optional<Reduction> graft::gpu::matchReduction(linalg::GenericOp g) {
  if (!g.hasPureBufferSemantics() || g.getNumDpsInits() != 1 || !simpleMaps(g))
    return std::nullopt;
  Reduction r;
  for (auto [d, it] : llvm::enumerate(g.getIteratorTypesArray())) {
    bool par = linalg::isParallelIterator(it);
    if (par && !r.reduced.empty())
      return std::nullopt;
    (par ? r.parallel : r.reduced).push_back(d);
  }
  if (r.reduced.empty())
    return std::nullopt;
  auto trips = staticTrips(g);
  if (!trips)
    return std::nullopt;
  r.trips = *trips;
  AffineMap outMap = g.getIndexingMapsArray().back();
  for (unsigned d : r.parallel)
    if (!outMap.isFunctionOfDim(d))
      return std::nullopt;
  for (unsigned d : r.reduced)
    if (outMap.isFunctionOfDim(d))
      return std::nullopt;
  // The body is cloned into a kernel: what it uses from outside must be a
  // buffer (passed to the kernel) or a constant, not a host scalar.
  llvm::SetVector<Value> above;
  getUsedValuesDefinedAbove(g.getRegion(), above);
  for (Value v : above)
    if (!isa<MemRefType>(v.getType()) &&
        !(v.getDefiningOp() &&
          v.getDefiningOp()->hasTrait<OpTrait::ConstantLike>()))
      return std::nullopt;
  Block &body = g.getRegion().front();
  BlockArgument out = body.getArguments().back();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  Operation *c = yield.getOperand(0).getDefiningOp();
  if (!c || !out.hasOneUse() || out.getUses().begin()->getOwner() != c ||
      !isa<arith::AddFOp, arith::MaximumFOp, arith::MinimumFOp,
           arith::MaxNumFOp, arith::MinNumFOp>(c) ||
      c->getNumOperands() != 2 || !c->getResult(0).hasOneUse())
    return std::nullopt;
  r.combine = c;
  r.value = c->getOperand(0) == out ? c->getOperand(1) : c->getOperand(0);
  if (r.value == out)
    return std::nullopt;
  return r;
}

ReductionShape graft::gpu::reductionShape(linalg::GenericOp g,
                                          const Reduction &r) {
  // Does an input's last index walk the last reduced dim?
  unsigned last = r.reduced.back();
  SmallVector<AffineMap> maps = g.getIndexingMapsArray();
  bool contiguous = llvm::any_of(g.getDpsInputOperands(), [&](OpOperand *in) {
    AffineMap map = maps[in->getOperandNumber()];
    return map.getNumResults() > 0 &&
           map.getResults().back().isFunctionOfDim(last);
  });
  return {r.parallel.empty(), extent(r.trips, r.reduced), contiguous};
}
