//===- TrainingProgram.cpp - The entry points of a model's training -------===//
//
// Builds func.func entry points from a graft.model: forward_backward,
// zero_grad, eval and predict, and for a model with a `graft.train` the
// optimizer step and the fused train_step (see the pass description in
// Passes.td and docs/Optimizers.md). The model's declarations become
// arguments, its marks become results.
//
//===----------------------------------------------------------------------===//

#include "graft/Autograd/Backward.h"
#include "graft/Autograd/Optimizer.h"
#include "graft/Autograd/Passes.h"
#include "graft/Autograd/RequiresGrad.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;

namespace graft {
#define GEN_PASS_DEF_BUILDTRAININGPROGRAM
#include "graft/Autograd/Passes.h.inc"
} // namespace graft

using namespace graft;

namespace {
enum class Mode { Train, Eval };

/// An entry point under construction: a function whose arguments and
/// results carry a role and a state_dict name. Its type is set by finish().
class EntryPoint {
public:
  EntryPoint(OpBuilder &b, Location loc, StringRef name) : loc(loc) {
    fn = func::FuncOp::create(b, loc, name, b.getFunctionType({}, {}));
    fn.getBody().push_back(new Block());
  }

  Value arg(Role role, StringRef name, Type type) {
    argSlots.push_back({role, name.str()});
    return getBody()->addArgument(type, loc);
  }
  void result(Role role, StringRef name, Value v) {
    resultSlots.push_back({role, name.str()});
    results.push_back(v);
  }
  Block *getBody() { return &fn.getBody().front(); }

