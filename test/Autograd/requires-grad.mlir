// RUN: graft-opt %s -graft-annotate-requires-grad -split-input-file | FileCheck %s
//
// PyTorch's requires_grad / is_leaf / grad_fn rules, decided statically.

// The worked example: y = 2x; z = 3 + x.detach(); r = y + z.
// CHECK-LABEL: graft.model @detach_example
graft.model @detach_example {
  // CHECK: %[[X:.*]] = graft.input "x" requires_grad {graft.requires_grad}
  %x = graft.input "x" requires_grad : tensor<3xf32>
  // CHECK: %[[TWO:.*]] = graft.constant dense<2.0{{.*}}> : tensor<f32>
  // CHECK-NOT: graft.requires_grad
  %two = graft.constant dense<2.0> : tensor<f32>
  %three = graft.constant dense<3.0> : tensor<f32>
  // CHECK: graft.mul %[[TWO]], %[[X]] {graft.grad_fn = "MulBackward0", graft.requires_grad}
  %y = graft.mul %two, %x : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
  // CHECK: %[[D:.*]] = graft.detach %[[X]] : tensor<3xf32>
  %d = graft.detach %x : tensor<3xf32>
  // CHECK: %[[Z:.*]] = graft.add %{{.*}}, %[[D]] : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
  %z = graft.add %three, %d : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
  // CHECK: graft.add %{{.*}}, %[[Z]] {graft.grad_fn = "AddBackward0", graft.requires_grad}
  %r = graft.add %y, %z : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
}

// -----

// Parameters require grad unless frozen; inputs only when marked; a value
// computed only from values that do not require grad is a leaf without grad.
// CHECK-LABEL: graft.model @leaves
graft.model @leaves {
  // CHECK: graft.param "w" init <ones> {graft.requires_grad}
  %w = graft.param "w" init <ones> : tensor<3xf32>
  // CHECK: graft.param "f" frozen init <ones> : tensor<3xf32>
  %f = graft.param "f" frozen init <ones> : tensor<3xf32>
  // CHECK: graft.input "e" : tensor<3xf32>
  %e = graft.input "e" : tensor<3xf32>
  // CHECK: graft.buffer "b" init <zeros> : tensor<3xf32>
  %b = graft.buffer "b" init <zeros> : tensor<3xf32>
  // CHECK: graft.add %{{.*}}, %{{.*}} : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %0 = graft.add %e, %f : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  // CHECK: graft.mul %{{.*}}, %{{.*}} : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %1 = graft.mul %0, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  // CHECK: graft.mul {{.*}} {graft.grad_fn = "MulBackward0", graft.requires_grad}
  %2 = graft.mul %1, %w : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
}

// -----

// Nothing under no_grad or inference is recorded; their results are leaves
// that do not require grad, and may be used in recorded computation later.
// CHECK-LABEL: graft.model @grad_modes
graft.model @grad_modes {
  %w = graft.param "w" init <ones> : tensor<3xf32>
  // CHECK: %[[NG:.*]] = graft.no_grad -> tensor<3xf32> {
  // CHECK-NEXT: graft.exp %{{.*}} : tensor<3xf32>
  %n = graft.no_grad -> tensor<3xf32> {
    %e = graft.exp %w : tensor<3xf32>
    graft.yield %e : tensor<3xf32>
  }
  // CHECK: graft.inference -> tensor<3xf32> {
  // CHECK-NEXT: graft.relu %{{.*}} : tensor<3xf32>
  %i = graft.inference -> tensor<3xf32> {
    %r = graft.relu %w : tensor<3xf32>
    graft.yield %r : tensor<3xf32>
  }
  // CHECK: graft.sub %[[NG]], %{{.*}} : (tensor<3xf32>, tensor<3xf32>)
  %s = graft.sub %n, %i : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  // CHECK: graft.mul %[[NG]], %{{.*}} {graft.grad_fn = "MulBackward0", graft.requires_grad}
  %m = graft.mul %n, %w : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
}

// -----

// Integer and mask results never require grad; a cast from an integer
// tensor starts a new leaf; a float cast is recorded.
// CHECK-LABEL: graft.model @dtypes
graft.model @dtypes {
  %w = graft.param "w" init <ones> : tensor<4x3xf32>
  %y = graft.input "y" : tensor<4xi64>
  // CHECK: graft.argmax %{{.*}} {dim = 1 : i64} : tensor<4x3xf32> -> tensor<4xi64>
  %a = graft.argmax %w {dim = 1 : i64} : tensor<4x3xf32> -> tensor<4xi64>
  // CHECK: graft.compare gt, %{{.*}}, %{{.*}} : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xi1>
  %m = graft.compare gt, %w, %w : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xi1>
  // CHECK: graft.cast %{{.*}} : tensor<4xi64> -> tensor<4xf32>
  %c = graft.cast %y : tensor<4xi64> -> tensor<4xf32>
  // CHECK: graft.cast %{{.*}} {graft.grad_fn = "ToCopyBackward0", graft.requires_grad} : tensor<4x3xf32> -> tensor<4x3xf64>
  %d = graft.cast %w : tensor<4x3xf32> -> tensor<4x3xf64>
}

