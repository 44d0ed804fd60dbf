// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg, graft-fuse-elementwise))' | FileCheck %s

// An elementwise chain fuses into one loop nest: relu(x + b).

// CHECK-LABEL: func.func @bias_relu(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<4x8xf32>, %[[B:[a-z0-9]+]]: tensor<8xf32>
// CHECK: %[[R:.+]] = linalg.generic {{.+}} ins(%[[X]], %[[B]] : tensor<4x8xf32>, tensor<8xf32>)
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK-NOT: linalg.generic
// CHECK: return %[[R]]
func.func @bias_relu(%x: tensor<4x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %s = graft.add %x, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %r = graft.relu %s : tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// A producer read by a product is materialised once, not recomputed per k:
// the product keeps its schedule marker and reads the exp's result.

// CHECK-LABEL: func.func @exp_into_product(
// CHECK: %[[E:.+]] = linalg.generic {{.+}}iterator_types = ["parallel", "parallel"]
// CHECK: math.exp
// CHECK: linalg.generic {{.+}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} ins(%[[E]], %{{.+}} : tensor<8x16xf32>, tensor<16x32xf32>)
// CHECK-SAME: graft.contraction
// CHECK-NOT: math.exp
func.func @exp_into_product(%a: tensor<8x16xf32>, %w: tensor<16x32xf32>) -> tensor<8x32xf32> {
  %e = graft.exp %a : tensor<8x16xf32>
  %p = graft.matmul %e, %w : (tensor<8x16xf32>, tensor<16x32xf32>) -> tensor<8x32xf32>
  return %p : tensor<8x32xf32>
}

// -----

// An elementwise producer feeding a row reduction over every loop fuses.

// CHECK-LABEL: func.func @sum_of_exp(
// CHECK: linalg.generic {{.+}}iterator_types = ["parallel", "reduction"]
// CHECK: math.exp
// CHECK: arith.addf
func.func @sum_of_exp(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %e = graft.exp %x : tensor<4x8xf32>
  %s = graft.sum %e {dims = array<i64: 1>} : tensor<4x8xf32> -> tensor<4xf32>
  return %s : tensor<4xf32>
}

// -----

// A long sum's first stage reads its operand split by a tensor.expand_shape
// (convert-graft-to-linalg): the exp is rewritten on the split shape and
// fuses into that stage as into a short sum.

// CHECK-LABEL: func.func @long_sum_of_exp(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<4x1024xf32>
// CHECK: %[[SPLIT:.+]] = tensor.expand_shape %[[X]] {{\[}}[0], [1, 2]] output_shape [4, 32, 32]
// CHECK: %[[PARTIAL:.+]] = linalg.generic {{.+}}iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[SPLIT]] : tensor<4x32x32xf32>)
// CHECK: math.exp
// CHECK: arith.addf
// CHECK: linalg.generic {{.+}}iterator_types = ["parallel", "reduction"]} ins(%[[PARTIAL]] : tensor<4x32xf32>)
// CHECK-NOT: math.exp
func.func @long_sum_of_exp(%x: tensor<4x1024xf32>) -> tensor<4xf32> {
  %e = graft.exp %x : tensor<4x1024xf32>
  %s = graft.sum %e {dims = array<i64: 1>} : tensor<4x1024xf32> -> tensor<4xf32>
  return %s : tensor<4xf32>
}
