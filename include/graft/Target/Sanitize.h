//===- Sanitize.h - AddressSanitizer for generated code ---------*- C++ -*-===//
//
// `graft compile --sanitize=address`, and the JIT of a Graft built with
// AddressSanitizer, instrument the code Graft generates as clang's
// -fsanitize=address instruments C: every load and store of a kernel is
// checked against the shadow memory of the process's ASan runtime, so a
// kernel that reads or writes outside a buffer (or a buffer the application
// freed) stops with ASan's report instead of corrupting memory.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_TARGET_SANITIZE_H
#define GRAFT_TARGET_SANITIZE_H

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace graft {

/// Instruments every function `module` defines with AddressSanitizer, after
/// optimisation (where clang runs it). Loads, stores and the stack frames of
/// the functions are checked; the module's globals (constant tables the
/// compiler wrote) are not, and the module registers nothing at start-up:
/// the ASan runtime the program links (or this process runs) initialises
/// itself, so the object links with any ASan runtime of ABI version 8 (clang's
/// and GCC's libasan).
void instrumentForAddressSanitizer(llvm::Module &module,
                                   llvm::TargetMachine &targetMachine);

/// Whether this process runs under AddressSanitizer: then the JIT instruments
/// the code it generates (the runtime it calls is this process's).
bool processHasAddressSanitizer();

} // namespace graft

#endif
