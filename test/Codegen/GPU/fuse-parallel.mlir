// RUN: graft-opt %s -graft-gpu-fuse-parallel | FileCheck %s
// RUN: graft-opt %s -graft-gpu-fuse-parallel=segment-align=32 | FileCheck %s --check-prefix=ALIGN32

// Two independent 1-D loops become one loop over [0, 612): the first
// segment (300 iterations) padded to 512 and guarded, the second at 512
// (the last segment needs no guard: the loop ends with it).

// CHECK-LABEL: func.func @two_1d(
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<300xf32>, %[[A:[a-z0-9]+]]: memref<300xf32>, %[[Y:[a-z0-9]+]]: memref<100xf32>, %[[B:[a-z0-9]+]]: memref<100xf32>)
// The constants the pass makes follow the function's own.
// CHECK: arith.constant 300 : index
// CHECK-DAG: %[[ONE:.+]] = arith.constant 1 : index
// CHECK-DAG: %[[TOTAL:.+]] = arith.constant 612 : index
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[O1:.+]] = arith.constant 512 : index
// CHECK-DAG: %[[N0:.+]] = arith.constant 300 : index
// CHECK: scf.parallel (%[[L:.+]]) = (%[[ZERO]]) to (%[[TOTAL]]) step (%[[ONE]]) {
// CHECK-NEXT: %[[SEG0:.+]] = arith.cmpi ult, %[[L]], %[[O1]] : index
// CHECK-NEXT: scf.if %[[SEG0]] {
// CHECK-NEXT: %[[IN:.+]] = arith.cmpi ult, %[[L]], %[[N0]] : index
// CHECK-NEXT: scf.if %[[IN]] {
// CHECK-NEXT: %[[V:.+]] = memref.load %[[X]][%[[L]]]
// CHECK-NEXT: memref.store %[[V]], %[[A]][%[[L]]]
// CHECK-NEXT: }
// CHECK-NEXT: } else {
// CHECK-NEXT: %[[LOCAL:.+]] = arith.subi %[[L]], %[[O1]] : index
// CHECK-NEXT: %[[W:.+]] = memref.load %[[Y]][%[[LOCAL]]]
// CHECK-NEXT: memref.store %[[W]], %[[B]][%[[LOCAL]]]
// CHECK-NEXT: }
// CHECK-NEXT: scf.reduce
// CHECK-NEXT: }
// CHECK-NEXT: return

// With segment-align=32 the second segment starts at 320.
// ALIGN32-LABEL: func.func @two_1d(
// ALIGN32-DAG: arith.constant 420 : index
// ALIGN32-DAG: %[[O1:.+]] = arith.constant 320 : index
// ALIGN32: arith.cmpi ult, %{{.+}}, %[[O1]] : index
func.func @two_1d(%x: memref<300xf32>, %a: memref<300xf32>, %y: memref<100xf32>, %b: memref<100xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c100 = arith.constant 100 : index
  %c300 = arith.constant 300 : index
  scf.parallel (%i) = (%c0) to (%c300) step (%c1) {
    %v = memref.load %x[%i] : memref<300xf32>
    memref.store %v, %a[%i] : memref<300xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c100) step (%c1) {
    %v = memref.load %y[%i] : memref<100xf32>
    memref.store %v, %b[%i] : memref<100xf32>
    scf.reduce
  }
  return
}

// A 2-D loop with a lower bound and a step: its local index is split
// innermost fastest (5 columns), the row index scaled by 2 and shifted by 2.
// The first segment fills its 256 iterations: no guard.

