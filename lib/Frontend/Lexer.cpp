//===- Lexer.cpp - Tokens of the Graft model language ---------------------===//

#include "graft/Frontend/Lexer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/Twine.h"

using namespace graft::frontend;

llvm::StringRef graft::frontend::spell(Tok kind) {
  switch (kind) {
  case Tok::Eof: return "end of file";
  case Tok::Newline: return "end of line";
  case Tok::Error: return "invalid token";
  case Tok::Ident: return "an identifier";
  case Tok::Int: return "an integer";
  case Tok::Float: return "a number";
  case Tok::String: return "a string";
  case Tok::KwModel:
    return "'model'";
  case Tok::KwDef: return "'def'";
  case Tok::KwReturn: return "'return'";
  case Tok::KwFor: return "'for'";
  case Tok::KwIn: return "'in'";
  case Tok::KwInclude: return "'include'";
  case Tok::KwTrue: return "'True'";
  case Tok::KwFalse: return "'False'";
  case Tok::KwNone: return "'None'";
  case Tok::KwIf:
    return "'if'";
  case Tok::KwElif:
    return "'elif'";
  case Tok::KwElse:
    return "'else'";
  case Tok::KwAssert:
    return "'assert'";
  case Tok::KwNot:
    return "'not'";
  case Tok::KwAnd:
    return "'and'";
  case Tok::KwOr:
    return "'or'";
  case Tok::KwIs:
    return "'is'";
  case Tok::LParen: return "'('";
  case Tok::RParen: return "')'";
  case Tok::LBracket: return "'['";
  case Tok::RBracket: return "']'";
  case Tok::LBrace: return "'{'";
  case Tok::RBrace: return "'}'";
  case Tok::Comma: return "','";
  case Tok::Colon: return "':'";
  case Tok::Dot: return "'.'";
  case Tok::Semi: return "';'";
  case Tok::At: return "'@'";
  case Tok::Assign: return "'='";
  case Tok::Plus: return "'+'";
  case Tok::Minus: return "'-'";
  case Tok::Star: return "'*'";
  case Tok::StarStar: return "'**'";
  case Tok::Slash: return "'/'";
  case Tok::SlashSlash:
    return "'//'";
  case Tok::Percent:
    return "'%'";
  case Tok::Lt: return "'<'";
  case Tok::Le: return "'<='";
  case Tok::Gt: return "'>'";
  case Tok::Ge: return "'>='";
  case Tok::EqEq: return "'=='";
  case Tok::Ne: return "'!='";
  }
  return "token";
}

void Lexer::advance() {
  if (atEnd())
    return;
  if (*cur == '\n') {
    ++line;
    col = 1;
  } else {
    ++col;
  }
  ++cur;
}

Tok graft::frontend::wordKind(llvm::StringRef word) {
  return llvm::StringSwitch<Tok>(word)
      .Case("model", Tok::KwModel)
      .Case("def", Tok::KwDef)
      .Case("return", Tok::KwReturn)
      .Case("for", Tok::KwFor)
      .Case("in", Tok::KwIn)
      .Case("include", Tok::KwInclude)
      .Cases({"True", "true"}, Tok::KwTrue)
      .Cases({"False", "false"}, Tok::KwFalse)
      .Case("None", Tok::KwNone)
      .Case("if", Tok::KwIf)
      .Case("elif", Tok::KwElif)
      .Case("else", Tok::KwElse)
      .Case("assert", Tok::KwAssert)
      .Case("not", Tok::KwNot)
      .Case("and", Tok::KwAnd)
      .Case("or", Tok::KwOr)
      .Case("is", Tok::KwIs)
      .Default(Tok::Ident);
}

Token Lexer::make(Tok kind, const char *start, unsigned l, unsigned c) {
  Token t;
  t.kind = kind;
  t.text = llvm::StringRef(start, cur - start);
  t.loc = llvm::SMLoc::getFromPointer(start);
  t.line = l;
  t.col = c;
  lastWasNewline = kind == Tok::Newline;
  lastKind = kind;
  return t;
}

void Lexer::error(const char *at, const llvm::Twine &message) {
  if (report)
    report(reportCtx, llvm::SMLoc::getFromPointer(at), message);
}

