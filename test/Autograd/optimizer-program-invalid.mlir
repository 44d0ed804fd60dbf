// RUN: graft-opt %s -graft-build-training-program -split-input-file -verify-diagnostics
//
// Diagnostics of the optimizer lowering.

graft.model @overlap {
  %x = graft.input "x" : tensor<2x3xf32>
  %w = graft.param "fc.weight" init <ones> : tensor<4x3xf32>
  %b = graft.param "fc.bias" init <zeros> : tensor<4xf32>
  %y = graft.linear %x, %w, %b : (tensor<2x3xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %l = graft.sum %y : tensor<2x4xf32> -> tensor<f32>
  graft.loss %l : tensor<f32>
  // expected-error @+1 {{some parameters appear in more than one parameter group: 'fc.bias' matches parameter groups 0 and 1}}
  graft.train adamw {lr = 1.0e-03 : f64, param_groups = [{params = ["*.bias"], weight_decay = 0.0 : f64}, {params = ["fc.*"], lr = 1.0e-02 : f64}]}
}

// -----

// A frozen parameter is not the optimizer's: matching two groups is fine.
graft.model @frozen_overlap {
  %x = graft.input "x" : tensor<2x3xf32>
  %w = graft.param "fc.weight" init <ones> : tensor<4x3xf32>
  %b = graft.param "fc.bias" frozen init <zeros> : tensor<4xf32>
  %y = graft.linear %x, %w, %b : (tensor<2x3xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %l = graft.sum %y : tensor<2x4xf32> -> tensor<f32>
  graft.loss %l : tensor<f32>
  graft.train sgd {lr = 1.0e-01 : f64, param_groups = [{params = ["*.bias"]}, {params = ["fc.*"], lr = 1.0e-02 : f64}]}
}

// -----

graft.model @no_loss {
  %x = graft.input "x" : tensor<2x3xf32>
  %w = graft.param "fc.weight" init <ones> : tensor<4x3xf32>
  %y = graft.linear %x, %w : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  graft.output "y" %y : tensor<2x4xf32>
  // expected-error @+1 {{needs a loss to train: mark one with graft.loss}}
  graft.train sgd {lr = 1.0e-01 : f64}
}