// CHECK-LABEL: func.func @delinearize_2d(
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<256xf32>, %[[A:[a-z0-9]+]]: memref<8x5xf32>)
// CHECK: arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[TOTAL:.+]] = arith.constant 271 : index
// CHECK-DAG: %[[O1:.+]] = arith.constant 256 : index
// CHECK-DAG: %[[C5:.+]] = arith.constant 5 : index
// CHECK-DAG: %[[C2:.+]] = arith.constant 2 : index
// CHECK: scf.parallel (%[[L:.+]]) = (%{{.+}}) to (%[[TOTAL]])
// CHECK-NEXT: %[[SEG0:.+]] = arith.cmpi ult, %[[L]], %[[O1]] : index
// CHECK-NEXT: scf.if %[[SEG0]] {
// CHECK-NEXT: memref.store %{{.+}}, %[[X]][%[[L]]]
// CHECK-NEXT: } else {
// CHECK-NEXT: %[[LOCAL:.+]] = arith.subi %[[L]], %[[O1]] : index
// CHECK-NEXT: %[[J:.+]] = arith.remui %[[LOCAL]], %[[C5]] : index
// CHECK-NEXT: %[[Q:.+]] = arith.divui %[[LOCAL]], %[[C5]] : index
// CHECK-NEXT: %[[S:.+]] = arith.muli %[[Q]], %[[C2]] : index
// CHECK-NEXT: %[[I:.+]] = arith.addi %[[S]], %[[C2]] : index
// CHECK-NEXT: memref.store %{{.+}}, %[[A]][%[[I]], %[[J]]]
// CHECK-NEXT: }
func.func @delinearize_2d(%x: memref<256xf32>, %a: memref<8x5xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c5 = arith.constant 5 : index
  %c8 = arith.constant 8 : index
  %c256 = arith.constant 256 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%c256) step (%c1) {
    memref.store %f, %x[%i] : memref<256xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c2, %c0) to (%c8, %c5) step (%c2, %c1) {
    memref.store %f, %a[%i, %j] : memref<8x5xf32>
    scf.reduce
  }
  return
}

// Read after write: the second loop reads what the first writes, at
// another index (a[i + 1]): not fused.

// CHECK-LABEL: func.func @raw(
// CHECK: scf.parallel (%{{.+}}) = (%{{.+}}) to (%c101)
// CHECK: scf.parallel (%{{.+}}) = (%{{.+}}) to (%c100)
// CHECK-NOT: scf.if
// CHECK: return
func.func @raw(%x: memref<101xf32>, %a: memref<101xf32>, %b: memref<100xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c100 = arith.constant 100 : index
  %c101 = arith.constant 101 : index
  scf.parallel (%i) = (%c0) to (%c101) step (%c1) {
    %v = memref.load %x[%i] : memref<101xf32>
    memref.store %v, %a[%i] : memref<101xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c100) step (%c1) {
    %j = arith.addi %i, %c1 : index
    %v = memref.load %a[%j] : memref<101xf32>
    memref.store %v, %b[%i] : memref<100xf32>
    scf.reduce
  }
  return
}

// Read after write of the same element in the same iteration, over the
// same space: one segment whose thread runs the first body, then the
// second (the momentum update, then the parameter update that reads it).

// CHECK-LABEL: func.func @raw_elementwise(
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<4x64xf32>, %[[A:[a-z0-9]+]]: memref<4x64xf32>, %[[B:[a-z0-9]+]]: memref<4x64xf32>)
// CHECK: arith.constant 64 : index
// CHECK-DAG: %[[TOTAL:.+]] = arith.constant 256 : index
// CHECK-DAG: %[[C64:.+]] = arith.constant 64 : index
// CHECK: scf.parallel (%[[L:.+]]) = (%{{.+}}) to (%[[TOTAL]])
// CHECK-NEXT: %[[J:.+]] = arith.remui %[[L]], %[[C64]] : index
// CHECK-NEXT: %[[I:.+]] = arith.divui %[[L]], %[[C64]] : index
// CHECK-NEXT: %[[V:.+]] = memref.load %[[X]][%[[I]], %[[J]]]
// CHECK-NEXT: memref.store %[[V]], %[[A]][%[[I]], %[[J]]]
// CHECK-NEXT: %[[W:.+]] = memref.load %[[A]][%[[I]], %[[J]]]
// CHECK-NEXT: %[[S:.+]] = arith.addf %[[W]], %[[W]] : f32
// CHECK-NEXT: memref.store %[[S]], %[[B]][%[[I]], %[[J]]]
// CHECK-NEXT: scf.reduce
// CHECK-NOT: scf.parallel
func.func @raw_elementwise(%x: memref<4x64xf32>, %a: memref<4x64xf32>, %b: memref<4x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c64) step (%c1, %c1) {
    %v = memref.load %x[%i, %j] : memref<4x64xf32>
    memref.store %v, %a[%i, %j] : memref<4x64xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c64) step (%c1, %c1) {
    %v = memref.load %a[%i, %j] : memref<4x64xf32>
    %w = arith.addf %v, %v : f32
    memref.store %w, %b[%i, %j] : memref<4x64xf32>
    scf.reduce
  }
  return
}

