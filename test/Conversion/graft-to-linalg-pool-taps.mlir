// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg{pool-taps=true}))' | FileCheck %s

// With pool-taps (the CPU), max pooling reads its kernel tap by tap: one
// elementwise generic over the outputs whose inputs are the taps' strided
// windows of the -inf padded input (stride 2 here), (kh, kw) in order, and
// whose body takes the running maximum over them in that order; the CPU
// vectorises it along ow, in one pass over the outputs. (Without the
// option, test/Conversion/graft-to-linalg.mlir: one window generic.)

// CHECK-LABEL: func.func @max_pool2d(
// CHECK: linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x6x6xf32>)
// CHECK: %[[XP:.+]] = linalg.generic
// CHECK: %[[Y0:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x3x3xf32>)
// CHECK: %[[T0:.+]] = tensor.extract_slice %[[XP]][0, 0, 0] [1, 3, 3] [1, 2, 2]
// CHECK: %[[T1:.+]] = tensor.extract_slice %[[XP]][0, 0, 1] [1, 3, 3] [1, 2, 2]
// CHECK: %[[T2:.+]] = tensor.extract_slice %[[XP]][0, 1, 0] [1, 3, 3] [1, 2, 2]
// CHECK: %[[T3:.+]] = tensor.extract_slice %[[XP]][0, 1, 1] [1, 3, 3] [1, 2, 2]
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[T0]], %[[T1]], %[[T2]], %[[T3]] : tensor<1x3x3xf32>, tensor<1x3x3xf32>, tensor<1x3x3xf32>, tensor<1x3x3xf32>) outs(%[[Y0]] : tensor<1x3x3xf32>)
// CHECK: ^bb0(%[[V0:.+]]: f32, %[[V1:.+]]: f32, %[[V2:.+]]: f32, %[[V3:.+]]: f32, %[[ACC:.+]]: f32):
// CHECK: %[[M0:.+]] = arith.maximumf %[[ACC]], %[[V0]] : f32
// CHECK: %[[M1:.+]] = arith.maximumf %[[M0]], %[[V1]] : f32
// CHECK: %[[M2:.+]] = arith.maximumf %[[M1]], %[[V2]] : f32
// CHECK: %[[M3:.+]] = arith.maximumf %[[M2]], %[[V3]] : f32
// CHECK: linalg.yield %[[M3]]
// CHECK-NOT: "reduction"
func.func @max_pool2d(%x: tensor<1x1x5x5xf32>) -> tensor<1x1x3x3xf32> {
  %y = graft.max_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, ceil_mode = true} : tensor<1x1x5x5xf32> -> tensor<1x1x3x3xf32>
  return %y : tensor<1x1x3x3xf32>
}

// -----

// The gradient's argmax, the first maximal element of each window (-1:
// none), from the taps likewise: one elementwise generic updating (best,
// index) tap by tap in its body; then the same scatter-add.

// CHECK-LABEL: func.func @max_pool2d_backward(
// CHECK: %[[NONE:.+]] = linalg.fill ins(%{{.+}} : i64) outs(%{{.+}} : tensor<1x3x3xi64>)
// CHECK: %[[TAP0:.+]] = tensor.extract_slice %{{.+}}[0, 0, 0] [1, 3, 3] [1, 2, 2]
// CHECK: tensor.extract_slice %{{.+}}[0, 0, 1] [1, 3, 3] [1, 2, 2]
// CHECK: tensor.extract_slice %{{.+}}[0, 1, 0] [1, 3, 3] [1, 2, 2]
// CHECK: %[[TAP3:.+]] = tensor.extract_slice %{{.+}}[0, 1, 1] [1, 3, 3] [1, 2, 2]
// CHECK: %[[ARG:.+]]:2 = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[TAP0]], %{{.+}}, %{{.+}}, %[[TAP3]] : {{.+}}) outs(%{{.+}}, %[[NONE]] : tensor<1x3x3xf32>, tensor<1x3x3xi64>)
// CHECK-COUNT-4: arith.cmpf ogt
// CHECK: scf.for
// CHECK: tensor.extract %[[ARG]]#1
func.func @max_pool2d_backward(%g: tensor<1x1x3x3xf32>, %x: tensor<1x1x5x5xf32>) -> tensor<1x1x5x5xf32> {
  %gx = graft.max_pool2d_backward %g, %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, ceil_mode = true} : (tensor<1x1x3x3xf32>, tensor<1x1x5x5xf32>) -> tensor<1x1x5x5xf32>
  return %gx : tensor<1x1x5x5xf32>
}
