// RUN: graft-opt %s -split-input-file -verify-diagnostics
//
// One case per verifier error of the graft dialect. Ops whose result type is
// inferred report the rule's message, then "failed to infer returned types".

graft.model @dup_names {
  // expected-note@+1 {{previous definition is here}}
  %a = graft.input "x" : tensor<4xf32>
  // expected-error@+1 {{redefinition of name 'x'}}
  %b = graft.param "x" init <zeros> : tensor<4xf32>
}

// -----

graft.model @dup_outputs {
  %a = graft.input "x" : tensor<4xf32>
  // expected-note@+1 {{previous definition is here}}
  graft.output "y" %a : tensor<4xf32>
  // expected-error@+1 {{redefinition of output 'y'}}
  graft.output "y" %a : tensor<4xf32>
}

// -----

graft.model @dup_retained {
  %a = graft.input "x" requires_grad : tensor<4xf32>
  %e = graft.exp %a : tensor<4xf32>
  // expected-note@+1 {{previous definition is here}}
  graft.retain_grad "e" %e : tensor<4xf32>
  // expected-error@+1 {{redefinition of retained gradient 'e'}}
  graft.retain_grad "e" %e : tensor<4xf32>
}

// -----

graft.model @dup_hooks {
  %a = graft.input "x" requires_grad : tensor<4xf32>
  // expected-note@+1 {{previous definition is here}}
  %h = graft.grad_hook "h" %a : tensor<4xf32>
  // expected-error@+1 {{redefinition of gradient hook 'h'}}
  %h2 = graft.grad_hook "h" %h : tensor<4xf32>
}

// -----

graft.model @two_losses {
  %a = graft.input "x" requires_grad : tensor<f32>
  // expected-note@+1 {{the first loss is here}}
  graft.loss %a : tensor<f32>
  // expected-error@+1 {{a model has at most one loss}}
  graft.loss %a : tensor<f32>
}

// -----

graft.model @loss_not_scalar {
  %a = graft.input "x" requires_grad : tensor<4xf32>
  // expected-error@+1 {{operand #0 must be 0-d tensor of f32, f64 or bf16}}
  graft.loss %a : tensor<4xf32>
}

// -----

graft.model @bad_name {
  // expected-error@+1 {{name 'fc1..weight' is not a state_dict key: expected dot-separated names of letters, digits, '_' and '-'}}
  %a = graft.param "fc1..weight" init <zeros> : tensor<4xf32>
}

// -----

graft.model @dup_alias {
  // expected-note@+1 {{previous definition is here}}
  %a = graft.param "lm_head.weight" init <zeros> : tensor<4xf32>
  // expected-error@+1 {{redefinition of name 'lm_head.weight'}}
  %b = graft.param "wte.weight" aliases ["lm_head.weight"] init <zeros> : tensor<4xf32>
}

// -----

graft.model @bad_alias {
  // expected-error@+1 {{name 'lm head' is not a state_dict key}}
  %a = graft.param "wte.weight" aliases ["lm head"] init <zeros> : tensor<4xf32>
}

// -----

graft.model @trunc_normal_std {
  // expected-error@+1 {{trunc_normal needs std > 0, got 0.000000e+00}}
  %p = graft.param "p" init <trunc_normal, {std = 0.0 : f64}> : tensor<4xf32>
}

// -----

graft.model @trunc_normal_bounds {
  // expected-error@+1 {{trunc_normal needs a < b, got a = 2.000000e+00, b = -2.000000e+00}}
  %p = graft.param "p" init <trunc_normal, {a = 2.0 : f64, b = -2.0 : f64}> : tensor<4xf32>
}

// -----

graft.model @bad_name_digit {
  // expected-error@+1 {{name '0.weight' is not a state_dict key}}
  %a = graft.input "0.weight" : tensor<4xf32>
}

// -----

graft.model @int_requires_grad {
  // expected-error@+1 {{only Tensors of floating point dtype can require gradients, but input 'y' has element type 'i64'}}
  %y = graft.input "y" requires_grad : tensor<4xi64>
}

// -----

graft.model @int_param {
  // expected-error@+1 {{result #0 must be statically shaped tensor of f32, f64 or bf16 values}}
  %p = graft.param "p" init <zeros> : tensor<4xi64>
}

// -----

graft.model @dynamic_shape {
  // expected-error@+1 {{result #0 must be statically shaped tensor}}
  %x = graft.input "x" : tensor<?x4xf32>
}

// -----

graft.model @fan_in_1d {
  // expected-error@+1 {{Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (initialiser 'kaiming_uniform' on 'tensor<4xf32>')}}
  %p = graft.param "p" init <kaiming_uniform> : tensor<4xf32>
}

// -----

graft.model @random_int_buffer {
  // expected-error@+1 {{initialiser 'normal' needs a floating-point tensor}}
  %b = graft.buffer "b" init <normal> : tensor<4xi64>
}

// -----

graft.model @init_unknown_arg {
  // expected-error@+1 {{initialiser 'normal' has no argument 'sigma'; expected one of 'mean' 'std'}}
  %p = graft.param "p" init <normal, {sigma = 1.0 : f64}> : tensor<4xf32>
}

// -----

graft.model @init_no_args {
  // expected-error@+1 {{initialiser 'zeros' has no argument 'value'; it takes none}}
  %p = graft.param "p" init <zeros, {value = 1.0 : f64}> : tensor<4xf32>
}

// -----

