//===- GraftReference.cpp - Reference values for the C API tests ----------===//
//
//   graft-reference MODEL.graft [--seed S] [--dim N=V]
//
// Prints, one tensor a line (`<kind> <name> <count> <values...>`), what the
// library built by `graft compile` must reproduce for the same seed:
//   input   the inputs (random, from the seed: floats N(0,1)*2+1, labels
//           uniform over the class count of the last dimension of the first
//           float output)
//   param   the initial parameters (graft::eval::initTensor)
//   loss    the loss of forward_backward (graft's reference evaluator)
//   grad    each trainable parameter's gradient (the evaluator, derived
//           backward pass)
//   retained the gradient of each retain_grad'ed value
//   updated each trainable parameter after one optimizer step, from the
//           gradient by torch.optim's formulas for a first step (SGD with
//           momentum/dampening/nesterov/weight decay/maximize, Adam, AdamW,
//           Adadelta, Adagrad, RMSprop, Adamax, NAdam, RAdam;
//           computed here in f64, independently of the generated code)
//
//===----------------------------------------------------------------------===//

#include "graft/Autograd/Optimizer.h"
#include "graft/Autograd/Passes.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "graft/Evaluator/Evaluator.h"
#include "graft/Frontend/MLIRGen.h"
#include "graft/Pipelines/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;
using namespace graft;
namespace cl = llvm::cl;

static cl::OptionCategory category("graft-reference options");
static cl::opt<std::string> file(cl::Positional, cl::Required,
                                 cl::desc("<model.graft>"), cl::cat(category));
static cl::opt<uint64_t> seed("seed", cl::init(0),
                              cl::desc("Seed of the inputs and parameters"),
                              cl::cat(category));
static cl::list<std::string> dims("dim", cl::desc("NAME=VALUE"),
                                  cl::cat(category));

static int fail(const llvm::Twine &msg) {
  llvm::errs() << "graft-reference: error: " << msg << "\n";
  return 1;
}

