// RUN: graft-opt %s -graft-check-inplace -split-input-file -verify-diagnostics
//
// PyTorch's version-counter errors, at compile time.

// exp saves its result; add_ then overwrites it: backward would read a
// changed value.
graft.model @exp_then_add_ {
  %x = graft.input "x" requires_grad : tensor<3xf32>
  // expected-note@+1 {{saved for backward here by 'graft.exp' (ExpBackward0)}}
  %y = graft.exp %x : tensor<3xf32>
  %one = graft.constant dense<1.0> : tensor<f32>
  // expected-error@+2 {{one of the variables needed for gradient computation has been modified by an inplace operation: [torch.FloatTensor [3]], which is output 0 of ExpBackward0, is at version 1; expected version 0 instead.}}
  // expected-note@+1 {{hint: clone() the value before modifying it in place}}
  %y1 = graft.add_ %y, %one : tensor<3xf32>, tensor<f32>
  %s = graft.sum %y1 : tensor<3xf32> -> tensor<f32>
  graft.loss %s : tensor<f32>
}

// -----

// add saves nothing, so mul_ on its result is fine.
graft.model @add_then_mul_ {
  %x = graft.input "x" requires_grad : tensor<3xf32>
  %one = graft.constant dense<1.0> : tensor<f32>
  %y = graft.add %x, %one : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  %two = graft.constant dense<2.0> : tensor<f32>
  %y1 = graft.mul_ %y, %two : tensor<3xf32>, tensor<f32>
  %s = graft.sum %y1 : tensor<3xf32> -> tensor<f32>
  graft.loss %s : tensor<f32>
}

// -----