Token Lexer::next() {
  while (true) {
    // Whitespace and comments.
    while (!atEnd() && (*cur == ' ' || *cur == '\t' || *cur == '\r' ||
                        (*cur == '\n' && (nesting > 0 || lastWasNewline))))
      advance();
    if (!atEnd() && *cur == '#') {
      while (!atEnd() && *cur != '\n')
        advance();
      continue;
    }
    break;
  }
  const char *start = cur;
  unsigned l = line, c = col;
  if (atEnd()) {
    // End the last statement before reporting the end of the file.
    if (!lastWasNewline)
      return make(Tok::Newline, start, l, c);
    return make(Tok::Eof, start, l, c);
  }
  char ch = *cur;
  if (ch == '\n') {
    advance();
    return make(Tok::Newline, start, l, c);
  }
  if (llvm::isAlpha(ch) || ch == '_') {
    while (!atEnd() && (llvm::isAlnum(*cur) || *cur == '_'))
      advance();
    llvm::StringRef word(start, cur - start);
    return make(wordKind(word), start, l, c);
  }
  // `.5` is a number, but in `blocks.0` the '.' follows a name: member access.
  bool afterOperand = lastKind == Tok::Ident || lastKind == Tok::Int ||
                      lastKind == Tok::Float || lastKind == Tok::RParen ||
                      lastKind == Tok::RBracket || lastKind == Tok::String;
  if (llvm::isDigit(ch) ||
      (ch == '.' && llvm::isDigit(peek(1)) && !afterOperand))
    return lexNumber(start, l, c);
  if (ch == '"' || ch == '\'')
    return lexString(start, l, c);

  advance();
  auto two = [&](char second, Tok yes, Tok no) {
    if (peek() == second) {
      advance();
      return make(yes, start, l, c);
    }
    return make(no, start, l, c);
  };
  switch (ch) {
  case '(':
    ++nesting;
    return make(Tok::LParen, start, l, c);
  case '[':
    ++nesting;
    return make(Tok::LBracket, start, l, c);
  case ')':
    nesting = nesting > 0 ? nesting - 1 : 0;
    return make(Tok::RParen, start, l, c);
  case ']':
    nesting = nesting > 0 ? nesting - 1 : 0;
    return make(Tok::RBracket, start, l, c);
  case '{': {
    // A dict literal where an expression starts: inside brackets, or after
    // '=', ':', ',' or 'return'. Its newlines are whitespace, as in
    // brackets.
    bool dict = nesting > 0 || lastKind == Tok::Assign ||
                lastKind == Tok::Colon || lastKind == Tok::Comma ||
                lastKind == Tok::KwReturn;
    braces.push_back(dict);
    if (dict)
      ++nesting;
    else
      nesting = 0; // a block: an unclosed '(' before it ends here
    return make(Tok::LBrace, start, l, c);
  }
  case '}': {
    bool dict = !braces.empty() && braces.back();
    if (!braces.empty())
      braces.pop_back();
    nesting = dict && nesting > 0 ? nesting - 1 : 0;
    return make(Tok::RBrace, start, l, c);
  }
  case ',': return make(Tok::Comma, start, l, c);
  case ':': return make(Tok::Colon, start, l, c);
  case '.': return make(Tok::Dot, start, l, c);
  case ';': return make(Tok::Semi, start, l, c);
  case '@': return make(Tok::At, start, l, c);
  case '+': return make(Tok::Plus, start, l, c);
  case '-': return make(Tok::Minus, start, l, c);
  case '/':
    return two('/', Tok::SlashSlash, Tok::Slash);
  case '%':
    return make(Tok::Percent, start, l, c);
  case '*': return two('*', Tok::StarStar, Tok::Star);
  case '<': return two('=', Tok::Le, Tok::Lt);
  case '>': return two('=', Tok::Ge, Tok::Gt);
  case '=': return two('=', Tok::EqEq, Tok::Assign);
  case '!':
    if (peek() == '=') {
      advance();
      return make(Tok::Ne, start, l, c);
    }
    break;
  default:
    break;
  }
  if (llvm::isPrint(ch))
    error(start, llvm::Twine("unexpected character '") + llvm::Twine(ch) +
                     "'");
  else
    error(start, llvm::Twine("unexpected byte 0x") +
                     llvm::utohexstr(static_cast<unsigned char>(ch)) +
                     " in the source");
  return make(Tok::Error, start, l, c);
}

Token Lexer::lexNumber(const char *start, unsigned l, unsigned c) {
  bool isFloat = false;
  while (!atEnd() && (llvm::isDigit(*cur) || *cur == '_'))
    advance();
  // A '.' belongs to the number only when a digit follows: `blocks.0.attn`
  // lexes as identifier, '.', 0, '.', identifier.
  if (!atEnd() && *cur == '.' && llvm::isDigit(peek(1))) {
    isFloat = true;
    advance();
    while (!atEnd() && llvm::isDigit(*cur))
      advance();
  }
  if (!atEnd() && (*cur == 'e' || *cur == 'E')) {
    size_t k = 1;
    if (peek(1) == '+' || peek(1) == '-')
      k = 2;
    if (llvm::isDigit(peek(k))) {
      isFloat = true;
      for (size_t i = 0; i < k; ++i)
        advance();
      while (!atEnd() && llvm::isDigit(*cur))
        advance();
    }
  }
  if (!atEnd() && (llvm::isAlpha(*cur) || *cur == '_')) {
    while (!atEnd() && (llvm::isAlnum(*cur) || *cur == '_'))
      advance();
    error(start, "invalid number '" + llvm::StringRef(start, cur - start) +
                     "'; expected digits, a '.', or an exponent");
    return make(Tok::Error, start, l, c);
  }
  return make(isFloat ? Tok::Float : Tok::Int, start, l, c);
}

Token Lexer::lexString(const char *start, unsigned l, unsigned c) {
  char quote = *cur;
  advance();
  std::string value;
  while (true) {
    if (atEnd() || *cur == '\n') {
      error(start, "unterminated string; expected a closing " +
                       llvm::Twine(quote == '"' ? "'\"'" : "\"'\"") +
                       " on the same line");
      return make(Tok::Error, start, l, c);
    }
    char ch = *cur;
    advance();
    if (ch == quote)
      break;
    if (ch == '\\' && !atEnd() && *cur != '\n') {
      char e = *cur;
      advance();
      switch (e) {
      case 'n': value += '\n'; break;
      case 't': value += '\t'; break;
      default: value += e; break;
      }
      continue;
    }
    value += ch;
  }
  Token t = make(Tok::String, start, l, c);
  t.stringValue = std::move(value);
  return t;
}
