//===- CPUStrategyTest.cpp - The CPU strategy's choices, shape by shape ---===//

#include "graft/Codegen/CPUStrategy.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace graft::cpu;

namespace {

ProductPlan plan(int64_t m, int64_t n, int64_t k, unsigned bits) {
  return planProduct({m, n, k, /*elementBytes=*/4}, bits);
}

// AVX-512: 6 rows of four 16-lane vectors; AVX2: 6 rows of two 8-lane ones.
TEST(CPUStrategy, RegisterTilesFollowTheVectorWidth) {
  ProductPlan p512 = plan(128, 512, 512, 512);
  EXPECT_EQ(p512.mTile, 6);
  EXPECT_EQ(p512.nTile, 64);
  ProductPlan p256 = plan(128, 512, 512, 256);
  EXPECT_EQ(p256.mTile, 6);
  EXPECT_EQ(p256.nTile, 16);
  ProductPlan p128 = plan(128, 512, 512, 128);
  EXPECT_EQ(p128.mTile, 6);
  EXPECT_EQ(p128.nTile, 8);
}

// Fewer columns than a tile: fewer vectors a row, more rows, the same
// accumulators.
TEST(CPUStrategy, NarrowProductsTakeMoreRows) {
  ProductPlan p = plan(4096, 32, 131072, 512);
  EXPECT_EQ(p.mTile, 12);
  EXPECT_EQ(p.nTile, 32);
  // At most 16 rows: rows of A a multiple of 4 KiB apart share an L1 set.
  p = plan(4096, 16, 1024, 512);
  EXPECT_EQ(p.mTile, 16);
  EXPECT_EQ(p.nTile, 16);
  p = plan(4096, 8, 1024, 256);
  EXPECT_EQ(p.mTile, 12);
  EXPECT_EQ(p.nTile, 8);
}

// Row blocks outside (threads split rows), unless there are too few of
// them and more column blocks, or B streams through L2 past a small A.
TEST(CPUStrategy, WhichLoopThreadsSplit) {
  EXPECT_FALSE(plan(128, 512, 512, 512).columnsOuter);
  // A convolution with 6 output channels over 12544 pixels.
  EXPECT_TRUE(plan(6, 12544, 25, 512).columnsOuter);
  // As many row blocks as column blocks: rows stay outside.
  EXPECT_FALSE(plan(12, 128, 64, 512).columnsOuter);
  // w[16, 27] @ col[27, 131072]: B (14 MB) is read once.
  EXPECT_TRUE(plan(16, 131072, 27, 512).columnsOuter);
  // B fits in half of L2: row blocks, each reading it.
  EXPECT_FALSE(plan(64, 1024, 64, 512).columnsOuter);
}

// B is copied into padded rows when its rows lie a multiple of 1 KiB
// apart, more than one row block reads it, and k is at least 16.
TEST(CPUStrategy, PaddedRowsOfB) {
  EXPECT_TRUE(plan(512, 512, 512, 512).padB);
  EXPECT_FALSE(plan(512, 512, 512, 256).padB); // packed instead (AVX2)
  EXPECT_TRUE(plan(64, 256, 512, 512).padB);
  EXPECT_FALSE(plan(64, 200, 512, 512).padB); // rows 800 bytes apart
  EXPECT_FALSE(plan(4, 256, 512, 512).padB);  // one row block
  EXPECT_FALSE(plan(6, 256, 512, 256).padB);  // one AVX2 row block
  EXPECT_TRUE(plan(7, 256, 512, 256).padB);
  EXPECT_FALSE(plan(64, 256, 8, 512).padB);               // k < 16
  EXPECT_FALSE(planProduct({64, 256, 512, 0}, 512).padB); // unknown element
  EXPECT_TRUE(planProduct({64, 512, 512, 2}, 512).padB);  // bf16 rows, 1 KiB
}

// With AVX2, B is packed into panels of the tile's columns when at least
// four row tiles read each panel, row blocks are outside, the tile divides
// n (more than one tile) and k is at least 16; with AVX-512, never (not
// measured on an AVX-512 core yet).
TEST(CPUStrategy, PackedPanelsOfB) {
  EXPECT_TRUE(plan(512, 512, 512, 256).packB);
  EXPECT_TRUE(plan(24, 32, 16, 256).packB);
  EXPECT_TRUE(plan(64, 208, 512, 256).packB);    // rows 832 bytes apart
  EXPECT_FALSE(plan(23, 32, 512, 256).packB);    // under four row tiles
  EXPECT_FALSE(plan(512, 16, 512, 256).packB);   // one panel: B's rows
  EXPECT_FALSE(plan(512, 520, 512, 256).packB);  // 16 does not divide n
  EXPECT_FALSE(plan(512, 512, 8, 256).packB);    // k < 16
  EXPECT_FALSE(plan(64, 131072, 27, 256).packB); // column blocks outside
  EXPECT_FALSE(planProduct({64, 256, 512, 0}, 256).packB); // unknown element
  EXPECT_FALSE(plan(512, 512, 512, 512).packB);
  for (int64_t m : {24, 512})
    EXPECT_FALSE(plan(m, 512, 512, 256).padB && plan(m, 512, 512, 256).packB);
}

// Tile rows stay in registers across the k loop only as at most one
// vector or a power-of-two number of whole ones.
TEST(CPUStrategy, RegisterWidths) {
  for (int64_t w : {1, 7, 12, 16, 32, 64, 128})
    EXPECT_TRUE(fitsRegisters(w, 16)) << w;
  for (int64_t w : {17, 20, 24, 40, 48, 96})
    EXPECT_FALSE(fitsRegisters(w, 16)) << w;
}

// Tiles of whole vectors, a power of two of them: 48 columns are a
// 32-column tile and a 16-column remainder, not one tile of three vectors;
// 20 are a vector and a 4-column remainder.
TEST(CPUStrategy, TileWidthsFitRegisters) {
  ProductPlan p = plan(512, 48, 512, 512);
  EXPECT_EQ(p.nTile, 32);
  EXPECT_EQ(p.mTile, 12);
  EXPECT_FALSE(p.splitColumns);
  p = plan(512, 20, 512, 512);
  EXPECT_EQ(p.nTile, 16);
  EXPECT_FALSE(p.splitColumns);
  p = plan(512, 12, 512, 256); // AVX2: one 8-lane vector and 4 columns
  EXPECT_EQ(p.nTile, 8);
  // f64: 8 lanes of 512 bits; 24 columns are 16 and 8.
  p = planProduct({512, 24, 512, 8}, 512);
  EXPECT_EQ(p.nTile, 16);
  EXPECT_FALSE(p.splitColumns);
}

// Columns past the last whole tile that no tile holds in registers (48,
// 24 past 64-column tiles) are a product of their own; a remainder that
// fits (16, 8, under a vector) is a peeled tile.
TEST(CPUStrategy, OddRemaindersSplitOff) {
  EXPECT_EQ(plan(512, 112, 512, 512).splitColumns, 64);
  EXPECT_EQ(plan(512, 88, 512, 512).splitColumns, 64);
  EXPECT_EQ(plan(512, 1064, 512, 512).splitColumns, 1024);
  EXPECT_FALSE(plan(512, 80, 512, 512).splitColumns);  // 64 + 16
  EXPECT_FALSE(plan(512, 200, 512, 512).splitColumns); // 3 * 64 + 8
  EXPECT_FALSE(plan(512, 65, 512, 512).splitColumns);
  EXPECT_EQ(plan(512, 28, 512, 256).splitColumns, 16); // AVX2: 16 + 12
}

/// The plans of the one linalg op in `body` (a function's body, without
/// its terminator: `%out` is returned when the op has results).
struct LoopPlans {
  std::optional<LoopPlan> split, vector;
};

LoopPlans plansOf(const std::string &signature, const std::string &body,
                  unsigned bits = 512) {
  mlir::MLIRContext ctx;
  ctx.loadDialect<mlir::func::FuncDialect, mlir::linalg::LinalgDialect,
                  mlir::tensor::TensorDialect, mlir::memref::MemRefDialect,
                  mlir::arith::ArithDialect, graft::GraftDialect>();
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(
          "func.func @f" + signature + " {\n" + body + "\n}", &ctx);
  EXPECT_TRUE(module) << body;
  LoopPlans plans;
  if (!module)
    return plans;
  module->walk([&](mlir::linalg::LinalgOp op) {
    plans.split = planThreadSplit(op, bits);
    plans.vector = planVectorTiles(op, bits);
  });
  return plans;
}

const char *kAdd = R"(
  linalg.generic {indexing_maps = [affine_map<(a, b, c) -> (a, b, c)>,
                                        affine_map<(a, b, c) -> (a, b, c)>],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : memref<SHAPE>) outs(%y : memref<SHAPE>) {
  ^bb0(%i: f32, %o: f32):
    %s = arith.addf %i, %i : f32
    linalg.yield %s : f32
  }
  return)";

