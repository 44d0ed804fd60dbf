// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(graft-cpu-vectorize, canonicalize)' | FileCheck %s
// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(graft-cpu-vectorize{vector-bits=256}, canonicalize)' | FileCheck %s --check-prefix=AVX2

// Elementwise on buffers: one 16-lane vector per tile along the innermost
// dimension, and a static 4-lane tail (36 = 2 * 16 + 4); with AVX2, 8
// lanes (36 = 4 * 8 + 4). The result is written where the op wrote it.

// CHECK-LABEL: func.func @elementwise(
// CHECK-SAME: %[[X:[^:]+]]: memref<3x36xf32>, %[[Y:[^:]+]]: memref<3x36xf32>
// CHECK: scf.for %[[I:.+]] = %c0 to %c3 step %c1
// CHECK: scf.for %[[J:.+]] = %c0 to %c32 step %c16
// CHECK: %[[XT:.+]] = memref.subview %[[X]][%[[I]], %[[J]]] [1, 16]
// CHECK: %[[YT:.+]] = memref.subview %[[Y]][%[[I]], %[[J]]] [1, 16]
// CHECK: vector.transfer_read %[[XT]]{{.+}} vector<16xf32>
// CHECK: math.sqrt %{{.+}} : vector<1x16xf32>
// CHECK: vector.transfer_write %{{.+}}, %[[YT]]{{.+}} : vector<16xf32>
// CHECK: math.sqrt %{{.+}} : vector<1x4xf32>
// CHECK-NOT: linalg.generic
// AVX2-LABEL: func.func @elementwise(
// AVX2: scf.for %{{.+}} = %c0 to %c32 step %c8
// AVX2: math.sqrt %{{.+}} : vector<1x8xf32>
// AVX2: math.sqrt %{{.+}} : vector<1x4xf32>
func.func @elementwise(%x: memref<3x36xf32>, %y: memref<3x36xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<3x36xf32>) outs(%y : memref<3x36xf32>) {
  ^bb0(%a: f32, %b: f32):
    %t = math.sqrt %a : f32
    linalg.yield %t : f32
  }
  return
}

// -----

// tanh (GELU's tanh form), erf (its exact form) and exp (softmax, the
// losses) become polynomial or rational approximations in arith ops on the
// vectors, not one libm call per lane; the scalar tail (3 = 0 * 16 + 3
// lanes here: a vector<1x3>) uses the same formulas.

// CHECK-LABEL: func.func @approximated(
// CHECK-NOT: math.tanh
// CHECK-NOT: math.erf
// CHECK-NOT: math.exp
// CHECK: arith.divf %{{.+}} : vector<1x3xf32>
// CHECK-NOT: math.tanh
// CHECK-NOT: math.erf
// CHECK-NOT: math.exp
// CHECK: return
func.func @approximated(%x: memref<2x3xf32>, %y: memref<2x3xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<2x3xf32>) outs(%y : memref<2x3xf32>) {
  ^bb0(%a: f32, %b: f32):
    %t = math.tanh %a : f32
    %e = math.erf %t : f32
    %x2 = math.exp %e : f32
    linalg.yield %x2 : f32
  }
  return
}

// -----

// Masks (i1 buffers) stay scalar: a vector of i1 is a bit mask in memory.

// CHECK-LABEL: func.func @mask(
// CHECK-NOT: vector<
// CHECK: linalg.generic
// CHECK: arith.cmpf ogt, %{{.+}} : f32
func.func @mask(%x: memref<4x32xf32>, %m: memref<4x32xi1>) {
  %z = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x32xf32>) outs(%m : memref<4x32xi1>) {
  ^bb0(%a: f32, %b: i1):
    %c = arith.cmpf ogt, %a, %z : f32
    linalg.yield %c : i1
  }
  return
}

// -----

// A 0-d i1 input (SGD's "first step" flag, choosing the gradient over the
// momentum update) is loaded once and broadcast: the update is vectorised.

