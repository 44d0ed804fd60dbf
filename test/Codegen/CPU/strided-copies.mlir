// graft-strided-copies: a copy with a non-contiguous side is a linalg.copy
// (loops after convert-linalg-to-loops), not a call to the runner
// library's memrefCopy, which neither a generated library nor the JIT has
// (torchvision's resnet18: a padded convolution's input, an im2col row).
// RUN: graft-opt %s --split-input-file --graft-strided-copies | FileCheck %s
// The whole CPU pipeline leaves no call to memrefCopy.
// RUN: graft-opt %s --split-input-file --graft-strided-copies --convert-linalg-to-loops --finalize-memref-to-llvm --reconcile-unrealized-casts | FileCheck %s --check-prefix=LLVM
// LLVM-NOT: memrefCopy

// Into a strided view (the interior of a padded buffer).
// CHECK-LABEL: func.func @into_view
// CHECK-SAME: (%[[A:.*]]: memref<2x8x8xf32>, %[[B:.*]]: memref<2x10x10xf32>)
// CHECK: %[[V:.*]] = memref.subview %[[B]]
// CHECK-NOT: memref.copy
// CHECK: linalg.copy ins(%[[A]] : memref<2x8x8xf32>) outs(%[[V]] : memref<2x8x8xf32, strided<[100, 10, 1], offset: 11>>)
func.func @into_view(%a: memref<2x8x8xf32>, %b: memref<2x10x10xf32>) {
  %v = memref.subview %b[0, 1, 1] [2, 8, 8] [1, 1, 1] : memref<2x10x10xf32> to memref<2x8x8xf32, strided<[100, 10, 1], offset: 11>>
  memref.copy %a, %v : memref<2x8x8xf32> to memref<2x8x8xf32, strided<[100, 10, 1], offset: 11>>
  return
}

// -----

// Out of one.
// CHECK-LABEL: func.func @from_view
// CHECK: linalg.copy ins(%{{.*}} : memref<4x4xf32, strided<[6, 1], offset: 1>>) outs(%{{.*}} : memref<4x4xf32>)
func.func @from_view(%a: memref<4x6xf32>, %b: memref<4x4xf32>) {
  %v = memref.subview %a[0, 1] [4, 4] [1, 1] : memref<4x6xf32> to memref<4x4xf32, strided<[6, 1], offset: 1>>
  memref.copy %v, %b : memref<4x4xf32, strided<[6, 1], offset: 1>> to memref<4x4xf32>
  return
}

// -----

// Contiguous copies stay memcpy's: identity layouts, and a view of whole
// rows with an offset.
// CHECK-LABEL: func.func @contiguous
// CHECK-SAME: (%[[A:.*]]: memref<4x6xf32>, %[[B:.*]]: memref<4x6xf32>, %[[C:.*]]: memref<2x6xf32>)
// CHECK: memref.copy %[[A]], %[[B]]
// CHECK: %[[V:.*]] = memref.subview %[[A]][2, 0]
// CHECK: memref.copy %[[V]], %[[C]]
// CHECK-NOT: linalg.copy
func.func @contiguous(%a: memref<4x6xf32>, %b: memref<4x6xf32>, %c: memref<2x6xf32>) {
  memref.copy %a, %b : memref<4x6xf32> to memref<4x6xf32>
  %v = memref.subview %a[2, 0] [2, 6] [1, 1] : memref<4x6xf32> to memref<2x6xf32, strided<[6, 1], offset: 12>>
  memref.copy %v, %c : memref<2x6xf32, strided<[6, 1], offset: 12>> to memref<2x6xf32>
  return
}
