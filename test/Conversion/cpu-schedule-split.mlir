// graft-cpu-schedule splits large ops with reductions that the product
// schedule does not take (a convolution, its gradients) across threads: the
// first parallel dim is tiled by one, the tile loop marked parallel (a
// fused location, which survives bufferization). Small ones stay whole.
// RUN: graft-opt %s --graft-cpu-schedule --mlir-print-debuginfo --mlir-print-local-scope | FileCheck %s

// CHECK-LABEL: func.func @conv
// CHECK: %[[OUT:.*]] = scf.for %[[N:.*]] = %c0 to %c8 step %c1 iter_args(%[[ACC:.*]] = %{{.*}}) -> (tensor<8x16x32x32xf32>)
// CHECK: tensor.extract_slice %{{.*}}[%[[N]], 0, 0, 0] [1, 3, 34, 34]
// CHECK: linalg.conv_2d_nchw_fchw {{.*}} -> tensor<1x16x32x32xf32>
// CHECK: tensor.insert_slice {{.*}} into %[[ACC]][%[[N]], 0, 0, 0] [1, 16, 32, 32]
// CHECK: } loc(fused<"graft.parallel">
func.func @conv(%x: tensor<8x3x34x34xf32>, %w: tensor<16x3x3x3xf32>, %y: tensor<8x16x32x32xf32>) -> tensor<8x16x32x32xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : tensor<8x3x34x34xf32>, tensor<16x3x3x3xf32>) outs(%y : tensor<8x16x32x32xf32>) -> tensor<8x16x32x32xf32>
  return %r : tensor<8x16x32x32xf32>
}

// Under 32768 iterations in all: one thread.
// CHECK-LABEL: func.func @small_conv
// CHECK-NOT: scf.for
// CHECK: linalg.conv_2d_nchw_fchw {{.*}} -> tensor<2x2x4x4xf32>
func.func @small_conv(%x: tensor<2x1x6x6xf32>, %w: tensor<2x1x3x3xf32>, %y: tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : tensor<2x1x6x6xf32>, tensor<2x1x3x3xf32>) outs(%y : tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  return %r : tensor<2x2x4x4xf32>
}
