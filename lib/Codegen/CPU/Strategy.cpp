//===- Strategy.cpp - What the CPU code generator does with an op ---------===//

#include "graft/Codegen/CPUStrategy.h"
#include "graft/Codegen/Passes.h"
#include "graft/Dialect/Graft/IR/GraftEnums.h"
#include "graft/Support/Statistics.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/bit.h"

#include <algorithm>

namespace graft {
#define GEN_PASS_DEF_CPUSTRATEGY
#include "graft/Codegen/Passes.h.inc"
} // namespace graft

using namespace mlir;
using namespace graft;
using namespace graft::cpu;

GRAFT_STATISTIC(NumProductConfigs, "graft-cpu-strategy",
                "Products given a lowering config");
GRAFT_STATISTIC(
    NumColumnSplits, "graft-cpu-strategy",
    "Products split where a tile's columns would not fit registers");
GRAFT_STATISTIC(NumThreadSplitConfigs, "graft-cpu-strategy",
                "Ops with reductions given a split across threads");

/// The most rows a register tile takes: each k step reads one element of
/// every row of A, a cache line per row, and rows a multiple of 4 KiB
/// apart (a long k: a convolution's weight gradient over 8192 pixels)
/// share one L1 set of 8-12 ways. 24 rows ran 2x slower than 16 there.
static constexpr int64_t kMaxTileRows = 16;

/// The fewest register tiles of rows that read each panel of B before B is
/// worth packing (a copy of B per product).
static constexpr int64_t kPackRowTiles = 4;

bool graft::cpu::fitsRegisters(int64_t columns, int64_t lanes) {
  return columns <= lanes ||
         (columns % lanes == 0 &&
          llvm::has_single_bit(static_cast<uint64_t>(columns / lanes)));
}

ProductPlan graft::cpu::planProduct(const ProductShape &s,
                                    unsigned vectorBits) {
  bool avx512 = vectorBits >= 512;
  int64_t lanes = vectorBits / (8 * std::max<int64_t>(4, s.elementBytes));
  int64_t rows = 6, vectorsPerRow = avx512 ? 4 : 2;
  int64_t vectors = static_cast<int64_t>(llvm::bit_floor(static_cast<uint64_t>(
      std::clamp<int64_t>(s.n / lanes, 1, vectorsPerRow))));
  ProductPlan plan;
  plan.mTile = std::min<int64_t>(rows * vectorsPerRow / vectors, kMaxTileRows);
  plan.nTile = vectors * lanes;
  int64_t rowBlocks = s.m / plan.mTile, columnBlocks = s.n / plan.nTile;
  bool streamsB = s.k * s.n * 4 > kL2Bytes / 2 && 4 * s.m < s.n;
  plan.columnsOuter = (rowBlocks < 4 && columnBlocks > rowBlocks) || streamsB;
  // Packing pays where several row blocks read each panel; a product whose
  // column blocks are outside reads each panel once, from one row block
  // after another, and would copy all of B for nothing. Measured on AVX2
  // only: AVX-512 cores keep the padded rows until packing is measured on
  // one.
  plan.packB = !avx512 && s.elementBytes > 0 && !plan.columnsOuter &&
               s.m >= kPackRowTiles * plan.mTile && s.k >= 16 &&
               s.n > plan.nTile && s.n % plan.nTile == 0;
  plan.padB = !plan.packB && s.elementBytes > 0 && s.m > rows && s.k >= 16 &&
              (s.n * s.elementBytes) % 1024 == 0;
  int64_t rest = s.n % plan.nTile;
  if (s.n > plan.nTile && !fitsRegisters(rest, lanes))
    plan.splitColumns = s.n - rest;
  return plan;
}

/// The indexing map of a product's B: (m, n, k) -> (k, n).
static AffineMap kn(MLIRContext *ctx) {
  return AffineMap::get(
      3, 0, {getAffineDimExpr(2, ctx), getAffineDimExpr(1, ctx)}, ctx);
}

