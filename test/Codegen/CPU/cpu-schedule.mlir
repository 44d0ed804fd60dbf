// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg, graft-fuse-elementwise), graft-cpu-schedule, canonicalize)' | FileCheck %s

// A product whose m and n do not divide the 6x64 register tile: peeled
// into full and partial tiles, every one of static shape, each an
// outer-product loop over k with the accumulator in registers. The zero
// fill of the result is fused into the tiles: each accumulator starts as a
// constant, and the result is written once, never zeroed in memory.

// CHECK-LABEL: func.func @product(
// CHECK-DAG: %[[ZERO:.+]] = arith.constant dense<0.000000e+00> : vector<6x64xf32>
// CHECK-DAG: %[[EMPTY:.+]] = tensor.empty() : tensor<13x130xf32>
// CHECK-NOT: linalg.fill
// CHECK: scf.forall (%{{.+}}) = (0) to (12) step (6) shared_outs(%{{.+}} = %[[EMPTY]])
// CHECK: scf.for %{{.+}} = %c0 to %c128 step %c64
// CHECK: %[[TILE:.+]] = scf.for %{{.+}} = %c0 to %c32 step %c1 iter_args(%{{.+}} = %[[ZERO]]) -> (vector<6x64xf32>)
// CHECK: vector.broadcast %{{.+}} : f32 to vector<64xf32>
// CHECK: vector.fma %{{.+}} : vector<64xf32>
// CHECK: vector.transfer_write %[[TILE]], %{{.+}} : vector<6x64xf32>, tensor<6x64xf32>
// The n remainder: 130 = 2 * 64 + 2.
// CHECK: vector<6x2xf32>
// The m remainder: 13 = 2 * 6 + 1.
// CHECK: vector<1x64xf32>
// CHECK: vector<1x2xf32>
func.func @product(%a: tensor<13x32xf32>, %w: tensor<32x130xf32>) -> tensor<13x130xf32> {
  %p = graft.matmul %a, %w : (tensor<13x32xf32>, tensor<32x130xf32>) -> tensor<13x130xf32>
  return %p : tensor<13x130xf32>
}

// -----

// A product that starts from a broadcast bias: the broadcast is fused into
// the tiles too, so each accumulator starts from the bias's 64 columns,
// read once per tile, and the broadcast is never written to memory.

// CHECK-LABEL: func.func @biased(
// CHECK-SAME: %{{.+}}: tensor<12x16xf32>, %{{.+}}: tensor<128x16xf32>, %[[B:.+]]: tensor<128xf32>
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<12x128xf32>
// CHECK-NOT: linalg.generic
// CHECK: scf.forall (%{{.+}}) = (0) to (12) step (6) shared_outs(%{{.+}} = %[[EMPTY]])
// CHECK: scf.for %[[J:.+]] = %c0 to %c128 step %c64
// CHECK: %[[COLS:.+]] = tensor.extract_slice %[[B]][%[[J]]] [64] [1]
// CHECK: vector.transfer_read %[[COLS]][%c0], %{{.+}} : tensor<64xf32>, vector<64xf32>
// CHECK: scf.for %{{.+}} = %c0 to %c16 step %c1 iter_args(%{{.+}}) -> (vector<6x64xf32>)
func.func @biased(%x: tensor<12x16xf32>, %w: tensor<128x16xf32>, %b: tensor<128xf32>) -> tensor<12x128xf32> {
  %y = graft.linear %x, %w, %b : (tensor<12x16xf32>, tensor<128x16xf32>, tensor<128xf32>) -> tensor<12x128xf32>
  return %y : tensor<12x128xf32>
}

// -----

// Too few row blocks for two threads (8 rows: one 6-row block and a
// remainder) and more column blocks: the column-block loop is outer, so
// threads split columns; the rows, peeled, run inside it.

// CHECK-LABEL: func.func @few_rows(
// CHECK: scf.forall (%{{.+}}) = (0) to (512) step (64)
// CHECK: %{{.+}} = tensor.extract_slice %{{.+}}[0, 0] [6, 25]
// CHECK: scf.for %{{.+}} = %c0 to %c25 step %c1 iter_args(%{{.+}}) -> (vector<6x64xf32>)
// CHECK: vector.transfer_write %{{.+}} : vector<6x64xf32>, tensor<6x64xf32>
// CHECK: tensor.extract_slice %{{.+}}[6, 0] [2, 25]
// CHECK: scf.for %{{.+}} = %c0 to %c25 step %c1 iter_args(%{{.+}}) -> (vector<2x64xf32>)
func.func @few_rows(%w: tensor<8x25xf32>, %col: tensor<25x512xf32>) -> tensor<8x512xf32> {
  %p = graft.matmul %w, %col : (tensor<8x25xf32>, tensor<25x512xf32>) -> tensor<8x512xf32>
  return %p : tensor<8x512xf32>
}

// -----

// Enough row blocks, but B (27x8192, 864 KiB) would not stay in L2 while
// every row block reads it, and A is much smaller: column blocks outside,
// so B is read once and A (16x27) stays in cache.

// CHECK-LABEL: func.func @streams_b(
// CHECK: scf.forall (%{{.+}}) = (0) to (8192) step (64)
// CHECK: scf.for %{{.+}} = %c0 to %c12 step %c6
// CHECK: vector<6x64xf32>
func.func @streams_b(%w: tensor<16x27xf32>, %col: tensor<27x8192xf32>) -> tensor<16x8192xf32> {
  %p = graft.matmul %w, %col : (tensor<16x27xf32>, tensor<27x8192xf32>) -> tensor<16x8192xf32>
  return %p : tensor<16x8192xf32>
}

