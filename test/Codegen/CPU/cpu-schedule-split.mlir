// graft-cpu-schedule splits large ops with reductions that the product
// schedule does not take (a convolution, pooling with argmax) across threads: the
// first parallel dim is tiled by one, the tile loop an scf.forall (its
// iterations write disjoint slices). Small ones stay whole.
// RUN: graft-opt %s --graft-cpu-schedule | FileCheck %s

// CHECK-LABEL: func.func @conv
// CHECK: %[[OUT:.*]] = scf.forall (%[[N:.*]]) in (8) shared_outs(%[[ACC:.*]] = %{{.*}}) -> (tensor<8x16x32x32xf32>)
// CHECK: tensor.extract_slice %{{.*}}[%[[N]], 0, 0, 0] [1, 3, 34, 34]
// CHECK: %[[TILE:.*]] = linalg.conv_2d_nchw_fchw {{.*}} -> tensor<1x16x32x32xf32>
// CHECK: scf.forall.in_parallel
// CHECK: tensor.parallel_insert_slice %[[TILE]] into %[[ACC]][%[[N]], 0, 0, 0] [1, 16, 32, 32]
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

// Max pooling with its argmax: two outputs, each using every parallel dim,
// split together (planes across threads).
// CHECK-LABEL: func.func @pool_argmax
// CHECK: %[[R:.*]]:2 = scf.forall (%[[P:.*]]) in (96) shared_outs(%[[V:.*]] = %{{.*}}, %[[I:.*]] = %{{.*}}) -> (tensor<96x14x14xf32>, tensor<96x14x14xi64>)
// CHECK: %[[TILE:.*]]:2 = linalg.generic {{.*}} outs(%{{.*}}, %{{.*}} : tensor<1x14x14xf32>, tensor<1x14x14xi64>)
// CHECK: tensor.parallel_insert_slice %[[TILE]]#0 into %[[V]][%[[P]], 0, 0]
// CHECK: tensor.parallel_insert_slice %[[TILE]]#1 into %[[I]][%[[P]], 0, 0]
func.func @pool_argmax(%x: tensor<96x28x28xf32>, %w: tensor<2x2xf32>, %v: tensor<96x14x14xf32>, %i: tensor<96x14x14xi64>) -> (tensor<96x14x14xf32>, tensor<96x14x14xi64>) {
  %r:2 = linalg.generic {indexing_maps = [affine_map<(p, h, w, kh, kw) -> (p, h * 2 + kh, w * 2 + kw)>,
                                          affine_map<(p, h, w, kh, kw) -> (kh, kw)>,
                                          affine_map<(p, h, w, kh, kw) -> (p, h, w)>,
                                          affine_map<(p, h, w, kh, kw) -> (p, h, w)>],
                         iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : tensor<96x28x28xf32>, tensor<2x2xf32>) outs(%v, %i : tensor<96x14x14xf32>, tensor<96x14x14xi64>) {
  ^bb0(%a: f32, %unused: f32, %m: f32, %j: i64):
    %kh = linalg.index 3 : index
    %kw = linalg.index 4 : index
    %k = arith.addi %kh, %kw : index
    %ki = arith.index_cast %k : index to i64
    %gt = arith.cmpf ogt, %a, %m : f32
    %nm = arith.select %gt, %a, %m : f32
    %nj = arith.select %gt, %ki, %j : i64
    linalg.yield %nm, %nj : f32, i64
  } -> (tensor<96x14x14xf32>, tensor<96x14x14xi64>)
  return %r#0, %r#1 : tensor<96x14x14xf32>, tensor<96x14x14xi64>
}

// A sum over the batch and the image (a convolution's bias gradient), whose
// innermost loop reduces: split a vector of outputs at a time (16 f32 at
// the default 512 bits), so that graft-cpu-vectorize can run 16 channels'
// sums side by side (test/Codegen/CPU/cpu-vectorize.mlir).
// CHECK-LABEL: func.func @bias_grad
// CHECK: scf.forall (%[[C:.*]]) = (0) to (64) step (16) shared_outs(%[[ACC:.*]] = %{{.*}}) -> (tensor<64xf32>)
// CHECK: tensor.extract_slice %{{.*}}[0, %[[C]], 0, 0] [8, 16, 24, 24]
// CHECK: %[[TILE:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<16xf32>)
// CHECK: tensor.parallel_insert_slice %[[TILE]] into %[[ACC]][%[[C]]] [16]
func.func @bias_grad(%g: tensor<8x64x24x24xf32>, %b: tensor<64xf32>) -> tensor<64xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>,
                                        affine_map<(n, c, h, w) -> (c)>],
                       iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
      ins(%g : tensor<8x64x24x24xf32>) outs(%b : tensor<64xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %acc, %in : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  return %r : tensor<64xf32>
}