graft.model @init_arg_type {
  // expected-error@+1 {{initialiser argument 'mode' must be a string}}
  %p = graft.param "p" init <kaiming_uniform, {mode = 1.0 : f64}> : tensor<4x4xf32>
}

// -----

graft.model @init_arg_number {
  // expected-error@+1 {{initialiser argument 'std' must be a number}}
  %p = graft.param "p" init <normal, {std = "big"}> : tensor<4xf32>
}

// -----

graft.model @init_constant {
  // expected-error@+1 {{initialiser 'constant' needs a 'value'}}
  %p = graft.param "p" init <constant> : tensor<4xf32>
}

// -----

graft.model @init_mode {
  // expected-error@+1 {{Mode fan_avg not supported, please use one of fan_in, fan_out}}
  %p = graft.param "p" init <kaiming_normal, {mode = "fan_avg"}> : tensor<4x4xf32>
}

// -----

graft.model @init_nonlinearity {
  // expected-error@+1 {{Unsupported nonlinearity softplus}}
  %p = graft.param "p" init <kaiming_normal, {nonlinearity = "softplus"}> : tensor<4x4xf32>
}

// -----

// expected-error@+1 {{'graft.input' op expects parent op 'graft.model'}}
%x = graft.input "x" : tensor<4xf32>

// -----

graft.model @decl_in_region {
  graft.no_grad {
    // expected-error@+1 {{'graft.param' op expects parent op 'graft.model'}}
    %p = graft.param "p" init <zeros> : tensor<4xf32>
    graft.yield
  }
}

// -----

graft.model @yield_mismatch {
  %x = graft.input "x" : tensor<4xf32>
  // expected-error@+1 {{yields 1 value(s) whose types do not match its results: yielded ('tensor<4xf32>'), results ('tensor<f32>')}}
  %r = graft.no_grad -> tensor<f32> {
    graft.yield %x : tensor<4xf32>
  }
}

// -----

graft.model @yield_outside {
  %x = graft.input "x" : tensor<4xf32>
  // expected-error@+1 {{'graft.yield' op expects parent op to be one of 'graft.no_grad, graft.inference'}}
  graft.yield %x : tensor<4xf32>
}

// -----

graft.model @broadcast {
  %a = graft.input "a" : tensor<4x3xf32>
  %b = graft.input "b" : tensor<5xf32>
  // expected-error@+2 {{'graft.add' op shapes [4, 3] and [5] are not broadcastable: the size of dimension 0 from the right is 3 vs 5 (sizes must be equal or 1)}}
  // expected-error@+1 {{failed to infer returned types}}
  %c = graft.add %a, %b : (tensor<4x3xf32>, tensor<5xf32>) -> tensor<4x3xf32>
}

// -----

graft.model @dtype_mismatch {
  %a = graft.input "a" : tensor<4xf32>
  %b = graft.input "b" : tensor<4xf64>
  // expected-error@+2 {{'graft.mul' op expects operands of the same element type, got 'f32' and 'f64' (Graft does not promote types: insert a cast)}}
  // expected-error@+1 {{failed to infer returned types}}
  %c = graft.mul %a, %b : (tensor<4xf32>, tensor<4xf64>) -> tensor<4xf32>
}

// -----

graft.model @wrong_result {
  %a = graft.input "a" : tensor<4x1xf32>
  %b = graft.input "b" : tensor<3xf32>
  // expected-error@+2 {{inferred type(s) 'tensor<4x3xf32>' are incompatible with return type(s) of operation 'tensor<4x1xf32>'}}
  // expected-error@+1 {{failed to infer returned types}}
  %c = graft.sub %a, %b : (tensor<4x1xf32>, tensor<3xf32>) -> tensor<4x1xf32>
}

// -----

graft.model @int_arith {
  %a = graft.input "a" : tensor<4xi64>
  // expected-error@+1 {{operand #0 must be statically shaped tensor of f32, f64 or bf16 values}}
  %c = graft.add %a, %a : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
}

// -----

