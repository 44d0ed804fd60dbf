// RUN: graft-opt %s --graft-expand-bf16 | FileCheck %s

// Rounding f32 to bf16 becomes integer arithmetic on the bits, scalar and
// vector; widening becomes a shift. No truncf or extf involving bf16 is
// left for LLVM (which would call __truncsfbf2).

// CHECK-LABEL: func.func @round(
// CHECK-SAME: %[[X:[a-z0-9]+]]: f32
// CHECK-DAG: %[[ROUND:.+]] = arith.constant 32767 : i32
// CHECK-DAG: %[[QNAN:.+]] = arith.constant 32704 : i16
// CHECK-NOT: arith.truncf
// CHECK: %[[NAN:.+]] = arith.cmpf une, %[[X]], %[[X]] : f32
// CHECK: %[[BITS:.+]] = arith.bitcast %[[X]] : f32 to i32
// CHECK: %[[UP:.+]] = arith.addi %{{.+}}, %[[ROUND]] : i32
// CHECK: %[[SUM:.+]] = arith.addi %[[BITS]], %[[UP]] : i32
// CHECK: %[[HIGH:.+]] = arith.shrui %[[SUM]], %{{.+}} : i32
// CHECK: %[[HALF:.+]] = arith.trunci %[[HIGH]] : i32 to i16
// CHECK: %[[SEL:.+]] = arith.select %[[NAN]], %[[QNAN]], %[[HALF]] : i16
// CHECK: %[[R:.+]] = arith.bitcast %[[SEL]] : i16 to bf16
// CHECK: return %[[R]]
func.func @round(%x: f32) -> bf16 {
  %r = arith.truncf %x : f32 to bf16
  return %r : bf16
}

// CHECK-LABEL: func.func @widen_vector(
// CHECK-SAME: %[[V:[a-z0-9]+]]: vector<16xbf16>
// CHECK-NOT: arith.extf
// CHECK: %[[I:.+]] = arith.bitcast %[[V]] : vector<16xbf16> to vector<16xi16>
// CHECK: %[[W:.+]] = arith.extui %[[I]] : vector<16xi16> to vector<16xi32>
// CHECK: %[[S:.+]] = arith.shli %[[W]], %{{.+}} : vector<16xi32>
// CHECK: %[[F:.+]] = arith.bitcast %[[S]] : vector<16xi32> to vector<16xf32>
// CHECK: return %[[F]]
func.func @widen_vector(%v: vector<16xbf16>) -> vector<16xf32> {
  %r = arith.extf %v : vector<16xbf16> to vector<16xf32>
  return %r : vector<16xf32>
}

// Other conversions stay.

// CHECK-LABEL: func.func @f64(
// CHECK: arith.truncf %{{.+}} : f64 to f32
func.func @f64(%x: f64) -> f32 {
  %r = arith.truncf %x : f64 to f32
  return %r : f32
}
