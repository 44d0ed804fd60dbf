//===- Strategy.cpp - What the CPU code generator does with an op ---------===//

#include "graft/Codegen/CPUStrategy.h"
#include "graft/Codegen/Passes.h"
#include "graft/Dialect/Graft/IR/GraftEnums.h"

#include "mlir/IR/BuiltinOps.h"

#include <algorithm>

namespace graft {
#define GEN_PASS_DEF_CPUSTRATEGY
#include "graft/Codegen/Passes.h.inc"
} // namespace graft

using namespace mlir;
using namespace graft;
using namespace graft::cpu;

ProductPlan graft::cpu::planProduct(const ProductShape &s,
                                    unsigned vectorBits) {
  bool avx512 = vectorBits >= 512;
  int64_t lanes = vectorBits / 32;
  int64_t rows = avx512 ? 4 : 6, vectorsPerRow = avx512 ? 4 : 2;
  int64_t vectors =
      std::clamp<int64_t>((s.n + lanes - 1) / lanes, 1, vectorsPerRow);
  ProductPlan plan;
  plan.mTile = rows * vectorsPerRow / vectors;
  plan.nTile = vectors * lanes;
  int64_t rowBlocks = s.m / plan.mTile, columnBlocks = s.n / plan.nTile;
  bool streamsB = s.k * s.n * 4 > kL2Bytes / 2 && 4 * s.m < s.n;
  plan.columnsOuter = (rowBlocks < 4 && columnBlocks > rowBlocks) || streamsB;
  plan.padB = s.elementBytes > 0 && s.m > rows && s.k >= 16 &&
              (s.n * s.elementBytes) % 1024 == 0;
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
  SmallVector<int64_t> pad;
  if (plan.padB)
    if (std::optional<unsigned> b = productB(op))
      pad.push_back(*b);
  return LoweringConfigAttr::get(op.getContext(), {plan.mTile, plan.nTile, 0},
                                 interchange, pad);
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

void graft::cpu::assignProductConfigs(ModuleOp module, unsigned vectorBits) {
  module.walk([&](linalg::GenericOp op) {
    if (!op->hasAttr(GraftDialect::ContractionAttrHelper::getNameStr()) ||
        !op.hasPureTensorSemantics() || loweringConfig(op))
      return;
    if (std::optional<ProductShape> shape = productShape(op))
      op->setAttr(kLoweringConfigAttrName,
                  productConfig(op, planProduct(*shape, vectorBits)));
  });
}

namespace {
struct CPUStrategyPass : graft::impl::CPUStrategyBase<CPUStrategyPass> {
  using CPUStrategyBase::CPUStrategyBase;

  void runOnOperation() override {
    if (failed(checkVectorBits(getOperation(), vectorBits)))
      return signalPassFailure();
    assignProductConfigs(getOperation(), vectorBits);
  }
};
} // namespace