// -----

// grad_fn names follow PyTorch: matmul by operand ranks, reductions by
// whether dims are given, views, in-place ops; a hook records no node of
// its own: its result keeps the grad_fn of the hooked value.
// CHECK-LABEL: graft.model @grad_fn_names
graft.model @grad_fn_names {
  %v = graft.param "v" init <ones> : tensor<3xf32>
  %m = graft.param "m" init <ones> : tensor<2x3xf32>
  %b = graft.param "b" init <ones> : tensor<4x2x3xf32>
  // CHECK: graft.matmul {{.*}}graft.grad_fn = "DotBackward0"
  %0 = graft.matmul %v, %v : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
  // CHECK: graft.matmul {{.*}}graft.grad_fn = "MvBackward0"
  %1 = graft.matmul %m, %v : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2xf32>
  %mt = graft.transpose %m {dim0 = 0 : i64, dim1 = 1 : i64} : tensor<2x3xf32> -> tensor<3x2xf32>
  // CHECK: graft.matmul {{.*}}graft.grad_fn = "MmBackward0"
  %2 = graft.matmul %m, %mt : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  %bt = graft.transpose %b {dim0 = 1 : i64, dim1 = 2 : i64} : tensor<4x2x3xf32> -> tensor<4x3x2xf32>
  // at::matmul folds 3-D @ 3-D into bmm behind _unsafe_view.
  // CHECK: graft.matmul {{.*}}graft.grad_fn = "UnsafeViewBackward0"
  %3 = graft.matmul %b, %bt : (tensor<4x2x3xf32>, tensor<4x3x2xf32>) -> tensor<4x2x2xf32>
  // CHECK: graft.sum {{.*}}graft.grad_fn = "SumBackward0"
  %4 = graft.sum %m : tensor<2x3xf32> -> tensor<f32>
  // CHECK: graft.sum {{.*}}graft.grad_fn = "SumBackward1"
  %5 = graft.sum %m {dims = array<i64: 1>} : tensor<2x3xf32> -> tensor<2xf32>
  // CHECK: graft.mean {{.*}}graft.grad_fn = "MeanBackward1"
  %6 = graft.mean %m {dims = array<i64: 0>} : tensor<2x3xf32> -> tensor<3xf32>
  // CHECK: graft.reshape {{.*}}graft.grad_fn = "ViewBackward0"
  %7 = graft.reshape %m : tensor<2x3xf32> -> tensor<6xf32>
  // CHECK: graft.clone {{.*}}graft.grad_fn = "CloneBackward0"
  %8 = graft.clone %m : tensor<2x3xf32>
  // CHECK: graft.add_ {{.*}}graft.grad_fn = "AddBackward0"
  %9 = graft.add_ %8, %v : tensor<2x3xf32>, tensor<3xf32>
  // CHECK: graft.grad_hook "h" %{{.*}} {graft.grad_fn = "AddBackward0", graft.requires_grad} : tensor<2x3xf32>
  %h = graft.grad_hook "h" %9 : tensor<2x3xf32>
  // Without a bias, F.linear is x @ w.t().
  // CHECK: graft.linear {{.*}}graft.grad_fn = "MmBackward0"
  %10 = graft.linear %m, %m : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2xf32>
}

// -----

// An in-place op whose other operand requires grad makes its result
// require grad, as torch's x.add_(w) does for an x without grad.
// CHECK-LABEL: graft.model @in_place
graft.model @in_place {
  %x = graft.input "x" : tensor<3xf32>
  %w = graft.param "w" init <ones> : tensor<3xf32>
  // CHECK: graft.add_ {{.*}} {graft.grad_fn = "AddBackward0", graft.requires_grad}
  %0 = graft.add_ %x, %w : tensor<3xf32>, tensor<3xf32>
  // CHECK: graft.relu_ {{.*}} {graft.grad_fn = "ReluBackward0", graft.requires_grad}
  %1 = graft.relu_ %0 : tensor<3xf32>
}

// -----

// A hook point under no_grad is computed there: no grad.
// CHECK-LABEL: graft.model @hook_under_no_grad
graft.model @hook_under_no_grad {
  %w = graft.param "w" init <ones> : tensor<3xf32>
  %n = graft.no_grad -> tensor<3xf32> {
    // CHECK: graft.grad_hook "inner" %{{.*}} : tensor<3xf32>
    %h = graft.grad_hook "inner" %w : tensor<3xf32>
    graft.yield %h : tensor<3xf32>
  }
}
