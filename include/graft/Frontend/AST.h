//===- AST.h - Syntax tree of the Graft model language ----------*- C++ -*-===//
//
// The parser's output: a program of dimension declarations, modules,
// functions and models. Every node carries its source location (the buffer
// pointer for diagnostics with a caret, and line and column). LLVM Support
// only: no MLIR here.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_FRONTEND_AST_H
#define GRAFT_FRONTEND_AST_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>
#include <vector>

namespace graft::frontend {

struct Loc {
  llvm::SMLoc ptr;
  unsigned line = 0, col = 0;
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

/// A call argument: positional when `keyword` is empty; `**mapping`
/// (a dict's items as keyword arguments) when it is "**".
struct Arg {
  std::string keyword;
  Loc loc;
  ExprPtr value;
};

enum class ExprKind {
  Number, ///< `number`, `isInt`
  String, ///< `name` holds the contents
  Bool,   ///< `boolean`
  None,
  Name,        ///< `name`
  Unary,       ///< `op` applied to `lhs`
  Binary,      ///< `lhs op rhs`
  Call,        ///< `lhs(args)`
  Member,      ///< `lhs.name`
  Index,       ///< `lhs[args]`, each index an expression or a Slice
  Slice,       ///< `start:end:step` inside an index; parts may be null
  List,        ///< `[args]`
  ListComp,    ///< `[lhs for targets in rhs if cond]`
  Tuple,       ///< `(a, b)`
  Conditional, ///< `lhs if cond else rhs`
  /// `{k: v, ...}`: `args` holds each key, then its value; a dict
  /// comprehension `{k: v for targets in rhs if cond}` when `rhs` is set.
  Dict,
  Lambda, ///< `lambda targets: lhs`
};

struct Expr {
  ExprKind kind;
  Loc loc;
  std::string name;
  std::string op; ///< Operator spelling for Unary/Binary.
  double number = 0;
  bool isInt = false;
  bool boolean = false;
  ExprPtr lhs, rhs;
  ExprPtr start, end, step; ///< Slice parts.
  ExprPtr cond;             ///< Conditional, ListComp: the condition.
  /// ListComp: the loop variables (`for name, p in ...` unpacks).
  std::vector<std::string> targets;
  std::vector<Arg> args;
  /// The longest path to a leaf (1 for a leaf): the parser bounds it, so
  /// that the recursive stages after it cannot overflow the stack.
  unsigned height = 1;

  Expr(ExprKind kind, Loc loc) : kind(kind), loc(loc) {}
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Block = std::vector<StmtPtr>;

/// A tensor type `f32[B, 784]`.
struct TypeSpec {
  Loc loc;
  std::string dtype;
  std::vector<ExprPtr> dims;
};

struct FunctionDecl {
  Loc loc;
  std::string name;
  std::vector<Arg> params; ///< `keyword` is the name; `value` the default.
  std::vector<std::string> decorators;
  std::vector<Loc> decoratorLocs;
  Block body;
};

enum class StmtKind {
  Dim,       ///< `dim NAME = expr`
  Input,     ///< `input NAME: type [requires_grad]`
  Param,     ///< `param NAME: type = init(args)`
  Buffer,    ///< `buffer NAME: type = init(args)`
  Assign,    ///< `targets = value` (one or more targets)
  ExprStmt,  ///< a call evaluated for its effect
  Return,    ///< `return [value]`
  Output,    ///< `output NAME [= value]`
  Freeze,    ///< `freeze pattern, pattern...`
  NoGrad,    ///< `no_grad { body }`
  Inference, ///< `inference { body }`
  For,       ///< `for targets in value { body }`
  Def,       ///< a function (`func`)
  Train,     ///< `train { body }`
  If,        ///< `if c { } elif c { } else { }`: `branches`, `orelse`
  Assert,    ///< `assert value[, message]`
  Class,     ///< `@dataclass class Name { fields }`: `record`
  SetAttr,   ///< `object.name = value` (weight tying): `target`, `value`
  SetItem,   ///< `d[key] = value` on a dict: `target`, `value`
};

/// A field of a record: `name: type [= default]`.
struct RecordField {
  Loc loc;
  std::string name, type;
  ExprPtr value; ///< The default; null when the field has none.
};

/// `@dataclass class Name { field: type = default ... }`: a configuration
/// record, as nanoGPT's GPTConfig. `Name(field=value, ...)` makes one, with
/// the dataclass's __init__ (fields in order, then keywords); `.field`
/// reads it.
struct RecordDecl {
  Loc loc;
  std::string name;
  std::vector<RecordField> fields;
};

/// One `if` or `elif` of an If statement.
struct Branch {
  Loc loc;
  ExprPtr cond;
  Block body;
};

struct Stmt {
  StmtKind kind;
  Loc loc;
  std::string name;
  std::vector<std::string> targets; ///< Assign (a, b = ...), For variables
  std::vector<Loc> targetLocs;
  std::vector<std::string> patterns; ///< Freeze patterns.
  std::vector<Loc> patternLocs;
  bool requiresGrad = false;
  std::unique_ptr<TypeSpec> type;
  ExprPtr value;
  /// SetAttr, SetItem: what is assigned, a Member or Index expression.
  ExprPtr target;
  Block body;
  std::unique_ptr<FunctionDecl> func;
  std::vector<Branch> branches; ///< If: the `if` and each `elif`, in order.
  Block orelse;                 ///< If: the `else` body.
  ExprPtr message;              ///< Assert: the message, if any.
  std::unique_ptr<RecordDecl> record; ///< Class.

  Stmt(StmtKind kind, Loc loc) : kind(kind), loc(loc) {}
};

/// `module Name(params) { body }`: like an nn.Module subclass. The body's
/// statements run when the module is instantiated (its __init__); its `def`s
/// are methods, `forward` the one called by `instance(x)`.
struct ModuleDecl {
  Loc loc;
  std::string name;
  std::vector<Arg> params;
  Block body;
};

/// `model name { body }`: the compiled unit.
struct ModelDecl {
  Loc loc;
  std::string name;
  Block body;
};

struct Include {
  Loc loc;
  std::string path;
};

struct Program {
  std::vector<Include> includes;
  Block globals; ///< Top-level `dim` declarations and functions.
  std::vector<std::unique_ptr<ModuleDecl>> modules;
  std::vector<std::unique_ptr<ModelDecl>> models;
};

/// A compact S-expression dump, for tests.
void dump(const Program &program, llvm::raw_ostream &os);
void dump(const Expr &expr, llvm::raw_ostream &os);

} // namespace graft::frontend

#endif
