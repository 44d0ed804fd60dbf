//===- Trainer.cpp - Training any model on its data -----------------------===//

#include "graft/Training/Trainer.h"
#include "graft/Autograd/Optimizer.h"
#include "graft_dist.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <set>
#include <type_traits>

using namespace mlir;
using namespace graft;
using namespace graft::training;

//===----------------------------------------------------------------------===//
// Trainer
//===----------------------------------------------------------------------===//

llvm::Expected<int64_t> graft::training::batchOf(ModelOp model) {
  int64_t batch = 0;
  InputOp first;
  for (InputOp in : model.getBody().getOps<InputOp>()) {
    if (in.getType().getRank() == 0)
      continue;
    int64_t b = in.getType().getDimSize(0);
    if (!first) {
      first = in, batch = b;
    } else if (b != batch) {
      return trainingError("inputs '" + first.getName() + "' and '" +
                           in.getName() +
                           "' differ in their first "
                           "dimension (" +
                           llvm::Twine(batch) + " and " + llvm::Twine(b) +
                           "): graft train feeds batches of samples along "
                           "the first dimension of every input");
    }
  }
  if (!first)
    return trainingError("model '" + model.getSymName() +
                         "' has no input shaped [B, ...] to feed");
  return batch;
}

/// The storage of each input among `slots`, with its samples.
static std::vector<std::pair<Storage *, const Column *>>
feedsOf(std::vector<Storage> &slots, const Samples &data) {
  std::vector<std::pair<Storage *, const Column *>> feeds;
  for (Storage &a : slots)
    if (a.slot.role == Role::input)
      if (const Column *c = data.find(a.slot.name))
        feeds.push_back({&a, c});
  return feeds;
}

/// Copies samples `rows` (one per batch row) of each feed into its storage.
static void fill(llvm::ArrayRef<std::pair<Storage *, const Column *>> feeds,
                 llvm::function_ref<int64_t(int64_t)> rowOf, int64_t B) {
  for (auto [storage, column] : feeds) {
    size_t rowBytes = column->width() * elementSize(column->type());
    for (int64_t i = 0; i < B; ++i)
      column->copy(rowOf(i), storage->bytes.data() + i * rowBytes);
  }
}

llvm::Expected<Evaluation>
graft::training::evaluate(JITModel &jit, ModelOp model,
                          std::vector<Storage> &state, const Samples &data,
                          const std::optional<Classifier> &c) {
  std::string fn = (model.getSymName() + "_eval").str();
  const EntryPoint *ep = jit.entryPoint(fn);
  if (!ep)
    return trainingError("no eval entry point was built for '" +
                         model.getSymName() + "'");
  auto B = batchOf(model);
  if (!B)
    return B.takeError();
  std::vector<Storage> args = slotsOf(ep->args), results = slotsOf(ep->results);
  // Parameters and buffers by name, from the training state.
  copyState(args, state);
  auto feeds = feedsOf(args, data);
  Storage *loss = nullptr, *scores = nullptr;
  for (Storage &r : results) {
    if (r.slot.role == Role::loss)
      loss = &r;
    if (c && r.slot.role == Role::output && r.slot.name == c->scores)
      scores = &r;
  }
  const Column *labels = c ? data.find(InputOp(c->labels).getName()) : nullptr;
  std::vector<void *> ap = pointers(args), rp = pointers(results);
  double lossSum = 0;
  int64_t batches = 0, right = 0;
  int64_t rows = data.rows;
  for (int64_t start = 0; start < rows; start += *B) {
    fill(
        feeds, [&](int64_t i) { return std::min(start + i, rows - 1); }, *B);
    if (llvm::Error e = jit.call(fn, ap, rp))
      return std::move(e);
    bool whole = start + *B <= rows;
    if (loss && (whole || rows < *B)) {
      lossSum += loss->f32()[0];
      ++batches;
    }
    if (scores && labels) {
      int64_t C = c->classes, label;
      for (int64_t i = 0; i < *B && start + i < rows; ++i) {
        const float *row = scores->f32() + i * C;
        labels->copy(start + i, reinterpret_cast<char *>(&label));
        right += std::max_element(row, row + C) - row == label;
      }
    }
  }
  Evaluation result;
  if (batches)
    result.loss = lossSum / batches;
  if (scores && labels)
    result.accuracy = 100.0 * right / (double)rows;
  return result;
}

Trainer::Trainer(JITModel &jit, ModelOp model, const Samples &data,
                 const Options &options)
    : jit(jit), model(model), options(options), rng(options.seed),
      order(data.rows) {
  std::iota(order.begin(), order.end(), 0);
}

