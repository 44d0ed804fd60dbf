// RUN: graft-opt %s --split-input-file --verify-diagnostics | FileCheck %s

// #graft.lowering_config round-trips, with its optional parts.
// CHECK-LABEL: func.func @configs
// CHECK-SAME: a = #graft.lowering_config<tile_sizes = [4, 64, 0]>
// CHECK-SAME: b = #graft.lowering_config<tile_sizes = [6, 16, 0] interchange = [1, 0, 2] pad_operands = [1] threads = 1>
// CHECK-SAME: c = #graft.lowering_config<tile_sizes = [1, 16] threads = 0>
// CHECK-SAME: d = #graft.lowering_config<tile_sizes = [6, 16, 0] pack_operands = [1] threads = 0>
func.func @configs() attributes {
    a = #graft.lowering_config<tile_sizes = [4, 64, 0]>,
    b = #graft.lowering_config<tile_sizes = [6, 16, 0] interchange = [1, 0, 2] pad_operands = [1] threads = 1>,
    c = #graft.lowering_config<tile_sizes = [1, 16] threads = 0>,
    d = #graft.lowering_config<tile_sizes = [6, 16, 0] pack_operands = [1] threads = 0>} {
  return
}

// -----

// expected-error @+1 {{interchange must be a permutation of the 3 loops}}
func.func @not_a_permutation() attributes {a = #graft.lowering_config<tile_sizes = [4, 64, 0] interchange = [0, 0, 2]>} {
  return
}

// -----

// expected-error @+1 {{interchange must be a permutation of the 3 loops}}
func.func @too_short() attributes {a = #graft.lowering_config<tile_sizes = [4, 64, 0] interchange = [1, 0]>} {
  return
}

// -----

// expected-error @+1 {{tile_sizes must be one size >= 0 per loop}}
func.func @negative_tile() attributes {a = #graft.lowering_config<tile_sizes = [4, -1, 0]>} {
  return
}

// -----

// expected-error @+1 {{pad_operands must be operand numbers}}
func.func @negative_operand() attributes {a = #graft.lowering_config<tile_sizes = [4, 64, 0] pad_operands = [-1]>} {
  return
}

// -----

// expected-error @+1 {{pack_operands must be operand numbers not padded}}
func.func @negative_pack() attributes {a = #graft.lowering_config<tile_sizes = [4, 64, 0] pack_operands = [-1]>} {
  return
}

// -----

// expected-error @+1 {{pack_operands must be operand numbers not padded}}
func.func @padded_and_packed() attributes {a = #graft.lowering_config<tile_sizes = [4, 64, 0] pad_operands = [1] pack_operands = [1]>} {
  return
}

// -----

// expected-error @+1 {{threads must be a tiled loop's dim}}
func.func @threads_untiled() attributes {a = #graft.lowering_config<tile_sizes = [4, 0] threads = 1>} {
  return
}

// -----

// expected-error @+1 {{threads must be a tiled loop's dim}}
func.func @threads_out_of_range() attributes {a = #graft.lowering_config<tile_sizes = [4, 64, 0] threads = 3>} {
  return
}
