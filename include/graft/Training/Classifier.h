//===- Classifier.h - Training and predicting with a classifier -*- C++ -*-===//
//
// What `graft train` and `graft predict` run: a model with one float input
// (the features, [B, ...]), one integer input (the labels, [B]) and a
// float output of class scores ([B, C]), trained by its train_step entry
// point on a data set in shuffled batches, epoch by epoch, and asked for
// predictions in batches. The command line (tools/graft) adds the flags,
// the progress line, logs and plots.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_TRAINING_CLASSIFIER_H
#define GRAFT_TRAINING_CLASSIFIER_H

#include "graft/Autograd/Optimizer.h"
#include "graft/Runtime/Dataset.h"
#include "graft/Training/State.h"

#include "llvm/ADT/StringMap.h"

#include <memory>
#include <optional>
#include <random>

namespace graft::training {

/// A classifier model's inputs and scores.
struct Classifier {
  ModelOp model;
  InputOp features, labels;
  std::string scores; // the [B, C] output
  int64_t batch = 0, featureCount = 0, classes = 0;
};

/// The first model of `module` as a classifier, or an error that says what
/// it lacks.
llvm::Expected<Classifier> inspectClassifier(mlir::ModuleOp module);

/// Runs `predict` over `data` in batches, with the parameters and buffers
/// of `state`; the last batch is padded and its padding ignored. Returns
/// the predicted class of every row.
llvm::Expected<std::vector<int64_t>> predictAll(JITModel &jit, Classifier c,
                                                std::vector<Storage> &state,
                                                const Dataset &data);

/// The percentage of `pred` equal to the data's labels.
double accuracy(const std::vector<int64_t> &pred, const Dataset &data);

/// Trains a classifier's train_step on a data set: shuffled batches (a
/// permutation per epoch from the seed; the last partial batch dropped),
/// the learning rates of the model's schedule per epoch, the step's dropout
/// seed from the run's seed and the step number. A run resumed from its
/// checkpoint continues bit for bit as the uninterrupted run would.
class ClassifierTrainer {
public:
  /// A step whose loss is not finite.
  struct Divergence {
    uint64_t step; // counted from 1 over the whole run
    int64_t batch; // counted from 1 in its epoch
    float loss;
  };
  struct EpochResult {
    double meanLoss = 0;
    int64_t steps = 0; // taken in this call
    std::optional<Divergence> diverged;
  };

  /// Whether `c` can be trained: it has a train block and labels.
  static llvm::Error checkTrainable(Classifier c);

  /// A trainer of `c` on `data` (named `dataName` in errors), its state
  /// initialised from `seed`. `lr` replaces the model's learning rate
  /// (torch.optim's param_groups: a group with its own lr keeps it; one
  /// that inherits the default follows it).
  static llvm::Expected<std::unique_ptr<ClassifierTrainer>>
  create(JITModel &jit, Classifier c, const Dataset &data,
         llvm::StringRef dataName, uint64_t seed, std::optional<double> lr);

  /// Continues from the full checkpoint at `path` (of this model, seed and
  /// data set): its state and its step.
  llvm::Error resume(llvm::StringRef path);

  /// Runs the steps of `epoch` (the rest of it after resume()), calling
  /// `afterStep(s, first, lossSum)` after step `s` of the epoch, which
  /// began at `first`; an error from it stops the run. A non-finite loss
  /// stops the epoch at that step (nothing is saved).
  llvm::Expected<EpochResult> runEpoch(
      unsigned epoch,
      llvm::function_ref<llvm::Error(int64_t s, int64_t first, double lossSum)>
          afterStep);

  /// Writes the state and the run state to `path` (atomically).
  llvm::Error save(llvm::StringRef path);

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
  /// Steps taken over the whole run, and at the last save.
  uint64_t step() const { return stepCount; }
  uint64_t savedStep() const { return lastSaved; }
  double baseLR() const { return defaultLR; }
  TrainOp trainOp() const { return train; }
  /// The default group's learning rate of the last step (its base before
  /// the first).
  double learningRate() const;
  /// Bytes of the train step's arguments and results.
  size_t plannedBytes() const;
  /// The train step's arguments: the state, inputs and hyper-parameters.
  std::vector<Storage> &arguments() { return args; }

private:
  ClassifierTrainer(JITModel &jit, Classifier c, const Dataset &data,
                    uint64_t seed);

  JITModel &jit;
  Classifier c;
  const Dataset &data;
  TrainOp train;
  std::string fn;
  uint64_t seed;
  std::vector<Storage> args, results;
  Storage *x = nullptr, *y = nullptr, *seedArg = nullptr, *loss = nullptr;
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
