// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(graft-hook-points,func.func(convert-graft-to-linalg))' | FileCheck %s
// RUN: graft-opt %s --split-input-file --pass-pipeline='builtin.module(graft-hook-points,func.func(convert-graft-to-linalg),canonicalize,cse,one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map})' | FileCheck %s --check-prefix=BUF
// RUN: not graft-opt %s --split-input-file --pass-pipeline='builtin.module(graft-hook-points{target=cuda})' 2>&1 | FileCheck %s --check-prefix=CUDA
// RUN: not graft-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(convert-graft-to-linalg))' 2>&1 | FileCheck %s --check-prefix=UNDECLARED

// A hook point (graft.hook_call) calls the C runtime's graft_run_hook with
// its name and a private copy of the gradient, which the hooks may modify
// in place; what they leave there flows on. graft-hook-points records the
// function's hook points (the library's GRAFT_ROLE_HOOK tensors) and
// declares graft_run_hook.

// CHECK-LABEL: func.func @backward(
// CHECK-SAME: %[[G:[a-z0-9]+]]: tensor<4x8xf32>
// CHECK-SAME: graft.hook_points = [{name = "h", type = tensor<4x8xf32>}, {name = "r", type = tensor<4x8xf32>}]
// CHECK: %[[COPY:.+]] = bufferization.alloc_tensor() copy(%[[G]]) : tensor<4x8xf32>
// CHECK: %[[DATA:.+]] = bufferization.to_buffer %[[COPY]] : tensor<4x8xf32> to memref<4x8xf32>
// CHECK: %[[NAME:.+]] = arith.constant dense<[104, 0]> : tensor<2xi8>
// CHECK: %[[NBUF:.+]] = bufferization.to_buffer %[[NAME]] read_only : tensor<2xi8> to memref<2xi8>
// CHECK: %[[NI:.+]] = memref.extract_aligned_pointer_as_index %[[NBUF]]
// CHECK: %[[NI64:.+]] = arith.index_cast %[[NI]] : index to i64
// CHECK: %[[NP:.+]] = llvm.inttoptr %[[NI64]] : i64 to !llvm.ptr
// CHECK: %[[DI:.+]] = memref.extract_aligned_pointer_as_index %[[DATA]]
// CHECK: %[[DI64:.+]] = arith.index_cast %[[DI]] : index to i64
// CHECK: %[[DP:.+]] = llvm.inttoptr %[[DI64]] : i64 to !llvm.ptr
// CHECK: call @graft_run_hook(%[[NP]], %[[DP]]) : (!llvm.ptr, !llvm.ptr) -> ()
// CHECK: %[[H:.+]] = bufferization.to_tensor %[[DATA]] restrict writable : memref<4x8xf32> to tensor<4x8xf32>
// What flows on is the hooked buffer: the next hook point copies it.
// CHECK: bufferization.alloc_tensor() copy(%[[H]])
// CHECK: call @graft_run_hook
// CHECK: func.func private @graft_run_hook(!llvm.ptr, !llvm.ptr)

// Bufferized: a new buffer, the gradient copied in, the call on it, and the
// ops after it read that buffer.
// BUF-LABEL: func.func @backward(
// BUF-SAME: %[[G:[a-z0-9]+]]: memref<4x8xf32>
// BUF: %[[A:.+]] = memref.alloc() {{.*}}: memref<4x8xf32>
// BUF: memref.copy %[[G]], %[[A]]
// BUF: %[[P:.+]] = memref.extract_aligned_pointer_as_index %[[A]]
// BUF: call @graft_run_hook(%{{.+}}, %{{.+}})
// BUF: memref.copy %[[A]], %{{.+}}
// BUF: call @graft_run_hook

// CUDA: error: gradient hook 'h': --target=cuda cannot call hooks inside the backward

// UNDECLARED: error: hook point 'h' needs func.func private @graft_run_hook(!llvm.ptr, !llvm.ptr) in the module (run graft-hook-points first)
func.func @backward(%g: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %h = graft.hook_call "h" %g : tensor<4x8xf32>
  %r = graft.hook_call "r" %h {graft.retained} : tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// On the CUDA target the hook points of retained values become the
// identity (their hooks run on the retained copy after forward_backward).
// CUDA-LABEL: func.func @retained(
// CUDA-NOT: hook_call
// CUDA: return %arg0
func.func @retained(%g: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %r = graft.hook_call "r" %g {graft.retained} : tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}
