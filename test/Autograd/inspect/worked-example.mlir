// RUN: graft inspect %s | FileCheck %s
//
// The worked example of autograd-semantics.md, as a front-end would write
// it (names as NameLoc):
//   x = torch.ones(3, requires_grad=True)
//   y = 2 * x; z = 3 + x.detach(); r = y + z; r.sum().backward()
// PyTorch: x.is_leaf, x.grad = [2, 2, 2]; y.grad_fn = MulBackward0;
// z.requires_grad = False, z.is_leaf = True, z.grad_fn = None;
// r.grad_fn = AddBackward0. x gets its gradient through y only (the detach
// branch is cut), so it is not listed as "only reached through detach".

// CHECK-LABEL: model @detach_example
// CHECK-NEXT: name{{ +}}kind{{ +}}type{{ +}}requires_grad{{ +}}is_leaf{{ +}}grad_fn{{ +}}grad{{ +}}why no grad
graft.model @detach_example {
  // CHECK-NEXT: x{{ +}}input{{ +}}f32[3]{{ +}}True{{ +}}True{{ +}}None{{ +}}yes{{$}}
  %x = graft.input "x" requires_grad : tensor<3xf32>
  %two = graft.constant dense<2.0> : tensor<f32>
  %three = graft.constant dense<3.0> : tensor<f32>
  // CHECK-NEXT: y{{ +}}value{{ +}}f32[3]{{ +}}True{{ +}}False{{ +}}MulBackward0{{ +}}no{{$}}
  %y = graft.mul %two, %x : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32> loc("y"("example.graft":2:5))
  %d = graft.detach %x : tensor<3xf32> loc("example.graft":3:13)
  // CHECK-NEXT: z{{ +}}value{{ +}}f32[3]{{ +}}False{{ +}}True{{ +}}None{{ +}}no{{$}}
  %z = graft.add %three, %d : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32> loc("z"("example.graft":3:5))
  // CHECK-NEXT: r{{ +}}value{{ +}}f32[3]{{ +}}True{{ +}}False{{ +}}AddBackward0{{ +}}no{{$}}
  %r = graft.add %y, %z : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32> loc("r"("example.graft":4:5))
  // CHECK-NEXT: loss{{ +}}loss{{ +}}f32[]{{ +}}True{{ +}}False{{ +}}SumBackward0{{ +}}no{{$}}
  %l = graft.sum %r : tensor<3xf32> -> tensor<f32> loc("loss"("example.graft":5:5))
  graft.loss %l : tensor<f32>
}
// mul saves the constant 2 (needed for dL/dx), which lives anyway.
// CHECK-NEXT: parameters: 0 total (0 tensors), 0 trainable (0), 0 frozen (0)
// CHECK-NEXT: saved for backward: 0 bytes in 0 tensors (activations only)
// CHECK-NEXT: recorded ops: 3, 3 differentiated, 0 pruned
// CHECK-NOT: leaves that require grad

// Only through detach: w's single path to the loss is cut.
// RUN: graft inspect %S/Inputs/detach-only.mlir | FileCheck %s --check-prefix=DETACH
// DETACH-LABEL: model @detach_only
// DETACH: w{{ +}}param{{ +}}f32[3]{{ +}}True{{ +}}True{{ +}}None{{ +}}no{{ +}}only reached through detach at detach-only.graft:3:7{{$}}
// DETACH: recorded ops: 2, 2 differentiated, 0 pruned
// DETACH-NEXT: leaves that require grad but get no gradient: 1

// --all shows unnamed values with their SSA number and location.
// RUN: graft inspect --all %s | FileCheck %s --check-prefix=ALL
// ALL: %1 ({{.*}}worked-example.mlir:17:10){{ +}}value{{ +}}f32[]{{ +}}False{{ +}}True{{ +}}None{{ +}}no{{$}}
// ALL: %4 (example.graft:3:13){{ +}}value{{ +}}f32[3]{{ +}}False{{ +}}True{{ +}}None{{ +}}no{{$}}