llvm::Error Trainer::checkTrainable(ModelOp model) {
  if (model.getBody().getOps<TrainOp>().empty())
    return trainingError("model '" + model.getSymName() +
                         "' has no train { } block with a loss: "
                         "nothing to train");
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<Trainer>>
Trainer::create(JITModel &jit, ModelOp model, const Samples &data,
                llvm::StringRef dataName, const Options &options) {
  if (llvm::Error e = checkTrainable(model))
    return std::move(e);
  auto batch = batchOf(model);
  if (!batch)
    return batch.takeError();
  if (data.rows < *batch)
    return trainingError(dataName + " has " + llvm::Twine(data.rows) +
                         " samples, fewer than one batch of " +
                         llvm::Twine(*batch));
  std::string name = model.getSymName().str();
  std::unique_ptr<Trainer> t(new Trainer(jit, model, data, options));
  t->B = *batch;
  t->train = *model.getBody().getOps<TrainOp>().begin();
  t->micro = t->train.getAccumulationSteps();
  if (options.comm && options.comm->size > 1) {
    t->comm = options.comm;
    t->nranks = options.comm->size;
    t->myRank = options.comm->rank;
  }
  // The batches that make no whole step are dropped.
  t->steps = data.rows / (t->B * t->micro * t->nranks);
  if (t->steps == 0)
    return trainingError(
        dataName + " has " + llvm::Twine(data.rows) +
        " samples, fewer than one optimizer step's " +
        llvm::Twine(t->micro * t->nranks) + " batches of " +
        llvm::Twine(*batch) + " (accumulation_steps" +
        (t->nranks > 1 ? " times " + llvm::Twine(t->nranks) + " ranks" : "") +
        ")");
  t->schedule = LRSchedule::get(t->train);
  t->fn = name + "_train_step";
  const EntryPoint *ep = jit.entryPoint(t->fn);
  if (!ep)
    return trainingError("no train step was built for '" + name + "'");
  t->args = slotsOf(ep->args);
  t->results = slotsOf(ep->results);

  double modelLR = t->train.getLr().convertToDouble();
  t->defaultLR = options.lr ? *options.lr : modelLR;
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
      if (llvm::Error e = initialise(a, model, options.seed))
        return std::move(e);
    } else if (role == Role::seed) {
      t->seedArg = &a;
    } else if (role == Role::hyper &&
               llvm::StringRef(a.slot.name).ends_with("lr")) {
      t->lrs.push_back(&a);
    }
  }
  t->feeds = feedsOf(t->args, data);
  for (Storage &r : t->results)
    if (r.slot.role == Role::loss)
      t->loss = &r;
  // A plateau scales the learning rates from their bases, epoch by epoch.
  if (t->plateau())
    for (Storage *s : t->lrs)
      s->f64()[0] = t->groupLR.lookup(s->slot.name);
  t->argPtrs = pointers(t->args);
  t->resultPtrs = resultPointers(t->args, t->results);
  if (t->micro > 1 || t->nranks > 1) {
    for (auto [call, suffix] : {std::pair{&t->zeroGrad, "zero_grad"},
                                {&t->forwardBackward, "forward_backward"},
                                {&t->optimizerStep, "step"}})
      if (llvm::Error e = t->bind(*call, suffix))
        return std::move(e);
    // step averages the summed gradients over its accumulation_steps: the
    // whole step's batches, on every rank.
    const EntryPoint *ep = jit.entryPoint(t->optimizerStep.fn);
    for (auto [slot, p] : llvm::zip(ep->args, t->optimizerStep.args))
      if (slot.role == Role::hyper && slot.name == "accumulation_steps") {
        *static_cast<double *>(p) = (double)(t->micro * t->nranks);
        t->stepAverages = true;
      }
  }
  if (t->nranks > 1) {
    for (Storage &g : t->grads) {
      if (g.slot.role != Role::grad)
        continue;
      if (g.slot.type != ElementType::F32 && g.slot.type != ElementType::F64)
        return trainingError("the gradient of '" + g.slot.name +
                             "' is neither f32 nor f64: data-parallel steps "
                             "sum f32 and f64 gradients");
      t->gradSpans.push_back({g.bytes.data(), g.bytes.size(),
                              g.slot.type == ElementType::F32
                                  ? GRAFT_DTYPE_F32
                                  : GRAFT_DTYPE_F64});
    }
    for (Storage &a : t->args)
      if (a.slot.role == Role::buffer) // only bytes: never summed
        t->bufferSpans.push_back({a.bytes.data(), a.bytes.size(), -1});
    t->scratch.resize(graft_dist_scratch_bytes(
        t->gradSpans.data(), (int32_t)t->gradSpans.size(),
        t->bufferSpans.data(), (int32_t)t->bufferSpans.size(), t->nranks));
  }
  return t;
}

