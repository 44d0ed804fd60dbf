// RUN: graft-opt %s --split-input-file --verify-diagnostics --graft-cpu-schedule=vector-bits=512

// A lowering config packs a product's B only (read as [k, n]), in panels
// as wide as its register tile, which must divide n.

#kn = affine_map<(m, n, k) -> (k, n)>
#mk = affine_map<(m, n, k) -> (m, k)>
#mn = affine_map<(m, n, k) -> (m, n)>
func.func @packs_a(%a: tensor<64x512xf32>, %b: tensor<512x256xf32>, %c: tensor<64x256xf32>) -> tensor<64x256xf32> {
  // expected-error @+1 {{a product packs only its B, in panels of its tile's columns (graft-cpu-strategy)}}
  %r = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : tensor<64x512xf32>, tensor<512x256xf32>) outs(%c : tensor<64x256xf32>) attrs = {graft.contraction, graft.lowering_config = #graft.lowering_config<tile_sizes = [6, 64, 0] pack_operands = [0] threads = 0>} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<64x256xf32>
  return %r : tensor<64x256xf32>
}

// -----

#kn = affine_map<(m, n, k) -> (k, n)>
#mk = affine_map<(m, n, k) -> (m, k)>
#mn = affine_map<(m, n, k) -> (m, n)>
func.func @tile_does_not_divide(%a: tensor<64x512xf32>, %b: tensor<512x200xf32>, %c: tensor<64x200xf32>) -> tensor<64x200xf32> {
  // expected-error @+1 {{a product packs only its B, in panels of its tile's columns (graft-cpu-strategy)}}
  %r = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : tensor<64x512xf32>, tensor<512x200xf32>) outs(%c : tensor<64x200xf32>) attrs = {graft.contraction, graft.lowering_config = #graft.lowering_config<tile_sizes = [6, 64, 0] pack_operands = [1] threads = 0>} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<64x200xf32>
  return %r : tensor<64x200xf32>
}
