// graft-gpu-schedule's product kernels, run on the CPU by a SIMT
// interpreter (Inputs/simt.py: every thread of every block in lockstep,
// mma.sync emulated from the PTX ISA's fragment layouts, shared memory
// starting as NaN) and compared with the exact product the linalg.generic
// defines: the tensor-core (TF32) kernel at each tile size, with partial
// tiles in m, n and k, a transposed operand and a convolution (implicit
// GEMM), and the f32 kernel with 64x64 tiles and with k slices. What a GPU
// would compute, checked without one.
// RUN: graft-opt %s -pass-pipeline='builtin.module(func.func(linalg-generalize-named-ops))' --mlir-print-op-generic --mlir-print-local-scope -o %t.ref.mlir
// RUN: graft-opt %s -pass-pipeline='builtin.module(func.func(graft-gpu-strategy{multiprocessors=1 tf32=1}, graft-gpu-schedule))' --mlir-print-op-generic -o %t.tile128.mlir
// RUN: %python %S/Inputs/simt.py %t.tile128.mlir %t.ref.mlir product --tf32 | FileCheck %s --check-prefix=TILE128
// TILE128: product 136x120 tf32: 1 launch(es), 1536 warp mma.sync; {{.*}}: OK
// RUN: %python %S/Inputs/simt.py %t.tile128.mlir %t.ref.mlir product_a_transposed --tf32 | FileCheck %s --check-prefix=TILE128T
// TILE128T: product_a_transposed 136x120 tf32: 1 launch(es), 1536 warp mma.sync; {{.*}}: OK
// RUN: %python %S/Inputs/simt.py %t.tile128.mlir %t.ref.mlir conv --tf32 | FileCheck %s --check-prefix=CONV
// CONV: conv 8x4x8x8 tf32: 1 launch(es), 2048 warp mma.sync; {{.*}}: OK
// RUN: graft-opt %s -pass-pipeline='builtin.module(func.func(graft-gpu-strategy{multiprocessors=4 tf32=1}, graft-gpu-schedule))' --mlir-print-op-generic -o %t.tile64.mlir
// RUN: %python %S/Inputs/simt.py %t.tile64.mlir %t.ref.mlir product --tf32 | FileCheck %s --check-prefix=TILE64
// TILE64: product 136x120 tf32: 1 launch(es), 1152 warp mma.sync; {{.*}}: OK
// RUN: graft-opt %s -pass-pipeline='builtin.module(func.func(graft-gpu-strategy{multiprocessors=16 tf32=1}, graft-gpu-schedule))' --mlir-print-op-generic -o %t.tile32.mlir
// RUN: %python %S/Inputs/simt.py %t.tile32.mlir %t.ref.mlir product --tf32 | FileCheck %s --check-prefix=TILE32
// TILE32: product 136x120 tf32: 1 launch(es), 960 warp mma.sync; {{.*}}: OK
// The interpreter is not lenient: the TF32 kernel against an f32 product
// is off by far more than f32 rounding.
// RUN: not %python %S/Inputs/simt.py %t.tile32.mlir %t.ref.mlir product | FileCheck %s --check-prefix=NOTF32
// NOTF32: mismatch at
// NOTF32: MISMATCH
// The f32 kernel: 64x64 tiles of fma; 16x16 tiles with two k slices.
// RUN: graft-opt %s -pass-pipeline='builtin.module(func.func(graft-gpu-strategy{multiprocessors=1}, graft-gpu-schedule))' --mlir-print-op-generic -o %t.f32.mlir
// RUN: %python %S/Inputs/simt.py %t.f32.mlir %t.ref.mlir product | FileCheck %s --check-prefix=F32
// F32: product 136x120: 1 launch(es), 0 warp mma.sync; {{.*}}: OK
// RUN: graft-opt %s -pass-pipeline='builtin.module(func.func(graft-gpu-strategy, graft-gpu-schedule))' --mlir-print-op-generic -o %t.slices.mlir
// RUN: FileCheck %s --check-prefix=SLICES-IR < %t.slices.mlir
// SLICES-IR: memref<2x16x17xf32, #gpu.address_space<workgroup>>
// RUN: %python %S/Inputs/simt.py %t.slices.mlir %t.ref.mlir k_slices | FileCheck %s --check-prefix=SLICES
// SLICES: k_slices 20x24: 1 launch(es), 0 warp mma.sync; {{.*}}: OK

#mk = affine_map<(m, n, k) -> (m, k)>
#km = affine_map<(m, n, k) -> (k, m)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

func.func @product(%a: memref<136x40xf32>, %b: memref<40x120xf32>, %c: memref<136x120xf32>) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<136x40xf32>, memref<40x120xf32>) outs(%c : memref<136x120xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

func.func @product_a_transposed(%a: memref<40x136xf32>, %b: memref<40x120xf32>, %c: memref<136x120xf32>) {
  linalg.generic {indexing_maps = [#km, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<40x136xf32>, memref<40x120xf32>) outs(%c : memref<136x120xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

func.func @k_slices(%a: memref<20x100xf32>, %b: memref<100x24xf32>, %c: memref<20x24xf32>) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<20x100xf32>, memref<100x24xf32>) outs(%c : memref<20x24xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

func.func @conv(%x: memref<8x3x10x10xf32>, %w: memref<4x3x3x3xf32>, %y: memref<8x4x8x8xf32>) {
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : memref<8x3x10x10xf32>, memref<4x3x3x3xf32>) outs(%y : memref<8x4x8x8xf32>)
  return
}
