// graft-gpu-schedule builds the kernels graft-gpu-strategy chose
// (gpu-strategy.mlir tests each choice): products become shared-memory
// tiled kernels (reading through transposes: graft-gpu-fold-transposes); long rows, long columns and
// full reductions become warp and block reductions; what gains nothing
// stays a linalg.generic for the default lowering.
// RUN: graft-opt %s -pass-pipeline='builtin.module(func.func(graft-gpu-fold-transposes, graft-gpu-strategy, graft-gpu-schedule, cse))' | FileCheck %s
// RUN: graft-opt %s -pass-pipeline='builtin.module(func.func(graft-gpu-fold-transposes, graft-gpu-strategy{multiprocessors=1}, graft-gpu-schedule))' | FileCheck %s --check-prefix=TILE64
// RUN: graft-opt %s -pass-pipeline='builtin.module(func.func(graft-gpu-fold-transposes, graft-gpu-strategy{products=0 reductions=0}, graft-gpu-schedule))' | FileCheck %s --check-prefix=OFF
// RUN: graft-opt %s -pass-pipeline='builtin.module(func.func(graft-gpu-fold-transposes, graft-gpu-strategy{multiprocessors=1 tf32=1}, graft-gpu-schedule, cse))' | FileCheck %s --check-prefix=TF32

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// 256x192 outputs: 16x16 tiles (64x64 or 32x32 would leave most of 132
// multiprocessors idle), k staged 16 deep in padded shared memory, and two
// slices of 16x16 threads (threadIdx.z) taking turns over the k steps;
// their sums meet in shared memory and slice 0 adds them in order.
// CHECK-LABEL: func.func @product
// CHECK-SAME: (%[[A:.*]]: memref<256x100xf32>, %[[B:.*]]: memref<100x192xf32>, %[[C:.*]]: memref<256x192xf32>)
// CHECK-NOT: linalg.generic
// CHECK-DAG: %[[C12:.*]] = arith.constant 12 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK: gpu.launch blocks(%[[BX:.*]], %[[BY:.*]], %{{.*}}) in (%{{.*}} = %[[C12]], %{{.*}} = %[[C16]], %{{.*}} = %{{.*}}) threads(%[[TX:.*]], %[[TY:.*]], %[[SLICE:.*]]) in (%{{.*}} = %[[C16]], %{{.*}} = %[[C16]], %{{.*}} = %[[C2]])
// CHECK-SAME: workgroup(%[[AS:.*]] : memref<2x16x17xf32, #gpu.address_space<workgroup>>, %[[BS:.*]] : memref<2x16x17xf32, #gpu.address_space<workgroup>>, %[[RED:.*]] : memref<2x256xf32, #gpu.address_space<workgroup>>)
// The first step's tiles are loaded before the loop; each step stores the
// tiles it carries, then loads the next step's before its multiply-adds.
// A walks k (its contiguous dim); edges read as zero.
// CHECK: %[[A0:.*]] = scf.if %{{.*}} -> (f32) {
// CHECK-NEXT: memref.load %[[A]]
// CHECK: } else {
// CHECK: %[[B0:.*]] = scf.if %{{.*}} -> (f32) {
// CHECK-NEXT: memref.load %[[B]]
// CHECK: %[[LOOP:.*]]:3 = scf.for %[[STEP:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %{{.*}}, %[[AT:.*]] = %[[A0]], %[[BT:.*]] = %[[B0]]) -> (f32, f32, f32)
// CHECK: memref.store %[[AT]], %[[AS]][%[[SLICE]],
// CHECK: memref.store %[[BT]], %[[BS]][%[[SLICE]],
// CHECK: gpu.barrier
// CHECK: %[[A1:.*]] = scf.if
// CHECK-NEXT: memref.load %[[A]]
// CHECK: %[[B1:.*]] = scf.if
// CHECK-NEXT: memref.load %[[B]]
// CHECK: %[[DOT:.*]] = scf.for
// CHECK: memref.load %[[AS]]
// CHECK: memref.load %[[BS]]
// CHECK: math.fma
// CHECK: gpu.barrier
// CHECK: scf.yield %[[DOT]], %[[A1]], %[[B1]]
// CHECK: memref.store %[[LOOP]]#0, %[[RED]][%[[SLICE]],
// CHECK: gpu.barrier
// CHECK: %[[SUM:.*]] = scf.if %{{.*}} -> (f32) {
// CHECK: %[[S0:.*]] = memref.load %[[RED]][%c0,
// CHECK: %[[S1:.*]] = memref.load %[[RED]][%c1,
// CHECK: %[[S01:.*]] = arith.addf %[[S0]], %[[S1]]
// CHECK: scf.yield %[[S01]]
// Slice 0 adds the sum to C, inside the bounds.
// CHECK: scf.if
// CHECK: %[[OLD:.*]] = memref.load %[[C]]
// CHECK: %[[NEW:.*]] = arith.addf %[[OLD]], %[[SUM]]
// CHECK: memref.store %[[NEW]], %[[C]]
// TILE64-LABEL: func.func @product
// TILE64: workgroup(%{{.*}} : memref<1x16x65xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<1x16x65xf32, #gpu.address_space<workgroup>>)
// TILE64-COUNT-16: math.fma
// OFF-LABEL: func.func @product
// OFF: linalg.generic
// OFF-NOT: gpu.launch
// TF32 (tensor cores): 128x128 tiles, staged rounded to TF32 (cvt.rna) in
// shared memory padded by 8; 8 warps, each 64x32 of the tile as 4x4
// fragments: per k8 step 4 A fragments (4 elements), 4 B fragments (2),
// then 16 mma.sync m16n8k8; 64 accumulators per thread.
// TF32-LABEL: func.func @product
// TF32: gpu.launch {{.*}} workgroup(%[[AS:.*]] : memref<1x16x136xf32, #gpu.address_space<workgroup>>, %[[BS:.*]] : memref<1x16x136xf32, #gpu.address_space<workgroup>>)
// TF32: scf.for {{.*}} -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// TF32: %[[BITS:.*]] = nvvm.convert.float.to.tf32 %{{.*}} {rnd = #nvvm.fp_rnd_mode<rna>}
// TF32-NEXT: %[[ROUNDED:.*]] = arith.bitcast %[[BITS]] : i32 to f32
// TF32-NEXT: memref.store %[[ROUNDED]], %[[AS]]
// TF32: gpu.barrier
// TF32: scf.for %{{.*}} = %c0 to %c16 step %c8
// TF32-COUNT-4: vector.from_elements {{.*}} : vector<4x1xf32>
// TF32-COUNT-4: vector.from_elements {{.*}} : vector<2x1xf32>
// TF32: %[[C:.*]] = vector.from_elements {{.*}} : vector<2x2xf32>
// TF32-NEXT: %[[D:.*]] = nvgpu.mma.sync(%{{.*}}, %{{.*}}, %[[C]]) {mmaShape = [16, 8, 8], tf32Enabled} : (vector<4x1xf32>, vector<2x1xf32>, vector<2x2xf32>) -> vector<2x2xf32>
// TF32-NEXT: vector.extract %[[D]][0, 0]
// TF32-COUNT-15: nvgpu.mma.sync
// TF32-NOT: math.fma
// TF32: gpu.barrier
// TF32-LABEL: func.func @batched
func.func @product(%a: memref<256x100xf32>, %b: memref<100x192xf32>, %c: memref<256x192xf32>) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<256x100xf32>, memref<100x192xf32>) outs(%c : memref<256x192xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// Batch dims come from blockIdx.z; k = 32: one slice.
// CHECK-LABEL: func.func @batched
// CHECK-DAG: %[[C6:.*]] = arith.constant 6 : index
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %[[BZ:.*]]) in (%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %[[C6]]) threads({{.*}}) in (%{{.*}} = %c16, %{{.*}} = %c16, %{{.*}} = %c1)
// CHECK: arith.remui %[[BZ]]
// CHECK: arith.divui %[[BZ]]
func.func @batched(%a: memref<2x3x64x32xf32>, %b: memref<2x3x32x64xf32>, %c: memref<2x3x64x64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(b, h, m, n, k) -> (b, h, m, k)>,
                                   affine_map<(b, h, m, n, k) -> (b, h, k, n)>,
                                   affine_map<(b, h, m, n, k) -> (b, h, m, n)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<2x3x64x32xf32>, memref<2x3x32x64xf32>) outs(%c : memref<2x3x64x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// A convolution is a product too (implicit GEMM): rows are (n, oh, ow),
// columns the filters, k is (c, kh, kw); the input's window is read through
// its map (oh + kh), nothing is materialised.
// CHECK-LABEL: func.func @conv
// CHECK-SAME: (%[[X:.*]]: memref<8x3x10x10xf32>, %[[W:.*]]: memref<4x3x3x3xf32>, %[[Y:.*]]: memref<8x4x8x8xf32>)
// CHECK-NOT: linalg.conv_2d_nchw_fchw
// CHECK: gpu.launch
// CHECK: scf.if
// CHECK: %[[H:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// CHECK: %[[WW:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// CHECK: memref.load %[[X]][%{{.*}}, %{{.*}}, %[[H]], %[[WW]]]
// CHECK: memref.load %[[W]]
// CHECK: math.fma
// CHECK: memref.store %{{.*}}, %[[Y]]
func.func @conv(%x: memref<8x3x10x10xf32>, %w: memref<4x3x3x3xf32>, %y: memref<8x4x8x8xf32>) {
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : memref<8x3x10x10xf32>, memref<4x3x3x3xf32>) outs(%y : memref<8x4x8x8xf32>)
  return
}

