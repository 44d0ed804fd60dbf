//===- OptimizerTest.cpp - The optimizer step against torch.optim ---------===//
//
// Each golden case (test/golden/gen_optimizer_goldens.py) is a small model
// with a graft.train that torch.optim trained for 3 steps. The test runs
// graft-build-training-program, then drives the entry points in the
// reference evaluator exactly as a training loop would:
//  - @m_train_step once per step (zero_grad + forward + backward + step);
//  - @m_zero_grad, @m_forward_backward once per micro-batch, @m_step;
// and compares the loss, the parameters and the optimizer state after every
// step with PyTorch's: relative error at most 1e-5 in f32, 1e-12 in f64.
//
//===----------------------------------------------------------------------===//

#include "graft/Autograd/Optimizer.h"
#include "graft/Autograd/Passes.h"
#include "graft/Dialect/Graft/IR/GraftDialect.h"
#include "graft/Evaluator/Evaluator.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include "Goldens.h"
#include "GraftSource.h"
#include "gtest/gtest.h"

#include <cmath>
#include <map>
#include <set>

using namespace mlir;
using namespace graft;
using namespace graft::eval;
using namespace graft::goldens;

namespace {

std::vector<Case> cases() { return casesOf("optimizer_goldens.json"); }

/// Rows [begin, end) of a rank-2 tensor.
Tensor rows(const Tensor &t, int64_t begin, int64_t end) {
  Tensor r;
  r.dtype = t.dtype;
  r.shape = {end - begin, t.shape[1]};
  r.data.assign(t.data.begin() + begin * t.shape[1],
                t.data.begin() + end * t.shape[1]);
  return r;
}

/// The values a training loop holds, keyed by (role, name).
using Slots = std::map<std::pair<std::string, std::string>, Tensor>;

std::pair<std::string, std::string> slotOf(func::FuncOp fn, unsigned i,
                                           bool result) {
  auto attr = [&](StringRef n) {
    return result ? fn.getResultAttr(i, n) : fn.getArgAttr(i, n);
  };
  auto role = dyn_cast_or_null<RoleAttr>(attr(kRoleAttrName));
  auto name = dyn_cast_or_null<StringAttr>(attr(kNameAttrName));
  return {role ? stringifyRole(role.getValue()).str() : "?",
          name ? name.getValue().str() : "?"};
}

/// Calls `fn` with the slots its arguments name, and stores its results
/// into `slots` by their role and name.
llvm::Error call(Evaluator &ev, func::FuncOp fn, Slots &slots) {
  std::vector<Tensor> args;
  for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
    auto key = slotOf(fn, i, false);
    auto it = slots.find(key);
    if (it == slots.end())
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "no value for " + key.first + " " +
                                         key.second);
    args.push_back(it->second);
  }
  auto results = ev.runFunction(fn, args);
  if (!results)
    return results.takeError();
  for (unsigned i = 0; i < fn.getNumResults(); ++i)
    slots[slotOf(fn, i, true)] = (*results)[i];
  return llvm::Error::success();
}

/// Zeros for every argument of `fn` with `role` (the initial optimizer
/// state: torch's lazily created state is zeros, and the step count 0).
void zerosFor(func::FuncOp fn, StringRef role, Slots &slots) {
  for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
    auto key = slotOf(fn, i, false);
    if (key.first != role)
      continue;
    auto t = cast<RankedTensorType>(fn.getArgumentTypes()[i]);
    slots[key] =
        Tensor::filled(t.getShape(), *elementTypeOf(t.getElementType()));
  }
}

struct Program {
  MLIRContext ctx;
  OwningOpRef<ModuleOp> module;
  ModelOp model;
  TrainOp train;

  Program() {
    ctx.loadDialect<GraftDialect, func::FuncDialect>();
    ctx.getDiagEngine().registerHandler([&](Diagnostic &d) {
      diagnostics += d.str() + "\n";
      return success();
    });
  }
  std::string diagnostics;