// Write after read: the second loop overwrites what the first reads (at
// another index): not fused.

// CHECK-LABEL: func.func @war(
// CHECK: scf.parallel
// CHECK: memref.load
// CHECK: scf.parallel
// CHECK-NOT: scf.if
// CHECK: return
func.func @war(%a: memref<101xf32>, %b: memref<100xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c100 = arith.constant 100 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%c100) step (%c1) {
    %j = arith.addi %i, %c1 : index
    %v = memref.load %a[%j] : memref<101xf32>
    memref.store %v, %b[%i] : memref<100xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c100) step (%c1) {
    memref.store %f, %a[%i] : memref<101xf32>
    scf.reduce
  }
  return
}

// Write after write of the same buffer (over different spaces): not fused.

// CHECK-LABEL: func.func @waw(
// CHECK: scf.parallel (%{{.+}}) = (%{{.+}}) to (%c100)
// CHECK: scf.parallel (%{{.+}}) = (%{{.+}}) to (%c50)
// CHECK-NOT: scf.if
// CHECK: return
func.func @waw(%a: memref<100xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c50 = arith.constant 50 : index
  %c100 = arith.constant 100 : index
  %f = arith.constant 1.0 : f32
  %g = arith.constant 2.0 : f32
  scf.parallel (%i) = (%c0) to (%c100) step (%c1) {
    memref.store %f, %a[%i] : memref<100xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c50) step (%c1) {
    memref.store %g, %a[%i] : memref<100xf32>
    scf.reduce
  }
  return
}

// A copy of what the first loop writes ends the run. A store to a buffer
// that no earlier loop of the run touches does not (the loops move after
// it, so it stays before the fused loop), nor does a pure op (a cast); a
// call does.

// CHECK-LABEL: func.func @between(
// CHECK-SAME: %[[A:[a-z0-9]+]]: memref<64xf32>, %[[B:[a-z0-9]+]]: memref<64xf32>, %[[C:[a-z0-9]+]]: memref<64xf32>, %[[D:[a-z0-9]+]]: memref<64xf32>, %[[S:[a-z0-9]+]]: memref<f32>)
// CHECK: scf.parallel
// CHECK-NEXT: memref.store %{{.+}}, %[[A]]
// CHECK: memref.copy %[[A]], %[[B]]
// CHECK-NEXT: memref.store %{{.+}}, %[[S]][]
// CHECK-NEXT: %[[CAST:.+]] = memref.cast %[[D]]
// CHECK: scf.parallel (%{{.+}}) = (%{{.+}}) to (%c320{{.*}})
// CHECK: memref.store %{{.+}}, %[[C]]
// CHECK: } else {
// CHECK: memref.store %{{.+}}, %[[CAST]]
// CHECK: call @opaque()
// CHECK-NEXT: scf.parallel
// CHECK-NEXT: memref.store %{{.+}}, %[[B]]
func.func private @opaque()
func.func @between(%a: memref<64xf32>, %b: memref<64xf32>, %c: memref<64xf32>, %d: memref<64xf32>, %s: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    memref.store %f, %a[%i] : memref<64xf32>
    scf.reduce
  }
  memref.copy %a, %b : memref<64xf32> to memref<64xf32>
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    memref.store %f, %c[%i] : memref<64xf32>
    scf.reduce
  }
  memref.store %f, %s[] : memref<f32>
  %cast = memref.cast %d : memref<64xf32> to memref<?xf32>
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    memref.store %f, %cast[%i] : memref<?xf32>
    scf.reduce
  }
  func.call @opaque() : () -> ()
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    memref.store %f, %b[%i] : memref<64xf32>
    scf.reduce
  }
  return
}

// A loop with a reduction is not fused; the independent loops around it
// are, after it.

