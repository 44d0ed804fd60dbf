//===- Lexer.h - Tokens of the Graft model language -------------*- C++ -*-===//
//
// A hand-written lexer in the style of the MLIR Toy tutorial. It depends on
// LLVM Support only, so the parser fuzzer links it cheaply. Newlines end
// statements, except inside parentheses and brackets (as in Python); `#`
// starts a comment that runs to the end of the line.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_FRONTEND_LEXER_H
#define GRAFT_FRONTEND_LEXER_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/SMLoc.h"

#include <string>

namespace graft::frontend {

enum class Tok {
  Eof,
  Newline,
  Error, ///< An invalid character or literal; the lexer already reported it.
  Ident,
  Int,
  Float,
  String,
  // Reserved words. Statement words that are also common argument names
  // (`dim`, `input`, `param`, `train`, ...) are contextual: the parser
  // recognises them at the start of a statement.
  KwModel,
  KwDef,
  KwReturn,
  KwFor,
  KwIn,
  KwInclude,
  KwTrue,
  KwFalse,
  KwNone,
  KwIf,
  KwElif,
  KwElse,
  KwAssert,
  KwNot,
  KwAnd,
  KwOr,
  KwIs,
  // Punctuation.
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Colon,
  Dot,
  Semi,
  At,
  Assign,
  Plus,
  Minus,
  Star,
  StarStar,
  Slash,
  SlashSlash,
  Percent,
  Lt,
  Le,
  Gt,
  Ge,
  EqEq,
  Ne,
};

/// A human-readable name for diagnostics ("')'", "an identifier").
llvm::StringRef spell(Tok kind);

struct Token {
  Tok kind = Tok::Eof;
  llvm::StringRef text; ///< The token's characters in the buffer.
  llvm::SMLoc loc;
  unsigned line = 1, col = 1;
  std::string stringValue; ///< Unescaped contents of a String token.
};

/// The kind of the word `word`: a keyword's, or Tok::Ident.
Tok wordKind(llvm::StringRef word);

class Lexer {
public:
  /// `report` is called for lexical errors with a location and a message.
  using ErrorFn = void (*)(void *ctx, llvm::SMLoc loc,
                           const llvm::Twine &message);

  /// A UTF-8 byte order mark at the start (editors on Windows write one) is
  /// skipped, as Python does.
  Lexer(llvm::StringRef buffer, ErrorFn report, void *reportCtx)
      : buf(buffer),
        cur(buffer.begin() + (buffer.starts_with("\xEF\xBB\xBF") ? 3 : 0)),
        report(report), reportCtx(reportCtx) {}

  /// Lexes the next token. After Eof it keeps returning Eof.
  Token next();

  /// Forgets open parentheses and brackets, so that the next newline ends
  /// the statement again (error recovery).
  void resetNesting() {
    nesting = 0;
    braces.clear();
  }

private:
  char peek(size_t ahead = 0) const {
    return cur + ahead < buf.end() ? cur[ahead] : '\0';
  }
  bool atEnd() const { return cur >= buf.end(); }
  void advance();
  Token make(Tok kind, const char *start, unsigned line, unsigned col);
  void error(const char *at, const llvm::Twine &message);
  Token lexNumber(const char *start, unsigned line, unsigned col);
  Token lexString(const char *start, unsigned line, unsigned col);

  llvm::StringRef buf;
  const char *cur;
  unsigned line = 1, col = 1;
  /// Open (, [ and dict braces; newlines inside them are whitespace.
  int nesting = 0;
  /// Per open '{': whether it opens a dict literal (after '=', ':', ',',
  /// 'return' or inside brackets) rather than a block.
  llvm::SmallVector<bool, 8> braces;
  bool lastWasNewline = true;
  Tok lastKind = Tok::Newline;
  ErrorFn report;
  void *reportCtx;
};

} // namespace graft::frontend

#endif