// A few long dot products (4x3 outputs, k = 1024): a warp each.
// CHECK-LABEL: func.func @few_long_dots
// CHECK: gpu.launch
// CHECK-SAME: threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c32{{.*}}, %{{.*}} = %c8{{.*}}, %{{.*}} = %c1
// CHECK-NOT: workgroup
// CHECK: arith.mulf
// CHECK-COUNT-5: gpu.shuffle  xor
func.func @few_long_dots(%a: memref<4x1024xf32>, %b: memref<1024x3xf32>, %c: memref<4x3xf32>) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x1024xf32>, memref<1024x3xf32>) outs(%c : memref<4x3xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

#rows = affine_map<(i, j) -> (i, j)>
#cols = affine_map<(i, j) -> (j, i)>
#out = affine_map<(i, j) -> (i)>

// Rows of 128 read along the row: a warp per row, lanes fold every 32nd
// element, then an xor butterfly of shuffles; lane 0 updates the output.
// CHECK-LABEL: func.func @row_max
// CHECK-SAME: (%[[X:.*]]: memref<16x128xf32>, %[[M:.*]]: memref<16xf32>)
// CHECK: gpu.launch
// CHECK-SAME: threads(%[[LANE:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c32{{.*}}, %{{.*}} = %c8{{.*}}, %{{.*}} = %c1
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[FOLD:.*]] = scf.for %{{.*}} = %[[LANE]] to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %[[NEGINF]])
// CHECK: memref.load %[[X]]
// CHECK: arith.maximumf
// CHECK: %[[S16:.*]], %{{.*}} = gpu.shuffle  xor %[[FOLD]], %{{.*}}, %{{.*}} : f32
// CHECK: %[[R16:.*]] = arith.maximumf %[[FOLD]], %[[S16]]
// CHECK-COUNT-4: gpu.shuffle  xor
// CHECK: scf.if
// CHECK: memref.load %[[M]]
// CHECK: memref.store %{{.*}}, %[[M]]
func.func @row_max(%x: memref<16x128xf32>, %m: memref<16xf32>) {
  linalg.generic {indexing_maps = [#rows, #out], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<16x128xf32>) outs(%m : memref<16xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.maximumf %acc, %v : f32
    linalg.yield %r : f32
  }
  return
}

// A bias gradient: 512 columns summed over 128 rows. 32 columns x 32
// slices per block, partial sums through shared memory, summed in order.
// CHECK-LABEL: func.func @column_sum
// CHECK: gpu.launch
// CHECK-SAME: threads(%{{.*}}, %[[SLICE:.*]], %{{.*}}) in (%{{.*}} = %c32{{.*}}, %{{.*}} = %c32{{.*}}, %{{.*}} = %c1
// CHECK-SAME: workgroup(%[[P:.*]] : memref<32x33xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for %{{.*}} = %[[SLICE]] to
// CHECK: memref.store %{{.*}}, %[[P]]
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: memref.load %[[P]]
// CHECK-NOT: gpu.shuffle
func.func @column_sum(%g: memref<128x512xf32>, %db: memref<512xf32>) {
  linalg.generic {indexing_maps = [#cols, #out], iterator_types = ["parallel", "reduction"]}
      ins(%g : memref<128x512xf32>) outs(%db : memref<512xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %acc, %v : f32
    linalg.yield %r : f32
  }
  return
}

// Everything to one value, with a gather and linalg.index in the body (a
// loss): one block of 1024 threads; warps shuffle, then meet in shared
// memory, and warp 0 shuffles the 32 partial sums.
// CHECK-LABEL: func.func @full_sum
// CHECK-SAME: (%[[Y:.*]]: memref<128xi64>, %[[LP:.*]]: memref<128x10xf32>, %[[L:.*]]: memref<f32>)
// CHECK: gpu.launch
// CHECK-SAME: threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c1024{{.*}}, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1
// CHECK-SAME: workgroup(%[[W:.*]] : memref<32xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for %[[I:.*]] = %[[T]] to
// CHECK: memref.load %[[Y]][%[[I]]]
// CHECK: memref.load %[[LP]][%[[I]], %{{.*}}]
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: memref.store %{{.*}}, %[[W]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[W]]
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: memref.store %{{.*}}, %[[L]][]
func.func @full_sum(%y: memref<128xi64>, %logp: memref<128x10xf32>, %loss: memref<f32>) {
  linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> ()>], iterator_types = ["reduction"]}
      ins(%y : memref<128xi64>) outs(%loss : memref<f32>) {
  ^bb0(%label: i64, %acc: f32):
    %i = linalg.index 0 : index
    %j = arith.index_cast %label : i64 to index
    %v = memref.load %logp[%i, %j] : memref<128x10xf32>
    %n = arith.negf %v : f32
    %r = arith.addf %acc, %n : f32
    linalg.yield %r : f32
  }
  return
}

// Left to the default lowering: rows too short for a warp (10 classes);
// a body that reads a scalar loaded on the host; dynamic shapes.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: gpu.launch
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT: gpu.launch
func.func @left_alone(%x: memref<128x10xf32>, %s: memref<128xf32>, %scale: memref<f32>,
                      %d: memref<?x64xf32>, %ds: memref<?xf32>) {
  linalg.generic {indexing_maps = [#rows, #out], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<128x10xf32>) outs(%s : memref<128xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %acc, %v : f32
    linalg.yield %r : f32
  }
  %k = memref.load %scale[] : memref<f32>
  linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> ()>], iterator_types = ["reduction"]}
      ins(%s : memref<128xf32>) outs(%scale : memref<f32>) {
  ^bb0(%v: f32, %acc: f32):
    %m = arith.mulf %v, %k : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#rows, #out], iterator_types = ["parallel", "reduction"]}
      ins(%d : memref<?x64xf32>) outs(%ds : memref<?xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %acc, %v : f32
    linalg.yield %r : f32
  }
  return
}

// A product reading a transposed copy reads the source through the
// transposed map; the transpose goes. Not when the source is written in
// between.
// CHECK-LABEL: func.func @transpose_folded
// CHECK-SAME: (%[[X:.*]]: memref<64x32xf32>, %[[W:.*]]: memref<48x32xf32>, %[[WT:.*]]: memref<32x48xf32>, %[[Y:.*]]: memref<64x48xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: gpu.launch
// CHECK: memref.load %[[W]][%[[N:.*]], %[[K:.*]]] : memref<48x32xf32>
// CHECK-NOT: %[[WT]][
// CHECK: return
func.func @transpose_folded(%x: memref<64x32xf32>, %w: memref<48x32xf32>, %wt: memref<32x48xf32>, %y: memref<64x48xf32>) {
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

// One transposed buffer reused by two transposes of different sources (the
// memory plan shares buffers): both products read their own source, and
// the second source's users, among them an erased transpose, are found
// anew (under ASan this was a use after free).
// CHECK-LABEL: func.func @transpose_buffer_reused
// CHECK-SAME: (%[[X:.*]]: memref<64x32xf32>, %[[W1:.*]]: memref<48x32xf32>, %[[W2:.*]]: memref<48x32xf32>, %[[WT:.*]]: memref<32x48xf32>
// CHECK-NOT: linalg.transpose
// CHECK: gpu.launch
// CHECK: memref.load %[[W1]][
// CHECK: gpu.launch
// CHECK: memref.load %[[W2]][
// CHECK-NOT: %[[WT]][
// CHECK: return
func.func @transpose_buffer_reused(%x: memref<64x32xf32>, %w1: memref<48x32xf32>, %w2: memref<48x32xf32>, %wt: memref<32x48xf32>, %y1: memref<64x48xf32>, %y2: memref<64x48xf32>) {
  linalg.transpose ins(%w1 : memref<48x32xf32>) outs(%wt : memref<32x48xf32>) permutation = [1, 0]
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wt : memref<64x32xf32>, memref<32x48xf32>) outs(%y1 : memref<64x48xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.transpose ins(%w2 : memref<48x32xf32>) outs(%wt : memref<32x48xf32>) permutation = [1, 0]
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wt : memref<64x32xf32>, memref<32x48xf32>) outs(%y2 : memref<64x48xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @transpose_kept
// CHECK: linalg.transpose
// CHECK: linalg.fill
// CHECK: gpu.launch
func.func @transpose_kept(%x: memref<64x32xf32>, %w: memref<48x32xf32>, %wt: memref<32x48xf32>, %y: memref<64x48xf32>) {
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

// More row tiles than gridDim.y allows (65535): the default lowering.
// CHECK-LABEL: func.func @too_many_rows
// CHECK-NOT: gpu.launch
// CHECK: linalg.generic
func.func @too_many_rows(%a: memref<8388608x4xf32>, %b: memref<4x1xf32>, %c: memref<8388608x1xf32>) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<8388608x4xf32>, memref<4x1xf32>) outs(%c : memref<8388608x1xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// f64 products keep the f32-style kernel (fma) even with tf32=1.
// TF32-LABEL: func.func @product_f64
// TF32: workgroup(%{{.*}} : memref<1x16x65xf64, #gpu.address_space<workgroup>>
// TF32-NOT: nvgpu.mma.sync
// TF32: math.fma
// TF32-NOT: nvgpu.mma.sync
func.func @product_f64(%a: memref<256x100xf64>, %b: memref<100x192xf64>, %c: memref<256x192xf64>) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<256x100xf64>, memref<100x192xf64>) outs(%c : memref<256x192xf64>) {
  ^bb0(%x: f64, %y: f64, %acc: f64):
    %p = arith.mulf %x, %y : f64
    %s = arith.addf %acc, %p : f64
    linalg.yield %s : f64
  }
  return
}
