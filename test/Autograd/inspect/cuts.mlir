// RUN: graft inspect %s | FileCheck %s
//
// The reason names every cut between a leaf and the loss, following the
// leaf through recorded ops and hook points first.

// CHECK-LABEL: model @cuts
graft.model @cuts {
  %x = graft.input "x" requires_grad : tensor<3xf32>
  // Two cuts: both are named, in program order.
  // CHECK: two.cuts{{ +}}param{{ +}}f32[3]{{ +}}True{{ +}}True{{ +}}None{{ +}}no{{ +}}only reached through detach at cuts.graft:1:1 and used under no_grad at cuts.graft:2:1{{$}}
  %a = graft.param "two.cuts" init <ones> : tensor<3xf32>
  // Through a recorded op and a hook point, then detach: the cut is the
  // detach, not the first use.
  // CHECK: deep.cut{{ +}}param{{ +}}f32[3]{{ +}}True{{ +}}True{{ +}}None{{ +}}no{{ +}}only reached through detach at cuts.graft:3:1{{$}}
  %b = graft.param "deep.cut" init <ones> : tensor<3xf32>
  // Used by a recorded op whose result only feeds an output: no path.
  // CHECK: side{{ +}}param{{ +}}f32[3]{{ +}}True{{ +}}True{{ +}}None{{ +}}no{{ +}}no path to the loss{{$}}
  %c = graft.param "side" init <ones> : tensor<3xf32>
  // A parameter on the loss's path and also behind a detach has a gradient.
  // CHECK: both{{ +}}param{{ +}}f32[3]{{ +}}True{{ +}}True{{ +}}None{{ +}}yes{{$}}
  %e = graft.param "both" init <ones> : tensor<3xf32>

  %da = graft.detach %a : tensor<3xf32> loc("cuts.graft":1:1)
  %na = graft.no_grad -> tensor<3xf32> {
    %t = graft.tanh %a : tensor<3xf32> loc("cuts.graft":2:1)
    graft.yield %t : tensor<3xf32>
  }
  %b2 = graft.mul %b, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %bh = graft.grad_hook "b2" %b2 : tensor<3xf32>
  %db = graft.detach %bh : tensor<3xf32> loc("cuts.graft":3:1)
  %cs = graft.mul %c, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  graft.output "side.out" %cs : tensor<3xf32>
  %de = graft.detach %e : tensor<3xf32>
  %s1 = graft.add %da, %na : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %s2 = graft.add %s1, %db : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %s3 = graft.mul %s2, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %s4 = graft.add %s3, %e : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %s5 = graft.add %s4, %de : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %l = graft.sum %s5 : tensor<3xf32> -> tensor<f32>
  graft.loss %l : tensor<f32>
}
// Recorded: b2 (mul), cs (mul), s3, s4, s5, sum = 6 (s1 and s2 need no
// grad); b2 and cs are pruned. Saved: s3 = s2 * x saves s2 for dL/dx
// (3*4 = 12 bytes), the adds and the sum save nothing.
// CHECK: parameters: 12 total (4 tensors), 12 trainable (4), 0 frozen (0)
// CHECK-NEXT: saved for backward: 12 bytes in 1 tensors (activations only)
// CHECK-NEXT: recorded ops: 6, 4 differentiated, 2 pruned
// CHECK-NEXT: leaves that require grad but get no gradient: 3
