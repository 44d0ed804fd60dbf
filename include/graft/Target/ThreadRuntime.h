//===- ThreadRuntime.h - The runtime the parallel loops call ----*- C++ -*-===//
//
// The CPU pipeline turns the loops it splits across threads into OpenMP
// regions, which LLVM's OpenMPIRBuilder translates into calls to the OpenMP
// runtime ABI (__kmpc_fork_call, __kmpc_for_static_init_8u, ...). Graft runs
// them on a pool of its own (lib/Runtime/c/graft_threads.c): this renames
// the calls to it, in compiled libraries and in the JIT alike.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_TARGET_THREADRUNTIME_H
#define GRAFT_TARGET_THREADRUNTIME_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <utility>

namespace llvm {
class Module;
} // namespace llvm

namespace graft {

/// Renames the OpenMP runtime functions `ir` calls to the pool's
/// (__kmpc_X to graft_kmpc_X). Fails, naming the function, on any call the
/// pool does not implement: another runtime function, a fork passing more
/// than one argument, a schedule other than the static one.
llvm::Error bindThreadRuntime(llvm::Module &ir);

/// The pool's functions by name (graft_kmpc_X, and their addresses in this
/// process), for the JIT to resolve the renamed calls.
llvm::ArrayRef<std::pair<llvm::StringRef, void *>> threadRuntimeSymbols();

} // namespace graft

#endif // GRAFT_TARGET_THREADRUNTIME_H