LoopPlans elementwise(const std::string &shape, unsigned bits = 512) {
  std::string body = kAdd;
  for (size_t at; (at = body.find("SHAPE")) != std::string::npos;)
    body.replace(at, 5, shape);
  return plansOf("(%x: memref<" + shape + ">, %y: memref<" + shape + ">)", body,
                 bits);
}

// Elementwise ops: one vector along the innermost dim, one element along
// the others; threads split the outermost dim of more than one tile, from
// 32768 elements on.
TEST(CPUStrategy, ElementwiseVectorTiles) {
  LoopPlans p = elementwise("64x32x48xf32");
  ASSERT_TRUE(p.vector);
  EXPECT_FALSE(p.split);
  EXPECT_EQ(p.vector->tileSizes, (llvm::SmallVector<int64_t>{1, 1, 16}));
  EXPECT_TRUE(p.vector->interchange.empty());
  EXPECT_EQ(p.vector->threads, 0);
  // AVX2: 8 lanes; a dim narrower than a vector is one tile.
  p = elementwise("64x32x4xf32", 256);
  EXPECT_EQ(p.vector->tileSizes, (llvm::SmallVector<int64_t>{1, 1, 4}));
  // Under 32768 elements: one thread.
  EXPECT_FALSE(elementwise("8x32x48xf32").vector->threads);
  // A leading dim of one: threads split the next.
  EXPECT_EQ(elementwise("1x512x64xf32").vector->threads, 1);
}

