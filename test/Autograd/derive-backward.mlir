// RUN: graft-opt %s -graft-derive-backward -split-input-file | FileCheck %s
//
// Reverse-mode differentiation with PyTorch's pruning rules.

// y = 2x; z = 3 + x.detach(); r = y + z: dr/dx = 2, nothing flows through
// the detached branch.
// CHECK-LABEL: graft.model @detach_example
graft.model @detach_example {
  // CHECK: %[[X:.*]] = graft.input "x" requires_grad
  %x = graft.input "x" requires_grad : tensor<3xf32>
  %two = graft.constant dense<2.0> : tensor<f32>
  %three = graft.constant dense<3.0> : tensor<f32>
  %y = graft.mul %two, %x : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
  %d = graft.detach %x : tensor<3xf32>
  %z = graft.add %three, %d : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
  %r = graft.add %y, %z : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %s = graft.sum %r : tensor<3xf32> -> tensor<f32>
  graft.loss %s : tensor<f32>
  // CHECK: %[[ONE:.*]] = graft.constant dense<1.000000e+00> : tensor<f32>
  // CHECK: %[[ONE1:.*]] = graft.reshape %[[ONE]] : tensor<f32> -> tensor<1xf32>
  // CHECK: %[[GS:.*]] = graft.broadcast_to %[[ONE1]] : tensor<1xf32> -> tensor<3xf32>
  // CHECK: %[[GX:.*]] = graft.mul %[[GS]], %{{.*}} : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  // CHECK-NOT: graft.add
  // CHECK: graft.gradient "x" %[[GX]] : tensor<3xf32>
}

// -----

// A value used twice gets the sum of both gradients; frozen parameters and
// inputs without requires_grad get none; operands that need no gradient
// are not differentiated (no matmul for dL/dx).
// CHECK-LABEL: graft.model @fan_out
graft.model @fan_out {
  %x = graft.input "x" : tensor<2x3xf32>
  %w = graft.param "w" init <ones> : tensor<3x3xf32>
  %f = graft.param "f" frozen init <ones> : tensor<3xf32>
  // CHECK: %[[H:.*]] = graft.matmul
  %h = graft.matmul %x, %w : (tensor<2x3xf32>, tensor<3x3xf32>) -> tensor<2x3xf32>
  %a = graft.mul %h, %h : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %b = graft.mul %a, %f : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %s = graft.sum %b : tensor<2x3xf32> -> tensor<f32>
  graft.loss %s : tensor<f32>
  // CHECK: graft.loss
  // CHECK: %[[G1:.*]] = graft.mul %{{.*}}, %[[H]]
  // CHECK: %[[G2:.*]] = graft.mul %{{.*}}, %[[H]]
  // CHECK: %[[GH:.*]] = graft.add %[[G1]], %[[G2]]
  // CHECK: %[[XT:.*]] = graft.transpose %{{.*}} {dim0 = 0 : i64, dim1 = 1 : i64} : tensor<2x3xf32> -> tensor<3x2xf32>
  // CHECK: %[[GW:.*]] = graft.matmul %[[XT]], %[[GH]]
  // CHECK-NOT: graft.matmul
  // CHECK: graft.gradient "w" %[[GW]] : tensor<3x3xf32>
  // CHECK-NOT: graft.gradient
}

// -----

// no_grad and inference regions are never differentiated; a trainable
// parameter used only there gets no gradient.
// CHECK-LABEL: graft.model @grad_modes
graft.model @grad_modes {
  %w = graft.param "w" init <ones> : tensor<3xf32>
  %v = graft.param "v" init <ones> : tensor<3xf32>
  %n = graft.no_grad -> tensor<3xf32> {
    %e = graft.exp %v : tensor<3xf32>
    graft.yield %e : tensor<3xf32>
  }
  %m = graft.mul %w, %n : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %s = graft.sum %m : tensor<3xf32> -> tensor<f32>
  graft.loss %s : tensor<f32>
  // CHECK: graft.gradient "w"
  // CHECK-NOT: graft.gradient "v"
}

// -----

