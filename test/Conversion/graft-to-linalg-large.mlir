// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg{pool-taps=true}))' | FileCheck %s

// Lowerings whose size must not grow with an attribute or a shape.

// Max pooling with a kernel of more than 16 taps is one window generic even
// with pool-taps (the CPU): one op per tap made a 28x28 kernel (784 taps)
// take minutes in bufferization.

// CHECK-LABEL: func.func @max_pool2d_large_kernel(
// CHECK-NOT: tensor.extract_slice
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%{{.+}}, %{{.+}} : tensor<1x28x28xf32>, tensor<28x28xf32>) outs(%{{.+}} : tensor<1x1x1xf32>)
// CHECK: arith.maximumf
// CHECK-NOT: tensor.extract_slice
// CHECK: return
func.func @max_pool2d_large_kernel(%x: tensor<1x1x28x28xf32>) -> tensor<1x1x1x1xf32> {
  %y = graft.max_pool2d %x {kernel_size = array<i64: 28, 28>, stride = array<i64: 28, 28>} : tensor<1x1x28x28xf32> -> tensor<1x1x1x1xf32>
  return %y : tensor<1x1x1x1xf32>
}

// -----

// Its gradient's argmax likewise: one window generic, then the scatter-add.

// CHECK-LABEL: func.func @max_pool2d_backward_large_kernel(
// CHECK-NOT: tensor.extract_slice
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%{{.+}}, %{{.+}} : tensor<1x28x28xf32>, tensor<28x28xf32>) outs(%{{.+}}, %{{.+}} : tensor<1x1x1xf32>, tensor<1x1x1xi64>)
// CHECK: arith.cmpf ogt
// CHECK-NOT: tensor.extract_slice
// CHECK: scf.for
func.func @max_pool2d_backward_large_kernel(%g: tensor<1x1x1x1xf32>, %x: tensor<1x1x28x28xf32>) -> tensor<1x1x28x28xf32> {
  %gx = graft.max_pool2d_backward %g, %x {kernel_size = array<i64: 28, 28>, stride = array<i64: 28, 28>} : (tensor<1x1x1x1xf32>, tensor<1x1x28x28xf32>) -> tensor<1x1x28x28xf32>
  return %gx : tensor<1x1x28x28xf32>
}

// -----

// A splat constant of more than 4096 elements fills an empty tensor rather
// than materialising every element (2^31 of them: an 8 GiB global).

// CHECK-LABEL: func.func @splat_big(
// CHECK: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[E:.+]] = tensor.empty() : tensor<2147483648xf32>
// CHECK: linalg.fill ins(%[[ONE]] : f32) outs(%[[E]] : tensor<2147483648xf32>)
// CHECK-NOT: dense<
func.func @splat_big() -> tensor<2147483648xf32> {
  %0 = graft.constant dense<1.0> : tensor<2147483648xf32>
  return %0 : tensor<2147483648xf32>
}

// -----

// Small splats stay dense constants.

// CHECK-LABEL: func.func @splat_small(
// CHECK: arith.constant dense<2.000000e+00> : tensor<4096xf32>
// CHECK-NOT: linalg.fill
func.func @splat_small() -> tensor<4096xf32> {
  %0 = graft.constant dense<2.0> : tensor<4096xf32>
  return %0 : tensor<4096xf32>
}
