//===- CPUSchedule.cpp - Tiling and vectorisation for the CPU -------------===//
//
// Two passes. graft-cpu-schedule, on tensors: matrix products run a
// transform-dialect schedule, other large ops with reductions are split
// across threads. graft-cpu-vectorize, on buffers after memory planning:
// elementwise ops and transposes are tiled and vectorised in C++ (their tile
// sizes depend on their rank and element type). See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "Common/Forall.h"
#include "graft/Codegen/CPUStrategy.h"
#include "graft/Codegen/Passes.h"
#include "graft/Dialect/Graft/IR/GraftDialect.h"
#include "graft/Support/Statistics.h"

#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/Dialect/Transform/Transforms/TransformInterpreterUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/SourceMgr.h"

#include <algorithm>

namespace graft {
#define GEN_PASS_DEF_CPUSCHEDULE
#define GEN_PASS_DEF_CPUVECTORIZE
#include "graft/Codegen/Passes.h.inc"
} // namespace graft

using namespace mlir;
using graft::cpu::kContraction;

GRAFT_STATISTIC(NumProducts, "graft-cpu-schedule",
                "Products tiled into register tiles");
GRAFT_STATISTIC(NumProductForalls, "graft-cpu-schedule",
                "Products whose blocks threads split (scf.forall)");
GRAFT_STATISTIC(NumPaddedOperands, "graft-cpu-schedule",
                "Product operands copied into padded rows");
GRAFT_STATISTIC(NumPackedOperands, "graft-cpu-schedule",
                "Product operands packed into panels");
GRAFT_STATISTIC(NumSplitOps, "graft-cpu-schedule",
                "Other ops tiled on tensors as their configs say");
GRAFT_STATISTIC(NumVectorOps, "graft-cpu-vectorize", "Ops tiled into vectors");
GRAFT_STATISTIC(NumVectorForalls, "graft-cpu-vectorize",
                "Ops tiled into vectors whose outer loop threads split");
GRAFT_STATISTIC(NumVectorized, "graft-cpu-vectorize", "Tiles vectorised");
GRAFT_STATISTIC(NumScalarTiles, "graft-cpu-vectorize",
                "Tiles left to scalar loops (not vectorisable)");

// The vectorisation of the register tiles of matrix products (tiled by
// tileProducts): each tile, and the fill or bias broadcast fused into it,
// vectorised to a vector.contract over one k step whose accumulator lives
// in registers across the k loop, lowered to outer products. The init's
// write forwards to the accumulator's first read (canonicalisation), so the
// accumulator starts as a constant or the bias and the result is written
// once.
static const char kProductSchedule[] = R"mlir(
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %funcs = transform.structured.match ops{["func.func"]} in %root
        : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %funcs {
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    %tiles = transform.structured.match ops{["linalg.generic", "linalg.fill"]}
        attributes {graft.contraction} in %root
        : (!transform.any_op) -> !transform.any_op
    transform.structured.vectorize %tiles : !transform.any_op
    transform.apply_patterns to %funcs {
      transform.apply_patterns.vector.reduction_to_contract
      transform.apply_patterns.vector.transfer_permutation_patterns
    } : !transform.any_op
    // The accumulator tile (extract_slice, then transfer_read) leaves the k
    // loop one level per application.
    %all = transform.structured.match ops{["scf.for"]} in %root
        : (!transform.any_op) -> !transform.any_op
    transform.foreach %all : !transform.any_op {
    ^bb0(%loop: !transform.any_op):
      transform.loop.hoist_loop_invariant_subsets %loop : !transform.any_op
    }
    transform.apply_patterns to %funcs {
      transform.apply_patterns.vector.lower_contraction lowering_strategy = "outerproduct"
      transform.apply_patterns.vector.lower_outerproduct
      transform.apply_patterns.vector.lower_transpose
      transform.apply_patterns.vector.lower_broadcast
      transform.apply_patterns.vector.lower_shape_cast
    } : !transform.any_op
    transform.yield
  }
}
)mlir";

