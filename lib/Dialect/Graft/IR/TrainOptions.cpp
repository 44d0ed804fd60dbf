//===- TrainOptions.cpp - What graft.train accepts ------------------------===//

#include "graft/Dialect/Graft/IR/TrainOptions.h"

#include "llvm/ADT/STLExtras.h"

using namespace graft;
using llvm::StringLiteral;
using llvm::StringRef;

llvm::ArrayRef<HyperParameter> graft::hyperParameters() {
  using T = HyperParameterType;
  static constexpr HyperParameter table[] = {
      {"lr", T::Number},
      {"momentum", T::Number},
      {"dampening", T::Number},
      {"nesterov", T::Bool},
      {"weight_decay", T::Number},
      {"maximize", T::Bool},
      {"betas", T::Pair},
      {"eps", T::Number},
      {"amsgrad", T::Bool},
      {"rho", T::Number},
      {"alpha", T::Number},
      {"centered", T::Bool},
      {"lr_decay", T::Number},
      {"initial_accumulator_value", T::Number},
      {"momentum_decay", T::Number},
      {"decoupled_weight_decay", T::Bool},
  };
  return table;
}

const HyperParameter *graft::findHyperParameter(StringRef name) {
  llvm::ArrayRef<HyperParameter> all = hyperParameters();
  const HyperParameter *it = llvm::find_if(
      all, [&](const HyperParameter &h) { return h.name == name; });
  return it == all.end() ? nullptr : it;
}

llvm::ArrayRef<OptimizerOption> graft::optimizerOptions(OptimizerKind kind) {
  // torch.optim's constructors, their defaults (torch 2.x's where later
  // versions added an option).
  switch (kind) {
  case OptimizerKind::sgd: {
    static constexpr OptimizerOption o[] = {{"momentum", {0}},
                                            {"dampening", {0}},
                                            {"weight_decay", {0}},
                                            {"nesterov", {0}},
                                            {"maximize", {0}}};
    return o;
  }
  case OptimizerKind::adam: {
    static constexpr OptimizerOption o[] = {{"betas", {0.9, 0.999}},
                                            {"eps", {1e-8}},
                                            {"weight_decay", {0}},
                                            {"amsgrad", {0}},
                                            {"maximize", {0}}};
    return o;
  }
  case OptimizerKind::adamw: {
    static constexpr OptimizerOption o[] = {{"betas", {0.9, 0.999}},
                                            {"eps", {1e-8}},
                                            {"weight_decay", {1e-2}},
                                            {"amsgrad", {0}},
                                            {"maximize", {0}}};
    return o;
  }
  case OptimizerKind::adadelta: {
    static constexpr OptimizerOption o[] = {{"rho", {0.9}},
                                            {"eps", {1e-6}},
                                            {"weight_decay", {0}},
                                            {"maximize", {0}}};
    return o;
  }
  case OptimizerKind::adagrad: {
    static constexpr OptimizerOption o[] = {{"lr_decay", {0}},
                                            {"weight_decay", {0}},
                                            {"initial_accumulator_value", {0}},
                                            {"eps", {1e-10}},
                                            {"maximize", {0}}};
    return o;
  }
  case OptimizerKind::rmsprop: {
    static constexpr OptimizerOption o[] = {
        {"alpha", {0.99}}, {"eps", {1e-8}},   {"weight_decay", {0}},
        {"momentum", {0}}, {"centered", {0}}, {"maximize", {0}}};
    return o;
  }
  case OptimizerKind::adamax: {
    static constexpr OptimizerOption o[] = {{"betas", {0.9, 0.999}},
                                            {"eps", {1e-8}},
                                            {"weight_decay", {0}},
                                            {"maximize", {0}}};
    return o;
  }
  case OptimizerKind::nadam: {
    static constexpr OptimizerOption o[] = {
        {"betas", {0.9, 0.999}},         {"eps", {1e-8}},
        {"weight_decay", {0}},           {"momentum_decay", {4e-3}},
        {"decoupled_weight_decay", {0}}, {"maximize", {0}}};
    return o;
  }
  case OptimizerKind::radam: {
    static constexpr OptimizerOption o[] = {{"betas", {0.9, 0.999}},
                                            {"eps", {1e-8}},
                                            {"weight_decay", {0}},
                                            {"decoupled_weight_decay", {0}},
                                            {"maximize", {0}}};
    return o;
  }
  }
  return {};
}

const OptimizerOption *graft::findOptimizerOption(OptimizerKind kind,
                                                  StringRef name) {
  llvm::ArrayRef<OptimizerOption> all = optimizerOptions(kind);
  const OptimizerOption *it = llvm::find_if(
      all, [&](const OptimizerOption &o) { return o.name == name; });
  return it == all.end() ? nullptr : it;
}

bool graft::takesHyperParameter(OptimizerKind kind, StringRef name) {
  return name == "lr" || findOptimizerOption(kind, name);
}

LRScheduleArguments graft::lrScheduleArguments(LRScheduleKind kind) {
  using K = LRScheduleKind;
  switch (kind) {
  case K::StepLR: {
    static constexpr StringLiteral req[] = {"step_size"}, opt[] = {"gamma"};
    return {req, opt};
  }
  case K::MultiStepLR: {
    static constexpr StringLiteral req[] = {"milestones"}, opt[] = {"gamma"};
    return {req, opt};
  }
  case K::ExponentialLR: {
    static constexpr StringLiteral req[] = {"gamma"};
    return {req, {}};
  }
  case K::CosineAnnealingLR: {
    static constexpr StringLiteral req[] = {"T_max"}, opt[] = {"eta_min"};
    return {req, opt};
  }
  case K::LinearLR: {
    static constexpr StringLiteral opt[] = {"start_factor", "end_factor",
                                            "total_iters"};
    return {{}, opt};
  }
  case K::ConstantLR: {
    static constexpr StringLiteral opt[] = {"factor", "total_iters"};
    return {{}, opt};
  }
  case K::CosineAnnealingWarmRestarts: {
    static constexpr StringLiteral req[] = {"T_0"},
                                   opt[] = {"T_mult", "eta_min"};
    return {req, opt};
  }
  case K::OneCycleLR: {
    static constexpr StringLiteral req[] = {"max_lr"},
                                   opt[] = {"total_steps",      "epochs",
                                            "steps_per_epoch",  "pct_start",
                                            "anneal_strategy",  "div_factor",
                                            "final_div_factor", "three_phase"};
    return {req, opt};
  }
  case K::LambdaLR: {
    static constexpr StringLiteral req[] = {"lr_lambda"};
    return {req, {}};
  }
  case K::ReduceLROnPlateau: {
    static constexpr StringLiteral opt[] = {
        "mode",           "factor",   "patience", "threshold",
        "threshold_mode", "cooldown", "min_lr",   "eps"};
    return {{}, opt};
  }
  case K::SequentialLR: {
    static constexpr StringLiteral req[] = {"schedulers", "milestones"};
    return {req, {}};
  }
  }
  return {};
}

std::string graft::lrScheduleKindList() {
  std::string out;
  uint32_t n = getMaxEnumValForLRScheduleKind() + 1;
  for (uint32_t i = 0; i < n; ++i) {
    if (i)
      out += i + 1 == n ? " or " : ", ";
    out += stringifyLRScheduleKind(static_cast<LRScheduleKind>(i)).str();
  }
  return out;
}
