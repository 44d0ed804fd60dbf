//===- ParserFuzzer.cpp - libFuzzer target for the .graft lexer and parser ===//
//
// Any byte string must lex and parse without a crash, a hang, unbounded
// recursion or a sanitizer report; errors are fine. Built with clang-22
// -fsanitize=fuzzer,address,undefined (see fuzz/CMakeLists.txt); ctest runs it
// for a bounded time as `fuzz-parser`. Every input it ever breaks on becomes a
// regression test under test/Frontend/fuzz-regressions/.
//
//===----------------------------------------------------------------------===//

#include "graft/Frontend/Parser.h"

#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef input(reinterpret_cast<const char *>(data), size);
  unsigned errors = 0;
  auto program = graft::frontend::parseString(input, "fuzz.graft",
                                              llvm::nulls(), &errors);
  // Walk the tree once, so that malformed trees are found too.
  std::string dumped;
  llvm::raw_string_ostream os(dumped);
  graft::frontend::dump(*program, os);
  return 0;
}