  func::FuncOp finish(StringRef mode) {
    OpBuilder b = OpBuilder::atBlockEnd(getBody());
    func::ReturnOp::create(b, loc, results);
    fn.setFunctionType(b.getFunctionType(getBody()->getArgumentTypes(),
                                         ValueRange(results).getTypes()));
    for (auto [i, s] : llvm::enumerate(argSlots)) {
      fn.setArgAttr(i, kRoleAttrName, RoleAttr::get(b.getContext(), s.first));
      fn.setArgAttr(i, kNameAttrName, b.getStringAttr(s.second));
    }
    for (auto [i, s] : llvm::enumerate(resultSlots)) {
      fn.setResultAttr(i, kRoleAttrName,
                       RoleAttr::get(b.getContext(), s.first));
      fn.setResultAttr(i, kNameAttrName, b.getStringAttr(s.second));
    }
    if (!mode.empty())
      fn->setAttr(GraftDialect::ModeAttrHelper::getNameStr(),
                  b.getStringAttr(mode));
    return fn;
  }

private:
  Location loc;
  func::FuncOp fn;
  SmallVector<std::pair<Role, std::string>> argSlots, resultSlots;
  SmallVector<Value> results;
};

/// What cloning a model's body into an entry point yields.
struct Cloned {
  Value loss;
  SmallVector<std::pair<StringRef, Value>> outputs;
  llvm::StringMap<Value> gradients;
  /// Buffers that train mode updates: model buffer -> new value.
  llvm::DenseMap<Value, Value> newBuffers;
};

/// A parameter or buffer at the end of the body, as mapped into an entry
/// point: its version updated in place (`latest`: latestStateVersions),
/// else the declaration's.
Value endValue(const llvm::DenseMap<Value, Value> &latest, IRMapping &map,
               Value decl) {
  Value v = latest.lookup(decl);
  return map.lookup(v ? v : decl);
}

Value scalarConstant(OpBuilder &b, Location loc, double v, Type elt) {
  auto t = RankedTensorType::get({}, elt);
  return ConstantOp::create(
      b, loc, DenseElementsAttr::get(t, ArrayRef<Attribute>{FloatAttr::get(elt, v)}));
}

/// Emits BatchNorm's train-mode running-statistics update after `bn` and
/// records the new buffer values (running_mean, running_var and, when the
/// module has one, num_batches_tracked).
void updateRunningStats(OpBuilder &b, BatchNormOp bn, ModelOp from,
                        IRMapping &map, Cloned &out) {
  Location loc = bn.getLoc();
  Value x = bn.getInput();
  auto xt = cast<RankedTensorType>(x.getType());
  Type elt = xt.getElementType();
  SmallVector<int64_t> dims = {0};
  for (int64_t d = 2; d < xt.getRank(); ++d)
    dims.push_back(d);
  int64_t n = xt.getNumElements() / xt.getDimSize(1);
  double m = bn.getMomentum().convertToDouble();

  // The unbiased variance, as torch.nn.BatchNorm keeps.
  Value meanK = MeanOp::create(b, loc, x, dims, /*keepdim=*/true);
  Value centered = SubOp::create(b, loc, x, meanK);
  Value sq = MulOp::create(b, loc, centered, centered);
  Value var =
      DivOp::create(b, loc, SumOp::create(b, loc, sq, dims, false),
                    scalarConstant(b, loc, (double)std::max<int64_t>(n - 1, 1), elt));
  Value mean = MeanOp::create(b, loc, x, dims, /*keepdim=*/false);
  auto update = [&](Value running, Value stat) -> Value {
    Value kept = MulOp::create(b, loc, running, scalarConstant(b, loc, 1 - m, elt));
    return AddOp::create(b, loc, kept,
                         MulOp::create(b, loc, stat, scalarConstant(b, loc, m, elt)));
  };
  for (BufferOp buf : from.getBody().getOps<BufferOp>()) {
    Value arg = map.lookup(buf.getResult());
    if (arg == bn.getRunningMean()) {
      out.newBuffers[buf.getResult()] = update(arg, mean);
      // num_batches_tracked beside running_mean counts the updates.
      std::string count =
          (buf.getName().drop_back(strlen("running_mean")) + "num_batches_tracked")
              .str();
      for (BufferOp c : from.getBody().getOps<BufferOp>()) {
        if (c.getName() != count || !buf.getName().ends_with("running_mean"))
          continue;
        Value cv = map.lookup(c.getResult());
        auto f64 = RankedTensorType::get(c.getType().getShape(), b.getF64Type());
        Value next = AddOp::create(b, loc, CastOp::create(b, loc, f64, cv),
                                   scalarConstant(b, loc, 1.0, b.getF64Type()));
        out.newBuffers[c.getResult()] = CastOp::create(b, loc, cv.getType(), next);
      }
    } else if (arg == bn.getRunningVar()) {
      out.newBuffers[buf.getResult()] = update(arg, var);
    }
  }
}

/// Clones the compute ops of `from` into `body` (declarations must already
/// be mapped), specialised for `mode`.
Cloned cloneBody(ModelOp from, Block *body, IRMapping &map, Mode mode) {
  Cloned out;
  OpBuilder b = OpBuilder::atBlockEnd(body);
  for (Operation &op : from.getBody().front()) {
    if (isa<ParamOp, BufferOp, InputOp, RetainGradOp, ReadGradOp, TrainOp>(op))
      continue;
    if (auto l = dyn_cast<LossOp>(op)) {
      out.loss = map.lookup(l.getValue());
      continue;
    }
    if (auto o = dyn_cast<OutputOp>(op)) {
      out.outputs.push_back({o.getName(), map.lookup(o.getValue())});
      continue;
    }
    if (auto g = dyn_cast<GradientOp>(op)) {
      out.gradients[g.getName()] = map.lookup(g.getValue());
      continue;
    }
    if (auto d = dyn_cast<DropoutOp>(op); d && mode == Mode::Eval) {
      map.map(d.getResult(), map.lookup(d.getInput()));
      continue;
    }
    Operation *clone = b.clone(op, map);
    if (auto bn = dyn_cast<BatchNormOp>(clone)) {
      bn.setTraining(mode == Mode::Train);
      if (mode == Mode::Train)
        updateRunningStats(b, bn, from, map, out);
    }
  }
  return out;
}

class ProgramBuilder {
public:
  explicit ProgramBuilder(ModelOp model) : model(model), b(model) {
    b.setInsertionPointAfter(model);
  }

