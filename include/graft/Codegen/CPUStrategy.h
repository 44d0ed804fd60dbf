//===- CPUStrategy.h - What the CPU code generator does with an op ------===//
//
// The CPU strategy: pure functions from an op's shapes and the target's
// vector width to the lowering the schedule then carries out, recorded on
// the op as a #graft.lowering_config (graft-cpu-strategy). Every choice the
// schedules make is here: a product's register tile, loop order and padded
// operand; the vector tiles of elementwise ops, transposes and reductions;
// and for each op which loop, if any, threads split.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_CODEGEN_CPUSTRATEGY_H
#define GRAFT_CODEGEN_CPUSTRATEGY_H

#include "graft/Dialect/Graft/IR/GraftDialect.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <optional>

namespace graft::cpu {

/// The L2 cache per core the product loop order assumes (Zen 4: 1 MiB;
/// recent Intel cores: 1.25-2 MiB).
inline constexpr int64_t kL2Bytes = 1 << 20;

/// A matrix product C[m, n] += A[m, k] * B[k, n] of `elementBytes`-byte
/// elements (B's).
struct ProductShape {
  int64_t m, n, k;
  int64_t elementBytes;
};

/// How a product runs (see planProduct).
struct ProductPlan {
  /// The register tile: rows of A by columns of B (whole vectors).
  int64_t mTile, nTile;
  /// Threads split the column blocks (the outer loop) instead of the row
  /// blocks.
  bool columnsOuter;
  /// B is first copied into rows a cache line longer.
  bool padB;
  /// B is first copied into panels of nTile columns, each panel's rows
  /// contiguous ([n / nTile, k, nTile]), so that a register tile's k loop
  /// reads memory in order.
  bool packB;
  /// The columns from this one on run as a product of their own, planned
  /// for their width: a tile as wide as they are would not stay in vector
  /// registers (see fitsRegisters).
  std::optional<int64_t> splitColumns;
};

/// Whether a register tile's rows of `columns` elements stay in vector
/// registers of `lanes` elements across the k loop: at most one vector,
/// or a power-of-two number of them. LLVM breaks a loop-carried vector of
/// another length (<48 x float>, three AVX-512 vectors) into 128-bit
/// pieces, spilled and reassembled every k step: 512 x 512 x 48 ran 47x
/// slower.
bool fitsRegisters(int64_t columns, int64_t lanes);

/// The plan of a product for vectors of `vectorBits`:
///
/// - Register tiles of 6 rows of four vectors with AVX-512's 32 registers
///   (24 accumulators: two 512-bit FMA pipes of 4 cycles' latency need 8
///   in flight, and fewer leave the loads of B and A ahead of them short;
///   4x4 tiles ran at 70% of a Zen 5 core's peak, 6x4 at 87-93%), 6 rows
///   of two with 256-bit vectors' 16 registers (12 accumulators for two FMA
///   pipes). Each tile also holds one B vector per column and a broadcast
///   of A. A product narrower than a tile gets fewer vectors a row (a
///   power of two of them, whole ones: see fitsRegisters) and more rows,
///   for the same accumulators (16 rows at most), so each row block reads
///   B in fewer passes (a convolution's weight gradient, n = 32: 12x32
///   tiles at 512 bits).
///   Vectors are of B's elements (f64: half as many lanes).
/// - Columns past the last whole tile whose width a tile cannot hold in
///   registers (48 past 64-column tiles) are split off as a product of
///   their own, planned for their width (splitColumns).
/// - Row blocks outside (each reads all of B), unless there are too few of
///   them for two threads and more column blocks (a convolution with 6
///   output channels over 12544 pixels), or B is too large to stay in L2
///   and A much smaller (a convolution's patches: w[16, 27] @ col[27,
///   131072] reads col once, not four times).
/// - B packed into panels of the tile's columns ([n / nTile, k, nTile]:
///   a tile's k loop reads one panel from start to end, not one line per row
///   of B down a column, lines a row apart that the hardware prefetcher
///   follows late and that share few cache sets when rows lie a multiple
///   of 1 KiB apart) when at least four row tiles read each panel, row
///   blocks are outside, the tile divides n and k >= 16. With AVX2 only:
///   the 512^3 product on a Zen 3 core went from 65-71 GFLOP/s (padded) to
///   73-84 (packed), of a measured peak of 95-101; AVX-512 cores keep the
///   padded rows until packing is measured on one.
/// - Otherwise B copied into rows a cache line longer when its rows lie a
///   multiple of 1 KiB apart, there is more than one row block to reuse it,
///   and k >= 16.
ProductPlan planProduct(const ProductShape &s, unsigned vectorBits);

/// The shape of a product generic (iterated m, n, k; B its input read as
/// [k, n]), or nullopt for another op or dynamic shapes.
std::optional<ProductShape> productShape(mlir::linalg::GenericOp op);

/// The operand number of a product generic's B.
std::optional<unsigned> productB(mlir::linalg::GenericOp op);

/// `plan` as the product's #graft.lowering_config.
LoweringConfigAttr productConfig(mlir::linalg::GenericOp op,
                                 const ProductPlan &plan);
/// A generic that copies its one input to its output through a projected
/// permutation (size-1 dims read at 0): a broadcast, such as a bias over
/// the rows or the columns of a product (fused into its tiles).
bool isBroadcast(mlir::Operation *op);

/// The mark of a matrix product (the lowering's graft.contraction), which
/// the product schedule tiles for registers.
inline constexpr llvm::StringLiteral kContraction =
    GraftDialect::ContractionAttrHelper::getNameStr();

/// Ops of at least this many iterations are worth splitting across
/// threads.
inline constexpr int64_t kParallelIterations = 1 << 15;

/// Whether every loop of `op` has a static range (and it has loops).
bool hasStaticLoops(mlir::linalg::LinalgOp op);

/// How a loop nest other than a product is tiled: a tile size per loop (0:
/// not tiled), the tile loops' order (empty: the dims' order), and the dim
/// whose tile loop threads split, if any.
struct LoopPlan {
  llvm::SmallVector<int64_t> tileSizes, interchange;
  std::optional<int64_t> threads;
};

/// graft-cpu-schedule's split, on tensors, of a large op with reductions
/// that the product schedule does not take (pooling windows with their
/// argmax, grouped convolutions, long reductions): its first parallel dim
/// of at least two iterations tiled by one (by a vector of outputs for a
/// reduction that vectorises across its outputs), the tile loop split by
/// threads. Every output uses every parallel dim, so the iterations write
/// disjoint slices, and each output is still reduced by one thread, in
/// order (bit-identical at any thread count). Nullopt for other ops, those
/// under kParallelIterations, and sums over outer dims (vectorised
/// instead).
std::optional<LoopPlan> planThreadSplit(mlir::linalg::LinalgOp op,
                                        unsigned vectorBits);

/// graft-cpu-vectorize's tiles, on buffers, for elementwise ops, 2-D
/// transposes and reductions that vectorise (over outer dims, or across
/// their outputs): one vector of `vectorBits` of the widest element along
/// the innermost dim (square blocks for a transpose; along the output dim
/// for a reduction across outputs), one element along the others; for a
/// reduction the parallel dims outside and the reduction dims inside, in
/// order, so each output sums its terms in the op's order; threads split
/// the outermost parallel loop of more than one tile when the op has
/// kParallelIterations or more. Nullopt for other ops and ops on i1 (bit
/// masks as vectors, bytes in memory).
std::optional<LoopPlan> planVectorTiles(mlir::linalg::LinalgOp op,
                                        unsigned vectorBits);

/// `plan` as a #graft.lowering_config.
LoweringConfigAttr loopConfig(mlir::MLIRContext *ctx, const LoopPlan &plan);

/// The op's #graft.lowering_config, when it has one.
LoweringConfigAttr loweringConfig(mlir::Operation *op);

/// An error at `module` unless `vectorBits` is a multiple of 128 (the
/// option of graft-cpu-strategy, -schedule and -vectorize).
mlir::LogicalResult checkVectorBits(mlir::ModuleOp module, unsigned vectorBits);

/// Gives every product of `module` (a generic marked graft.contraction)
/// that has no lowering config the strategy's, for `vectorBits`; a
/// product whose plan splits its columns is split first (each part with
/// its own config).
void assignProductConfigs(mlir::ModuleOp module, unsigned vectorBits);

/// Gives every op on tensors that graft-cpu-schedule splits across threads
/// (planThreadSplit) and that has no lowering config the strategy's.
void assignThreadSplitConfigs(mlir::ModuleOp module, unsigned vectorBits);

} // namespace graft::cpu

#endif
