// RUN: graft-opt %s --split-input-file --verify-diagnostics | FileCheck %s

// #graft.gpu_config round-trips for each kernel.
// CHECK-LABEL: func.func @configs
// CHECK-SAME: a = #graft.gpu_config<product tile = 16 slices = 4>
// CHECK-SAME: b = #graft.gpu_config<product tile = 64>
// CHECK-SAME: c = #graft.gpu_config<tensor_core_product tile = 128>
// CHECK-SAME: d = #graft.gpu_config<row_reduction>
// CHECK-SAME: e = #graft.gpu_config<column_reduction>
// CHECK-SAME: f = #graft.gpu_config<full_reduction>
func.func @configs() attributes {
    a = #graft.gpu_config<product tile = 16 slices = 4>,
    b = #graft.gpu_config<product tile = 64>,
    c = #graft.gpu_config<tensor_core_product tile = 128>,
    d = #graft.gpu_config<row_reduction>,
    e = #graft.gpu_config<column_reduction>,
    f = #graft.gpu_config<full_reduction>} {
  return
}

// -----

// expected-error @+1 {{a product's tile must be 16, 32 or 64}}
func.func @product_tile() attributes {a = #graft.gpu_config<product tile = 128>} {
  return
}

// -----

// expected-error @+1 {{a product's tile must be 16, 32 or 64}}
func.func @product_without_tile() attributes {a = #graft.gpu_config<product>} {
  return
}

// -----

// expected-error @+1 {{slices must be 1, 2 or 4}}
func.func @three_slices() attributes {a = #graft.gpu_config<product tile = 16 slices = 3>} {
  return
}

// -----

// expected-error @+1 {{only 16x16 tiles split k into slices}}
func.func @slices_of_a_large_tile() attributes {a = #graft.gpu_config<product tile = 32 slices = 2>} {
  return
}

// -----

// expected-error @+1 {{a tensor-core product's tile must be 32, 64 or 128}}
func.func @tensor_core_tile() attributes {a = #graft.gpu_config<tensor_core_product tile = 16>} {
  return
}

// -----

// expected-error @+1 {{tensor-core products do not split k into slices}}
func.func @tensor_core_slices() attributes {a = #graft.gpu_config<tensor_core_product tile = 64 slices = 2>} {
  return
}

// -----

// expected-error @+1 {{a reduction kernel takes no tile or slices}}
func.func @reduction_tile() attributes {a = #graft.gpu_config<row_reduction tile = 32>} {
  return
}