// -----

// B fits in L2 (512x128, 256 KiB): row blocks outside, as for 128x512 weights.

// CHECK-LABEL: func.func @b_in_cache(
// CHECK: scf.forall (%{{.+}}) = (0) to (24) step (6)
// CHECK: scf.for %{{.+}} = %c0 to %c128 step %c64
func.func @b_in_cache(%a: tensor<24x512xf32>, %b: tensor<512x128xf32>) -> tensor<24x128xf32> {
  %p = graft.matmul %a, %b : (tensor<24x512xf32>, tensor<512x128xf32>) -> tensor<24x128xf32>
  return %p : tensor<24x128xf32>
}

// -----

// The bias broadcast along the rows of y^T = w @ x^T (a [256, 1] view read
// at column 0) is fused too: each accumulator starts as six rows of the
// bias, read through a broadcasting transfer.

// CHECK-LABEL: func.func @biased_rows(
// CHECK: %[[B2:.+]] = tensor.reshape %{{.+}} : (tensor<256xf32>, tensor<2xi64>) -> tensor<256x1xf32>
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<256x64xf32>
// CHECK-NOT: linalg.generic
// CHECK: scf.forall (%[[I:.+]]) = (0) to (252) step (6) shared_outs(%{{.+}} = %[[EMPTY]])
// CHECK: %[[ROWS:.+]] = tensor.extract_slice %[[B2]][%[[I]], 0] [6, 1] [1, 1]
// CHECK: %[[ACC:.+]] = vector.transfer_read %[[ROWS]]{{.+}} : tensor<6x1xf32>, vector<6x64xf32>
// CHECK: scf.for %{{.+}} = %c0 to %c512 step %c1 iter_args(%{{.+}} = %[[ACC]]) -> (vector<6x64xf32>)
func.func @biased_rows(%x: tensor<64x512xf32>, %w: tensor<256x512xf32>, %b: tensor<256xf32>) -> tensor<64x256xf32> {
  %y = graft.linear %x, %w, %b : (tensor<64x512xf32>, tensor<256x512xf32>, tensor<256xf32>) -> tensor<64x256xf32>
  return %y : tensor<64x256xf32>
}

// -----

// 32 columns, half a 6x64 tile: 12x32 tiles keep 24 accumulators, so B (a
// weight gradient's patches, long k) is read by two row blocks, not four.

// CHECK-LABEL: func.func @narrow(
// CHECK: scf.forall (%{{.+}}) = (0) to (24) step (12)
// CHECK-NOT: scf.for {{.+}} step %c64
// CHECK: scf.for %{{.+}} = %c0 to %c4096 step %c1 iter_args(%{{.+}}) -> (vector<12x32xf32>)
// CHECK: vector.fma %{{.+}} : vector<32xf32>
func.func @narrow(%gy: tensor<24x4096xf32>, %colT: tensor<4096x32xf32>) -> tensor<24x32xf32> {
  %p = graft.matmul %gy, %colT : (tensor<24x4096xf32>, tensor<4096x32xf32>) -> tensor<24x32xf32>
  return %p : tensor<24x32xf32>
}

// -----

// B's rows a multiple of 1 KiB apart (n = 256 floats): B is copied into a
// buffer one cache line (16 floats) wider per row, and the tiles read the
// copy, so a tile's column of B spreads over the caches' sets instead of
// falling into a few. Not when there is one row block (m <= the tile's
// rows: no reuse of B), nor when n * 4 is not a multiple of 1 KiB.

// CHECK-LABEL: func.func @padded_rows(
// CHECK-SAME: %[[A:[a-z0-9]+]]: tensor<32x64xf32>, %[[B:[a-z0-9]+]]: tensor<64x256xf32>
// CHECK: %[[WIDE:.+]] = bufferization.alloc_tensor() : tensor<64x272xf32>
// CHECK: %[[SLICE:.+]] = tensor.extract_slice %[[WIDE]][0, 0] [64, 256] [1, 1]
// CHECK: %[[COPY:.+]] = linalg.copy ins(%[[B]] : tensor<64x256xf32>) outs(%[[SLICE]] : tensor<64x256xf32>)
// CHECK: tensor.extract_slice %[[COPY]]
// CHECK-NOT: tensor.extract_slice %[[B]]
// CHECK-LABEL: func.func @one_row_block(
// CHECK-NOT: alloc_tensor
// CHECK-LABEL: func.func @other_width(
// CHECK-NOT: alloc_tensor
// CHECK: return
func.func @padded_rows(%a: tensor<32x64xf32>, %b: tensor<64x256xf32>) -> tensor<32x256xf32> {
  %p = graft.matmul %a, %b : (tensor<32x64xf32>, tensor<64x256xf32>) -> tensor<32x256xf32>
  return %p : tensor<32x256xf32>
}
func.func @one_row_block(%a: tensor<6x64xf32>, %b: tensor<64x256xf32>) -> tensor<6x256xf32> {
  %p = graft.matmul %a, %b : (tensor<6x64xf32>, tensor<64x256xf32>) -> tensor<6x256xf32>
  return %p : tensor<6x256xf32>
}
func.func @other_width(%a: tensor<32x64xf32>, %b: tensor<64x200xf32>) -> tensor<32x200xf32> {
  %p = graft.matmul %a, %b : (tensor<32x64xf32>, tensor<64x200xf32>) -> tensor<32x200xf32>
  return %p : tensor<32x200xf32>
}