namespace {
/// Peels the loops of a tiled nest where their step does not divide their
/// range, the inner loop first (peeling an outer loop clones the inner
/// ones), so that every tile has a static shape.
void peelInnerFirst(RewriterBase &rewriter,
                    ArrayRef<LoopLikeOpInterface> loops) {
  for (LoopLikeOpInterface loop : llvm::reverse(loops))
    if (auto forOp = dyn_cast<scf::ForOp>(loop.getOperation())) {
      scf::ForOp partial;
      (void)scf::peelForLoopAndSimplifyBounds(rewriter, forOp, partial);
    }
}

/// Tiles `op` as `config` says (tile sizes, loop order) and peels the
/// tiled loops whose step does not divide their range (the tiled ops are
/// all statically shaped after canonicalisation). The loop of the config's
/// `threads` dim becomes an scf.forall: the strategy vouches that it tiles
/// a parallel dim of every result and, on tensors, that it is the only
/// tiled loop. The tiles keep no config.
LogicalResult tileAndPeel(RewriterBase &rewriter, TilingInterface op,
                          graft::LoweringConfigAttr config) {
  scf::SCFTilingOptions options;
  options.setTileSizes(
      getAsIndexOpFoldResult(rewriter.getContext(), config.getTileSizes()));
  options.setInterchange(config.getInterchange());
  rewriter.setInsertionPoint(op);
  FailureOr<scf::SCFTilingResult> tiled =
      scf::tileUsingSCF(rewriter, op, options);
  if (failed(tiled))
    return failure();
  rewriter.replaceOp(op, tiled->replacements);
  for (Operation *tile : tiled->tiledOps)
    tile->removeAttr(graft::kLoweringConfigAttrName);
  peelInnerFirst(rewriter, tiled->loops);
  std::optional<int64_t> threads = config.getThreads();
  if (!threads)
    return success();
  // The tile loops nest in the config's order, untiled dims skipped.
  SmallVector<int64_t> order(config.getInterchange());
  if (order.empty())
    order =
        llvm::to_vector(llvm::seq<int64_t>(0, config.getTileSizes().size()));
  unsigned loop = 0;
  for (int64_t d : order) {
    if (d == *threads)
      break;
    loop += config.getTileSizes()[d] != 0;
  }
  return graft::forToForall(
      rewriter, cast<scf::ForOp>(tiled->loops[loop].getOperation()));
}

/// Copies the operands a product's lowering config pads
/// (`pad_operands`: B, read as [k, n]) into rows a cache line longer (see
/// planProduct): a copy into a buffer one line wider per row.
LogicalResult padProductRows(ModuleOp module) {
  SmallVector<std::pair<linalg::GenericOp, unsigned>> work;
  module.walk([&](linalg::GenericOp op) {
    if (!op->hasAttr(kContraction) || !op.hasPureTensorSemantics())
      return;
    if (graft::LoweringConfigAttr config = graft::cpu::loweringConfig(op))
      for (int64_t operand : config.getPadOperands())
        work.push_back({op, (unsigned)operand});
  });
  IRRewriter rewriter(module.getContext());
  for (auto [op, index] : work) {
    Value b = op->getOperand(index);
    auto type = cast<RankedTensorType>(b.getType());
    int64_t k = type.getDimSize(0), n = type.getDimSize(1);
    int64_t line = 64 / (type.getElementTypeBitWidth() / 8);
    Location loc = op.getLoc();
    rewriter.setInsertionPoint(op);
    // An alloc_tensor, not a tensor.empty: canonicalisation would shrink an
    // empty to the slice taken of it.
    auto wide = bufferization::AllocTensorOp::create(
        rewriter, loc,
        RankedTensorType::get({k, n + line}, type.getElementType()),
        ValueRange{});
    auto slice = tensor::ExtractSliceOp::create(
        rewriter, loc, wide,
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(0),
                               rewriter.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(k),
                               rewriter.getIndexAttr(n)},
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1),
                               rewriter.getIndexAttr(1)});
    // A copy, not a generic yielding its input: canonicalisation erases
    // that as an identity.
    auto copy = linalg::CopyOp::create(rewriter, loc, b, slice.getResult());
    rewriter.startOpModification(op);
    op->setOperand(index, copy.getResult(0));
    ++NumPaddedOperands;
    rewriter.finalizeOpModification(op);
  }
  return success();
}

