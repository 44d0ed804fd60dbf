// RUN: graft gradcheck %s | FileCheck %s
//
// cross_entropy (ignore_index, label_smoothing, reductions, spatial, unbatched), nll_loss, mse_loss.

// CHECK-NOT: FAIL

// CHECK-LABEL: gradcheck @cross_entropy_mean:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @cross_entropy_mean: PASS (1 tensors)
graft.model @cross_entropy_mean {
  %x = graft.input "x" requires_grad : tensor<6x4xf32>
  %y = graft.input "y" : tensor<6xi64>
  %l = graft.cross_entropy %x, %y {reduction = #graft<reduction mean>} : (tensor<6x4xf32>, tensor<6xi64>) -> tensor<f32>
  graft.loss %l : tensor<f32>
}

// CHECK-LABEL: gradcheck @cross_entropy_sum:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @cross_entropy_sum: PASS (1 tensors)
graft.model @cross_entropy_sum {
  %x = graft.input "x" requires_grad : tensor<6x4xf32>
  %y = graft.input "y" : tensor<6xi64>
  %l = graft.cross_entropy %x, %y {reduction = #graft<reduction sum>} : (tensor<6x4xf32>, tensor<6xi64>) -> tensor<f32>
  graft.loss %l : tensor<f32>
}

// CHECK-LABEL: gradcheck @cross_entropy_smoothing_ignore:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @cross_entropy_smoothing_ignore: PASS (1 tensors)
graft.model @cross_entropy_smoothing_ignore {
  %x = graft.input "x" requires_grad : tensor<6x4xf32>
  %y = graft.input "y" : tensor<6xi64>
  %l = graft.cross_entropy %x, %y {ignore_index = 1 : i64, label_smoothing = 0.2 : f64} : (tensor<6x4xf32>, tensor<6xi64>) -> tensor<f32>
  graft.loss %l : tensor<f32>
}

// CHECK-LABEL: gradcheck @cross_entropy_none:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @cross_entropy_none: PASS (1 tensors)
graft.model @cross_entropy_none {
  %x = graft.input "x" requires_grad : tensor<6x4xf32>
  %y = graft.input "y" : tensor<6xi64>
  %l = graft.cross_entropy %x, %y {label_smoothing = 0.1 : f64, reduction = #graft<reduction none>} : (tensor<6x4xf32>, tensor<6xi64>) -> tensor<6xf32>
  %weights = graft.input "weights" : tensor<6xf32>
  %weighted = graft.mul %l, %weights : (tensor<6xf32>, tensor<6xf32>) -> tensor<6xf32>
  %loss = graft.sum %weighted : tensor<6xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @cross_entropy_spatial:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @cross_entropy_spatial: PASS (1 tensors)
graft.model @cross_entropy_spatial {
  %x = graft.input "x" requires_grad : tensor<2x3x2x2xf32>
  %y = graft.input "y" : tensor<2x2x2xi64>
  %l = graft.cross_entropy %x, %y {label_smoothing = 0.1 : f64} : (tensor<2x3x2x2xf32>, tensor<2x2x2xi64>) -> tensor<f32>
  graft.loss %l : tensor<f32>
}

// CHECK-LABEL: gradcheck @cross_entropy_unbatched:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @cross_entropy_unbatched: PASS (1 tensors)
graft.model @cross_entropy_unbatched {
  %x = graft.input "x" requires_grad : tensor<5xf32>
  %y = graft.input "y" : tensor<i64>
  %l = graft.cross_entropy %x, %y : (tensor<5xf32>, tensor<i64>) -> tensor<f32>
  graft.loss %l : tensor<f32>
}

// CHECK-LABEL: gradcheck @nll_loss_mean:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @nll_loss_mean: PASS (1 tensors)
graft.model @nll_loss_mean {
  %x = graft.input "x" requires_grad : tensor<6x4xf32>
  %y = graft.input "y" : tensor<6xi64>
  %l = graft.nll_loss %x, %y {ignore_index = 2 : i64, reduction = #graft<reduction mean>} : (tensor<6x4xf32>, tensor<6xi64>) -> tensor<f32>
  graft.loss %l : tensor<f32>
}

// CHECK-LABEL: gradcheck @nll_loss_sum:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @nll_loss_sum: PASS (1 tensors)
graft.model @nll_loss_sum {
  %x = graft.input "x" requires_grad : tensor<6x4xf32>
  %y = graft.input "y" : tensor<6xi64>
  %l = graft.nll_loss %x, %y {ignore_index = 2 : i64, reduction = #graft<reduction sum>} : (tensor<6x4xf32>, tensor<6xi64>) -> tensor<f32>
  graft.loss %l : tensor<f32>
}

// CHECK-LABEL: gradcheck @nll_loss_none:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @nll_loss_none: PASS (1 tensors)
graft.model @nll_loss_none {
  %x = graft.input "x" requires_grad : tensor<6x4xf32>
  %y = graft.input "y" : tensor<6xi64>
  %l = graft.nll_loss %x, %y {reduction = #graft<reduction none>} : (tensor<6x4xf32>, tensor<6xi64>) -> tensor<6xf32>
  %weights = graft.input "weights" : tensor<6xf32>
  %weighted = graft.mul %l, %weights : (tensor<6xf32>, tensor<6xf32>) -> tensor<6xf32>
  %loss = graft.sum %weighted : tensor<6xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @mse_loss_mean:
// CHECK-DAG: PASS  p  [
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @mse_loss_mean: PASS (2 tensors)
graft.model @mse_loss_mean {
  %x = graft.input "x" requires_grad : tensor<6x4xf32>
  %p = graft.param "p" init <normal> : tensor<6x4xf32>
  %l = graft.mse_loss %p, %x {reduction = #graft<reduction mean>} : (tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<f32>
  graft.loss %l : tensor<f32>
}

// CHECK-LABEL: gradcheck @mse_loss_sum:
// CHECK-DAG: PASS  p  [
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @mse_loss_sum: PASS (2 tensors)
graft.model @mse_loss_sum {
  %x = graft.input "x" requires_grad : tensor<6x4xf32>
  %p = graft.param "p" init <normal> : tensor<6x4xf32>
  %l = graft.mse_loss %p, %x {reduction = #graft<reduction sum>} : (tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<f32>
  graft.loss %l : tensor<f32>
}

// CHECK-LABEL: gradcheck @mse_loss_none:
// CHECK-DAG: PASS  p  [
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @mse_loss_none: PASS (2 tensors)
graft.model @mse_loss_none {
  %x = graft.input "x" requires_grad : tensor<6x4xf32>
  %p = graft.param "p" init <normal> : tensor<6x4xf32>
  %l = graft.mse_loss %p, %x {reduction = #graft<reduction none>} : (tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<6x4xf32>
  %weights = graft.input "weights" : tensor<6x4xf32>
  %weighted = graft.mul %l, %weights : (tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<6x4xf32>
  %loss = graft.sum %weighted : tensor<6x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}
