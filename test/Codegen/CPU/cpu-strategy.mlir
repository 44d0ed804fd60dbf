// The CPU strategy's choice for each kind of product, and for large ops
// with reductions that threads split, recorded on the op as a
// #graft.lowering_config (graft::cpu::planProduct, planThreadSplit;
// unittests/CPUStrategyTest.cpp covers the rules shape by shape).

// RUN: graft-opt %s --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg),graft-cpu-strategy{vector-bits=512})' | FileCheck %s --check-prefix=V512
// RUN: graft-opt %s --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg),graft-cpu-strategy{vector-bits=256})' | FileCheck %s --check-prefix=V256

// Rows of B 1 KiB apart (n = 256) and many row blocks: 6x64 tiles, row
// blocks outside, B copied into padded rows; with AVX2, 6x16 tiles and B
// packed into panels of 16 columns instead (measured on AVX2 only).
// V512-LABEL: func.func @square
// V512: graft.lowering_config = #graft.lowering_config<tile_sizes = [6, 64, 0] pad_operands = [1] threads = 0>
// V256-LABEL: func.func @square
// V256: graft.lowering_config = #graft.lowering_config<tile_sizes = [6, 16, 0] pack_operands = [1] threads = 0>
func.func @square(%a: tensor<64x512xf32>, %b: tensor<512x256xf32>) -> tensor<64x256xf32> {
  %c = graft.matmul %a, %b : (tensor<64x512xf32>, tensor<512x256xf32>) -> tensor<64x256xf32>
  return %c : tensor<64x256xf32>
}

// Fewer columns than a tile: fewer vectors a row and more rows; rows 128
// bytes apart are not padded, nor packed when one tile is as wide as B
// (its rows are one panel). With AVX2, two panels of 16 columns, each read
// by 42 row tiles: packed.
// V512-LABEL: func.func @narrow
// V512: graft.lowering_config = #graft.lowering_config<tile_sizes = [12, 32, 0] threads = 0>
// V256-LABEL: func.func @narrow
// V256: graft.lowering_config = #graft.lowering_config<tile_sizes = [6, 16, 0] pack_operands = [1] threads = 0>
func.func @narrow(%a: tensor<256x64xf32>, %b: tensor<64x32xf32>) -> tensor<256x32xf32> {
  %c = graft.matmul %a, %b : (tensor<256x64xf32>, tensor<64x32xf32>) -> tensor<256x32xf32>
  return %c : tensor<256x32xf32>
}

// Six rows over 12544 columns (a convolution with 6 output channels):
// one row block, so the column blocks go outside for the threads (B not
// packed: each panel is read once).
// V512-LABEL: func.func @few_rows
// V512: graft.lowering_config = #graft.lowering_config<tile_sizes = [6, 64, 0] interchange = [1, 0, 2] threads = 1>
// V256-LABEL: func.func @few_rows
// V256: graft.lowering_config = #graft.lowering_config<tile_sizes = [6, 16, 0] interchange = [1, 0, 2] threads = 1>
func.func @few_rows(%a: tensor<6x25xf32>, %b: tensor<25x12544xf32>) -> tensor<6x12544xf32> {
  %c = graft.matmul %a, %b : (tensor<6x25xf32>, tensor<25x12544xf32>) -> tensor<6x12544xf32>
  return %c : tensor<6x12544xf32>
}

// A product that already has a config keeps it.
// V512-LABEL: func.func @given
// V512: graft.lowering_config = #graft.lowering_config<tile_sizes = [2, 16, 0]>
#kn = affine_map<(m, n, k) -> (k, n)>
#mk = affine_map<(m, n, k) -> (m, k)>
#mn = affine_map<(m, n, k) -> (m, n)>
func.func @given(%a: tensor<64x512xf32>, %b: tensor<512x256xf32>, %c: tensor<64x256xf32>) -> tensor<64x256xf32> {
  %r = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : tensor<64x512xf32>, tensor<512x256xf32>) outs(%c : tensor<64x256xf32>) attrs = {graft.contraction, graft.lowering_config = #graft.lowering_config<tile_sizes = [2, 16, 0]>} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<64x256xf32>
  return %r : tensor<64x256xf32>
}

