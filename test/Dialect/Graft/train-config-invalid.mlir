// RUN: graft-opt %s -split-input-file -verify-diagnostics

graft.model @m {
  // expected-error@+1 {{Invalid learning rate: -5.000000e-01 (expected lr >= 0)}}
  graft.train sgd {lr = -0.5 : f64}
}

// -----

graft.model @m {
  // expected-error@+1 {{Invalid momentum value: -1.000000e+00 (expected >= 0)}}
  graft.train sgd {lr = 0.1 : f64, momentum = -1.0 : f64}
}

// -----

graft.model @m {
  // expected-error@+1 {{Invalid dampening value: -5.000000e-01 (expected >= 0)}}
  graft.train sgd {lr = 0.1 : f64, dampening = -0.5 : f64}
}

// -----

graft.model @m {
  // expected-error@+1 {{Nesterov momentum requires a momentum and zero dampening}}
  graft.train sgd {lr = 0.1 : f64, momentum = 0.9 : f64, dampening = 0.1 : f64, nesterov = true}
}

// -----

graft.model @m {
  // expected-error@+1 {{Invalid weight_decay value: -1.000000e-02 (expected >= 0)}}
  graft.train adamw {lr = 0.1 : f64, weight_decay = -0.01 : f64}
}

// -----

graft.model @m {
  // expected-error@+1 {{Invalid beta parameter at index 1: 1.000000e+00 (expected 0 <= beta < 1)}}
  graft.train adam {lr = 0.1 : f64, betas = array<f64: 0.9, 1.0>}
}

// -----

graft.model @m {
  // expected-error@+1 {{betas must be two numbers (beta1, beta2)}}
  graft.train adam {lr = 0.1 : f64, betas = array<f64: 0.9>}
}

// -----

graft.model @m {
  // expected-error@+1 {{Invalid epsilon value: -1.000000e+00 (expected >= 0)}}
  graft.train adam {lr = 0.1 : f64, eps = -1.0 : f64}
}

// -----

graft.model @m {
  // expected-error@+1 {{'momentum' is not an option of adam}}
  graft.train adam {lr = 0.1 : f64, momentum = 0.9 : f64}
}

// -----

graft.model @m {
  // expected-error@+1 {{'betas' is not an option of sgd}}
  graft.train sgd {lr = 0.1 : f64, betas = array<f64: 0.9, 0.99>}
}

// -----

graft.model @m {
  // expected-error@+1 {{parameter group 0: expected 'params', a non-empty array of parameter name patterns}}
  graft.train sgd {lr = 0.1 : f64, param_groups = [{weight_decay = 0.0 : f64}]}
}

// -----

graft.model @m {
  // expected-error@+1 {{parameter group 0: Invalid learning rate: -1.000000e+00 (expected lr >= 0)}}
  graft.train sgd {lr = 0.1 : f64, param_groups = [{params = ["*.bias"], lr = -1.0 : f64}]}
}

// -----

graft.model @m {
  // expected-error@+1 {{parameter group 0: 'amsgrad' is not an option of sgd}}
  graft.train sgd {lr = 0.1 : f64, param_groups = [{params = ["*.bias"], amsgrad = true}]}
}

// -----

graft.model @m {
  // expected-error@+1 {{parameter group 0: 'lr' must be a number}}
  graft.train sgd {lr = 0.1 : f64, param_groups = [{params = ["*.bias"], lr = "fast"}]}
}

// -----

graft.model @m {
  // expected-error@+1 {{accumulation_steps must be at least 1, got 0}}
  graft.train sgd {lr = 0.1 : f64, accumulation_steps = 0 : i64}
}

// -----

graft.model @m {
  // expected-error@+1 {{clip_grad_norm (max_norm) must be positive, got -1.000000e+00}}
  graft.train sgd {lr = 0.1 : f64, clip_grad_norm = -1.0 : f64}
}

// -----

graft.model @m {
  // expected-error@+1 {{clip_norm_type must be positive, got 0.000000e+00}}
  graft.train sgd {lr = 0.1 : f64, clip_grad_norm = 1.0 : f64, clip_norm_type = 0.0 : f64}
}

