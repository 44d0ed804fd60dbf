// RUN: graft-opt %s -canonicalize -split-input-file | FileCheck %s
//
// Folders that are obviously right: identities and double applications.

// CHECK-LABEL: graft.model @identities
graft.model @identities {
  // CHECK: %[[X:.*]] = graft.input "x"
  %x = graft.input "x" : tensor<2x3xf32>
  %0 = graft.reshape %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %1 = graft.transpose %0 {dim0 = 1 : i64, dim1 = 1 : i64} : tensor<2x3xf32> -> tensor<2x3xf32>
  %2 = graft.permute %1 {dims = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<2x3xf32>
  %3 = graft.broadcast_to %2 : tensor<2x3xf32> -> tensor<2x3xf32>
  %4 = graft.slice %3 {dim = 1 : i64, start = 0 : i64, end = 3 : i64} : tensor<2x3xf32> -> tensor<2x3xf32>
  %5 = graft.slice %4 {dim = 1 : i64, start = 0 : i64, end = 100 : i64} : tensor<2x3xf32> -> tensor<2x3xf32>
  %6 = graft.concat %5 {dim = 0 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %7 = graft.cast %6 : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK-NEXT: graft.output "y" %[[X]]
  graft.output "y" %7 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: graft.model @doubles
graft.model @doubles {
  // CHECK: %[[X:.*]] = graft.input "x"
  %x = graft.input "x" : tensor<2x3xf32>
  %0 = graft.neg %x : tensor<2x3xf32>
  %1 = graft.neg %0 : tensor<2x3xf32>
  %2 = graft.transpose %1 {dim0 = 0 : i64, dim1 = 1 : i64} : tensor<2x3xf32> -> tensor<3x2xf32>
  %3 = graft.transpose %2 {dim0 = 1 : i64, dim1 = 0 : i64} : tensor<3x2xf32> -> tensor<2x3xf32>
  // CHECK-NEXT: graft.output "a" %[[X]]
  graft.output "a" %3 : tensor<2x3xf32>
  // CHECK-NEXT: %[[R:.*]] = graft.reshape %[[X]] : tensor<2x3xf32> -> tensor<6xf32>
  %4 = graft.reshape %x : tensor<2x3xf32> -> tensor<3x2xf32>
  %5 = graft.reshape %4 : tensor<3x2xf32> -> tensor<6xf32>
  // CHECK-NEXT: graft.output "b" %[[R]]
  graft.output "b" %5 : tensor<6xf32>
  // CHECK-NEXT: %[[D:.*]] = graft.detach %[[X]]
  %6 = graft.detach %x : tensor<2x3xf32>
  %7 = graft.detach %6 : tensor<2x3xf32>
  // CHECK-NEXT: graft.output "c" %[[D]]
  graft.output "c" %7 : tensor<2x3xf32>
}

// -----

// Views that change something stay, and so does a strided or offset slice.
// CHECK-LABEL: graft.model @kept
graft.model @kept {
  %x = graft.input "x" : tensor<2x3xf32>
  // CHECK: graft.transpose
  %0 = graft.transpose %x {dim0 = 0 : i64, dim1 = 1 : i64} : tensor<2x3xf32> -> tensor<3x2xf32>
  graft.output "a" %0 : tensor<3x2xf32>
  // CHECK: graft.slice
  %1 = graft.slice %x {dim = 1 : i64, start = 1 : i64, end = 3 : i64} : tensor<2x3xf32> -> tensor<2x2xf32>
  graft.output "b" %1 : tensor<2x2xf32>
  // CHECK: graft.neg
  %2 = graft.neg %x : tensor<2x3xf32>
  graft.output "c" %2 : tensor<2x3xf32>
}