  LogicalResult build() {
    TrainOp train;
    for (TrainOp t : model.getBody().getOps<TrainOp>())
      train = t;
    if (train && !model.getLoss())
      return train.emitOpError()
             << "needs a loss to train: mark one with graft.loss";
    if (model.getLoss() && failed(buildForwardBackward()))
      return failure();
    if (model.getLoss())
      buildZeroGrad();
    if (train) {
      FailureOr<OptimizerConfig> config = OptimizerConfig::get(train, gradParams);
      if (failed(config))
        return failure();
      buildStep(*config);
      if (failed(buildTrainStep(*config)))
        return failure();
    }
    buildEval(/*predict=*/false);
    buildEval(/*predict=*/true);
    return success();
  }

private:
  std::string name(StringRef suffix) {
    return (model.getSymName() + "_" + suffix).str();
  }

  /// Maps every parameter, then every buffer, of `from` to new arguments.
  static void addState(EntryPoint &ep, ModelOp from, IRMapping &map) {
    for (ParamOp p : from.getBody().getOps<ParamOp>())
      map.map(p.getResult(), ep.arg(Role::param, p.getName(), p.getType()));
    for (BufferOp bu : from.getBody().getOps<BufferOp>())
      map.map(bu.getResult(), ep.arg(Role::buffer, bu.getName(), bu.getType()));
  }
  static void addInputs(EntryPoint &ep, ModelOp from, IRMapping &map) {
    for (InputOp in : from.getBody().getOps<InputOp>())
      map.map(in.getResult(), ep.arg(Role::input, in.getName(), in.getType()));
  }

  /// Results for the parameters and buffers of `from` that its body updates
  /// in place (under no_grad, inference or through a detach alias; `latest`
  /// is latestStateVersions(from)) and whose declarations `ep` does not
  /// return already: the update persists, as in PyTorch.
  static void addUpdatedState(EntryPoint &ep, ModelOp from, IRMapping &map,
                              const llvm::DenseMap<Value, Value> &latest,
                              const llvm::DenseSet<Value> &returned);
  /// Buffer results: train mode's new running statistics, else the value at
  /// the end of the body (updated in place, or as it came in).
  static void addBufferResults(EntryPoint &ep, ModelOp from, IRMapping &map,
                               const Cloned &c,
                               const llvm::DenseMap<Value, Value> &latest,
                               llvm::DenseSet<Value> &returned);

  LogicalResult buildForwardBackward();
  void buildZeroGrad();
  void buildStep(const OptimizerConfig &config);
  LogicalResult buildTrainStep(const OptimizerConfig &config);
  /// Adds the optimizer state arguments (`step`, then each parameter's
  /// state keys) to `ep` and stores them in `v`.
  static void addOptState(EntryPoint &ep, const OptimizerConfig &config,
                          StepValues &v);
  /// Adds one learning-rate argument per group.
  static void addHyper(EntryPoint &ep, const OptimizerConfig &config,
                       StepValues &v);
  /// Adds the step's results: the new optimizer state.
  static void addOptStateResults(EntryPoint &ep, const OptimizerConfig &config,
                                 const StepValues &v);
  void buildEval(bool predict);

  ModelOp model;
  OpBuilder b;
  /// Trainable parameters that get a gradient: the gradient buffers (the
  /// model's declarations, in model order).
  SmallVector<ParamOp> gradParams;
  /// Inputs that require grad and get a gradient (accumulated likewise).
  SmallVector<InputOp> gradInputs;
};
} // namespace