// CHECK-LABEL: func.func @first_step(
// CHECK-SAME: %[[FIRST:[^:]+]]: memref<i1>
// CHECK: scf.for
// CHECK: %[[F:.+]] = vector.transfer_read %[[FIRST]][], %{{.+}} : memref<i1>, vector<i1>
// CHECK: %[[B:.+]] = vector.broadcast %[[F]] : vector<i1> to vector<16xi1>
// CHECK: arith.select %[[B]], %{{.+}}, %{{.+}} : vector<16xi1>, vector<16xf32>
func.func @first_step(%first: memref<i1>, %g: memref<64xf32>, %buf: memref<64xf32>) {
  %mom = arith.constant 0.9 : f32
  linalg.generic {indexing_maps = [affine_map<(i) -> ()>, affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                  iterator_types = ["parallel"]}
      ins(%first, %g : memref<i1>, memref<64xf32>) outs(%buf : memref<64xf32>) {
  ^bb0(%f: i1, %a: f32, %b: f32):
    %s = arith.mulf %b, %mom : f32
    %u = arith.addf %s, %a : f32
    %r = arith.select %f, %a, %u : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A transpose moves square 16x16 blocks (8x8 with AVX2) through registers:
// the block's rows are read, transposed by shuffles (64 for 16x16, not
// one extract and insert per element), and written row by row.

// CHECK-LABEL: func.func @transpose(
// CHECK: scf.for %{{.+}} = %c0 to %c48 step %c16
// CHECK: scf.for %{{.+}} = %c0 to %c32 step %c16
// CHECK-COUNT-16: vector.transfer_read {{.+}} vector<16xf32>
// CHECK-COUNT-64: vector.shuffle
// CHECK-COUNT-16: vector.transfer_write {{.+}} : vector<16xf32>
// CHECK-NOT: vector.extract {{.+}} : f32
// CHECK: return
// AVX2-LABEL: func.func @transpose(
// AVX2-COUNT-8: vector.transfer_read {{.+}} vector<8xf32>
// AVX2: vector.shuffle {{.+}} : vector<64xf32>, vector<64xf32>
// AVX2-COUNT-8: vector.transfer_write {{.+}} : vector<8xf32>
func.func @transpose(%a: memref<32x48xf32>, %t: memref<48x32xf32>) {
  linalg.transpose ins(%a : memref<32x48xf32>) outs(%t : memref<48x32xf32>) permutation = [1, 0]
  return
}

// -----

// A sum over the outer dim (a bias gradient: over the batch) vectorises
// along the columns, one row at a time: the column loop outside (split
// across threads when large), the rows inside in order, so every column
// adds its terms in the order of the op's loops.

// CHECK-LABEL: func.func @column_sum(
// CHECK-SAME: %[[X:[^:]+]]: memref<128x40xf32>, %[[S:[^:]+]]: memref<40xf32>
// CHECK: scf.for %[[J:.+]] = %c0 to %c32 step %c16
// CHECK: scf.for %[[I:.+]] = %c0 to %c128 step %c1
// CHECK: %[[XT:.+]] = memref.subview %[[X]][%[[I]], %[[J]]] [1, 16]
// CHECK: %[[ST:.+]] = memref.subview %[[S]][%[[J]]] [16]
// CHECK: %[[ROW:.+]] = vector.transfer_read %[[XT]]{{.+}} vector<16xf32>
// CHECK: %[[ACC:.+]] = vector.transfer_read %[[ST]]{{.+}} vector<16xf32>
// CHECK: %[[SUM:.+]] = arith.addf %[[ACC]], %[[ROW]] : vector<16xf32>
// CHECK: vector.transfer_write %[[SUM]], %[[ST]]
// CHECK: arith.addf %{{.+}} : vector<8xf32>
func.func @column_sum(%x: memref<128x40xf32>, %s: memref<40xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>],
                  iterator_types = ["reduction", "parallel"]}
      ins(%x : memref<128x40xf32>) outs(%s : memref<40xf32>) {
  ^bb0(%a: f32, %b: f32):
    %t = arith.addf %a, %b : f32
    linalg.yield %t : f32
  }
  return
}

// -----

// A sum over the batch and the image (a convolution's bias gradient): the
// innermost loop reduces, so it vectorises across the outputs instead:
// each step reads one element of each of 16 channels (16 one-lane reads, a
// strided gather) and adds them to their 16 running sums. Each lane sums
// its channel in the loops' order (n, h, w), as the scalar loops did: the
// same results, with 16 independent chains of additions instead of one.

// CHECK-LABEL: func.func @bias_grad(
// CHECK-SAME: %[[G:[^:]+]]: memref<2x16x3x4xf32>, %[[B:[^:]+]]: memref<16xf32>
// CHECK: scf.for %[[N:.+]] = %c0 to %c2 step %c1
// CHECK: scf.for %[[H:.+]] = %c0 to %c3 step %c1
// CHECK: scf.for %[[W:.+]] = %c0 to %c4 step %c1
// CHECK-COUNT-16: vector.transfer_read %{{.+}} : memref<1x16x1x1xf32, strided<[192, 12, 4, 1], offset: ?>>, vector<1xf32>
// CHECK: %[[ACC:.+]] = vector.transfer_read %[[B]]{{.+}} vector<16xf32>
// CHECK: %[[SUM:.+]] = arith.addf %[[ACC]], %{{.+}} : vector<16xf32>
// CHECK: vector.transfer_write %[[SUM]], %[[B]]
func.func @bias_grad(%g: memref<2x16x3x4xf32>, %b: memref<16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (c)>],
                  iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
      ins(%g : memref<2x16x3x4xf32>) outs(%b : memref<16xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %t = arith.addf %acc, %a : f32
    linalg.yield %t : f32
  }
  return
}

