// RUN: graft-opt %s --graft-expand-bf16 | FileCheck %s

// Rounding f32 to bf16 becomes integer arithmetic on the bits, scalar and
// vector; widening becomes a shift. No truncf or extf involving bf16 is
// left for LLVM (which would call __truncsfbf2 or __truncdfbf2).

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

// f64 and bf16 convert through f32, whose step to bf16 is expanded.

// CHECK-LABEL: func.func @round_f64(
// CHECK-SAME: %[[X:[a-z0-9]+]]: f64
// CHECK: %[[F:.+]] = arith.truncf %[[X]] : f64 to f32
// CHECK: arith.bitcast %[[F]] : f32 to i32
// CHECK-NOT: arith.truncf
// CHECK: return
func.func @round_f64(%x: f64) -> bf16 {
  %r = arith.truncf %x : f64 to bf16
  return %r : bf16
}

// CHECK-LABEL: func.func @widen_to_f64(
// CHECK-SAME: %[[V:[a-z0-9]+]]: vector<4xbf16>
// CHECK: %[[I:.+]] = arith.bitcast %[[V]] : vector<4xbf16> to vector<4xi16>
// CHECK: %[[F:.+]] = arith.bitcast %{{.+}} : vector<4xi32> to vector<4xf32>
// CHECK: %[[D:.+]] = arith.extf %[[F]] : vector<4xf32> to vector<4xf64>
// CHECK: return %[[D]]
func.func @widen_to_f64(%v: vector<4xbf16>) -> vector<4xf64> {
  %r = arith.extf %v : vector<4xbf16> to vector<4xf64>
  return %r : vector<4xf64>
}

// Other conversions stay.

// CHECK-LABEL: func.func @f64(
// CHECK: arith.truncf %{{.+}} : f64 to f32
func.func @f64(%x: f64) -> f32 {
  %r = arith.truncf %x : f64 to f32
  return %r : f32
}