graft.model @where_broadcast {
  %m = graft.input "m" : tensor<2xi1>
  %a = graft.input "a" : tensor<4x3xf32>
  // expected-error@+2 {{'graft.where' op shapes [2] and [4, 3] are not broadcastable}}
  // expected-error@+1 {{failed to infer returned types}}
  %c = graft.where %m, %a, %a : (tensor<2xi1>, tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
}

// -----

graft.model @masked_fill_mask {
  %m = graft.input "m" : tensor<4x3xi1>
  %a = graft.input "a" : tensor<3xf32>
  // expected-error@+2 {{'graft.masked_fill' op shape [4, 3] cannot be broadcast to [3]: it has more dimensions}}
  // expected-error@+1 {{failed to infer returned types}}
  %c = graft.masked_fill %a, %m {value = 0.0 : f64} : (tensor<3xf32>, tensor<4x3xi1>) -> tensor<3xf32>
}

// -----

graft.model @compare_types {
  %a = graft.input "a" : tensor<4xi64>
  %b = graft.input "b" : tensor<4xi32>
  // expected-error@+2 {{'graft.compare' op expects operands of the same element type, got 'i64' and 'i32'}}
  // expected-error@+1 {{failed to infer returned types}}
  %c = graft.compare eq, %a, %b : (tensor<4xi64>, tensor<4xi32>) -> tensor<4xi1>
}

// -----

graft.model @cast_shape {
  %a = graft.input "a" : tensor<4xi64>
  // expected-error@+1 {{changes the shape from 'tensor<4xi64>' to 'tensor<2x2xf32>'; expected only the element type to change}}
  %c = graft.cast %a : tensor<4xi64> -> tensor<2x2xf32>
}

// -----

graft.model @in_place_grows {
  %a = graft.input "a" : tensor<3xf32>
  %b = graft.input "b" : tensor<4x3xf32>
  // expected-error@+1 {{output with shape [3] doesn't match the broadcast shape [4, 3]}}
  %c = graft.add_ %a, %b : tensor<3xf32>, tensor<4x3xf32>
}

// -----

graft.model @in_place_incompatible {
  %a = graft.input "a" : tensor<3xf32>
  %b = graft.input "b" : tensor<2xf32>
  // expected-error@+1 {{shapes [3] and [2] are not broadcastable}}
  %c = graft.mul_ %a, %b : tensor<3xf32>, tensor<2xf32>
}

// -----

graft.model @in_place_dtype {
  %a = graft.input "a" : tensor<3xf32>
  %b = graft.input "b" : tensor<3xf64>
  // expected-error@+1 {{expects operands of the same element type, got 'f32' and 'f64'}}
  %c = graft.div_ %a, %b : tensor<3xf32>, tensor<3xf64>
}

// -----

graft.model @in_place_mask {
  %a = graft.input "a" : tensor<3xf32>
  %m = graft.input "m" : tensor<2x3xi1>
  // expected-error@+1 {{output with shape [3] doesn't match the broadcast shape [2, 3]}}
  %c = graft.masked_fill_ %a, %m {value = 1.0 : f64} : tensor<3xf32>, tensor<2x3xi1>
}

// -----

graft.model @clamp_unbounded {
  %a = graft.input "a" : tensor<3xf32>
  // expected-error@+1 {{'graft.clamp' op needs a min or a max bound}}
  %c = graft.clamp %a {kind = #graft<clamp_kind clamp>} : tensor<3xf32>
}

// -----

graft.model @clamp_min_with_max {
  %a = graft.input "a" : tensor<3xf32>
  // expected-error@+1 {{'graft.clamp' op of kind clamp_min takes a min bound only}}
  %c = graft.clamp %a {kind = #graft<clamp_kind clamp_min>, min = 0.0 : f64, max = 1.0 : f64} : tensor<3xf32>
}

// -----

graft.model @clamp_max_without_max {
  %a = graft.input "a" : tensor<3xf32>
  // expected-error@+1 {{'graft.clamp_' op of kind clamp_max takes a max bound only}}
  %c = graft.clamp_ %a {kind = #graft<clamp_kind clamp_max>, min = 0.0 : f64} : tensor<3xf32>
}

// -----

graft.model @hardtanh_one_bound {
  %a = graft.input "a" : tensor<3xf32>
  // expected-error@+1 {{'graft.clamp' op of kind hardtanh needs a min and a max bound}}
  %c = graft.clamp %a {kind = #graft<clamp_kind hardtanh>, max = 6.0 : f64} : tensor<3xf32>
}

// -----

graft.model @matmul_contract {
  %a = graft.input "a" : tensor<2x3xf32>
  %b = graft.input "b" : tensor<4x5xf32>
  // expected-error@+2 {{'graft.matmul' op matmul shapes [2, 3] and [4, 5] cannot be multiplied: the contracted sizes are 3 and 4}}
  // expected-error@+1 {{failed to infer returned types}}
  %c = graft.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
}

// -----

graft.model @matmul_scalar {
  %a = graft.input "a" : tensor<f32>
  // expected-error@+2 {{matmul needs operands of at least 1 dimension, got [] and []}}
  // expected-error@+1 {{failed to infer returned types}}
  %c = graft.matmul %a, %a : (tensor<f32>, tensor<f32>) -> tensor<f32>
}

// -----

graft.model @matmul_batch {
  %a = graft.input "a" : tensor<2x2x3xf32>
  %b = graft.input "b" : tensor<3x3x4xf32>
  // expected-error@+2 {{matmul batch dimensions of [2, 2, 3] and [3, 3, 4] do not broadcast}}
  // expected-error@+1 {{failed to infer returned types}}
  %c = graft.matmul %a, %b : (tensor<2x2x3xf32>, tensor<3x3x4xf32>) -> tensor<2x2x4xf32>
}

// -----

graft.model @linear_weight_rank {
  %x = graft.input "x" : tensor<2x3xf32>
  %w = graft.input "w" : tensor<3xf32>
  // expected-error@+2 {{linear weight must be 2-D [out_features, in_features], got [3]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.linear %x, %w : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2xf32>
}

// -----

graft.model @linear_in_features {
  %x = graft.input "x" : tensor<2x3xf32>
  %w = graft.input "w" : tensor<5x4xf32>
  // expected-error@+2 {{linear input [2, 3] does not match weight [5, 4]: expected the last dimension of the input to be in_features = 4}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.linear %x, %w : (tensor<2x3xf32>, tensor<5x4xf32>) -> tensor<2x5xf32>
}

// -----

graft.model @linear_bias {
  %x = graft.input "x" : tensor<2x4xf32>
  %w = graft.input "w" : tensor<5x4xf32>
  %b = graft.input "b" : tensor<4xf32>
  // expected-error@+2 {{linear bias must be [5] (out_features), got [4]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.linear %x, %w, %b : (tensor<2x4xf32>, tensor<5x4xf32>, tensor<4xf32>) -> tensor<2x5xf32>
}

// -----

graft.model @reduce_dim {
  %x = graft.input "x" : tensor<2x4xf32>
  // expected-error@+2 {{dim 2 is out of range for a tensor of rank 2 (expected 0 <= dim < 2)}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.sum %x {dims = array<i64: 2>} : tensor<2x4xf32> -> tensor<2xf32>
}

// -----

graft.model @reduce_repeat {
  %x = graft.input "x" : tensor<2x4xf32>
  // expected-error@+2 {{dim 1 appears more than once in the reduced dims}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.mean %x {dims = array<i64: 1, 1>} : tensor<2x4xf32> -> tensor<2xf32>
}

// -----

graft.model @argmax_dim {
  %x = graft.input "x" : tensor<2x4xf32>
  // expected-error@+2 {{'graft.argmax' op dim -1 is out of range}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.argmax %x {dim = -1 : i64} : tensor<2x4xf32> -> tensor<2xi64>
}

// -----

graft.model @reshape_numel {
  %x = graft.input "x" : tensor<4x6xf32>
  // expected-error@+1 {{shape [5, 5] is invalid for input of size 24 (shape [4, 6])}}
  %y = graft.reshape %x : tensor<4x6xf32> -> tensor<5x5xf32>
}

// -----

graft.model @reshape_dtype {
  %x = graft.input "x" : tensor<4x6xf32>
  // expected-error@+1 {{changes the element type from 'f32' to 'f64'}}
  %y = graft.reshape %x : tensor<4x6xf32> -> tensor<24xf64>
}

// -----

graft.model @transpose_dim {
  %x = graft.input "x" : tensor<4x6xf32>
  // expected-error@+2 {{dim1 3 is out of range for a tensor of rank 2}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.transpose %x {dim0 = 0 : i64, dim1 = 3 : i64} : tensor<4x6xf32> -> tensor<6x4xf32>
}

// -----

graft.model @permute_repeat {
  %x = graft.input "x" : tensor<2x3x4xf32>
  // expected-error@+2 {{permute dims [0, 0, 1] repeat dim 0: expected a permutation}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.permute %x {dims = array<i64: 0, 0, 1>} : tensor<2x3x4xf32> -> tensor<2x2x3xf32>
}

// -----

graft.model @permute_count {
  %x = graft.input "x" : tensor<2x3x4xf32>
  // expected-error@+2 {{permute needs 3 dims for a tensor of shape [2, 3, 4], got 2}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.permute %x {dims = array<i64: 1, 0>} : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
}

// -----

graft.model @broadcast_to {
  %x = graft.input "x" : tensor<2x3xf32>
  // expected-error@+1 {{shape [2, 3] cannot be broadcast to [4, 3]: the size of dimension 1 from the right is 2, expected 4 or 1}}
  %y = graft.broadcast_to %x : tensor<2x3xf32> -> tensor<4x3xf32>
}

// -----

graft.model @broadcast_to_dtype {
  %x = graft.input "x" : tensor<3xf32>
  // expected-error@+1 {{changes the element type from 'f32' to 'bf16'}}
  %y = graft.broadcast_to %x : tensor<3xf32> -> tensor<4x3xbf16>
}

// -----

graft.model @slice_step {
  %x = graft.input "x" : tensor<8xf32>
  // expected-error@+2 {{slice step must be positive, got 0}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.slice %x {dim = 0 : i64, start = 0 : i64, end = 4 : i64, step = 0 : i64} : tensor<8xf32> -> tensor<4xf32>
}

// -----

graft.model @slice_negative {
  %x = graft.input "x" : tensor<8xf32>
  // expected-error@+2 {{slice bounds must be non-negative after normalisation, got -2:8}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.slice %x {dim = 0 : i64, start = -2 : i64, end = 8 : i64} : tensor<8xf32> -> tensor<2xf32>
}

// -----

graft.model @slice_scalar {
  %x = graft.input "x" : tensor<f32>
  // expected-error@+2 {{cannot slice a 0-d tensor}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.slice %x {dim = 0 : i64, start = 0 : i64, end = 1 : i64} : tensor<f32> -> tensor<f32>
}

// -----

graft.model @concat_rank {
  %a = graft.input "a" : tensor<2x3xf32>
  %b = graft.input "b" : tensor<3xf32>
  // expected-error@+2 {{cat tensors must have the same rank: tensor 0 is [2, 3], tensor 1 is [3]}}
  // expected-error@+1 {{failed to infer returned types}}
  %c = graft.concat %a, %b {dim = 0 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<5x3xf32>
}

// -----

graft.model @concat_sizes {
  %a = graft.input "a" : tensor<2x3xf32>
  %b = graft.input "b" : tensor<2x4xf32>
  // expected-error@+2 {{cat sizes must match except in dimension 0: tensor 0 is [2, 3], tensor 1 is [2, 4]}}
  // expected-error@+1 {{failed to infer returned types}}
  %c = graft.concat %a, %b {dim = 0 : i64} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
}

// -----

graft.model @concat_scalar {
  %a = graft.input "a" : tensor<f32>
  // expected-error@+2 {{zero-dimensional tensor cannot be concatenated}}
  // expected-error@+1 {{failed to infer returned types}}
  %c = graft.concat %a, %a {dim = 0 : i64} : (tensor<f32>, tensor<f32>) -> tensor<2xf32>
}

// -----

graft.model @concat_dtype {
  %a = graft.input "a" : tensor<2xf32>
  %b = graft.input "b" : tensor<2xf64>
  // expected-error@+2 {{'graft.concat' op expects operands of the same element type, got 'f32' and 'f64'}}
  // expected-error@+1 {{failed to infer returned types}}
  %c = graft.concat %a, %b {dim = 0 : i64} : (tensor<2xf32>, tensor<2xf64>) -> tensor<4xf32>
}

// -----

graft.model @softmax_dim {
  %a = graft.input "a" : tensor<2x5xf32>
  // expected-error@+1 {{dim 2 is out of range for a tensor of rank 2}}
  %c = graft.softmax %a {dim = 2 : i64} : tensor<2x5xf32>
}

// -----

graft.model @log_softmax_dim {
  %a = graft.input "a" : tensor<2x5xf32>
  // expected-error@+1 {{dim -1 is out of range for a tensor of rank 2}}
  %c = graft.log_softmax %a {dim = -1 : i64} : tensor<2x5xf32>
}

// -----

graft.model @conv_input_rank {
  %x = graft.input "x" : tensor<1x28x28xf32>
  %w = graft.input "w" : tensor<6x1x5x5xf32>
  // expected-error@+2 {{conv2d input must be 4-D [N, C, H, W], got [1, 28, 28]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.conv2d %x, %w : (tensor<1x28x28xf32>, tensor<6x1x5x5xf32>) -> tensor<1x6x24x24xf32>
}

// -----

graft.model @conv_weight_rank {
  %x = graft.input "x" : tensor<1x1x28x28xf32>
  %w = graft.input "w" : tensor<6x5x5xf32>
  // expected-error@+2 {{conv2d weight must be 4-D [out, in / groups, kH, kW], got [6, 5, 5]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.conv2d %x, %w : (tensor<1x1x28x28xf32>, tensor<6x5x5xf32>) -> tensor<1x6x24x24xf32>
}

// -----

graft.model @conv_channels {
  %x = graft.input "x" : tensor<1x3x8x8xf32>
  %w = graft.input "w" : tensor<4x2x3x3xf32>
  // expected-error@+2 {{conv2d weight [4, 2, 3, 3] expects 2 input channels (groups = 1), but the input [1, 3, 8, 8] has 3}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.conv2d %x, %w : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
}

// -----

graft.model @conv_groups {
  %x = graft.input "x" : tensor<1x4x8x8xf32>
  %w = graft.input "w" : tensor<3x2x3x3xf32>
  // expected-error@+2 {{conv2d channels must be divisible by groups = 2: input has 4, weight has 3 output channels}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.conv2d %x, %w {groups = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x6x6xf32>
}

// -----

graft.model @conv_groups_positive {
  %x = graft.input "x" : tensor<1x4x8x8xf32>
  %w = graft.input "w" : tensor<4x4x3x3xf32>
  // expected-error@+2 {{groups must be positive, got 0}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.conv2d %x, %w {groups = 0 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32>
}

// -----

graft.model @conv_bias {
  %x = graft.input "x" : tensor<1x1x8x8xf32>
  %w = graft.input "w" : tensor<4x1x3x3xf32>
  %b = graft.input "b" : tensor<3xf32>
  // expected-error@+2 {{conv2d bias must be [4] (out channels), got [3]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.conv2d %x, %w, %b : (tensor<1x1x8x8xf32>, tensor<4x1x3x3xf32>, tensor<3xf32>) -> tensor<1x4x6x6xf32>
}

// -----

graft.model @conv_kernel_too_large {
  %x = graft.input "x" : tensor<1x1x2x2xf32>
  %w = graft.input "w" : tensor<4x1x3x3xf32>
  // expected-error@+2 {{conv2d kernel size 3 (dilated to 3) is larger than the padded input size 2 in spatial dimension 0}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.conv2d %x, %w : (tensor<1x1x2x2xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x1x1xf32>
}

// -----

graft.model @conv_stride {
  %x = graft.input "x" : tensor<1x1x8x8xf32>
  %w = graft.input "w" : tensor<4x1x3x3xf32>
  // expected-error@+2 {{stride must have 2 values (height, width), got 1}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.conv2d %x, %w {stride = array<i64: 2>} : (tensor<1x1x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x3x3xf32>
}

// -----

graft.model @conv_dilation {
  %x = graft.input "x" : tensor<1x1x8x8xf32>
  %w = graft.input "w" : tensor<4x1x3x3xf32>
  // expected-error@+2 {{dilation must be >= 1, got [0, 1]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.conv2d %x, %w {dilation = array<i64: 0, 1>} : (tensor<1x1x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32>
}

// -----

graft.model @pool_padding {
  %x = graft.input "x" : tensor<1x1x8x8xf32>
  // expected-error@+2 {{pad should be at most half of the kernel size, but got pad = 2 and kernel_size = 2}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.max_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 2, 2>} : tensor<1x1x8x8xf32> -> tensor<1x1x6x6xf32>
}

// -----

graft.model @pool_rank {
  %x = graft.input "x" : tensor<8x8xf32>
  // expected-error@+2 {{pooling input must be 4-D [N, C, H, W], got [8, 8]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.avg_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<8x8xf32> -> tensor<4x4xf32>
}

// -----

graft.model @pool_window {
  %x = graft.input "x" : tensor<1x1x2x2xf32>
  // expected-error@+2 {{pooling window 3 (dilated to 3) is larger than the padded input size 2 in spatial dimension 0}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.max_pool2d %x {kernel_size = array<i64: 3, 3>, stride = array<i64: 1, 1>} : tensor<1x1x2x2xf32> -> tensor<1x1x1x1xf32>
}

// -----

graft.model @pool_kernel {
  %x = graft.input "x" : tensor<1x1x8x8xf32>
  // expected-error@+2 {{kernel_size must be >= 1, got [0, 2]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.max_pool2d %x {kernel_size = array<i64: 0, 2>, stride = array<i64: 1, 1>} : tensor<1x1x8x8xf32> -> tensor<1x1x8x7xf32>
}

// -----

graft.model @layer_norm_shape {
  %x = graft.input "x" : tensor<2x8x64xf32>
  // expected-error@+2 {{layer_norm input [2, 8, 64] does not end with normalized_shape [32]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.layer_norm %x {normalized_shape = array<i64: 32>} : (tensor<2x8x64xf32>) -> tensor<2x8x64xf32>
}

// -----

graft.model @layer_norm_empty {
  %x = graft.input "x" : tensor<2x8x64xf32>
  // expected-error@+2 {{layer_norm normalized_shape must not be empty}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.layer_norm %x {normalized_shape = array<i64>} : (tensor<2x8x64xf32>) -> tensor<2x8x64xf32>
}

// -----

graft.model @layer_norm_weight {
  %x = graft.input "x" : tensor<2x8x64xf32>
  %w = graft.input "w" : tensor<8x64xf32>
  // expected-error@+2 {{layer_norm weight must be [64] (normalized_shape), got [8, 64]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.layer_norm %x weight %w {normalized_shape = array<i64: 64>} : (tensor<2x8x64xf32>, tensor<8x64xf32>) -> tensor<2x8x64xf32>
}

// -----

graft.model @layer_norm_bias {
  %x = graft.input "x" : tensor<2x8x64xf32>
  %b = graft.input "b" : tensor<32xf32>
  // expected-error@+2 {{layer_norm bias must be [64] (normalized_shape), got [32]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.layer_norm %x bias %b {normalized_shape = array<i64: 64>} : (tensor<2x8x64xf32>, tensor<32xf32>) -> tensor<2x8x64xf32>
}

// -----

graft.model @layer_norm_eps {
  %x = graft.input "x" : tensor<2x64xf32>
  // expected-error@+2 {{'graft.layer_norm' op eps must be positive}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.layer_norm %x {normalized_shape = array<i64: 64>, eps = 0.0 : f64} : (tensor<2x64xf32>) -> tensor<2x64xf32>
}

// -----

graft.model @batch_norm_not_buffer {
  %x = graft.input "x" : tensor<8x6xf32>
  %rm = graft.input "rm" : tensor<6xf32>
  %rv = graft.buffer "rv" init <ones> : tensor<6xf32>
  // expected-error@+1 {{running_mean must be a graft.buffer: train mode updates it in place}}
  %y = graft.batch_norm %x running %rm, %rv : (tensor<8x6xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<8x6xf32>
}

// -----

graft.model @batch_norm_channels {
  %x = graft.input "x" : tensor<8x6x4x4xf32>
  %rm = graft.buffer "rm" init <zeros> : tensor<5xf32>
  %rv = graft.buffer "rv" init <ones> : tensor<6xf32>
  // expected-error@+2 {{batch_norm running_mean must be [6] (the channels of input [8, 6, 4, 4]), got [5]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.batch_norm %x running %rm, %rv : (tensor<8x6x4x4xf32>, tensor<5xf32>, tensor<6xf32>) -> tensor<8x6x4x4xf32>
}

// -----

graft.model @batch_norm_rank {
  %x = graft.input "x" : tensor<6xf32>
  %rm = graft.buffer "rm" init <zeros> : tensor<6xf32>
  %rv = graft.buffer "rv" init <ones> : tensor<6xf32>
  // expected-error@+2 {{batch_norm input must be [N, C, ...] with at least 2 dimensions, got [6]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.batch_norm %x running %rm, %rv : (tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<6xf32>
}

// -----

graft.model @batch_norm_momentum {
  %x = graft.input "x" : tensor<8x6xf32>
  %rm = graft.buffer "rm" init <zeros> : tensor<6xf32>
  %rv = graft.buffer "rv" init <ones> : tensor<6xf32>
  // expected-error@+1 {{momentum must be in [0, 1], got 1.5}}
  %y = graft.batch_norm %x running %rm, %rv {momentum = 1.5 : f64} : (tensor<8x6xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<8x6xf32>
}

// -----

graft.model @batch_norm_eps {
  %x = graft.input "x" : tensor<8x6xf32>
  %rm = graft.buffer "rm" init <zeros> : tensor<6xf32>
  %rv = graft.buffer "rv" init <ones> : tensor<6xf32>
  // expected-error@+1 {{eps must be positive, got -1}}
  %y = graft.batch_norm %x running %rm, %rv {eps = -1.0 : f64} : (tensor<8x6xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<8x6xf32>
}

// -----

graft.model @dropout_p {
  %x = graft.input "x" : tensor<8x6xf32>
  // expected-error@+1 {{dropout probability has to be between 0 and 1, but got 1.5}}
  %y = graft.dropout %x {p = 1.5 : f64} : tensor<8x6xf32>
}

// -----

graft.model @embedding_weight {
  %w = graft.input "w" : tensor<10xf32>
  %i = graft.input "i" : tensor<4xi64>
  // expected-error@+2 {{embedding weight must be 2-D [num_embeddings, embedding_dim], got [10]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.embedding %w, %i : (tensor<10xf32>, tensor<4xi64>) -> tensor<4xf32>
}

// -----

graft.model @embedding_padding_idx {
  %w = graft.input "w" : tensor<10x3xf32>
  %i = graft.input "i" : tensor<4xi64>
  // expected-error@+2 {{'graft.embedding' op padding_idx 10 must be within num_embeddings [0, 10)}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.embedding %w, %i {padding_idx = 10 : i64} : (tensor<10x3xf32>, tensor<4xi64>) -> tensor<4x3xf32>
}

// -----

graft.model @embedding_float_indices {
  %w = graft.input "w" : tensor<10x3xf32>
  %i = graft.input "i" : tensor<4xf32>
  // expected-error@+1 {{operand #1 must be statically shaped tensor of i64 or i32 values}}
  %y = graft.embedding %w, %i : (tensor<10x3xf32>, tensor<4xf32>) -> tensor<4x3xf32>
}

// -----

graft.model @attention_embed {
  %q = graft.input "q" : tensor<2x8x16xf32>
  %k = graft.input "k" : tensor<2x8x12xf32>
  // expected-error@+2 {{scaled_dot_product_attention query [2, 8, 16] and key [2, 8, 12] must have the same embedding size (last dimension)}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.scaled_dot_product_attention %q, %k, %q : (tensor<2x8x16xf32>, tensor<2x8x12xf32>, tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
}

// -----

graft.model @attention_seq {
  %q = graft.input "q" : tensor<2x8x16xf32>
  %v = graft.input "v" : tensor<2x6x16xf32>
  // expected-error@+2 {{scaled_dot_product_attention key [2, 8, 16] and value [2, 6, 16] must have the same sequence length (dimension -2)}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.scaled_dot_product_attention %q, %q, %v : (tensor<2x8x16xf32>, tensor<2x8x16xf32>, tensor<2x6x16xf32>) -> tensor<2x8x16xf32>
}

// -----

graft.model @attention_batch {
  %q = graft.input "q" : tensor<2x8x16xf32>
  %k = graft.input "k" : tensor<3x8x16xf32>
  // expected-error@+2 {{scaled_dot_product_attention batch dimensions differ: query [2, 8, 16], key [3, 8, 16], value [2, 8, 16]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.scaled_dot_product_attention %q, %k, %q : (tensor<2x8x16xf32>, tensor<3x8x16xf32>, tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
}

// -----

graft.model @attention_rank {
  %q = graft.input "q" : tensor<16xf32>
  // expected-error@+2 {{scaled_dot_product_attention needs query, key and value of the same rank >= 2, got [16], [16] and [16]}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.scaled_dot_product_attention %q, %q, %q : (tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
}

// -----

graft.model @attention_scale {
  %q = graft.input "q" : tensor<8x16xf32>
  // expected-error@+2 {{'graft.scaled_dot_product_attention' op scale must be positive}}
  // expected-error@+1 {{failed to infer returned types}}
  %y = graft.scaled_dot_product_attention %q, %q, %q {scale = 0.0 : f64} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
}

// -----

graft.model @cross_entropy_target {
  %x = graft.input "x" : tensor<16x10xf32>
  %y = graft.input "y" : tensor<10xi64>
  // expected-error@+2 {{expected target of shape [16] for input [16, 10] (classes in dimension 1), got [10]}}
  // expected-error@+1 {{failed to infer returned types}}
  %l = graft.cross_entropy %x, %y : (tensor<16x10xf32>, tensor<10xi64>) -> tensor<f32>
}

// -----

graft.model @cross_entropy_smoothing {
  %x = graft.input "x" : tensor<16x10xf32>
  %y = graft.input "y" : tensor<16xi64>
  // expected-error@+2 {{label_smoothing must be between 0.0 and 1.0. Got: 1.5}}
  // expected-error@+1 {{failed to infer returned types}}
  %l = graft.cross_entropy %x, %y {label_smoothing = 1.5 : f64} : (tensor<16x10xf32>, tensor<16xi64>) -> tensor<f32>
}

// -----

graft.model @cross_entropy_scalar {
  %x = graft.input "x" : tensor<f32>
  %y = graft.input "y" : tensor<i64>
  // expected-error@+2 {{loss input must have a class dimension, got a 0-d tensor}}
  // expected-error@+1 {{failed to infer returned types}}
  %l = graft.cross_entropy %x, %y : (tensor<f32>, tensor<i64>) -> tensor<f32>
}

// -----

graft.model @nll_loss_target {
  %x = graft.input "x" : tensor<4x10x7xf32>
  %y = graft.input "y" : tensor<4xi64>
  // expected-error@+2 {{'graft.nll_loss' op expected target of shape [4, 7] for input [4, 10, 7] (classes in dimension 1), got [4]}}
  // expected-error@+1 {{failed to infer returned types}}
  %l = graft.nll_loss %x, %y : (tensor<4x10x7xf32>, tensor<4xi64>) -> tensor<f32>
}

// -----

graft.model @mse_shapes {
  %x = graft.input "x" : tensor<4x1xf32>
  %y = graft.input "y" : tensor<4xf32>
  // expected-error@+2 {{'graft.mse_loss' op input [4, 1] and target [4] must have the same shape}}
  // expected-error@+1 {{failed to infer returned types}}
  %l = graft.mse_loss %x, %y : (tensor<4x1xf32>, tensor<4xf32>) -> tensor<f32>
}

// -----

graft.model @one_hot_shape {
  %y = graft.input "y" : tensor<16xi64>
  // expected-error@+1 {{result must be the target shape [16] plus a class dimension, got [10, 16]}}
  %0 = graft.one_hot %y : tensor<16xi64> -> tensor<10x16xf32>
}

// -----

graft.model @slice_backward_shape {
  %g = graft.input "g" : tensor<2x64xf32>
  // expected-error@+1 {{gradient shape [2, 64] does not match the forward result shape [2, 32]}}
  %0 = graft.slice_backward %g {dim = 1 : i64, start = 0 : i64, end = 32 : i64} : tensor<2x64xf32> -> tensor<2x192xf32>
}

// -----

graft.model @conv_backward_input_shape {
  %g = graft.input "g" : tensor<8x6x24x24xf32>
  %w = graft.input "w" : tensor<6x1x5x5xf32>
  // expected-error@+1 {{gradient shape [8, 6, 24, 24] does not match the forward result shape [8, 6, 28, 28]}}
  %0 = graft.conv2d_backward_input %g, %w {padding = array<i64: 2, 2>} : (tensor<8x6x24x24xf32>, tensor<6x1x5x5xf32>) -> tensor<8x1x28x28xf32>
}

// -----

graft.model @conv_backward_weight_dtype {
  %g = graft.input "g" : tensor<8x6x28x28xf32>
  %x = graft.input "x" : tensor<8x1x28x28xf32>
  // expected-error@+1 {{expects the same element type, got 'f32' and 'f64'}}
  %0 = graft.conv2d_backward_weight %g, %x {padding = array<i64: 2, 2>} : (tensor<8x6x28x28xf32>, tensor<8x1x28x28xf32>) -> tensor<6x1x5x5xf64>
}

// -----

graft.model @max_pool_backward_type {
  %g = graft.input "g" : tensor<8x6x14x14xf32>
  %x = graft.input "x" : tensor<8x6x28x28xf32>
  // expected-error@+1 {{result type 'tensor<8x6x28x28xf64>' must be the forward input's, 'tensor<8x6x28x28xf32>'}}
  %0 = graft.max_pool2d_backward %g, %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<8x6x14x14xf32>, tensor<8x6x28x28xf32>) -> tensor<8x6x28x28xf64>
}

// -----

graft.model @avg_pool_backward_shape {
  %g = graft.input "g" : tensor<8x6x7x7xf32>
  // expected-error@+1 {{gradient shape [8, 6, 7, 7] does not match the forward result shape [8, 6, 14, 14]}}
  %0 = graft.avg_pool2d_backward %g {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<8x6x7x7xf32> -> tensor<8x6x28x28xf32>
}

// -----

graft.model @embedding_backward_padding {
  %g = graft.input "g" : tensor<16x32xf32>
  %y = graft.input "y" : tensor<16xi64>
  // expected-error@+1 {{padding_idx 70 must be within num_embeddings [0, 65)}}
  %0 = graft.embedding_backward %g, %y {padding_idx = 70 : i64} : (tensor<16x32xf32>, tensor<16xi64>) -> tensor<65x32xf32>
}

// -----

graft.model @embedding_backward_shape {
  %g = graft.input "g" : tensor<16x31xf32>
  %y = graft.input "y" : tensor<16xi64>
  // expected-error@+1 {{gradient shape [16, 31] does not match the forward result shape [16, 32]}}
  %0 = graft.embedding_backward %g, %y : (tensor<16x31xf32>, tensor<16xi64>) -> tensor<65x32xf32>
}

// -----

graft.model @dup_read_grad {
  %w = graft.param "w" init <ones> : tensor<3xf32>
  // expected-note@+1 {{previous definition is here}}
  graft.read_grad "g" %w : tensor<3xf32>
  // expected-error@+1 {{redefinition of retained gradient 'g'}}
  graft.read_grad "g" %w : tensor<3xf32>
}

// -----

graft.model @batch_norm_not_buffer_in_model {
  %x = graft.input "x" : tensor<8x6xf32>
  %rm = graft.param "rm" init <zeros> : tensor<6xf32>
  %rv = graft.buffer "rv" init <ones> : tensor<6xf32>
  // expected-error@+1 {{running_mean must be a graft.buffer}}
  %y = graft.batch_norm %x running %rm, %rv {training = false} : (tensor<8x6xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<8x6xf32>
}

// -----

// The nested op is verified before the model reads its name.
graft.model @nameless_input {
  // expected-error@+1 {{requires attribute 'name'}}
  %a = "graft.input"() : () -> tensor<4xf32>
}

// -----

// Entry points: graft.role is a role, graft.name a string.
// expected-error@+1 {{'func.func' op argument 0: 'graft.role' must be a #graft<role ...>, got "param"}}
func.func @string_role(%x: tensor<2xf32> {graft.role = "param"}) {
  return
}

// -----

// expected-error@+1 {{'func.func' op result 0: 'graft.name' must be a string, got 3 : i64}}
func.func @integer_name(%x: tensor<2xf32>) -> (tensor<2xf32> {graft.name = 3}) {
  return %x : tensor<2xf32>
}

// -----

// expected-error@+2 {{expected ::graft::Role to be one of: param, buffer, grad, opt_state, hyper, seed, input, loss, output, input_grad, retained_grad, hook, workspace}}
// expected-error@+1 {{failed to parse Graft_RoleAttr parameter 'value' which is to be a `::graft::Role`}}
func.func @unknown_role(%x: tensor<2xf32> {graft.role = #graft<role weights>}) {
  return
}
