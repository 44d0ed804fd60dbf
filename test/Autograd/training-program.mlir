// RUN: graft-opt %s -graft-build-training-program -split-input-file | FileCheck %s
//
// The entry points of the training program: state in, state out.

graft.model @net {
  %x = graft.input "x" : tensor<4x3x2x2xf32>
  %y = graft.input "y" : tensor<4xi64>
  %w = graft.param "bn.weight" init <ones> : tensor<3xf32>
  %b = graft.param "bn.bias" init <zeros> : tensor<3xf32>
  %rm = graft.buffer "bn.running_mean" init <zeros> : tensor<3xf32>
  %rv = graft.buffer "bn.running_var" init <ones> : tensor<3xf32>
  %nb = graft.buffer "bn.num_batches_tracked" init <zeros> : tensor<i64>
  %fw = graft.param "fc.weight" init <kaiming_uniform> : tensor<5x12xf32>
  %fz = graft.param "fc.bias" frozen init <zeros> : tensor<5xf32>
  %h = graft.batch_norm %x weight %w bias %b running %rm, %rv : (tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<4x3x2x2xf32>
  %d = graft.dropout %h {p = 0.5 : f64, stream = 1 : i64} : tensor<4x3x2x2xf32>
  %f = graft.reshape %d : tensor<4x3x2x2xf32> -> tensor<4x12xf32>
  %l = graft.linear %f, %fw, %fz : (tensor<4x12xf32>, tensor<5x12xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %loss = graft.cross_entropy %l, %y : (tensor<4x5xf32>, tensor<4xi64>) -> tensor<f32>
  graft.output "logits" %l : tensor<4x5xf32>
  graft.retain_grad "logits" %l : tensor<4x5xf32>
  graft.loss %loss : tensor<f32>
}

// The model stays, without backward: it is the metadata.
// CHECK-LABEL: graft.model @net
// CHECK-NOT: graft.gradient

// CHECK-LABEL: func.func @net_forward_backward(
// CHECK-SAME: %[[W:[a-z0-9]+]]: tensor<3xf32> {graft.name = "bn.weight", graft.role = #graft<role param>}
// CHECK-SAME: %[[FZ:[a-z0-9]+]]: tensor<5xf32> {graft.name = "fc.bias", graft.role = #graft<role param>}
// CHECK-SAME: %[[RM:[a-z0-9]+]]: tensor<3xf32> {graft.name = "bn.running_mean", graft.role = #graft<role buffer>}
// CHECK-SAME: %[[NB:[a-z0-9]+]]: tensor<i64> {graft.name = "bn.num_batches_tracked", graft.role = #graft<role buffer>}
// CHECK-SAME: %[[GW:[a-z0-9]+]]: tensor<3xf32> {graft.name = "bn.weight", graft.role = #graft<role grad>}
// CHECK-SAME: tensor<5x12xf32> {graft.name = "fc.weight", graft.role = #graft<role grad>}
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<4x3x2x2xf32> {graft.name = "x", graft.role = #graft<role input>}
// CHECK-SAME: tensor<i64> {graft.name = "seed", graft.role = #graft<role seed>}
// CHECK-SAME: -> (tensor<f32> {graft.name = "loss", graft.role = #graft<role loss>},
// CHECK-SAME: tensor<3xf32> {graft.name = "bn.weight", graft.role = #graft<role grad>}
// CHECK-SAME: tensor<3xf32> {graft.name = "bn.running_mean", graft.role = #graft<role buffer>}
// CHECK-SAME: tensor<i64> {graft.name = "bn.num_batches_tracked", graft.role = #graft<role buffer>}
// CHECK-SAME: tensor<4x5xf32> {graft.name = "logits", graft.role = #graft<role retained_grad>})
// CHECK-SAME: attributes {graft.mode = "train"}
// CHECK: %[[BN:.*]] = graft.batch_norm %[[X]] weight %[[W]]
// CHECK-NOT: training = false
// The running statistics are updated with momentum 0.1.
// CHECK: graft.constant dense<0.899999976> : tensor<f32>
// CHECK: graft.dropout %[[BN]] {p = 5.000000e-01 : f64, stream = 1 : i64}
// Gradients accumulate into the incoming buffers.
// CHECK: %[[ACC:.*]] = graft.add %[[GW]], %{{.*}} : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK: return %{{.*}}, %[[ACC]],

// CHECK-LABEL: func.func @net_zero_grad() -> (tensor<3xf32> {graft.name = "bn.weight", graft.role = #graft<role grad>}, tensor<3xf32> {graft.name = "bn.bias", graft.role = #graft<role grad>}, tensor<5x12xf32> {graft.name = "fc.weight", graft.role = #graft<role grad>})
// CHECK: graft.constant dense<0.000000e+00> : tensor<3xf32>

// Eval mode: no dropout, running statistics, no backward, the loss and the
// outputs.
// CHECK-LABEL: func.func @net_eval(
// CHECK-SAME: {graft.name = "y", graft.role = #graft<role input>}
// CHECK-SAME: -> (tensor<f32> {graft.name = "loss", graft.role = #graft<role loss>}, tensor<4x5xf32> {graft.name = "logits", graft.role = #graft<role output>})
// CHECK-SAME: attributes {graft.mode = "eval"}
// CHECK: graft.batch_norm {{.*}} {training = false}
// CHECK-NOT: graft.dropout
// CHECK-NOT: graft.one_hot
// CHECK: return

// Predict: only what the outputs need, so no labels.
// CHECK-LABEL: func.func @net_predict(
// CHECK-NOT: graft.role = #graft<role grad>
// CHECK-SAME: {graft.name = "x", graft.role = #graft<role input>})
// CHECK-SAME: -> (tensor<4x5xf32> {graft.name = "logits", graft.role = #graft<role output>})
// CHECK-NOT: graft.cross_entropy
// CHECK: return

// -----

// An inference-only model gets eval and predict.
// CHECK-LABEL: graft.model @features
graft.model @features {
  %x = graft.input "x" : tensor<2x3xf32>
  %w = graft.param "w" init <ones> : tensor<4x3xf32>
  %y = graft.linear %x, %w : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  graft.output "y" %y : tensor<2x4xf32>
}
// CHECK-NOT: func.func @features_forward_backward
// CHECK-NOT: func.func @features_zero_grad
// CHECK: func.func @features_eval
// CHECK: func.func @features_predict
