// RUN: graft-opt %s --split-input-file --graft-cpu-pipeline=vector-bits=512 | FileCheck %s

// A register tile's rows stay in vector registers across the k loop only
// as one vector or a power-of-two number of whole ones: LLVM breaks a
// loop-carried <48 x float> (three AVX-512 vectors) into 128-bit pieces,
// spilled and reassembled at every k step, and such products ran 4-47x
// slower than their neighbours. 48 columns are a 32-column tile and a
// 16-column remainder; 112 are a 64-column tile and a product of their
// own over the other 48; 20 are a vector and 4 columns.

// The kernels come before the entry point that calls them.

// CHECK-NOT: vector<48xf32>
// CHECK-DAG: !llvm.array<12 x vector<32xf32>>
// CHECK-DAG: !llvm.array<12 x vector<16xf32>>
// CHECK-NOT: vector<48xf32>
// CHECK: llvm.func @n48(
// CHECK-NOT: vector<48xf32>
func.func @n48(%a: tensor<512x512xf32>, %w: tensor<512x48xf32>) -> tensor<512x48xf32> {
  %p = graft.matmul %a, %w : (tensor<512x512xf32>, tensor<512x48xf32>) -> tensor<512x48xf32>
  return %p : tensor<512x48xf32>
}

// -----

// CHECK-NOT: vector<48xf32>
// CHECK-DAG: !llvm.array<6 x vector<64xf32>>
// CHECK-DAG: !llvm.array<12 x vector<32xf32>>
// CHECK-DAG: !llvm.array<12 x vector<16xf32>>
// CHECK-NOT: vector<48xf32>
// CHECK: llvm.func @n112(
// CHECK-NOT: vector<48xf32>
func.func @n112(%a: tensor<512x512xf32>, %w: tensor<512x112xf32>) -> tensor<512x112xf32> {
  %p = graft.matmul %a, %w : (tensor<512x512xf32>, tensor<512x112xf32>) -> tensor<512x112xf32>
  return %p : tensor<512x112xf32>
}

// -----

// CHECK-NOT: vector<20xf32>
// CHECK-DAG: !llvm.array<16 x vector<16xf32>>
// CHECK-DAG: !llvm.array<16 x vector<4xf32>>
// CHECK-NOT: vector<20xf32>
// CHECK: llvm.func @n20(
// CHECK-NOT: vector<20xf32>
func.func @n20(%a: tensor<512x512xf32>, %w: tensor<512x20xf32>) -> tensor<512x20xf32> {
  %p = graft.matmul %a, %w : (tensor<512x512xf32>, tensor<512x20xf32>) -> tensor<512x20xf32>
  return %p : tensor<512x20xf32>
}
