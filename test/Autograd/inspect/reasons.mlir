// RUN: graft inspect %s | FileCheck %s
// RUN: graft inspect --autograd %s | FileCheck %s
//
// `graft inspect --autograd`: one row per named value, and for every
// parameter or requires_grad input without a gradient, why. The ops that cut
// a leaf from the loss carry front-end locations (reasons.graft:LINE:COL) so
// that the reasons can be checked exactly. Rows come in program order, so
// each CHECK line sits above the op its row is about.

// CHECK-LABEL: model @reasons
// CHECK-NEXT: name{{ +}}kind{{ +}}type{{ +}}requires_grad{{ +}}is_leaf{{ +}}grad_fn{{ +}}grad{{ +}}why no grad
graft.model @reasons {
  // CHECK-NEXT: x{{ +}}input{{ +}}f32[8, 4]{{ +}}False{{ +}}True{{ +}}None{{ +}}no{{$}}
  %x = graft.input "x" : tensor<8x4xf32>
  // A leaf input marked requires_grad that reaches the loss.
  // CHECK-NEXT: xr{{ +}}input{{ +}}f32[8, 4]{{ +}}True{{ +}}True{{ +}}None{{ +}}yes{{$}}
  %xr = graft.input "xr" requires_grad : tensor<8x4xf32>
  // CHECK-NEXT: xu{{ +}}input{{ +}}f32[8, 4]{{ +}}True{{ +}}True{{ +}}None{{ +}}no{{ +}}no path to the loss{{$}}
  %xu = graft.input "xu" requires_grad : tensor<8x4xf32>
  // CHECK-NEXT: fc1.weight{{ +}}param{{ +}}f32[16, 4]{{ +}}True{{ +}}True{{ +}}None{{ +}}yes{{$}}
  %w1 = graft.param "fc1.weight" init <ones> : tensor<16x4xf32>
  // CHECK-NEXT: fc1.bias{{ +}}param{{ +}}f32[16]{{ +}}False{{ +}}True{{ +}}None{{ +}}no{{ +}}frozen{{$}}
  %b1 = graft.param "fc1.bias" frozen init <zeros> : tensor<16xf32>
  // CHECK-NEXT: fc2.weight{{ +}}param{{ +}}f32[2, 16]{{ +}}True{{ +}}True{{ +}}None{{ +}}yes{{$}}
  %w2 = graft.param "fc2.weight" init <ones> : tensor<2x16xf32>
  // CHECK-NEXT: det.weight{{ +}}param{{ +}}f32[2, 16]{{ +}}True{{ +}}True{{ +}}None{{ +}}no{{ +}}only reached through detach at reasons.graft:30:9{{$}}
  %wd = graft.param "det.weight" init <ones> : tensor<2x16xf32>
  // CHECK-NEXT: ng.scale{{ +}}param{{ +}}f32[16]{{ +}}True{{ +}}True{{ +}}None{{ +}}no{{ +}}only used under no_grad at reasons.graft:21:11{{$}}
  %wn = graft.param "ng.scale" init <ones> : tensor<16xf32>
  // CHECK-NEXT: inf.scale{{ +}}param{{ +}}f32[16]{{ +}}True{{ +}}True{{ +}}None{{ +}}no{{ +}}only used under inference at reasons.graft:24:11{{$}}
  %wi = graft.param "inf.scale" init <ones> : tensor<16xf32>
  // CHECK-NEXT: aux.weight{{ +}}param{{ +}}f32[16]{{ +}}True{{ +}}True{{ +}}None{{ +}}no{{ +}}no path to the loss{{$}}
  %wa = graft.param "aux.weight" init <ones> : tensor<16xf32>
  // CHECK-NEXT: argmax.src{{ +}}param{{ +}}f32[8, 2]{{ +}}True{{ +}}True{{ +}}None{{ +}}no{{ +}}only reached through non-differentiable graft.argmax at reasons.graft:33:8{{$}}
  %wk = graft.param "argmax.src" init <ones> : tensor<8x2xf32>
  // CHECK-NEXT: running{{ +}}buffer{{ +}}f32[16]{{ +}}False{{ +}}True{{ +}}None{{ +}}no{{$}}
  %rm = graft.buffer "running" init <zeros> : tensor<16xf32>

  // Saved for backward (activations only; parameters, inputs, buffers and
  // constants live anyway):
  //   linear(xs, fc1.weight, fc1.bias) saves xs (and the weight): 8*4*4 = 128
  //   relu saves its result a:                                   8*16*4 = 512
  //   mul(k, ns) saves ns (only k needs a gradient):               16*4 =  64
  //   linear(s2, fc2.weight) saves s2 (and the weight):          8*16*4 = 512
  //   linear(s2, detach(det.weight)) saves the detached weight, which
  //   shares the parameter's storage:                                       0
  //   mul(o3, amr) saves amr:                                     8*1*4 =  32
  //   add, sum: nothing                                             total 1248
  %xs = graft.add %x, %xr : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<8x4xf32>
  %h = graft.linear %xs, %w1, %b1 : (tensor<8x4xf32>, tensor<16x4xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  // A retained value that is also a hook point: a non-leaf whose gradient
  // is kept.
  // CHECK-NEXT: h.relu{{ +}}retained,hook{{ +}}f32[8, 16]{{ +}}True{{ +}}False{{ +}}ReluBackward0{{ +}}yes{{$}}
  %a = graft.relu %h : tensor<8x16xf32>
  graft.retain_grad "h.relu" %a : tensor<8x16xf32>
  %k = graft.grad_hook "fc1.out" %a : tensor<8x16xf32>
  %ns = graft.no_grad -> tensor<16xf32> {
    %e = graft.exp %wn : tensor<16xf32> loc("reasons.graft":21:11)
    graft.yield %e : tensor<16xf32>
  } loc("reasons.graft":20:3)
  %is = graft.inference -> tensor<16xf32> {
    %n = graft.neg %wi : tensor<16xf32> loc("reasons.graft":24:11)
    graft.yield %n : tensor<16xf32>
  } loc("reasons.graft":23:3)
  %s1 = graft.mul %k, %ns : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %s2 = graft.add %s1, %is : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %o = graft.linear %s2, %w2 : (tensor<8x16xf32>, tensor<2x16xf32>) -> tensor<8x2xf32>
  %dw = graft.detach %wd : tensor<2x16xf32> loc("reasons.graft":30:9)
  %o2 = graft.linear %s2, %dw : (tensor<8x16xf32>, tensor<2x16xf32>) -> tensor<8x2xf32>
  %o3 = graft.add %o, %o2 : (tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<8x2xf32>
  %am = graft.argmax %wk {dim = 1 : i64} : tensor<8x2xf32> -> tensor<8xi64> loc("reasons.graft":33:8)
  %amf = graft.cast %am : tensor<8xi64> -> tensor<8xf32>
  %amr = graft.reshape %amf : tensor<8xf32> -> tensor<8x1xf32>
  // CHECK-NEXT: logits{{ +}}output{{ +}}f32[8, 2]{{ +}}True{{ +}}False{{ +}}MulBackward0{{ +}}no{{$}}
  %o4 = graft.mul %o3, %amr : (tensor<8x2xf32>, tensor<8x1xf32>) -> tensor<8x2xf32>
  graft.output "logits" %o4 : tensor<8x2xf32>
  // Recorded (it requires grad) but not on the loss's path: pruned.
  // CHECK-NEXT: aux{{ +}}output{{ +}}f32[8, 16]{{ +}}True{{ +}}False{{ +}}MulBackward0{{ +}}no{{$}}
  %aux = graft.mul %a, %wa : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  graft.output "aux" %aux : tensor<8x16xf32>
  // The loss has no name: it is shown by its SSA number and location.
  // CHECK-NEXT: %29 ({{.*}}reasons.mlir:[[@LINE+1]]:8){{ +}}loss{{ +}}f32[]{{ +}}True{{ +}}False{{ +}}SumBackward0{{ +}}no{{$}}
  %l = graft.sum %o4 : tensor<8x2xf32> -> tensor<f32>
  graft.loss %l : tensor<f32>
}
// 64 + 16 + 32 + 32 + 16 + 16 + 16 + 16 = 208 elements in 8 tensors; the
// frozen fc1.bias has 16. Recorded: add, linear, relu, mul, add, linear,
// linear, add, mul, mul (aux), sum = 11; aux's mul is pruned.
// CHECK-NEXT: parameters: 208 total (8 tensors), 192 trainable (7), 16 frozen (1)
// CHECK-NEXT: saved for backward: 1248 bytes in 5 tensors (activations only)
// CHECK-NEXT: recorded ops: 11, 10 differentiated, 1 pruned
// det.weight, ng.scale, inf.scale, aux.weight, argmax.src and xu:
// CHECK-NEXT: leaves that require grad but get no gradient: 6
// CHECK-NOT: backward: none
