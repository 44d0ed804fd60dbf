// RUN: graft-opt %s | graft-opt | FileCheck %s

// CHECK-LABEL: graft.model @sgd
graft.model @sgd {
  // CHECK: graft.train sgd {dampening = 0.000000e+00 : f64, lr = 1.000000e-01 : f64, momentum = 9.000000e-01 : f64, nesterov = true, weight_decay = 5.000000e-04 : f64}
  graft.train sgd {lr = 0.1 : f64, momentum = 0.9 : f64, dampening = 0.0 : f64, nesterov = true, weight_decay = 5.0e-4 : f64}
}

// torch.optim takes lr=0 (a group that does not move; a warm-up's start).
// CHECK-LABEL: graft.model @sgd_lr0
graft.model @sgd_lr0 {
  // CHECK: graft.train sgd {lr = 0.000000e+00 : f64, param_groups = [{lr = 1.000000e-01 : f64, params = ["*.bias"]}]}
  graft.train sgd {lr = 0.0 : f64, param_groups = [{params = ["*.bias"], lr = 0.1 : f64}]}
}

// CHECK-LABEL: graft.model @adamw
graft.model @adamw {
  // CHECK: graft.train adamw {accumulation_steps = 4 : i64, amsgrad = true, betas = array<f64: 9.000000e-01, 0.94999999999999996>, clip_grad_norm = 1.000000e+00 : f64, clip_norm_type = 3.000000e+00 : f64, eps = 1.000000e-08 : f64, lr = 3.000000e-04 : f64, lr_schedule = {T_max = 1000 : i64, kind = "CosineAnnealingLR"}, param_groups = [{params = ["*.bias"], weight_decay = 0.000000e+00 : f64}], seed = 3 : i64, weight_decay = 1.000000e-01 : f64}
  graft.train adamw {lr = 3.0e-4 : f64, betas = array<f64: 0.9, 0.95>, eps = 1.0e-8 : f64, weight_decay = 0.1 : f64, amsgrad = true, param_groups = [{params = ["*.bias"], weight_decay = 0.0 : f64} ], accumulation_steps = 4 : i64, clip_grad_norm = 1.0 : f64, clip_norm_type = 3.0 : f64, lr_schedule = {kind = "CosineAnnealingLR", T_max = 1000 : i64}, seed = 3 : i64}
}

// CHECK-LABEL: graft.model @adam_clip_value
graft.model @adam_clip_value {
  // CHECK: graft.train adam {clip_grad_value = 5.000000e-01 : f64, lr = 1.000000e-03 : f64, lr_schedule = {gamma = 5.000000e-01 : f64, kind = "StepLR", step_size = 10 : i64}, maximize = true}
  graft.train adam {lr = 1.0e-3 : f64, maximize = true, clip_grad_value = 0.5 : f64, lr_schedule = {kind = "StepLR", step_size = 10 : i64, gamma = 0.5 : f64}}
}

// LambdaLR's lr_lambda: a tree of arithmetic on the step count n.
// CHECK-LABEL: graft.model @lambda
graft.model @lambda {
  // CHECK: graft.train sgd {lr = 1.000000e-01 : f64, lr_schedule = {kind = "LambdaLR", lr_lambda = ["select", ["lt", "n", 5.000000e+00], ["div", "n", 5.000000e+00], ["max", 1.000000e-01, ["pow", 0.94999999999999996, "n"], 0.000000e+00]]}}
  graft.train sgd {lr = 0.1 : f64, lr_schedule = {kind = "LambdaLR", lr_lambda = ["select", ["lt", "n", 5.0], ["div", "n", 5.0], ["max", 0.1, ["pow", 0.95, "n"], 0.0]]}}
}