// 112 columns: a 64-column tile and 48 more, which no tile holds in
// registers (three vectors a row). They become a product of their own,
// planned for their width (12x32 tiles and a 16-column remainder), which
// writes its columns into the first part's result. The zero init is split
// with the product, each part filling only its own columns.
// V512-LABEL: func.func @odd_columns
// V512: %[[EMPTY:.+]] = tensor.empty() : tensor<64x112xf32>
// V512: %[[HEADOUT:.+]] = tensor.extract_slice %[[EMPTY]][0, 0] [64, 64] [1, 1]
// V512: %[[HEADINIT:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[HEADOUT]] : tensor<64x64xf32>)
// V512: %[[HEAD:.+]] = linalg.generic {{.+}} outs(%[[HEADINIT]] : tensor<64x64xf32>) attrs = {graft.contraction, graft.lowering_config = #graft.lowering_config<tile_sizes = [6, 64, 0] threads = 0>}
// V512: %[[HEADRES:.+]] = tensor.insert_slice %[[HEAD]] into %[[EMPTY]][0, 0] [64, 64] [1, 1]
// V512: %[[TAILOUT:.+]] = tensor.extract_slice %[[HEADRES]][0, 64] [64, 48] [1, 1]
// V512: %[[TAILINIT:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[TAILOUT]] : tensor<64x48xf32>)
// V512: %[[TAIL:.+]] = linalg.generic {{.+}} outs(%[[TAILINIT]] : tensor<64x48xf32>) attrs = {graft.contraction, graft.lowering_config = #graft.lowering_config<tile_sizes = [12, 32, 0] threads = 0>}
// V512: %[[RES:.+]] = tensor.insert_slice %[[TAIL]] into %[[HEADRES]][0, 64] [64, 48] [1, 1]
// V512: return %[[RES]]
// With AVX2, 112 columns are whole 16-column tiles, in seven panels.
// V256-LABEL: func.func @odd_columns
// V256: graft.contraction, graft.lowering_config = #graft.lowering_config<tile_sizes = [6, 16, 0] pack_operands = [1] threads = 0>
// V256-NOT: graft.contraction
func.func @odd_columns(%a: tensor<64x512xf32>, %b: tensor<512x112xf32>) -> tensor<64x112xf32> {
  %c = graft.matmul %a, %b : (tensor<64x512xf32>, tensor<512x112xf32>) -> tensor<64x112xf32>
  return %c : tensor<64x112xf32>
}

// A bias broadcast over the rows is split with the product, each part
// broadcasting its own columns of the bias.
// V512-LABEL: func.func @odd_biased
// V256-LABEL: func.func @odd_biased
// V512: %[[B:.+]] = tensor.extract_slice %{{.+}}[0] [64] [1] : tensor<88xf32> to tensor<64xf32>
// V512: %[[HEADINIT:.+]] = linalg.generic {{.+}} ins(%[[B]] : tensor<64xf32>)
// V512: linalg.generic {{.+}} outs(%[[HEADINIT]] : tensor<8x64xf32>) attrs = {graft.contraction, graft.lowering_config = #graft.lowering_config<tile_sizes = [6, 64, 0] threads = 0>}
// V512: %[[TAILB:.+]] = tensor.extract_slice %{{.+}}[64] [24] [1] : tensor<88xf32> to tensor<24xf32>
// V512: %[[TAILINIT:.+]] = linalg.generic {{.+}} ins(%[[TAILB]] : tensor<24xf32>)
// V512: linalg.generic {{.+}} outs(%[[TAILINIT]] : tensor<8x24xf32>) attrs = {graft.contraction, graft.lowering_config = #graft.lowering_config<tile_sizes = [16, 16, 0] interchange = [1, 0, 2] threads = 1>}
func.func @odd_biased(%x: tensor<8x16xf32>, %w: tensor<88x16xf32>, %b: tensor<88xf32>) -> tensor<8x88xf32> {
  %y = graft.linear %x, %w, %b : (tensor<8x16xf32>, tensor<88x16xf32>, tensor<88xf32>) -> tensor<8x88xf32>
  return %y : tensor<8x88xf32>
}

// A large op with reductions other than a product (a convolution) is split
// across threads on tensors: its first parallel dim of two or more
// iterations, by one. Elementwise ops get their vector tiles on buffers
// (graft-cpu-vectorize), not here.
// V512-LABEL: func.func @split
// V512: linalg.conv_2d_nchw_fchw {{{.*}}graft.lowering_config = #graft.lowering_config<tile_sizes = [1, 0, 0, 0, 0, 0, 0] threads = 0>
// V512: linalg.generic
// V512-NOT: graft.lowering_config
// V512: return
func.func @split(%x: tensor<8x3x34x34xf32>, %w: tensor<16x3x3x3xf32>, %y: tensor<8x16x32x32xf32>) -> tensor<8x16x32x32xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : tensor<8x3x34x34xf32>, tensor<16x3x3x3xf32>) outs(%y : tensor<8x16x32x32xf32>) -> tensor<8x16x32x32xf32>
  %e = tensor.empty() : tensor<8x16x32x32xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(a, b, c, d) -> (a, b, c, d)>, affine_map<(a, b, c, d) -> (a, b, c, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%r : tensor<8x16x32x32xf32>) outs(%e : tensor<8x16x32x32xf32>) {
  ^bb0(%i: f32, %o: f32):
    %t = arith.addf %i, %i : f32
    linalg.yield %t : f32
  } -> tensor<8x16x32x32xf32>
  return %s : tensor<8x16x32x32xf32>
}
