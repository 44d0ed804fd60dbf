// RUN: graft inspect --dot %s | FileCheck %s
//
// `graft inspect --dot`: the forward graph and the derived backward graph
// as two clusters of one Graphviz digraph. Leaves are coloured like
// torchviz (parameters light blue), frozen parameters grey, inputs that
// require grad green; detach and grad-mode regions cut edges (dashed, red);
// the recorded op off the loss's path is drawn faded as "pruned"; every
// graft.gradient points back at its leaf; the summary is the graph label.
// dot-valid.test runs Graphviz on this output.

// CHECK-LABEL: digraph "dot_features" {
// CHECK-NEXT: graph [{{.*}}label="model @dot_features\lparameters: 12 total (4 tensors), 10 trainable (3), 2 frozen (1)\lsaved for backward: 72 bytes in 3 tensors (activations only)\lrecorded ops: 7, 6 differentiated, 1 pruned\lleaves that require grad but get no gradient: 2\l"];
// CHECK: subgraph cluster_forward {
// CHECK-NEXT: label="forward";
// CHECK-NEXT: [[X:n[0-9]+]] [label="input x\nf32[4, 3]\nrequires_grad", fillcolor=palegreen];
// CHECK-NEXT: [[Y:n[0-9]+]] [label="input y\nf32[4, 2]"];
// CHECK-NEXT: [[W:n[0-9]+]] [label="param fc.weight\nf32[2, 3]", fillcolor=lightblue];
// CHECK-NEXT: [[B:n[0-9]+]] [label="param fc.bias\nf32[2]\nfrozen", fillcolor=grey80, fontcolor=grey30];
// CHECK-NEXT: [[S:n[0-9]+]] [label="param scale\nf32[2]", fillcolor=lightblue];
// CHECK-NEXT: [[U:n[0-9]+]] [label="param unused\nf32[2]", fillcolor=lightblue];
// CHECK-NEXT: [[H:n[0-9]+]] [label="h\ngraft.linear\nAddmmBackward0", fillcolor=lightgrey];
// CHECK-NEXT: [[T:n[0-9]+]] [label="t\ngraft.tanh\nTanhBackward0", fillcolor=lightgrey];
// CHECK-NEXT: [[RT:n[0-9]+]] [label="retain_grad t", shape=note, fillcolor=gold];
// CHECK-NEXT: [[K:n[0-9]+]] [label="graft.grad_hook t.hook\nhook point", fillcolor=plum];
// CHECK-NEXT: subgraph cluster_{{n[0-9]+}} {
// CHECK-NEXT: label="no_grad (dot.graft:8:3): not recorded";
// CHECK-NEXT: style=dashed; color=red;
// CHECK-NEXT: [[EXP:n[0-9]+]] [label="graft.exp"];
// CHECK-NEXT: }
// CHECK-NEXT: subgraph cluster_{{n[0-9]+}} {
// CHECK-NEXT: label="inference (dot.graft:10:3): not recorded";
// CHECK-NEXT: style=dashed; color=red;
// CHECK-NEXT: [[RELU:n[0-9]+]] [label="graft.relu"];
// CHECK-NEXT: }
// CHECK-NEXT: [[D:n[0-9]+]] [label="graft.detach\ncut", style="rounded,filled,dashed", color=red];
// CHECK-NEXT: [[M:n[0-9]+]] [label="graft.mul\nMulBackward0", fillcolor=lightgrey];
// CHECK-NEXT: [[P:n[0-9]+]] [label="graft.add\nAddBackward0", fillcolor=lightgrey];
// CHECK-NEXT: [[Q:n[0-9]+]] [label="graft.add\nAddBackward0", fillcolor=lightgrey];
// CHECK-NEXT: [[AUX:n[0-9]+]] [label="aux\ngraft.mul\nMulBackward0\npruned", style="rounded,filled,dashed", fillcolor=grey95, fontcolor=grey55, color=grey70];
// CHECK-NEXT: [[OUT:n[0-9]+]] [label="output aux", shape=note, fillcolor=darkolivegreen1];
// CHECK-NEXT: [[MSE:n[0-9]+]] [label="graft.mse_loss\nMseLossBackward0", fillcolor=lightgrey, color=red, penwidth=3];
// CHECK-NEXT: [[LOSS:n[0-9]+]] [label="loss\nf32[]", shape=doubleoctagon, fillcolor=salmon, penwidth=3];
// CHECK-NEXT: }
// CHECK-NEXT: subgraph cluster_backward {
// CHECK-NEXT: label="backward (graft-derive-backward)"; color=blue; style=dashed;
// CHECK-NEXT: [[SEED:n[0-9]+]] [label="dL/dL = 1\ngraft.constant 1", fillcolor=salmon];
// CHECK: [[HC:n[0-9]+]] [label="graft.hook_call t.hook", fillcolor=plum];
// The retained t is a hook point too, after t.hook (its gradient is complete).
// CHECK-NEXT: [[HR:n[0-9]+]] [label="graft.hook_call t", fillcolor=plum];
// CHECK: [[GX:n[0-9]+]] [label="grad x\nf32[4, 3]", shape=note, fillcolor=lightblue];
// CHECK-NEXT: [[GW:n[0-9]+]] [label="grad fc.weight\nf32[2, 3]", shape=note, fillcolor=lightblue];
// CHECK-NEXT: [[GT:n[0-9]+]] [label="grad t\nf32[4, 2]", shape=note, fillcolor=lightblue];
// CHECK-NEXT: }
// Forward edges: gradient-carrying edges are bold, cut edges dashed red.
// CHECK-DAG: [[X]] -> [[H]] [label="f32[4, 3]", penwidth=2];
// CHECK-DAG: [[B]] -> [[H]] [label="f32[2]", color=grey40];
// CHECK-DAG: [[S]] -> [[EXP]] [label="no_grad cut\nf32[2]", style=dashed, color=red, fontcolor=red];
// CHECK-DAG: [[Y]] -> [[RELU]] [label="inference cut\nf32[4, 2]", style=dashed, color=red, fontcolor=red];
// CHECK-DAG: [[H]] -> [[D]] [label="detach cut\nf32[4, 2]", style=dashed, color=red, fontcolor=red];
// A region's result comes from the op that yields it.
// CHECK-DAG: [[EXP]] -> [[M]] [label="f32[2]", color=grey40];
// CHECK-DAG: [[K]] -> [[M]] [label="f32[4, 2]", penwidth=2];
// CHECK-DAG: [[HC]] -> [[HR]] [label="f32[4, 2]"];
// CHECK-DAG: [[U]] -> [[AUX]] [label="f32[2]", color=grey40];
// CHECK-DAG: [[MSE]] -> [[LOSS]] [label="f32[]", color=grey40];
// Backward reads saved forward values (dotted): mse_loss its input, the
// mul with the no_grad result that result, tanh its output (once, though
// the rule reads it twice), linear the weight and the input x.
// CHECK-DAG: [[Q]] -> {{n[0-9]+}} [label="saved f32[4, 2]", style=dotted, color=darkorange, fontcolor=darkorange];
// CHECK-DAG: [[EXP]] -> {{n[0-9]+}} [label="saved f32[2]", style=dotted, color=darkorange, fontcolor=darkorange];
// CHECK-DAG: [[T]] -> [[TM:n[0-9]+]] [label="saved f32[4, 2]", style=dotted
// CHECK-NOT: [[T]] -> [[TM]]
// CHECK-DAG: [[W]] -> {{n[0-9]+}} [label="saved f32[2, 3]", style=dotted
// CHECK-DAG: [[X]] -> {{n[0-9]+}} [label="saved f32[4, 3]", style=dotted
// CHECK-DAG: [[HR]] -> [[GT]] [label="f32[4, 2]"];
// CHECK-DAG: [[LOSS]] -> [[SEED]] [label="backward()", style=dashed, color=salmon];
// The gradient marks link back to their leaves and to the retained value.
// CHECK-DAG: [[GX]] -> [[X]] [label=".grad", style=dashed, color=blue, fontcolor=blue, constraint=false];
// CHECK-DAG: [[GW]] -> [[W]] [label=".grad", style=dashed, color=blue, fontcolor=blue, constraint=false];
// CHECK-DAG: [[GT]] -> [[RT]] [label=".grad", style=dashed, color=blue, fontcolor=blue, constraint=false];
// Nothing of backward points at the frozen, no_grad-only or unused params.
// CHECK-NOT: -> [[B]] [label=".grad"
// CHECK: }

