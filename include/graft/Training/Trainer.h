//===- Trainer.h - Training any model on its data ---------------*- C++ -*-===//
//
// What `graft train` runs: a model's train_step entry point, fed batches
// of Samples (a column per input), epoch by epoch or for a number of
// steps, with the learning rates of its schedule, checkpoints that resume
// bit for bit, and evaluation on held-out samples. The command line
// (tools/graft) adds the flags, the progress line, logs and plots.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_TRAINING_TRAINER_H
#define GRAFT_TRAINING_TRAINER_H

#include "graft/Autograd/Optimizer.h"
#include "graft/Training/Classifier.h"
#include "graft/Training/Data.h"
#include "graft/Training/State.h"

#include "llvm/ADT/StringMap.h"

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>

struct graft_comm; // graft_api.h: a communicator of data-parallel ranks
struct graft_dist_span; // graft_dist.h: one tensor of a collective

namespace graft::training {

/// The batch of `model`: the first dimension its inputs share, or an error
/// naming an input that disagrees.
llvm::Expected<int64_t> batchOf(ModelOp model);

/// A model's loss and, for a classifier, accuracy on a data set.
struct Evaluation {
  double loss = NAN;     // the mean of the batches' losses
  double accuracy = NAN; // percent, when the model is a classifier
};

/// Runs the eval entry point (eval mode: no dropout, running statistics)
/// over `data` in batches with the parameters and buffers of `state`. The
/// loss is the mean over the whole batches (the last partial batch, padded
/// with its last sample, counts only when it is the only batch); accuracy
/// counts every sample.
llvm::Expected<Evaluation> evaluate(JITModel &jit, ModelOp model,
                                    std::vector<Storage> &state,
                                    const Samples &data,
                                    const std::optional<Classifier> &c);

/// Trains a model's train_step on Samples: batches in a seeded random
/// order per epoch (or in order), the last partial batch dropped
/// (PyTorch's DataLoader with drop_last=True), the learning rates of the
/// model's schedule per epoch or per step, the step's dropout seed from
/// the run's seed and the step number. A run resumed from its checkpoint
/// continues bit for bit as the uninterrupted run would.
class Trainer {
public:
  /// A step whose loss is not finite.
  struct Divergence {
    uint64_t step; // counted from 1 over the whole run
    int64_t batch; // counted from 1 in its epoch
    float loss;
  };
  struct EpochResult {
    double meanLoss = 0;
    int64_t steps = 0;    // taken in this call
    bool stopped = false; // afterStep asked to stop
    std::optional<Divergence> diverged;
  };
  struct Options {
    uint64_t seed = 0;
    /// Replaces the model's learning rate (torch.optim's param_groups: a
    /// group with its own lr keeps it; one that inherits the default
    /// follows it).
    std::optional<double> lr;
    bool shuffle = true;
    /// Data-parallel training (docs/Distributed.md): this process is rank
    /// comm->rank of comm->size (more than one). Each optimizer step takes
    /// comm->size times accumulation_steps batches of the epoch's order,
    /// this rank's accumulation_steps of them from rank * accumulation_steps
    /// on; the gradients are summed over the ranks in rank order, so the
    /// run is bit for bit the one process's with accumulation_steps times
    /// comm->size. Null: one process.
    const graft_comm *comm = nullptr;
    /// Whether this rank wants the run to stop (an interrupt); distributed,
    /// the ranks agree after each step (stopAgreed()).
    std::function<bool()> wantsStop;
  };

  /// Whether `model` can be trained: it has a train block.
  static llvm::Error checkTrainable(ModelOp model);

  /// A trainer of `model` on `data` (named `dataName` in errors), its
  /// state initialised from the seed.
  static llvm::Expected<std::unique_ptr<Trainer>>
  create(JITModel &jit, ModelOp model, const Samples &data,
         llvm::StringRef dataName, const Options &options);
  ~Trainer();

  /// Loads parameters and buffers from the safetensors file `path`
  /// (PyTorch state_dict names). Strict, as load_state_dict: a tensor the
  /// model needs and lacks, or one it has no use for, is an error; not
  /// strict, those are listed in `report` and the rest loaded.
  llvm::Error initFrom(llvm::StringRef path, bool strict, std::string *report);

  /// Continues from the full checkpoint at `path` (of this model, seed and
  /// data set): its state and its step.
  llvm::Error resume(llvm::StringRef path);
  /// Distributed: every rank takes rank 0's parameters, buffers and
  /// optimizer state (after initialisation, initFrom or resume).
  llvm::Error shareState();
  /// Distributed: the number of ranks (1 alone) and this one's.
  int32_t ranks() const { return nranks; }
  int32_t rank() const { return myRank; }
  /// Distributed: whether some rank wanted to stop at the last step.
  bool stopAgreed() const { return stopAll; }
  /// Distributed, over the run's steps: the seconds this rank waited for
  /// the others to finish their batches (the first collective of a step),
  /// and the seconds it spent summing gradients and sharing buffers; the
  /// bytes of gradients a step sums.
  double waitingSeconds() const { return waitSeconds; }
  double summingSeconds() const { return sumSeconds; }
  size_t gradientBytes() const;