/// A product's B packed into panels (planProduct's packB): `panels` holds
/// `operand`'s [k, n] as [n / width, k, width].
struct Panels {
  unsigned operand;
  Value b, panels;
  int64_t width;
};

/// Copies B (`op`'s operand `operand`, [k, n]) into panels of `width`
/// columns, before `op`: an expand_shape to [k, n / width, width] and a
/// copy that puts the panel dim first.
Panels packPanels(RewriterBase &rewriter, linalg::GenericOp op,
                  unsigned operand, int64_t width) {
  Value b = op->getOperand(operand);
  auto type = cast<RankedTensorType>(b.getType());
  int64_t k = type.getDimSize(0), n = type.getDimSize(1);
  Type element = type.getElementType();
  MLIRContext *ctx = rewriter.getContext();
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  auto rows = tensor::ExpandShapeOp::create(
      rewriter, loc, RankedTensorType::get({k, n / width, width}, element), b,
      ArrayRef<ReassociationIndices>{{0}, {1, 2}});
  // An alloc_tensor, not a tensor.empty (see padProductRows).
  auto panels = bufferization::AllocTensorOp::create(
      rewriter, loc, RankedTensorType::get({n / width, k, width}, element),
      ValueRange{});
  AffineExpr panel, row, column;
  bindDims(ctx, panel, row, column);
  auto copy = linalg::GenericOp::create(
      rewriter, loc, TypeRange{panels.getType()}, ValueRange{rows},
      ValueRange{panels},
      ArrayRef<AffineMap>{AffineMap::get(3, 0, {row, panel, column}, ctx),
                          AffineMap::getMultiDimIdentityMap(3, ctx)},
      SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel),
      [](OpBuilder &b, Location loc, ValueRange args) {
        linalg::YieldOp::create(b, loc, args[0]);
      });
  ++NumPackedOperands;
  return {operand, b, copy.getResult(0), width};
}

/// Makes a register tile of a product whose B was packed read its columns
/// from the panel holding them: its B operand, the columns [j, j + w) of
/// all of B's rows (through the slices the tilings took), becomes the
/// slice [j / width, 0, 0] [1, k, w] of the panels. Tiles of the packed
/// width start on a panel.
LogicalResult readPanel(RewriterBase &rewriter, Operation *tile,
                        const Panels &packed) {
  Value v = tile->getOperand(packed.operand);
  auto type = cast<RankedTensorType>(v.getType());
  auto first = v.getDefiningOp<tensor::ExtractSliceOp>();
  if (!first)
    return failure();
  Location loc = tile->getLoc();
  rewriter.setInsertionPoint(tile);
  AffineExpr d0, d1;
  bindDims(rewriter.getContext(), d0, d1);
  OpFoldResult column = rewriter.getIndexAttr(0);
  while (v != packed.b) {
    auto slice = v.getDefiningOp<tensor::ExtractSliceOp>();
    if (!slice || !slice.hasUnitStride() ||
        !isZeroInteger(slice.getMixedOffsets()[0]))
      return failure();
    column = affine::makeComposedFoldedAffineApply(
        rewriter, loc, d0 + d1, {column, slice.getMixedOffsets()[1]});
    v = slice.getSource();
  }
  int64_t k = cast<RankedTensorType>(packed.b.getType()).getDimSize(0);
  if (type.getDimSize(0) != k)
    return failure();
  OpFoldResult panel = affine::makeComposedFoldedAffineApply(
      rewriter, loc, d0.floorDiv(packed.width), {column});
  auto slice = tensor::ExtractSliceOp::create(
      rewriter, loc, type, packed.panels,
      ArrayRef<OpFoldResult>{panel, rewriter.getIndexAttr(0),
                             rewriter.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1), rewriter.getIndexAttr(k),
                             first.getMixedSizes()[1]},
      ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1), rewriter.getIndexAttr(1),
                             rewriter.getIndexAttr(1)});
  rewriter.modifyOpInPlace(
      tile, [&] { tile->setOperand(packed.operand, slice.getResult()); });
  return success();
}

