//===- GPUStrategyTest.cpp - The GPU strategy's choices, shape by shape ---===//

#include "graft/Codegen/GPUStrategy.h"

#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace graft;
using namespace graft::gpu;

namespace {

const Device kH100{/*multiprocessors=*/132, /*tf32=*/false};

std::optional<KernelPlan> product(int64_t m, int64_t n, int64_t k,
                                  const Device &device = kH100,
                                  int64_t batch = 1, bool f32 = true) {
  return planProduct({m, n, k, batch, f32}, device,
                     ReductionShape{false, k, /*contiguous=*/true});
}

KernelPlan tiled(int64_t tile, int64_t slices = 1) {
  return {GPUKernel::product, tile, slices};
}

// The largest tile that still gives every multiprocessor a block.
TEST(GPUStrategy, TheLargestTileThatFillsTheDevice) {
  EXPECT_EQ(product(1024, 1024, 64), tiled(64));
  EXPECT_EQ(product(384, 384, 64), tiled(32));
  // 12 x 11 64x64 tiles = 132 blocks: exactly enough.
  EXPECT_EQ(product(768, 704, 64), tiled(64));
  EXPECT_EQ(product(768, 640, 64), tiled(32));
  // The batch counts: 2 x 3 x (4 x 4) = 96 64x64 tiles, 384 32x32 ones.
  EXPECT_EQ(product(256, 256, 64, kH100, 6), tiled(32));
}

// 16x16 tiles split k among groups of threads by its length.
TEST(GPUStrategy, SmallProductsSplitK) {
  EXPECT_EQ(product(256, 192, 32), tiled(16));
  EXPECT_EQ(product(256, 192, 64), tiled(16, 2));
  EXPECT_EQ(product(256, 192, 255), tiled(16, 2));
  EXPECT_EQ(product(256, 192, 256), tiled(16, 4));
}

// A few long dot products read along k: a warp each; read across k, or
// with k under 8 warps, or with enough 16x16 tiles, a tiled product.
TEST(GPUStrategy, FewLongDotsAreRowReductions) {
  KernelPlan rows{GPUKernel::row_reduction};
  EXPECT_EQ(product(4, 3, 1024), rows);
  EXPECT_EQ(product(4, 3, 255), tiled(16, 2));
  EXPECT_EQ(planProduct({4, 3, 1024, 1, true}, kH100,
                        ReductionShape{false, 1024, /*contiguous=*/false}),
            tiled(16, 4));
  EXPECT_EQ(planProduct({4, 3, 1024, 1, true}, kH100, std::nullopt),
            tiled(16, 4));
  // 66 16x16 tiles: half the multiprocessors busy, so tiles.
  EXPECT_EQ(product(176, 96, 1024), tiled(16, 4));
  EXPECT_EQ(product(160, 96, 1024), rows);
}

// f32 on the tensor cores with TF32: 128x128 tiles too; f64 never.
TEST(GPUStrategy, TensorCores) {
  Device tf32{132, true};
  KernelPlan tc128{GPUKernel::tensor_core_product, 128};
  EXPECT_EQ(product(2048, 1536, 64, tf32), tc128);
  EXPECT_EQ(product(1024, 1024, 64, tf32),
            (KernelPlan{GPUKernel::tensor_core_product, 64}));
  EXPECT_EQ(product(2048, 1536, 64, tf32, 1, /*f32=*/false), tiled(64));
  // Too small for 32x32 tiles: the f32 kernel.
  EXPECT_EQ(product(256, 192, 32, tf32), tiled(16));
}

// Beyond CUDA's 65535 blocks along y (row tiles) or z (batch): none.
TEST(GPUStrategy, GridLimits) {
  EXPECT_EQ(product(65535 * 64, 1, 4), tiled(64));
  EXPECT_EQ(product(65535 * 64 + 1, 1, 4), std::nullopt);
  EXPECT_EQ(product(16, 16, 4, kH100, 65536), std::nullopt);
}

TEST(GPUStrategy, Reductions) {
  EXPECT_EQ(planReduction({true, 10, false}),
            (KernelPlan{GPUKernel::full_reduction}));
  EXPECT_EQ(planReduction({false, 32, true}),
            (KernelPlan{GPUKernel::row_reduction}));
  EXPECT_EQ(planReduction({false, 31, true}), std::nullopt);
  EXPECT_EQ(planReduction({false, 64, false}),
            (KernelPlan{GPUKernel::column_reduction}));
  EXPECT_EQ(planReduction({false, 63, true}),
            (KernelPlan{GPUKernel::row_reduction}));
  EXPECT_EQ(planReduction({false, 63, false}), std::nullopt);
}

// A plan survives its attribute, which the verifier accepts.
TEST(GPUStrategy, ConfigRoundTrip) {
  mlir::MLIRContext context;
  context.loadDialect<GraftDialect>();
  for (KernelPlan plan : {tiled(16, 4), tiled(32),
                          KernelPlan{GPUKernel::tensor_core_product, 128},
                          KernelPlan{GPUKernel::row_reduction},
                          KernelPlan{GPUKernel::full_reduction}})
    EXPECT_EQ(fromConfig(toConfig(&context, plan)), plan);
}

} // namespace
