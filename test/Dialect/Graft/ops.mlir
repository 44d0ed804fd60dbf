// RUN: graft-opt %s | graft-opt | FileCheck %s
// RUN: graft-opt %s --mlir-print-op-generic | graft-opt | FileCheck %s
//
// Round trip of every op of the graft dialect.

// CHECK-LABEL: graft.model @declarations
graft.model @declarations {
  // CHECK: %[[X:.*]] = graft.input "x" requires_grad : tensor<8x4xf32>
  %x = graft.input "x" requires_grad : tensor<8x4xf32>
  // CHECK: graft.input "labels" : tensor<8xi64>
  %y = graft.input "labels" : tensor<8xi64>
  // CHECK: graft.input "mask" : tensor<8x4xi1>
  %m = graft.input "mask" : tensor<8x4xi1>
  // CHECK: graft.param "encoder.layers.0.fc1.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<2x4xf32>
  %w = graft.param "encoder.layers.0.fc1.weight" init <kaiming_uniform, {a = 2.2360679774997898 : f64}> : tensor<2x4xf32>
  // CHECK: graft.param "encoder.layers.0.fc1.bias" frozen init <uniform, {a = -5.000000e-01 : f64, b = 5.000000e-01 : f64}> : tensor<2xf64>
  %b = graft.param "encoder.layers.0.fc1.bias" frozen init <uniform, {a = -0.5 : f64, b = 0.5 : f64}> : tensor<2xf64>
  // A tied parameter (weight tying): one op, two state_dict names.
  // CHECK: graft.param "wte.weight" aliases ["lm_head.weight"] init <trunc_normal, {a = -4.000000e-02 : f64, b = 4.000000e-02 : f64, std = 2.000000e-02 : f64}> : tensor<2x4xf32>
  %tied = graft.param "wte.weight" aliases ["lm_head.weight"] init <trunc_normal, {std = 0.02 : f64, a = -0.04 : f64, b = 0.04 : f64}> : tensor<2x4xf32>
  // CHECK: graft.param "p.normal" init <normal, {mean = 0.000000e+00 : f64, std = 2.000000e-02 : f64}> : tensor<3xbf16>
  %n = graft.param "p.normal" init <normal, {mean = 0.0 : f64, std = 0.02 : f64}> : tensor<3xbf16>
  // CHECK: graft.param "p.const" init <constant, {value = 5.000000e-01 : f64}>
  %c = graft.param "p.const" init <constant, {value = 0.5 : f64}> : tensor<3xf32>
  // CHECK: graft.param "p.kn" init <kaiming_normal, {mode = "fan_out", nonlinearity = "relu"}>
  %kn = graft.param "p.kn" init <kaiming_normal, {mode = "fan_out", nonlinearity = "relu"}> : tensor<3x3xf32>
  // CHECK: graft.param "p.xu" init <xavier_uniform, {gain = 1.000000e+00 : f64}>
  %xu = graft.param "p.xu" init <xavier_uniform, {gain = 1.0 : f64}> : tensor<3x3xf32>
  // CHECK: graft.param "p.xn" init <xavier_normal>
  %xn = graft.param "p.xn" init <xavier_normal> : tensor<3x3xf32>
  // CHECK: graft.param "p.ones" init <ones>
  %o = graft.param "p.ones" init <ones> : tensor<3xf32>
  // CHECK: graft.buffer "bn.num_batches_tracked" init <zeros> : tensor<i64>
  %nbt = graft.buffer "bn.num_batches_tracked" init <zeros> : tensor<i64>
  // CHECK: graft.constant dense<2.000000e+00> : tensor<f32>
  %k = graft.constant dense<2.0> : tensor<f32>
  // CHECK: %[[H:.*]] = graft.grad_hook "x.hook" %[[X]] : tensor<8x4xf32>
  %h = graft.grad_hook "x.hook" %x : tensor<8x4xf32>
  // CHECK: %[[S:.*]] = graft.sum %[[H]]
  %s = graft.sum %h : tensor<8x4xf32> -> tensor<f32>
  // CHECK: graft.retain_grad "h" %[[H]] : tensor<8x4xf32>
  graft.retain_grad "h" %h : tensor<8x4xf32>
  // CHECK: graft.output "h" %[[H]] : tensor<8x4xf32>
  graft.output "h" %h : tensor<8x4xf32>
  // CHECK: graft.loss %[[S]] : tensor<f32>
  graft.loss %s : tensor<f32>
}

