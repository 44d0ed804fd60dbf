//===- FrontendTest.cpp - Lexer and parser of .graft files ----------------===//

#include "graft/Frontend/Lexer.h"
#include "graft/Frontend/Parser.h"

#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <string>
#include <vector>

using namespace graft::frontend;

namespace {
struct LexResult {
  std::vector<Token> tokens;
  std::vector<std::string> errors;
};

void collect(void *ctx, llvm::SMLoc, const llvm::Twine &message) {
  static_cast<LexResult *>(ctx)->errors.push_back(message.str());
}

LexResult lex(llvm::StringRef text) {
  LexResult r;
  Lexer lexer(text, collect, &r);
  for (int i = 0; i < 1000; ++i) {
    Token t = lexer.next();
    r.tokens.push_back(t);
    if (t.kind == Tok::Eof)
      break;
  }
  return r;
}

std::vector<Tok> kinds(const LexResult &r) {
  std::vector<Tok> k;
  for (const Token &t : r.tokens)
    k.push_back(t.kind);
  return k;
}

/// Parses `text` and returns the AST dump and the diagnostics.
std::pair<std::string, std::string> parse(llvm::StringRef text,
                                          unsigned *errors = nullptr) {
  std::string diags, ast;
  llvm::raw_string_ostream d(diags), a(ast);
  auto program = parseString(text, "t.graft", d, errors);
  dump(*program, a);
  return {ast, diags};
}
} // namespace

TEST(LexerTest, TokensLinesAndColumns) {
  LexResult r = lex("model m {\n  x = a @ b ** 2  # comment\n}\n");
  std::vector<Tok> expected = {
      Tok::KwModel, Tok::Ident,  Tok::LBrace, Tok::Newline, Tok::Ident,
      Tok::Assign,  Tok::Ident,  Tok::At,     Tok::Ident,   Tok::StarStar,
      Tok::Int,     Tok::Newline, Tok::RBrace, Tok::Newline, Tok::Eof};
  EXPECT_EQ(kinds(r), expected);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.tokens[4].text, "x");
  EXPECT_EQ(r.tokens[4].line, 2u);
  EXPECT_EQ(r.tokens[4].col, 3u);
  EXPECT_EQ(r.tokens[9].col, 13u); // '**'
}

TEST(LexerTest, NumbersAndDottedNames) {
  LexResult r = lex("blocks.0.attn 1.5e-3 = .5 3e2 7 x.5");
  std::vector<Tok> expected = {
      Tok::Ident, Tok::Dot,   Tok::Int, Tok::Dot,   Tok::Ident,
      Tok::Float, Tok::Assign, Tok::Float, Tok::Float, Tok::Int,
      Tok::Ident, Tok::Dot,   Tok::Int, Tok::Newline, Tok::Eof};
  EXPECT_EQ(kinds(r), expected);
}

TEST(LexerTest, NewlinesInsideBracketsAreWhitespace) {
  LexResult r = lex("f(a,\n  b)\nc");
  std::vector<Tok> expected = {Tok::Ident,  Tok::LParen, Tok::Ident,
                               Tok::Comma,  Tok::Ident,  Tok::RParen,
                               Tok::Newline, Tok::Ident, Tok::Newline,
                               Tok::Eof};
  EXPECT_EQ(kinds(r), expected);
}

TEST(LexerTest, StringsAndErrors) {
  LexResult r = lex("\"a\\\"b\" 'c' \"open\n$ 12ab");
  ASSERT_GE(r.tokens.size(), 2u);
  EXPECT_EQ(r.tokens[0].kind, Tok::String);
  EXPECT_EQ(r.tokens[0].stringValue, "a\"b");
  EXPECT_EQ(r.tokens[1].stringValue, "c");
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_NE(r.errors[0].find("unterminated string"), std::string::npos);
  EXPECT_EQ(r.errors[1], "unexpected character '$'");
  EXPECT_NE(r.errors[2].find("invalid number '12ab'"), std::string::npos);
}

TEST(LexerTest, ContextualKeywordsAreIdentifiers) {
  // `dim`, `input`, `train` are statement words only at a statement start.
  LexResult r = lex("dim input train no_grad");
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(r.tokens[i].kind, Tok::Ident);
}

TEST(ParserTest, PrecedenceAndPostfix) {
  auto [ast, diags] = parse("model m {\n y = -a + b * c @ d ** 2 ** 3\n"
                            " z = x.view(B, -1)[:, 0:4:2, 1]\n}\n");
  EXPECT_EQ(diags, "");
  EXPECT_EQ(ast, "model m\n"
                 "  assign y (+ (- a) (@ (* b c) (** d (** 2 3))))\n"
                 "  assign z (index (call (. x view) B (- 1)) (slice _ _ _) "
                 "(slice 0 4 2) 1)\n");
}

