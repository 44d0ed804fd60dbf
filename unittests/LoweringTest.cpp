//===- LoweringTest.cpp - The graft-to-linalg patterns cover the dialect --===//

#include "CodeOps.h"

#include "graft/Conversion/GraftToLinalg.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace graft;

namespace {

// Every graft op that may appear in a function has a lowering pattern
// (CodeOps.h). A new op without a pattern fails here, not in a user's
// compile.
TEST(GraftToLinalg, EveryOpAFunctionCanHoldHasAPattern) {
  MLIRContext ctx;
  std::vector<RegisteredOperationName> ops = codeOps(ctx);
  RewritePatternSet set(&ctx);
  populateGraftToLinalgPatterns(set, ConvertGraftToLinalgOptions());
  FrozenRewritePatternSet patterns(std::move(set));
  const auto &byOp = patterns.getOpSpecificNativePatterns();
  for (RegisteredOperationName name : ops)
    EXPECT_EQ(byOp.count(name), 1u) << name.getStringRef().str();
  // The count guards against a filter that skips everything.
  EXPECT_GT(ops.size(), 60u);
}

} // namespace
