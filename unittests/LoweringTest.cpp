//===- LoweringTest.cpp - The graft-to-linalg patterns cover the dialect --===//

#include "graft/Conversion/GraftToLinalg.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace graft;

namespace {

// Every graft op that may appear in a function has a lowering pattern: the
// model (graft.model) and its declarations (inputs, parameters, the train
// block, ...) are not code, and graft.yield goes with the grad-mode region
// it ends.
// A new op without a pattern fails here, not in a user's compile.
TEST(GraftToLinalg, EveryOpAFunctionCanHoldHasAPattern) {
  MLIRContext ctx;
  ctx.loadDialect<GraftDialect>();
  RewritePatternSet set(&ctx);
  populateGraftToLinalgPatterns(set, ConvertGraftToLinalgOptions());
  FrozenRewritePatternSet patterns(std::move(set));
  const auto &byOp = patterns.getOpSpecificNativePatterns();
  int checked = 0;
  for (RegisteredOperationName name : ctx.getRegisteredOperations()) {
    if (name.getDialectNamespace() != GraftDialect::getDialectNamespace() ||
        name.getTypeID() == TypeID::get<ModelOp>() ||
        name.hasTrait<OpTrait::HasParent<ModelOp>::Impl>() ||
        name.getTypeID() == TypeID::get<YieldOp>())
      continue;
    EXPECT_EQ(byOp.count(name), 1u) << name.getStringRef().str();
    ++checked;
  }
  // The count guards against a filter that skips everything.
  EXPECT_GT(checked, 60);
}

} // namespace