// What an in-place op saves of the self it overwrites is a copy (PyTorch's
// original self): mul_ by a parameter saves the old y for w's gradient,
// clamp_ saves it for its mask, and later writes to y do not reach either.
graft.model @original_self_is_a_copy {
  %x = graft.input "x" requires_grad : tensor<3xf32>
  %w = graft.param "w" init <ones> : tensor<3xf32>
  %one = graft.constant dense<1.0> : tensor<f32>
  %y = graft.add %x, %one : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  %y1 = graft.mul_ %y, %w : tensor<3xf32>, tensor<3xf32>
  %y2 = graft.clamp_ %y1 {kind = #graft<clamp_kind clamp>, max = 1.0 : f64, min = 0.0 : f64} : tensor<3xf32>
  %three = graft.constant dense<3.0> : tensor<f32>
  %y3 = graft.mul_ %y2, %three : tensor<3xf32>, tensor<f32>
  %s = graft.sum %y3 : tensor<3xf32> -> tensor<f32>
  graft.loss %s : tensor<f32>
}

// -----

// Writing through a view of a saved value is a write to the value.
graft.model @through_a_view {
  %x = graft.input "x" requires_grad : tensor<2x3xf32>
  // expected-note@+1 {{saved for backward here by 'graft.sigmoid' (SigmoidBackward0)}}
  %y = graft.sigmoid %x : tensor<2x3xf32>
  %v = graft.reshape %y : tensor<2x3xf32> -> tensor<6xf32>
  // expected-error@+2 {{[torch.FloatTensor [2, 3]], which is output 0 of SigmoidBackward0, is at version 1; expected version 0 instead.}}
  // expected-note@+1 {{hint}}
  %v1 = graft.relu_ %v : tensor<6xf32>
  // The base seen through the written view (what the front-end emits).
  %y1 = graft.reshape %v1 : tensor<6xf32> -> tensor<2x3xf32>
  %s = graft.sum %y1 : tensor<2x3xf32> -> tensor<f32>
  %t = graft.sum %v1 : tensor<6xf32> -> tensor<f32>
  %l = graft.add %s, %t : (tensor<f32>, tensor<f32>) -> tensor<f32>
  graft.loss %l : tensor<f32>
}

// -----

// A clone has its own storage.
graft.model @clone_then_write {
  %x = graft.input "x" requires_grad : tensor<3xf32>
  %y = graft.exp %x : tensor<3xf32>
  %c = graft.clone %y : tensor<3xf32>
  %c1 = graft.relu_ %c : tensor<3xf32>
  %s = graft.sum %y : tensor<3xf32> -> tensor<f32>
  %t = graft.sum %c1 : tensor<3xf32> -> tensor<f32>
  %l = graft.add %s, %t : (tensor<f32>, tensor<f32>) -> tensor<f32>
  graft.loss %l : tensor<f32>
}

// -----

// Only backward's path counts: exp's result is overwritten, but exp is not
// on a path to the loss, so backward never reads what it saved.
graft.model @off_the_path {
  %w = graft.param "w" init <ones> : tensor<3xf32>
  %y = graft.exp %w : tensor<3xf32>
  %one = graft.constant dense<1.0> : tensor<f32>
  %y1 = graft.add_ %y, %one : tensor<3xf32>, tensor<f32>
  graft.output "y" %y1 : tensor<3xf32>
  %s = graft.sum %w : tensor<3xf32> -> tensor<f32>
  graft.loss %s : tensor<f32>
}

// -----

graft.model @leaf_in_place {
  // expected-note@+1 {{the leaf is declared here}}
  %w = graft.param "w" init <ones> : tensor<3xf32>
  %one = graft.constant dense<1.0> : tensor<f32>
  // expected-error@+2 {{a leaf Variable that requires grad is being used in an in-place operation.}}
  // expected-note@+1 {{hint: use the out-of-place op ('graft.add'), or update it under no_grad}}
  %w1 = graft.add_ %w, %one : tensor<3xf32>, tensor<f32>
}

// -----

graft.model @view_of_leaf_in_place {
  // expected-note@+1 {{the leaf is declared here}}
  %x = graft.input "x" requires_grad : tensor<2x3xf32>
  %t = graft.transpose %x {dim0 = 0 : i64, dim1 = 1 : i64} : tensor<2x3xf32> -> tensor<3x2xf32>
  // expected-error@+2 {{a view of a leaf Variable that requires grad is being used in an in-place operation.}}
  // expected-note@+1 {{hint: use the out-of-place op ('graft.relu')}}
  %t1 = graft.relu_ %t : tensor<3x2xf32>
}

// -----

// Under no_grad, updating a leaf in place is allowed (optimizer-style), and
// a frozen parameter may always be.
graft.model @leaf_update_under_no_grad {
  %w = graft.param "w" init <ones> : tensor<3xf32>
  %f = graft.param "f" frozen init <ones> : tensor<3xf32>
  %one = graft.constant dense<1.0> : tensor<f32>
  graft.no_grad {
    %w1 = graft.mul_ %w, %one : tensor<3xf32>, tensor<f32>
    graft.yield
  }
  %f1 = graft.add_ %f, %one : tensor<3xf32>, tensor<f32>
}

// -----

graft.model @inference_tensor_saved {
  %w = graft.param "w" init <ones> : tensor<3xf32>
  %x = graft.input "x" : tensor<3xf32>
  %i = graft.inference -> tensor<3xf32> {
    // expected-note@+1 {{the inference tensor is made here}}
    %e = graft.exp %x : tensor<3xf32>
    graft.yield %e : tensor<3xf32>
  }
  // expected-error@+1 {{Inference tensors cannot be saved for backward. To work around you can make a clone to get a normal tensor and use it in autograd.}}
  %m = graft.mul %w, %i : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %s = graft.sum %m : tensor<3xf32> -> tensor<f32>
  graft.loss %s : tensor<f32>
}

// -----

// An inference tensor that recorded computation uses but does not save is
// fine (add saves nothing); a no_grad tensor may be saved.
graft.model @inference_tensor_not_saved {
  %w = graft.param "w" init <ones> : tensor<3xf32>
  %x = graft.input "x" : tensor<3xf32>
  %i = graft.inference -> tensor<3xf32> {
    %e = graft.exp %x : tensor<3xf32>
    graft.yield %e : tensor<3xf32>
  }
  %n = graft.no_grad -> tensor<3xf32> {
    %e = graft.exp %x : tensor<3xf32>
    graft.yield %e : tensor<3xf32>
  }
  %a = graft.add %w, %i : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %m = graft.mul %a, %n : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %s = graft.sum %m : tensor<3xf32> -> tensor<f32>
  graft.loss %s : tensor<f32>
}

// -----

graft.model @inference_tensor_in_place {
  %x = graft.input "x" : tensor<3xf32>
  %i = graft.inference -> tensor<3xf32> {
    // expected-note@+1 {{the inference tensor is made here}}
    %e = graft.exp %x : tensor<3xf32>
    graft.yield %e : tensor<3xf32>
  }
  // expected-error@+1 {{Inplace update to inference tensor outside InferenceMode is not allowed}}
  %i1 = graft.relu_ %i : tensor<3xf32>
}

// -----

graft.model @stale_version {
  %x = graft.input "x" : tensor<3xf32>
  %one = graft.constant dense<1.0> : tensor<f32>
  // expected-note@+1 {{overwritten here; use its result (the new version)}}
  %x1 = graft.add_ %x, %one : tensor<3xf32>, tensor<f32>
  // expected-error@+1 {{uses a tensor after an in-place op overwrote it}}
  %y = graft.exp %x : tensor<3xf32>
}
