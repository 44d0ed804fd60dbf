//===- GPUStrategy.cpp - Which GPU kernel runs an op ----------------------===//
//
// The GPU strategy's plans (include/graft/Codegen/GPUStrategy.h) and
// graft-gpu-strategy, which records them on the ops as #graft.gpu_config
// for graft-gpu-schedule.
//
//===----------------------------------------------------------------------===//

#include "graft/Codegen/GPUStrategy.h"
#include "graft/Codegen/Passes.h"
#include "graft/Support/Statistics.h"

#include "GPU/KernelMatch.h"


namespace graft {
#define GEN_PASS_DEF_GPUSTRATEGY
#include "graft/Codegen/Passes.h.inc"
} // namespace graft

using namespace mlir;
using namespace graft::gpu;
using graft::GPUConfigAttr;
using graft::GPUKernel;
using graft::kGPUConfigAttrName;

GRAFT_STATISTIC(NumProductConfigs, "graft-gpu-strategy",
                "Products given a tiled kernel (on the tensor cores or not)");
GRAFT_STATISTIC(NumReductionConfigs, "graft-gpu-strategy",
                "Reductions given a warp or block kernel");

static bool rowsWorthAWarp(const ReductionShape &r) {
  return r.length >= kWarp && r.contiguous;
}

std::optional<KernelPlan>
graft::gpu::planProduct(const ProductShape &p, const Device &device,
                        std::optional<ReductionShape> asReduction) {
  bool tensorCores = device.tf32 && p.f32;
  auto blocks = [&](int64_t tile) {
    return llvm::divideCeilSigned(p.m, tile) *
           llvm::divideCeilSigned(p.n, tile) * p.batch;
  };
  std::optional<KernelPlan> plan;
  for (int64_t tile : {128, 64, 32})
    if ((tile < 128 || tensorCores) && blocks(tile) >= device.multiprocessors) {
      plan = KernelPlan{tensorCores ? GPUKernel::tensor_core_product
                                    : GPUKernel::product,
                        tile, 1};
      break;
    }
  if (!plan) {
    if (2 * blocks(16) < device.multiprocessors && p.k >= 8 * kWarp &&
        asReduction && rowsWorthAWarp(*asReduction))
      return KernelPlan{GPUKernel::row_reduction};
    plan = KernelPlan{GPUKernel::product, 16,
                      p.k >= 256  ? 4
                      : p.k >= 64 ? 2
                                  : 1};
  }
  if (!fitsGrid(p, plan->tile))
    return std::nullopt;
  return plan;
}

bool graft::gpu::fitsGrid(const ProductShape &p, int64_t tile) {
  return llvm::divideCeilSigned(p.m, tile) <= kMaxGridYZ &&
         p.batch <= kMaxGridYZ;
}

std::optional<KernelPlan> graft::gpu::planReduction(const ReductionShape &r) {
  if (r.toOneValue)
    return KernelPlan{GPUKernel::full_reduction};
  if (rowsWorthAWarp(r))
    return KernelPlan{GPUKernel::row_reduction};
  if (r.length >= 2 * kWarp)
    return KernelPlan{GPUKernel::column_reduction};
  return std::nullopt;
}

GPUConfigAttr graft::gpu::toConfig(MLIRContext *context,
                                   const KernelPlan &plan) {
  std::optional<int64_t> tile, slices;
  if (isProductKernel(plan.kernel))
    tile = plan.tile;
  if (plan.slices > 1)
    slices = plan.slices;
  return GPUConfigAttr::get(context, plan.kernel, tile, slices);
}

KernelPlan graft::gpu::fromConfig(GPUConfigAttr config) {
  return {config.getKernel(), config.getTile().value_or(0),
          config.getSlices().value_or(1)};
}

namespace {
struct GPUStrategyPass : graft::impl::GPUStrategyBase<GPUStrategyPass> {
  using GPUStrategyBase::GPUStrategyBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    generalizeNamedProducts(func);
    Device device{multiprocessors, tf32};
    // Top-level ops of the function only: nested ones run in a loop.
    for (Operation &op : func.getBody().getOps()) {
      auto g = dyn_cast<linalg::GenericOp>(op);
      if (!g || g->hasAttr(kGPUConfigAttrName))
        continue;
      std::optional<ReductionShape> reduction;
      if (std::optional<Reduction> r =
              reductions ? matchReduction(g) : std::nullopt)
        reduction = reductionShape(g, *r);
      std::optional<KernelPlan> plan;
      if (std::optional<Product> p =
              products ? matchProduct(g) : std::nullopt) {
        plan = planProduct(p->shape(), device, reduction);
      } else if (reduction) {
        plan = planReduction(*reduction);
      }
      if (!plan)
        continue;
      g->setAttr(kGPUConfigAttrName, toConfig(&getContext(), *plan));
      if (isProductKernel(plan->kernel))
        ++NumProductConfigs;
      else
        ++NumReductionConfigs;
    }
  }
};
} // namespace
