//===- Classifier.cpp - Training and predicting with a classifier ---------===//

#include "graft/Training/Classifier.h"
#include "graft/Autograd/Optimizer.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <type_traits>

using namespace mlir;
using namespace graft;
using namespace graft::training;

llvm::Expected<Classifier> graft::training::inspectClassifier(ModuleOp module) {
  Classifier info;
  auto models = module.getOps<ModelOp>();
  if (models.empty())
    return trainingError("the file has no model");
  info.model = *models.begin();
  for (InputOp in : info.model.getBody().getOps<InputOp>()) {
    RankedTensorType t = in.getType();
    if (isa<FloatType>(t.getElementType()) && !info.features)
      info.features = in;
    else if (isa<IntegerType>(t.getElementType()) && !info.labels)
      info.labels = in;
    else
      return trainingError("model '" + info.model.getSymName() +
                           "' has more inputs than features and labels ('" +
                           in.getName() +
                           "'); train and predict need exactly one float "
                           "input and one integer label input");
  }
  if (!info.features || info.features.getType().getRank() < 1)
    return trainingError("model '" + info.model.getSymName() +
                         "' needs a float input shaped [B, ...]");
  if (!info.features.getType().getElementType().isF32())
    return trainingError("train and predict read f32 features; input '" +
                         info.features.getName() + "' is not f32");
  RankedTensorType ft = info.features.getType();
  info.batch = ft.getDimSize(0);
  info.featureCount = ft.getNumElements() / info.batch;
  if (info.labels && (info.labels.getType().getRank() != 1 ||
                      info.labels.getType().getDimSize(0) != info.batch))
    return trainingError("the label input '" + info.labels.getName() +
                         "' must be shaped [B]");
  for (OutputOp out : info.model.getBody().getOps<OutputOp>()) {
    auto t = cast<RankedTensorType>(out.getValue().getType());
    if (isa<FloatType>(t.getElementType()) && t.getRank() == 2 &&
        t.getDimSize(0) == info.batch) {
      info.scores = out.getName().str();
      info.classes = t.getDimSize(1);
      break;
    }
  }
  if (info.scores.empty())
    return trainingError("model '" + info.model.getSymName() +
                         "' needs an output of class scores shaped [B, C]");
  return info;
}

llvm::Expected<std::vector<int64_t>>
graft::training::predictAll(JITModel &jit, Classifier c,
                            std::vector<Storage> &state, const Dataset &data) {
  std::string fn = (c.model.getSymName() + "_predict").str();
  const EntryPoint *ep = jit.entryPoint(fn);
  std::vector<Storage> args = slotsOf(ep->args), results = slotsOf(ep->results);
  // Parameters and buffers by name, from the training state.
  for (Storage &a : args)
    for (Storage &s : state)
      if (s.slot.name == a.slot.name && s.slot.role == a.slot.role)
        a.bytes = s.bytes;
  Storage *x = nullptr, *scores = nullptr;
  for (Storage &a : args)
    if (a.slot.role == Role::input && a.slot.name == c.features.getName())
      x = &a;
  for (Storage &r : results)
    if (r.slot.name == c.scores)
      scores = &r;
  if (!x || !scores)
    return trainingError(
        "the predict entry point lacks the features or scores");
  std::vector<int64_t> predictions;
  int64_t B = c.batch, F = c.featureCount, C = c.classes;
  std::vector<void *> ap = pointers(args), rp = pointers(results);
  for (int64_t start = 0; start < data.rows(); start += B) {
    for (int64_t i = 0; i < B; ++i) {
      int64_t row = std::min(start + i, data.rows() - 1);
      std::memcpy(x->f32() + i * F, data.x.data() + row * F, F * sizeof(float));
    }
    if (llvm::Error e = jit.call(fn, ap, rp))
      return std::move(e);
    for (int64_t i = 0; i < B && start + i < data.rows(); ++i) {
      const float *row = scores->f32() + i * C;
      predictions.push_back(std::max_element(row, row + C) - row);
    }
  }
  return predictions;
}