  /// Parses `ir` and runs graft-build-training-program.
  bool build(llvm::StringRef ir) {
    module = parseSourceString<ModuleOp>(ir, &ctx);
    if (!module)
      return false;
    PassManager pm(&ctx);
    pm.addPass(createBuildTrainingProgram());
    if (failed(pm.run(*module)))
      return false;
    model = *module->getOps<ModelOp>().begin();
    for (TrainOp t : model.getBody().getOps<TrainOp>())
      train = t;
    return true;
  }
  func::FuncOp fn(StringRef suffix) {
    return module->lookupSymbol<func::FuncOp>(
        (model.getSymName() + "_" + suffix).str());
  }
  /// The optimizer configuration of the model (its trainable parameters
  /// that get a gradient are those @m_step takes).
  OptimizerConfig config() {
    SmallVector<ParamOp> trainable;
    func::FuncOp step = fn("step");
    for (unsigned i = 0; i < step.getNumArguments(); ++i)
      if (slotOf(step, i, false).first == "param")
        for (ParamOp p : model.getBody().getOps<ParamOp>())
          if (p.getName() == slotOf(step, i, false).second)
            trainable.push_back(p);
    return *OptimizerConfig::get(train, trainable);
  }
};

enum class Loop { TrainStep, ForwardBackwardStep };

class OptimizerGolden : public ::testing::TestWithParam<Case> {
protected:
  /// Trains the case's model for its golden steps with `loop` and compares
  /// with torch after each step. `resumeAfter` >= 0 rebuilds the program
  /// and a fresh evaluator after that many steps, carrying over only the
  /// explicit state (params, buffers, opt_state): a resumed run.
  void train(Loop loop, int resumeAfter = -1, Slots *finalSlots = nullptr);
};

