// RUN: graft-opt %s --split-input-file --graft-split-empty-tensors | FileCheck %s

// Two ops writing into one (CSE-merged) empty each get their own.

// CHECK-LABEL: func.func @two_destinations(
// CHECK: %[[E1:.+]] = tensor.empty() : tensor<4xf32>
// CHECK: %[[E0:.+]] = tensor.empty() : tensor<4xf32>
// CHECK: linalg.fill ins(%{{.+}} : f32) outs(%[[E0]] : tensor<4xf32>)
// CHECK: linalg.fill ins(%{{.+}} : f32) outs(%[[E1]] : tensor<4xf32>)
func.func @two_destinations(%a: f32, %b: f32) -> (tensor<4xf32>, tensor<4xf32>) {
  %e = tensor.empty() : tensor<4xf32>
  %x = linalg.fill ins(%a : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %y = linalg.fill ins(%b : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %x, %y : tensor<4xf32>, tensor<4xf32>
}

// -----

// A peeled tile: extracted from the empty and inserted back at the same
// place, so the two keep one empty (bufferized in place); the op after them
// gets its own.

// CHECK-LABEL: func.func @tile(
// CHECK: %[[OTHER:.+]] = tensor.empty() : tensor<4x8xf32>
// CHECK: %[[E:.+]] = tensor.empty() : tensor<4x8xf32>
// CHECK: %[[T:.+]] = tensor.extract_slice %[[E]][0, 0] [4, 4] [1, 1]
// CHECK: %[[F:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[T]] : tensor<4x4xf32>)
// CHECK: %[[I:.+]] = tensor.insert_slice %[[F]] into %[[E]][0, 0] [4, 4] [1, 1]
// CHECK: linalg.copy ins(%[[I]] : tensor<4x8xf32>) outs(%[[OTHER]] : tensor<4x8xf32>)
func.func @tile(%a: f32) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %t = tensor.extract_slice %e[0, 0] [4, 4] [1, 1] : tensor<4x8xf32> to tensor<4x4xf32>
  %f = linalg.fill ins(%a : f32) outs(%t : tensor<4x4xf32>) -> tensor<4x4xf32>
  %i = tensor.insert_slice %f into %e[0, 0] [4, 4] [1, 1] : tensor<4x4xf32> into tensor<4x8xf32>
  %c = linalg.copy ins(%i : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %c : tensor<4x8xf32>
}

// -----

// An insert at another place than the extract does not pair with it.

// CHECK-LABEL: func.func @elsewhere(
// CHECK: %[[INS:.+]] = tensor.empty() : tensor<4x8xf32>
// CHECK: %[[CPY:.+]] = tensor.empty() : tensor<4x8xf32>
// CHECK: %[[EXT:.+]] = tensor.empty() : tensor<4x8xf32>
// CHECK: tensor.extract_slice %[[EXT]][0, 0] [4, 4] [1, 1]
// CHECK: tensor.insert_slice %{{.+}} into %[[INS]][0, 4] [4, 4] [1, 1]
// CHECK: linalg.copy {{.+}} outs(%[[CPY]] : tensor<4x8xf32>)
func.func @elsewhere(%a: f32) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %t = tensor.extract_slice %e[0, 0] [4, 4] [1, 1] : tensor<4x8xf32> to tensor<4x4xf32>
  %f = linalg.fill ins(%a : f32) outs(%t : tensor<4x4xf32>) -> tensor<4x4xf32>
  %i = tensor.insert_slice %f into %e[0, 4] [4, 4] [1, 1] : tensor<4x4xf32> into tensor<4x8xf32>
  %c = linalg.copy ins(%i : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %c : tensor<4x8xf32>
}
