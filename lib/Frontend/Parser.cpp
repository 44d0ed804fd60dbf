//===- Parser.cpp - Recursive-descent parser for .graft files -------------===//

#include "graft/Frontend/Parser.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace graft::frontend;
using llvm::StringRef;
using llvm::Twine;

//===----------------------------------------------------------------------===//
// Diagnostics
//===----------------------------------------------------------------------===//

/// SourceMgr prints the whole source line under a message: a line of
/// megabytes (garbage, minified input) would flood the terminal with each
/// of the errors on it. A longer line shows as a window around the column.
static void printAt(llvm::SourceMgr &sm, llvm::raw_ostream &os,
                    llvm::SMLoc loc, llvm::SourceMgr::DiagKind kind,
                    const Twine &message) {
  constexpr size_t kMaxLine = 200, kContext = 60;
  llvm::SMDiagnostic d = sm.GetMessage(loc, kind, message);
  StringRef line = d.getLineContents();
  if (line.size() <= kMaxLine || d.getColumnNo() < 0) {
    sm.PrintMessage(os, d);
    return;
  }
  size_t col = d.getColumnNo();
  size_t begin = col > kContext ? col - kContext : 0;
  StringRef window = line.substr(begin, 2 * kContext);
  StringRef prefix = begin ? "..." : "";
  const char *kinds[] = {"error", "warning", "remark", "note"};
  os << d.getFilename() << ":" << d.getLineNo() << ":" << col + 1 << ": "
     << kinds[kind] << ": " << d.getMessage() << "\n"
     << prefix << window
     << (begin + window.size() < line.size() ? "..." : "") << "\n"
     << std::string(prefix.size() + col - begin, ' ') << "^\n";
}

void Diagnostics::error(llvm::SMLoc loc, const Twine &message) {
  if (numErrors >= maxErrors) {
    suppressed = true;
    return;
  }
  suppressed = false;
  if (loc.isValid())
    printAt(sm, os, loc, llvm::SourceMgr::DK_Error, message);
  else if (sm.getNumBuffers() != 0) // about the whole file: name it
    os << sm.getMemoryBuffer(sm.getMainFileID())->getBufferIdentifier()
       << ": error: " << message << "\n";
  else
    os << "graft: error: " << message << "\n";
  if (++numErrors == maxErrors)
    os << "graft: error: too many errors, stopping\n";
}

void Diagnostics::warning(llvm::SMLoc loc, const Twine &message) {
  printAt(sm, os, loc, llvm::SourceMgr::DK_Warning, message);
}

void Diagnostics::note(llvm::SMLoc loc, const Twine &message) {
  if (suppressed)
    return;
  if (loc.isValid())
    printAt(sm, os, loc, llvm::SourceMgr::DK_Note, message);
  else
    os << "note: " << message << "\n";
}

//===----------------------------------------------------------------------===//
// Tokens
//===----------------------------------------------------------------------===//

static void reportLexError(void *ctx, llvm::SMLoc loc, const Twine &message) {
  static_cast<Diagnostics *>(ctx)->error(loc, message);
}

Parser::Parser(Diagnostics &diags, unsigned bufferId)
    : diags(diags),
      lexer(diags.getSourceMgr().getMemoryBuffer(bufferId)->getBuffer(),
            reportLexError, &diags) {
  consume();
}

void Parser::consume() {
  if (hasLookahead) {
    tok = std::move(lookahead);
    hasLookahead = false;
    return;
  }
  // Invalid characters were reported by the lexer; the parser never sees
  // them, so one stray byte costs one error.
  do
    tok = lexer.next();
  while (tok.kind == Tok::Error);
}

const Token &Parser::peekToken() {
  if (!hasLookahead) {
    do
      lookahead = lexer.next();
    while (lookahead.kind == Tok::Error);
    hasLookahead = true;
  }
  return lookahead;
}

bool Parser::accept(Tok kind) {
  if (!is(kind))
    return false;
  consume();
  return true;
}

void Parser::error(const Twine &message) {
  if (statementFailed)
    return;
  statementFailed = true;
  diags.error(tok.loc, message);
}

void Parser::errorExpected(StringRef what) {
  std::string found = is(Tok::Ident) || is(Tok::Int) || is(Tok::Float)
                          ? ("'" + tok.text + "'").str()
                          : spell(tok.kind).str();
  error("expected " + what + ", found " + found);
}

bool Parser::expect(Tok kind, StringRef context) {
  if (accept(kind))
    return true;
  errorExpected((spell(kind) + " " + context).str());
  return false;
}

void Parser::skipNewlines() {
  while (is(Tok::Newline) || is(Tok::Semi))
    consume();
}

void Parser::skipToEndOfStatement() {
  // An unclosed '(' would otherwise hide the newlines that end statements.
  lexer.resetNesting();
  while (!is(Tok::Eof) && !is(Tok::Newline) && !is(Tok::Semi) &&
         !is(Tok::RBrace)) {
    if (is(Tok::LBrace)) {
      // Skip a whole block that belongs to the broken statement.
      unsigned open = 0;
      do {
        if (is(Tok::LBrace))
          ++open;
        else if (is(Tok::RBrace))
          --open;
        consume();
      } while (open > 0 && !is(Tok::Eof));
      continue;
    }
    consume();
  }
}

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

std::unique_ptr<Program> Parser::parseProgram() {
  auto program = std::make_unique<Program>();
  while (true) {
    skipNewlines();
    if (is(Tok::Eof) || diags.tooMany())
      break;
    statementFailed = false;
    const char *before = tok.text.data();
    parseTopLevel(*program);
    if (statementFailed) {
      skipToEndOfStatement();
      // A stray '}' at the top level: drop it so parsing moves on.
      if (is(Tok::RBrace))
        consume();
    }
    // Guarantee progress on any input.
    if (tok.text.data() == before && !is(Tok::Eof))
      consume();
  }
  return program;
}

void Parser::parseTopLevel(Program &program) {
  if (is(Tok::KwInclude)) {
    Loc l = loc();
    consume();
    if (!is(Tok::String))
      return errorExpected("a file name in quotes after 'include'");
    program.includes.push_back({l, tok.stringValue});
    consume();
    endStatement();
    return;
  }
  // `module` is a word, not a keyword: nanoGPT's _init_weights(self,
  // module) names a parameter so.
  if (isWord("module") && peekToken().kind == Tok::Ident) {
    if (auto m = parseModule())
      program.modules.push_back(std::move(m));
    return;
  }
  if (is(Tok::KwModel)) {
    if (auto m = parseModel())
      program.models.push_back(std::move(m));
    return;
  }
  if (is(Tok::KwDef) || is(Tok::At) ||
      ((isWord("dim") || isWord("class")) && peekToken().kind == Tok::Ident)) {
    if (auto s = parseStatement())
      program.globals.push_back(std::move(s));
    return;
  }
  if ((isWord("import") || isWord("from")) && peekToken().kind == Tok::Ident) {
    // A transcribed file keeps its imports: the names of torch, math and
    // dataclasses they bind are built in. Others are an error.
    consume();
    StringRef module = tok.text;
    if (module != "torch" && module != "math" && module != "dataclasses" &&
        module != "typing" && module != "__future__") {
      error("'" + module +
            "' cannot be imported: torch, torch.nn (nn), "
            "torch.nn.functional (F), torch.nn.init (init), math and "
            "dataclasses are built in, and other model files come in with "
            "include \"file.graft\"");
      return;
    }
    while (!is(Tok::Newline) && !is(Tok::Semi) && !is(Tok::Eof))
      consume();
    endStatement();
    return;
  }
  if (StringRef why = unsupportedStatement(); !why.empty())
    return error("'" + tok.text + "' is not supported: " + why);
  errorExpected("'model', 'module', 'def', 'class', 'dim' or 'include' at "
                "the top level");
}