static void print(llvm::StringRef kind, llvm::StringRef name,
                  const std::vector<double> &v) {
  llvm::outs() << kind << " " << name << " " << v.size();
  for (double x : v)
    llvm::outs() << " " << llvm::format("%.17g", x);
  llvm::outs() << "\n";
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // Its own options only, as LLVM's tools list theirs.
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "graft reference values\n");
  DialectRegistry registry;
  registerCodegenDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  llvm::SourceMgr sm;
  SourceMgrDiagnosticHandler handler(sm, &ctx);
  frontend::GenOptions options;
  for (const std::string &d : dims) {
    auto [n, v] = llvm::StringRef(d).split('=');
    int64_t value;
    if (v.getAsInteger(10, value))
      return fail("bad --dim " + d);
    options.dims.push_back({n.str(), value});
  }
  OwningOpRef<ModuleOp> module =
      frontend::compileFile(ctx, sm, file, options, llvm::errs());
  if (!module)
    return 1;
  auto models = module->getOps<ModelOp>();
  if (models.empty())
    return fail("no model");
  ModelOp model = *models.begin();
  TrainOp train;
  for (TrainOp t : model.getBody().getOps<TrainOp>())
    train = t;
  if (!train)
    return fail("the model has no train block");

  // The trainable parameters, resolved before the backward pass is added.
  SmallVector<ParamOp> trainable;
  for (ParamOp p : model.getBody().getOps<ParamOp>())
    if (!p.getFrozen())
      trainable.push_back(p);
  FailureOr<OptimizerConfig> config = OptimizerConfig::get(train, trainable);
  if (failed(config))
    return fail("invalid optimizer");
  if (config->accumulationSteps != 1 || config->clipGradNorm ||
      config->clipGradValue)
    return fail("gradient accumulation and clipping are not modelled here");

  // Inputs.
  int64_t classes = 0;
  for (OutputOp out : model.getBody().getOps<OutputOp>()) {
    auto t = cast<RankedTensorType>(out.getValue().getType());
    if (isa<FloatType>(t.getElementType()) && t.getRank() >= 1 && !classes)
      classes = t.getShape().back();
  }
  std::map<std::string, eval::Tensor> inputs;
  for (InputOp in : model.getBody().getOps<InputOp>()) {
    RankedTensorType type = in.getType();
    auto dt = graft::elementTypeOf(type.getElementType());
    eval::Tensor t = eval::Tensor::filled(type.getShape(), *dt);
    std::string key = ("input:" + in.getName()).str();
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (isa<FloatType>(type.getElementType()))
        t.data[i] = (float)(2.0 * eval::initNormal(seed, key, i) + 1.0);
      else
        t.data[i] = std::floor(eval::initUniform(seed, key, i) *
                               (double)std::max<int64_t>(classes, 1));
    }
    print("input", in.getName(), t.data);
    inputs[in.getName().str()] = t;
  }

  registerAutogradPasses();
  PassManager pm(&ctx);
  std::string errors;
  llvm::raw_string_ostream eos(errors);
  if (failed(parsePassPipeline("graft.model(graft-derive-backward)", pm, eos)) ||
      failed(pm.run(*module)))
    return fail("cannot derive the backward pass " + errors);

  eval::Evaluator ev(model, eval::Mode::Train, seed * 1000003ULL);
  for (auto &[n, t] : inputs)
    ev.setInput(n, t);
  // Parameters from `seed` (the evaluator's own seed is the step's seed).
  for (ParamOp p : model.getBody().getOps<ParamOp>()) {
    auto t = eval::initTensor(p.getInit(), p.getType(), seed, p.getName());
    if (!t)
      return fail(llvm::toString(t.takeError()));
    ev.setParam(p.getName(), *t);
    print("param", p.getName(), t->data);
  }
  if (llvm::Error e = ev.initParams())
    return fail(llvm::toString(std::move(e)));
  if (llvm::Error e = ev.run())
    return fail(llvm::toString(std::move(e)));
  auto loss = ev.loss();
  if (!loss)
    return fail("no loss");
  print("loss", "loss", loss->data);

  for (Operation &op : model.getBody().front())
    if (auto r = dyn_cast<RetainGradOp>(op))
      if (auto g = ev.gradient(r.getName()))
        print("retained", r.getName(), g->data);

  for (auto [i, cp] : llvm::enumerate(config->params)) {
    ParamOp p = cp;
    auto g = ev.gradient(p.getName());
    auto w = ev.param(p.getName());
    if (!g || !w)
      return fail("no gradient of " + p.getName());
    print("grad", p.getName(), g->data);
    const OptimizerGroup &grp = config->groups[config->groupOf[i]];
    std::vector<double> upd = w->data;
    for (size_t k = 0; k < upd.size(); ++k) {
      double gk = g->data[k], pk = w->data[k];
      if (grp.maximize)
        gk = -gk;
      // The first step, from zero state (Adagrad's sum from
      // initial_accumulator_value).
      switch (config->kind) {
      case OptimizerKind::sgd:
        gk += grp.weightDecay * pk;
        if (grp.momentum != 0) {
          double buf = gk; // the first step: no dampening
          gk = grp.nesterov ? gk + grp.momentum * buf : buf;
        }
        upd[k] = pk - grp.lr * gk;
        continue;
      case OptimizerKind::adadelta: {
        gk += grp.weightDecay * pk;
        double std = std::sqrt((1 - grp.rho) * gk * gk + grp.eps);
        upd[k] = pk - grp.lr * (std::sqrt(grp.eps) / std * gk);
        continue;
      }
      case OptimizerKind::adagrad: {
        gk += grp.weightDecay * pk;
        double sum = grp.initialAccumulator + gk * gk;
        upd[k] = pk - grp.lr * gk / (std::sqrt(sum) + grp.eps);
        continue;
      }
      case OptimizerKind::rmsprop: {
        gk += grp.weightDecay * pk;
        double square = (1 - grp.alpha) * gk * gk;
        double mean = grp.centered ? (1 - grp.alpha) * gk : 0;
        double avg = std::sqrt(square - mean * mean) + grp.eps;
        upd[k] = pk - grp.lr * (gk / avg); // with momentum: buf = gk / avg
        continue;
      }
      case OptimizerKind::adam:
      case OptimizerKind::adamw:
      case OptimizerKind::adamax:
      case OptimizerKind::nadam:
      case OptimizerKind::radam:
        break;
      }
      // The Adam family.
      if (config->kind == OptimizerKind::adamw || grp.decoupledWeightDecay)
        pk *= 1 - grp.lr * grp.weightDecay;
      else
        gk += grp.weightDecay * pk;
      double m = (1 - grp.beta1) * gk, v = (1 - grp.beta2) * gk * gk;
      double bias1 = 1 - grp.beta1, bias2 = 1 - grp.beta2;
      switch (config->kind) {
      case OptimizerKind::adamax: // exp_inf = |g| + eps
        upd[k] = pk - grp.lr / bias1 * (m / (std::fabs(gk) + grp.eps));
        break;
      case OptimizerKind::nadam: {
        auto mu = [&](double t) {
          return grp.beta1 * (1 - 0.5 * std::pow(0.96, t * grp.momentumDecay));
        };
        // mu_product = mu_1, so the gradient's coefficient is lr.
        double denom = std::sqrt(v / bias2) + grp.eps;
        upd[k] = pk - grp.lr * gk / denom -
                 grp.lr * mu(2) / (1 - mu(1) * mu(2)) * m / denom;
        break;
      }
      case OptimizerKind::radam: // rho_1 = 1 <= 5: no rectification
        upd[k] = pk - grp.lr * (m / bias1);
        break;
      default: {
        double denom = std::sqrt(v) / std::sqrt(bias2) + grp.eps;
        upd[k] = pk - grp.lr / bias1 * (m / denom);
      }
      }
    }
    print("updated", p.getName(), upd);
  }
  return 0;
}
