//===- GraftToLinalg.cpp - The graft-to-linalg patterns and pass ----------===//
//
// Every graft op in a function becomes target-neutral ops on tensors, by
// the conversion patterns of its family (see Lowering.h). The pass applies
// them with the one-shot dialect conversion driver (no rollback: a pattern
// sees its operands already lowered) after checking, op by op, that each
// has a pattern and that the pattern's assumptions hold, so an op that
// cannot be lowered gets one error that says why.
//
//===----------------------------------------------------------------------===//

#include "graft/Conversion/GraftToLinalg.h"
#include "Lowering.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"
#include "llvm/ADT/TypeSwitch.h"

namespace graft {
#define GEN_PASS_DEF_CONVERTGRAFTTOLINALG
#include "graft/Conversion/Passes.h.inc"
} // namespace graft

using namespace mlir;
using namespace graft;

void graft::populateGraftToLinalgPatterns(
    RewritePatternSet &patterns, const ConvertGraftToLinalgOptions &options) {
  lowering::populateElementwisePatterns(patterns, options);
  lowering::populateShapesPatterns(patterns, options);
  lowering::populateReductionsPatterns(patterns, options);
  lowering::populateProductsPatterns(patterns, options);
  lowering::populateConvolutionPatterns(patterns, options);
  lowering::populatePoolingPatterns(patterns, options);
  lowering::populateNormalizationPatterns(patterns, options);
  lowering::populateLossesPatterns(patterns, options);
  lowering::populateIndexingPatterns(patterns, options);
}

void graft::configureGraftToLinalgTarget(ConversionTarget &target) {
  target.addIllegalDialect<GraftDialect>();
  target.addLegalDialect<arith::ArithDialect,
                         bufferization::BufferizationDialect, func::FuncDialect,
                         linalg::LinalgDialect, LLVM::LLVMDialect,
                         math::MathDialect, memref::MemRefDialect,
                         scf::SCFDialect, tensor::TensorDialect>();
}

LogicalResult
graft::checkGraftToLinalg(Operation *root,
                          const FrozenRewritePatternSet &patterns) {
  const auto &byOp = patterns.getOpSpecificNativePatterns();
  WalkResult r = root->walk([&](Operation *op) {
    if (!isa<GraftDialect>(op->getDialect()) || isa<YieldOp>(op))
      return WalkResult::advance();
    if (!byOp.contains(op->getName())) {
      op->emitError("'") << op->getName()
                         << "' is not supported by the CPU code generator yet";
      return WalkResult::interrupt();
    }
    LogicalResult ok =
        llvm::TypeSwitch<Operation *, LogicalResult>(op)
            .Case([](DropoutOp o) { return lowering::checkDropout(o); })
            .Case([](HookCallOp o) { return lowering::checkHookCall(o); })
            .Default([](Operation *) { return success(); });
    return failed(ok) ? WalkResult::interrupt() : WalkResult::advance();
  });
  return failure(r.wasInterrupted());
}

namespace {
struct ConvertGraftToLinalgPass
    : graft::impl::ConvertGraftToLinalgBase<ConvertGraftToLinalgPass> {
  using ConvertGraftToLinalgBase::ConvertGraftToLinalgBase;

  void getDependentDialects(DialectRegistry &registry) const override {
    ConvertGraftToLinalgBase::getDependentDialects(registry);
    // Hook calls (Elementwise.cpp).
    registry.insert<bufferization::BufferizationDialect, memref::MemRefDialect,
                    LLVM::LLVMDialect>();
  }

  LogicalResult initialize(MLIRContext *ctx) override {
    RewritePatternSet set(ctx);
    ConvertGraftToLinalgOptions options;
    options.convProducts = convProducts;
    options.convChunkElements = convChunkElements;
    options.poolTaps = poolTaps;
    options.batchProducts = batchProducts;
    populateGraftToLinalgPatterns(set, options);
    patterns = FrozenRewritePatternSet(std::move(set));
    return success();
  }

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (failed(checkGraftToLinalg(fn, patterns)))
      return signalPassFailure();
    ConversionTarget target(getContext());
    configureGraftToLinalgTarget(target);
    ConversionConfig config;
    config.allowPatternRollback = false;
    config.foldingMode = DialectConversionFoldingMode::Never;
    if (failed(applyPartialConversion(fn, target, patterns, config)))
      signalPassFailure();
  }

  FrozenRewritePatternSet patterns;
};
} // namespace