// A sum over the batch (a bias gradient): vectorised along the innermost
// (output) dim, the reduction inside, in order.
TEST(CPUStrategy, ReductionsOverOuterDims) {
  LoopPlans p = plansOf("(%x: memref<4096x64xf32>, %y: memref<64xf32>)", R"(
  linalg.generic {indexing_maps = [affine_map<(n, c) -> (n, c)>,
                                   affine_map<(n, c) -> (c)>],
                  iterator_types = ["reduction", "parallel"]}
      ins(%x : memref<4096x64xf32>) outs(%y : memref<64xf32>) {
  ^bb0(%i: f32, %o: f32):
    %s = arith.addf %o, %i : f32
    linalg.yield %s : f32
  }
  return)");
  ASSERT_TRUE(p.vector);
  EXPECT_FALSE(p.split);
  EXPECT_EQ(p.vector->tileSizes, (llvm::SmallVector<int64_t>{1, 16}));
  EXPECT_EQ(p.vector->interchange, (llvm::SmallVector<int64_t>{1, 0}));
  EXPECT_EQ(p.vector->threads, 1);
}

// A convolution's bias gradient (a sum over batch and image whose
// innermost loop reduces): split across threads a vector of channels at a
// time on tensors, and vectorised across channels.
TEST(CPUStrategy, ReductionsAcrossOutputs) {
  LoopPlans p = plansOf(
      "(%g: tensor<8x64x24x24xf32>, %b: tensor<64xf32>) -> tensor<64xf32>",
      R"(
  %r = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>,
                                        affine_map<(n, c, h, w) -> (c)>],
                       iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
      ins(%g : tensor<8x64x24x24xf32>) outs(%b : tensor<64xf32>) {
  ^bb0(%i: f32, %o: f32):
    %s = arith.addf %o, %i : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  return %r : tensor<64xf32>)");
  ASSERT_TRUE(p.split);
  EXPECT_EQ(p.split->tileSizes, (llvm::SmallVector<int64_t>{0, 16, 0, 0}));
  EXPECT_EQ(p.split->threads, 1);
  ASSERT_TRUE(p.vector);
  EXPECT_EQ(p.vector->tileSizes, (llvm::SmallVector<int64_t>{1, 16, 1, 1}));
  EXPECT_EQ(p.vector->interchange, (llvm::SmallVector<int64_t>{1, 0, 2, 3}));
}

// Pooling with its argmax, a convolution: the first parallel dim of two or
// more iterations tiled by one and split across threads; not vectorised
// here (test/Codegen/CPU/cpu-schedule-split.mlir: small ones stay whole).
TEST(CPUStrategy, ThreadSplits) {
  const char *conv = R"(
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : tensor<NxCx34x34xf32>, tensor<16xCx3x3xf32>)
      outs(%y : tensor<Nx16x32x32xf32>) -> tensor<Nx16x32x32xf32>
  return %r : tensor<Nx16x32x32xf32>)";
  auto convOf = [&](const std::string &n, const std::string &c) {
    std::string body = conv, sig = "(%x: tensor<NxCx34x34xf32>, %w: "
                                   "tensor<16xCx3x3xf32>, %y: "
                                   "tensor<Nx16x32x32xf32>) -> "
                                   "tensor<Nx16x32x32xf32>";
    for (std::string *t : {&body, &sig}) {
      for (size_t at; (at = t->find("Nx")) != std::string::npos;)
        t->replace(at, 1, n);
      for (size_t at; (at = t->find("xCx")) != std::string::npos;)
        t->replace(at + 1, 1, c);
    }
    return plansOf(sig, body);
  };
  LoopPlans p = convOf("8", "3");
  ASSERT_TRUE(p.split);
  EXPECT_FALSE(p.vector);
  EXPECT_EQ(p.split->tileSizes,
            (llvm::SmallVector<int64_t>{1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(p.split->threads, 0);
  // Batch one: the output channels.
  p = convOf("1", "3");
  ASSERT_TRUE(p.split);
  EXPECT_EQ(p.split->threads, 1);
}

} // namespace