// CHECK-LABEL: func.func @reduction(
// CHECK: %[[SUM:.+]] = scf.parallel
// CHECK: scf.reduce(
// CHECK: scf.parallel (%{{.+}}) = (%{{.+}}) to (%c320{{.*}})
// CHECK: scf.if
// CHECK: memref.store %[[SUM]]
func.func @reduction(%x: memref<64xf32>, %a: memref<64xf32>, %b: memref<64xf32>, %s: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %v = memref.load %x[%i] : memref<64xf32>
    memref.store %v, %a[%i] : memref<64xf32>
    scf.reduce
  }
  %sum = scf.parallel (%i) = (%c0) to (%c64) step (%c1) init (%zero) -> f32 {
    %v = memref.load %x[%i] : memref<64xf32>
    scf.reduce(%v : f32) {
    ^bb0(%l: f32, %r: f32):
      %t = arith.addf %l, %r : f32
      scf.reduce.return %t : f32
    }
  }
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %v = memref.load %x[%i] : memref<64xf32>
    memref.store %v, %b[%i] : memref<64xf32>
    scf.reduce
  }
  memref.store %sum, %s[] : memref<f32>
  return
}

// Views of the workspace argument: static memref.views at disjoint byte
// ranges ([0, 1024) and [1024, 2048)) are different buffers and fuse. A
// view overlapping both ([512, 1536)), a subview (any part of the
// workspace, as far as the pass knows) and a view at a dynamic shift each
// conflict with the loop before them: not fused.

// CHECK-LABEL: func.func @workspace(
// CHECK-SAME: %[[WS:[a-z0-9]+]]: memref<4096xi8> {graft.role = #graft<role workspace>}
// CHECK: %[[V0:.+]] = memref.view %[[WS]]
// CHECK: %[[V1:.+]] = memref.view %[[WS]]
// CHECK: scf.parallel (%{{.+}}) = (%{{.+}}) to (%c512{{.*}})
// CHECK: memref.store %{{.+}}, %[[V0]]
// CHECK: } else {
// CHECK: memref.store %{{.+}}, %[[V1]]
// CHECK: %[[V3:.+]] = memref.view %[[WS]]
// CHECK-NEXT: scf.parallel (%{{.+}}) = (%c0) to (%c256) step (%c1)
// CHECK-NEXT: memref.load %[[V3]]
// CHECK: %[[SUB:.+]] = memref.subview %[[WS]]
// CHECK-NEXT: scf.parallel (%{{.+}}) = (%c0) to (%c1024) step (%c1)
// CHECK: memref.store %{{.+}}, %[[SUB]]
// CHECK: %[[V2:.+]] = memref.view %[[WS]][%{{.+}}]
// CHECK-NEXT: scf.parallel (%{{.+}}) = (%c0) to (%c256) step (%c1)
// CHECK: memref.store %{{.+}}, %[[V2]]
// CHECK-NOT: scf.if
// CHECK: return
func.func @workspace(%x: memref<256xf32>, %y: memref<256xf32>, %ws: memref<4096xi8> {graft.role = #graft<role workspace>}, %off: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  %c512 = arith.constant 512 : index
  %c1024 = arith.constant 1024 : index
  %v0 = memref.view %ws[%c0][] : memref<4096xi8> to memref<256xf32>
  scf.parallel (%i) = (%c0) to (%c256) step (%c1) {
    %v = memref.load %x[%i] : memref<256xf32>
    memref.store %v, %v0[%i] : memref<256xf32>
    scf.reduce
  }
  %v1 = memref.view %ws[%c1024][] : memref<4096xi8> to memref<256xf32>
  scf.parallel (%i) = (%c0) to (%c256) step (%c1) {
    %v = memref.load %x[%i] : memref<256xf32>
    memref.store %v, %v1[%i] : memref<256xf32>
    scf.reduce
  }
  %v3 = memref.view %ws[%c512][] : memref<4096xi8> to memref<256xf32>
  scf.parallel (%i) = (%c0) to (%c256) step (%c1) {
    %v = memref.load %v3[%i] : memref<256xf32>
    memref.store %v, %y[%i] : memref<256xf32>
    scf.reduce
  }
  %sub = memref.subview %ws[2048] [1024] [1] : memref<4096xi8> to memref<1024xi8, strided<[1], offset: 2048>>
  scf.parallel (%i) = (%c0) to (%c1024) step (%c1) {
    %z = arith.constant 0 : i8
    memref.store %z, %sub[%i] : memref<1024xi8, strided<[1], offset: 2048>>
    scf.reduce
  }
  %v2 = memref.view %ws[%off][] : memref<4096xi8> to memref<256xf32>
  scf.parallel (%i) = (%c0) to (%c256) step (%c1) {
    %v = memref.load %x[%i] : memref<256xf32>
    memref.store %v, %v2[%i] : memref<256xf32>
    scf.reduce
  }
  return
}

// Three loops; the third reads what the first writes (at another index:
// it runs over 32 iterations): only the first two fuse.

// CHECK-LABEL: func.func @three(
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<64xf32>, %[[A:[a-z0-9]+]]: memref<64xf32>, %[[B:[a-z0-9]+]]: memref<64xf32>, %[[C:[a-z0-9]+]]: memref<64xf32>)
// CHECK: scf.parallel (%{{.+}}) = (%{{.+}}) to (%c320{{.*}})
// CHECK: memref.store %{{.+}}, %[[A]]
// CHECK: } else {
// CHECK: memref.store %{{.+}}, %[[B]]
// CHECK: scf.reduce
// CHECK-NEXT: }
// CHECK-NEXT: scf.parallel (%{{.+}}) = (%c0) to (%c32) step (%c1)
// CHECK-NEXT: memref.load %[[A]]
// CHECK-NEXT: memref.store %{{.+}}, %[[C]]
func.func @three(%x: memref<64xf32>, %a: memref<64xf32>, %b: memref<64xf32>, %c: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %v = memref.load %x[%i] : memref<64xf32>
    memref.store %v, %a[%i] : memref<64xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %v = memref.load %x[%i] : memref<64xf32>
    memref.store %v, %b[%i] : memref<64xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c32) step (%c1) {
    %v = memref.load %a[%i] : memref<64xf32>
    memref.store %v, %c[%i] : memref<64xf32>
    scf.reduce
  }
  return
}

