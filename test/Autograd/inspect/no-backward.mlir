// RUN: graft inspect %s | FileCheck %s
//
// Models without a backward pass still get their table; the summary says
// why there is no backward (the derivation's own diagnostic), and every
// parameter says why it gets no gradient.

// An inference-only model: no loss.
// CHECK-LABEL: model @inference_only
// CHECK: w{{ +}}param{{ +}}f32[3]{{ +}}True{{ +}}True{{ +}}None{{ +}}no{{ +}}no path to the loss (the model has no graft.loss){{$}}
// CHECK: recorded ops: 1, 0 differentiated, 1 pruned
// CHECK-NEXT: leaves that require grad but get no gradient: 1
// CHECK-NEXT: backward: none: the model has no graft.loss
graft.model @inference_only {
  %x = graft.input "x" : tensor<3xf32>
  %w = graft.param "w" init <ones> : tensor<3xf32>
  %y = graft.mul %x, %w : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  graft.output "y" %y : tensor<3xf32>
}

// Every parameter is frozen: PyTorch's backward() would raise.
// CHECK-LABEL: model @all_frozen
// CHECK: w{{ +}}param{{ +}}f32[3]{{ +}}False{{ +}}True{{ +}}None{{ +}}no{{ +}}frozen{{$}}
// CHECK: parameters: 3 total (1 tensors), 0 trainable (0), 3 frozen (1)
// CHECK-NEXT: saved for backward: 0 bytes in 0 tensors (activations only)
// CHECK-NEXT: recorded ops: 0, 0 differentiated, 0 pruned
// CHECK-NEXT: backward: none: element 0 of tensors does not require grad and does not have a grad_fn
graft.model @all_frozen {
  %x = graft.input "x" : tensor<3xf32>
  %w = graft.param "w" frozen init <ones> : tensor<3xf32>
  %y = graft.mul %x, %w : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %l = graft.sum %y : tensor<3xf32> -> tensor<f32>
  graft.loss %l : tensor<f32>
}

// retain_grad on a value without grad fails the derivation; the trainable
// parameter reaches the loss but gets no gradient, and says why.
// CHECK-LABEL: model @bad_retain
// CHECK: w{{ +}}param{{ +}}f32[3]{{ +}}True{{ +}}True{{ +}}None{{ +}}no{{ +}}backward not derived: can't retain_grad on Tensor that has requires_grad=False{{$}}
// CHECK: e{{ +}}retained{{ +}}f32[3]{{ +}}False{{ +}}True{{ +}}None{{ +}}no{{ +}}requires_grad=False{{$}}
// CHECK: backward: none: can't retain_grad on Tensor that has requires_grad=False
graft.model @bad_retain {
  %x = graft.input "x" : tensor<3xf32>
  %w = graft.param "w" init <ones> : tensor<3xf32>
  %e = graft.exp %x : tensor<3xf32>
  graft.retain_grad "e" %e : tensor<3xf32>
  %y = graft.mul %e, %w : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %l = graft.sum %y : tensor<3xf32> -> tensor<f32>
  graft.loss %l : tensor<f32>
}
