//===- DialectTest.cpp - Building graft IR from C++ -----------------------===//
//
// What the front-end does: build ops with inferred result types, verify, and
// read the autograd facts back.
//
//===----------------------------------------------------------------------===//

#include "graft/Autograd/RequiresGrad.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

#include "gtest/gtest.h"

using namespace mlir;
using namespace graft;

namespace {
class DialectTest : public ::testing::Test {
protected:
  DialectTest() : builder(&ctx) {
    ctx.loadDialect<GraftDialect>();
    module = ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToEnd(module->getBody());
    model = ModelOp::create(builder, builder.getUnknownLoc(), "m");
    builder.setInsertionPointToEnd(&model.getBody().front());
  }
  RankedTensorType f32(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, builder.getF32Type());
  }
  InitAttr init(InitKind kind) {
    return InitAttr::get(&ctx, kind, DictionaryAttr());
  }
  Location loc() { return builder.getUnknownLoc(); }

  MLIRContext ctx;
  OpBuilder builder;
  OwningOpRef<ModuleOp> module;
  ModelOp model;
};
} // namespace

TEST_F(DialectTest, BuildersInferBroadcastShapes) {
  Value x = InputOp::create(builder, loc(), f32({4, 1}), "x", false);
  Value b = ParamOp::create(builder, loc(), f32({3}), "b",
                            init(InitKind::zeros), false, nullptr);
  auto add = AddOp::create(builder, loc(), x, b);
  EXPECT_EQ(add.getType(), f32({4, 3}));
  EXPECT_TRUE(succeeded(verify(*module)));
}

TEST_F(DialectTest, InferenceReportsShapeErrors) {
  Value a = InputOp::create(builder, loc(), f32({2, 3}), "a", false);
  Value b = InputOp::create(builder, loc(), f32({4, 5}), "b", false);
  std::string message;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    message = d.str();
    return success();
  });
  SmallVector<Type> types;
  MatmulOp::Adaptor adaptor({a, b});
  EXPECT_TRUE(failed(
      MatmulOp::inferReturnTypes(&ctx, loc(), adaptor, types)));
  EXPECT_EQ(message, "'graft.matmul' op matmul shapes [2, 3] and [4, 5] cannot "
                     "be multiplied: the contracted sizes are 3 and 4");
}

TEST_F(DialectTest, RequiresGradFollowsPyTorch) {
  // y = 2x; z = 3 + x.detach(); r = y + z  (the worked example of the spec).
  Value x = InputOp::create(builder, loc(), f32({3}), "x", true);
  Value two = ConstantOp::create(
      builder, loc(), DenseElementsAttr::get(f32({}), 2.0f));
  Value three = ConstantOp::create(
      builder, loc(), DenseElementsAttr::get(f32({}), 3.0f));
  Value y = MulOp::create(builder, loc(), two, x);
  Value d = DetachOp::create(builder, loc(), x);
  Value z = AddOp::create(builder, loc(), three, d);
  Value r = AddOp::create(builder, loc(), y, z);
  Value w = ParamOp::create(builder, loc(), f32({3}), "w", init(InitKind::ones),
                            /*frozen=*/true, nullptr);
  Value f = MulOp::create(builder, loc(), w, d);
  ASSERT_TRUE(succeeded(verify(*module)));

  RequiresGradAnalysis ag(model);
  EXPECT_TRUE(ag.lookup(x).requiresGrad);
  EXPECT_TRUE(ag.lookup(x).isLeaf);
  EXPECT_EQ(ag.lookup(y).gradFn, "MulBackward0");
  EXPECT_FALSE(ag.lookup(y).isLeaf);
  EXPECT_FALSE(ag.lookup(d).requiresGrad);
  EXPECT_TRUE(ag.lookup(d).isLeaf);
  EXPECT_FALSE(ag.lookup(z).requiresGrad);
  EXPECT_EQ(ag.lookup(r).gradFn, "AddBackward0");
  EXPECT_FALSE(ag.lookup(w).requiresGrad); // frozen
  EXPECT_FALSE(ag.lookup(f).requiresGrad); // computed from non-requiring values
  EXPECT_TRUE(ag.lookup(f).isLeaf);
}

TEST_F(DialectTest, InPlaceInterface) {
  Value x = InputOp::create(builder, loc(), f32({4, 3}), "x", false);
  Value b = InputOp::create(builder, loc(), f32({3}), "b", false);
  auto op = AddInPlaceOp::create(builder, loc(), x, b);
  auto iface = cast<InPlaceOpInterface>(op.getOperation());
  EXPECT_EQ(iface.getOverwrittenOperand().get(), x);
  EXPECT_EQ(iface.getOutOfPlaceName(), "add");
  EXPECT_EQ(cast<AutogradOpInterface>(op.getOperation()).getGradFnName(),
            "AddBackward0");
}