// -----

graft.model @m {
  // expected-error@+1 {{clip_grad_value (clip_value) must be positive, got 0.000000e+00}}
  graft.train sgd {lr = 0.1 : f64, clip_grad_value = 0.0 : f64}
}

// -----

graft.model @m {
  // expected-error@+1 {{lr_schedule needs a 'kind'}}
  graft.train sgd {lr = 0.1 : f64, lr_schedule = {step_size = 3 : i64}}
}

// -----

graft.model @m {
  // expected-error@+1 {{unknown lr_schedule kind 'OneCycle'}}
  graft.train sgd {lr = 0.1 : f64, lr_schedule = {kind = "OneCycle"}}
}

// -----

graft.model @m {
  // expected-error@+1 {{lr_schedule LambdaLR needs 'lr_lambda'}}
  graft.train sgd {lr = 0.1 : f64, lr_schedule = {kind = "LambdaLR"}}
}

// -----

graft.model @m {
  // expected-error@+1 {{lr_schedule LambdaLR: lr_lambda: unknown operator 'tan'}}
  graft.train sgd {lr = 0.1 : f64, lr_schedule = {kind = "LambdaLR", lr_lambda = ["mul", 2.0, ["tan", "n"]]}}
}

// -----

graft.model @m {
  // expected-error@+1 {{lr_schedule LambdaLR: lr_lambda: 'select' takes 3 operands, got 2}}
  graft.train sgd {lr = 0.1 : f64, lr_schedule = {kind = "LambdaLR", lr_lambda = ["select", "n", 1.0]}}
}

// -----

graft.model @m {
  // expected-error@+1 {{lr_schedule LambdaLR: lr_lambda: unknown name 'step'}}
  graft.train sgd {lr = 0.1 : f64, lr_schedule = {kind = "LambdaLR", lr_lambda = ["max", "step", 1.0, 2.0]}}
}

// -----

graft.model @m {
  // expected-error@+1 {{lr_schedule StepLR needs 'step_size'}}
  graft.train sgd {lr = 0.1 : f64, lr_schedule = {kind = "StepLR"}}
}

// -----

graft.model @m {
  // expected-error@+1 {{lr_schedule ExponentialLR has no argument 'T_max'}}
  graft.train sgd {lr = 0.1 : f64, lr_schedule = {kind = "ExponentialLR", gamma = 0.9 : f64, T_max = 3 : i64}}
}

// -----

graft.model @m {
  // expected-error@+1 {{lr_schedule argument 'gamma' must be a number}}
  graft.train sgd {lr = 0.1 : f64, lr_schedule = {kind = "ExponentialLR", gamma = "x"}}
}

// -----

graft.model @m {
  // expected-note@+1 {{the first one is here}}
  graft.train sgd {lr = 0.1 : f64}
  // expected-error@+1 {{a model has at most one training declaration}}
  graft.train sgd {lr = 0.2 : f64}
}

// -----

func.func @f() {
  // expected-error@+1 {{expects parent op 'graft.model'}}
  graft.train sgd {lr = 0.1 : f64}
  return
}

// -----

// Adadelta, Adagrad and RMSprop: torch.optim's constructor checks, and the
// options each one has.
graft.model @m {
  // expected-error@+1 {{Invalid rho value: 1.500000e+00 (expected 0 <= rho <= 1)}}
  graft.train adadelta {lr = 1.0 : f64, rho = 1.5 : f64}
}

// -----

graft.model @m {
  // expected-error@+1 {{'betas' is not an option of adadelta}}
  graft.train adadelta {lr = 1.0 : f64, betas = array<f64: 0.9, 0.99>}
}

// -----

graft.model @m {
  // expected-error@+1 {{Invalid lr_decay value: -1.000000e-01 (expected >= 0)}}
  graft.train adagrad {lr = 0.1 : f64, lr_decay = -0.1 : f64}
}

// -----

