// graft-gpu-fuse-parallel rejects a segment alignment below one.
// RUN: graft-opt %s -pass-pipeline='builtin.module(func.func(graft-gpu-fuse-parallel{segment-align=0}))' -verify-diagnostics

// expected-error @below {{segment-align must be at least 1}}
func.func @f() {
  return
}
