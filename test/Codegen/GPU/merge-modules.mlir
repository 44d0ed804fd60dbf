// graft-gpu-merge-modules: the kernels outlining put in a module each go
// into one module, named after their old modules; launches follow them.
// RUN: graft-opt %s -split-input-file -graft-gpu-merge-modules -verify-diagnostics | FileCheck %s

// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK: gpu.module @graft_kernels {
// CHECK-NEXT: gpu.func @f_kernel(
// CHECK: memref.global "private" constant @mask
// CHECK-NEXT: gpu.func @f_kernel_0(
// CHECK: memref.get_global @mask
// CHECK-NOT: gpu.module
// CHECK: func.func @f(
// CHECK: gpu.launch_func @graft_kernels::@f_kernel blocks
// CHECK: gpu.launch_func @graft_kernels::@f_kernel_0 blocks
module attributes {gpu.container_module} {
  gpu.module @f_kernel {
    gpu.func @f_kernel(%a: memref<4xf32>) kernel {
      %i = gpu.thread_id x
      %c = arith.constant 1.0 : f32
      memref.store %c, %a[%i] : memref<4xf32>
      gpu.return
    }
  }
  gpu.module @f_kernel_0 {
    memref.global "private" constant @mask : memref<4xf32> = dense<2.0>
    gpu.func @f_kernel(%a: memref<4xf32>) kernel {
      %i = gpu.thread_id x
      %m = memref.get_global @mask : memref<4xf32>
      %v = memref.load %m[%i] : memref<4xf32>
      memref.store %v, %a[%i] : memref<4xf32>
      gpu.return
    }
  }
  func.func @f(%a: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    gpu.launch_func @f_kernel::@f_kernel blocks in (%c1, %c1, %c1) threads in (%c4, %c1, %c1) args(%a : memref<4xf32>)
    gpu.launch_func @f_kernel_0::@f_kernel blocks in (%c1, %c1, %c1) threads in (%c4, %c1, %c1) args(%a : memref<4xf32>)
    return
  }
}

// -----

// Two different globals of one name cannot share the module.
module attributes {gpu.container_module} {
  gpu.module @g_kernel {
    memref.global "private" constant @table : memref<2xf32> = dense<1.0>
    gpu.func @g_kernel() kernel {
      gpu.return
    }
  }
  gpu.module @g_kernel_0 {
    // expected-error @below {{cannot merge kernel modules: two different symbols named "table"}}
    memref.global "private" constant @table : memref<2xf32> = dense<3.0>
    gpu.func @g_kernel() kernel {
      gpu.return
    }
  }
}
