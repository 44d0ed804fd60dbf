// graft-gpu-strategy: each choice of the GPU strategy
// (include/graft/Codegen/GPUStrategy.h), recorded as a #graft.gpu_config on
// the op for graft-gpu-schedule (gpu-schedule.mlir builds the kernels).
// RUN: graft-opt %s -pass-pipeline='builtin.module(func.func(graft-gpu-strategy))' | FileCheck %s
// RUN: graft-opt %s -pass-pipeline='builtin.module(func.func(graft-gpu-strategy{multiprocessors=1 tf32=1}))' | FileCheck %s --check-prefix=TF32
// RUN: graft-opt %s -pass-pipeline='builtin.module(func.func(graft-gpu-strategy{products=0}))' | FileCheck %s --check-prefix=NOPRODUCTS
// RUN: graft-opt %s -pass-pipeline='builtin.module(func.func(graft-gpu-strategy{products=0 reductions=0}))' | FileCheck %s --check-prefix=OFF

#mk = affine_map<(m, n, k) -> (m, k)>
#km = affine_map<(m, n, k) -> (k, m)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// 16x16 64x64 tiles fill 132 multiprocessors: 64x64. On the tensor cores
// (tf32=1), the largest tile that gives each of 1 multiprocessor a block:
// 128x128.
// CHECK-LABEL: func.func @tile64
// CHECK: linalg.generic
// CHECK-SAME: graft.gpu_config = #graft.gpu_config<product tile = 64>
// TF32-LABEL: func.func @tile64
// TF32: graft.gpu_config = #graft.gpu_config<tensor_core_product tile = 128>
// OFF-LABEL: func.func @tile64
// OFF-NOT: graft.gpu_config
func.func @tile64(%a: memref<1024x64xf32>, %b: memref<64x1024xf32>, %c: memref<1024x1024xf32>) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<1024x64xf32>, memref<64x1024xf32>) outs(%c : memref<1024x1024xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// 36 tiles of 64x64, 144 of 32x32: 32x32.
// CHECK-LABEL: func.func @tile32
// CHECK: graft.gpu_config = #graft.gpu_config<product tile = 32>
func.func @tile32(%a: memref<384x64xf32>, %b: memref<64x384xf32>, %c: memref<384x384xf32>) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<384x64xf32>, memref<64x384xf32>) outs(%c : memref<384x384xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// Too few 32x32 tiles: 16x16 tiles (192 of them), whose k loop 2 groups of
// threads share for k = 100, 4 for k = 512, 1 for k = 32. Without product
// kernels, a product reading its rows along k is a reduction: a warp per
// output.
// CHECK-LABEL: func.func @slices2
// CHECK: graft.gpu_config = #graft.gpu_config<product tile = 16 slices = 2>
// TF32-LABEL: func.func @slices2
// TF32: graft.gpu_config = #graft.gpu_config<tensor_core_product tile = 128>
// NOPRODUCTS-LABEL: func.func @slices2
// NOPRODUCTS: graft.gpu_config = #graft.gpu_config<row_reduction>
func.func @slices2(%a: memref<256x100xf32>, %b: memref<100x192xf32>, %c: memref<256x192xf32>) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<256x100xf32>, memref<100x192xf32>) outs(%c : memref<256x192xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @slices4
// CHECK: graft.gpu_config = #graft.gpu_config<product tile = 16 slices = 4>
func.func @slices4(%a: memref<256x512xf32>, %b: memref<512x192xf32>, %c: memref<256x192xf32>) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<256x512xf32>, memref<512x192xf32>) outs(%c : memref<256x192xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @one_slice
// CHECK: graft.gpu_config = #graft.gpu_config<product tile = 16>
func.func @one_slice(%a: memref<256x32xf32>, %b: memref<32x192xf32>, %c: memref<256x192xf32>) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<256x32xf32>, memref<32x192xf32>) outs(%c : memref<256x192xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// A few long dot products (4x3 outputs, k = 1024) read along k: a warp
// each. Read across k (A transposed, B's rows): 16x16 tiles, 4 slices.
// CHECK-LABEL: func.func @few_long_dots
// CHECK: graft.gpu_config = #graft.gpu_config<row_reduction>
// CHECK: graft.gpu_config = #graft.gpu_config<product tile = 16 slices = 4>
func.func @few_long_dots(%a: memref<4x1024xf32>, %at: memref<1024x4xf32>, %b: memref<1024x3xf32>, %c: memref<4x3xf32>) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x1024xf32>, memref<1024x3xf32>) outs(%c : memref<4x3xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#km, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%at, %b : memref<1024x4xf32>, memref<1024x3xf32>) outs(%c : memref<4x3xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// A named convolution is made a generic first, then is a product (rows
// n*oh*ow = 512, columns 4, k = 27): 16x16 tiles, one slice.
// CHECK-LABEL: func.func @conv
// CHECK-NOT: linalg.conv_2d_nchw_fchw
// CHECK: graft.gpu_config = #graft.gpu_config<product tile = 16>
func.func @conv(%x: memref<8x3x10x10xf32>, %w: memref<4x3x3x3xf32>, %y: memref<8x4x8x8xf32>) {
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : memref<8x3x10x10xf32>, memref<4x3x3x3xf32>) outs(%y : memref<8x4x8x8xf32>)
  return
}

