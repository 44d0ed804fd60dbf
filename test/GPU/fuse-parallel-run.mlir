// graft-gpu-fuse-parallel must not change results. The fused loop is plain
// SCF, so this runs on the CPU: the function below, lowered to LLVM and run
// with mlir-runner as it is, fused, and fused with the fused loops'
// iterations reversed (parallel iterations may run in any order: a
// dependence between two segments, or between iterations of one group,
// shows in one order or the other), prints the same buffers.
// REQUIRES: mlir-runner

// DEFINE: %{lower} = convert-linalg-to-loops, convert-scf-to-cf, expand-strided-metadata, finalize-memref-to-llvm, convert-arith-to-llvm, convert-index-to-llvm, convert-cf-to-llvm, convert-func-to-llvm, reconcile-unrealized-casts
// DEFINE: %{run} = mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs | sed -e 's/base@ = 0x[0-9a-f]*//'

// RUN: graft-opt %s -pass-pipeline='builtin.module(%{lower})' | %{run} > %t.ref
// RUN: FileCheck %s --input-file=%t.ref
// RUN: graft-opt %s -graft-gpu-fuse-parallel > %t.fused.mlir
// RUN: FileCheck %s --check-prefix=FUSED --input-file=%t.fused.mlir
// RUN: graft-opt %t.fused.mlir -pass-pipeline='builtin.module(%{lower})' | %{run} > %t.fused
// RUN: diff %t.ref %t.fused
// RUN: %python %S/Inputs/reverse_parallel.py < %t.fused.mlir > %t.reversed.mlir
// RUN: FileCheck %s --check-prefix=REVERSED --input-file=%t.reversed.mlir
// RUN: graft-opt %t.reversed.mlir -pass-pipeline='builtin.module(%{lower})' | %{run} > %t.reversed
// RUN: diff %t.ref %t.reversed

// Eight loops become two: {a, b (reads a elementwise)}, m, t, v0 and v1 in
// segments at 0, 512, 768, 1024 and 1280; then y (reads a at another index,
// so it starts a new run) and z.
// FUSED-LABEL: func.func @kernels(
// FUSED: scf.parallel (%{{.+}}) = (%{{.+}}) to (%c1344{{.*}})
// FUSED-NOT: scf.parallel
// FUSED: scf.parallel (%{{.+}}) = (%{{.+}}) to (%c320{{.*}})
// FUSED-NOT: scf.parallel
// FUSED: return

// REVERSED-COUNT-2: scf.parallel (%{{.+}}_rev)

// a = 2x, b = a + 3 (x = i / 2)
// CHECK: sizes = [300]
// CHECK-NEXT: [0,  1,  2,  3,
// CHECK-SAME: 298,  299]
// CHECK: sizes = [300]
// CHECK-NEXT: [3,  4,  5,
// CHECK-SAME: 301,  302]
// m: 10 i + j on the odd columns
// CHECK: sizes = [3, 7]
// CHECK-NEXT: {{\[\[}}-1,   1,   -1,   3,   -1,   5,   -1],
// CHECK-NEXT: [-1,   11,   -1,   13,   -1,   15,   -1],
// CHECK-NEXT: [-1,   21,   -1,   23,   -1,   25,   -1]]
// t: 100 i + 10 j + k
// CHECK: sizes = [2, 3, 4]
// CHECK: [120,    121,    122,    123]]]
// y = a[1..5]
// CHECK: sizes = [5]
// CHECK-NEXT: [1,  2,  3,  4,  5]
// z = x (x + 1)
// CHECK: sizes = [64]
// CHECK-NEXT: [0,  0.75,  2,  3.75,
// CHECK-SAME: 1023.75]

