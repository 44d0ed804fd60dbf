// RUN: graft-opt %s --graft-outline-kernels | FileCheck %s

// Each loop nest of an entry point becomes a call. The two identical nests
// (in @a and @b, over other buffers) share one kernel; the nest with other
// bounds gets its own. Constants and the subview are recomputed inside, so
// the kernels take identity-layout memrefs only.

// CHECK-LABEL: func.func private @__graft_kernel_0(
// CHECK-SAME: %[[S:[^:]+]]: f32, %[[X:[^:]+]]: memref<4x8xf32>)
// CHECK-SAME: attributes {graft.kernel, llvm.linkage = #llvm.linkage<internal>, passthrough = ["noinline"]}
// CHECK-DAG: %[[V:.+]] = memref.subview %[[X]][0, 4] [4, 4] [1, 1]
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C4:.+]] = arith.constant 4 : index
// CHECK: scf.for %[[I:.+]] = %[[C0]] to %[[C4]]
// CHECK: memref.store %[[S]], %[[V]][%[[I]], %[[I]]]
// CHECK: return

// CHECK-LABEL: func.func @a(
// CHECK-SAME: %[[A:[^:]+]]: memref<4x8xf32>, %[[SA:[^:]+]]: f32)
// CHECK: call @__graft_kernel_0(%[[SA]], %[[A]])
// CHECK-NEXT: return
func.func @a(%x: memref<4x8xf32>, %s: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %v = memref.subview %x[0, 4] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1], offset: 4>>
  scf.for %i = %c0 to %c4 step %c1 {
    memref.store %s, %v[%i, %i] : memref<4x4xf32, strided<[8, 1], offset: 4>>
  }
  return
}

// CHECK-LABEL: func.func private @__graft_kernel_1(
// CHECK: arith.constant 2 : index

// CHECK-LABEL: func.func @b(
// CHECK-SAME: %[[B:[^:]+]]: memref<4x8xf32>, %[[SB:[^:]+]]: f32)
// CHECK: call @__graft_kernel_0(%[[SB]], %[[B]])
// CHECK: call @__graft_kernel_1(%[[SB]], %[[B]])
func.func @b(%y: memref<4x8xf32>, %t: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %w = memref.subview %y[0, 4] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1], offset: 4>>
  scf.for %i = %c0 to %c4 step %c1 {
    memref.store %t, %w[%i, %i] : memref<4x4xf32, strided<[8, 1], offset: 4>>
  }
  scf.for %i = %c0 to %c2 step %c1 {
    memref.store %t, %y[%i, %i] : memref<4x8xf32>
  }
  return
}

// A loop running a sequence of nests, one of them split across threads (a
// convolution's chunks of the batch), stays in the entry point: each of
// its nests becomes a kernel called per iteration, taking the iteration's
// index; the subview at that index is recomputed inside (the loop's copy
// is dead, for canonicalize). A loop with one
// nest (@d's) is one kernel, as any nest.

// CHECK-LABEL: func.func private @__graft_kernel_2(
// CHECK-SAME: %[[X:[^:]+]]: memref<8x4xf32>, %[[N:[^:]+]]: index, %[[T:[^:]+]]: memref<4xf32>)
// CHECK: memref.subview %[[X]][%[[N]], 0] [1, 4] [1, 1]
// CHECK: scf.for

// CHECK-LABEL: func.func private @__graft_kernel_3(
// CHECK-SAME: %[[T:[^:]+]]: memref<4xf32>, %[[Y:[^:]+]]: memref<8x4xf32>)
// CHECK: scf.parallel

// CHECK-LABEL: func.func @c(
// CHECK-SAME: %[[CX:[^:]+]]: memref<8x4xf32>, %[[CY:[^:]+]]: memref<8x4xf32>
// CHECK: %[[TMP:.+]] = memref.alloc
// CHECK: scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK: call @__graft_kernel_2(%[[CX]], %[[I]], %[[TMP]])
// CHECK-NEXT: call @__graft_kernel_3(%[[TMP]], %[[CY]])
// CHECK-NEXT: }
func.func @c(%x: memref<8x4xf32>, %y: memref<8x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %tmp = memref.alloc() : memref<4xf32>
  scf.for %n = %c0 to %c8 step %c1 {
    %row = memref.subview %x[%n, 0] [1, 4] [1, 1] : memref<8x4xf32> to memref<1x4xf32, strided<[4, 1], offset: ?>>
    scf.for %j = %c0 to %c4 step %c1 {
      %v = memref.load %row[%c0, %j] : memref<1x4xf32, strided<[4, 1], offset: ?>>
      memref.store %v, %tmp[%j] : memref<4xf32>
    }
    scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
      scf.for %j = %c0 to %c4 step %c1 {
        %v = memref.load %tmp[%j] : memref<4xf32>
        memref.store %v, %y[%i, %j] : memref<8x4xf32>
      }
    }
  }
  return
}

// CHECK-LABEL: func.func @d(
// CHECK-NOT: scf.for
// CHECK: call @__graft_kernel_4(
// CHECK-NEXT: return
func.func @d(%y: memref<8x4xf32>, %s: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  scf.for %n = %c0 to %c8 step %c1 {
    scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
      memref.store %s, %y[%n, %i] : memref<8x4xf32>
    }
  }
  return
}