/// The fusion that tiles of a product take: only the result's init, a fill
/// or a broadcast (a bias). A producer of A or B fused here would be
/// recomputed for every tile.
scf::SCFTileAndFuseOptions productFusion() {
  using Fuse = scf::SCFTileAndFuseOptions;
  Fuse options;
  options.setFusionControlFn(
      [](tensor::ExtractSliceOp, OpResult producer,
         bool isDestination) -> std::optional<Fuse::ControlFnResult> {
        if (isDestination && (isa<linalg::FillOp>(producer.getOwner()) ||
                              graft::cpu::isBroadcast(producer.getOwner())))
          return Fuse::ControlFnResult{};
        return std::nullopt;
      });
  return options;
}

/// Tiles `product` (a block of the tiled product, or all of it) by `sizes`
/// with its init fused, then the tile over k steps of one; marks the tile
/// and what was fused into it for the vectorisation schedule and peels the
/// loops. Returns the loops of the first tiling.
FailureOr<SmallVector<LoopLikeOpInterface>>
tileProduct(RewriterBase &rewriter, linalg::GenericOp product,
            ArrayRef<int64_t> sizes, ArrayRef<int64_t> interchange, bool mark,
            const std::optional<Panels> &packed) {
  MLIRContext *ctx = rewriter.getContext();
  scf::SCFTileAndFuseOptions tiling = productFusion();
  tiling.tilingOptions.setTileSizes(getAsIndexOpFoldResult(ctx, sizes));
  tiling.tilingOptions.setInterchange(interchange);
  rewriter.setInsertionPoint(product);
  FailureOr<scf::SCFTileAndFuseResult> tiles =
      scf::tileConsumerAndFuseProducersUsingSCF(
          rewriter, cast<TilingInterface>(product.getOperation()), tiling);
  if (failed(tiles))
    return failure();
  rewriter.replaceAllUsesWith(product.getResult(0),
                              tiles->replacements.lookup(product.getResult(0)));
  rewriter.eraseOp(product);
  if (!mark)
    return tiles->loops;
  auto tile = cast<TilingInterface>(tiles->tiledAndFusedOps.front());
  if (packed && failed(readPanel(rewriter, tile, *packed)))
    return failure();
  for (Operation *fused : tiles->tiledAndFusedOps) {
    fused->setAttr(kContraction, UnitAttr::get(ctx));
    fused->removeAttr(graft::kLoweringConfigAttrName);
  }
  scf::SCFTilingOptions kSteps;
  kSteps.setTileSizes(getAsIndexOpFoldResult(ctx, {0, 0, 1}));
  rewriter.setInsertionPoint(tile);
  FailureOr<scf::SCFTilingResult> steps =
      scf::tileUsingSCF(rewriter, tile, kSteps);
  if (failed(steps))
    return failure();
  rewriter.replaceOp(tile, steps->replacements);
  peelInnerFirst(rewriter, tiles->loops);
  return tiles->loops;
}