std::optional<unsigned> graft::cpu::productB(linalg::GenericOp op) {
  for (OpOperand *input : op.getDpsInputOperands())
    if (op.getMatchingIndexingMap(input) == kn(op.getContext()))
      return input->getOperandNumber();
  return std::nullopt;
}

std::optional<ProductShape> graft::cpu::productShape(linalg::GenericOp op) {
  if (op.getNumLoops() != 3 ||
      llvm::any_of(op.getStaticLoopRanges(), ShapedType::isDynamic))
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  ProductShape s{ranges[0], ranges[1], ranges[2], 0};
  if (std::optional<unsigned> b = productB(op)) {
    auto type = dyn_cast<RankedTensorType>(op->getOperand(*b).getType());
    if (type && type.getElementType().isIntOrFloat())
      s.elementBytes = type.getElementTypeBitWidth() / 8;
  }
  return s;
}

LoweringConfigAttr graft::cpu::productConfig(linalg::GenericOp op,
                                             const ProductPlan &plan) {
  SmallVector<int64_t> interchange;
  if (plan.columnsOuter)
    interchange = {1, 0, 2};
  SmallVector<int64_t> pad, pack;
  if (std::optional<unsigned> b = productB(op)) {
    if (plan.padB)
      pad.push_back(*b);
    if (plan.packB)
      pack.push_back(*b);
  }
  return LoweringConfigAttr::get(op.getContext(), {plan.mTile, plan.nTile, 0},
                                 interchange, pad, pack,
                                 /*threads=*/plan.columnsOuter ? 1 : 0);
}

bool graft::cpu::hasStaticLoops(linalg::LinalgOp op) {
  return op.getNumLoops() > 0 &&
         llvm::none_of(op.getStaticLoopRanges(),
                       [](int64_t r) { return ShapedType::isDynamic(r); });
}

/// Vectors of i1 are bit masks in memory, memrefs of i1 one byte per
/// element: ops reading or writing i1 buffers stay scalar. A 0-d i1 input
/// (the optimizers' "first step" flag) is read as one scalar and broadcast.
static bool hasBoolOperand(linalg::LinalgOp op) {
  return llvm::any_of(op->getOpOperands(), [&](OpOperand &o) {
    auto type = dyn_cast<ShapedType>(o.get().getType());
    if (!getElementTypeOrSelf(o.get().getType()).isInteger(1))
      return false;
    return !(type && type.getRank() == 0 && op.isDpsInput(&o));
  });
}

/// The widest element of `op`'s operands, in bits.
static unsigned widestElement(linalg::LinalgOp op) {
  unsigned bits = 8;
  for (OpOperand &o : op->getOpOperands())
    bits = std::max(
        bits, getElementTypeOrSelf(o.get().getType()).getIntOrFloatBitWidth());
  return bits;
}

/// True for a generic whose innermost loop is parallel and contiguous in
/// every operand that uses it, with reductions over outer dims (a sum over
/// the batch, as in a bias gradient): it vectorises along the innermost
/// dim, one reduction step at a time.
static bool reducesOuterDims(linalg::LinalgOp op) {
  unsigned last = op.getNumLoops() - 1;
  if (!isa<linalg::GenericOp>(op) || op.getNumReductionLoops() == 0 ||
      !linalg::isParallelIterator(op.getIteratorTypesArray()[last]))
    return false;
  return llvm::all_of(op->getOpOperands(), [&](OpOperand &o) {
    AffineMap map = op.getMatchingIndexingMap(&o);
    if (!map.isProjectedPermutation())
      return false;
    if (!map.isFunctionOfDim(last))
      return op.isDpsInput(&o);
    return map.getResults().back() == getAffineDimExpr(last, op.getContext());
  });
}