func.func @kernels(%x: memref<300xf32>, %a: memref<300xf32>, %b: memref<300xf32>,
                   %m: memref<3x7xf32>, %t: memref<2x3x4xf32>, %y: memref<5xf32>,
                   %z: memref<64xf32>, %s: memref<f32>, %ws: memref<1024xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c5 = arith.constant 5 : index
  %c7 = arith.constant 7 : index
  %c64 = arith.constant 64 : index
  %c256 = arith.constant 256 : index
  %c300 = arith.constant 300 : index
  %two = arith.constant 2.0 : f32
  %one = arith.constant 1.0 : f32
  %f10 = arith.constant 10.0 : f32
  %f100 = arith.constant 100.0 : f32
  %sv = memref.load %s[] : memref<f32>
  // a = 2x
  scf.parallel (%i) = (%c0) to (%c300) step (%c1) {
    %v = memref.load %x[%i] : memref<300xf32>
    %w = arith.mulf %v, %two : f32
    memref.store %w, %a[%i] : memref<300xf32>
    scf.reduce
  }
  // m[i, j] = 10 i + j on the odd columns
  scf.parallel (%i, %j) = (%c0, %c1) to (%c3, %c7) step (%c1, %c2) {
    %ii = arith.index_cast %i : index to i32
    %jj = arith.index_cast %j : index to i32
    %fi = arith.sitofp %ii : i32 to f32
    %fj = arith.sitofp %jj : i32 to f32
    %p = arith.mulf %fi, %f10 : f32
    %q = arith.addf %p, %fj : f32
    memref.store %q, %m[%i, %j] : memref<3x7xf32>
    scf.reduce
  }
  // b = a + s: reads what the first loop writes, elementwise
  scf.parallel (%i) = (%c0) to (%c300) step (%c1) {
    %v = memref.load %a[%i] : memref<300xf32>
    %w = arith.addf %v, %sv : f32
    memref.store %w, %b[%i] : memref<300xf32>
    scf.reduce
  }
  // t[i, j, k] = 100 i + 10 j + k
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%c2, %c3, %c4) step (%c1, %c1, %c1) {
    %ii = arith.index_cast %i : index to i32
    %jj = arith.index_cast %j : index to i32
    %kk = arith.index_cast %k : index to i32
    %fi = arith.sitofp %ii : i32 to f32
    %fj = arith.sitofp %jj : i32 to f32
    %fk = arith.sitofp %kk : i32 to f32
    %p = arith.mulf %fi, %f100 : f32
    %q = arith.mulf %fj, %f10 : f32
    %r = arith.addf %p, %q : f32
    %u = arith.addf %r, %fk : f32
    memref.store %u, %t[%i, %j, %k] : memref<2x3x4xf32>
    scf.reduce
  }
  // Two temporaries in the workspace, at disjoint bytes.
  %v0 = memref.view %ws[%c0][] : memref<1024xi8> to memref<64xf32>
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %v = memref.load %x[%i] : memref<300xf32>
    memref.store %v, %v0[%i] : memref<64xf32>
    scf.reduce
  }
  %v1 = memref.view %ws[%c256][] : memref<1024xi8> to memref<64xf32>
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %v = memref.load %x[%i] : memref<300xf32>
    %w = arith.addf %v, %one : f32
    memref.store %w, %v1[%i] : memref<64xf32>
    scf.reduce
  }
  // y[k] = a[k + 1]: not elementwise, starts the next run.
  scf.parallel (%k) = (%c0) to (%c5) step (%c1) {
    %k1 = arith.addi %k, %c1 : index
    %v = memref.load %a[%k1] : memref<300xf32>
    memref.store %v, %y[%k] : memref<5xf32>
    scf.reduce
  }
  // z = v0 * v1, fused with the loop before
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    %p = memref.load %v0[%i] : memref<64xf32>
    %q = memref.load %v1[%i] : memref<64xf32>
    %r = arith.mulf %p, %q : f32
    memref.store %r, %z[%i] : memref<64xf32>
    scf.reduce
  }
  return
}

func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}

func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c300 = arith.constant 300 : index
  %half = arith.constant 0.5 : f32
  %minus = arith.constant -1.0 : f32
  %three = arith.constant 3.0 : f32
  %x = memref.alloc() : memref<300xf32>
  %a = memref.alloc() : memref<300xf32>
  %b = memref.alloc() : memref<300xf32>
  %m = memref.alloc() : memref<3x7xf32>
  %t = memref.alloc() : memref<2x3x4xf32>
  %y = memref.alloc() : memref<5xf32>
  %z = memref.alloc() : memref<64xf32>
  %s = memref.alloc() : memref<f32>
  %ws = memref.alloc() : memref<1024xi8>
  scf.for %i = %c0 to %c300 step %c1 {
    %ii = arith.index_cast %i : index to i32
    %fi = arith.sitofp %ii : i32 to f32
    %v = arith.mulf %fi, %half : f32
    memref.store %v, %x[%i] : memref<300xf32>
  }
  linalg.fill ins(%minus : f32) outs(%m : memref<3x7xf32>)
  memref.store %three, %s[] : memref<f32>
  call @kernels(%x, %a, %b, %m, %t, %y, %z, %s, %ws)
      : (memref<300xf32>, memref<300xf32>, memref<300xf32>, memref<3x7xf32>,
         memref<2x3x4xf32>, memref<5xf32>, memref<64xf32>, memref<f32>,
         memref<1024xi8>) -> ()
  %pa = memref.cast %a : memref<300xf32> to memref<*xf32>
  %pb = memref.cast %b : memref<300xf32> to memref<*xf32>
  %pm = memref.cast %m : memref<3x7xf32> to memref<*xf32>
  %pt = memref.cast %t : memref<2x3x4xf32> to memref<*xf32>
  %py = memref.cast %y : memref<5xf32> to memref<*xf32>
  %pz = memref.cast %z : memref<64xf32> to memref<*xf32>
  call @printMemrefF32(%pa) : (memref<*xf32>) -> ()
  call @printMemrefF32(%pb) : (memref<*xf32>) -> ()
  call @printMemrefF32(%pm) : (memref<*xf32>) -> ()
  call @printMemrefF32(%pt) : (memref<*xf32>) -> ()
  call @printMemrefF32(%py) : (memref<*xf32>) -> ()
  call @printMemrefF32(%pz) : (memref<*xf32>) -> ()
  memref.dealloc %x : memref<300xf32>
  memref.dealloc %a : memref<300xf32>
  memref.dealloc %b : memref<300xf32>
  memref.dealloc %m : memref<3x7xf32>
  memref.dealloc %t : memref<2x3x4xf32>
  memref.dealloc %y : memref<5xf32>
  memref.dealloc %z : memref<64xf32>
  memref.dealloc %s : memref<f32>
  memref.dealloc %ws : memref<1024xi8>
  return
}
