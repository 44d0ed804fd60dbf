//===- Optimizer.h - torch.optim's update rules as graft IR ------*- C++
//-*-===//
//
// The optimizer of a model's `graft.train`: its parameter groups resolved
// against the trainable parameters, the optimizer state each parameter keeps
// (PyTorch's state keys), the IR of one fused step (SGD, Adam, AdamW,
// Adadelta, Adagrad, RMSprop, Adamax, NAdam and RAdam with torch.optim's
// single-tensor formulas, gradient accumulation and clipping)
// and the learning-rate schedules, which the host computes in closed form.
// See docs/Optimizers.md.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_AUTOGRAD_OPTIMIZER_H
#define GRAFT_AUTOGRAD_OPTIMIZER_H

#include "graft/Dialect/Graft/IR/GraftOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <string>
#include <vector>

namespace graft {

/// The hyper-parameters of one parameter group, with torch.optim's defaults
/// for what the declaration leaves out.
struct OptimizerGroup {
  /// The name of the group's learning-rate argument: `lr` for the default
  /// group (index 0), `group<i>.lr` for `param_groups[i - 1]`.
  std::string lrName;
  /// torch.optim's hyper-parameters (TrainOptions.h), 0 where the
  /// optimizer takes none of that name.
  double lr = 0, momentum = 0, dampening = 0, weightDecay = 0;
  double beta1 = 0, beta2 = 0, eps = 0;
  double rho = 0, alpha = 0, lrDecay = 0, initialAccumulator = 0;
  double momentumDecay = 0;
  bool nesterov = false, maximize = false, amsgrad = false, centered = false;
  /// NAdam and RAdam: weight decay as AdamW's (torch 2.x's option).
  bool decoupledWeightDecay = false;
  /// Indices into OptimizerConfig::params.
  llvm::SmallVector<unsigned> members;
};

/// A `graft.train` resolved against the parameters it updates.
struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::sgd;
  /// The trainable parameters that get a gradient, in model order: the only
  /// ones the step reads or writes.
  llvm::SmallVector<ParamOp> params;
  /// Index into `groups` of each parameter.
  llvm::SmallVector<unsigned> groupOf;
  /// Group 0 is the default group (parameters no pattern matches), then
  /// `param_groups` in order, as PyTorch numbers them. Groups without a
  /// member still get their lr argument, so the signature depends on the
  /// declaration only.
  llvm::SmallVector<OptimizerGroup> groups;
  int64_t accumulationSteps = 1;
  std::optional<double> clipGradNorm;
  double clipNormType = 2.0;
  std::optional<double> clipGradValue;

  /// Resolves `train` for `trainable` (the parameters with a gradient).
  /// Emits an error on `train` and fails when a parameter matches patterns
  /// of two groups (PyTorch: "some parameters appear in more than one
  /// parameter group").
  static mlir::FailureOr<OptimizerConfig>
  get(TrainOp train, llvm::ArrayRef<ParamOp> trainable);

  /// The state keys parameter `i` keeps, in argument order: SGD with
  /// momentum `momentum_buffer`; Adam and AdamW `exp_avg`, `exp_avg_sq` and,
  /// with amsgrad, `max_exp_avg_sq`; Adadelta `square_avg`, `acc_delta`;
  /// Adagrad `sum`; RMSprop `square_avg`, with momentum `momentum_buffer`,
  /// centered `grad_avg`; Adamax `exp_avg`, `exp_inf`; NAdam `mu_product`,
  /// `exp_avg`, `exp_avg_sq`; RAdam `exp_avg`, `exp_avg_sq`. The step count
  /// is one `step` for the whole optimizer (see stepStateName).
  llvm::SmallVector<llvm::StringRef> stateKeys(unsigned i) const;

  /// The type of parameter `i`'s state `key`: the parameter's, except
  /// NAdam's `mu_product`, a float32 scalar as torch keeps it.
  mlir::RankedTensorType stateType(unsigned i, llvm::StringRef key) const;
};

/// The name of the optimizer's step count among the `opt_state` slots: a
/// tensor<f64> holding the number of steps taken.
inline constexpr llvm::StringLiteral stepStateName = "step";

/// `pattern` (a state_dict name where `*` matches any characters) matches
/// all of `name`.
bool matchParamPattern(llvm::StringRef pattern, llvm::StringRef name);

/// Values in and out of one optimizer step.
struct StepValues {
  // In: per parameter of the config.
  llvm::SmallVector<mlir::Value> params, grads;
  /// Per parameter, one value per stateKeys(i).
  llvm::SmallVector<llvm::SmallVector<mlir::Value>> state;
  /// tensor<f64>: steps taken so far.
  mlir::Value step;
  /// tensor<f64>: one learning rate per group.
  llvm::SmallVector<mlir::Value> lrs;
  /// tensor<f64>: what accumulated gradients are divided by (the
  /// `accumulation_steps` hyper-parameter of @m_step; null elsewhere).
  mlir::Value accumulationSteps;
  // Out.
  llvm::SmallVector<mlir::Value> newParams;
  llvm::SmallVector<llvm::SmallVector<mlir::Value>> newState;
  mlir::Value newStep;
};