double graft::training::accuracy(const std::vector<int64_t> &pred,
                                 const Dataset &data) {
  int64_t right = 0;
  for (size_t i = 0; i < pred.size(); ++i)
    right += pred[i] == data.y[i];
  return 100.0 * right / (double)pred.size();
}

//===----------------------------------------------------------------------===//
// ClassifierTrainer
//===----------------------------------------------------------------------===//

ClassifierTrainer::ClassifierTrainer(JITModel &jit, Classifier c,
                                     const Dataset &data, uint64_t seed)
    : jit(jit), c(c), data(data), seed(seed), rng(seed), order(data.rows()) {
  std::iota(order.begin(), order.end(), 0);
  steps = data.rows() / c.batch; // the last partial batch is dropped
}

llvm::Error ClassifierTrainer::checkTrainable(Classifier c) {
  if (c.model.getBody().getOps<TrainOp>().empty() || !c.labels)
    return trainingError("model '" + c.model.getSymName() +
                         "' has no train { } block with a loss and labels: "
                         "nothing to train");
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<ClassifierTrainer>>
ClassifierTrainer::create(JITModel &jit, Classifier c, const Dataset &data,
                          llvm::StringRef dataName, uint64_t seed,
                          std::optional<double> lr) {
  if (llvm::Error e = checkTrainable(c))
    return std::move(e);
  if (data.rows() < c.batch)
    return trainingError(dataName + " has " + llvm::Twine(data.rows()) +
                         " samples, fewer than one batch of " +
                         llvm::Twine(c.batch));
  std::string name = c.model.getSymName().str();
  std::unique_ptr<ClassifierTrainer> t(
      new ClassifierTrainer(jit, c, data, seed));
  t->train = *c.model.getBody().getOps<TrainOp>().begin();
  t->schedule = LRSchedule::get(t->train);
  t->fn = name + "_train_step";
  const EntryPoint *ep = jit.entryPoint(t->fn);
  if (!ep)
    return trainingError("no train step was built for '" + name + "'");
  t->args = slotsOf(ep->args);
  t->results = slotsOf(ep->results);

  double modelLR = t->train.getLr().convertToDouble();
  t->defaultLR = lr ? *lr : modelLR;
  // Each learning rate's own base, as torch.optim's param_groups keep it:
  // the default group's is the given lr (or the model's); a param_group
  // with its own lr keeps it, one that inherits the default follows the
  // given one. Schedules scale every group's base (initial_lr) alike.
  FailureOr<OptimizerConfig> config = OptimizerConfig::get(t->train, {});
  if (failed(config))
    return trainingError("the train block of '" + name + "' is invalid");
  for (const OptimizerGroup &g : config->groups)
    t->groupLR[g.lrName] =
        g.lrName == "lr" || g.lr == modelLR ? t->defaultLR : g.lr;

  for (Storage &a : t->args) {
    Role role = a.slot.role;
    if (role == Role::param || role == Role::buffer) {
      if (llvm::Error e = initialise(a, c.model, seed))
        return std::move(e);
    } else if (role == Role::input) {
      (a.slot.name == c.features.getName() ? t->x : t->y) = &a;
    } else if (role == Role::seed) {
      t->seedArg = &a;
    } else if (role == Role::hyper &&
               llvm::StringRef(a.slot.name).ends_with("lr")) {
      t->lrs.push_back(&a);
    }
  }
  for (Storage &r : t->results)
    if (r.slot.role == Role::loss)
      t->loss = &r;
  // A plateau scales the learning rates from their bases, epoch by epoch.
  if (t->plateau())
    for (Storage *s : t->lrs)
      s->f64()[0] = t->groupLR.lookup(s->slot.name);
  t->argPtrs = pointers(t->args);
  t->resultPtrs = resultPointers(t->args, t->results);
  return t;
}

llvm::Error ClassifierTrainer::resume(llvm::StringRef path) {
  std::string name = c.model.getSymName().str();
  std::map<std::string, std::string> meta;
  auto tensors = readSafetensors(path, &meta);
  if (!tensors)
    return tensors.takeError();
  if (meta["graft.model"] != name)
    return trainingError(path + " is a checkpoint of model '" +
                         meta["graft.model"] + "', not '" + name + "'");
  if (meta["graft.content"] == "weights" || !meta.count("graft.seed"))
    return trainingError(path +
                         " holds weights only, no run state (steps, seed, "
                         "optimizer state): it cannot resume a run");
  if (meta["graft.seed"] != std::to_string(seed))
    return trainingError(path + " was trained with --seed " +
                         meta["graft.seed"] + "; resume with the same seed");
  // graft train records its steps and the whole epochs among them (a
  // checkpoint of --checkpoint-every may end inside an epoch); a
  // checkpoint of the C API (graft_save) its steps only. They must agree
  // with this data set, so that a damaged or edited checkpoint cannot
  // make runEpoch replay billions of shuffles.
  uint64_t savedSteps = 0;
  if (llvm::StringRef(meta["graft.steps"]).getAsInteger(10, savedSteps) ||
      steps <= 0)
    return trainingError(path + ": bad graft.steps '" + meta["graft.steps"] +
                         "'");
  if (meta.count("graft.epochs")) {
    unsigned epochs = 0;
    if (llvm::StringRef(meta["graft.epochs"]).getAsInteger(10, epochs))
      return trainingError(path + ": bad graft.epochs '" +
                           meta["graft.epochs"] + "'");
    if (savedSteps / (uint64_t)steps != epochs)
      return trainingError(
          path + ": its graft.epochs (" + meta["graft.epochs"] +
          ") and graft.steps (" + meta["graft.steps"] +
          ") disagree for this data set (" + std::to_string(steps) +
          " steps an epoch): the checkpoint is damaged or from other data");
  } else if (savedSteps / (uint64_t)steps > UINT_MAX) {
    return trainingError(path + ": its graft.steps (" + meta["graft.steps"] +
                         ") is more epochs of this data set (" +
                         std::to_string(steps) +
                         " steps each) than graft train runs");
  }
  startEpoch = savedSteps / steps;
  startStep = savedSteps % steps;
  stepCount = savedSteps;
  // graft train's: the epoch's loss so far, a plateau's state and rates.
  auto number = [&](StringRef key, auto &out) -> llvm::Error {
    if (!meta.count(key.str()))
      return llvm::Error::success();
    std::string text = meta[key.str()];
    char *end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    using T = std::remove_reference_t<decltype(out)>;
    // A count is a whole number a step counter can hold; a plateau's best
    // may be inf, never nan.
    bool ok = !text.empty() && !*end && !std::isnan(v) &&
              (!std::is_integral_v<T> ||
               (v >= 0 && v <= 9.0e15 && v == std::floor(v)));
    if (!ok)
      return trainingError(path + ": bad " + key + " '" + text + "'");
    out = static_cast<T>(v);
    return llvm::Error::success();
  };
  if (llvm::Error e = number("graft.epoch_loss_sum", epochLossSum))
    return e;
  if (llvm::Error e = number("graft.epoch_loss_steps", epochLossSteps))
    return e;
  if (plateau()) {
    Plateau &p = schedule->plateau;
    if (llvm::Error e = number("graft.plateau.best", p.best))
      return e;
    if (llvm::Error e = number("graft.plateau.bad_epochs", p.badEpochs))
      return e;
    if (llvm::Error e = number("graft.plateau.cooldown", p.cooldownCounter))
      return e;
    for (Storage *s : lrs)
      if (llvm::Error e = number("graft.hyper." + s->slot.name, s->f64()[0]))
        return e;
  }
  return loadState(args, {Role::param, Role::buffer, Role::opt_state}, *tensors,
                   path, c.model);
}

double ClassifierTrainer::learningRate() const {
  for (const Storage *s : lrs)
    if (s->slot.name == "lr")
      return s->f64()[0];
  return defaultLR;
}

size_t ClassifierTrainer::plannedBytes() const {
  size_t planned = 0;
  for (const Storage &s : args)
    planned += s.bytes.size();
  for (const Storage &s : results)
    planned += s.bytes.size();
  return planned;
}

llvm::Expected<ClassifierTrainer::EpochResult> ClassifierTrainer::runEpoch(
    unsigned epoch,
    llvm::function_ref<llvm::Error(int64_t, int64_t, double)> afterStep) {
  // One permutation per epoch; a resumed run replays those it skipped.
  while (shuffles <= epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    ++shuffles;
  }
  // Each group's lr after `n` scheduler steps (torch's scheduler.step()
  // after every epoch, or with interval "step" after every optimizer step).
  auto setLR = [&](int64_t n) {
    if (plateau()) // its rates change in endEpoch only
      return;
    for (Storage *s : lrs) {
      double base = groupLR.lookup(s->slot.name);
      s->f64()[0] = schedule ? scheduledLR(*schedule, n, base) : base;
    }
  };
  bool perStep = schedule && schedule->perStep;
  if (!perStep)
    setLR(epoch);
  int64_t B = c.batch, F = c.featureCount;
  // A resumed run continues inside the epoch its checkpoint ended in.
  int64_t first = epoch == startEpoch ? startStep : 0;
  EpochResult result;
  if (epoch != startEpoch || first == 0)
    epochLossSum = 0, epochLossSteps = 0;
  double lossSum = 0;
  for (int64_t s = first; s < steps; ++s) {
    for (int64_t i = 0; i < B; ++i) {
      int64_t row = order[s * B + i];
      std::memcpy(x->f32() + i * F, data.x.data() + row * F, F * sizeof(float));
      y->i64()[i] = data.y[row];
    }
    if (perStep)
      setLR(static_cast<int64_t>(stepCount));
    if (seedArg)
      seedArg->i64()[0] = (int64_t)(seed * 1000003 + stepCount);
    if (llvm::Error e = jit.call(fn, argPtrs, resultPtrs))
      return std::move(e);
    float l = loss->f32()[0];
    if (!std::isfinite(l)) {
      result.diverged = Divergence{stepCount + 1, s + 1, l};
      break;
    }
    lossSum += l;
    epochLossSum += l;
    ++epochLossSteps;
    ++stepCount;
    ++result.steps;
    if (llvm::Error e = afterStep(s, first, lossSum))
      return std::move(e);
  }
  // The whole epoch's mean, also when it began before a resume.
  result.meanLoss = epochLossSteps ? epochLossSum / epochLossSteps : 0;
  return result;
}

void ClassifierTrainer::endEpoch(double metric) {
  if (!plateau())
    return;
  std::vector<double> rates;
  for (Storage *s : lrs)
    rates.push_back(s->f64()[0]);
  schedule->plateau.step(metric, rates);
  for (auto [s, r] : llvm::zip(lrs, rates))
    s->f64()[0] = r;
}

llvm::Error ClassifierTrainer::save(llvm::StringRef path) {
  RunState run;
  run.model = c.model.getSymName().str();
  run.steps = stepCount;
  run.epochs = stepCount / steps;
  run.seed = seed;
  for (Storage &a : args)
    if (a.slot.role == Role::hyper)
      run.hyper[a.slot.name] = a.f64()[0];
  auto exact = [](double v) {
    std::string s;
    llvm::raw_string_ostream(s) << llvm::format("%.17g", v);
    return s;
  };
  run.extra["graft.epoch_loss_sum"] = exact(epochLossSum);
  run.extra["graft.epoch_loss_steps"] = std::to_string(epochLossSteps);
  if (const Plateau *p = plateau()) {
    run.extra["graft.plateau.best"] = exact(p->best);
    run.extra["graft.plateau.bad_epochs"] = std::to_string(p->badEpochs);
    run.extra["graft.plateau.cooldown"] = std::to_string(p->cooldownCounter);
  }
  if (llvm::Error e =
          writeSafetensors(path, stateTensors(args, c.model), run.metadata()))
    return e;
  lastSaved = stepCount;
  return llvm::Error::success();
}
