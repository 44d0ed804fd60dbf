// graft-cpu-schedule carries out a product's #graft.lowering_config,
// whoever wrote it: here 2x16 register tiles (not the strategy's 4x64),
// the column blocks outside, no padded copy of B, one thread (no
// `threads`); the config does not outlive the tiling.

// RUN: graft-opt %s --split-input-file --graft-cpu-schedule=vector-bits=512 | FileCheck %s

// CHECK-LABEL: func.func @given
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-NOT: linalg.copy
// CHECK-NOT: scf.forall
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

// -----

// The same with `threads = 1`: the column blocks are an scf.forall, the
// rows tiled inside each block.

// CHECK-LABEL: func.func @threads
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK: scf.forall (%{{.*}}) = (0) to (256) step (16)
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C2]]
// CHECK-NOT: graft.lowering_config
#kn = affine_map<(m, n, k) -> (k, n)>
#mk = affine_map<(m, n, k) -> (m, k)>
#mn = affine_map<(m, n, k) -> (m, n)>
func.func @threads(%a: tensor<64x512xf32>, %b: tensor<512x256xf32>, %c: tensor<64x256xf32>) -> tensor<64x256xf32> {
  %r = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : tensor<64x512xf32>, tensor<512x256xf32>) outs(%c : tensor<64x256xf32>) attrs = {graft.contraction, graft.lowering_config = #graft.lowering_config<tile_sizes = [2, 16, 0] interchange = [1, 0, 2] threads = 1>} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<64x256xf32>
  return %r : tensor<64x256xf32>
}

// -----

// Another op with a config on tensors is tiled as it says: a reduction
// split across threads by blocks of 4 rows (the strategy's would be 1).

// CHECK-LABEL: func.func @split
// CHECK: scf.forall (%[[I:.*]]) = (0) to (64) step (4) shared_outs(%[[OUT:.*]] = %{{.*}})
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<4xf32>)
// CHECK: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][%[[I]]] [4] [1]
// CHECK-NOT: graft.lowering_config
func.func @split(%x: tensor<64x1024xf32>, %y: tensor<64xf32>) -> tensor<64xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<64x1024xf32>) outs(%y : tensor<64xf32>)
      attrs = {graft.lowering_config = #graft.lowering_config<tile_sizes = [4, 0] threads = 0>} {
  ^bb0(%i: f32, %o: f32):
    %s = arith.addf %o, %i : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  return %r : tensor<64xf32>
}
