// graft-gpu-schedule refuses a #graft.gpu_config (written by hand) that
// names a kernel the op cannot run in.
// RUN: graft-opt %s -pass-pipeline='builtin.module(func.func(graft-gpu-schedule))' --split-input-file --verify-diagnostics

func.func @not_a_product(%x: memref<16x128xf32>, %m: memref<16xf32>) {
  // expected-error @+1 {{has a product kernel's #graft.gpu_config but is not a product (C += A * B on buffers, static shapes)}}
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"],
                  graft.gpu_config = #graft.gpu_config<product tile = 64>}
      ins(%x : memref<16x128xf32>) outs(%m : memref<16xf32>) {
  ^bb0(%e: f32, %acc: f32):
    %r = arith.maximumf %acc, %e : f32
    linalg.yield %r : f32
  }
  return
}

// -----

func.func @not_a_reduction(%x: memref<16x128xf32>, %y: memref<16x128xf32>) {
  // expected-error @+1 {{has a reduction kernel's #graft.gpu_config but is not a reduction `out combine f(ins)` on buffers with static shapes}}
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"],
                  graft.gpu_config = #graft.gpu_config<row_reduction>}
      ins(%x : memref<16x128xf32>) outs(%y : memref<16x128xf32>) {
  ^bb0(%e: f32, %o: f32):
    %r = arith.negf %e : f32
    linalg.yield %r : f32
  }
  return
}

// -----

func.func @full_with_outputs(%x: memref<16x128xf32>, %m: memref<16xf32>) {
  // expected-error @+1 {{has a full reduction's #graft.gpu_config but keeps parallel dims}}
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"],
                  graft.gpu_config = #graft.gpu_config<full_reduction>}
      ins(%x : memref<16x128xf32>) outs(%m : memref<16xf32>) {
  ^bb0(%e: f32, %acc: f32):
    %r = arith.addf %acc, %e : f32
    linalg.yield %r : f32
  }
  return
}

// -----

func.func @one_value_by_rows(%v: memref<128xf32>, %loss: memref<f32>) {
  // expected-error @+1 {{reduces to one value: only a full_reduction kernel takes it}}
  linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> ()>], iterator_types = ["reduction"],
                  graft.gpu_config = #graft.gpu_config<column_reduction>}
      ins(%v : memref<128xf32>) outs(%loss : memref<f32>) {
  ^bb0(%e: f32, %acc: f32):
    %r = arith.addf %acc, %e : f32
    linalg.yield %r : f32
  }
  return
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

func.func @grid_too_large(%a: memref<8388608x4xf32>, %b: memref<4x1xf32>, %c: memref<8388608x1xf32>) {
  // expected-error @+1 {{needs more than 65535 row tiles or batch entries, CUDA's limit on gridDim.y and gridDim.z}}
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"],
                  graft.gpu_config = #graft.gpu_config<product tile = 16>}
      ins(%a, %b : memref<8388608x4xf32>, memref<4x1xf32>) outs(%c : memref<8388608x1xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
