// RUN: graft gradcheck %s | FileCheck %s
//
// Elementwise unary ops and clamps.

// CHECK-NOT: FAIL

// CHECK-LABEL: gradcheck @neg:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @neg: PASS (1 tensors)
graft.model @neg {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %r = graft.neg %x : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @exp:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @exp: PASS (1 tensors)
graft.model @exp {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %r = graft.exp %x : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @log:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @log: PASS (1 tensors)
graft.model @log {
  %x = graft.param "x" init <uniform, {a = 5.000000e-01 : f64, b = 2.000000e+00 : f64}> : tensor<3x4xf32>
  %r = graft.log %x : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @sqrt:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @sqrt: PASS (1 tensors)
graft.model @sqrt {
  %x = graft.param "x" init <uniform, {a = 5.000000e-01 : f64, b = 2.000000e+00 : f64}> : tensor<3x4xf32>
  %r = graft.sqrt %x : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @rsqrt:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @rsqrt: PASS (1 tensors)
graft.model @rsqrt {
  %x = graft.param "x" init <uniform, {a = 5.000000e-01 : f64, b = 2.000000e+00 : f64}> : tensor<3x4xf32>
  %r = graft.rsqrt %x : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @abs:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @abs: PASS (1 tensors)
graft.model @abs {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %r = graft.abs %x : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @relu:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @relu: PASS (1 tensors)
graft.model @relu {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %r = graft.relu %x : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @silu:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @silu: PASS (1 tensors)
graft.model @silu {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %r = graft.silu %x : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @tanh:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @tanh: PASS (1 tensors)
graft.model @tanh {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %r = graft.tanh %x : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @sigmoid:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @sigmoid: PASS (1 tensors)
graft.model @sigmoid {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %r = graft.sigmoid %x : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @erf:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @erf: PASS (1 tensors)
graft.model @erf {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %r = graft.erf %x : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @hardswish:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @hardswish: PASS (1 tensors)
graft.model @hardswish {
  %x = graft.param "x" init <uniform, {a = -5.000000e+00 : f64, b = 5.000000e+00 : f64}> : tensor<3x4xf32>
  %r = graft.hardswish %x : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @hardsigmoid:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @hardsigmoid: PASS (1 tensors)
graft.model @hardsigmoid {
  %x = graft.param "x" init <uniform, {a = -5.000000e+00 : f64, b = 5.000000e+00 : f64}> : tensor<3x4xf32>
  %r = graft.hardsigmoid %x : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @log1p:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @log1p: PASS (1 tensors)
graft.model @log1p {
  %x = graft.param "x" init <uniform, {a = 5.000000e-01 : f64, b = 2.000000e+00 : f64}> : tensor<3x4xf32>
  %r = graft.log1p %x : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @mish:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @mish: PASS (1 tensors)
graft.model @mish {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %r = graft.mish %x : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @sin:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @sin: PASS (1 tensors)
graft.model @sin {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %r = graft.sin %x : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @cos:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @cos: PASS (1 tensors)
graft.model @cos {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %r = graft.cos %x : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @gelu:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @gelu: PASS (1 tensors)
graft.model @gelu {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %r = graft.gelu %x : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @gelu_tanh:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @gelu_tanh: PASS (1 tensors)
graft.model @gelu_tanh {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %r = graft.gelu %x {approximate = #graft<gelu_approximation tanh>} : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @clamp:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @clamp: PASS (1 tensors)
graft.model @clamp {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %r = graft.clamp %x {kind = #graft<clamp_kind clamp>, max = 5.000000e-01 : f64, min = -5.000000e-01 : f64} : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @clamp_min:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @clamp_min: PASS (1 tensors)
graft.model @clamp_min {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %r = graft.clamp %x {kind = #graft<clamp_kind clamp_min>, min = 0.000000e+00 : f64} : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @clamp_max:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @clamp_max: PASS (1 tensors)
graft.model @clamp_max {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %r = graft.clamp %x {kind = #graft<clamp_kind clamp_max>, max = 2.500000e-01 : f64} : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}

// CHECK-LABEL: gradcheck @hardtanh:
// CHECK-DAG: PASS  x  [
// CHECK: gradcheck @hardtanh: PASS (1 tensors)
graft.model @hardtanh {
  %x = graft.param "x" init <normal> : tensor<3x4xf32>
  %r = graft.clamp %x {kind = #graft<clamp_kind hardtanh>, max = 1.000000e+00 : f64, min = -1.000000e+00 : f64} : tensor<3x4xf32>
  %weights = graft.input "weights" : tensor<3x4xf32>
  %weighted = graft.mul %r, %weights : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %loss = graft.sum %weighted : tensor<3x4xf32> -> tensor<f32>
  graft.loss %loss : tensor<f32>
}
