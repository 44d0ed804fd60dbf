//===- NestingCheck.h - Bounding the nesting of IR text ---------*- C++ -*-===//
//
// MLIR's parser recurses once per level of nesting (regions, brackets,
// types, attributes) and overflows the stack near 10,000 levels. Before
// parsing IR that a user gave, Graft's tools scan its nesting and refuse
// deeper input with a located error.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_SUPPORT_NESTINGCHECK_H
#define GRAFT_SUPPORT_NESTINGCHECK_H

#include "llvm/ADT/StringRef.h"

#include <cstddef>
#include <optional>

namespace graft {

/// Far above any real IR, far below what overflows the parser's stack.
constexpr unsigned kMaxIRNesting = 1000;

/// The offset of the first bracket (`( [ { <`) of `text` that opens level
/// `limit + 1`, outside strings and `//` comments; `->`, `<=` and `>=` are
/// not brackets. None when the text nests at most `limit` deep.
inline std::optional<size_t> findTooDeepNesting(llvm::StringRef text,
                                                unsigned limit = kMaxIRNesting) {
  size_t depth = 0;
  for (size_t i = 0, n = text.size(); i < n; ++i) {
    char c = text[i];
    char next = i + 1 < n ? text[i + 1] : 0;
    if (c == '"') { // a string: up to the unescaped closing quote
      for (++i; i < n && text[i] != '"'; ++i)
        if (text[i] == '\\')
          ++i;
    } else if (c == '/' && next == '/') {
      while (i < n && text[i] != '\n')
        ++i;
    } else if (c == '(' || c == '[' || c == '{' || (c == '<' && next != '=')) {
      if (++depth > limit)
        return i;
    } else if (c == ')' || c == ']' || c == '}' ||
               (c == '>' && next != '=' && (i == 0 || text[i - 1] != '-'))) {
      if (depth)
        --depth;
    }
  }
  return std::nullopt;
}

} // namespace graft

#endif