bool Parser::parseParamList(std::vector<Arg> &params) {
  if (!expect(Tok::LParen, "to start the parameter list"))
    return false;
  while (!is(Tok::RParen)) {
    if (!is(Tok::Ident)) {
      errorExpected("a parameter name");
      return false;
    }
    Arg p;
    p.loc = loc();
    p.keyword = tok.text.str();
    consume();
    if (accept(Tok::Assign)) {
      p.value = parseExpr();
      if (!p.value)
        return false;
    }
    for (const Arg &other : params)
      if (other.keyword == p.keyword) {
        diags.error(p.loc.ptr, "duplicate parameter '" + p.keyword + "'");
        statementFailed = true;
      }
    params.push_back(std::move(p));
    if (!accept(Tok::Comma))
      break;
  }
  return expect(Tok::RParen, "to close the parameter list");
}

bool Parser::parseBlock(Block &block, StringRef context) {
  if (!expect(Tok::LBrace, ("to start " + context).str()))
    return false;
  if (depth >= maxNesting) {
    error("blocks nested too deeply (more than " + Twine(maxNesting) + ")");
    return false;
  }
  ++depth;
  while (true) {
    skipNewlines();
    if (is(Tok::RBrace) || is(Tok::Eof) || diags.tooMany())
      break;
    statementFailed = false;
    const char *before = tok.text.data();
    StmtPtr stmt = parseStatement();
    if (stmt)
      block.push_back(std::move(stmt));
    if (statementFailed)
      skipToEndOfStatement();
    if (tok.text.data() == before && !is(Tok::Eof) && !is(Tok::RBrace))
      consume();
  }
  --depth;
  statementFailed = false;
  return expect(Tok::RBrace, ("to close " + context).str());
}

std::unique_ptr<ModuleDecl> Parser::parseModule() {
  auto m = std::make_unique<ModuleDecl>();
  m->loc = loc();
  consume(); // module
  if (!is(Tok::Ident)) {
    errorExpected("a module name after 'module'");
    return nullptr;
  }
  m->name = tok.text.str();
  consume();
  if (is(Tok::LParen) && !parseParamList(m->params))
    return nullptr;
  if (!parseBlock(m->body, "the module body"))
    return nullptr;
  return m;
}

std::unique_ptr<ModelDecl> Parser::parseModel() {
  auto m = std::make_unique<ModelDecl>();
  m->loc = loc();
  consume(); // model
  if (!is(Tok::Ident)) {
    errorExpected("a model name after 'model'");
    return nullptr;
  }
  m->name = tok.text.str();
  consume();
  if (!parseBlock(m->body, "the model body"))
    return nullptr;
  return m;
}

