//===- Parser.h - Recursive-descent parser for .graft files -----*- C++ -*-===//
//
// Builds the AST of one buffer. It reports every error it finds through
// Diagnostics, recovers at the next statement, and never crashes, hangs or
// recurses without bound, whatever the input (a libFuzzer target checks it).
// See docs/language.md for the grammar.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_FRONTEND_PARSER_H
#define GRAFT_FRONTEND_PARSER_H

#include "graft/Frontend/AST.h"
#include "graft/Frontend/Diagnostics.h"
#include "graft/Frontend/Lexer.h"

#include "llvm/ADT/STLFunctionalExtras.h"

#include <memory>

namespace graft::frontend {

class Parser {
public:
  /// Parses buffer `bufferId` of the diagnostics' SourceMgr.
  Parser(Diagnostics &diags, unsigned bufferId);

  /// Always returns a program: the parts that parsed. The caller checks
  /// `diags.getNumErrors()`.
  std::unique_ptr<Program> parseProgram();

  /// How deep expressions and blocks may nest before the parser gives up on
  /// the construct with an error (instead of exhausting the stack).
  static constexpr unsigned maxNesting = 128;
  /// The most operations one expression may chain (`a + b + ...`,
  /// `x.f().g()...`): its tree's height.
  static constexpr unsigned maxHeight = 512;

private:
  // Tokens.
  void consume();
  const Token &peekToken();
  bool is(Tok kind) const { return tok.kind == kind; }
  bool isWord(llvm::StringRef word) const {
    return tok.kind == Tok::Ident && tok.text == word;
  }
  bool accept(Tok kind);
  bool expect(Tok kind, llvm::StringRef context);
  Loc loc() const { return {tok.loc, tok.line, tok.col}; }
  void error(const llvm::Twine &message);
  void errorExpected(llvm::StringRef what);
  void skipToEndOfStatement();
  void skipNewlines();

  // Declarations.
  void parseTopLevel(Program &program);
  std::unique_ptr<ModuleDecl> parseModule();
  std::unique_ptr<ModelDecl> parseModel();
  std::unique_ptr<FunctionDecl> parseDef(std::vector<std::string> decorators,
                                         std::vector<Loc> decoratorLocs);
  bool parseParamList(std::vector<Arg> &params);
  bool parseBlock(Block &block, llvm::StringRef context);

  // Statements.
  StmtPtr parseStatement();
  StmtPtr parseDecorated();
  /// Why the Python statement at the current token is not supported, with
  /// the alternative; empty when it is not one.
  llvm::StringRef unsupportedStatement();
  StmtPtr parseDim();
  StmtPtr parseInput();
  StmtPtr parseParamOrBuffer(StmtKind kind);
  StmtPtr parseOutput();
  StmtPtr parseFreeze();
  StmtPtr parseBlockStmt(StmtKind kind);
  StmtPtr parseFor();
  /// `NAME[, NAME...] in`: the variables of a for loop or comprehension.
  bool parseLoopTargets(std::vector<std::string> &targets);
  /// A comprehension after its `for`: `NAME[, NAME...] in iterable
  /// [if condition]` into `loop`.
  bool parseComprehensionTail(Comprehension &loop);
  StmtPtr parseIf();
  StmtPtr parseAssert();
  StmtPtr parseClass(Loc l, std::vector<std::string> decorators);
  StmtPtr parseAssignOrExpr();
  ExprPtr parseTupleAfter(ExprPtr first, Loc l,
                          llvm::function_ref<bool()> atEnd);
  std::unique_ptr<TypeSpec> parseType();
  bool parsePattern(std::string &pattern);
  bool endStatement();

  // Expressions.
  /// Sets `e`'s height from its children's; null, after an error, past
  /// maxHeight.
  ExprPtr measured(ExprPtr e);
  ExprPtr parseExpr();
  ExprPtr parseOr();
  ExprPtr parseAnd();
  ExprPtr parseNot();
  ExprPtr parseCompare();
  ExprPtr parseAdditive();
  ExprPtr parseMultiplicative();
  ExprPtr parseUnary();
  ExprPtr parsePower();
  ExprPtr parsePostfix();
  ExprPtr parsePrimary();
  ExprPtr parseIndexItem();
  bool parseArgs(std::vector<Arg> &args, Tok close);

  Diagnostics &diags;
  Lexer lexer;
  Token tok;
  Token lookahead;
  bool hasLookahead = false;
  unsigned depth = 0;
  /// Set once an error is reported inside the current statement, so the
  /// statement reports one error, not a cascade.
  bool statementFailed = false;
};

/// Parses `buffer` (named `name` in diagnostics) on its own; for tests and
/// the fuzzer. Errors go to `os`.
std::unique_ptr<Program> parseString(llvm::StringRef buffer,
                                     llvm::StringRef name,
                                     llvm::raw_ostream &os,
                                     unsigned *numErrors = nullptr);

} // namespace graft::frontend

#endif
