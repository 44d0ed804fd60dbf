//===- DialectTest.cpp - Building graft IR from C++ -----------------------===//
//
// What the front-end does: build ops with inferred result types, verify, and
// read the autograd facts back.
//
//===----------------------------------------------------------------------===//

#include "graft/Autograd/RequiresGrad.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "graft/Dialect/Graft/IR/TrainOptions.h"

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

// TrainOptions.h's tables and graft.train's ODS arguments name the same
// hyper-parameters with the same attribute types, and every optimizer's
// options are among them: a row added to one and not the other fails here.
TEST_F(DialectTest, TrainOptionsMatchTheOp) {
  ArrayRef<StringRef> attrNames = TrainOp::getAttributeNames();
  for (const HyperParameter &h : hyperParameters())
    EXPECT_TRUE(llvm::is_contained(attrNames, h.name)) << h.name.str();
  for (uint32_t k = 0; k <= getMaxEnumValForOptimizerKind(); ++k) {
    auto kind = static_cast<OptimizerKind>(k);
    EXPECT_TRUE(takesHyperParameter(kind, "lr"));
    for (const OptimizerOption &o : optimizerOptions(kind)) {
      const HyperParameter *h = findHyperParameter(o.name);
      ASSERT_NE(h, nullptr) << o.name.str();
      if (h->type == HyperParameterType::Bool) {
        EXPECT_EQ(o.value[0], 0) << "torch.optim's flags default to False";
      }
    }
  }
  // Every option as the op would carry it, with its default: the verifier
  // accepts it for the optimizers that take it and names the one that
  // does not.
  auto valueOf = [&](const HyperParameter &h) -> Attribute {
    switch (h.type) {
    case HyperParameterType::Bool:
      return builder.getBoolAttr(false);
    case HyperParameterType::Pair:
      return builder.getDenseF64ArrayAttr({0.9, 0.999});
    case HyperParameterType::Number:
      return builder.getF64FloatAttr(h.name == "lr" ? 0.1 : 0.5);
    }
    return {};
  };
  for (uint32_t k = 0; k <= getMaxEnumValForOptimizerKind(); ++k) {
    auto kind = static_cast<OptimizerKind>(k);
    for (const HyperParameter &h : hyperParameters()) {
      OpBuilder::InsertionGuard guard(builder);
      auto train = TrainOp::create(
          builder, loc(), TypeRange(), ValueRange(),
          {builder.getNamedAttr("optimizer",
                                OptimizerKindAttr::get(&ctx, kind)),
           builder.getNamedAttr("lr", builder.getF64FloatAttr(0.1))});
      train->setAttr(h.name, valueOf(h));
      std::string message;
      ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
        message = d.str();
        return success();
      });
      bool ok = succeeded(verify(train));
      EXPECT_EQ(ok, takesHyperParameter(kind, h.name))
          << stringifyOptimizerKind(kind).str() << " " << h.name.str() << ": "
          << message;
      if (!ok) {
        EXPECT_NE(message.find("is not an option of"), std::string::npos)
            << message;
      }
      train->erase();
    }
  }
}

TEST_F(DialectTest, LRScheduleKindsListedOnce) {
  EXPECT_EQ(lrScheduleKindList(),
            "StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR, "
            "ConstantLR, CosineAnnealingWarmRestarts, OneCycleLR, LambdaLR, "
            "ReduceLROnPlateau or SequentialLR");
  for (uint32_t k = 0; k <= getMaxEnumValForLRScheduleKind(); ++k) {
    auto kind = static_cast<LRScheduleKind>(k);
    EXPECT_EQ(symbolizeLRScheduleKind(stringifyLRScheduleKind(kind)), kind);
    auto [required, optional] = lrScheduleArguments(kind);
    for (StringRef r : required)
      EXPECT_FALSE(llvm::is_contained(optional, r)) << r.str();
  }
}
