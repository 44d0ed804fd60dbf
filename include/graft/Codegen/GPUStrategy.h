//===- GPUStrategy.h - Which GPU kernel runs an op ---------------*- C++
//-*-===//
//
// The GPU strategy: pure functions from an op's shape and the device to the
// kernel graft-gpu-schedule builds for it, recorded on the op as a
// #graft.gpu_config (graft-gpu-strategy). Every choice the GPU schedule
// makes is here: which ops get a kernel of their own, a product's tile, its
// k slices and whether it runs on the tensor cores, and the kind of
// reduction kernel. What the strategy does not take is lowered one thread
// per output.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_CODEGEN_GPUSTRATEGY_H
#define GRAFT_CODEGEN_GPUSTRATEGY_H

#include "graft/Dialect/Graft/IR/GraftOps.h"

#include <cstdint>
#include <optional>

namespace graft::gpu {

inline constexpr int64_t kWarp = 32;
/// CUDA's limit on gridDim.y and gridDim.z.
inline constexpr int64_t kMaxGridYZ = 65535;

/// What the kernels are chosen for.
struct Device {
  /// Multiprocessors to give a block each (132 on an H100 or H200).
  int64_t multiprocessors;
  /// f32 products may run on the tensor cores in TF32 (allow_tf32).
  bool tf32;
};

/// A product C += A * B as a batched matrix product: each of m, n, k and
/// batch is the product of its dims' extents.
struct ProductShape {
  int64_t m, n, k, batch;
  /// Of f32 elements (the tensor cores take those, in TF32).
  bool f32;
};

/// A reduction as the kernels see it.
struct ReductionShape {
  /// Everything reduced to one value (no parallel dims).
  bool toOneValue;
  /// The elements combined into each output.
  int64_t length;
  /// The last reduced dim walks an input's contiguous (last) index, so
  /// the lanes of a warp read consecutive elements.
  bool contiguous;
};

/// Whether a product's grid with `tile`x`tile` tiles of C stays within
/// CUDA's limits: its row tiles go to blockIdx.y and its batch to
/// blockIdx.z.
bool fitsGrid(const ProductShape &product, int64_t tile);

/// One op's kernel: a #graft.gpu_config's contents.
struct KernelPlan {
  GPUKernel kernel;
  /// Products: the side of the block's tile of C, and the groups of
  /// threads that take turns over k.
  int64_t tile = 0, slices = 1;
  bool operator==(const KernelPlan &o) const {
    return kernel == o.kernel && tile == o.tile && slices == o.slices;
  }
};

/// Whether `kernel` is one of the tiled product kernels.
inline bool isProductKernel(GPUKernel kernel) {
  return kernel == GPUKernel::product ||
         kernel == GPUKernel::tensor_core_product;
}

/// The kernel of a product, or nullopt for the default lowering:
///
/// - Tiles of C of 64, then 32 (128 and 64 and 32 on the tensor cores):
///   the largest that gives every multiprocessor a block; on the tensor
///   cores for f32 when `device.tf32`.
/// - Else 16x16 tiles, and the k loop split among 4 groups of threads for
///   k >= 256, 2 for k >= 64 (small products: more threads, shorter serial
///   chains).
/// - A product so small that 16x16 tiles leave most multiprocessors idle
///   (fewer blocks than half of them) but with a long k (at least 8
///   warps' worth) is a few long dot products: a warp each
///   (row_reduction) when `asReduction` (the product seen as a reduction,
///   when the reduction kernels take it) reads its rows contiguously.
/// - More row tiles or batch entries than CUDA's grid holds (65535):
///   nullopt.
std::optional<KernelPlan>
planProduct(const ProductShape &product, const Device &device,
            std::optional<ReductionShape> asReduction);

/// The kernel of a reduction, or nullopt for the default lowering (short
/// ones): one block for a reduction to one value; a warp per output for
/// rows at least a warp long read contiguously; blocks of 32 outputs by
/// 32 slices for columns at least two warps long.
std::optional<KernelPlan> planReduction(const ReductionShape &reduction);

/// `plan` as a #graft.gpu_config, and back.
GPUConfigAttr toConfig(mlir::MLIRContext *context, const KernelPlan &plan);
KernelPlan fromConfig(GPUConfigAttr config);

} // namespace graft::gpu

#endif
