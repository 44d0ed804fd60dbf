//===- AST.h - Syntax tree of the Graft model language ----------*- C++ -*-===//
//
// The parser's output: a program of dimension declarations, modules,
// functions and models. Every node carries its source location (the buffer
// pointer for diagnostics with a caret, and line and column). LLVM Support
// only: no MLIR here.
//
// Expressions and statements are class hierarchies with LLVM-style RTTI, as
// MLIR's Toy tutorial builds its AST: a base class that knows its kind
// (Expr, Stmt) and one subclass per kind, or per family of kinds, holding
// only its own parts. Readers tell them apart with llvm::isa, cast and
// dyn_cast, or switch on getKind() and cast.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_FRONTEND_AST_H
#define GRAFT_FRONTEND_AST_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Casting.h"
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

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

class Expr;
using ExprPtr = std::unique_ptr<Expr>;

/// A call argument: positional when `keyword` is empty; `**mapping`
/// (a dict's items as keyword arguments) when it is "**". Lists, tuples,
/// indices and dicts hold their items as positional Args too.
struct Arg {
  std::string keyword;
  Loc loc;
  ExprPtr value;
};

/// The kinds of expression, one per class below.
enum class ExprKind {
  Number,
  String,
  Bool,
  None,
  Name,
  Unary,
  Binary,
  Call,
  Member,
  Index,
  Slice,
  List,
  ListComp,
  Tuple,
  Conditional,
  Dict,
  Lambda,
};

/// An expression: the parts every kind has. What else it holds is its
/// subclass's, which getKind() names.
class Expr {
  const ExprKind kind;

public:
  Expr(const Expr &) = delete;
  Expr &operator=(const Expr &) = delete;
  virtual ~Expr() = default;

  ExprKind getKind() const { return kind; }

  Loc loc;
  /// The longest path to a leaf (1 for a leaf): the parser bounds it, so
  /// that the recursive stages after it cannot overflow the stack.
  unsigned height = 1;

protected:
  Expr(ExprKind kind, Loc loc) : kind(kind), loc(loc) {}
};

/// The base of the class of one kind K: its constructor and classof.
template <ExprKind K> struct ExprWithKind : Expr {
  static bool classof(const Expr *e) { return e->getKind() == K; }

protected:
  explicit ExprWithKind(Loc loc) : Expr(K, loc) {}
};

/// `42`, `0.5`, `1e-3`.
struct NumberExpr : ExprWithKind<ExprKind::Number> {
  double number = 0;
  bool isInt = false;
  explicit NumberExpr(Loc loc) : ExprWithKind(loc) {}
};

/// `"text"` or `'text'`.
struct StringExpr : ExprWithKind<ExprKind::String> {
  std::string value; ///< The contents, escapes resolved.
  explicit StringExpr(Loc loc) : ExprWithKind(loc) {}
};

/// `True` or `False`.
struct BoolExpr : ExprWithKind<ExprKind::Bool> {
  bool value = false;
  explicit BoolExpr(Loc loc) : ExprWithKind(loc) {}
};

/// `None`.
struct NoneExpr : ExprWithKind<ExprKind::None> {
  explicit NoneExpr(Loc loc) : ExprWithKind(loc) {}
};

/// `name`.
struct NameExpr : ExprWithKind<ExprKind::Name> {
  std::string name;
  explicit NameExpr(Loc loc) : ExprWithKind(loc) {}
};

/// `op operand`: `-x`, `+x`, `not x`.
struct UnaryExpr : ExprWithKind<ExprKind::Unary> {
  std::string op; ///< The operator's spelling.
  ExprPtr operand;
  explicit UnaryExpr(Loc loc) : ExprWithKind(loc) {}
};

/// `lhs op rhs`: arithmetic, `@`, comparisons, `is [not]`, `and`, `or`.
struct BinaryExpr : ExprWithKind<ExprKind::Binary> {
  std::string op; ///< The operator's spelling.
  ExprPtr lhs, rhs;
  explicit BinaryExpr(Loc loc) : ExprWithKind(loc) {}
};

/// `callee(args)`.
struct CallExpr : ExprWithKind<ExprKind::Call> {
  ExprPtr callee;
  std::vector<Arg> args;
  explicit CallExpr(Loc loc) : ExprWithKind(loc) {}
};

/// `object.name` (`name` may be digits: `blocks.0`).
struct MemberExpr : ExprWithKind<ExprKind::Member> {
  ExprPtr object;
  std::string name;
  explicit MemberExpr(Loc loc) : ExprWithKind(loc) {}
};

