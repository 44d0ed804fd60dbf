// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg{batch-products=true}))' | FileCheck %s
// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg))' | FileCheck %s --check-prefix=GENERIC

// With batch-products (the CPU), a batched product is an scf.for over the
// flattened batch (2 x 3 here): iteration i takes the 2-D slices at batch
// index (i / 3, i % 3), multiplies them with a 2-D product marked
// graft.contraction (which graft-cpu-schedule tiles for registers) into
// the result's slice, and inserts it back. Without the option (the GPU),
// one generic over (b0, b1, m, k, n).

// CHECK-LABEL: func.func @attention_scores(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<2x3x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<2x3x8x5xf32>
// CHECK: %[[ZERO:.+]] = linalg.fill {{.+}} -> tensor<2x3x4x5xf32>
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C6:.+]] = arith.constant 6 : index
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK: %[[R:.+]] = scf.for %[[I:[a-z0-9]+]] = %[[C0]] to %[[C6]] step %[[C1]] iter_args(%[[ACC:[a-z0-9]+]] = %[[ZERO]]) -> (tensor<2x3x4x5xf32>)
// CHECK-NEXT: %[[C3:.+]] = arith.constant 3 : index
// CHECK: %[[B1:.+]] = arith.remui %[[I]], %[[C3]]
// CHECK: %[[B0:.+]] = arith.divui %[[I]], %[[C3]]
// CHECK: %[[QS:.+]] = tensor.extract_slice %[[Q]][%[[B0]], %[[B1]], 0, 0] [1, 1, 4, 8] [1, 1, 1, 1] : tensor<2x3x4x8xf32> to tensor<4x8xf32>
// CHECK: %[[KS:.+]] = tensor.extract_slice %[[K]][%[[B0]], %[[B1]], 0, 0] [1, 1, 8, 5] [1, 1, 1, 1] : tensor<2x3x8x5xf32> to tensor<8x5xf32>
// CHECK: %[[AS:.+]] = tensor.extract_slice %[[ACC]][%[[B0]], %[[B1]], 0, 0] [1, 1, 4, 5] [1, 1, 1, 1] : tensor<2x3x4x5xf32> to tensor<4x5xf32>
// CHECK: %[[P:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[QS]], %[[KS]] : tensor<4x8xf32>, tensor<8x5xf32>) outs(%[[AS]] : tensor<4x5xf32>) attrs = {graft.contraction}
// CHECK: %[[NEXT:.+]] = tensor.insert_slice %[[P]] into %[[ACC]][%[[B0]], %[[B1]], 0, 0] [1, 1, 4, 5] [1, 1, 1, 1] : tensor<4x5xf32> into tensor<2x3x4x5xf32>
// CHECK: scf.yield %[[NEXT]]
// CHECK: return %[[R]]
// GENERIC-LABEL: func.func @attention_scores(
// GENERIC-NOT: scf.for
// GENERIC: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]}
func.func @attention_scores(%q: tensor<2x3x4x8xf32>, %k: tensor<2x3x8x5xf32>) -> tensor<2x3x4x5xf32> {
  %s = graft.matmul %q, %k : (tensor<2x3x4x8xf32>, tensor<2x3x8x5xf32>) -> tensor<2x3x4x5xf32>
  return %s : tensor<2x3x4x5xf32>
}

// -----

// A broadcast batch dim (the weight's missing and unit ones) is sliced at 0.

// CHECK-LABEL: func.func @broadcast(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x3x4x8xf32>, %[[W:[a-z0-9]+]]: tensor<1x8x5xf32>
// CHECK: scf.for %[[I:[a-z0-9]+]] =
// CHECK: %[[B1:.+]] = arith.remui %[[I]]
// CHECK: %[[B0:.+]] = arith.divui %[[I]]
// CHECK: tensor.extract_slice %[[X]][%[[B0]], %[[B1]], 0, 0] [1, 1, 4, 8]
// CHECK: tensor.extract_slice %[[W]][0, 0, 0] [1, 8, 5] [1, 1, 1] : tensor<1x8x5xf32> to tensor<8x5xf32>
// CHECK: linalg.generic {{.+}} attrs = {graft.contraction}
func.func @broadcast(%x: tensor<2x3x4x8xf32>, %w: tensor<1x8x5xf32>) -> tensor<2x3x4x5xf32> {
  %s = graft.matmul %x, %w : (tensor<2x3x4x8xf32>, tensor<1x8x5xf32>) -> tensor<2x3x4x5xf32>
  return %s : tensor<2x3x4x5xf32>
}
