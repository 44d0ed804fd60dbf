// The whole GPU pipeline on a layer: host code in the LLVM dialect that
// launches kernels, and the kernels compiled to PTX for every chip (no GPU
// needed). The typed options print as the textual pipeline they build.

// RUN: graft-opt %s --graft-gpu-pipeline | FileCheck %s
// RUN: graft-opt %s --graft-gpu-pipeline --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=PIPE

// PIPE-LABEL: builtin.module(
// PIPE: convert-graft-to-linalg{batch-products=false {{.*}}conv-products=false pool-taps=false}
// PIPE: func.func(
// PIPE-NEXT: graft-gpu-fold-transposes
// PIPE: graft-gpu-strategy{{.*}}tf32=false
// PIPE: graft-gpu-schedule
// PIPE: nvvm-attach-target{{.*}}chip=sm_80
// PIPE: nvvm-attach-target{{.*}}chip=sm_90
// PIPE: gpu.module(
// PIPE-NEXT: convert-nvgpu-to-nvvm
// PIPE: gpu-to-llvm{{.*}}use-bare-pointers-for-host=true use-bare-pointers-for-kernels=true
// PIPE: gpu-module-to-binary{{.*}}format=isa

// CHECK-LABEL: llvm.func @layer(
// CHECK: gpu.launch_func
// CHECK-NOT: {{= (graft|linalg|tensor|memref|scf)\.}}
// CHECK-LABEL: gpu.binary @graft_kernels
// CHECK-SAME: chip = "sm_80"
// CHECK-SAME: .target sm_80
// CHECK-SAME: chip = "sm_90"
// CHECK-SAME: .target sm_90
func.func @layer(%x: tensor<64x512xf32>, %w: tensor<256x512xf32>, %b: tensor<256xf32>) -> tensor<64x256xf32> {
  %y = graft.linear %x, %w, %b : (tensor<64x512xf32>, tensor<256x512xf32>, tensor<256xf32>) -> tensor<64x256xf32>
  %r = graft.relu %y : tensor<64x256xf32>
  return %r : tensor<64x256xf32>
}
