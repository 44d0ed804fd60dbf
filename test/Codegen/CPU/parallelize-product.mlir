// RUN: graft-opt %s --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg, graft-fuse-elementwise), graft-cpu-schedule, canonicalize, one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map}, canonicalize, func.func(graft-parallelize-loops{min-work=1}))' | FileCheck %s

// End to end: graft-cpu-schedule makes the row blocks of a product an
// scf.forall, bufferization keeps it, and it becomes an scf.parallel; the
// k loop inside stays sequential.

// CHECK-LABEL: func.func @product(
// CHECK: scf.parallel (%{{.+}}) = (%{{.+}}) to (%c24) step (%c6)
// CHECK: scf.for
// CHECK: vector.fma
func.func @product(%a: tensor<24x32xf32>, %w: tensor<32x64xf32>) -> tensor<24x64xf32> {
  %p = graft.matmul %a, %w : (tensor<24x32xf32>, tensor<32x64xf32>) -> tensor<24x64xf32>
  return %p : tensor<24x64xf32>
}

// Few row blocks, many column blocks: threads split the columns.

// CHECK-LABEL: func.func @few_rows(
// CHECK: scf.parallel (%{{.+}}) = (%{{.+}}) to (%c512) step (%c64)
// CHECK: scf.for
// CHECK: vector.fma
func.func @few_rows(%w: tensor<6x25xf32>, %col: tensor<25x512xf32>) -> tensor<6x512xf32> {
  %p = graft.matmul %w, %col : (tensor<6x25xf32>, tensor<25x512xf32>) -> tensor<6x512xf32>
  return %p : tensor<6x512xf32>
}