/// Tiles the matrix products marked `graft.contraction` (iterated m, n, k)
/// into the register tiles of their lowering config (planProduct), in its
/// loop order, over k steps of one. A fill or a broadcast (a bias) that
/// initialises the result is fused into each tile (and marked, for the
/// vectorisation schedule), so the result is not initialised in memory and
/// read back; other inits are read tile by tile. When the config lets
/// threads split the outer tile loop (row blocks, or column blocks), in two
/// steps: that dim first, peeled where its step does not divide its range,
/// the whole blocks an scf.forall; then each block (and the partial one)
/// into register tiles, peeled likewise, so that every tile has a static
/// shape.
LogicalResult tileProducts(ModuleOp module) {
  SmallVector<linalg::GenericOp> products;
  module.walk([&](linalg::GenericOp op) {
    if (op->hasAttr(kContraction) && op.hasPureTensorSemantics() &&
        op.getNumLoops() == 3)
      products.push_back(op);
  });
  IRRewriter rewriter(module.getContext());
  for (linalg::GenericOp op : products) {
    // The register tile and the loop order the strategy chose.
    graft::LoweringConfigAttr config = graft::cpu::loweringConfig(op);
    if (!config || config.getTileSizes().size() != 3)
      return op.emitError("a product needs a lowering config with three "
                          "tile sizes (graft-cpu-strategy)");
    SmallVector<int64_t> sizes(config.getTileSizes());
    SmallVector<int64_t> order(config.getInterchange());
    if (order.empty())
      order = {0, 1, 2};
    std::optional<int64_t> threads = config.getThreads();
    ++NumProducts;
    std::optional<Panels> packed;
    if (!config.getPackOperands().empty()) {
      auto type = dyn_cast<RankedTensorType>(
          op->getOperand(config.getPackOperands()[0]).getType());
      if (config.getPackOperands().size() != 1 ||
          graft::cpu::productB(op) != config.getPackOperands()[0] || !type ||
          !type.hasStaticShape() || type.getDimSize(1) % sizes[1])
        return op.emitError("a product packs only its B, in panels of its "
                            "tile's columns (graft-cpu-strategy)");
      packed = packPanels(rewriter, op, config.getPackOperands()[0], sizes[1]);
    }
    if (!threads) {
      if (failed(
              tileProduct(rewriter, op, sizes, order, /*mark=*/true, packed)))
        return op.emitError("cannot tile this product for registers");
      continue;
    }
    if (*threads != *llvm::find_if(order, [&](int64_t d) { return sizes[d]; }))
      return op.emitError("threads split a product's outer tile loop only");
    SmallVector<int64_t> blockSizes(3, 0), tileSizes(sizes);
    blockSizes[*threads] = sizes[*threads];
    tileSizes[*threads] = 0;
    FailureOr<SmallVector<LoopLikeOpInterface>> blocks =
        tileProduct(rewriter, op, blockSizes, {}, /*mark=*/false, std::nullopt);
    if (failed(blocks) || blocks->size() != 1)
      return op.emitError("cannot tile this product for registers");
    auto whole = cast<scf::ForOp>(blocks->front().getOperation());
    scf::ForOp partial;
    (void)scf::peelForLoopAndSimplifyBounds(rewriter, whole, partial);
    FailureOr<scf::ForallOp> forall = graft::forToForall(rewriter, whole);
    if (failed(forall))
      return op.emitError("cannot split this product across threads");
    ++NumProductForalls;
    SmallVector<linalg::GenericOp> blockProducts;
    for (Operation *loop : {forall->getOperation(), partial.getOperation()})
      if (loop)
        loop->walk([&](linalg::GenericOp tile) {
          if (tile->hasAttr(kContraction))
            blockProducts.push_back(tile);
        });
    for (linalg::GenericOp block : blockProducts)
      if (failed(tileProduct(rewriter, block, tileSizes, order,
                             /*mark=*/true, packed)))
        return op.emitError("cannot tile this product for registers");
  }
  return success();
}

/// A 1-D read of every other element (a stride-2 window: 2x2 max pooling,
/// a stride-2 convolution's patches) as a masked contiguous read of twice
/// the elements and a shuffle of the even ones, instead of one scalar load
/// per lane (a gather). The contiguous read covers the first to the last
/// element the strided one reads, no further.
struct StrideTwoReadAsShuffle : OpRewritePattern<vector::TransferReadOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::TransferReadOp read,
                                PatternRewriter &rewriter) const override {
    auto type = dyn_cast<MemRefType>(read.getBase().getType());
    VectorType vec = read.getVectorType();
    if (!type || vec.getRank() != 1 || read.getMask() ||
        !read.getPermutationMap().isMinorIdentity() ||
        !read.getInBoundsValues().back())
      return failure();
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(type.getStridesAndOffset(strides, offset)) ||
        strides.back() != 2 || !type.hasStaticShape() ||
        llvm::any_of(strides, ShapedType::isDynamic))
      return failure();
    Location loc = read.getLoc();
    int64_t n = vec.getNumElements(), last = type.getShape().back();
    // The same memory with unit stride, over the 2 * last - 1 elements from
    // the first to the last one of the strided view.
    SmallVector<int64_t> shape(type.getShape());
    shape.back() = 2 * last - 1;
    SmallVector<int64_t> unit(strides);
    unit.back() = 1;
    auto meta = memref::ExtractStridedMetadataOp::create(rewriter, loc,
                                                         read.getBase());
    auto view = memref::ReinterpretCastOp::create(
        rewriter, loc,
        MemRefType::get(shape, type.getElementType(),
                        StridedLayoutAttr::get(rewriter.getContext(),
                                               ShapedType::kDynamic, unit)),
        meta.getBaseBuffer(), OpFoldResult(meta.getOffset()),
        getAsIndexOpFoldResult(rewriter.getContext(), shape),
        getAsIndexOpFoldResult(rewriter.getContext(), unit));
    SmallVector<Value> indices(read.getIndices());
    indices.back() = arith::MulIOp::create(
        rewriter, loc, indices.back(),
        arith::ConstantIndexOp::create(rewriter, loc, 2));
    auto wide = VectorType::get({2 * n}, vec.getElementType());
    Value mask = vector::ConstantMaskOp::create(
        rewriter, loc, VectorType::get({2 * n}, rewriter.getI1Type()),
        ArrayRef<int64_t>{2 * n - 1});
    Value pair = vector::TransferReadOp::create(
        rewriter, loc, wide, view, indices,
        AffineMap::getMinorIdentityMap(shape.size(), 1, rewriter.getContext()),
        read.getPadding(), mask, rewriter.getBoolArrayAttr({true}));
    SmallVector<int64_t> even;
    for (int64_t i = 0; i < n; ++i)
      even.push_back(2 * i);
    rewriter.replaceOpWithNewOp<vector::ShuffleOp>(read, pair, pair, even);
    return success();
  }
};