/// Emits one fused optimizer step at `b`'s insertion point: divides the
/// gradients by `v.accumulationSteps` when `averageAccumulated` is set and
/// the model accumulates, clips
/// them (clip_grad_norm_, then clip_grad_value_), then updates every
/// parameter with torch.optim's formulas. Fills the `new*` fields of `v`.
void emitOptimizerStep(mlir::OpBuilder &b, mlir::Location loc,
                       const OptimizerConfig &config, bool averageAccumulated,
                       StepValues &v);

/// A learning-rate schedule of `graft.train` (`lr_schedule`), with
/// torch.optim.lr_scheduler's names and defaults.
/// torch.optim.lr_scheduler.ReduceLROnPlateau: its arguments and state.
/// Not a function of the step count: the host steps it with a metric after
/// every epoch (graft train: the epoch's mean training loss, or with mode
/// 'max' the test accuracy), and it scales the learning rates it is given.
struct Plateau {
  bool maxMode = false, relative = true;
  double factor = 0.1, threshold = 1e-4, minLR = 0, eps = 1e-8;
  int64_t patience = 10, cooldown = 0;
  // The state torch's state_dict() holds.
  double best = 0;
  int64_t badEpochs = 0, cooldownCounter = 0;

  static Plateau get(mlir::DictionaryAttr dict);
  /// scheduler.step(metric): updates the state, then scales each of `lrs`
  /// by `factor` (not below min_lr) after more than `patience` epochs
  /// without improvement.
  void step(double metric, llvm::MutableArrayRef<double> lrs);
};

struct LRSchedule {
  using Kind = LRScheduleKind;
  Kind kind = Kind::StepLR;
  int64_t stepSize = 1; // StepLR
  double gamma = 0.1;   // StepLR, MultiStepLR (0.1), ExponentialLR
  /// MultiStepLR: where gamma applies; SequentialLR: where the next
  /// schedule starts.
  llvm::SmallVector<int64_t> milestones;
  int64_t tMax = 1;          // CosineAnnealingLR
  double etaMin = 0.0;       // CosineAnnealingLR, CosineAnnealingWarmRestarts
  int64_t t0 = 1, tMult = 1; // CosineAnnealingWarmRestarts
  double startFactor = 1.0 / 3, endFactor = 1.0; // LinearLR
  double factor = 1.0 / 3;                       // ConstantLR
  int64_t totalIters = 5;                        // LinearLR, ConstantLR
  // OneCycleLR (its lr replaces the optimizer's).
  double maxLR = 0, pctStart = 0.3, divFactor = 25, finalDivFactor = 1e4;
  int64_t totalSteps = 1;
  bool cosine = true, threePhase = false;
  /// SequentialLR: the schedules, in order.
  std::vector<LRSchedule> schedules;
  /// LambdaLR: lr_lambda, the factor of the base lr (LRLambda.h).
  mlir::Attribute lambda;
  /// ReduceLROnPlateau.
  Plateau plateau;
  /// Stepped after every optimizer step (`lr_schedule_interval = "step"`)
  /// rather than after every epoch (the default).
  bool perStep = false;

  /// The schedule of `train`, none when it declares no `lr_schedule`.
  static std::optional<LRSchedule> get(TrainOp train);
  /// A schedule from its dictionary (verified by graft.train's verifier).
  static LRSchedule get(mlir::DictionaryAttr dict);
};

/// The learning rate after `epoch` calls of scheduler.step() (epoch 0 is
/// the initial lr), from torch's closed forms (docs/Optimizers.md):
///  - StepLR: base * gamma^floor(epoch / step_size)
///  - MultiStepLR: base * gamma^(milestones passed)
///  - ExponentialLR: base * gamma^epoch
///  - CosineAnnealingLR: eta_min + (base - eta_min)(1 + cos(pi epoch/T_max))/2
///  - LinearLR: base * (start + (end - start) min(epoch, total) / total)
///  - ConstantLR: base * factor before total_iters, base from then on
///  - CosineAnnealingWarmRestarts: the cosine over the current restart
///  - OneCycleLR: warm-up to max_lr and annealing, torch's phases
///  - SequentialLR: the schedule whose milestone was passed last, from its
///    own epoch 0
double scheduledLR(const LRSchedule &schedule, int64_t epoch, double baseLR);
/// The same for the schedule of `train` (base lr when it has none).
double scheduledLR(TrainOp train, int64_t epoch, double baseLR);

} // namespace graft

#endif
