//===- FrontendGoldensJITTest.cpp - Front-end goldens in generated code ---===//
//
// The cases of FrontendGoldensTest.cpp (functions and modules the
// front-end writes over the built-ins, against PyTorch), compiled for the
// host CPU instead of evaluated: each case's @m_forward_backward is called
// with torch's inputs and parameters, and its loss, d loss / dx and
// d loss / d parameter compared with torch's. Float64 cases run in float64;
// the modules' cases are float32 models.
//
//===----------------------------------------------------------------------===//

#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "graft/Pipelines/Pipelines.h"
#include "graft/Target/JIT.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"

#include "Goldens.h"
#include "GraftSource.h"
#include "JITBuffer.h"
#include "gtest/gtest.h"

#include <cstring>

using namespace mlir;
using namespace graft;
using namespace graft::goldens;

namespace {

class FrontendGoldenJIT : public ::testing::TestWithParam<Case> {};

TEST_P(FrontendGoldenJIT, MatchesPyTorch) {
  const llvm::json::Object &c = *GetParam().json;
  DialectRegistry registry;
  registerCodegenDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  std::string errors;
  auto module = compileGraftSource(ctx, *c.getString("source"), errors);
  ASSERT_TRUE(module) << errors;
  std::string name = (*module->getOps<ModelOp>().begin()).getSymName().str();
  auto jitOr = JITModel::compile(*module);
  ASSERT_TRUE((bool)jitOr) << llvm::toString(jitOr.takeError());
  JITModel &jit = **jitOr;
  const EntryPoint *fb = jit.entryPoint(name + "_forward_backward");
  ASSERT_NE(fb, nullptr);

  const llvm::json::Object *params = c.getObject("params");
  const llvm::json::Object &inputs = *c.getObject("inputs");
  std::vector<Buffer> args;
  for (const TensorSlot &s : fb->args) {
    args.emplace_back(s);
    Buffer &b = args.back();
    if (s.role == Role::input) {
      const llvm::json::Value *t = inputs.get(s.name);
      ASSERT_NE(t, nullptr) << "no golden input " << s.name;
      b.set(tensorFrom(*t, DType::F64));
    } else if (s.role == Role::param) {
      ASSERT_TRUE(params && params->get(s.name)) << "no golden " << s.name;
      b.set(tensorFrom(*params->get(s.name), DType::F64));
    } else {
      std::memset(b.bytes.data(), 0, b.bytes.size()); // seed, accumulators
    }
  }
  auto called = callEntry(jit, *fb, args);
  ASSERT_TRUE((bool)called) << llvm::toString(called.takeError());
  std::vector<Buffer> &results = *called;

  // The loss is sum(y * w) (w is 1 for a scalar y).
  Tensor y = tensorFrom(*c.get("y"), DType::F64);
  double loss = 0;
  const llvm::json::Value *w = inputs.get("w");
  for (int64_t i = 0; i < y.numel(); ++i)
    loss += y.data[i] * (w ? tensorFrom(*w, DType::F64).data[i] : 1.0);
  // Float64 models round as torch does, up to the order of sums; float32
  // ones by float32's epsilon over a few roundings.
  const double tol = params ? 2e-5 : 1e-10;
  int compared = 0;
  for (const Buffer &r : results) {
    Tensor got = Tensor::filled(r.slot.shape, DType::F64);
    for (int64_t i = 0; i < r.slot.numel(); ++i)
      got.data[i] = r.at(i);
    const llvm::json::Value *want = nullptr;
    if (r.slot.role == Role::loss) {
      EXPECT_TRUE(close(got, Tensor({}, DType::F64, {loss}), tol)) << "loss";
      ++compared;
      continue;
    }
    if (r.slot.role == Role::input_grad && r.slot.name == "x")
      want = c.get("grad_x");
    else if (r.slot.role == Role::grad && params)
      want = c.getObject("grad_params")->get(r.slot.name);
    if (!want)
      continue;
    EXPECT_TRUE(close(got, tensorFrom(*want, DType::F64), tol))
        << "dloss/d" << r.slot.name;
    ++compared;
  }
  EXPECT_EQ(compared, 2 + (params ? (int)params->size() : 0));
}

INSTANTIATE_TEST_SUITE_P(Torch, FrontendGoldenJIT,
                         ::testing::ValuesIn(casesOf("frontend_goldens.json")),
                         [](const ::testing::TestParamInfo<Case> &i) {
                           return i.param.name;
                         });

} // namespace