LogicalResult ProgramBuilder::buildForwardBackward() {
  // Differentiate a copy: the model itself stays mode- and backward-free.
  OpBuilder tb(model);
  auto copy = cast<ModelOp>(tb.clone(*model));
  llvm::scope_exit eraseCopy([&] { copy->erase(); });
  if (failed(deriveBackward(copy)))
    return failure();

  llvm::StringSet<> hasGradient;
  for (auto g : copy.getBody().getOps<GradientOp>())
    hasGradient.insert(g.getName());

  EntryPoint ep(b, model.getLoc(), name("forward_backward"));
  IRMapping map;
  addState(ep, copy, map);
  SmallVector<std::pair<ParamOp, Value>> gradArgs;
  for (ParamOp p : copy.getBody().getOps<ParamOp>())
    if (!p.getFrozen() && hasGradient.contains(p.getName()))
      gradArgs.push_back({p, ep.arg(Role::grad, p.getName(), p.getType())});
  addInputs(ep, copy, map);
  // Inputs that require grad are leaves: their .grad accumulates across
  // backward calls as a parameter's does (and zero_grad clears it).
  SmallVector<std::pair<InputOp, Value>> inputGradArgs;
  for (InputOp in : copy.getBody().getOps<InputOp>())
    if (in.getRequiresGrad() && hasGradient.contains(in.getName()))
      inputGradArgs.push_back(
          {in, ep.arg(Role::input_grad, in.getName(), in.getType())});
  ep.arg(Role::seed, "seed", RankedTensorType::get({}, b.getI64Type()));

  Cloned c = cloneBody(copy, ep.getBody(), map, Mode::Train);
  OpBuilder ib = OpBuilder::atBlockEnd(ep.getBody());
  ep.result(Role::loss, "loss", c.loss);
  for (auto [p, acc] : gradArgs)
    ep.result(Role::grad, p.getName(),
              AddOp::create(ib, p.getLoc(), acc, c.gradients[p.getName()]));
  llvm::DenseMap<Value, Value> latest = latestStateVersions(copy);
  llvm::DenseSet<Value> returned;
  addBufferResults(ep, copy, map, c, latest, returned);
  addUpdatedState(ep, copy, map, latest, returned);
  for (auto [in, acc] : inputGradArgs)
    ep.result(Role::input_grad, in.getName(),
              AddOp::create(ib, in.getLoc(), acc, c.gradients[in.getName()]));
  for (Operation &op : copy.getBody().front()) {
    StringRef retained;
    if (auto r = dyn_cast<RetainGradOp>(op))
      retained = r.getName();
    else if (auto r = dyn_cast<ReadGradOp>(op))
      retained = r.getName();
    if (!retained.empty() && c.gradients.count(retained))
      ep.result(Role::retained_grad, retained, c.gradients[retained]);
  }
  ep.finish("train");
  // The copy is erased on return: keep the model's own declarations.
  llvm::StringMap<ParamOp> own;
  for (ParamOp p : model.getBody().getOps<ParamOp>())
    own[p.getName()] = p;
  for (auto [p, acc] : gradArgs)
    gradParams.push_back(own.lookup(p.getName()));
  llvm::StringMap<InputOp> ownInputs;
  for (InputOp in : model.getBody().getOps<InputOp>())
    ownInputs[in.getName()] = in;
  for (auto [in, acc] : inputGradArgs)
    gradInputs.push_back(ownInputs.lookup(in.getName()));
  return success();
}

void ProgramBuilder::addBufferResults(
    EntryPoint &ep, ModelOp from, IRMapping &map, const Cloned &c,
    const llvm::DenseMap<Value, Value> &latest,
    llvm::DenseSet<Value> &returned) {
  for (BufferOp bu : from.getBody().getOps<BufferOp>()) {
    Value v = c.newBuffers.lookup(bu.getResult());
    ep.result(Role::buffer, bu.getName(),
              v ? v : endValue(latest, map, bu.getResult()));
    returned.insert(bu.getResult());
  }
}

