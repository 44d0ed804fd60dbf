//===- OptimizerJITTest.cpp - Generated optimizer steps against torch.optim
//===//
//
// The optimizer goldens of OptimizerTest.cpp, run through the code
// generator instead of the evaluator: each case's model is compiled for
// the host CPU and its @m_train_step called once per golden step, as a
// training loop built on the C API would (parameters and optimizer state
// carried from one call's results to the next, the learning rate from the
// host's schedule). The loss, the parameters and the optimizer state after
// every step must be torch.optim's.
//
//===----------------------------------------------------------------------===//

#include "graft/Autograd/Optimizer.h"
#include "graft/Pipelines/Pipelines.h"
#include "graft/Target/JIT.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include "Goldens.h"
#include "JITBuffer.h"
#include "gtest/gtest.h"

#include <cstring>
#include <map>

using namespace mlir;
using namespace graft;
using namespace graft::goldens;

namespace {

std::vector<Case> cases() { return casesOf("optimizer_goldens.json"); }

/// The cases one call of @m_train_step per step covers: accumulation
/// splits a step into several calls of @m_forward_backward.
std::vector<Case> trainStepCases() {
  std::vector<Case> out;
  for (const Case &c : cases())
    if (*c.json->getInteger("accumulation") == 1)
      out.push_back(c);
  return out;
}

Tensor asTensor(const Buffer &b, DType dt) {
  Tensor t = Tensor::filled(b.slot.shape, dt);
  for (int64_t i = 0; i < b.slot.numel(); ++i)
    t.data[i] = b.at(i);
  return t;
}

class OptimizerJIT : public ::testing::TestWithParam<Case> {};

TEST_P(OptimizerJIT, TrainStepMatchesTorch) {
  const llvm::json::Object &c = *GetParam().json;
  bool f64 = *c.getString("dtype") == "f64";
  DType dt = f64 ? DType::F64 : DType::F32;
  // OptimizerTest's tolerances: the generated code rounds op for op.
  double tol = f64 ? 1e-12 : 1e-5;

  DialectRegistry registry;
  registerCodegenDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(*c.getString("ir"), &ctx);
  ASSERT_TRUE(module);
  ModelOp model = *module->getOps<ModelOp>().begin();
  std::string name = model.getSymName().str();
  TrainOp train = *model.getBody().getOps<TrainOp>().begin();
  std::optional<LRSchedule> schedule = LRSchedule::get(train);
  double baseLR = train.getLr().convertToDouble();

  auto jitOr = JITModel::compile(*module);
  ASSERT_TRUE((bool)jitOr) << llvm::toString(jitOr.takeError());
  JITModel &jit = **jitOr;
  const EntryPoint *step = jit.entryPoint(name + "_train_step");
  ASSERT_NE(step, nullptr);

  // What the loop carries between calls, by (role, name): the parameters
  // from the case's initial values, the optimizer state from zeros.
  std::map<std::pair<Role, std::string>, Tensor> carried;
  for (const auto &[n, t] : *c.getObject("init"))
    carried[{Role::param, n.str()}] = tensorFrom(t, dt);

  const llvm::json::Array &steps = *c.getArray("steps");
  for (auto [s, stepValue] : llvm::enumerate(steps)) {
    SCOPED_TRACE("step " + std::to_string(s + 1));
    const llvm::json::Object &golden = *stepValue.getAsObject();
    const llvm::json::Array &lrs = *golden.getArray("lrs");
    std::vector<Buffer> args;
    for (const TensorSlot &slot : step->args) {
      args.emplace_back(slot);
      Buffer &b = args.back();
      auto it = carried.find({slot.role, slot.name});
      if (it != carried.end()) {
        b.set(it->second);
      } else if (slot.role == Role::input) {
        b.set(tensorFrom(*golden.get(slot.name), dt));
      } else if (slot.role == Role::hyper) {
        // `lr` or `group<i>.lr`: the group's base lr, scheduled.
        unsigned g = 0;
        if (StringRef(slot.name).starts_with("group")) {
          ASSERT_FALSE(
              StringRef(slot.name).drop_front(5).consumeInteger(10, g));
        }
        ASSERT_LT(g, lrs.size());
        double lr = *lrs[g].getAsNumber();
        if (g == 0 && schedule) {
          EXPECT_NEAR(scheduledLR(*schedule, s, baseLR), lr, 1e-15);
        }
        b.set(Tensor({}, DType::F64, {lr}));
      } else {
        // The optimizer state and step count before the first step, the
        // gradient accumulators (zeroed by the step itself), the seed.
        std::memset(b.bytes.data(), 0, b.bytes.size());
      }
    }
    auto called = callEntry(jit, *step, args);
    ASSERT_TRUE((bool)called) << llvm::toString(called.takeError());
    std::vector<Buffer> &results = *called;

    const llvm::json::Object &state = *golden.getObject("state");
    for (const Buffer &r : results) {
      Tensor got = asTensor(r, dt);
      if (r.slot.role == Role::loss) {
        EXPECT_TRUE(
            close(got, Tensor({}, dt, {*golden.getNumber("loss")}), tol))
            << "loss";
        continue;
      }
      if (r.slot.role != Role::param && r.slot.role != Role::opt_state)
        continue;
      carried[{r.slot.role, r.slot.name}] = got;
      if (r.slot.role == Role::param) {
        EXPECT_TRUE(close(
            got, tensorFrom(*golden.getObject("params")->get(r.slot.name), dt),
            tol))
            << r.slot.name;
      } else if (r.slot.name == stepStateName) {
        EXPECT_EQ(got.data[0], static_cast<double>(s + 1));
      } else {
        const llvm::json::Value *want = state.get(r.slot.name);
        ASSERT_NE(want, nullptr) << "torch has no state " << r.slot.name;
        EXPECT_TRUE(
            close(got,
                  tensorFrom(*want,
                             r.slot.type == ElementType::F32 ? DType::F32 : dt),
                  tol))
            << r.slot.name;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(TorchOptim, OptimizerJIT,
                         ::testing::ValuesIn(trainStepCases()),
                         [](const ::testing::TestParamInfo<Case> &i) {
                           return i.param.name;
                         });

} // namespace
