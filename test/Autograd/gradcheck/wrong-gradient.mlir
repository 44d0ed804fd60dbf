// RUN: not graft gradcheck %s | FileCheck %s
//
// gradcheck catches a wrong gradient (here d/dx sum(exp(x)) claimed to be
// 2 exp(x)), reports a missing one for a parameter the loss depends on, and
// exits with 1.

// CHECK-LABEL: gradcheck @wrong:
// CHECK-DAG: FAIL  x  [3]  max abs err {{.*}}  max rel err 1.000e+00
// CHECK-DAG: FAIL  b  [3]  max abs err {{.*}}  (no graft.gradient, but the loss depends on it)
// CHECK-DAG: PASS  unused  [2]  max abs err 0.000e+00  max rel err 0.000e+00  (no gradient: the loss does not depend on it)
// CHECK: gradcheck @wrong: FAIL (2 of 3 tensors)
graft.model @wrong {
  %x = graft.param "x" init <normal> : tensor<3xf64>
  %b = graft.param "b" init <normal> : tensor<3xf64>
  %u = graft.param "unused" init <normal> : tensor<2xf64>
  %e = graft.exp %x : tensor<3xf64>
  %s = graft.add %e, %b : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
  %l = graft.sum %s : tensor<3xf64> -> tensor<f64>
  graft.loss %l : tensor<f64>
  %two = graft.constant dense<2.0> : tensor<f64>
  %g = graft.mul %e, %two : (tensor<3xf64>, tensor<f64>) -> tensor<3xf64>
  graft.gradient "x" %g : tensor<3xf64>
}
