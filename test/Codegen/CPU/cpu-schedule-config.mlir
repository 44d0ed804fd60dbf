// graft-cpu-schedule carries out a product's #graft.lowering_config,
// whoever wrote it: here 2x16 register tiles (not the strategy's 4x64),
// the column blocks outside, no padded copy of B; the config does not
// outlive the tiling.

// RUN: graft-opt %s --graft-cpu-schedule=vector-bits=512 | FileCheck %s

// CHECK-LABEL: func.func @given
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-NOT: linalg.copy
// CHECK: scf.for %[[N:.*]] = %{{.*}} to %{{.*}} step %[[C16]]
// CHECK: scf.for %[[M:.*]] = %{{.*}} to %{{.*}} step %[[C2]]
// CHECK-NOT: graft.lowering_config
#kn = affine_map<(m, n, k) -> (k, n)>
#mk = affine_map<(m, n, k) -> (m, k)>
#mn = affine_map<(m, n, k) -> (m, n)>
func.func @given(%a: tensor<64x512xf32>, %b: tensor<512x256xf32>, %c: tensor<64x256xf32>) -> tensor<64x256xf32> {
  %r = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : tensor<64x512xf32>, tensor<512x256xf32>) outs(%c : tensor<64x256xf32>) attrs = {graft.contraction, graft.lowering_config = #graft.lowering_config<tile_sizes = [2, 16, 0] interchange = [1, 0, 2]>} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<64x256xf32>
  return %r : tensor<64x256xf32>
}
