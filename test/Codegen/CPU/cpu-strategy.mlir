// The CPU strategy's choice for each kind of product, recorded on it as a
// #graft.lowering_config (graft::cpu::planProduct; unittests/
// CPUStrategyTest.cpp covers the rules shape by shape).

// RUN: graft-opt %s --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg),graft-cpu-strategy{vector-bits=512})' | FileCheck %s --check-prefix=V512
// RUN: graft-opt %s --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg),graft-cpu-strategy{vector-bits=256})' | FileCheck %s --check-prefix=V256

// Rows of B 1 KiB apart (n = 256) and many row blocks: 4x64 tiles (6x16
// with AVX2), row blocks outside, B copied into padded rows.
// V512-LABEL: func.func @square
// V512: graft.lowering_config = #graft.lowering_config<tile_sizes = [4, 64, 0] pad_operands = [1]>
// V256-LABEL: func.func @square
// V256: graft.lowering_config = #graft.lowering_config<tile_sizes = [6, 16, 0] pad_operands = [1]>
func.func @square(%a: tensor<64x512xf32>, %b: tensor<512x256xf32>) -> tensor<64x256xf32> {
  %c = graft.matmul %a, %b : (tensor<64x512xf32>, tensor<512x256xf32>) -> tensor<64x256xf32>
  return %c : tensor<64x256xf32>
}

// Fewer columns than a tile: fewer vectors a row and more rows; rows 128
// bytes apart are not padded.
// V512-LABEL: func.func @narrow
// V512: graft.lowering_config = #graft.lowering_config<tile_sizes = [8, 32, 0]>
// V256-LABEL: func.func @narrow
// V256: graft.lowering_config = #graft.lowering_config<tile_sizes = [6, 16, 0]>
func.func @narrow(%a: tensor<256x64xf32>, %b: tensor<64x32xf32>) -> tensor<256x32xf32> {
  %c = graft.matmul %a, %b : (tensor<256x64xf32>, tensor<64x32xf32>) -> tensor<256x32xf32>
  return %c : tensor<256x32xf32>
}

// Six rows over 12544 columns (a convolution with 6 output channels):
// one row block, so the column blocks go outside for the threads.
// V512-LABEL: func.func @few_rows
// V512: graft.lowering_config = #graft.lowering_config<tile_sizes = [4, 64, 0] interchange = [1, 0, 2] pad_operands = [1]>
// V256-LABEL: func.func @few_rows
// V256: graft.lowering_config = #graft.lowering_config<tile_sizes = [6, 16, 0] interchange = [1, 0, 2]>
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
