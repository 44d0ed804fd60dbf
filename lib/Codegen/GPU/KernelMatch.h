//===- KernelMatch.h - The ops the GPU kernels take ------------*- C++ -*-===//
//
// Internal to lib/Codegen/GPU: which linalg.generic ops on buffers the
// kernels of graft-gpu-schedule can run (products, reductions) and their
// structure, read by the strategy (graft-gpu-strategy), which chooses a
// kernel, and by the schedule, which builds it.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_LIB_CODEGEN_GPU_KERNELMATCH_H
#define GRAFT_LIB_CODEGEN_GPU_KERNELMATCH_H

#include "graft/Codegen/GPUStrategy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>

namespace graft::gpu {

/// Named convolutions and contractions (linalg.conv_2d_nchw_fchw,
/// linalg.matmul, ...) at the top level of `func` as generics, so that
/// matchProduct takes them too.
void generalizeNamedProducts(mlir::func::FuncOp func);

/// The iterations of loops `dims` together.
int64_t extent(llvm::ArrayRef<int64_t> trips, llvm::ArrayRef<unsigned> dims);

/// A product `C += A * B` as a (batched) matrix product: the parallel dims
/// only A uses are the rows (m), those only B uses the columns (n), the
/// others the batch; every reduction dim is k. Each of m, n, k and the
/// batch is the flattened product of its dims, the last fastest. Covers
/// matrix products and convolutions (implicit GEMM: the input's window is
/// read through its map, nothing is materialised).
struct Product {
  llvm::SmallVector<int64_t> trips;
  llvm::SmallVector<unsigned> batch, m, n, k;
  bool f32;
  int64_t size(llvm::ArrayRef<unsigned> dims) const {
    return extent(trips, dims);
  }
  ProductShape shape() const {
    return {size(m), size(n), size(k), size(batch), f32};
  }
};

/// `g` as a product on buffers with static shapes (parallel dims first, a
/// body `out + a * b`, index maps the kernel can compute), or nothing.
std::optional<Product> matchProduct(mlir::linalg::GenericOp g);

/// A reduction `out combine f(ins)`: its parallel and reduced dims.
struct Reduction {
  llvm::SmallVector<int64_t> trips;
  llvm::SmallVector<unsigned> parallel, reduced;
  mlir::Operation *combine; // out <combine> value
  mlir::Value value;        // the value combined into out
};

/// `out combine f(ins)` with out used only by the combine (addf, maximumf,
/// minimumf, maxnumf, minnumf), parallel dims first, the output indexed
/// by every parallel dim, static shapes; or nothing.
std::optional<Reduction> matchReduction(mlir::linalg::GenericOp g);

/// The reduction `r` of `g` as the strategy sees it.
ReductionShape reductionShape(mlir::linalg::GenericOp g, const Reduction &r);

} // namespace graft::gpu

#endif