// Retained values expose their gradient; hooks pass it through a callback
// point; a parameter with no path to the loss gets none.
// CHECK-LABEL: graft.model @retain_and_hooks
graft.model @retain_and_hooks {
  %w = graft.param "w" init <ones> : tensor<3xf32>
  %u = graft.param "unused" init <ones> : tensor<3xf32>
  %e = graft.exp %w : tensor<3xf32>
  %eu = graft.exp %u : tensor<3xf32>
  // CHECK: %[[H:.*]] = graft.grad_hook "e.hook"
  %h = graft.grad_hook "e.hook" %e : tensor<3xf32>
  graft.retain_grad "h" %h : tensor<3xf32>
  %s = graft.sum %h : tensor<3xf32> -> tensor<f32>
  graft.loss %s : tensor<f32>
  // Hooks belong to the tensor (%e; %h is the same tensor): they run where
  // its whole gradient is complete, in registration order, the retained
  // value's hook point last (as PyTorch runs retain_grad's hook), and the
  // retained gradient is what they leave.
  // CHECK: %[[GH:.*]] = graft.broadcast_to
  // CHECK: %[[GE:.*]] = graft.hook_call "e.hook" %[[GH]] : tensor<3xf32>
  // CHECK: %[[RH:.*]] = graft.hook_call "h" %[[GE]] {graft.retained} : tensor<3xf32>
  // CHECK: %[[GW:.*]] = graft.mul %[[RH]], %{{.*}}
  // CHECK: graft.gradient "w" %[[GW]]
  // CHECK-NOT: graft.gradient "unused"
  // CHECK: graft.gradient "h" %[[RH]]
}

// -----

// A model without a loss has no backward.
// CHECK-LABEL: graft.model @inference_only
graft.model @inference_only {
  %w = graft.param "w" init <ones> : tensor<3xf32>
  %e = graft.exp %w : tensor<3xf32>
  graft.output "e" %e : tensor<3xf32>
  // CHECK-NOT: graft.gradient
}

// -----

// Reading .grad: of a leaf, and of a retained non-leaf.
// CHECK-LABEL: graft.model @read_grad
graft.model @read_grad {
  %w = graft.param "w" init <ones> : tensor<3xf32>
  %e = graft.exp %w : tensor<3xf32>
  graft.retain_grad "e" %e : tensor<3xf32>
  graft.read_grad "e.grad" %e : tensor<3xf32>
  graft.read_grad "w.grad" %w : tensor<3xf32>
  %s = graft.sum %e : tensor<3xf32> -> tensor<f32>
  graft.loss %s : tensor<f32>
  // CHECK: graft.gradient "w" %[[GW:.*]] : tensor<3xf32>
  // CHECK: graft.gradient "e" %[[GE:.*]] : tensor<3xf32>
  // CHECK: graft.gradient "e.grad" %[[GE]] : tensor<3xf32>
  // CHECK: graft.gradient "w.grad" %[[GW]] : tensor<3xf32>
}

// -----

// A hook sees every use of the tensor, also those before register_hook:
// PyTorch's y = e * 2; e.register_hook(f); z = e * 3; loss = y + z gives f
// the gradient 2 + 3, then the chain continues from what f returns.
// CHECK-LABEL: graft.model @hook_sees_every_use
graft.model @hook_sees_every_use {
  %w = graft.param "w" init <ones> : tensor<3xf32>
  %e = graft.exp %w : tensor<3xf32>
  %y = graft.add %e, %e : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %h = graft.grad_hook "f" %e : tensor<3xf32>
  %z = graft.mul %h, %h : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %t = graft.add %y, %z : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %s = graft.sum %t : tensor<3xf32> -> tensor<f32>
  graft.loss %s : tensor<f32>
  // The gradients of both uses (through %z = h * h and %y = e + e) are
  // summed into %e's before its one hook point.
  // CHECK: graft.loss
  // CHECK: %[[Z:.*]] = graft.add %{{.*}}, %{{.*}} : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  // CHECK-NEXT: %[[ZY:.*]] = graft.add %[[Z]], %{{.*}} : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  // CHECK-NEXT: %[[ALL:.*]] = graft.add %[[ZY]], %{{.*}} : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  // CHECK-NEXT: %[[F:.*]] = graft.hook_call "f" %[[ALL]] : tensor<3xf32>
  // CHECK-NEXT: %[[GW:.*]] = graft.mul %[[F]], %{{.*}}
  // CHECK-NEXT: graft.gradient "w" %[[GW]]
}