// f64 stays off the tensor cores with tf32=1.
// TF32-LABEL: func.func @product_f64
// TF32: graft.gpu_config = #graft.gpu_config<product tile = 64>
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

// More row tiles than gridDim.y allows (65535): no config (the default
// lowering). A config written by hand is kept.
// CHECK-LABEL: func.func @too_many_rows
// CHECK-NOT: graft.gpu_config
// CHECK: graft.gpu_config = #graft.gpu_config<product tile = 64>
// CHECK-NOT: graft.gpu_config
// CHECK: return
// OFF-LABEL: func.func @too_many_rows
// OFF: graft.gpu_config = #graft.gpu_config<product tile = 64>
func.func @too_many_rows(%a: memref<8388608x4xf32>, %b: memref<4x1xf32>, %c: memref<8388608x1xf32>,
                         %a2: memref<256x100xf32>, %b2: memref<100x192xf32>, %c2: memref<256x192xf32>) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<8388608x4xf32>, memref<4x1xf32>) outs(%c : memref<8388608x1xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"],
                  graft.gpu_config = #graft.gpu_config<product tile = 64>}
      ins(%a2, %b2 : memref<256x100xf32>, memref<100x192xf32>) outs(%c2 : memref<256x192xf32>) {
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

// Reductions: rows of 128 read along the row, a warp each; columns of 128
// (consecutive outputs read consecutive elements), blocks of outputs by
// slices; everything to one value, one block. Rows of 10 and columns of
// 40 are too short: no config.
// CHECK-LABEL: func.func @reductions
// CHECK: graft.gpu_config = #graft.gpu_config<row_reduction>
// CHECK: graft.gpu_config = #graft.gpu_config<column_reduction>
// CHECK: graft.gpu_config = #graft.gpu_config<full_reduction>
// CHECK-NOT: graft.gpu_config
// CHECK: return
// OFF-LABEL: func.func @reductions
// OFF-NOT: graft.gpu_config
func.func @reductions(%x: memref<16x128xf32>, %m: memref<16xf32>, %g: memref<128x512xf32>, %db: memref<512xf32>,
                      %v: memref<128xf32>, %loss: memref<f32>, %short: memref<128x10xf32>, %s: memref<128xf32>,
                      %g40: memref<40x512xf32>) {
  linalg.generic {indexing_maps = [#rows, #out], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<16x128xf32>) outs(%m : memref<16xf32>) {
  ^bb0(%e: f32, %acc: f32):
    %r = arith.maximumf %acc, %e : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#cols, #out], iterator_types = ["parallel", "reduction"]}
      ins(%g : memref<128x512xf32>) outs(%db : memref<512xf32>) {
  ^bb0(%e: f32, %acc: f32):
    %r = arith.addf %acc, %e : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> ()>], iterator_types = ["reduction"]}
      ins(%v : memref<128xf32>) outs(%loss : memref<f32>) {
  ^bb0(%e: f32, %acc: f32):
    %r = arith.addf %acc, %e : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#rows, #out], iterator_types = ["parallel", "reduction"]}
      ins(%short : memref<128x10xf32>) outs(%s : memref<128xf32>) {
  ^bb0(%e: f32, %acc: f32):
    %r = arith.addf %acc, %e : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#cols, #out], iterator_types = ["parallel", "reduction"]}
      ins(%g40 : memref<40x512xf32>) outs(%db : memref<512xf32>) {
  ^bb0(%e: f32, %acc: f32):
    %r = arith.addf %acc, %e : f32
    linalg.yield %r : f32
  }
  return
}