void OptimizerGolden::train(Loop loop, int resumeAfter, Slots *finalSlots) {
  const llvm::json::Object &c = *GetParam().json;
  bool f64 = *c.getString("dtype") == "f64";
  DType dt = f64 ? DType::F64 : DType::F32;
  double tol = f64 ? 1e-12 : 1e-5;
  int64_t accumulation = *c.getInteger("accumulation");
  std::string ir = c.getString("ir")->str();

  auto program = std::make_unique<Program>();
  ASSERT_TRUE(program->build(ir)) << program->diagnostics;
  auto ev = std::make_unique<Evaluator>(program->model, Mode::Train, 0);
  OptimizerConfig config = program->config();

  Slots slots;
  std::map<std::string, Tensor> init;
  for (const auto &[name, t] : *c.getObject("init")) {
    init[name.str()] = tensorFrom(t, dt);
    slots[{"param", name.str()}] = init[name.str()];
  }
  slots[{"seed", "seed"}] = Tensor({}, DType::I64, {0});
  zerosFor(program->fn("step"), "opt_state", slots);

  const llvm::json::Array &steps = *c.getArray("steps");
  for (auto [s, stepValue] : llvm::enumerate(steps)) {
    SCOPED_TRACE("step " + std::to_string(s + 1));
    if (static_cast<int>(s) == resumeAfter) {
      // A checkpoint is the explicit state; nothing else survives.
      Slots saved;
      for (auto &[key, t] : slots)
        if (key.first == "param" || key.first == "buffer" ||
            key.first == "opt_state")
          saved[key] = t;
      saved[{"seed", "seed"}] = slots[{"seed", "seed"}];
      slots = std::move(saved);
      program = std::make_unique<Program>();
      ASSERT_TRUE(program->build(ir)) << program->diagnostics;
      ev = std::make_unique<Evaluator>(program->model, Mode::Train, 0);
    }
    const llvm::json::Object &step = *stepValue.getAsObject();
    // The learning rates: each group's, from the schedule on the host; they
    // must be torch's.
    const llvm::json::Array &lrs = *step.getArray("lrs");
    ASSERT_EQ(lrs.size(), config.groups.size());
    for (auto [g, group] : llvm::enumerate(config.groups)) {
      double lr = scheduledLR(program->train, s, group.lr);
      EXPECT_NEAR(lr, *lrs[g].getAsNumber(), 1e-15) << group.lrName;
      slots[{"hyper", group.lrName}] = Tensor({}, DType::F64, {lr});
    }
    Tensor x = tensorFrom(*step.get("x"), dt), y = tensorFrom(*step.get("y"), dt);
    double loss;
    if (loop == Loop::TrainStep) {
      slots[{"input", "x"}] = x;
      slots[{"input", "y"}] = y;
      ASSERT_FALSE(llvm::errorToBool(
          call(*ev, program->fn("train_step"), slots)));
      loss = slots[{"loss", "loss"}].data[0];
    } else {
      ASSERT_FALSE(llvm::errorToBool(
          call(*ev, program->fn("zero_grad"), slots)));
      int64_t b = x.shape[0] / accumulation;
      loss = 0;
      for (int64_t k = 0; k < accumulation; ++k) {
        slots[{"input", "x"}] = rows(x, k * b, (k + 1) * b);
        slots[{"input", "y"}] = rows(y, k * b, (k + 1) * b);
        ASSERT_FALSE(llvm::errorToBool(
            call(*ev, program->fn("forward_backward"), slots)));
        loss += slots[{"loss", "loss"}].data[0];
      }
      // The mean of equal micro-batches' mean losses is the batch's.
      loss /= accumulation;
      if (accumulation > 1)
        slots[{"hyper", "accumulation_steps"}] =
            Tensor({}, DType::F64, {(double)accumulation});
      ASSERT_FALSE(llvm::errorToBool(call(*ev, program->fn("step"), slots)));
    }
    EXPECT_TRUE(close(Tensor({}, dt, {loss}),
                      Tensor({}, dt, {*step.getNumber("loss")}), tol))
        << "loss";

    for (const auto &[name, t] : *step.getObject("params"))
      EXPECT_TRUE(close(slots[{"param", name.str()}], tensorFrom(t, dt), tol))
          << name.str();
    // torch's state keys, with its per-parameter `step` as the one count.
    std::set<std::string> ours;
    for (auto &[key, t] : slots)
      if (key.first == "opt_state" && key.second != "step")
        ours.insert(key.second);
    std::set<std::string> theirs;
    for (const auto &[key, t] : *step.getObject("state")) {
      llvm::StringRef k = key;
      Tensor want = tensorFrom(t, DType::F64);
      if (k.ends_with(".step")) {
        EXPECT_EQ((slots[{"opt_state", "step"}].data[0]), want.data[0]) << k.str();
        continue;
      }
      theirs.insert(k.str());
      const Tensor &got = slots[{"opt_state", k.str()}];
      EXPECT_TRUE(close(got, tensorFrom(t, got.dtype), tol)) << k.str();
    }
    EXPECT_EQ(ours, theirs) << "optimizer state keys";
    EXPECT_EQ((slots[{"opt_state", "step"}].data[0]), static_cast<double>(s + 1));
  }
  // The frozen parameter is never written: still the initial value.
  EXPECT_EQ((slots[{"param", "fc2.bias"}].data), init["fc2.bias"].data);
  if (finalSlots)
    *finalSlots = slots;
}

TEST_P(OptimizerGolden, TrainStep) {
  if (*GetParam().json->getInteger("accumulation") != 1)
    GTEST_SKIP() << "train_step takes one batch; accumulation is "
                    "forward_backward x N + step (ForwardBackwardStep)";
  train(Loop::TrainStep);
}

TEST_P(OptimizerGolden, ForwardBackwardStep) {
  train(Loop::ForwardBackwardStep);
}

