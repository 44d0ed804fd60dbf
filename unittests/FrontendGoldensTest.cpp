//===- FrontendGoldensTest.cpp - Front-end functions against PyTorch ------===//
//
// The functions and modules the front-end writes as PyTorch defines them
// (lib/Frontend/MLIRGen/Decompositions.cpp and Layers.cpp) against torch's
// values and gradients (test/golden/gen_frontend_goldens.py): each case's
// source is compiled by the front-end, its backward derived, and the
// reference evaluator's y, d loss / dx and d loss / d parameter compared in
// f64, from the parameters torch had.
//
//===----------------------------------------------------------------------===//

#include "graft/Autograd/Backward.h"
#include "graft/Dialect/Graft/IR/GraftDialect.h"
#include "graft/Evaluator/Evaluator.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/JSON.h"

#include "Goldens.h"
#include "GraftSource.h"
#include "gtest/gtest.h"

#include <cmath>

using namespace mlir;
using namespace graft;
using namespace graft::eval;
using namespace graft::goldens;

namespace {

std::vector<Case> cases() { return casesOf("frontend_goldens.json"); }

class FrontendGolden : public ::testing::TestWithParam<Case> {};

TEST_P(FrontendGolden, MatchesPyTorch) {
  const llvm::json::Object &c = *GetParam().json;
  MLIRContext ctx;
  ctx.loadDialect<GraftDialect, func::FuncDialect>();
  std::string errors;
  auto module = compileGraftSource(ctx, *c.getString("source"), errors);
  ASSERT_TRUE(module) << errors;
  ModelOp model = *module->getOps<ModelOp>().begin();
  ASSERT_TRUE(succeeded(deriveBackward(model)));

  Evaluator ev(model, Mode::Train, 0);
  // The modules' parameters are float32 in the model: their golden values
  // are float64, computed in float64 throughout.
  ev.setComputeInF64(true);
  if (const llvm::json::Object *params = c.getObject("params"))
    for (const auto &[name, t] : *params)
      ev.setParam(name, tensorFrom(t, DType::F64));
  ASSERT_FALSE(bool(ev.initParams()));
  // Each input in its declared dtype (float64, or int64 indices), its
  // float values unrounded.
  for (InputOp in : model.getBody().getOps<InputOp>()) {
    const llvm::json::Value *t = c.getObject("inputs")->get(in.getName());
    ASSERT_NE(t, nullptr) << "no golden input " << in.getName().str();
    DType dt = *elementTypeOf(in.getType().getElementType());
    Tensor value = tensorFrom(*t, isFloat(dt) ? DType::F64 : dt);
    value.dtype = dt;
    ev.setInput(in.getName(), std::move(value));
  }
  llvm::Error err = ev.run();
  ASSERT_FALSE(bool(err)) << llvm::toString(std::move(err));
  // The composites round differently from torch's fused kernels: in f64
  // that is ~1e-15 relative. A model of float32 modules has float32
  // constants in its derivatives (1 / n of a mean, label_smoothing): ~1e-8.
  const double tol = c.getObject("params") ? 1e-6 : 1e-10;
  auto y = ev.output("y");
  ASSERT_TRUE(y);
  EXPECT_TRUE(close(*y, tensorFrom(*c.get("y"), DType::F64), tol)) << "y";
  auto g = ev.gradient("x");
  ASSERT_TRUE(g);
  EXPECT_TRUE(close(*g, tensorFrom(*c.get("grad_x"), DType::F64), tol))
      << "dloss/dx";
  if (const llvm::json::Object *grads = c.getObject("grad_params"))
    for (const auto &[name, t] : *grads) {
      auto gp = ev.gradient(name);
      ASSERT_TRUE(gp) << "no gradient of " << name.str();
      EXPECT_TRUE(close(*gp, tensorFrom(t, DType::F64), tol))
          << "dloss/d" << name.str();
    }
}

INSTANTIATE_TEST_SUITE_P(Torch, FrontendGolden, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case> &i) {
                           return i.param.name;
                         });

TEST(FrontendGoldens, Present) { EXPECT_GE(cases().size(), 54u); }

} // namespace
