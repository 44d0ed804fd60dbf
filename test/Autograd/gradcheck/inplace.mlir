// RUN: graft gradcheck %s | FileCheck %s
//
// In-place ops on non-leaf values (new versions of self).

// CHECK-NOT: FAIL

// CHECK-LABEL: gradcheck @add_inplace:
// CHECK-DAG: PASS  x  [
// CHECK-DAG: PASS  o  [
// CHECK: gradcheck @add_inplace: PASS (2 tensors)
graft.model @add_inplace {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %o = graft.param "o" init <normal> : tensor<4xf32>
  %c = graft.mul %x, %x : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %r = graft.add_ %c, %o : tensor<3x4xf32>, tensor<4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @sub_inplace:
// CHECK-DAG: PASS  x  [
// CHECK-DAG: PASS  o  [
// CHECK: gradcheck @sub_inplace: PASS (2 tensors)
graft.model @sub_inplace {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %o = graft.param "o" init <normal> : tensor<3x4xf32>
  %c = graft.mul %x, %x : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %r = graft.sub_ %c, %o : tensor<3x4xf32>, tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @mul_inplace:
// CHECK-DAG: PASS  x  [
// CHECK-DAG: PASS  o  [
// CHECK: gradcheck @mul_inplace: PASS (2 tensors)
graft.model @mul_inplace {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %o = graft.param "o" init <normal> : tensor<4xf32>
  %c = graft.mul %x, %x : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %r = graft.mul_ %c, %o : tensor<3x4xf32>, tensor<4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @div_inplace:
// CHECK-DAG: PASS  x  [
// CHECK-DAG: PASS  o  [
// CHECK: gradcheck @div_inplace: PASS (2 tensors)
graft.model @div_inplace {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %o = graft.param "o" init <uniform, {a = 5.000000e-01 : f64, b = 2.000000e+00 : f64}> : tensor<1x4xf32>
  %c = graft.mul %x, %x : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %r = graft.div_ %c, %o : tensor<3x4xf32>, tensor<1x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @relu_inplace:
// CHECK-DAG: PASS  x  [
// CHECK-DAG: PASS  y  [
// CHECK: gradcheck @relu_inplace: PASS (2 tensors)
graft.model @relu_inplace {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %y = graft.param "y" init <normal> : tensor<3x4xf32>
  %c = graft.add %x, %y : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %i = graft.relu_ %c : tensor<3x4xf32>
  %r = graft.mul %i, %y : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @exp_inplace:
// CHECK-DAG: PASS  x  [
// CHECK-DAG: PASS  y  [
// CHECK: gradcheck @exp_inplace: PASS (2 tensors)
graft.model @exp_inplace {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %y = graft.param "y" init <normal> : tensor<3x4xf32>
  %c = graft.add %x, %y : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %i = graft.exp_ %c : tensor<3x4xf32>
  %r = graft.mul %i, %y : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @sigmoid_inplace:
// CHECK-DAG: PASS  x  [
// CHECK-DAG: PASS  y  [
// CHECK: gradcheck @sigmoid_inplace: PASS (2 tensors)
graft.model @sigmoid_inplace {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %y = graft.param "y" init <normal> : tensor<3x4xf32>
  %c = graft.add %x, %y : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %i = graft.sigmoid_ %c : tensor<3x4xf32>
  %r = graft.mul %i, %y : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @tanh_inplace:
// CHECK-DAG: PASS  x  [
// CHECK-DAG: PASS  y  [
// CHECK: gradcheck @tanh_inplace: PASS (2 tensors)
graft.model @tanh_inplace {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %y = graft.param "y" init <normal> : tensor<3x4xf32>
  %c = graft.add %x, %y : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %i = graft.tanh_ %c : tensor<3x4xf32>
  %r = graft.mul %i, %y : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @zero_inplace:
// CHECK-DAG: PASS  x  [
// CHECK-DAG: PASS  y  [
// CHECK: gradcheck @zero_inplace: PASS (2 tensors)
graft.model @zero_inplace {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %y = graft.param "y" init <normal> : tensor<3x4xf32>
  %c = graft.add %x, %y : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %i = graft.zero_ %c : tensor<3x4xf32>
  %r = graft.mul %i, %y : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @masked_fill_inplace:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @masked_fill_inplace: PASS (1 tensors)
graft.model @masked_fill_inplace {
  %m = graft.input "m" : tensor<3x4xi1>
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %c = graft.add %x, %x : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %r = graft.masked_fill_ %c, %m {value = 0.0 : f64} : tensor<3x4xf32>, tensor<3x4xi1>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @clamp_inplace:
// CHECK-DAG: PASS  x  [
// CHECK-DAG: PASS  y  [
// CHECK: gradcheck @clamp_inplace: PASS (2 tensors)
graft.model @clamp_inplace {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %y = graft.param "y" init <normal> : tensor<3x4xf32>
  %c = graft.add %x, %y : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %i = graft.clamp_ %c {kind = #graft<clamp_kind hardtanh>, max = 1.000000e+00 : f64, min = 0.000000e+00 : f64} : tensor<3x4xf32>
  %r = graft.mul %i, %y : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}