/// The dim along which a reduction whose innermost loop reduces (a sum
/// over the batch and the image, as in a convolution's bias gradient)
/// vectorises across outputs: its one parallel dim of more than one
/// iteration, the last of its output. Each lane then reduces one output
/// in the op's loop order, so the results are bit for bit those of the
/// scalar loops, with `lanes` independent chains instead of one.
static std::optional<unsigned> interleavedOutputDim(linalg::LinalgOp op) {
  unsigned last = op.getNumLoops() - 1;
  if (!isa<linalg::GenericOp>(op) || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() == 0 ||
      linalg::isParallelIterator(op.getIteratorTypesArray()[last]))
    return std::nullopt;
  AffineMap out = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (!out.isProjectedPermutation() || out.getNumResults() == 0)
    return std::nullopt;
  auto dim = dyn_cast<AffineDimExpr>(out.getResults().back());
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  std::optional<unsigned> found;
  for (auto [d, it] : llvm::enumerate(op.getIteratorTypesArray()))
    if (linalg::isParallelIterator(it) && ranges[d] > 1) {
      if (found)
        return std::nullopt;
      found = d;
    }
  if (!dim || !found || dim.getPosition() != *found)
    return std::nullopt;
  return found;
}

/// The iterations of `op`'s loops together (static ranges).
static int64_t iterationCount(linalg::LinalgOp op) {
  int64_t iterations = 1;
  for (int64_t r : op.getStaticLoopRanges())
    iterations *= r;
  return iterations;
}

std::optional<LoopPlan> graft::cpu::planThreadSplit(linalg::LinalgOp op,
                                                    unsigned vectorBits) {
  if (!hasStaticLoops(op) || op->hasAttr(kContraction) ||
      op.getNumReductionLoops() == 0 || reducesOuterDims(op))
    return std::nullopt;
  if (iterationCount(op) < kParallelIterations)
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iters = op.getIteratorTypesArray();
  for (OpOperand &init : op.getDpsInitsMutable()) {
    AffineMap out = op.getMatchingIndexingMap(&init);
    for (unsigned d = 0; d < iters.size(); ++d)
      if (linalg::isParallelIterator(iters[d]) && !out.isFunctionOfDim(d))
        return std::nullopt;
  }
  int64_t lanes = std::max<int64_t>(1, vectorBits / widestElement(op));
  for (unsigned d = 0; d < ranges.size(); ++d)
    if (linalg::isParallelIterator(iters[d]) && ranges[d] >= 2) {
      LoopPlan plan;
      plan.tileSizes.assign(ranges.size(), 0);
      plan.tileSizes[d] = interleavedOutputDim(op) == d ? lanes : 1;
      plan.threads = d;
      return plan;
    }
  return std::nullopt;
}

std::optional<LoopPlan> graft::cpu::planVectorTiles(linalg::LinalgOp op,
                                                    unsigned vectorBits) {
  if (!hasStaticLoops(op) || op->hasAttr(kContraction) || hasBoolOperand(op))
    return std::nullopt;
  bool elementwise =
      isa<linalg::GenericOp, linalg::FillOp, linalg::CopyOp>(op) &&
      op.getNumLoops() == op.getNumParallelLoops();
  bool transpose = isa<linalg::TransposeOp>(op) && op.getNumLoops() == 2;
  std::optional<unsigned> interleaved = interleavedOutputDim(op);
  if (!elementwise && !transpose && !reducesOuterDims(op) && !interleaved)
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t lanes = std::max<int64_t>(1, vectorBits / widestElement(op));
  LoopPlan plan;
  plan.tileSizes.assign(ranges.size(), 1);
  plan.tileSizes.back() = std::min(lanes, ranges.back());
  if (transpose)
    plan.tileSizes.front() = std::min(lanes, ranges.front());
  if (interleaved) {
    plan.tileSizes.back() = 1;
    plan.tileSizes[*interleaved] = std::min(lanes, ranges[*interleaved]);
  }
  // Reductions: the parallel dims outside, so threads split outputs, and
  // the reduction dims inside in their order, so each output sums its
  // terms in the same order as the loops of the op.
  SmallVector<int64_t> order;
  for (auto [d, it] : llvm::enumerate(op.getIteratorTypesArray()))
    if (linalg::isParallelIterator(it))
      order.push_back(d);
  for (auto [d, it] : llvm::enumerate(op.getIteratorTypesArray()))
    if (!linalg::isParallelIterator(it))
      order.push_back(d);
  if (op.getNumReductionLoops() != 0)
    plan.interchange = order;
  // Threads split the outermost parallel loop of more than one tile.
  if (iterationCount(op) >= kParallelIterations)
    for (int64_t d : order)
      if (linalg::isParallelIterator(op.getIteratorTypesArray()[d]) &&
          ranges[d] > plan.tileSizes[d]) {
        plan.threads = d;
        break;
      }
  return plan;
}