std::unique_ptr<FunctionDecl>
Parser::parseDef(std::vector<std::string> decorators,
                 std::vector<Loc> decoratorLocs) {
  auto f = std::make_unique<FunctionDecl>();
  f->loc = loc();
  f->decorators = std::move(decorators);
  f->decoratorLocs = std::move(decoratorLocs);
  if (!expect(Tok::KwDef, "after a decorator"))
    return nullptr;
  if (!is(Tok::Ident)) {
    errorExpected("a function name after 'def'");
    return nullptr;
  }
  f->name = tok.text.str();
  consume();
  if (!parseParamList(f->params) || !parseBlock(f->body, "the function body"))
    return nullptr;
  return f;
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

bool Parser::endStatement() {
  if (is(Tok::Newline) || is(Tok::Semi)) {
    consume();
    return true;
  }
  if (is(Tok::RBrace) || is(Tok::Eof))
    return true;
  errorExpected("end of line or ';' after the statement");
  return false;
}

StmtPtr Parser::parseStatement() {
  Tok next = is(Tok::Ident) ? peekToken().kind : Tok::Eof;
  bool named = next == Tok::Ident;
  if (is(Tok::KwDef) || is(Tok::At))
    return parseDecorated();
  if (is(Tok::KwFor))
    return parseFor();
  if (is(Tok::KwIf))
    return parseIf();
  if (is(Tok::KwAssert))
    return parseAssert();
  if (is(Tok::KwElif) || is(Tok::KwElse)) {
    error(Twine(spell(tok.kind)) + " without an 'if': write it after the "
                                   "'}' that closes the 'if' body");
    return nullptr;
  }
  if (is(Tok::KwReturn)) {
    auto s = std::make_unique<ReturnStmt>(loc());
    consume();
    if (!is(Tok::Newline) && !is(Tok::Semi) && !is(Tok::RBrace) &&
        !is(Tok::Eof)) {
      s->value = parseExpr();
      if (!s->value)
        return nullptr;
      // `return a, b`: a tuple, as Python reads it.
      if (is(Tok::Comma)) {
        Loc at = s->value->loc;
        s->value = parseTupleAfter(std::move(s->value), at, [&] {
          return is(Tok::Newline) || is(Tok::Semi) || is(Tok::RBrace);
        });
        if (!s->value)
          return nullptr;
      }
    }
    endStatement();
    return s;
  }
  if (isWord("class") && named)
    return parseClass(loc(), {});
  if (isWord("pass") && (next == Tok::Newline || next == Tok::Semi ||
                         next == Tok::RBrace || next == Tok::Eof)) {
    consume(); // Python's empty statement: nothing to do
    endStatement();
    return nullptr;
  }
  if (StringRef why = unsupportedStatement(); !why.empty()) {
    error("'" + tok.text + "' is not supported: " + why);
    return nullptr;
  }
  if (isWord("dim") && named)
    return parseDim();
  if (isWord("input") && named)
    return parseInput();
  if (isWord("param") && named)
    return parseParamOrBuffer(StmtKind::Param);
  if (isWord("buffer") && named)
    return parseParamOrBuffer(StmtKind::Buffer);
  if (isWord("output") && named)
    return parseOutput();
  if (isWord("freeze") &&
      (named || next == Tok::Star || next == Tok::String))
    return parseFreeze();
  if (next == Tok::LBrace) {
    if (isWord("no_grad"))
      return parseBlockStmt(StmtKind::NoGrad);
    if (isWord("inference"))
      return parseBlockStmt(StmtKind::Inference);
    if (isWord("train"))
      return parseBlockStmt(StmtKind::Train);
  }
  if ((isWord("module") && next == Tok::Ident) || is(Tok::KwModel)) {
    error("'" + tok.text +
          "' declarations are only allowed at the top "
          "level");
    return nullptr;
  }
  return parseAssignOrExpr();
}

StringRef Parser::unsupportedStatement() {
  // Python statements a traced model has no use for, with what to write.
  // They are ordinary names elsewhere (a variable may be called `data`), so
  // only a statement that starts with one and goes on as that statement
  // would (not `=`, `(`, `.`) is reported.
  Tok next = peekToken().kind;
  if (!is(Tok::Ident) || next == Tok::Assign || next == Tok::LParen ||
      next == Tok::Dot || next == Tok::Comma || next == Tok::LBracket)
    return "";
  return llvm::StringSwitch<StringRef>(tok.text)
      .Case("while", "the model is traced once when compiling; loop a known "
                     "number of times with 'for i in range(n) { ... }'")
      .Cases({"break", "continue"},
             "loops are unrolled when compiling; choose the iterations with "
             "'if' inside the loop or a filtered comprehension")
      .Cases({"import", "from"},
             "imports belong at the top of the file, where those of torch, "
             "math and dataclasses are accepted (their names are built in)")
      .Cases({"try", "except", "raise", "finally"},
             "a model is checked when compiling; state the condition with "
             "'assert cond, \"message\"'")
      .Case("with", "write 'no_grad { ... }' or 'inference { ... }' for "
                    "torch.no_grad() and torch.inference_mode() blocks")
      .Cases({"global", "nonlocal", "del", "yield"},
             "it has no equivalent in a model file")
      .Default("");
}

StmtPtr Parser::parseDecorated() {
  Loc l = loc();
  std::vector<std::string> decorators;
  std::vector<Loc> locs;
  while (accept(Tok::At)) {
    if (!is(Tok::Ident)) {
      errorExpected("a decorator name after '@'");
      return nullptr;
    }
    locs.push_back(loc());
    decorators.push_back(tok.text.str());
    consume();
    // `@torch.no_grad()` style: accept and ignore empty parentheses.
    if (accept(Tok::LParen) && !expect(Tok::RParen, "after the decorator"))
      return nullptr;
    skipNewlines();
  }
  if (isWord("class"))
    return parseClass(l, std::move(decorators));
  auto s = std::make_unique<DefStmt>(l);
  s->func = parseDef(std::move(decorators), std::move(locs));
  if (!s->func)
    return nullptr;
  return s;
}

StmtPtr Parser::parseDim() {
  auto s = std::make_unique<DimStmt>(loc());
  consume(); // dim
  s->name = tok.text.str();
  s->loc = loc();
  consume();
  if (!expect(Tok::Assign, "after the dimension name (dim NAME = SIZE)"))
    return nullptr;
  s->value = parseExpr();
  if (!s->value)
    return nullptr;
  endStatement();
  return s;
}

std::unique_ptr<TypeSpec> Parser::parseType() {
  auto t = std::make_unique<TypeSpec>();
  t->loc = loc();
  if (!is(Tok::Ident)) {
    errorExpected("a tensor type such as f32[B, 784]");
    return nullptr;
  }
  t->dtype = tok.text.str();
  consume();
  if (!expect(Tok::LBracket, "after the element type (a shape such as [B, 784])"))
    return nullptr;
  while (!is(Tok::RBracket)) {
    ExprPtr d = parseExpr();
    if (!d)
      return nullptr;
    t->dims.push_back(std::move(d));
    if (!accept(Tok::Comma))
      break;
  }
  if (!expect(Tok::RBracket, "to close the shape"))
    return nullptr;
  return t;
}

StmtPtr Parser::parseInput() {
  auto s = std::make_unique<InputStmt>(loc());
  consume(); // input
  s->name = tok.text.str();
  s->loc = loc();
  consume();
  if (!expect(Tok::Colon, "after the input name (input NAME: TYPE)"))
    return nullptr;
  s->type = parseType();
  if (!s->type)
    return nullptr;
  if (isWord("requires_grad")) {
    consume();
    s->requiresGrad = true;
  }
  endStatement();
  return s;
}

StmtPtr Parser::parseParamOrBuffer(StmtKind kind) {
  auto s = std::make_unique<ParamStmt>(kind, loc());
  consume(); // param / buffer
  s->name = tok.text.str();
  s->loc = loc();
  consume();
  if (!expect(Tok::Colon, "after the name (param NAME: TYPE = INIT)"))
    return nullptr;
  s->type = parseType();
  if (!s->type)
    return nullptr;
  if (accept(Tok::Assign)) {
    s->init = parseExpr();
    if (!s->init)
      return nullptr;
  }
  endStatement();
  return s;
}

StmtPtr Parser::parseOutput() {
  auto s = std::make_unique<OutputStmt>(loc());
  consume(); // output
  s->name = tok.text.str();
  s->loc = loc();
  consume();
  if (accept(Tok::Assign)) {
    s->value = parseExpr();
    if (!s->value)
      return nullptr;
  }
  endStatement();
  return s;
}

bool Parser::parsePattern(std::string &pattern) {
  if (is(Tok::String)) {
    pattern = tok.stringValue;
    consume();
    return true;
  }
  // Dotted names with '*' wildcards, written without spaces:
  // `features.*`, `blocks.0.attn`, `*.bias`.
  const char *endOfLast = nullptr;
  while (is(Tok::Ident) || is(Tok::Int) || is(Tok::Star) || is(Tok::Dot) ||
         is(Tok::KwIn)) {
    if (endOfLast && tok.text.data() != endOfLast)
      break;
    pattern += tok.text.str();
    endOfLast = tok.text.data() + tok.text.size();
    consume();
  }
  if (pattern.empty()) {
    errorExpected("a parameter name or pattern such as 'features.*'");
    return false;
  }
  return true;
}

StmtPtr Parser::parseFreeze() {
  auto s = std::make_unique<FreezeStmt>(loc());
  consume(); // freeze
  do {
    s->patternLocs.push_back(loc());
    std::string pattern;
    if (!parsePattern(pattern))
      return nullptr;
    s->patterns.push_back(std::move(pattern));
  } while (accept(Tok::Comma));
  endStatement();
  return s;
}

StmtPtr Parser::parseBlockStmt(StmtKind kind) {
  auto s = std::make_unique<BlockStmt>(kind, loc());
  std::string what = ("the " + tok.text + " block").str();
  consume();
  if (!parseBlock(s->body, what))
    return nullptr;
  return s;
}

bool Parser::parseLoopTargets(std::vector<std::string> &targets) {
  do {
    if (!is(Tok::Ident)) {
      errorExpected("a loop variable after 'for'");
      return false;
    }
    targets.push_back(tok.text.str());
    consume();
  } while (accept(Tok::Comma));
  return expect(Tok::KwIn, "after the loop variable");
}

bool Parser::parseComprehensionTail(Comprehension &loop) {
  if (!parseLoopTargets(loop.targets) || !(loop.iterable = parseOr()))
    return false;
  return !accept(Tok::KwIf) || (loop.cond = parseOr());
}

StmtPtr Parser::parseFor() {
  auto s = std::make_unique<ForStmt>(loc());
  consume(); // for
  if (!parseLoopTargets(s->targets))
    return nullptr;
  s->iterable = parseExpr();
  if (!s->iterable || !parseBlock(s->body, "the loop body"))
    return nullptr;
  return s;
}

StmtPtr Parser::parseIf() {
  auto s = std::make_unique<IfStmt>(loc());
  // `if c {...}`, then any `elif c {...}` and an `else {...}`, each after
  // the closing brace on the same line or on the next.
  do {
    Branch b;
    b.loc = loc();
    consume(); // if, elif
    b.cond = parseExpr();
    if (!b.cond || !parseBlock(b.body, s->branches.empty() ? "the 'if' body"
                                                           : "the 'elif' body"))
      return nullptr;
    s->branches.push_back(std::move(b));
    if (is(Tok::Newline) &&
        (peekToken().kind == Tok::KwElif || peekToken().kind == Tok::KwElse))
      consume();
  } while (is(Tok::KwElif));
  if (accept(Tok::KwElse)) {
    if (is(Tok::KwIf)) {
      error("'else if' is spelled 'elif'");
      return nullptr;
    }
    if (!parseBlock(s->orelse, "the 'else' body"))
      return nullptr;
  }
  return s;
}

StmtPtr Parser::parseClass(Loc l, std::vector<std::string> decorators) {
  Loc classLoc = loc();
  consume(); // class
  if (decorators.size() != 1 || decorators.front() != "dataclass") {
    diags.error(classLoc.ptr,
                "a class is a configuration record: write @dataclass before "
                "it");
    diags.note(classLoc.ptr,
               "hint: an nn.Module subclass is written 'module Name(args) "
               "{ ... }'; other classes have no equivalent");
    statementFailed = true;
    return nullptr;
  }
  auto s = std::make_unique<ClassStmt>(l);
  s->record = std::make_unique<RecordDecl>();
  s->record->loc = classLoc;
  if (!is(Tok::Ident)) {
    errorExpected("a class name after 'class'");
    return nullptr;
  }
  s->record->name = tok.text.str();
  consume();
  if (!expect(Tok::LBrace, "to start the class body"))
    return nullptr;
  bool defaults = false;
  // One field, `name: type [= default]`; false after an error.
  auto parseField = [&]() -> bool {
    RecordField f;
    f.loc = loc();
    if (!is(Tok::Ident)) {
      errorExpected("a field 'name: type = default' in the class body");
      return false;
    }
    f.name = tok.text.str();
    consume();
    if (!expect(Tok::Colon, "after the field name (name: type = default)"))
      return false;
    if (!is(Tok::Ident)) {
      errorExpected("the field's type (int, float, bool or str)");
      return false;
    }
    f.type = tok.text.str();
    if (f.type != "int" && f.type != "float" && f.type != "bool" &&
        f.type != "str") {
      error("the field's type must be int, float, bool or str");
      return false;
    }
    consume();
    if (accept(Tok::Assign)) {
      f.value = parseExpr();
      if (!f.value)
        return false;
      defaults = true;
    } else if (defaults) {
      diags.error(f.loc.ptr, "non-default argument '" + f.name +
                                 "' follows default argument");
      return false;
    }
    for (const RecordField &other : s->record->fields)
      if (other.name == f.name) {
        diags.error(f.loc.ptr, "duplicate field '" + f.name + "'");
        return false;
      }
    s->record->fields.push_back(std::move(f));
    return endStatement();
  };
  while (true) {
    skipNewlines();
    if (is(Tok::RBrace) || is(Tok::Eof))
      break;
    if (!parseField()) {
      // One error per class: skip to its closing brace.
      statementFailed = true;
      while (!is(Tok::RBrace) && !is(Tok::Eof))
        consume();
      accept(Tok::RBrace);
      return nullptr;
    }
  }
  if (!expect(Tok::RBrace, "to close the class body"))
    return nullptr;
  return s;
}

StmtPtr Parser::parseAssert() {
  auto s = std::make_unique<AssertStmt>(loc());
  consume(); // assert
  s->cond = parseExpr();
  if (!s->cond)
    return nullptr;
  if (accept(Tok::Comma)) {
    s->message = parseExpr();
    if (!s->message)
      return nullptr;
  }
  endStatement();
  return s;
}

/// `e`, which is a T, as a T.
template <typename T> static std::unique_ptr<T> takeAs(ExprPtr e) {
  return std::unique_ptr<T>(llvm::cast<T>(e.release()));
}

/// `first, e, ...` as a tuple at `l`: the elements after `first` up to
/// where `atEnd` says (a trailing comma allowed).
ExprPtr Parser::parseTupleAfter(ExprPtr first, Loc l,
                                llvm::function_ref<bool()> atEnd) {
  auto tuple = std::make_unique<TupleExpr>(l);
  tuple->elements.push_back({"", first->loc, std::move(first)});
  while (accept(Tok::Comma) && !atEnd()) {
    Arg a;
    a.loc = loc();
    a.value = parseExpr();
    if (!a.value)
      return nullptr;
    tuple->elements.push_back(std::move(a));
  }
  return measured(std::move(tuple));
}

StmtPtr Parser::parseAssignOrExpr() {
  Loc l = loc();
  // `a = ...` and `a, b = ...`.
  if (is(Tok::Ident) &&
      (peekToken().kind == Tok::Assign || peekToken().kind == Tok::Comma)) {
    auto s = std::make_unique<AssignStmt>(l);
    while (true) {
      if (is(Tok::LParen)) {
        error("nested unpacking (out, (h, c) = ...) is not supported; "
              "unpack in two steps: out, hc = ...; h, c = hc");
        return nullptr;
      }
      if (!is(Tok::Ident)) {
        errorExpected("a name to assign to");
        return nullptr;
      }
      s->targetLocs.push_back(loc());
      s->targets.push_back(tok.text.str());
      consume();
      if (!accept(Tok::Comma))
        break;
    }
    if (!expect(Tok::Assign, "after the names to assign"))
      return nullptr;
    s->value = parseExpr();
    if (!s->value)
      return nullptr;
    endStatement();
    return s;
  }
  ExprPtr e = parseExpr();
  if (!e)
    return nullptr;
  // The rest of `target = value`, after the target.
  auto assignTo = [&](auto stmt) -> StmtPtr {
    consume(); // '='
    stmt->value = parseExpr();
    if (!stmt->value)
      return nullptr;
    endStatement();
    return stmt;
  };
  if (is(Tok::Assign)) {
    if (auto *member = llvm::dyn_cast<MemberExpr>(e.get())) {
      auto *object = llvm::dyn_cast<NameExpr>(member->object.get());
      if (object && object->name == "self") {
        // `self.c_attn = nn.Linear(...)` in a module body, as __init__
        // writes it: the attribute is the module's name `c_attn`.
        auto assign = std::make_unique<AssignStmt>(l);
        assign->targets.push_back(member->name);
        assign->targetLocs.push_back(member->loc);
        return assignTo(std::move(assign));
      }
      // transformer.wte.weight = lm_head.weight: nanoGPT's weight tying.
      auto set = std::make_unique<SetAttrStmt>(l);
      set->target = takeAs<MemberExpr>(std::move(e));
      return assignTo(std::move(set));
    }
    if (llvm::isa<IndexExpr>(*e)) {
      // model_args['vocab_size'] = 65: a dict's item.
      auto set = std::make_unique<SetItemStmt>(l);
      set->target = takeAs<IndexExpr>(std::move(e));
      return assignTo(std::move(set));
    }
    error("cannot assign to this expression; expected a name (or "
          "self.name) on the left of '='");
    return nullptr;
  }
  // setattr(self, "name", value) in a module body: `self.name = value`
  // for a name that is not an identifier (RegNet's `block1-0`).
  if (auto *call = llvm::dyn_cast<CallExpr>(e.get())) {
    auto *fn = llvm::dyn_cast<NameExpr>(call->callee.get());
    auto *self = call->args.size() == 3
                     ? llvm::dyn_cast<NameExpr>(call->args[0].value.get())
                     : nullptr;
    auto *str =
        self ? llvm::dyn_cast<StringExpr>(call->args[1].value.get()) : nullptr;
    if (fn && fn->name == "setattr" && self && self->name == "self" && str &&
        llvm::all_of(call->args,
                     [](const Arg &a) { return a.keyword.empty(); })) {
      auto assign = std::make_unique<AssignStmt>(l);
      assign->targets.push_back(str->value);
      assign->targetLocs.push_back(call->args[1].loc);
      assign->value = std::move(call->args[2].value);
      endStatement();
      return assign;
    }
  }
  auto s = std::make_unique<ExprStmt>(l);
  s->expr = std::move(e);
  endStatement();
  return s;
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

namespace {
/// Counts nesting for the duration of one recursive call.
struct DepthGuard {
  unsigned &depth;
  explicit DepthGuard(unsigned &depth) : depth(depth) { ++depth; }
  ~DepthGuard() { --depth; }
};
} // namespace

static ExprPtr makeBinary(Loc loc, StringRef op, ExprPtr lhs, ExprPtr rhs) {
  auto e = std::make_unique<BinaryExpr>(loc);
  e->op = op.str();
  e->lhs = std::move(lhs);
  e->rhs = std::move(rhs);
  return e;
}

ExprPtr Parser::parseExpr() {
  DepthGuard guard(depth);
  if (depth > maxNesting) {
    error("expression nested too deeply (more than " + Twine(maxNesting) +
          " levels)");
    return nullptr;
  }
  // `lambda step: expr`.
  if (is(Tok::Ident) && tok.text == "lambda" &&
      (peekToken().kind == Tok::Ident || peekToken().kind == Tok::Colon)) {
    auto lambda = std::make_unique<LambdaExpr>(loc());
    consume();
    while (is(Tok::Ident)) {
      lambda->params.push_back(tok.text.str());
      consume();
      if (!accept(Tok::Comma))
        break;
    }
    if (!expect(Tok::Colon, "after the parameters of 'lambda'"))
      return nullptr;
    lambda->body = parseExpr();
    if (!lambda->body)
      return nullptr;
    return measured(std::move(lambda));
  }
  // `a if c else b`.
  ExprPtr e = parseOr();
  if (!e || !is(Tok::KwIf))
    return e;
  Loc l = loc();
  consume();
  ExprPtr cond = parseOr();
  if (!cond || !expect(Tok::KwElse, "after the condition of 'x if c else y'"))
    return nullptr;
  ExprPtr otherwise = parseExpr();
  if (!otherwise)
    return nullptr;
  auto c = std::make_unique<ConditionalExpr>(l);
  c->then = std::move(e);
  c->cond = std::move(cond);
  c->orelse = std::move(otherwise);
  return measured(std::move(c));
}

ExprPtr Parser::parseOr() {
  ExprPtr lhs = parseAnd();
  while (lhs && is(Tok::KwOr)) {
    Loc l = loc();
    consume();
    ExprPtr rhs = parseAnd();
    if (!rhs)
      return nullptr;
    lhs = measured(makeBinary(l, "or", std::move(lhs), std::move(rhs)));
  }
  return lhs;
}

ExprPtr Parser::parseAnd() {
  ExprPtr lhs = parseNot();
  while (lhs && is(Tok::KwAnd)) {
    Loc l = loc();
    consume();
    ExprPtr rhs = parseNot();
    if (!rhs)
      return nullptr;
    lhs = measured(makeBinary(l, "and", std::move(lhs), std::move(rhs)));
  }
  return lhs;
}

ExprPtr Parser::parseNot() {
  if (!is(Tok::KwNot))
    return parseCompare();
  DepthGuard guard(depth);
  if (depth > maxNesting) {
    error("expression nested too deeply (more than " + Twine(maxNesting) +
          " levels)");
    return nullptr;
  }
  Loc l = loc();
  consume();
  ExprPtr operand = parseNot();
  if (!operand)
    return nullptr;
  auto e = std::make_unique<UnaryExpr>(l);
  e->op = "not";
  e->operand = std::move(operand);
  return measured(std::move(e));
}

ExprPtr Parser::measured(ExprPtr e) {
  if (!e)
    return e;
  unsigned h = 0;
  forEachChild(*e, [&](const Expr &c) { h = std::max(h, c.height); });
  e->height = h + 1;
  if (e->height > maxHeight) {
    diags.error(e->loc.ptr, "expression too long: more than " +
                                Twine(maxHeight) +
                                " operations chained in one expression");
    diags.note(e->loc.ptr, "hint: split it into several statements");
    statementFailed = true;
    return nullptr;
  }
  return e;
}

ExprPtr Parser::parseCompare() {
  ExprPtr lhs = parseAdditive();
  if (!lhs)
    return nullptr;
  if (is(Tok::Lt) || is(Tok::Le) || is(Tok::Gt) || is(Tok::Ge) ||
      is(Tok::EqEq) || is(Tok::Ne) || is(Tok::KwIs)) {
    Loc l = loc();
    std::string op = tok.text.str();
    consume();
    if (op == "is" && accept(Tok::KwNot))
      op = "is not";
    ExprPtr rhs = parseAdditive();
    if (!rhs)
      return nullptr;
    return measured(makeBinary(l, op, std::move(lhs), std::move(rhs)));
  }
  return lhs;
}

ExprPtr Parser::parseAdditive() {
  ExprPtr lhs = parseMultiplicative();
  while (lhs && (is(Tok::Plus) || is(Tok::Minus))) {
    Loc l = loc();
    std::string op = tok.text.str();
    consume();
    ExprPtr rhs = parseMultiplicative();
    if (!rhs)
      return nullptr;
    lhs = measured(makeBinary(l, op, std::move(lhs), std::move(rhs)));
  }
  return lhs;
}

ExprPtr Parser::parseMultiplicative() {
  ExprPtr lhs = parseUnary();
  while (lhs && (is(Tok::Star) || is(Tok::Slash) || is(Tok::SlashSlash) ||
                 is(Tok::Percent) || is(Tok::At))) {
    Loc l = loc();
    std::string op = tok.text.str();
    consume();
    ExprPtr rhs = parseUnary();
    if (!rhs)
      return nullptr;
    lhs = measured(makeBinary(l, op, std::move(lhs), std::move(rhs)));
  }
  return lhs;
}

ExprPtr Parser::parseUnary() {
  DepthGuard guard(depth);
  if (depth > maxNesting) {
    error("expression nested too deeply (more than " + Twine(maxNesting) +
          " levels)");
    return nullptr;
  }
  if (is(Tok::Minus) || is(Tok::Plus)) {
    Loc l = loc();
    std::string op = tok.text.str();
    consume();
    ExprPtr operand = parseUnary();
    if (!operand)
      return nullptr;
    auto e = std::make_unique<UnaryExpr>(l);
    e->op = op;
    e->operand = std::move(operand);
    return measured(std::move(e));
  }
  return parsePower();
}

ExprPtr Parser::parsePower() {
  ExprPtr base = parsePostfix();
  if (!base || !is(Tok::StarStar))
    return base;
  Loc l = loc();
  consume();
  ExprPtr exponent = parseUnary(); // right-associative, binds -x tighter
  if (!exponent)
    return nullptr;
  return measured(makeBinary(l, "**", std::move(base), std::move(exponent)));
}

bool Parser::parseArgs(std::vector<Arg> &args, Tok close) {
  bool sawKeyword = false;
  while (!is(close)) {
    Arg a;
    a.loc = loc();
    // A keyword argument: any word (also a reserved one) followed by '=';
    // `**config`, a dict's items as keyword arguments.
    if ((is(Tok::Ident) || is(Tok::KwIn)) && peekToken().kind == Tok::Assign) {
      a.keyword = tok.text.str();
      consume();
      consume();
      sawKeyword = true;
    } else if (is(Tok::StarStar) && close == Tok::RParen) {
      a.keyword = "**";
      consume();
      sawKeyword = true;
    } else if (sawKeyword) {
      error("positional argument follows keyword argument");
      return false;
    }
    a.value = parseExpr();
    if (!a.value)
      return false;
    for (const Arg &other : args)
      if (!a.keyword.empty() && a.keyword != "**" &&
          other.keyword == a.keyword) {
        diags.error(a.loc.ptr,
                    "keyword argument repeated: '" + a.keyword + "'");
        statementFailed = true;
        return false;
      }
    args.push_back(std::move(a));
    if (!accept(Tok::Comma))
      break;
  }
  return expect(close, close == Tok::RParen ? "to close the argument list"
                                            : "to close the list");
}

ExprPtr Parser::parseIndexItem() {
  Loc l = loc();
  ExprPtr first;
  if (!is(Tok::Colon)) {
    first = parseExpr();
    if (!first || !is(Tok::Colon))
      return first;
  }
  auto slice = std::make_unique<SliceExpr>(l);
  slice->start = std::move(first);
  consume(); // ':'
  auto endsPart = [&] {
    return is(Tok::Colon) || is(Tok::Comma) || is(Tok::RBracket);
  };
  if (!endsPart()) {
    slice->end = parseExpr();
    if (!slice->end)
      return nullptr;
  }
  if (accept(Tok::Colon) && !is(Tok::Comma) && !is(Tok::RBracket)) {
    slice->step = parseExpr();
    if (!slice->step)
      return nullptr;
  }
  return measured(std::move(slice));
}

ExprPtr Parser::parsePostfix() {
  ExprPtr e = parsePrimary();
  while (e) {
    Loc l = loc();
    if (accept(Tok::LParen)) {
      auto call = std::make_unique<CallExpr>(e->loc);
      call->callee = std::move(e);
      if (!parseArgs(call->args, Tok::RParen))
        return nullptr;
      // getattr(object, "name"): object.name, for a name that is not an
      // identifier (RegNet's `block1-0`), as Python writes it.
      auto *fn = llvm::dyn_cast<NameExpr>(call->callee.get());
      if (fn && fn->name == "getattr" && call->args.size() == 2 &&
          call->args[0].keyword.empty() && call->args[1].keyword.empty())
        if (auto *str = llvm::dyn_cast<StringExpr>(call->args[1].value.get())) {
          auto member = std::make_unique<MemberExpr>(call->args[1].loc);
          member->name = str->value;
          member->object = std::move(call->args[0].value);
          e = measured(std::move(member));
          continue;
        }
      e = measured(std::move(call));
    } else if (accept(Tok::Dot)) {
      auto member = std::make_unique<MemberExpr>(l);
      if (is(Tok::Ident)) {
        member->name = tok.text.str();
      } else if (is(Tok::Int)) {
        member->name = tok.text.str(); // blocks.0
      } else {
        errorExpected("an attribute or method name after '.'");
        return nullptr;
      }
      member->loc = loc();
      consume();
      member->object = std::move(e);
      e = measured(std::move(member));
    } else if (accept(Tok::LBracket)) {
      auto index = std::make_unique<IndexExpr>(l);
      index->object = std::move(e);
      while (!is(Tok::RBracket)) {
        Arg a;
        a.loc = loc();
        a.value = parseIndexItem();
        if (!a.value)
          return nullptr;
        index->indices.push_back(std::move(a));
        if (!accept(Tok::Comma))
          break;
      }
      if (!expect(Tok::RBracket, "to close the index"))
        return nullptr;
      if (index->indices.empty()) {
        diags.error(l.ptr, "expected an index or a slice between '[' and ']'");
        statementFailed = true;
        return nullptr;
      }
      e = measured(std::move(index));
    } else {
      break;
    }
  }
  return e;
}

ExprPtr Parser::parsePrimary() {
  Loc l = loc();
  switch (tok.kind) {
  case Tok::Int:
  case Tok::Float: {
    auto e = std::make_unique<NumberExpr>(l);
    std::string digits;
    for (char c : tok.text)
      if (c != '_')
        digits += c;
    e->isInt = is(Tok::Int);
    if (e->isInt) {
      unsigned long long v = 0;
      if (StringRef(digits).getAsInteger(10, v) || v > (1ull << 53)) {
        error("integer literal '" + tok.text + "' is too large");
        return nullptr;
      }
      e->number = static_cast<double>(v);
    } else {
      e->number = std::strtod(digits.c_str(), nullptr);
    }
    consume();
    return e;
  }
  case Tok::String: {
    auto e = std::make_unique<StringExpr>(l);
    e->value = tok.stringValue;
    consume();
    return e;
  }
  case Tok::KwTrue:
  case Tok::KwFalse: {
    auto e = std::make_unique<BoolExpr>(l);
    e->value = is(Tok::KwTrue);
    consume();
    return e;
  }
  case Tok::KwNone:
    consume();
    return std::make_unique<NoneExpr>(l);
  case Tok::Ident: {
    auto e = std::make_unique<NameExpr>(l);
    e->name = tok.text.str();
    consume();
    return e;
  }
  case Tok::LParen: {
    consume();
    ExprPtr inner = parseExpr();
    if (!inner)
      return nullptr;
    if (is(Tok::Comma)) {
      inner =
          parseTupleAfter(std::move(inner), l, [&] { return is(Tok::RParen); });
      if (!inner)
        return nullptr;
    }
    if (!expect(Tok::RParen, "to close the parenthesis"))
      return nullptr;
    return inner;
  }
  case Tok::LBracket: {
    consume();
    if (accept(Tok::RBracket))
      return std::make_unique<ListExpr>(l);
    ExprPtr first = parseExpr();
    if (!first)
      return nullptr;
    if (accept(Tok::KwFor)) {
      // [element for NAME[, NAME...] in iterable [if condition]]
      auto comp = std::make_unique<ListCompExpr>(l);
      comp->element = std::move(first);
      if (!parseComprehensionTail(comp->loop) ||
          !expect(Tok::RBracket, "to close the list"))
        return nullptr;
      return measured(std::move(comp));
    }
    auto list = std::make_unique<ListExpr>(l);
    list->elements.push_back({"", first->loc, std::move(first)});
    while (accept(Tok::Comma) && !is(Tok::RBracket)) {
      Arg a;
      a.loc = loc();
      a.value = parseExpr();
      if (!a.value)
        return nullptr;
      list->elements.push_back(std::move(a));
    }
    if (!expect(Tok::RBracket, "to close the list"))
      return nullptr;
    return measured(std::move(list));
  }
  case Tok::LBrace: {
    // A dict literal, {'n_layer': 12, 'n_head': 12}.
    auto dict = std::make_unique<DictExpr>(l);
    consume();
    while (!is(Tok::RBrace)) {
      Arg key, value;
      key.loc = loc();
      key.value = parseExpr();
      if (!key.value || !expect(Tok::Colon, "after a dict key"))
        return nullptr;
      value.loc = loc();
      value.value = parseExpr();
      if (!value.value)
        return nullptr;
      dict->items.push_back(std::move(key));
      dict->items.push_back(std::move(value));
      if (dict->items.size() == 2 && accept(Tok::KwFor)) {
        // {key: value for NAME[, NAME...] in iterable [if condition]}
        if (!parseComprehensionTail(dict->loop))
          return nullptr;
        break;
      }
      if (!accept(Tok::Comma))
        break;
    }
    if (!expect(Tok::RBrace, "to close the dict"))
      return nullptr;
    return measured(std::move(dict));
  }
  default:
    errorExpected("an expression");
    return nullptr;
  }
}

//===----------------------------------------------------------------------===//
// Entry points and dumping
//===----------------------------------------------------------------------===//

std::unique_ptr<Program> graft::frontend::parseString(StringRef buffer,
                                                      StringRef name,
                                                      llvm::raw_ostream &os,
                                                      unsigned *numErrors) {
  llvm::SourceMgr sm;
  unsigned id = sm.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(buffer, name), llvm::SMLoc());
  Diagnostics diags(sm, os);
  Parser parser(diags, id);
  auto program = parser.parseProgram();
  if (numErrors)
    *numErrors = diags.getNumErrors();
  return program;
}

void graft::frontend::forEachChild(const Expr &e,
                                   llvm::function_ref<void(const Expr &)> fn) {
  auto visit = [&](const ExprPtr &p) {
    if (p)
      fn(*p);
  };
  auto visitAll = [&](const std::vector<Arg> &list) {
    for (const Arg &a : list)
      visit(a.value);
  };
  switch (e.getKind()) {
  case ExprKind::Number:
  case ExprKind::String:
  case ExprKind::Bool:
  case ExprKind::None:
  case ExprKind::Name:
    return;
  case ExprKind::Unary:
    return visit(llvm::cast<UnaryExpr>(e).operand);
  case ExprKind::Binary: {
    const auto &b = llvm::cast<BinaryExpr>(e);
    visit(b.lhs);
    return visit(b.rhs);
  }
  case ExprKind::Call: {
    const auto &c = llvm::cast<CallExpr>(e);
    visit(c.callee);
    return visitAll(c.args);
  }
  case ExprKind::Member:
    return visit(llvm::cast<MemberExpr>(e).object);
  case ExprKind::Index: {
    const auto &i = llvm::cast<IndexExpr>(e);
    visit(i.object);
    return visitAll(i.indices);
  }
  case ExprKind::Slice: {
    const auto &s = llvm::cast<SliceExpr>(e);
    visit(s.start);
    visit(s.end);
    return visit(s.step);
  }
  case ExprKind::List:
  case ExprKind::Tuple:
    return visitAll(llvm::cast<SequenceExpr>(e).elements);
  case ExprKind::ListComp: {
    const auto &c = llvm::cast<ListCompExpr>(e);
    visit(c.element);
    visit(c.loop.iterable);
    return visit(c.loop.cond);
  }
  case ExprKind::Conditional: {
    const auto &c = llvm::cast<ConditionalExpr>(e);
    visit(c.cond);
    visit(c.then);
    return visit(c.orelse);
  }
  case ExprKind::Dict: {
    const auto &d = llvm::cast<DictExpr>(e);
    visitAll(d.items);
    visit(d.loop.iterable);
    return visit(d.loop.cond);
  }
  case ExprKind::Lambda:
    return visit(llvm::cast<LambdaExpr>(e).body);
  }
}

void graft::frontend::dump(const Expr &e, llvm::raw_ostream &os) {
  auto args = [&](const std::vector<Arg> &list) {
    for (const Arg &a : list) {
      os << " ";
      if (!a.keyword.empty())
        os << a.keyword << "=";
      if (a.value)
        dump(*a.value, os);
    }
  };
  switch (e.getKind()) {
  case ExprKind::Number: {
    const auto &n = llvm::cast<NumberExpr>(e);
    if (n.isInt)
      os << static_cast<long long>(n.number);
    else
      os << llvm::format("%g", n.number);
    return;
  }
  case ExprKind::String:
    os << '"' << llvm::cast<StringExpr>(e).value << '"';
    return;
  case ExprKind::Bool:
    os << (llvm::cast<BoolExpr>(e).value ? "True" : "False");
    return;
  case ExprKind::None: os << "None"; return;
  case ExprKind::Name:
    os << llvm::cast<NameExpr>(e).name;
    return;
  case ExprKind::Unary: {
    const auto &u = llvm::cast<UnaryExpr>(e);
    os << "(" << u.op << " ";
    dump(*u.operand, os);
    os << ")";
    return;
  }
  case ExprKind::Binary: {
    const auto &b = llvm::cast<BinaryExpr>(e);
    os << "(" << b.op << " ";
    dump(*b.lhs, os);
    os << " ";
    dump(*b.rhs, os);
    os << ")";
    return;
  }
  case ExprKind::Call: {
    const auto &c = llvm::cast<CallExpr>(e);
    os << "(call ";
    dump(*c.callee, os);
    args(c.args);
    os << ")";
    return;
  }
  case ExprKind::Member: {
    const auto &m = llvm::cast<MemberExpr>(e);
    os << "(. ";
    dump(*m.object, os);
    os << " " << m.name << ")";
    return;
  }
  case ExprKind::Index: {
    const auto &i = llvm::cast<IndexExpr>(e);
    os << "(index ";
    dump(*i.object, os);
    args(i.indices);
    os << ")";
    return;
  }
  case ExprKind::Slice: {
    const auto &s = llvm::cast<SliceExpr>(e);
    os << "(slice";
    for (const ExprPtr *p : {&s.start, &s.end, &s.step}) {
      os << " ";
      if (*p)
        dump(**p, os);
      else
        os << "_";
    }
    os << ")";
    return;
  }
  case ExprKind::List:
    os << "(list";
    args(llvm::cast<ListExpr>(e).elements);
    os << ")";
    return;
  case ExprKind::Tuple:
    os << "(tuple";
    args(llvm::cast<TupleExpr>(e).elements);
    os << ")";
    return;
  case ExprKind::Dict:
    // A comprehension's loop is not shown.
    os << "(dict";
    args(llvm::cast<DictExpr>(e).items);
    os << ")";
    return;
  case ExprKind::Lambda: {
    const auto &l = llvm::cast<LambdaExpr>(e);
    os << "(lambda " << llvm::join(l.params, ",") << " ";
    dump(*l.body, os);
    os << ")";
    return;
  }
  case ExprKind::ListComp: {
    const auto &c = llvm::cast<ListCompExpr>(e);
    os << "(listcomp ";
    dump(*c.element, os);
    os << " " << llvm::join(c.loop.targets, ",") << " ";
    dump(*c.loop.iterable, os);
    if (c.loop.cond) {
      os << " if ";
      dump(*c.loop.cond, os);
    }
    os << ")";
    return;
  }
  case ExprKind::Conditional: {
    const auto &c = llvm::cast<ConditionalExpr>(e);
    os << "(ifexp ";
    dump(*c.cond, os);
    os << " ";
    dump(*c.then, os);
    os << " ";
    dump(*c.orelse, os);
    os << ")";
    return;
  }
  }
}

static void dumpBlock(const Block &block, llvm::raw_ostream &os,
                      unsigned indent);

static void dumpStmt(const Stmt &s, llvm::raw_ostream &os, unsigned indent) {
  os.indent(indent);
  auto value = [&](const ExprPtr &v) {
    if (v) {
      os << " ";
      dump(*v, os);
    }
  };
  auto type = [&](const TypeSpec &t) {
    os << " " << t.dtype << "[";
    llvm::interleaveComma(t.dims, os, [&](const ExprPtr &d) { dump(*d, os); });
    os << "]";
  };
  // Ends the line, then dumps `body` under it.
  auto nested = [&](const Block &body) {
    os << "\n";
    dumpBlock(body, os, indent + 2);
  };
  switch (s.getKind()) {
  case StmtKind::Dim: {
    const auto &d = llvm::cast<DimStmt>(s);
    os << "dim " << d.name;
    value(d.value);
    break;
  }
  case StmtKind::Input: {
    const auto &i = llvm::cast<InputStmt>(s);
    os << "input " << i.name;
    type(*i.type);
    if (i.requiresGrad)
      os << " requires_grad";
    break;
  }
  case StmtKind::Param:
  case StmtKind::Buffer: {
    const auto &p = llvm::cast<ParamStmt>(s);
    os << (p.isBuffer() ? "buffer " : "param ") << p.name;
    type(*p.type);
    value(p.init);
    break;
  }
  case StmtKind::Assign: {
    const auto &a = llvm::cast<AssignStmt>(s);
    os << "assign";
    for (const std::string &t : a.targets)
      os << " " << t;
    value(a.value);
    break;
  }
  case StmtKind::ExprStmt:
    os << "expr";
    value(llvm::cast<ExprStmt>(s).expr);
    break;
  case StmtKind::SetAttr: {
    const auto &a = llvm::cast<SetAttrStmt>(s);
    os << "setattr ";
    dump(*a.target, os);
    value(a.value);
    break;
  }
  case StmtKind::SetItem: {
    const auto &i = llvm::cast<SetItemStmt>(s);
    os << "setitem ";
    dump(*i.target, os);
    value(i.value);
    break;
  }
  case StmtKind::Return:
    os << "return";
    value(llvm::cast<ReturnStmt>(s).value);
    break;
  case StmtKind::Output: {
    const auto &o = llvm::cast<OutputStmt>(s);
    os << "output " << o.name;
    value(o.value);
    break;
  }
  case StmtKind::Freeze:
    os << "freeze";
    for (const std::string &p : llvm::cast<FreezeStmt>(s).patterns)
      os << " " << p;
    break;
  case StmtKind::NoGrad:
    os << "no_grad";
    return nested(llvm::cast<BlockStmt>(s).body);
  case StmtKind::Inference:
    os << "inference";
    return nested(llvm::cast<BlockStmt>(s).body);
  case StmtKind::Train:
    os << "train";
    return nested(llvm::cast<BlockStmt>(s).body);
  case StmtKind::For: {
    const auto &f = llvm::cast<ForStmt>(s);
    os << "for " << llvm::join(f.targets, ",");
    value(f.iterable);
    return nested(f.body);
  }
  case StmtKind::Class: {
    const RecordDecl &record = *llvm::cast<ClassStmt>(s).record;
    os << "class " << record.name << "\n";
    for (const RecordField &f : record.fields) {
      os.indent(indent + 2) << f.name << ": " << f.type;
      if (f.value) {
        os << " = ";
        dump(*f.value, os);
      }
      os << "\n";
    }
    return;
  }
  case StmtKind::Assert: {
    const auto &a = llvm::cast<AssertStmt>(s);
    os << "assert";
    value(a.cond);
    value(a.message);
    break;
  }
  case StmtKind::If: {
    const auto &i = llvm::cast<IfStmt>(s);
    for (const Branch &b : i.branches) {
      if (&b != &i.branches.front())
        os.indent(indent);
      os << (&b == &i.branches.front() ? "if " : "elif ");
      dump(*b.cond, os);
      nested(b.body);
    }
    if (!i.orelse.empty()) {
      os.indent(indent) << "else";
      nested(i.orelse);
    }
    return;
  }
  case StmtKind::Def: {
    const FunctionDecl &f = *llvm::cast<DefStmt>(s).func;
    os << "def " << f.name << "(";
    llvm::interleaveComma(f.params, os, [&](const Arg &a) { os << a.keyword; });
    os << ")";
    for (const std::string &d : f.decorators)
      os << " @" << d;
    return nested(f.body);
  }
  }
  os << "\n";
}

static void dumpBlock(const Block &block, llvm::raw_ostream &os,
                      unsigned indent) {
  for (const StmtPtr &s : block)
    dumpStmt(*s, os, indent);
}

void graft::frontend::dump(const Program &p, llvm::raw_ostream &os) {
  for (const Include &i : p.includes)
    os << "include \"" << i.path << "\"\n";
  dumpBlock(p.globals, os, 0);
  for (const auto &m : p.modules) {
    os << "module " << m->name << "(";
    llvm::interleaveComma(m->params, os,
                          [&](const Arg &a) { os << a.keyword; });
    os << ")\n";
    dumpBlock(m->body, os, 2);
  }
  for (const auto &m : p.models) {
    os << "model " << m->name << "\n";
    dumpBlock(m->body, os, 2);
  }
}
