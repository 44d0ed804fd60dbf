// RUN: graft-opt %s --split-input-file --graft-plan-memory | FileCheck %s

// Two temporaries whose lives do not overlap share bytes; one live at the
// same time as both gets its own. The workspace is the last argument.

// CHECK-LABEL: func.func @reuse(
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<64xf32> {graft.name = "x", graft.role = "input", llvm.noalias}
// CHECK-SAME: %[[OUT:[a-z0-9]+]]: memref<64xf32> {bufferize.result, graft.name = "y", graft.role = "output", llvm.noalias}
// CHECK-SAME: %[[WS:[a-z0-9]+]]: memref<512xi8> {graft.role = "workspace", llvm.noalias}
// CHECK-SAME: attributes {graft.temporary_bytes = 768 : i64, graft.workspace_bytes = 512 : i64}
// CHECK-NOT: memref.alloc
// CHECK: %[[C256:.+]] = arith.constant 256 : index
// CHECK: %[[LONG:.+]] = memref.view %[[WS]][%[[C256]]][] : memref<512xi8> to memref<64xf32>
// CHECK: %[[C0:.+]] = arith.constant 0 : index
// CHECK: %[[A:.+]] = memref.view %[[WS]][%[[C0]]][] : memref<512xi8> to memref<64xf32>
// CHECK: linalg.copy ins(%[[X]] : memref<64xf32>) outs(%[[A]] : memref<64xf32>)
// CHECK: linalg.copy ins(%[[A]] : memref<64xf32>) outs(%[[LONG]] : memref<64xf32>)
// CHECK: %[[C0B:.+]] = arith.constant 0 : index
// CHECK: %[[B:.+]] = memref.view %[[WS]][%[[C0B]]][] : memref<512xi8> to memref<64xf32>
// CHECK: linalg.copy ins(%[[LONG]] : memref<64xf32>) outs(%[[B]] : memref<64xf32>)
// CHECK: memref.copy %[[B]], %[[OUT]]
func.func @reuse(%x: memref<64xf32> {graft.role = "input", graft.name = "x"},
                 %out: memref<64xf32> {bufferize.result, graft.role = "output", graft.name = "y"}) {
  %long = memref.alloc() : memref<64xf32>
  %a = memref.alloc() : memref<64xf32>
  linalg.copy ins(%x : memref<64xf32>) outs(%a : memref<64xf32>)
  linalg.copy ins(%a : memref<64xf32>) outs(%long : memref<64xf32>)
  %b = memref.alloc() : memref<64xf32>
  linalg.copy ins(%long : memref<64xf32>) outs(%b : memref<64xf32>)
  memref.copy %b, %out : memref<64xf32> to memref<64xf32>
  return
}

// -----

// State results share their argument's storage: neither is noalias, and a
// result that is its argument unchanged needs no copy.

// CHECK-LABEL: func.func @state(
// CHECK-SAME: %[[P:[a-z0-9]+]]: memref<8xf32> {graft.name = "w", graft.role = "param"}
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<8xf32> {graft.name = "v", graft.role = "param"}
// CHECK-SAME: %[[PO:[a-z0-9]+]]: memref<8xf32> {bufferize.result, graft.name = "w", graft.role = "param"}
// CHECK-SAME: %[[QO:[a-z0-9]+]]: memref<8xf32> {bufferize.result, graft.name = "v", graft.role = "param"}
// CHECK: %[[N:.+]] = memref.view
// CHECK: memref.copy %[[N]], %[[PO]]
// CHECK-NOT: memref.copy
// CHECK: return
func.func @state(%p: memref<8xf32> {graft.role = "param", graft.name = "w"},
                 %q: memref<8xf32> {graft.role = "param", graft.name = "v"},
                 %po: memref<8xf32> {bufferize.result, graft.role = "param", graft.name = "w"},
                 %qo: memref<8xf32> {bufferize.result, graft.role = "param", graft.name = "v"}) {
  %n = memref.alloc() : memref<8xf32>
  linalg.copy ins(%p : memref<8xf32>) outs(%n : memref<8xf32>)
  memref.copy %n, %po : memref<8xf32> to memref<8xf32>
  memref.copy %q, %qo : memref<8xf32> to memref<8xf32>
  return
}

// -----

// A buffer reached through a view and a loop-carried value lives until the
// loop's last use: the later temporary does not take its bytes.

// CHECK-LABEL: func.func @aliases(
// CHECK-SAME: attributes {graft.temporary_bytes = 128 : i64, graft.workspace_bytes = 128 : i64}
// CHECK: %[[C64:.+]] = arith.constant 64 : index
// CHECK-NEXT: memref.view %{{.+}}[%[[C64]]][] : memref<128xi8> to memref<16xf32>
func.func @aliases(%x: memref<16xf32> {graft.role = "input", graft.name = "x"},
                   %out: memref<16xf32> {bufferize.result, graft.role = "output", graft.name = "y"}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %t = memref.alloc() : memref<4x4xf32>
  %flat = memref.collapse_shape %t [[0, 1]] : memref<4x4xf32> into memref<16xf32>
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %flat) -> (memref<16xf32>) {
    linalg.copy ins(%x : memref<16xf32>) outs(%acc : memref<16xf32>)
    scf.yield %acc : memref<16xf32>
  }
  %u = memref.alloc() : memref<16xf32>
  linalg.copy ins(%r : memref<16xf32>) outs(%u : memref<16xf32>)
  memref.copy %u, %out : memref<16xf32> to memref<16xf32>
  return
}