// -----

// A stride-2 window (a 2x2 max pooling tap): each 16 lanes read as 31
// contiguous elements, a masked 32-lane read, and a shuffle of the even
// ones; not one scalar load per lane.

// CHECK-LABEL: func.func @stride_two(
// CHECK: scf.for
// CHECK: %[[ROW:.+]] = memref.reinterpret_cast %{{.+}} to offset: [%{{.+}}], sizes: [1, 31], strides: [64, 1]
// CHECK: %[[MASK:.+]] = vector.constant_mask [31] : vector<32xi1>
// CHECK: %[[PAIR:.+]] = vector.transfer_read %[[ROW]][%c0, %c0], %{{.+}}, %[[MASK]] {{.+}} vector<32xf32>
// CHECK: vector.shuffle %[[PAIR]], %[[PAIR]] [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30] : vector<32xf32>, vector<32xf32>
// CHECK-NOT: memref.load
// CHECK: return
func.func @stride_two(%x: memref<8x32xf32, strided<[64, 2]>>, %y: memref<8x32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : memref<8x32xf32, strided<[64, 2]>>) outs(%y : memref<8x32xf32>) {
  ^bb0(%a: f32, %b: f32):
    %m = arith.maximumf %a, %b : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// A transpose whose rows do not divide the block (27 = 16 + 11, a
// convolution's patches transposed for its weight gradient): the partial
// 11x16 block is vectorised too, read as 11 rows and written as 16 rows of
// 11 lanes, not left to scalar loops (scatters).

// CHECK-LABEL: func.func @transpose_tail(
// CHECK: scf.for %{{.+}} = %c0 to %c64 step %c16
// CHECK-COUNT-16: vector.transfer_write {{.+}} : vector<16xf32>
// CHECK-COUNT-11: vector.transfer_read {{.+}} : memref<11x16xf32, {{.+}}>, vector<16xf32>
// CHECK-COUNT-16: vector.transfer_write {{.+}} : vector<11xf32>, memref<16x11xf32
// CHECK-NOT: linalg.transpose
// CHECK: return
func.func @transpose_tail(%a: memref<27x64xf32>, %t: memref<64x27xf32>) {
  linalg.transpose ins(%a : memref<27x64xf32>) outs(%t : memref<64x27xf32>) permutation = [1, 0]
  return
}

// -----

// Nothing to vectorise: the module passes through unchanged (this crashed
// when no linalg op had loaded the linalg dialect).
// CHECK-LABEL: func.func @no_linalg()
// CHECK-NEXT: return
// AVX2-LABEL: func.func @no_linalg()
func.func @no_linalg() {
  return
}

// -----

// An op with a lowering config (here written by hand) is tiled as it says:
// vectors of 8, not the strategy's 16, and the row loop an scf.forall for
// threads (graft-parallelize-loops decides later whether it is worth them).
// The config does not outlive the tiling.

// CHECK-LABEL: func.func @given_config(
// CHECK: scf.forall (%[[I:.+]]) in (64)
// CHECK: scf.for %[[J:.+]] = %c0 to %c64 step %c8
// CHECK: %[[X:.+]] = memref.subview %{{.+}}[%[[I]], %[[J]]] [1, 8] [1, 1]
// CHECK: vector.transfer_read %[[X]]{{.+}}, vector<8xf32>
// CHECK-NOT: graft.lowering_config
func.func @given_config(%x: memref<64x64xf32>, %y: memref<64x64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<64x64xf32>) outs(%y : memref<64x64xf32>)
      attrs = {graft.lowering_config = #graft.lowering_config<tile_sizes = [1, 8] threads = 0>} {
  ^bb0(%i: f32, %o: f32):
    %s = arith.addf %i, %i : f32
    linalg.yield %s : f32
  }
  return
}