Trainer::~Trainer() = default;

llvm::Error Trainer::initFrom(llvm::StringRef path, bool strict,
                              std::string *report) {
  auto tensors = readSafetensors(path);
  if (!tensors)
    return tensors.takeError();
  std::vector<std::string> missing;
  if (llvm::Error e = loadState(args, {Role::param, Role::buffer}, *tensors,
                                path, model, &missing))
    return e;
  // The names the model has: state_dict names of its parameters (tied
  // ones under each) and buffers.
  std::set<std::string> known;
  for (const Storage &a : args)
    if (a.slot.role == Role::param || a.slot.role == Role::buffer)
      for (std::string &k : checkpointKeys(a.slot, model))
        known.insert(std::move(k));
  std::vector<std::string> unexpected;
  for (const NamedTensor &t : *tensors)
    if (!known.count(t.name))
      unexpected.push_back(t.name);
  if (missing.empty() && unexpected.empty())
    return llvm::Error::success();
  // torch.nn.Module.load_state_dict's words.
  std::string msg;
  auto list = [&](const char *what, const std::vector<std::string> &names) {
    if (names.empty())
      return;
    msg += std::string("\n\t") + what + " key(s) in state_dict: ";
    for (auto [i, n] : llvm::enumerate(names))
      msg += (i ? ", \"" : "\"") + n + "\"";
    msg += ".";
  };
  list("Missing", missing);
  list("Unexpected", unexpected);
  if (strict)
    return trainingError(path + ": Error(s) in loading state_dict for " +
                         model.getSymName() + ":" + msg +
                         "\nnote: --init-non-strict loads the tensors that "
                         "match and keeps the initial values of the rest");
  *report = "Non-strict load of " + path.str() + " into " +
            model.getSymName().str() + ":" + msg;
  return llvm::Error::success();
}

llvm::Error Trainer::resume(llvm::StringRef path) {
  std::string name = model.getSymName().str();
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
  if (meta["graft.seed"] != std::to_string(options.seed))
    return trainingError(path + " was trained with --seed " +
                         meta["graft.seed"] + "; resume with the same seed");
  if ((meta["graft.shuffle"] != "false") != options.shuffle)
    return trainingError(path + " was trained " +
                         (options.shuffle ? "with --no-shuffle; resume with it"
                                          : "with shuffling; resume without "
                                            "--no-shuffle"));
  // A step of N ranks takes N times the batches: the run goes on with as
  // many.
  std::string ranksText = meta.count("graft.ranks") ? meta["graft.ranks"] : "1";
  if (ranksText != std::to_string(nranks))
    return trainingError(path + " was trained " +
                         (ranksText == "1" ? std::string("by one process")
                                           : "on " + ranksText + " ranks") +
                         "; resume it " +
                         (ranksText == "1" ? std::string("without mpirun")
                                           : "with mpirun -np " + ranksText) +
                         " (its steps took that many ranks' batches)");
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
                   path, model);
}

double Trainer::learningRate() const {
  for (const Storage *s : lrs)
    if (s->slot.name == "lr")
      return s->f64()[0];
  return defaultLR;
}

size_t Trainer::plannedBytes() const {
  size_t planned = 0;
  for (const Storage &s : args)
    planned += s.bytes.size();
  for (const Storage &s : results)
    planned += s.bytes.size();
  return planned;
}

