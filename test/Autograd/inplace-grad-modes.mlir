// RUN: graft-opt %s -graft-annotate-requires-grad -split-input-file | FileCheck %s --check-prefix=RG
// RUN: graft-opt %s -graft-check-inplace -split-input-file | FileCheck %s --check-prefix=OK
// RUN: graft-opt %s -graft-derive-backward -split-input-file | FileCheck %s --check-prefix=BW
//
// In-place updates under no_grad and through detach() aliases (issue 15,
// item 5): a no_grad/inference region result that is an outer tensor updated
// in place is that tensor (PyTorch: `with no_grad(): w.add_(1)` leaves `w` a
// leaf that requires grad); its gradient is the tensor's.

// RG-LABEL: graft.model @nograd_update
// OK-LABEL: graft.model @nograd_update
// BW-LABEL: graft.model @nograd_update
graft.model @nograd_update {
  %x = graft.input "x" : tensor<2xf32>
  // BW: %[[W:.*]] = graft.param "w"
  %w = graft.param "w" init <ones> : tensor<2xf32>
  // RG: %[[W1:.*]] = graft.no_grad -> tensor<2xf32> {
  // RG-NEXT: graft.constant
  // RG-NEXT: graft.add_ %{{.*}}, %{{.*}} : tensor<2xf32>, tensor<f32>
  // RG-NEXT: graft.yield
  // RG-NEXT: } {graft.requires_grad}
  %w1 = graft.no_grad -> tensor<2xf32> {
    %one = graft.constant dense<1.0> : tensor<f32>
    %a = graft.add_ %w, %one : tensor<2xf32>, tensor<f32>
    graft.yield %a : tensor<2xf32>
  }
  // RG: graft.mul %[[W1]], %{{.*}} {graft.grad_fn = "MulBackward0", graft.requires_grad}
  // BW: %[[M:.*]] = graft.mul %[[W1:.*]], %{{.*}}
  %m = graft.mul %w1, %x : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %s = graft.sum %m : tensor<2xf32> -> tensor<f32>
  graft.loss %s : tensor<f32>
  // BW: %[[G:.*]] = graft.mul %{{.*}}, %{{.*}} : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  // BW: graft.gradient "w" %[[G]] : tensor<2xf32>
}

// -----

// A tensor made inside the block is a new leaf without grad, and a block
// that only reads the outer tensor hands it back unchanged (same tensor).
// RG-LABEL: graft.model @made_inside
graft.model @made_inside {
  %w = graft.param "w" init <ones> : tensor<2xf32>
  // RG: graft.no_grad
  // RG: graft.yield
  // RG-NEXT: }{{$}}
  %made = graft.no_grad -> tensor<2xf32> {
    %two = graft.constant dense<2.0> : tensor<f32>
    %m = graft.mul %w, %two : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
    %m1 = graft.add_ %m, %two : tensor<2xf32>, tensor<f32>
    graft.yield %m1 : tensor<2xf32>
  }
  // RG: graft.no_grad
  // RG: graft.yield
  // RG-NEXT: } {graft.requires_grad}
  %same = graft.no_grad -> tensor<2xf32> {
    graft.yield %w : tensor<2xf32>
  }
  %s = graft.sum %same : tensor<2xf32> -> tensor<f32>
  graft.loss %s : tensor<f32>
}

// -----

// Writing through a detached alias in grad mode is not an in-place op on a
// leaf, and the versions made after the write are not stale.
// OK-LABEL: graft.model @detach_alias
graft.model @detach_alias {
  %x = graft.input "x" : tensor<2xf32>
  %w = graft.param "w" init <ones> : tensor<2xf32>
  %w1 = graft.no_grad -> tensor<2xf32> {
    %one = graft.constant dense<1.0> : tensor<f32>
    %a = graft.add_ %w, %one : tensor<2xf32>, tensor<f32>
    graft.yield %a : tensor<2xf32>
  }
  %d = graft.detach %w1 : tensor<2xf32>
  %two = graft.constant dense<2.0> : tensor<f32>
  // OK: graft.mul_ %{{.*}}, %{{.*}} : tensor<2xf32>, tensor<f32>
  %d1 = graft.mul_ %d, %two : tensor<2xf32>, tensor<f32>
  %v = graft.param "v" init <ones> : tensor<2xf32>
  %m = graft.mul %d1, %v : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %s = graft.sum %m : tensor<2xf32> -> tensor<f32>
  graft.loss %s : tensor<f32>
}