graft.model @dot_features {
  %x = graft.input "x" requires_grad : tensor<4x3xf32>
  %y = graft.input "y" : tensor<4x2xf32>
  %w = graft.param "fc.weight" init <ones> : tensor<2x3xf32>
  %b = graft.param "fc.bias" frozen init <zeros> : tensor<2xf32>
  %s = graft.param "scale" init <ones> : tensor<2xf32>
  %u = graft.param "unused" init <ones> : tensor<2xf32>
  %h = graft.linear %x, %w, %b : (tensor<4x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<4x2xf32> loc("h"("dot.graft":5:7))
  %t = graft.tanh %h : tensor<4x2xf32>
  graft.retain_grad "t" %t : tensor<4x2xf32>
  %k = graft.grad_hook "t.hook" %t : tensor<4x2xf32>
  %n = graft.no_grad -> tensor<2xf32> {
    %e = graft.exp %s : tensor<2xf32>
    graft.yield %e : tensor<2xf32>
  } loc("dot.graft":8:3)
  %i = graft.inference -> tensor<4x2xf32> {
    %r = graft.relu %y : tensor<4x2xf32>
    graft.yield %r : tensor<4x2xf32>
  } loc("dot.graft":10:3)
  %d = graft.detach %h : tensor<4x2xf32>
  %m = graft.mul %k, %n : (tensor<4x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %p = graft.add %m, %d : (tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<4x2xf32>
  %q = graft.add %p, %i : (tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<4x2xf32>
  %aux = graft.mul %q, %u : (tensor<4x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  graft.output "aux" %aux : tensor<4x2xf32>
  %l = graft.mse_loss %q, %y : (tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<f32>
  graft.loss %l : tensor<f32>
}