void ProgramBuilder::addUpdatedState(EntryPoint &ep, ModelOp from,
                                     IRMapping &map,
                                     const llvm::DenseMap<Value, Value> &latest,
                                     const llvm::DenseSet<Value> &returned) {
  auto add = [&](Role role, StringRef name, Value decl) {
    Value v = latest.lookup(decl);
    if (v && !returned.contains(decl))
      ep.result(role, name, map.lookup(v));
  };
  for (ParamOp p : from.getBody().getOps<ParamOp>())
    add(Role::param, p.getName(), p.getResult());
  for (BufferOp bu : from.getBody().getOps<BufferOp>())
    add(Role::buffer, bu.getName(), bu.getResult());
}

void ProgramBuilder::buildZeroGrad() {
  EntryPoint ep(b, model.getLoc(), name("zero_grad"));
  OpBuilder ib = OpBuilder::atBlockEnd(ep.getBody());
  auto zeros = [&](Location loc, RankedTensorType t) {
    return ConstantOp::create(
        ib, loc,
        DenseElementsAttr::get(
            t, ArrayRef<Attribute>{FloatAttr::get(t.getElementType(), 0.0)}));
  };
  for (ParamOp p : gradParams)
    ep.result(Role::grad, p.getName(), zeros(p.getLoc(), p.getType()));
  for (InputOp in : gradInputs)
    ep.result(Role::input_grad, in.getName(), zeros(in.getLoc(), in.getType()));
  ep.finish("");
}

void ProgramBuilder::buildEval(bool predict) {
  EntryPoint ep(b, model.getLoc(), name(predict ? "predict" : "eval"));
  IRMapping map;
  addState(ep, model, map);
  addInputs(ep, model, map);
  Cloned c = cloneBody(model, ep.getBody(), map, Mode::Eval);
  if (!predict && c.loss)
    ep.result(Role::loss, "loss", c.loss);
  for (auto [n, v] : c.outputs)
    ep.result(Role::output, n, v);
  addUpdatedState(ep, model, map, latestStateVersions(model), {});
  func::FuncOp fn = ep.finish("eval");
  if (!predict)
    return;
  // Predict computes only what the outputs need, from the inputs they need.
  Block &body = fn.getBody().front();
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
    if (op.use_empty() && !op.hasTrait<OpTrait::IsTerminator>() &&
        isMemoryEffectFree(&op))
      op.erase();
  llvm::BitVector unused(fn.getNumArguments());
  for (BlockArgument a : body.getArguments())
    if (a.use_empty() &&
        fn.getArgAttrOfType<RoleAttr>(a.getArgNumber(), kRoleAttrName)
                .getValue() == Role::input)
      unused.set(a.getArgNumber());
  (void)fn.eraseArguments(unused);
}

void ProgramBuilder::addOptState(EntryPoint &ep, const OptimizerConfig &config,
                                 StepValues &v) {
  OpBuilder b(ep.getBody()->getParentOp()->getContext());
  v.step = ep.arg(Role::opt_state, stepStateName,
                  RankedTensorType::get({}, b.getF64Type()));
  v.state.clear();
  for (auto [i, cp] : llvm::enumerate(config.params)) {
    ParamOp p = cp;
    SmallVector<Value> slots;
    for (StringRef key : config.stateKeys(i))
      slots.push_back(ep.arg(Role::opt_state, (p.getName() + "." + key).str(),
                             config.stateType(i, key)));
    v.state.push_back(std::move(slots));
  }
}

void ProgramBuilder::addHyper(EntryPoint &ep, const OptimizerConfig &config,
                              StepValues &v) {
  OpBuilder b(ep.getBody()->getParentOp()->getContext());
  for (const OptimizerGroup &g : config.groups)
    v.lrs.push_back(ep.arg(Role::hyper, g.lrName,
                           RankedTensorType::get({}, b.getF64Type())));
}

void ProgramBuilder::addOptStateResults(EntryPoint &ep,
                                        const OptimizerConfig &config,
                                        const StepValues &v) {
  ep.result(Role::opt_state, stepStateName, v.newStep);
  for (auto [i, cp] : llvm::enumerate(config.params)) {
    ParamOp p = cp;
    for (auto [key, value] : llvm::zip(config.stateKeys(i), v.newState[i]))
      ep.result(Role::opt_state, (p.getName() + "." + key).str(), value);
  }
}