LoweringConfigAttr graft::cpu::loopConfig(MLIRContext *ctx,
                                          const LoopPlan &plan) {
  return LoweringConfigAttr::get(ctx, plan.tileSizes, plan.interchange, {}, {},
                                 plan.threads);
}

LoweringConfigAttr graft::cpu::loweringConfig(Operation *op) {
  return op->getAttrOfType<LoweringConfigAttr>(kLoweringConfigAttrName);
}

LogicalResult graft::cpu::checkVectorBits(ModuleOp module,
                                          unsigned vectorBits) {
  if (vectorBits >= 128 && vectorBits % 128 == 0)
    return success();
  return module.emitError("vector-bits must be a multiple of 128, not ")
         << vectorBits;
}

/// A generic that copies its one input to its output through a projected
/// permutation (size-1 dims read at 0): a broadcast, such as a bias over
/// the rows or the columns of a product.
bool graft::cpu::isBroadcast(Operation *op) {
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || generic.getNumDpsInputs() != 1 ||
      generic.getNumDpsInits() != 1 ||
      generic.getNumLoops() != generic.getNumParallelLoops() ||
      !generic.getMatchingIndexingMap(generic.getDpsInputOperand(0))
           .isProjectedPermutation(/*allowZeroInResults=*/true) ||
      !generic.getMatchingIndexingMap(generic.getDpsInitOperand(0))
           .isIdentity())
    return false;
  auto yield = cast<linalg::YieldOp>(generic.getBody()->getTerminator());
  return &generic.getBody()->front() == yield.getOperation() &&
         yield.getValues()[0] == generic.getBody()->getArgument(0);
}

/// Splits product `op` (on tensors) into the products over its columns
/// before `at` and from `at` on; the second writes its columns into the
/// first's result. An init that tiling would fuse into the product's tiles
/// (a fill or a broadcast) is split with it: each part starts from its
/// share, so the init is still never written to memory whole.
static std::pair<linalg::GenericOp, linalg::GenericOp>
splitColumns(RewriterBase &rewriter, linalg::GenericOp op, int64_t at) {
  Value init = op.getDpsInitOperand(0)->get();
  rewriter.setInsertionPoint(op);
  auto [head, tail] =
      linalg::splitOp(rewriter, cast<TilingInterface>(op.getOperation()),
                      /*dimension=*/1, rewriter.getIndexAttr(at));
  if (!head || !tail)
    return {};
  auto first = cast<linalg::GenericOp>(head.getOperation());
  auto second = cast<linalg::GenericOp>(tail.getOperation());
  Operation *producer = init.getDefiningOp();
  if (!producer || !(isa<linalg::FillOp>(producer) || isBroadcast(producer)))
    return {first, second};
  // splitOp reads the first part's init from the producer's result and the
  // second's from the first part's result (its columns from `at` on are
  // the producer's). Each now gets the producer of its own columns,
  // writing where the part writes.
  Value dest =
      cast<DestinationStyleOpInterface>(producer).getDpsInitOperand(0)->get();
  auto headInit =
      first.getDpsInitOperand(0)->get().getDefiningOp<tensor::ExtractSliceOp>();
  auto tailInit = second.getDpsInitOperand(0)
                      ->get()
                      .getDefiningOp<tensor::ExtractSliceOp>();
  if (!headInit || !tailInit)
    return {first, second};
  auto headResult = tailInit.getSource().getDefiningOp<tensor::InsertSliceOp>();
  if (!headResult)
    return {first, second};
  // The producer over the columns `slice` takes (of its result).
  auto tiledProducer =
      [&](tensor::ExtractSliceOp slice) -> FailureOr<TilingResult> {
    rewriter.setInsertionPointAfter(slice);
    FailureOr<TilingResult> tiled =
        tensor::replaceExtractSliceWithTiledProducer(rewriter, slice,
                                                     cast<OpResult>(init));
    if (failed(tiled) || tiled->tiledOps.size() != 1)
      return failure();
    return tiled;
  };
  FailureOr<TilingResult> headStart = tiledProducer(headInit);
  if (failed(headStart))
    return {first, second};
  rewriter.replaceOp(headInit, headStart->tiledValues.front());
  // The second part's: over its columns of the producer's result, written
  // into the first part's result where the part writes.
  rewriter.setInsertionPointAfter(tailInit);
  auto columns = tensor::ExtractSliceOp::create(
      rewriter, tailInit.getLoc(), init, tailInit.getMixedOffsets(),
      tailInit.getMixedSizes(), tailInit.getMixedStrides());
  FailureOr<TilingResult> tailStart = tiledProducer(columns);
  rewriter.eraseOp(columns);
  if (failed(tailStart))
    return {first, second};
  auto tailProducer =
      cast<DestinationStyleOpInterface>(tailStart->tiledOps.front());
  OpOperand *tailProducerInit = tailProducer.getDpsInitOperand(0);
  Operation *sliceOfDest = tailProducerInit->get().getDefiningOp();
  rewriter.modifyOpInPlace(tailProducer,
                           [&] { tailProducerInit->set(tailInit); });
  if (sliceOfDest && sliceOfDest->use_empty())
    rewriter.eraseOp(sliceOfDest);
  rewriter.modifyOpInPlace(second, [&] {
    second.getDpsInitOperand(0)->set(tailStart->tiledValues.front());
  });
  rewriter.modifyOpInPlace(headResult,
                           [&] { headResult.getDestMutable().assign(dest); });
  if (producer->use_empty())
    rewriter.eraseOp(producer);
  return {first, second};
}