/// `object[indices]`: each index an expression or a SliceExpr; one or more.
struct IndexExpr : ExprWithKind<ExprKind::Index> {
  ExprPtr object;
  std::vector<Arg> indices;
  explicit IndexExpr(Loc loc) : ExprWithKind(loc) {}
};

/// `start:end:step` inside an index; each part may be null.
struct SliceExpr : ExprWithKind<ExprKind::Slice> {
  ExprPtr start, end, step;
  explicit SliceExpr(Loc loc) : ExprWithKind(loc) {}
};

/// A list or a tuple: its elements, in order.
struct SequenceExpr : Expr {
  std::vector<Arg> elements;
  static bool classof(const Expr *e) {
    return e->getKind() == ExprKind::List || e->getKind() == ExprKind::Tuple;
  }

protected:
  SequenceExpr(ExprKind kind, Loc loc) : Expr(kind, loc) {}
};

/// `[a, b, ...]`, or `[]`.
struct ListExpr : SequenceExpr {
  explicit ListExpr(Loc loc) : SequenceExpr(ExprKind::List, loc) {}
  static bool classof(const Expr *e) { return e->getKind() == ExprKind::List; }
};

/// `(a, b, ...)`, or `a, b` after `return`.
struct TupleExpr : SequenceExpr {
  explicit TupleExpr(Loc loc) : SequenceExpr(ExprKind::Tuple, loc) {}
  static bool classof(const Expr *e) { return e->getKind() == ExprKind::Tuple; }
};

/// The `for targets in iterable [if cond]` of a comprehension.
struct Comprehension {
  /// The loop variables (`for name, p in ...` unpacks).
  std::vector<std::string> targets;
  ExprPtr iterable;
  ExprPtr cond; ///< Null without `if`.
};

/// `[element for targets in iterable if cond]`.
struct ListCompExpr : ExprWithKind<ExprKind::ListComp> {
  ExprPtr element;
  Comprehension loop;
  explicit ListCompExpr(Loc loc) : ExprWithKind(loc) {}
};

/// `then if cond else orelse`.
struct ConditionalExpr : ExprWithKind<ExprKind::Conditional> {
  ExprPtr cond, then, orelse;
  explicit ConditionalExpr(Loc loc) : ExprWithKind(loc) {}
};

/// `{k: v, ...}`: `items` holds each key, then its value. A dict
/// comprehension `{k: v for targets in iterable if cond}` when
/// `loop.iterable` is set.
struct DictExpr : ExprWithKind<ExprKind::Dict> {
  std::vector<Arg> items;
  Comprehension loop;
  explicit DictExpr(Loc loc) : ExprWithKind(loc) {}
};

/// `lambda params: body`.
struct LambdaExpr : ExprWithKind<ExprKind::Lambda> {
  std::vector<std::string> params;
  ExprPtr body;
  explicit LambdaExpr(Loc loc) : ExprWithKind(loc) {}
};

/// Calls `fn` on each subexpression of `e` that is present (its operands,
/// arguments, elements, slice parts, ...), not on `e` itself nor deeper.
void forEachChild(const Expr &e, llvm::function_ref<void(const Expr &)> fn);

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

class Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Block = std::vector<StmtPtr>;

/// The kinds of statement; a class below holds each (one class holds
/// `param` and `buffer`, one the blocks no_grad, inference and train).
enum class StmtKind {
  Dim,
  Input,
  Param,
  Buffer,
  Assign,
  ExprStmt,
  Return,
  Output,
  Freeze,
  NoGrad,
  Inference,
  For,
  Def,
  Train,
  If,
  Assert,
  Class,
  SetAttr,
  SetItem,
};

/// A statement: the parts every kind has. What else it holds is its
/// subclass's, which getKind() names.
class Stmt {
  const StmtKind kind;

public:
  Stmt(const Stmt &) = delete;
  Stmt &operator=(const Stmt &) = delete;
  virtual ~Stmt() = default;

  StmtKind getKind() const { return kind; }

  Loc loc;

protected:
  Stmt(StmtKind kind, Loc loc) : kind(kind), loc(loc) {}
};

/// The base of the class of one kind K: its constructor and classof.
template <StmtKind K> struct StmtWithKind : Stmt {
  static bool classof(const Stmt *s) { return s->getKind() == K; }

protected:
  explicit StmtWithKind(Loc loc) : Stmt(K, loc) {}
};

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

/// `dim name = value`.
struct DimStmt : StmtWithKind<StmtKind::Dim> {
  std::string name;
  ExprPtr value;
  explicit DimStmt(Loc loc) : StmtWithKind(loc) {}
};