graft.model @m {
  // expected-error@+1 {{Invalid initial_accumulator_value value: -1.000000e+00 (expected >= 0)}}
  graft.train adagrad {lr = 0.1 : f64, initial_accumulator_value = -1.0 : f64}
}

// -----

graft.model @m {
  // expected-error@+1 {{'momentum' is not an option of adagrad}}
  graft.train adagrad {lr = 0.1 : f64, momentum = 0.9 : f64}
}

// -----

graft.model @m {
  // expected-error@+1 {{Invalid alpha value: -9.900000e-01 (expected >= 0)}}
  graft.train rmsprop {lr = 0.01 : f64, alpha = -0.99 : f64}
}

// -----

graft.model @m {
  // expected-error@+1 {{parameter group 0: Invalid momentum value: -5.000000e-01 (expected >= 0)}}
  graft.train rmsprop {lr = 0.01 : f64, param_groups = [{params = ["*"], momentum = -0.5 : f64}]}
}

// -----

graft.model @m {
  // expected-error@+1 {{'rho' is not an option of rmsprop}}
  graft.train rmsprop {lr = 0.01 : f64, rho = 0.9 : f64}
}

// -----

graft.model @m {
  // expected-error@+1 {{Invalid momentum_decay value: -1.000000e-03 (expected >= 0)}}
  graft.train nadam {lr = 0.1 : f64, momentum_decay = -0.001 : f64}
}

// -----

graft.model @m {
  // expected-error@+1 {{'amsgrad' is not an option of adamax}}
  graft.train adamax {lr = 0.1 : f64, amsgrad = true}
}

// -----

graft.model @m {
  // expected-error@+1 {{'decoupled_weight_decay' is not an option of adam}}
  graft.train adam {lr = 0.1 : f64, decoupled_weight_decay = true}
}

// -----

graft.model @m {
  // expected-error@+1 {{lr_schedule OneCycleLR: You must define either total_steps OR (epochs AND steps_per_epoch)}}
  graft.train sgd {lr = 0.1 : f64, lr_schedule = {kind = "OneCycleLR", max_lr = 1.0 : f64, epochs = 3 : i64}}
}

// -----

graft.model @m {
  // expected-error@+1 {{lr_schedule OneCycleLR: anneal_strategy must by one of 'cos' or 'linear', instead got exp}}
  graft.train sgd {lr = 0.1 : f64, lr_schedule = {kind = "OneCycleLR", max_lr = 1.0 : f64, total_steps = 10 : i64, anneal_strategy = "exp"}}
}

// -----

graft.model @m {
  // expected-error@+1 {{lr_schedule CosineAnnealingWarmRestarts: Expected positive integer T_0, but got 0}}
  graft.train sgd {lr = 0.1 : f64, lr_schedule = {kind = "CosineAnnealingWarmRestarts", T_0 = 0 : i64}}
}

// -----

graft.model @m {
  // expected-error@+1 {{lr_schedule argument 'milestones' must be a list of integers}}
  graft.train sgd {lr = 0.1 : f64, lr_schedule = {kind = "MultiStepLR", milestones = 3 : i64}}
}

// -----

graft.model @m {
  // expected-error@+1 {{lr_schedule interval must be "epoch" or "step"}}
  graft.train sgd {lr = 0.1 : f64, lr_schedule = {kind = "StepLR", step_size = 2 : i64, interval = "batch"}}
}

// -----

graft.model @m {
  // expected-error@+1 {{lr_schedule ExponentialLR has no argument 'interval'}}
  graft.train sgd {lr = 0.1 : f64, lr_schedule = {kind = "SequentialLR", milestones = array<i64: 2>, schedulers = [{kind = "ConstantLR"}, {kind = "ExponentialLR", gamma = 0.9 : f64, interval = "step"}]}}
}

// -----

graft.model @m {
  // expected-error@+1 {{lr_schedule LinearLR: Starting multiplicative factor expected to be greater than 0 and less or equal to 1.}}
  graft.train sgd {lr = 0.1 : f64, lr_schedule = {kind = "LinearLR", start_factor = 0.0 : f64}}
}
