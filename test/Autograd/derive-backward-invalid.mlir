// RUN: graft-opt %s -graft-derive-backward -split-input-file -verify-diagnostics

graft.model @loss_without_grad {
  %x = graft.input "x" : tensor<3xf32>
  // expected-note@+1 {{the loss is computed only from values that do not require grad}}
  %s = graft.sum %x : tensor<3xf32> -> tensor<f32>
  // expected-error@+2 {{element 0 of tensors does not require grad and does not have a grad_fn}}
  // expected-note@+1 {{hint: make a parameter on the loss's path trainable}}
  graft.loss %s : tensor<f32>
}

// -----

graft.model @loss_of_frozen {
  %w = graft.param "w" frozen init <ones> : tensor<3xf32>
  // expected-note@+1 {{every parameter it uses is frozen, detached or used under no_grad/inference}}
  %s = graft.sum %w : tensor<3xf32> -> tensor<f32>
  // expected-error@+2 {{element 0 of tensors does not require grad}}
  // expected-note@+1 {{hint}}
  graft.loss %s : tensor<f32>
}

// -----

graft.model @retain_without_grad {
  %w = graft.param "w" init <ones> : tensor<3xf32>
  %x = graft.input "x" : tensor<3xf32>
  // expected-error@+1 {{can't retain_grad on Tensor that has requires_grad=False}}
  graft.retain_grad "x" %x : tensor<3xf32>
  %s = graft.sum %w : tensor<3xf32> -> tensor<f32>
  graft.loss %s : tensor<f32>
}

// -----

// expected-error@+1 {{already has a backward pass}}
graft.model @twice {
  %w = graft.param "w" init <ones> : tensor<f32>
  graft.loss %w : tensor<f32>
  graft.gradient "w" %w : tensor<f32>
}

// -----

graft.model @non_leaf_grad {
  %w = graft.param "w" init <ones> : tensor<3xf32>
  // expected-note@+1 {{the non-leaf is computed here (grad_fn ExpBackward0)}}
  %e = graft.exp %w : tensor<3xf32>
  // expected-error@+1 {{The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor.}}
  graft.read_grad "e.grad" %e : tensor<3xf32>
  %s = graft.sum %e : tensor<3xf32> -> tensor<f32>
  graft.loss %s : tensor<f32>
}

// -----

graft.model @grad_of_no_grad {
  %w = graft.param "w" init <ones> : tensor<3xf32>
  %x = graft.input "x" : tensor<3xf32>
  // expected-error@+1 {{the tensor does not require grad, so its .grad is always None}}
  graft.read_grad "x.grad" %x : tensor<3xf32>
  %s = graft.sum %w : tensor<3xf32> -> tensor<f32>
  graft.loss %s : tensor<f32>
}

// -----

// Two dropouts on one random stream would drop the same elements (the masks
// were shared before the front-end numbered streams).
graft.model @shared_dropout_stream {
  %w = graft.param "w" init <ones> : tensor<4xf32>
  // expected-note@+1 {{the other dropout; give each graft.dropout its own stream}}
  %a = graft.dropout %w {p = 5.000000e-01 : f64, stream = 2 : i64} : tensor<4xf32>
  // expected-error@+1 {{dropout shares random stream 2 with another dropout: both would drop the same elements}}
  %b = graft.dropout %w {p = 5.000000e-01 : f64, stream = 2 : i64} : tensor<4xf32>
  %m = graft.mul %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %s = graft.sum %m : tensor<4xf32> -> tensor<f32>
  graft.loss %s : tensor<f32>
}