/// Tiles elementwise generics, 2-D transposes and reductions over outer
/// dims on buffers to vectors of `vectorBits` and vectorises them.
LogicalResult vectorizeElementwise(ModuleOp module, unsigned vectorBits) {
  MLIRContext *ctx = module.getContext();
  StringAttr mark = StringAttr::get(ctx, "graft.vectorize");
  // Each op's config: its own (written by hand), or the strategy's.
  SmallVector<std::pair<linalg::LinalgOp, graft::LoweringConfigAttr>> work;
  module.walk([&](linalg::LinalgOp op) {
    if (!op.hasPureBufferSemantics() || op->hasAttr(kContraction) ||
        !isa<TilingInterface>(op.getOperation()))
      return;
    graft::LoweringConfigAttr config = graft::cpu::loweringConfig(op);
    if (!config)
      if (std::optional<graft::cpu::LoopPlan> plan =
              graft::cpu::planVectorTiles(op, vectorBits))
        config = graft::cpu::loopConfig(ctx, *plan);
    if (config)
      work.push_back({op, config});
  });
  IRRewriter rewriter(ctx);
  for (auto [op, config] : work) {
    op->setAttr(mark, UnitAttr::get(ctx));
    ++NumVectorOps;
    if (config.getThreads())
      ++NumVectorForalls;
    if (failed(tileAndPeel(rewriter, cast<TilingInterface>(op.getOperation()),
                           config)))
      return op->emitError("cannot tile for vectorisation");
  }
  // Peeled tiles have static shapes once their bounds fold.
  RewritePatternSet patterns(ctx);
  scf::ForOp::getCanonicalizationPatterns(patterns, ctx);
  affine::AffineMinOp::getCanonicalizationPatterns(patterns, ctx);
  memref::SubViewOp::getCanonicalizationPatterns(patterns, ctx);
  memref::CastOp::getCanonicalizationPatterns(patterns, ctx);
  linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
  ctx->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(
      patterns);
  if (failed(applyPatternsGreedily(module, std::move(patterns))))
    return failure();
  SmallVector<linalg::LinalgOp> tiles;
  module.walk([&](linalg::LinalgOp op) {
    if (!op->hasAttr(mark) || !op.hasPureBufferSemantics())
      return;
    // Peeled tiles reach a transpose through casts to dynamic shapes
    // (linalg.transpose does not fold them): use the static views.
    for (OpOperand &o : op->getOpOperands())
      if (auto cast = o.get().getDefiningOp<memref::CastOp>())
        if (memref::CastOp::canFoldIntoConsumerOp(cast))
          o.set(cast.getSource());
    if (graft::cpu::hasStaticLoops(op))
      tiles.push_back(op);
  });
  for (linalg::LinalgOp op : tiles) {
    rewriter.setInsertionPoint(op);
    FailureOr<linalg::VectorizationResult> v = linalg::vectorize(rewriter, op);
    if (failed(v)) {
      ++NumScalarTiles; // left to loops: still correct
      continue;
    }
    rewriter.replaceOp(op, v->replacements);
    ++NumVectorized;
  }
  // A transpose tile is a transposed read: a row-major read and a register
  // transpose by shuffles (not one extract and insert per element), its
  // rows written one vector at a time.
  RewritePatternSet lowering(ctx);
  lowering.add<StrideTwoReadAsShuffle>(ctx, /*benefit=*/2);
  vector::populateVectorTransferPermutationMapLoweringPatterns(lowering);
  vector::populateVectorTransposeLoweringPatterns(
      lowering, vector::VectorTransposeLowering::Shuffle16x16);
  populateVectorToSCFConversionPatterns(
      lowering, VectorTransferToSCFOptions().enableFullUnroll());
  vector::ExtractOp::getCanonicalizationPatterns(lowering, ctx);
  // tanh (GELU's tanh form, the tanh op), erf (GELU's exact form) and exp
  // (softmax, GELU's gradient, the losses) as polynomial or rational
  // approximations in arith ops, which vectorise, instead of one libm call
  // per lane; scalar tails use the same formulas, so all elements round
  // alike.
  populateMathPolynomialApproximationPatterns(
      lowering, [](StringRef name) {
        return name == "math.tanh" || name == "math.erf" || name == "math.exp";
      });
  return applyPatternsGreedily(module, std::move(lowering));
}

