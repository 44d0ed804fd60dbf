// The whole CPU pipeline at each vector width it targets (512: AVX-512,
// 256: AVX2, 128), on a layer: the product's register tiles and the ReLU
// follow the width, and the pipeline ends in the LLVM dialect alone.

// RUN: graft-opt %s --graft-cpu-pipeline=vector-bits=512 -o %t.512
// RUN: FileCheck %s --input-file %t.512 --check-prefix=V512
// RUN: FileCheck %s --input-file %t.512 --check-prefix=LLVM
// RUN: graft-opt %s --graft-cpu-pipeline=vector-bits=256 -o %t.256
// RUN: FileCheck %s --input-file %t.256 --check-prefix=V256
// RUN: FileCheck %s --input-file %t.256 --check-prefix=LLVM
// RUN: graft-opt %s --graft-cpu-pipeline=vector-bits=128 -o %t.128
// RUN: FileCheck %s --input-file %t.128 --check-prefix=V128
// RUN: FileCheck %s --input-file %t.128 --check-prefix=LLVM

// The typed options print as the textual pipeline they build.
// RUN: graft-opt %s --graft-cpu-pipeline=vector-bits=256 --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=PIPE
// PIPE-LABEL: builtin.module(
// PIPE: convert-graft-to-linalg{batch-products=true {{.*}}conv-products=true pool-taps=true}
// PIPE: graft-cpu-schedule{{.*}}vector-bits=256
// PIPE: one-shot-bufferize{{.*}}bufferize-function-boundaries=true
// PIPE: graft-cpu-vectorize{vector-bits=256}
// PIPE: convert-func-to-llvm{{.*}}use-bare-ptr-memref-call-conv=true
// PIPE: reconcile-unrealized-casts

// The product's register tiles: rows of 4, 2 and 2 vectors (fmuladd on
// one multi-register vector each); the ReLU: one vector register.
// V512-DAG: llvm.intr.fmuladd({{.*}}) : (vector<64xf32>, vector<64xf32>, vector<64xf32>)
// V512-DAG: llvm.intr.maximum({{.*}}) : (vector<16xf32>, vector<16xf32>)
// V256-DAG: llvm.intr.fmuladd({{.*}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>)
// V256-DAG: llvm.intr.maximum({{.*}}) : (vector<8xf32>, vector<8xf32>)
// V128-DAG: llvm.intr.fmuladd({{.*}}) : (vector<8xf32>, vector<8xf32>, vector<8xf32>)
// V128-DAG: llvm.intr.maximum({{.*}}) : (vector<4xf32>, vector<4xf32>)
// LLVM-NOT: {{= (graft|linalg|tensor|memref|scf|vector)\.}}
// LLVM-LABEL: llvm.func @layer(
// LLVM-NOT: {{= (graft|linalg|tensor|memref|scf|vector)\.}}
func.func @layer(%x: tensor<64x512xf32>, %w: tensor<256x512xf32>, %b: tensor<256xf32>) -> tensor<64x256xf32> {
  %y = graft.linear %x, %w, %b : (tensor<64x512xf32>, tensor<256x512xf32>, tensor<256xf32>) -> tensor<64x256xf32>
  %r = graft.relu %y : tensor<64x256xf32>
  return %r : tensor<64x256xf32>
}