  /// Runs the steps of `epoch` (the rest of it after resume()), at most
  /// until step `lastStep` of the run, calling `afterStep(s, first,
  /// lossSum)` after step `s` of the epoch, which began at `first`; it
  /// returns false to stop, an error to fail. A non-finite loss stops the
  /// epoch at that step (nothing is saved).
  llvm::Expected<EpochResult>
  runEpoch(unsigned epoch, uint64_t lastStep,
           llvm::function_ref<llvm::Expected<bool>(int64_t s, int64_t first,
                                                   double lossSum)>
               afterStep);

  /// Writes the state and the run state to `path` (atomically), with
  /// `metadata` beside it (a text's vocabulary); distributed, on rank 0
  /// only (every rank holds the same state).
  llvm::Error save(llvm::StringRef path,
                   const std::map<std::string, std::string> &metadata = {});

  /// The declared ReduceLROnPlateau, if any: endEpoch steps it.
  const Plateau *plateau() const {
    return schedule && schedule->kind == LRSchedule::Kind::ReduceLROnPlateau
               ? &schedule->plateau
               : nullptr;
  }
  /// After an epoch: steps a ReduceLROnPlateau with `metric`.
  void endEpoch(double metric);

  /// The epoch and its step a resumed run starts at (0, 0 otherwise).
  unsigned firstEpoch() const { return startEpoch; }
  int64_t stepsPerEpoch() const { return steps; }
  int64_t batch() const { return B; }
  /// Steps taken over the whole run, and at the last save.
  uint64_t step() const { return stepCount; }
  uint64_t savedStep() const { return lastSaved; }
  double baseLR() const { return defaultLR; }
  /// The loss of the last step (the mean of its micro-batches').
  float lastLoss() const { return stepLoss; }
  /// Batches an optimizer step takes (the train block's
  /// accumulation_steps).
  int64_t microBatches() const { return micro; }
  TrainOp trainOp() const { return train; }
  /// The default group's learning rate of the last step (its base before
  /// the first).
  double learningRate() const;
  /// Bytes of the train step's arguments and results.
  size_t plannedBytes() const;
  /// The train step's arguments: the state, inputs and hyper-parameters.
  std::vector<Storage> &arguments() { return args; }

private:
  Trainer(JITModel &jit, ModelOp model, const Samples &data,
          const Options &options);

  /// One entry point's call: its arguments and results bound to storage.
  struct Call {
    std::string fn;
    std::deque<Storage> local; // what no other call shares
    std::vector<void *> args, results;
  };
  /// Binds entry point `suffix`'s arguments and results: the state and
  /// inputs to the train step's storage (`args`), by role and name; the
  /// gradients to `grads`, shared by the calls; the rest to its own.
  llvm::Error bind(Call &c, llvm::StringRef suffix);
  /// Runs optimizer step `s` of the epoch; returns its loss.
  llvm::Expected<float> runStep(int64_t s);
  /// runStep's data-parallel form.
  llvm::Expected<float> runDistributedStep(int64_t s);
  /// Sums the gradients over the ranks; then divides them by the ranks
  /// unless step's accumulation_steps does.
  llvm::Error sumGradients();
  /// Rank 0's buffers on every rank.
  llvm::Error shareBuffers();
  llvm::Error commFailed(int rc, llvm::StringRef what) const;

  JITModel &jit;
  ModelOp model;
  TrainOp train;
  std::string fn;
  Options options;
  int64_t B = 0;
  std::vector<Storage> args, results;
  /// Each input's storage and its samples.
  std::vector<std::pair<Storage *, const Column *>> feeds;
  Storage *seedArg = nullptr, *loss = nullptr;
  float stepLoss = 0;
  /// Gradient accumulation (accumulation_steps > 1), as torch does it: an
  /// optimizer step is zero_grad, forward_backward on `micro` batches,
  /// then step (which averages the summed gradients).
  int64_t micro = 1;
  Call zeroGrad, forwardBackward, optimizerStep;
  std::deque<Storage> grads;
  /// Data-parallel training: the communicator, the ranks, the gradients
  /// and buffers as spans of its collectives and their scratch, whether
  /// step divides by the whole step's batches (its accumulation_steps),
  /// the agreed stop.
  const graft_comm *comm = nullptr;
  int32_t nranks = 1, myRank = 0;
  std::vector<graft_dist_span> gradSpans, bufferSpans;
  std::vector<char, CacheLineAligned<char>> scratch;
  bool stepAverages = false, stopAll = false;
  double waitSeconds = 0, sumSeconds = 0;
  std::vector<Storage *> lrs;
  llvm::StringMap<double> groupLR;
  /// The declared schedule, stepped per epoch or per optimizer step.
  std::optional<LRSchedule> schedule;
  /// The loss summed over the current epoch's steps so far, and their
  /// count: saved in checkpoints, so that a run resumed inside an epoch
  /// reports (and a plateau sees) the mean of the whole epoch.
  double epochLossSum = 0;
  int64_t epochLossSteps = 0;
  double defaultLR = 0;
  std::vector<void *> argPtrs, resultPtrs;
  std::mt19937_64 rng;
  std::vector<int64_t> order;
  unsigned shuffles = 0;
  unsigned startEpoch = 0;
  int64_t startStep = 0, steps = 0;
  uint64_t stepCount = 0, lastSaved = UINT64_MAX;
};

} // namespace graft::training

#endif