/// Splits the ops on tensors that have a lowering config, other than
/// products, as it says: large ops with reductions that the product
/// schedule does not take (pooling windows with their argmax, grouped
/// convolutions, long reductions), across threads (planThreadSplit).
LogicalResult splitReductions(ModuleOp module) {
  SmallVector<std::pair<linalg::LinalgOp, graft::LoweringConfigAttr>> work;
  module.walk([&](linalg::LinalgOp op) {
    if (op.hasPureTensorSemantics() && !op->hasAttr(kContraction) &&
        isa<TilingInterface>(op.getOperation()))
      if (graft::LoweringConfigAttr config = graft::cpu::loweringConfig(op))
        work.push_back({op, config});
  });
  IRRewriter rewriter(module.getContext());
  for (auto [op, config] : work) {
    if (failed(tileAndPeel(rewriter, cast<TilingInterface>(op.getOperation()),
                           config)))
      return op->emitError("cannot split this op across threads");
    ++NumSplitOps;
  }
  return success();
}

struct CPUSchedulePass : graft::impl::CPUScheduleBase<CPUSchedulePass> {
  using CPUScheduleBase::CPUScheduleBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(graft::cpu::checkVectorBits(module, vectorBits)))
      return signalPassFailure();
    // Ops the strategy has not seen get its choice now.
    graft::cpu::assignProductConfigs(module, vectorBits);
    graft::cpu::assignThreadSplitConfigs(module, vectorBits);
    if (failed(splitReductions(module)) || failed(padProductRows(module)) ||
        failed(tileProducts(module)))
      return signalPassFailure();
    OwningOpRef<ModuleOp> schedule;
    if (scheduleFile.empty()) {
      schedule = parseSourceString<ModuleOp>(kProductSchedule, &getContext());
    } else {
      llvm::SourceMgr sources;
      schedule = parseSourceFile<ModuleOp>(scheduleFile, sources, &getContext());
    }
    if (!schedule)
      return signalPassFailure();
    Operation *entry = nullptr;
    schedule->walk([&](transform::NamedSequenceOp seq) {
      if (seq.getSymName() == "__transform_main")
        entry = seq;
    });
    if (!entry) {
      module.emitError("the schedule has no @__transform_main");
      return signalPassFailure();
    }
    if (failed(transform::applyTransformNamedSequence(
            module, entry, *schedule, transform::TransformOptions())))
      return signalPassFailure();
  }
};

struct CPUVectorizePass : graft::impl::CPUVectorizeBase<CPUVectorizePass> {
  using CPUVectorizeBase::CPUVectorizeBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(graft::cpu::checkVectorBits(module, vectorBits)) ||
        failed(vectorizeElementwise(module, vectorBits)))
      return signalPassFailure();
  }
};
} // namespace