llvm::Expected<Trainer::EpochResult> Trainer::runEpoch(
    unsigned epoch, uint64_t lastStep,
    llvm::function_ref<llvm::Expected<bool>(int64_t, int64_t, double)>
        afterStep) {
  // One permutation per epoch; a resumed run replays those it skipped.
  while (options.shuffle && shuffles <= epoch) {
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
  // A resumed run continues inside the epoch its checkpoint ended in.
  int64_t first = epoch == startEpoch ? startStep : 0;
  EpochResult result;
  if (epoch != startEpoch || first == 0)
    epochLossSum = 0, epochLossSteps = 0;
  double lossSum = 0;
  for (int64_t s = first; s < steps && stepCount < lastStep; ++s) {
    if (perStep)
      setLR(static_cast<int64_t>(stepCount));
    llvm::Expected<float> stepped = runStep(s);
    if (!stepped)
      return stepped.takeError();
    float l = stepLoss = *stepped;
    if (!std::isfinite(l)) {
      result.diverged = Divergence{stepCount + 1, s + 1, l};
      break;
    }
    lossSum += l;
    epochLossSum += l;
    ++epochLossSteps;
    ++stepCount;
    ++result.steps;
    llvm::Expected<bool> more = afterStep(s, first, lossSum);
    if (!more)
      return more.takeError();
    if (!*more) {
      result.stopped = true;
      break;
    }
  }
  // The whole epoch's mean, also when it began before a resume.
  result.meanLoss = epochLossSteps ? epochLossSum / epochLossSteps : 0;
  return result;
}

llvm::Error Trainer::bind(Call &c, llvm::StringRef suffix) {
  c.fn = (model.getSymName() + "_" + suffix).str();
  const EntryPoint *ep = jit.entryPoint(c.fn);
  if (!ep)
    return trainingError("no " + suffix + " entry point was built for '" +
                         model.getSymName() + "'");
  auto storageOf = [&](const TensorSlot &slot) -> void * {
    for (Storage &a : args)
      if (a.slot.role == slot.role && a.slot.name == slot.name &&
          a.slot.role != Role::seed)
        return a.bytes.data();
    if (slot.role == Role::grad || slot.role == Role::input_grad) {
      for (Storage &g : grads)
        if (g.slot.role == slot.role && g.slot.name == slot.name)
          return g.bytes.data();
      return grads.emplace_back(slot).bytes.data();
    }
    return c.local.emplace_back(slot).bytes.data();
  };
  for (const TensorSlot &slot : ep->args)
    c.args.push_back(storageOf(slot));
  for (const TensorSlot &slot : ep->results)
    c.results.push_back(storageOf(slot));
  return llvm::Error::success();
}

llvm::Error Trainer::commFailed(int rc, llvm::StringRef what) const {
  return trainingError("rank " + llvm::Twine(myRank) + " of " +
                       llvm::Twine(nranks) + ": the communicator's " + what +
                       " failed (code " + llvm::Twine(rc) + ")");
}

size_t Trainer::gradientBytes() const {
  size_t bytes = 0;
  for (const Storage &g : grads)
    if (g.slot.role == Role::grad)
      bytes += g.bytes.size();
  return bytes;
}

llvm::Error Trainer::shareState() {
  if (nranks == 1)
    return llvm::Error::success();
  for (Storage &a : args)
    if (a.slot.role == Role::param || a.slot.role == Role::buffer ||
        a.slot.role == Role::opt_state)
      if (int rc =
              graft_dist_broadcast(comm, a.bytes.data(), a.bytes.size(), 0))
        return commFailed(rc, "broadcast");
  return llvm::Error::success();
}

llvm::Error Trainer::sumGradients() {
  // Unless step divides by its accumulation_steps, divided here as it
  // would.
  if (int rc = graft_dist_sum_spans(comm, gradSpans.data(),
                                    (int32_t)gradSpans.size(),
                                    stepAverages ? 1 : nranks, scratch.data()))
    return commFailed(rc, "alltoall or allgather");
  return llvm::Error::success();
}

llvm::Error Trainer::shareBuffers() {
  if (int rc = graft_dist_broadcast_spans(comm, bufferSpans.data(),
                                          (int32_t)bufferSpans.size(), 0,
                                          scratch.data()))
    return commFailed(rc, "broadcast");
  return llvm::Error::success();
}

llvm::Expected<float> Trainer::runDistributedStep(int64_t s) {
  // The step's micro-batches, of every rank; this rank's come from
  // rank * micro on, as one process would take them in turn.
  int64_t per = micro * nranks;
  llvm::Error failed = jit.call(zeroGrad.fn, zeroGrad.args, zeroGrad.results);
  const EntryPoint *fb = jit.entryPoint(forwardBackward.fn);
  double sum = 0;
  for (int64_t m = 0; m < micro && !failed; ++m) {
    int64_t batch = s * per + myRank * micro + m;
    fill(
        feeds, [&](int64_t i) { return order[batch * B + i]; }, B);
    for (auto [slot, p] : llvm::zip(fb->args, forwardBackward.args))
      if (slot.role == Role::seed)
        *static_cast<int64_t *>(p) =
            (int64_t)(options.seed * 1000003 + stepCount * per +
                      myRank * micro + m);
    failed = jit.call(forwardBackward.fn, forwardBackward.args,
                      forwardBackward.results);
    for (auto [slot, p] : llvm::zip(fb->results, forwardBackward.results))
      if (slot.role == Role::loss)
        sum += *static_cast<float *>(p);
  }
  // The ranks agree on the loss, on whether every rank's batches ran, and
  // on stopping, before any sums a gradient.
  struct Block {
    double loss;
    int32_t failed, stop;
  } mine{sum, failed ? 1 : 0, options.wantsStop && options.wantsStop()};
  // Time in collectives: the first also waits for the slowest rank.
  auto start = std::chrono::steady_clock::now();
  auto lap = [&](double &seconds) {
    auto now = std::chrono::steady_clock::now();
    seconds += std::chrono::duration<double>(now - start).count();
    start = now;
  };
  std::vector<char> blocks(nranks * GRAFT_DIST_BLOCK);
  if (int rc =
          graft_dist_gather_small(comm, &mine, sizeof mine, blocks.data())) {
    llvm::consumeError(std::move(failed));
    return commFailed(rc, "allgather");
  }
  lap(waitSeconds);
  if (failed)
    return std::move(failed);
  double total = 0;
  stopAll = false;
  for (int32_t r = 0; r < nranks; ++r) {
    Block b;
    std::memcpy(&b, blocks.data() + r * GRAFT_DIST_BLOCK, sizeof b);
    if (b.failed)
      return trainingError("rank " + llvm::Twine(r) +
                           "'s batches failed (its error above); no rank "
                           "took the step");
    total += b.loss;
    stopAll |= b.stop != 0;
  }
  float mean = (float)(total / per);
  if (!std::isfinite(mean)) // no rank steps on a gradient of inf or nan
    return mean;
  start = std::chrono::steady_clock::now();
  if (llvm::Error e = sumGradients())
    return std::move(e);
  lap(sumSeconds);
  if (llvm::Error e =
          jit.call(optimizerStep.fn, optimizerStep.args, optimizerStep.results))
    return std::move(e);
  start = std::chrono::steady_clock::now();
  if (llvm::Error e = shareBuffers())
    return std::move(e);
  lap(sumSeconds);
  return mean;
}

llvm::Expected<float> Trainer::runStep(int64_t s) {
  if (nranks > 1)
    return runDistributedStep(s);
  if (micro == 1) {
    fill(
        feeds, [&](int64_t i) { return order[s * B + i]; }, B);
    if (seedArg)
      seedArg->i64()[0] = (int64_t)(options.seed * 1000003 + stepCount);
    if (llvm::Error e = jit.call(fn, argPtrs, resultPtrs))
      return std::move(e);
    return loss->f32()[0];
  }
  if (llvm::Error e = jit.call(zeroGrad.fn, zeroGrad.args, zeroGrad.results))
    return std::move(e);
  const EntryPoint *fb = jit.entryPoint(forwardBackward.fn);
  double sum = 0;
  for (int64_t m = 0; m < micro; ++m) {
    int64_t batch = s * micro + m;
    fill(
        feeds, [&](int64_t i) { return order[batch * B + i]; }, B);
    for (auto [slot, p] : llvm::zip(fb->args, forwardBackward.args))
      if (slot.role == Role::seed)
        *static_cast<int64_t *>(p) =
            (int64_t)(options.seed * 1000003 + stepCount * micro + m);
    if (llvm::Error e = jit.call(forwardBackward.fn, forwardBackward.args,
                                 forwardBackward.results))
      return std::move(e);
    for (auto [slot, p] : llvm::zip(fb->results, forwardBackward.results))
      if (slot.role == Role::loss)
        sum += *static_cast<float *>(p);
  }
  float mean = (float)(sum / micro);
  if (!std::isfinite(mean)) // not a step on a gradient of inf or nan
    return mean;
  if (llvm::Error e =
          jit.call(optimizerStep.fn, optimizerStep.args, optimizerStep.results))
    return std::move(e);
  return mean;
}

void Trainer::endEpoch(double metric) {
  if (!plateau())
    return;
  std::vector<double> rates;
  for (Storage *s : lrs)
    rates.push_back(s->f64()[0]);
  schedule->plateau.step(metric, rates);
  for (auto [s, r] : llvm::zip(lrs, rates))
    s->f64()[0] = r;
}

llvm::Error Trainer::save(llvm::StringRef path,
                          const std::map<std::string, std::string> &metadata) {
  if (myRank != 0) { // rank 0 writes the ranks' common state
    lastSaved = stepCount;
    return llvm::Error::success();
  }
  RunState run;
  run.model = model.getSymName().str();
  run.steps = stepCount;
  run.epochs = stepCount / steps;
  run.seed = options.seed;
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
  if (!options.shuffle)
    run.extra["graft.shuffle"] = "false";
  if (nranks > 1)
    run.extra["graft.ranks"] = std::to_string(nranks);
  run.extra.insert(metadata.begin(), metadata.end());
  if (llvm::Error e =
          writeSafetensors(path, stateTensors(args, model), run.metadata()))
    return e;
  lastSaved = stepCount;
  return llvm::Error::success();
}
