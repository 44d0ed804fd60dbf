// Linked into every executable of a GRAFT_SANITIZE build (CMakeLists.txt):
// the sanitizer options such a build needs, so that its tools run right
// without any environment. ASAN_OPTIONS and UBSAN_OPTIONS add to them and
// override them.
//
// allow_user_poisoning=0: LLVM's headers poison and unpoison the memory of a
// BumpPtrAllocator when the includer is built with ASan. Graft's inline
// copies of BumpPtrAllocator::Allocate poison the rest of each new slab;
// libMLIR's own (uninstrumented) copies, allocating from the same allocator,
// never unpoison, and ASan then reports a use-after-poison in MLIR's code.
// detect_leaks=0: LLVM and MLIR leak on purpose at exit.

extern "C" {
// NOLINTNEXTLINE: names the sanitizer runtimes look up.
const char *__asan_default_options() {
  return "detect_leaks=0:allow_user_poisoning=0";
}
const char *__ubsan_default_options() {
  return "print_stacktrace=1:halt_on_error=1";
}
}