void graft::cpu::assignProductConfigs(ModuleOp module, unsigned vectorBits) {
  SmallVector<linalg::GenericOp> products;
  module.walk([&](linalg::GenericOp op) {
    if (op->hasAttr(kContraction) && op.hasPureTensorSemantics() &&
        !loweringConfig(op))
      products.push_back(op);
  });
  IRRewriter rewriter(module.getContext());
  for (linalg::GenericOp op : products) {
    // Columns a tile cannot hold in registers become a product of their
    // own, planned for their width (and split again if need be).
    while (op) {
      std::optional<ProductShape> shape = productShape(op);
      if (!shape)
        break;
      ProductPlan plan = planProduct(*shape, vectorBits);
      linalg::GenericOp rest;
      if (plan.splitColumns) {
        auto [first, second] = splitColumns(rewriter, op, *plan.splitColumns);
        if (!first)
          break;
        op = first;
        rest = second;
        ++NumColumnSplits;
      }
      op->setAttr(kLoweringConfigAttrName, productConfig(op, plan));
      ++NumProductConfigs;
      op = rest;
    }
  }
}

void graft::cpu::assignThreadSplitConfigs(ModuleOp module,
                                          unsigned vectorBits) {
  module.walk([&](linalg::LinalgOp op) {
    if (!op.hasPureTensorSemantics() || loweringConfig(op) ||
        !isa<TilingInterface>(op.getOperation()))
      return;
    if (std::optional<LoopPlan> plan = planThreadSplit(op, vectorBits)) {
      op->setAttr(kLoweringConfigAttrName, loopConfig(op->getContext(), *plan));
      ++NumThreadSplitConfigs;
    }
  });
}

namespace {
struct CPUStrategyPass : graft::impl::CPUStrategyBase<CPUStrategyPass> {
  using CPUStrategyBase::CPUStrategyBase;

  void runOnOperation() override {
    if (failed(checkVectorBits(getOperation(), vectorBits)))
      return signalPassFailure();
    assignProductConfigs(getOperation(), vectorBits);
    assignThreadSplitConfigs(getOperation(), vectorBits);
  }
};
} // namespace