void ProgramBuilder::buildStep(const OptimizerConfig &config) {
  EntryPoint ep(b, model.getLoc(), name("step"));
  StepValues v;
  for (ParamOp p : config.params)
    v.params.push_back(ep.arg(Role::param, p.getName(), p.getType()));
  for (ParamOp p : config.params)
    v.grads.push_back(ep.arg(Role::grad, p.getName(), p.getType()));
  addOptState(ep, config, v);
  addHyper(ep, config, v);
  if (config.accumulationSteps > 1)
    v.accumulationSteps = ep.arg(Role::hyper, "accumulation_steps",
                                 RankedTensorType::get({}, b.getF64Type()));
  OpBuilder ib = OpBuilder::atBlockEnd(ep.getBody());
  emitOptimizerStep(ib, model.getLoc(), config, /*averageAccumulated=*/true, v);
  for (auto [cp, np] : llvm::zip(config.params, v.newParams))
    ep.result(Role::param, ParamOp(cp).getName(), np);
  addOptStateResults(ep, config, v);
  ep.finish("");
}

LogicalResult ProgramBuilder::buildTrainStep(const OptimizerConfig &config) {
  OpBuilder tb(model);
  auto copy = cast<ModelOp>(tb.clone(*model));
  llvm::scope_exit eraseCopy([&] { copy->erase(); });
  if (failed(deriveBackward(copy)))
    return failure();

  EntryPoint ep(b, model.getLoc(), name("train_step"));
  IRMapping map;
  addState(ep, copy, map);
  StepValues v;
  addOptState(ep, config, v);
  addInputs(ep, copy, map);
  ep.arg(Role::seed, "seed", RankedTensorType::get({}, b.getI64Type()));
  addHyper(ep, config, v);

  Cloned c = cloneBody(copy, ep.getBody(), map, Mode::Train);
  // zero_grad then backward: the gradients are the fresh ones.
  llvm::StringMap<ParamOp> copied;
  for (ParamOp p : copy.getBody().getOps<ParamOp>())
    copied[p.getName()] = p;
  // A parameter updated in place in the body (under no_grad or through a
  // detach alias) keeps the update, as in PyTorch: the optimizer steps from
  // the updated value, which the step writes back (docs/Autograd.md).
  llvm::DenseMap<Value, Value> latest = latestStateVersions(copy);
  for (ParamOp p : config.params) {
    v.params.push_back(endValue(latest, map, copied[p.getName()].getResult()));
    v.grads.push_back(c.gradients.lookup(p.getName()));
    assert(v.grads.back() && "a trainable parameter lost its gradient");
  }
  OpBuilder ib = OpBuilder::atBlockEnd(ep.getBody());
  // One batch per step: accumulation is the loop of forward_backward + step.
  emitOptimizerStep(ib, model.getLoc(), config, /*averageAccumulated=*/false,
                    v);
  ep.result(Role::loss, "loss", c.loss);
  llvm::DenseSet<Value> returned;
  for (auto [cp, np] : llvm::zip(config.params, v.newParams)) {
    ep.result(Role::param, ParamOp(cp).getName(), np);
    returned.insert(copied[ParamOp(cp).getName()].getResult());
  }
  addBufferResults(ep, copy, map, c, latest, returned);
  // Frozen parameters updated in place keep the update too.
  addUpdatedState(ep, copy, map, latest, returned);
  addOptStateResults(ep, config, v);
  for (auto [n, out] : c.outputs)
    ep.result(Role::output, n, out);
  ep.finish("train");
  return success();
}

namespace {
struct BuildTrainingProgramPass
    : graft::impl::BuildTrainingProgramBase<BuildTrainingProgramPass> {
  void runOnOperation() override {
    for (auto model : llvm::to_vector(getOperation().getOps<ModelOp>()))
      if (failed(ProgramBuilder(model).build()))
        return signalPassFailure();
  }
};
} // namespace