// CHECK-LABEL: graft.model @grad_modes
graft.model @grad_modes {
  %x = graft.input "x" requires_grad : tensor<4xf32>
  // CHECK: %[[NG:.*]]:2 = graft.no_grad -> tensor<4xf32>, tensor<f32> {
  // CHECK:   %[[E:.*]] = graft.exp
  // CHECK:   graft.yield %[[E]], %{{.*}} : tensor<4xf32>, tensor<f32>
  // CHECK: }
  %r:2 = graft.no_grad -> tensor<4xf32>, tensor<f32> {
    %e = graft.exp %x : tensor<4xf32>
    %s = graft.sum %e : tensor<4xf32> -> tensor<f32>
    graft.yield %e, %s : tensor<4xf32>, tensor<f32>
  }
  // CHECK: graft.inference -> tensor<4xf32> {
  %i = graft.inference -> tensor<4xf32> {
    %t = graft.relu %x : tensor<4xf32>
    graft.yield %t : tensor<4xf32>
  }
  // CHECK: graft.no_grad {
  // CHECK-NEXT: graft.yield
  graft.no_grad {
    graft.yield
  }
}

// CHECK-LABEL: graft.model @elementwise
graft.model @elementwise {
  %a = graft.input "a" : tensor<4x1xf32>
  %b = graft.input "b" : tensor<3xf32>
  %m = graft.input "m" : tensor<4x3xi1>
  %i = graft.input "i" : tensor<4xi64>
  // CHECK: graft.add %{{.*}}, %{{.*}} : (tensor<4x1xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  %0 = graft.add %a, %b : (tensor<4x1xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  // CHECK: graft.sub
  %1 = graft.sub %a, %b : (tensor<4x1xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  // CHECK: graft.mul
  %2 = graft.mul %a, %b : (tensor<4x1xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  // CHECK: graft.div
  %3 = graft.div %a, %b : (tensor<4x1xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  // CHECK: graft.pow
  %4 = graft.pow %a, %b : (tensor<4x1xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  // CHECK: graft.maximum
  %5 = graft.maximum %a, %b : (tensor<4x1xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  // CHECK: graft.minimum
  %6 = graft.minimum %a, %b : (tensor<4x1xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  // CHECK: graft.neg %{{.*}} : tensor<4x3xf32>
  %7 = graft.neg %0 : tensor<4x3xf32>
  // CHECK: graft.exp
  %8 = graft.exp %0 : tensor<4x3xf32>
  // CHECK: graft.log
  %9 = graft.log %8 : tensor<4x3xf32>
  // CHECK: graft.sqrt
  %10 = graft.sqrt %8 : tensor<4x3xf32>
  // CHECK: graft.rsqrt
  %11 = graft.rsqrt %8 : tensor<4x3xf32>
  // CHECK: graft.abs
  %12 = graft.abs %0 : tensor<4x3xf32>
  // CHECK: graft.relu
  %13 = graft.relu %0 : tensor<4x3xf32>
  // CHECK: graft.gelu %{{.*}} : tensor<4x3xf32>
  %14 = graft.gelu %0 : tensor<4x3xf32>
  // CHECK: graft.gelu %{{.*}} {approximate = #graft<gelu_approximation tanh>} : tensor<4x3xf32>
  %15 = graft.gelu %0 {approximate = #graft<gelu_approximation tanh>} : tensor<4x3xf32>
  // CHECK: graft.silu
  %16 = graft.silu %0 : tensor<4x3xf32>
  // CHECK: graft.clamp %{{.*}} {kind = #graft<clamp_kind hardtanh>, max = 6.000000e+00 : f64, min = 0.000000e+00 : f64} : tensor<4x3xf32>
  %relu6 = graft.clamp %0 {kind = #graft<clamp_kind hardtanh>, min = 0.0 : f64, max = 6.0 : f64} : tensor<4x3xf32>
  // CHECK: graft.clamp %{{.*}} {kind = #graft<clamp_kind clamp>, max = 1.000000e+00 : f64} : tensor<4x3xf32>
  %clamped = graft.clamp %0 {kind = #graft<clamp_kind clamp>, max = 1.0 : f64} : tensor<4x3xf32>
  // CHECK: graft.tanh
  %17 = graft.tanh %0 : tensor<4x3xf32>
  // CHECK: graft.sigmoid
  %18 = graft.sigmoid %0 : tensor<4x3xf32>
  // CHECK: graft.where %{{.*}}, %{{.*}}, %{{.*}} : (tensor<4x3xi1>, tensor<4x1xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  %19 = graft.where %m, %a, %b : (tensor<4x3xi1>, tensor<4x1xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  // CHECK: graft.masked_fill %{{.*}}, %{{.*}} {value = 0xFFF0000000000000 : f64} : (tensor<4x3xf32>, tensor<4x3xi1>) -> tensor<4x3xf32>
  %20 = graft.masked_fill %0, %m {value = 0xFFF0000000000000 : f64} : (tensor<4x3xf32>, tensor<4x3xi1>) -> tensor<4x3xf32>
  // CHECK: graft.compare lt, %{{.*}}, %{{.*}} : (tensor<4x1xf32>, tensor<3xf32>) -> tensor<4x3xi1>
  %21 = graft.compare lt, %a, %b : (tensor<4x1xf32>, tensor<3xf32>) -> tensor<4x3xi1>
  // CHECK: graft.compare eq, {{.*}} -> tensor<4xi1>
  %22 = graft.compare eq, %i, %i : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
  // CHECK: graft.cast %{{.*}} : tensor<4xi64> -> tensor<4xf32>
  %23 = graft.cast %i : tensor<4xi64> -> tensor<4xf32>
}

// CHECK-LABEL: graft.model @in_place
graft.model @in_place {
  %a = graft.input "a" : tensor<4x3xf32>
  %b = graft.input "b" : tensor<3xf32>
  %m = graft.input "m" : tensor<3xi1>
  // CHECK: %[[A1:.*]] = graft.add_ %{{.*}}, %{{.*}} : tensor<4x3xf32>, tensor<3xf32>
  %0 = graft.add_ %a, %b : tensor<4x3xf32>, tensor<3xf32>
  // CHECK: %[[A2:.*]] = graft.sub_ %[[A1]]
  %1 = graft.sub_ %0, %b : tensor<4x3xf32>, tensor<3xf32>
  // CHECK: %[[A3:.*]] = graft.mul_ %[[A2]]
  %2 = graft.mul_ %1, %b : tensor<4x3xf32>, tensor<3xf32>
  // CHECK: %[[A4:.*]] = graft.div_ %[[A3]]
  %3 = graft.div_ %2, %b : tensor<4x3xf32>, tensor<3xf32>
  // CHECK: %[[A5:.*]] = graft.relu_ %[[A4]] : tensor<4x3xf32>
  %4 = graft.relu_ %3 : tensor<4x3xf32>
  // CHECK: graft.exp_
  %5 = graft.exp_ %4 : tensor<4x3xf32>
  // CHECK: graft.sigmoid_
  %6 = graft.sigmoid_ %5 : tensor<4x3xf32>
  // CHECK: graft.tanh_
  %7 = graft.tanh_ %6 : tensor<4x3xf32>
  // CHECK: graft.masked_fill_ %{{.*}}, %{{.*}} {value = 0.000000e+00 : f64} : tensor<4x3xf32>, tensor<3xi1>
  %8 = graft.masked_fill_ %7, %m {value = 0.0 : f64} : tensor<4x3xf32>, tensor<3xi1>
  // CHECK: %[[A10:.*]] = graft.clamp_ %{{.*}} {kind = #graft<clamp_kind clamp_min>, min = 0.000000e+00 : f64} : tensor<4x3xf32>
  %10 = graft.clamp_ %8 {kind = #graft<clamp_kind clamp_min>, min = 0.0 : f64} : tensor<4x3xf32>
  // CHECK: graft.zero_ %[[A10]]
  %9 = graft.zero_ %10 : tensor<4x3xf32>
}

// CHECK-LABEL: graft.model @linear_algebra
graft.model @linear_algebra {
  %v = graft.input "v" : tensor<3xf32>
  %m = graft.input "m" : tensor<2x3xf32>
  %n = graft.input "n" : tensor<3x5xf32>
  %q = graft.input "q" : tensor<7x1x2x3xf32>
  %k = graft.input "k" : tensor<4x3x5xf32>
  %w = graft.input "w" : tensor<6x3xf32>
  %bias = graft.input "bias" : tensor<6xf32>
  // CHECK: graft.matmul {{.*}} : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
  %0 = graft.matmul %v, %v : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
  // CHECK: graft.matmul {{.*}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2xf32>
  %1 = graft.matmul %m, %v : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2xf32>
  // CHECK: graft.matmul {{.*}} : (tensor<2x3xf32>, tensor<3x5xf32>) -> tensor<2x5xf32>
  %2 = graft.matmul %m, %n : (tensor<2x3xf32>, tensor<3x5xf32>) -> tensor<2x5xf32>
  // CHECK: graft.matmul {{.*}} : (tensor<7x1x2x3xf32>, tensor<4x3x5xf32>) -> tensor<7x4x2x5xf32>
  %3 = graft.matmul %q, %k : (tensor<7x1x2x3xf32>, tensor<4x3x5xf32>) -> tensor<7x4x2x5xf32>
  // CHECK: graft.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<6x3xf32>, tensor<6xf32>) -> tensor<2x6xf32>
  %4 = graft.linear %m, %w, %bias : (tensor<2x3xf32>, tensor<6x3xf32>, tensor<6xf32>) -> tensor<2x6xf32>
  // CHECK: graft.linear %{{.*}}, %{{.*}} : (tensor<7x1x2x3xf32>, tensor<6x3xf32>) -> tensor<7x1x2x6xf32>
  %5 = graft.linear %q, %w : (tensor<7x1x2x3xf32>, tensor<6x3xf32>) -> tensor<7x1x2x6xf32>
}

// CHECK-LABEL: graft.model @reductions
graft.model @reductions {
  %x = graft.input "x" : tensor<4x3x2xf32>
  // CHECK: graft.sum %{{.*}} : tensor<4x3x2xf32> -> tensor<f32>
  %0 = graft.sum %x : tensor<4x3x2xf32> -> tensor<f32>
  // CHECK: graft.sum %{{.*}} {dims = array<i64: 0, 2>} : tensor<4x3x2xf32> -> tensor<3xf32>
  %1 = graft.sum %x {dims = array<i64: 0, 2>} : tensor<4x3x2xf32> -> tensor<3xf32>
  // CHECK: graft.mean %{{.*}} {dims = array<i64: 1>, keepdim = true} : tensor<4x3x2xf32> -> tensor<4x1x2xf32>
  %2 = graft.mean %x {dims = array<i64: 1>, keepdim = true} : tensor<4x3x2xf32> -> tensor<4x1x2xf32>
  // CHECK: graft.max %{{.*}} {dims = array<i64: 2>} : tensor<4x3x2xf32> -> tensor<4x3xf32>
  %3 = graft.max %x {dims = array<i64: 2>} : tensor<4x3x2xf32> -> tensor<4x3xf32>
  // CHECK: graft.argmax %{{.*}} {dim = 1 : i64} : tensor<4x3x2xf32> -> tensor<4x2xi64>
  %4 = graft.argmax %x {dim = 1 : i64} : tensor<4x3x2xf32> -> tensor<4x2xi64>
}

// CHECK-LABEL: graft.model @layout
graft.model @layout {
  %x = graft.input "x" : tensor<2x3x4xf32>
  %b = graft.input "b" : tensor<4xf32>
  // CHECK: graft.reshape %{{.*}} : tensor<2x3x4xf32> -> tensor<6x4xf32>
  %0 = graft.reshape %x : tensor<2x3x4xf32> -> tensor<6x4xf32>
  // CHECK: graft.transpose %{{.*}} {dim0 = 0 : i64, dim1 = 2 : i64} : tensor<2x3x4xf32> -> tensor<4x3x2xf32>
  %1 = graft.transpose %x {dim0 = 0 : i64, dim1 = 2 : i64} : tensor<2x3x4xf32> -> tensor<4x3x2xf32>
  // CHECK: graft.permute %{{.*}} {dims = array<i64: 2, 0, 1>} : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  %2 = graft.permute %x {dims = array<i64: 2, 0, 1>} : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  // CHECK: graft.broadcast_to %{{.*}} : tensor<4xf32> -> tensor<5x3x4xf32>
  %3 = graft.broadcast_to %b : tensor<4xf32> -> tensor<5x3x4xf32>
  // CHECK: graft.slice %{{.*}} {dim = 2 : i64, end = 4 : i64, start = 1 : i64, step = 2 : i64} : tensor<2x3x4xf32> -> tensor<2x3x2xf32>
  %4 = graft.slice %x {dim = 2 : i64, start = 1 : i64, end = 4 : i64, step = 2 : i64} : tensor<2x3x4xf32> -> tensor<2x3x2xf32>
  // CHECK: graft.concat %{{.*}}, %{{.*}} {dim = 2 : i64} : (tensor<2x3x4xf32>, tensor<2x3x2xf32>) -> tensor<2x3x6xf32>
  %5 = graft.concat %x, %4 {dim = 2 : i64} : (tensor<2x3x4xf32>, tensor<2x3x2xf32>) -> tensor<2x3x6xf32>
}

// CHECK-LABEL: graft.model @nn
graft.model @nn {
  %x = graft.input "x" : tensor<8x1x28x28xf32>
  %w = graft.param "conv1.weight" init <kaiming_uniform> : tensor<6x1x5x5xf32>
  %cb = graft.param "conv1.bias" init <zeros> : tensor<6xf32>
  %g = graft.param "bn.weight" init <ones> : tensor<6xf32>
  %bb = graft.param "bn.bias" init <zeros> : tensor<6xf32>
  %rm = graft.buffer "bn.running_mean" init <zeros> : tensor<6xf32>
  %rv = graft.buffer "bn.running_var" init <ones> : tensor<6xf32>
  %seq = graft.input "seq" : tensor<2x8x16xf32>
  %tok = graft.input "tok" : tensor<2x8xi64>
  %y = graft.input "y" : tensor<8xi64>
  %emb = graft.param "wte.weight" init <normal> : tensor<65x16xf32>
  // CHECK: %[[C:.*]] = graft.conv2d %{{.*}}, %{{.*}}, %{{.*}} {padding = array<i64: 2, 2>} : (tensor<8x1x28x28xf32>, tensor<6x1x5x5xf32>, tensor<6xf32>) -> tensor<8x6x28x28xf32>
  %c = graft.conv2d %x, %w, %cb {padding = array<i64: 2, 2>} : (tensor<8x1x28x28xf32>, tensor<6x1x5x5xf32>, tensor<6xf32>) -> tensor<8x6x28x28xf32>
  // CHECK: graft.batch_norm %[[C]] weight %{{.*}} bias %{{.*}} running %{{.*}}, %{{.*}} : (tensor<8x6x28x28xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<8x6x28x28xf32>
  %bn = graft.batch_norm %c weight %g bias %bb running %rm, %rv : (tensor<8x6x28x28xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<8x6x28x28xf32>
  // CHECK: graft.batch_norm %[[C]] running %{{.*}}, %{{.*}} {eps = 1.000000e-03 : f64, momentum = 0.000000e+00 : f64}
  %bn2 = graft.batch_norm %c running %rm, %rv {momentum = 0.0 : f64, eps = 1.0e-3 : f64} : (tensor<8x6x28x28xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<8x6x28x28xf32>
  // CHECK: graft.max_pool2d %{{.*}} {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<8x6x28x28xf32> -> tensor<8x6x14x14xf32>
  %p = graft.max_pool2d %bn {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<8x6x28x28xf32> -> tensor<8x6x14x14xf32>
  // CHECK: graft.avg_pool2d %{{.*}} {ceil_mode = true, count_include_pad = false, kernel_size = array<i64: 3, 3>, padding = array<i64: 1, 1>, stride = array<i64: 2, 2>} : tensor<8x6x14x14xf32> -> tensor<8x6x8x8xf32>
  %ap = graft.avg_pool2d %p {kernel_size = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, ceil_mode = true, count_include_pad = false} : tensor<8x6x14x14xf32> -> tensor<8x6x8x8xf32>
  // CHECK: graft.softmax %{{.*}} {dim = 1 : i64} : tensor<8x6x8x8xf32>
  %sm = graft.softmax %ap {dim = 1 : i64} : tensor<8x6x8x8xf32>
  // CHECK: graft.log_softmax %{{.*}} {dim = 3 : i64} : tensor<8x6x8x8xf32>
  %lsm = graft.log_softmax %ap {dim = 3 : i64} : tensor<8x6x8x8xf32>
  // CHECK: graft.layer_norm %{{.*}} {eps = 9.9999999999999995E-7 : f64, normalized_shape = array<i64: 8, 16>} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %ln = graft.layer_norm %seq {normalized_shape = array<i64: 8, 16>, eps = 1.0e-6 : f64} : (tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  // CHECK: graft.dropout %{{.*}} {p = 1.000000e-01 : f64} : tensor<2x8x16xf32>
  %d = graft.dropout %ln {p = 0.1 : f64} : tensor<2x8x16xf32>
  // CHECK: graft.embedding %{{.*}}, %{{.*}} {padding_idx = 0 : i64} : (tensor<65x16xf32>, tensor<2x8xi64>) -> tensor<2x8x16xf32>
  %e = graft.embedding %emb, %tok {padding_idx = 0 : i64} : (tensor<65x16xf32>, tensor<2x8xi64>) -> tensor<2x8x16xf32>
  // CHECK: graft.scaled_dot_product_attention %{{.*}}, %{{.*}}, %{{.*}} {is_causal = true, scale = 2.500000e-01 : f64} : (tensor<2x8x16xf32>, tensor<2x8x16xf32>, tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %att = graft.scaled_dot_product_attention %e, %e, %e {is_causal = true, scale = 0.25 : f64} : (tensor<2x8x16xf32>, tensor<2x8x16xf32>, tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %flat = graft.reshape %p : tensor<8x6x14x14xf32> -> tensor<8x1176xf32>
  // CHECK: graft.cross_entropy %{{.*}}, %{{.*}} {ignore_index = 0 : i64, label_smoothing = 1.000000e-01 : f64} : (tensor<8x1176xf32>, tensor<8xi64>) -> tensor<f32>
  %ce = graft.cross_entropy %flat, %y {label_smoothing = 0.1 : f64, ignore_index = 0 : i64} : (tensor<8x1176xf32>, tensor<8xi64>) -> tensor<f32>
  // CHECK: graft.cross_entropy %{{.*}}, %{{.*}} {reduction = #graft<reduction none>} : (tensor<8x1176xf32>, tensor<8xi64>) -> tensor<8xf32>
  %cen = graft.cross_entropy %flat, %y {reduction = #graft<reduction none>} : (tensor<8x1176xf32>, tensor<8xi64>) -> tensor<8xf32>
  // CHECK: graft.nll_loss %{{.*}}, %{{.*}} {reduction = #graft<reduction sum>} : (tensor<8x1176xf32>, tensor<8xi64>) -> tensor<f32>
  %nll = graft.nll_loss %flat, %y {reduction = #graft<reduction sum>} : (tensor<8x1176xf32>, tensor<8xi64>) -> tensor<f32>
  // CHECK: graft.mse_loss %{{.*}}, %{{.*}} : (tensor<2x8x16xf32>, tensor<2x8x16xf32>) -> tensor<f32>
  %mse = graft.mse_loss %d, %att : (tensor<2x8x16xf32>, tensor<2x8x16xf32>) -> tensor<f32>
  // CHECK: graft.detach %{{.*}} : tensor<f32>
  %det = graft.detach %mse : tensor<f32>
  // CHECK: graft.clone %{{.*}} : tensor<f32>
  %cl = graft.clone %mse : tensor<f32>
}

// CHECK-LABEL: graft.model @backward_ops
graft.model @backward_ops {
  %g = graft.input "g" : tensor<8x6x14x14xf32>
  %x = graft.input "x" : tensor<8x6x28x28xf32>
  %w = graft.input "w" : tensor<6x1x5x5xf32>
  %gc = graft.input "gc" : tensor<8x6x28x28xf32>
  %xi = graft.input "xi" : tensor<8x1x28x28xf32>
  %y = graft.input "y" : tensor<16xi64>
  %ge = graft.input "ge" : tensor<16x32xf32>
  %gs = graft.input "gs" : tensor<2x64xf32>
  // CHECK: graft.erf %{{.*}} : tensor<2x64xf32>
  %e = graft.erf %gs : tensor<2x64xf32>
  // CHECK: graft.read_grad "g.grad" %{{.*}} : tensor<2x64xf32>
  graft.read_grad "g.grad" %gs : tensor<2x64xf32>
  // CHECK: graft.one_hot %{{.*}} : tensor<16xi64> -> tensor<16x10xf32>
  %0 = graft.one_hot %y : tensor<16xi64> -> tensor<16x10xf32>
  // CHECK: graft.slice_backward %{{.*}} {dim = 1 : i64, end = 64 : i64, start = 0 : i64} : tensor<2x64xf32> -> tensor<2x192xf32>
  %1 = graft.slice_backward %gs {dim = 1 : i64, start = 0 : i64, end = 64 : i64} : tensor<2x64xf32> -> tensor<2x192xf32>
  // CHECK: graft.conv2d_backward_input %{{.*}}, %{{.*}} {padding = array<i64: 2, 2>} : (tensor<8x6x28x28xf32>, tensor<6x1x5x5xf32>) -> tensor<8x1x28x28xf32>
  %2 = graft.conv2d_backward_input %gc, %w {padding = array<i64: 2, 2>} : (tensor<8x6x28x28xf32>, tensor<6x1x5x5xf32>) -> tensor<8x1x28x28xf32>
  // CHECK: graft.conv2d_backward_weight %{{.*}}, %{{.*}} {padding = array<i64: 2, 2>} : (tensor<8x6x28x28xf32>, tensor<8x1x28x28xf32>) -> tensor<6x1x5x5xf32>
  %3 = graft.conv2d_backward_weight %gc, %xi {padding = array<i64: 2, 2>} : (tensor<8x6x28x28xf32>, tensor<8x1x28x28xf32>) -> tensor<6x1x5x5xf32>
  // CHECK: graft.max_pool2d_backward %{{.*}}, %{{.*}} {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>}
  %4 = graft.max_pool2d_backward %g, %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<8x6x14x14xf32>, tensor<8x6x28x28xf32>) -> tensor<8x6x28x28xf32>
  // CHECK: graft.avg_pool2d_backward %{{.*}} {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<8x6x14x14xf32> -> tensor<8x6x28x28xf32>
  %5 = graft.avg_pool2d_backward %g {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<8x6x14x14xf32> -> tensor<8x6x28x28xf32>
  // CHECK: graft.embedding_backward %{{.*}}, %{{.*}} {padding_idx = 0 : i64} : (tensor<16x32xf32>, tensor<16xi64>) -> tensor<65x32xf32>
  %6 = graft.embedding_backward %ge, %y {padding_idx = 0 : i64} : (tensor<16x32xf32>, tensor<16xi64>) -> tensor<65x32xf32>
  // CHECK: %[[HC:.*]] = graft.hook_call "h" %{{.*}} : tensor<16x32xf32>
  %7 = graft.hook_call "h" %ge : tensor<16x32xf32>
  // CHECK: graft.gradient "h" %[[HC]] : tensor<16x32xf32>
  graft.gradient "h" %7 : tensor<16x32xf32>
}

// An entry point's arguments and results carry their role and name.
// CHECK-LABEL: func.func @entry_point
// CHECK-SAME: (%{{.*}}: tensor<2xf32> {graft.name = "w", graft.role = #graft<role param>})
// CHECK-SAME: -> (tensor<2xf32> {graft.name = "w", graft.role = #graft<role retained_grad>})
func.func @entry_point(%w: tensor<2xf32> {graft.role = #graft<role param>, graft.name = "w"}) -> (tensor<2xf32> {graft.role = #graft<role retained_grad>, graft.name = "w"}) {
  return %w : tensor<2xf32>
}
