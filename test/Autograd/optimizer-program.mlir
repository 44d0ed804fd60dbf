// RUN: graft-opt %s -graft-build-training-program -split-input-file | FileCheck %s
//
// The optimizer entry points: @m_step and @m_train_step, with a role and a
// name on every argument and result.

graft.model @m {
  %x = graft.input "x" : tensor<4x3xf32>
  %y = graft.input "y" : tensor<4x2xf32>
  %w = graft.param "fc.weight" init <ones> : tensor<2x3xf32>
  %b = graft.param "fc.bias" init <zeros> : tensor<2xf32>
  %s = graft.param "scale" frozen init <ones> : tensor<2xf32>
  %h = graft.linear %x, %w, %b : (tensor<4x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %o = graft.mul %h, %s : (tensor<4x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %l = graft.mse_loss %o, %y : (tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<f32>
  graft.output "out" %o : tensor<4x2xf32>
  graft.loss %l : tensor<f32>
  graft.train adamw {lr = 1.0e-03 : f64, amsgrad = true, weight_decay = 1.0e-01 : f64,
      param_groups = [{params = ["*.bias"], weight_decay = 0.0 : f64}],
      accumulation_steps = 2 : i64, clip_grad_norm = 1.0 : f64}
}

// The frozen `scale` has no gradient, no state and is never written: it is
// no argument of @m_step and no result of @m_train_step.
// CHECK-LABEL: func.func @m_step(
// CHECK-NOT: "scale"
// CHECK-SAME: %[[W:[a-z0-9]+]]: tensor<2x3xf32> {graft.name = "fc.weight", graft.role = #graft<role param>}
// CHECK-SAME: %[[B:[a-z0-9]+]]: tensor<2xf32> {graft.name = "fc.bias", graft.role = #graft<role param>}
// CHECK-SAME: %[[GW:[a-z0-9]+]]: tensor<2x3xf32> {graft.name = "fc.weight", graft.role = #graft<role grad>}
// CHECK-SAME: tensor<2xf32> {graft.name = "fc.bias", graft.role = #graft<role grad>}
// CHECK-SAME: %[[STEP:[a-z0-9]+]]: tensor<f64> {graft.name = "step", graft.role = #graft<role opt_state>}
// CHECK-SAME: %[[M:[a-z0-9]+]]: tensor<2x3xf32> {graft.name = "fc.weight.exp_avg", graft.role = #graft<role opt_state>}
// CHECK-SAME: %[[V:[a-z0-9]+]]: tensor<2x3xf32> {graft.name = "fc.weight.exp_avg_sq", graft.role = #graft<role opt_state>}
// CHECK-SAME: %[[VMAX:[a-z0-9]+]]: tensor<2x3xf32> {graft.name = "fc.weight.max_exp_avg_sq", graft.role = #graft<role opt_state>}
// CHECK-SAME: tensor<2xf32> {graft.name = "fc.bias.max_exp_avg_sq", graft.role = #graft<role opt_state>}
// CHECK-SAME: %[[LR:[a-z0-9]+]]: tensor<f64> {graft.name = "lr", graft.role = #graft<role hyper>}
// CHECK-SAME: %[[LR1:[a-z0-9]+]]: tensor<f64> {graft.name = "group1.lr", graft.role = #graft<role hyper>}
// CHECK-SAME: %[[ACC:[a-z0-9]+]]: tensor<f64> {graft.name = "accumulation_steps", graft.role = #graft<role hyper>})
// CHECK-SAME: -> (tensor<2x3xf32> {graft.name = "fc.weight", graft.role = #graft<role param>}, tensor<2xf32> {graft.name = "fc.bias", graft.role = #graft<role param>}, tensor<f64> {graft.name = "step", graft.role = #graft<role opt_state>}, tensor<2x3xf32> {graft.name = "fc.weight.exp_avg", graft.role = #graft<role opt_state>}
// CHECK-NOT: graft.mode
// Accumulated gradients are averaged over the micro-batches (2 by default,
// a run-time hyper-parameter), cast once...
// CHECK: %[[N:.*]] = graft.cast %[[ACC]] : tensor<f64> -> tensor<f32>
// CHECK: %[[GWA:.*]] = graft.div %[[GW]], %[[N]]
// CHECK-NOT: graft.cast %[[ACC]]
// ...then clipped by their global 2-norm: max_norm / (total + 1e-6), clamped to 1.
// CHECK: graft.sqrt
// CHECK: graft.constant dense<9.99999997E-7> : tensor<f32>
// CHECK: %[[COEF:.*]] = graft.minimum
// CHECK: %[[GWC:.*]] = graft.mul %[[GWA]], %[[COEF]]
// CHECK: %[[STEP1:.*]] = graft.add %[[STEP]], %{{.*}} : (tensor<f64>, tensor<f64>) -> tensor<f64>
// AdamW's decoupled decay, p * (1 - lr * wd), in f64 then cast once.
// CHECK: %[[LRWD:.*]] = graft.mul %[[LR]], %{{.*}} : (tensor<f64>, tensor<f64>) -> tensor<f64>
// CHECK: %[[DECAY:.*]] = graft.sub %{{.*}}, %[[LRWD]]
// CHECK: %[[DECAYF:.*]] = graft.cast %[[DECAY]] : tensor<f64> -> tensor<f32>
// CHECK: %[[WD:.*]] = graft.mul %[[W]], %[[DECAYF]]
// CHECK: graft.mul %[[M]], %{{.*}} : (tensor<2x3xf32>, tensor<f32>)
// CHECK: %[[M1:.*]] = graft.add
// CHECK: graft.mul %[[V]]
// CHECK: %[[V1:.*]] = graft.add
// Bias corrections from the new step count.
// CHECK: graft.pow %{{.*}}, %[[STEP1]] : (tensor<f64>, tensor<f64>) -> tensor<f64>
// CHECK: %[[VHAT:.*]] = graft.maximum %[[VMAX]], %[[V1]]
// CHECK: graft.sqrt %[[VHAT]]
// CHECK: %[[W1:.*]] = graft.sub %[[WD]],
// The bias (group 1, weight_decay 0) is not decayed and uses group1.lr.
// CHECK-NOT: graft.cast {{.*}}%[[LR]]
// CHECK: graft.div %[[LR1]],
// CHECK: return %[[W1]], %{{.*}}, %[[STEP1]], %[[M1]], %[[V1]], %[[VHAT]],

// train_step takes one batch: no accumulation_steps, no division.
// CHECK-LABEL: func.func @m_train_step(
// CHECK-NOT: "accumulation_steps"
// CHECK-SAME: %[[PW:[a-z0-9]+]]: tensor<2x3xf32> {graft.name = "fc.weight", graft.role = #graft<role param>}
// CHECK-SAME: {graft.name = "scale", graft.role = #graft<role param>}
// CHECK-SAME: {graft.name = "step", graft.role = #graft<role opt_state>}
// CHECK-SAME: {graft.name = "fc.bias.max_exp_avg_sq", graft.role = #graft<role opt_state>}
// CHECK-SAME: {graft.name = "x", graft.role = #graft<role input>}
// CHECK-SAME: {graft.name = "seed", graft.role = #graft<role seed>}
// CHECK-SAME: {graft.name = "lr", graft.role = #graft<role hyper>}
// CHECK-SAME: {graft.name = "group1.lr", graft.role = #graft<role hyper>})
// CHECK-SAME: -> (tensor<f32> {graft.name = "loss", graft.role = #graft<role loss>}, tensor<2x3xf32> {graft.name = "fc.weight", graft.role = #graft<role param>}, tensor<2xf32> {graft.name = "fc.bias", graft.role = #graft<role param>}, tensor<f64> {graft.name = "step", graft.role = #graft<role opt_state>}
// CHECK-NOT: "scale"
// CHECK-SAME: tensor<4x2xf32> {graft.name = "out", graft.role = #graft<role output>})
// CHECK-SAME: attributes {graft.mode = "train"}
// Fresh gradients, not divided by accumulation_steps: one batch per step.
// CHECK-NOT: graft.constant dense<2.000000e+00> : tensor<f32>
// CHECK: graft.mse_loss
// CHECK: graft.minimum
// CHECK: return

// -----

// SGD with momentum: the buffer is the gradient on the first step.
graft.model @sgd {
  %x = graft.input "x" : tensor<4x3xf64>
  %w = graft.param "w" init <ones> : tensor<3xf64>
  %h = graft.mul %x, %w : (tensor<4x3xf64>, tensor<3xf64>) -> tensor<4x3xf64>
  %l = graft.sum %h : tensor<4x3xf64> -> tensor<f64>
  graft.loss %l : tensor<f64>
  graft.train sgd {lr = 1.0e-01 : f64, momentum = 9.0e-01 : f64, dampening = 1.0e-01 : f64, weight_decay = 1.0e-02 : f64}
}
// CHECK-LABEL: func.func @sgd_step(
// CHECK-SAME: %[[P:[a-z0-9]+]]: tensor<3xf64> {graft.name = "w", graft.role = #graft<role param>}
// CHECK-SAME: %[[G:[a-z0-9]+]]: tensor<3xf64> {graft.name = "w", graft.role = #graft<role grad>}
// CHECK-SAME: %[[S:[a-z0-9]+]]: tensor<f64> {graft.name = "step", graft.role = #graft<role opt_state>}
// CHECK-SAME: %[[BUF:[a-z0-9]+]]: tensor<3xf64> {graft.name = "w.momentum_buffer", graft.role = #graft<role opt_state>}
// CHECK-SAME: %[[LR:[a-z0-9]+]]: tensor<f64> {graft.name = "lr", graft.role = #graft<role hyper>})
// CHECK: %[[FIRST:.*]] = graft.compare eq, %[[S]],
// CHECK: %[[D:.*]] = graft.add %[[G]], %{{.*}} : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
// CHECK: graft.mul %[[BUF]],
// CHECK: %[[LATER:.*]] = graft.add
// CHECK: %[[NEWBUF:.*]] = graft.where %[[FIRST]], %[[D]], %[[LATER]]
// CHECK: %[[UPD:.*]] = graft.mul %[[LR]], %[[NEWBUF]]
// CHECK: %[[NEWP:.*]] = graft.sub %[[P]], %[[UPD]]
// CHECK: return %[[NEWP]], %{{.*}}, %[[NEWBUF]]

// -----

// A model without graft.train gets no optimizer entry points.
graft.model @plain {
  %w = graft.param "w" init <ones> : tensor<3xf32>
  %l = graft.sum %w : tensor<3xf32> -> tensor<f32>
  graft.loss %l : tensor<f32>
}
// CHECK-LABEL: func.func @plain_forward_backward
// CHECK-NOT: func.func @plain_step
// CHECK-NOT: func.func @plain_train_step
// CHECK: func.func @plain_eval