/// A run resumed from its explicit state after one step ends bit-identical
/// to the uninterrupted run.
TEST_P(OptimizerGolden, ResumeIsBitIdentical) {
  Slots straight, resumed;
  train(Loop::ForwardBackwardStep, -1, &straight);
  train(Loop::ForwardBackwardStep, 1, &resumed);
  for (auto &[key, t] : straight) {
    if (key.first == "param" || key.first == "opt_state") {
      EXPECT_EQ(t.data, resumed[key].data) << key.first << " " << key.second;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(TorchOptim, OptimizerGolden,
                         ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case> &i) {
                           return i.param.name;
                         });

TEST(OptimizerGoldens, Present) {
  // Every optimizer option of issue 6 has a case, in both dtypes.
  std::set<std::string> names;
  for (const Case &c : cases())
    names.insert(c.name);
  for (const char *n :
       {"sgd_plain",          "sgd_momentum",      "sgd_dampening",
        "sgd_nesterov",       "sgd_weight_decay",  "sgd_maximize",
        "adam_plain",         "adam_weight_decay", "adam_amsgrad",
        "adam_maximize",      "adamw_plain",       "adamw_amsgrad",
        "adamw_groups",       "sgd_groups",        "sgd_clip_norm",
        "adam_clip_norm_inf", "sgd_clip_value",    "sgd_accumulation",
        "adam_accumulation",  "adam_steplr",       "sgd_linearlr",
        "adamax_plain",       "adamax_options",    "nadam_plain",
        "nadam_options",      "nadam_decoupled",   "radam_plain",
        "radam_options",      "radam_decoupled"})
    for (const char *dt : {"_f32", "_f64"})
      EXPECT_TRUE(names.count(std::string(n) + dt)) << n << dt;
}

/// The program's signatures: frozen parameters are never optimizer
/// arguments or results, and have no gradient or state.
TEST(OptimizerProgram, FrozenParameterHasNoGradientOrState) {
  ASSERT_FALSE(cases().empty());
  Program p;
  ASSERT_TRUE(p.build(*cases().front().json->getString("ir")))
      << p.diagnostics;
  for (StringRef f : {"step", "train_step", "forward_backward", "zero_grad"}) {
    func::FuncOp fn = p.fn(f);
    ASSERT_TRUE(fn) << f.str();
    for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
      auto [role, name] = slotOf(fn, i, false);
      if (name.rfind("fc2.bias", 0) == 0) {
        EXPECT_TRUE(f != "step" && role == "param")
            << f.str() << " takes " << role << " " << name;
      }
    }
    for (unsigned i = 0; i < fn.getNumResults(); ++i)
      EXPECT_NE(slotOf(fn, i, true).second.rfind("fc2.bias", 0), 0u)
          << f.str() << " returns " << slotOf(fn, i, true).second;
  }
}

TEST(OptimizerProgram, ParamPatterns) {
  EXPECT_TRUE(matchParamPattern("*.bias", "fc1.bias"));
  EXPECT_FALSE(matchParamPattern("*.bias", "fc1.bias_x"));
  EXPECT_TRUE(matchParamPattern("*ln*.weight", "blocks.0.ln1.weight"));
  EXPECT_FALSE(matchParamPattern("*ln*.weight", "blocks.0.ln1.bias"));
  EXPECT_TRUE(matchParamPattern("fc1.weight", "fc1.weight"));
  EXPECT_FALSE(matchParamPattern("fc1", "fc1.weight"));
  EXPECT_TRUE(matchParamPattern("*", "anything"));
  EXPECT_TRUE(matchParamPattern("a*b*a", "aba"));
  EXPECT_FALSE(matchParamPattern("a*b*a", "ab"));
}

/// scheduledLR against torch.optim.lr_scheduler's get_last_lr() over 13
/// epochs of each schedule.
TEST(LRSchedules, MatchTorch) {
  const llvm::json::Array &schedules =
      goldenArray("optimizer_goldens.json", "schedules");
  ASSERT_GE(schedules.size(), 4u);
  for (const llvm::json::Value &v : schedules) {
    const llvm::json::Object &s = *v.getAsObject();
    std::string train = s.getString("train")->str();
    SCOPED_TRACE(train);
    Program p;
    std::string ir = "graft.model @s {\n"
                     "  %w = graft.param \"w\" init <zeros> : tensor<1xf64>\n"
                     "  %l = graft.sum %w : tensor<1xf64> -> tensor<f64>\n"
                     "  graft.loss %l : tensor<f64>\n  " +
                     train + "\n}\n";
    ASSERT_TRUE(p.build(ir)) << p.diagnostics;
    double base = *s.getNumber("base_lr");
    for (auto [epoch, want] : llvm::enumerate(*s.getArray("lrs"))) {
      double got = scheduledLR(p.train, epoch, base);
      double w = *want.getAsNumber();
      EXPECT_LE(std::fabs(got - w), 1e-12 * std::max(std::fabs(w), 1e-3 * base))
          << "epoch " << epoch << ": " << got << " vs torch " << w;
    }
  }
}

/// LambdaLR: a schedule function of the model file (lambda or def,
/// translated by the front-end into graft.train's lr_lambda) against
/// torch.optim.lr_scheduler.LambdaLR running the same function in Python
/// (test/golden/gen_host_schedule_goldens.py), over 40 steps.
TEST(LRSchedules, LambdaLRMatchesTorch) {
  const llvm::json::Array &cases =
      goldenArray("host_schedule_goldens.json", "lambda");
  ASSERT_GE(cases.size(), 6u);
  for (const llvm::json::Value &v : cases) {
    const llvm::json::Object &c = *v.getAsObject();
    std::string source = c.getString("source")->str();
    SCOPED_TRACE(source);
    MLIRContext ctx;
    ctx.loadDialect<GraftDialect, func::FuncDialect>();
    std::string errors;
    OwningOpRef<ModuleOp> module = compileGraftSource(ctx, source, errors);
    ASSERT_TRUE(module) << errors;
    TrainOp train;
    module->walk([&](TrainOp t) { train = t; });
    ASSERT_TRUE(train);
    double base = *c.getNumber("base_lr");
    for (auto [n, want] : llvm::enumerate(*c.getArray("lrs"))) {
      double got = scheduledLR(train, n, base);
      double w = *want.getAsNumber();
      EXPECT_LE(std::fabs(got - w), 1e-15 * std::max(std::fabs(w), base))
          << "step " << n << ": " << got << " vs torch " << w;
    }
  }
}

/// ReduceLROnPlateau: graft::Plateau stepped with the metrics torch's was
/// stepped with, over two groups: the rates and the state after each step.
TEST(LRSchedules, PlateauMatchesTorch) {
  const llvm::json::Array &cases =
      goldenArray("host_schedule_goldens.json", "plateau");
  ASSERT_GE(cases.size(), 6u);
  MLIRContext ctx;
  Builder b(&ctx);
  for (const llvm::json::Value &v : cases) {
    const llvm::json::Object &c = *v.getAsObject();
    SmallVector<NamedAttribute> opts = {
        b.getNamedAttr("kind", b.getStringAttr("ReduceLROnPlateau"))};
    std::string trace;
    for (const auto &[k, o] : *c.getObject("options")) {
      trace += k.str() + " ";
      if (std::optional<llvm::StringRef> s = o.getAsString())
        opts.push_back(b.getNamedAttr(k, b.getStringAttr(*s)));
      else
        opts.push_back(b.getNamedAttr(k, b.getF64FloatAttr(*o.getAsNumber())));
    }
    SCOPED_TRACE(trace);
    LRSchedule s = LRSchedule::get(b.getDictionaryAttr(opts));
    ASSERT_EQ(s.kind, LRSchedule::Kind::ReduceLROnPlateau);
    std::vector<double> lrs;
    for (const llvm::json::Value &lr : *c.getArray("base_lrs"))
      lrs.push_back(*lr.getAsNumber());
    for (auto [i, m] : llvm::enumerate(*c.getArray("metrics"))) {
      s.plateau.step(*m.getAsNumber(), lrs);
      const llvm::json::Object &want = *(*c.getArray("steps"))[i].getAsObject();
      for (auto [got, w] : llvm::zip(lrs, *want.getArray("lrs")))
        EXPECT_DOUBLE_EQ(got, *w.getAsNumber()) << "step " << i;
      EXPECT_EQ(s.plateau.best, *want.getNumber("best")) << "step " << i;
      EXPECT_EQ(s.plateau.badEpochs, *want.getInteger("bad_epochs"))
          << "step " << i;
      EXPECT_EQ(s.plateau.cooldownCounter, *want.getInteger("cooldown"))
          << "step " << i;
    }
  }
}

} // namespace