/// `input name: type [requires_grad]`.
struct InputStmt : StmtWithKind<StmtKind::Input> {
  std::string name;
  std::unique_ptr<TypeSpec> type;
  bool requiresGrad = false;
  explicit InputStmt(Loc loc) : StmtWithKind(loc) {}
};

/// `param name: type = init` or `buffer name: type [= init]`, by kind.
struct ParamStmt : Stmt {
  std::string name;
  std::unique_ptr<TypeSpec> type;
  ExprPtr init; ///< `normal(std=0.02)`, `zeros`, ...; null when absent.
  ParamStmt(StmtKind kind, Loc loc) : Stmt(kind, loc) {}
  bool isBuffer() const { return getKind() == StmtKind::Buffer; }
  static bool classof(const Stmt *s) {
    return s->getKind() == StmtKind::Param || s->getKind() == StmtKind::Buffer;
  }
};

/// `a = value`, `a, b = value`; `self.a = value` in a module body is `a =
/// value`.
struct AssignStmt : StmtWithKind<StmtKind::Assign> {
  std::vector<std::string> targets;
  std::vector<Loc> targetLocs;
  ExprPtr value;
  explicit AssignStmt(Loc loc) : StmtWithKind(loc) {}
};

/// `expr`: an expression evaluated for its effect (a call).
struct ExprStmt : StmtWithKind<StmtKind::ExprStmt> {
  ExprPtr expr;
  explicit ExprStmt(Loc loc) : StmtWithKind(loc) {}
};

/// `return [value]`.
struct ReturnStmt : StmtWithKind<StmtKind::Return> {
  ExprPtr value; ///< Null for a bare `return`.
  explicit ReturnStmt(Loc loc) : StmtWithKind(loc) {}
};

/// `output name [= value]`.
struct OutputStmt : StmtWithKind<StmtKind::Output> {
  std::string name;
  ExprPtr value; ///< Null when the output is a name already bound.
  explicit OutputStmt(Loc loc) : StmtWithKind(loc) {}
};

/// `freeze pattern, pattern...`.
struct FreezeStmt : StmtWithKind<StmtKind::Freeze> {
  std::vector<std::string> patterns;
  std::vector<Loc> patternLocs;
  explicit FreezeStmt(Loc loc) : StmtWithKind(loc) {}
};

/// `no_grad { body }`, `inference { body }` or `train { body }`, by kind.
struct BlockStmt : Stmt {
  Block body;
  BlockStmt(StmtKind kind, Loc loc) : Stmt(kind, loc) {}
  static bool classof(const Stmt *s) {
    return s->getKind() == StmtKind::NoGrad ||
           s->getKind() == StmtKind::Inference ||
           s->getKind() == StmtKind::Train;
  }
};

/// `for targets in iterable { body }`.
struct ForStmt : StmtWithKind<StmtKind::For> {
  std::vector<std::string> targets;
  ExprPtr iterable;
  Block body;
  explicit ForStmt(Loc loc) : StmtWithKind(loc) {}
};

/// `[@decorator...] def name(params) { body }`.
struct DefStmt : StmtWithKind<StmtKind::Def> {
  std::unique_ptr<FunctionDecl> func;
  explicit DefStmt(Loc loc) : StmtWithKind(loc) {}
};

/// `if c { } elif c { } else { }`.
struct IfStmt : StmtWithKind<StmtKind::If> {
  std::vector<Branch> branches; ///< The `if` and each `elif`, in order.
  Block orelse;                 ///< The `else` body.
  explicit IfStmt(Loc loc) : StmtWithKind(loc) {}
};

/// `assert cond[, message]`.
struct AssertStmt : StmtWithKind<StmtKind::Assert> {
  ExprPtr cond;
  ExprPtr message; ///< Null without one.
  explicit AssertStmt(Loc loc) : StmtWithKind(loc) {}
};

/// `@dataclass class Name { fields }`.
struct ClassStmt : StmtWithKind<StmtKind::Class> {
  std::unique_ptr<RecordDecl> record;
  explicit ClassStmt(Loc loc) : StmtWithKind(loc) {}
};

/// `object.name = value`: weight tying.
struct SetAttrStmt : StmtWithKind<StmtKind::SetAttr> {
  std::unique_ptr<MemberExpr> target;
  ExprPtr value;
  explicit SetAttrStmt(Loc loc) : StmtWithKind(loc) {}
};

/// `d[key] = value` on a dict.
struct SetItemStmt : StmtWithKind<StmtKind::SetItem> {
  std::unique_ptr<IndexExpr> target;
  ExprPtr value;
  explicit SetItemStmt(Loc loc) : StmtWithKind(loc) {}
};

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

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