TEST(ParserTest, Declarations) {
  auto [ast, diags] = parse(
      "include \"x.graft\"\ndim B = 4\n"
      "module Block(d, h=2) {\n  param w: f32[d, d] = normal(std=0.02)\n"
      "  def forward(x) { return x @ w }\n}\n"
      "@no_grad\ndef f(v) { return v }\n"
      "model m {\n  input x: f32[B, 4] requires_grad\n"
      "  blocks = [Block(4) for i in range(2)]\n"
      "  freeze blocks.0.*, fc1\n  no_grad { a = x }\n"
      "  for b in blocks { x = b(x) }\n  output x\n"
      "  train { optimizer = SGD(lr=0.1) }\n}\n");
  EXPECT_EQ(diags, "");
  EXPECT_EQ(ast, "include \"x.graft\"\n"
                 "dim B 4\n"
                 "def f(v) @no_grad\n"
                 "  return v\n"
                 "module Block(d, h)\n"
                 "  param w f32[d, d] (call normal std=0.02)\n"
                 "  def forward(x)\n"
                 "    return (@ x w)\n"
                 "model m\n"
                 "  input x f32[B, 4] requires_grad\n"
                 "  assign blocks (listcomp (call Block 4) i (call range 2))\n"
                 "  freeze blocks.0.* fc1\n"
                 "  no_grad\n"
                 "    assign a x\n"
                 "  for b blocks\n"
                 "    assign x (call b x)\n"
                 "  output x\n"
                 "  train\n"
                 "    assign optimizer (call SGD lr=0.1)\n");
}

TEST(ParserTest, CompileTimeControlFlow) {
  auto [ast, diags] =
      parse("model m {\n"
            "  if not a and b > 2 or c is not None { x = 1 } elif d {\n"
            "    x = 2\n  }\n  elif e { x = 3 }\n  else { x = 4 }\n"
            "  y = p if q else r if s else t\n"
            "  assert x == 1, \"msg\"\n  assert y\n"
            "  if z { w = 1 }\n}\n");
  EXPECT_EQ(diags, "");
  EXPECT_EQ(ast, "model m\n"
                 "  if (or (and (not a) (> b 2)) (is not c None))\n"
                 "    assign x 1\n"
                 "  elif d\n"
                 "    assign x 2\n"
                 "  elif e\n"
                 "    assign x 3\n"
                 "  else\n"
                 "    assign x 4\n"
                 "  assign y (ifexp q p (ifexp s r t))\n"
                 "  assert (== x 1) \"msg\"\n"
                 "  assert y\n"
                 "  if z\n"
                 "    assign w 1\n");
}

TEST(ParserTest, DataclassRecords) {
  auto [ast, diags] =
      parse("@dataclass\nclass C {\n  a: int\n"
            "  b: float = 0.5; c: bool = True\n}\n"
            "model m { @dataclass class D { x: str = \"s\" } }\n");
  EXPECT_EQ(diags, "");
  EXPECT_EQ(ast, "class C\n"
                 "  a: int\n"
                 "  b: float = 0.5\n"
                 "  c: bool = True\n"
                 "model m\n"
                 "  class D\n"
                 "    x: str = \"s\"\n");
}

TEST(ParserTest, RecoversAndReportsSeveralErrors) {
  unsigned errors = 0;
  auto [ast, diags] = parse("model m {\n  input x f32[4]\n  y = (x +\n"
                            "  z = relu(x)\n  ok = x\n}\n",
                            &errors);
  EXPECT_EQ(errors, 2u);
  EXPECT_NE(diags.find("t.graft:2:11: error: expected ':' after the input "
                       "name (input NAME: TYPE), found 'f32'"),
            std::string::npos);
  // The caret line follows the source line.
  EXPECT_NE(diags.find("  input x f32[4]\n          ^"), std::string::npos);
  // The statement after the errors still parses.
  EXPECT_NE(ast.find("assign ok x"), std::string::npos);
}

TEST(ParserTest, ErrorCases) {
  struct Case {
    const char *source;
    const char *message;
  } cases[] = {
      {"model {", "expected a model name after 'model', found '{'"},
      {"model m { x = }", "expected an expression, found '}'"},
      {"model m { f(a=1, 2) }", "positional argument follows keyword argument"},
      {"model m { f(a=1, a=2) }", "keyword argument repeated: 'a'"},
      {"model m { x[] }", "expected an index or a slice between '[' and ']'"},
      {"model m { module A {} }",
       "'module' declarations are only allowed at the top level"},
      {"x = 1",
       "expected 'model', 'module', 'def', 'class', 'dim' or 'include'"},
      {"def f(a, a) { }", "duplicate parameter 'a'"},
      {"model m { f(x) = 2 }", "cannot assign to this expression"},
      {"model m { y = 99999999999999999999 }", "is too large"},
  };
  for (const Case &c : cases) {
    unsigned errors = 0;
    auto [ast, diags] = parse(c.source, &errors);
    EXPECT_GE(errors, 1u) << c.source;
    EXPECT_NE(diags.find(c.message), std::string::npos)
        << c.source << "\n" << diags;
  }
}

TEST(ParserTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep = "model m { x = " + std::string(100000, '(') + "}";
  unsigned errors = 0;
  auto [ast, diags] = parse(deep, &errors);
  EXPECT_GE(errors, 1u);
  EXPECT_NE(diags.find("nested too deeply"), std::string::npos);

  std::string blocks = "model m {" + std::string(10000, '{');
  parse(blocks, &errors);
  EXPECT_GE(errors, 1u);

  std::string unary = "model m { x = " + std::string(100000, '-') + "1 }";
  parse(unary, &errors);
  EXPECT_GE(errors, 1u);
}

TEST(ParserTest, ErrorCountIsBounded) {
  std::string many;
  for (int i = 0; i < 1000; ++i)
    many += "$\n";
  unsigned errors = 0;
  auto [ast, diags] = parse(many, &errors);
  EXPECT_EQ(errors, Diagnostics::maxErrors);
  EXPECT_NE(diags.find("too many errors"), std::string::npos);
}