// Arguments of the same graft.role and graft.name are one tensor's storage
// (a state result runs in its argument's): the third loop reads w, which
// the first writes through w_out, so it is not fused with them.

// CHECK-LABEL: func.func @tied(
// CHECK: scf.parallel (%{{.+}}) = (%{{.+}}) to (%c320{{.*}})
// CHECK: scf.if
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%c64) step (%c1)
// CHECK-NOT: scf.if
// CHECK: return
func.func @tied(%w: memref<64xf32> {graft.role = #graft<role param>, graft.name = "w"}, %v: memref<64xf32> {graft.role = #graft<role param>, graft.name = "v"}, %w_out: memref<64xf32> {graft.role = #graft<role param>, graft.name = "w"}, %v_out: memref<64xf32> {graft.role = #graft<role param>, graft.name = "v"}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c63 = arith.constant 63 : index
  %c64 = arith.constant 64 : index
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %x = memref.load %w[%i] : memref<64xf32>
    %y = arith.addf %x, %x : f32
    memref.store %y, %w_out[%i] : memref<64xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %x = memref.load %v[%i] : memref<64xf32>
    %y = arith.addf %x, %x : f32
    memref.store %y, %v_out[%i] : memref<64xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %j = arith.subi %c63, %i : index
    %x = memref.load %w[%j] : memref<64xf32>
    memref.store %x, %v_out[%i] : memref<64xf32>
    scf.reduce
  }
  return
}

// A host scalar that a loop uses is read in its kernel (graft-gpu-map-loops
// sinks the load into it): a loop that writes the scalar's buffer is not
// fused with it.

// CHECK-LABEL: func.func @host_scalar(
// CHECK: %[[LR:.+]] = memref.load
// CHECK: %[[LR2:.+]] = arith.mulf %[[LR]], %[[LR]]
// CHECK-NEXT: scf.parallel (%{{.+}}) = (%c0) to (%c64) step (%c1)
// CHECK-NEXT: memref.store %[[LR2]]
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%c1) step (%c1)
// CHECK-NOT: scf.if
// CHECK: return
func.func @host_scalar(%s: memref<f32>, %a: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %f = arith.constant 1.0 : f32
  %lr = memref.load %s[] : memref<f32>
  %lr2 = arith.mulf %lr, %lr : f32
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    memref.store %lr2, %a[%i] : memref<64xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c1) step (%c1) {
    memref.store %f, %s[] : memref<f32>
    scf.reduce
  }
  return
}

// A loop with a dynamic bound is not fused.

// CHECK-LABEL: func.func @dynamic(
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%{{.+}}) step (%c1)
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%c64) step (%c1)
// CHECK-NOT: scf.if
// CHECK: return
func.func @dynamic(%a: memref<?xf32>, %b: memref<64xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %f, %a[%i] : memref<?xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    memref.store %f, %b[%i] : memref<64xf32>
    scf.reduce
  }
  return
}
