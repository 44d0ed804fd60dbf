// RUN: graft-opt %s --split-input-file --verify-diagnostics --graft-plan-memory

// A state result may share its argument's storage only if nothing writes
// it before the trailing copies.

// expected-error @+1 {{state result 'w' is written before the trailing copies: it cannot share its argument's storage}}
func.func @early_write(%p: memref<8xf32> {graft.role = #graft<role param>, graft.name = "w"},
                       %po: memref<8xf32> {bufferize.result, graft.role = #graft<role param>, graft.name = "w"}) {
  linalg.copy ins(%p : memref<8xf32>) outs(%po : memref<8xf32>)
  return
}

// -----

func.func @late_compute(%p: memref<8xf32> {graft.role = #graft<role param>, graft.name = "w"},
                        %po: memref<8xf32> {bufferize.result, graft.role = #graft<role param>, graft.name = "w"},
                        %o: memref<8xf32> {bufferize.result, graft.role = #graft<role output>, graft.name = "y"}) {
  %n = memref.alloc() : memref<8xf32>
  linalg.copy ins(%p : memref<8xf32>) outs(%n : memref<8xf32>)
  memref.copy %n, %po : memref<8xf32> to memref<8xf32>
  // expected-error @+1 {{operation after the first write of a state result: state cannot be updated in place}}
  linalg.copy ins(%p : memref<8xf32>) outs(%o : memref<8xf32>)
  return
}

// -----

// Two state results that take each other's value cannot both be updated
// in place: copies that read state arguments go first (plan-memory.mlir),
// but each of these also overwrites the other's.

func.func @stale_read(%p: memref<8xf32> {graft.role = #graft<role param>, graft.name = "w"},
                      %q: memref<8xf32> {graft.role = #graft<role param>, graft.name = "v"},
                      %po: memref<8xf32> {bufferize.result, graft.role = #graft<role param>, graft.name = "w"},
                      %qo: memref<8xf32> {bufferize.result, graft.role = #graft<role param>, graft.name = "v"}) {
  memref.copy %q, %po : memref<8xf32> to memref<8xf32>
  // expected-error @+1 {{copy reads an argument whose storage a state result already overwrote}}
  memref.copy %p, %qo : memref<8xf32> to memref<8xf32>
  return
}
