// graft-gpu-fold-transposes: a product reading a transposed copy reads the
// source through the permuted map, and the transpose goes; not when the
// source is overwritten in between, nor when anything but a product reads
// the copy. (gpu-schedule.mlir builds kernels from such products.)
// RUN: graft-opt %s -pass-pipeline='builtin.module(func.func(graft-gpu-fold-transposes))' | FileCheck %s

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// CHECK-DAG: #[[NK:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @folded
// CHECK-SAME: (%[[X:.*]]: memref<64x32xf32>, %[[W:.*]]: memref<48x32xf32>, %[[WT:.*]]: memref<32x48xf32>, %[[Y:.*]]: memref<64x48xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[NK]], #{{.*}}]
// CHECK-SAME: ins(%[[X]], %[[W]] : memref<64x32xf32>, memref<48x32xf32>)
func.func @folded(%x: memref<64x32xf32>, %w: memref<48x32xf32>, %wt: memref<32x48xf32>, %y: memref<64x48xf32>) {
  linalg.transpose ins(%w : memref<48x32xf32>) outs(%wt : memref<32x48xf32>) permutation = [1, 0]
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wt : memref<64x32xf32>, memref<32x48xf32>) outs(%y : memref<64x48xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @source_overwritten
// CHECK: linalg.transpose
// CHECK: linalg.fill
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : memref<64x32xf32>, memref<32x48xf32>)
func.func @source_overwritten(%x: memref<64x32xf32>, %w: memref<48x32xf32>, %wt: memref<32x48xf32>, %y: memref<64x48xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.transpose ins(%w : memref<48x32xf32>) outs(%wt : memref<32x48xf32>) permutation = [1, 0]
  linalg.fill ins(%zero : f32) outs(%w : memref<48x32xf32>)
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wt : memref<64x32xf32>, memref<32x48xf32>) outs(%y : memref<64x48xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @read_by_a_copy
// CHECK: linalg.transpose
// CHECK: linalg.generic
// CHECK: memref.copy
func.func @read_by_a_copy(%x: memref<64x32xf32>, %w: memref<48x32xf32>, %wt: memref<32x48xf32>, %y: memref<64x48xf32>, %o: memref<32x48xf32>) {
  linalg.transpose ins(%w : memref<48x32xf32>) outs(%wt : memref<32x48xf32>) permutation = [1, 0]
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wt : memref<64x32xf32>, memref<32x48xf32>) outs(%y : memref<64x48xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  memref.copy %wt, %o : memref<32x48xf32> to memref<32x48xf32>
  return
}
