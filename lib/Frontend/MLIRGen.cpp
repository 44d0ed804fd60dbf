//===- MLIRGen.cpp - From .graft files to the graft dialect ---------------===//
//
// A tree-walking evaluator: module parameters, dimensions and loop counters
// are compile-time numbers; tensors are SSA values of the model being built.
// Calling a module instance or a function inlines its body, so the IR is one
// flat graft.model with grad-mode regions, as PyTorch's eager trace would be.
//
//===----------------------------------------------------------------------===//

#include "graft/Frontend/MLIRGen.h"
#include "graft/Support/Files.h"
#include "graft/Autograd/RequiresGrad.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "graft/Dialect/Graft/IR/ShapeFunctions.h"
#include "graft/Dialect/Graft/IR/UnaryOps.h"
#include "graft/Frontend/Parser.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/GlobPattern.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <array>
#include <cmath>

using namespace graft;
using namespace graft::frontend;
using llvm::SMLoc;
using llvm::StringRef;
using llvm::Twine;
using mlir::FailureOr;
using mlir::LogicalResult;
using mlir::NamedAttribute;
using mlir::RankedTensorType;
using mlir::Type;
using mlir::Value;
using mlir::failure;
using mlir::success;
namespace sh = graft::shape;

namespace {

//===----------------------------------------------------------------------===//
// Compile-time values
//===----------------------------------------------------------------------===//

struct Instance;
struct Scope;

/// What a name denotes while the model is being built.
struct Val {
  enum class K {
    None, Num, Bool, Str, Tensor, Inst, List, Func, ModType, Poison
  } k = K::None;
  double num = 0;
  bool isInt = false;
  bool b = false;
  std::string str;
  Value t;
  std::shared_ptr<Instance> inst;
  std::shared_ptr<std::vector<Val>> list;
  const FunctionDecl *fn = nullptr;
  Scope *fnScope = nullptr;    ///< Where a function's free names resolve.
  const ModuleDecl *mod = nullptr; ///< ModType: a user module...
  std::string builtinModule;       ///< ...or a built-in one (Linear, ...).

  static Val number(double v, bool isInt) {
    Val r;
    r.k = K::Num;
    r.num = v;
    r.isInt = isInt;
    return r;
  }
  static Val boolean(bool v) {
    Val r;
    r.k = K::Bool;
    r.b = v;
    return r;
  }
  static Val string(StringRef s) {
    Val r;
    r.k = K::Str;
    r.str = s.str();
    return r;
  }
  static Val tensor(Value v) {
    Val r;
    r.k = K::Tensor;
    r.t = v;
    return r;
  }
  static Val poison() {
    Val r;
    r.k = K::Poison;
    return r;
  }
  static Val listOf(std::vector<Val> items) {
    Val r;
    r.k = K::List;
    r.list = std::make_shared<std::vector<Val>>(std::move(items));
    return r;
  }
};

std::string fmt(double v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << v;
  return s;
}

StringRef kindName(const Val &v) {
  switch (v.k) {
  case Val::K::None: return "None";
  case Val::K::Num: return v.isInt ? "an integer" : "a number";
  case Val::K::Bool: return "a bool";
  case Val::K::Str: return "a string";
  case Val::K::Tensor: return "a tensor";
  case Val::K::Inst: return "a module instance";
  case Val::K::List: return "a list";
  case Val::K::Func: return "a function";
  case Val::K::ModType: return "a module type";
  case Val::K::Poison: return "an erroneous value";
  }
  return "a value";
}

struct Scope {
  llvm::StringMap<Val> vars;
  Scope *parent = nullptr;

  Val *lookup(StringRef name) {
    for (Scope *s = this; s; s = s->parent) {
      auto it = s->vars.find(name);
      if (it != s->vars.end())
        return &it->second;
    }
    return nullptr;
  }
};

/// A module instance: its state_dict prefix and its attributes (parameters,
/// submodules, configuration numbers).
struct Instance {
  std::string prefix; ///< "blocks.0.attn." ("" for the model itself)
  std::string typeName;
  const ModuleDecl *decl = nullptr; ///< Null for built-in modules.
  Scope scope;
  std::vector<std::shared_ptr<Instance>> children; ///< Sequential
};

/// One evaluated call argument.
struct CallArg {
  std::string keyword;
  Loc loc;
  Val value;
};

/// Arguments bound to a signature by name.
struct Bound {
  llvm::StringMap<Val> values;
  llvm::StringMap<Loc> locs;
  Loc callLoc;
  bool has(StringRef n) const {
    auto it = values.find(n);
    return it != values.end() && it->second.k != Val::K::None;
  }
  const Val &get(StringRef n) const { return values.find(n)->second; }
  Loc locOf(StringRef n) const {
    auto it = locs.find(n);
    return it == locs.end() ? callLoc : it->second;
  }
};

enum class GradMode { Grad, NoGrad, Inference };

using graft::shape::kMaxDim;

/// Names assigned inside a no_grad / inference block, yielded at its end.
struct RegionFrame {
  Scope *scope;
  std::vector<std::string> assigned; ///< In order of first assignment.
  llvm::StringSet<> seen;
};

/// `return` inside a function body.
struct ReturnSignal {
  bool returned = false;
  Val value;
};

//===----------------------------------------------------------------------===//
// The generator
//===----------------------------------------------------------------------===//

class Gen {
public:
  Gen(mlir::MLIRContext &ctx, Diagnostics &diags, const GenOptions &options)
      : ctx(ctx), builder(&ctx), diags(diags), options(options) {}

  mlir::OwningOpRef<mlir::ModuleOp>
  run(llvm::ArrayRef<std::unique_ptr<Program>> programs);

private:
  // Diagnostics and locations.
  void error(Loc l, const Twine &msg) { diags.error(l.ptr, msg); }
  void note(Loc l, const Twine &msg) { diags.note(l.ptr, msg); }
  void hint(const Twine &msg) { diags.note(SMLoc(), msg); }
  mlir::Location L(Loc l);

  // Declarations.
  void declareGlobals(const Program &p);
  void genModel(const ModelDecl &m);
  LogicalResult genBlock(const Block &block, ReturnSignal *ret);
  LogicalResult genStmt(const Stmt &s, ReturnSignal *ret);
  LogicalResult genInput(const Stmt &s);
  LogicalResult genParamOrBuffer(const Stmt &s);
  LogicalResult genAssign(const Stmt &s);
  LogicalResult genFreeze(const Stmt &s);
  LogicalResult genOutput(const Stmt &s);
  LogicalResult genGradMode(const Stmt &s);
  LogicalResult genFor(const Stmt &s, ReturnSignal *ret);
  LogicalResult genTrain(const Stmt &s);
  void bind(StringRef name, Val v);
  FailureOr<RankedTensorType> evalType(const TypeSpec &t);
  FailureOr<InitAttr> evalInit(const Expr *e, StringRef what);
  void insertDecl(mlir::Operation *op);
  bool canDeclare(Loc l, StringRef what);

  // Modules.
  FailureOr<Val> instantiate(const Expr &e, const std::string &prefix);
  FailureOr<Val> instantiateBuiltin(StringRef type, std::vector<CallArg> &args,
                                    Loc loc, const std::string &prefix);
  FailureOr<Val> callInstance(Instance &inst, std::vector<CallArg> &args,
                              Loc loc);
  FailureOr<Val> callFunction(const FunctionDecl &fn, Scope *parent,
                              std::vector<CallArg> &args, Loc loc,
                              Instance *self);
  Value declParam(Loc loc, StringRef name, RankedTensorType type, InitAttr init);
  Value declBuffer(Loc loc, StringRef name, RankedTensorType type,
                   InitAttr init);
  void checkUniqueName(Loc loc, StringRef name);

  // Expressions.
  FailureOr<Val> eval(const Expr &e);
  FailureOr<Val> evalCall(const Expr &e);
  FailureOr<std::vector<CallArg>> evalArgs(const std::vector<Arg> &args);
  FailureOr<Val> evalBinary(const Expr &e);
  FailureOr<Val> evalIndex(const Expr &e);
  FailureOr<Val> evalMember(const Expr &e);
  FailureOr<Val> callBuiltin(StringRef name, std::vector<CallArg> &args,
                             Loc loc);
  FailureOr<Val> callMethod(Val self, Loc selfLoc, StringRef name,
                            std::vector<CallArg> &args, Loc loc,
                            const Expr *selfExpr);
  FailureOr<Bound> bindArgs(StringRef fn, llvm::ArrayRef<StringRef> names,
                            size_t required, std::vector<CallArg> &args,
                            Loc loc);
  void unknownName(Loc l, StringRef name);

  // Conversions.
  FailureOr<Value> asTensor(const Val &v, Loc l, StringRef what);
  /// The tensors bound to `input`, `weight` and, when given, `bias`
  /// (linear's and conv2d's operands).
  FailureOr<llvm::SmallVector<Value>> inputWeightBias(const Bound &b);
  FailureOr<Value> asFloatTensor(const Val &v, Loc l, StringRef fn);
  FailureOr<int64_t> asInt(const Val &v, Loc l, StringRef what);
  FailureOr<double> asNumber(const Val &v, Loc l, StringRef what);
  FailureOr<bool> asBool(const Val &v, Loc l, StringRef what);
  FailureOr<std::string> asString(const Val &v, Loc l, StringRef what);
  FailureOr<llvm::SmallVector<int64_t>> asIntList(const Val &v, Loc l,
                                                  StringRef what);
  FailureOr<int64_t> normDim(int64_t dim, int64_t rank, Loc l);
  Value scalar(double v, Type elt, Loc l);
  /// The element type a dtype name stands for ("f32", "float32", "long",
  /// ...), or null.
  Type elementTypeNamed(StringRef name);
  /// arange, zeros, ones, full (and their _like forms), tril and triu:
  /// tensors made at compile time; nullopt for another name.
  std::optional<FailureOr<Val>>
  createTensor(StringRef name, std::vector<CallArg> &args, Loc loc);
  FailureOr<std::pair<Value, Value>> promotePair(const Val &a, Loc la,
                                                 const Val &b, Loc lb,
                                                 StringRef op);

  // Ops.
  template <typename OpTy>
  FailureOr<Value> make(Loc l, StringRef pyName, mlir::ValueRange operands,
                        llvm::ArrayRef<NamedAttribute> attrs = {},
                        Type resultType = {});
  template <typename OpTy>
  FailureOr<Val> unary(Bound &a, Loc l, StringRef pyName);
  /// The unary rows of GraftOps.td, by the names the language knows them
  /// by: functions and methods (`relu`), in-place methods (`relu_`) and
  /// torch.nn modules (`ReLU`, by the function it applies).
  struct UnaryBindings {
    llvm::StringMap<FailureOr<Val> (*)(Gen &, Bound &, Loc, StringRef)>
        functions;
    llvm::StringMap<Value (*)(mlir::OpBuilder &, mlir::Location, Value)>
        inPlace;
    llvm::StringMap<std::string> modules;
  };
  static const UnaryBindings &unaryBindings();
  /// Rebinds every name in scope that denotes the tensor `from` to `to`:
  /// after an in-place op, all names of the tensor see the new version.
  void rebindTensor(Value from, Value to);
  FailureOr<Val> inPlace(StringRef name, Val self, const Expr *selfExpr,
                         Loc selfLoc, std::vector<CallArg> &args, Loc loc);
  FailureOr<Val> reshape(Value x, llvm::ArrayRef<int64_t> shape, Loc l,
                         StringRef pyName);
  NamedAttribute attr(StringRef name, mlir::Attribute a) {
    return builder.getNamedAttr(name, a);
  }
  RankedTensorType typeOf(Value v) {
    return mlir::cast<RankedTensorType>(v.getType());
  }
  std::string typeStr(Value v);

  mlir::MLIRContext &ctx;
  mlir::OpBuilder builder;
  Diagnostics &diags;
  const GenOptions &options;

  Scope globals;
  llvm::StringMap<const ModuleDecl *> modules;
  llvm::StringSet<> usedDimOverrides;

  // The model being generated.
  ModelOp model;
  mlir::Operation *lastDecl = nullptr;
  Scope *scope = nullptr;
  std::string prefix;        ///< state_dict prefix of declarations
  bool declaring = false;    ///< in a model body or a module's __init__
  GradMode mode = GradMode::Grad;
  std::vector<RegionFrame> regions;
  unsigned callDepth = 0;
  /// Work done so far: functions are inlined and loops unrolled at compile
  /// time, so a few lines can ask for astronomically much (a chain of
  /// functions that each call the previous twice). Past the budget, one
  /// located error, and everything after fails quietly.
  uint64_t evaluations = 0, opsBuilt = 0;
  bool overBudget = false;
  bool spend(uint64_t &counter, uint64_t limit, Loc l, const char *what,
             const char *flag);
  std::vector<std::pair<Loc, std::string>> frozenPatterns;
  Value loss;
  Loc lossLoc;
  /// Inputs, parameters and buffers of the model, by name.
  llvm::StringMap<Loc> declared;
  /// The random stream of the next graft.dropout of the model: every
  /// dropout the front-end emits (each call, each application of a Dropout
  /// instance, each unrolled iteration, each inlined function call) draws
  /// its own mask, as PyTorch draws fresh randomness per call. Numbered in
  /// program order from 0, so the numbering, and with it the masks of a
  /// step, depend only on the source (a resumed run reproduces them).
  int64_t nextRandomStream = 0;
};

mlir::Location Gen::L(Loc l) {
  llvm::SourceMgr &sm = diags.getSourceMgr();
  if (!l.ptr.isValid())
    return builder.getUnknownLoc();
  unsigned id = sm.FindBufferContainingLoc(l.ptr);
  if (!id)
    return builder.getUnknownLoc();
  auto [line, col] = sm.getLineAndColumn(l.ptr, id);
  return mlir::FileLineColLoc::get(
      &ctx, sm.getMemoryBuffer(id)->getBufferIdentifier(), line, col);
}

std::string Gen::typeStr(Value v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << typeOf(v).getElementType() << sh::str(typeOf(v).getShape());
  return s;
}

//===----------------------------------------------------------------------===//
// Op construction
//===----------------------------------------------------------------------===//

/// Builds `OpTy`. Result types come from the op's own inference where it has
/// one; its error (shapes, dtypes) is reported at `l` under the PyTorch name
/// instead of aborting the builder.
template <typename OpTy>
FailureOr<Value> Gen::make(Loc l, StringRef pyName, mlir::ValueRange operands,
                           llvm::ArrayRef<NamedAttribute> attrs,
                           Type resultType) {
  if (!spend(opsBuilt, options.maxOps, l, "operations", "--max-ops"))
    return failure();
  mlir::Location loc = L(l);
  llvm::SmallVector<Type> types;
  if constexpr (OpTy::template hasTrait<mlir::InferTypeOpInterface::Trait>()) {
    std::string message;
    bool ok;
    {
      mlir::ScopedDiagnosticHandler capture(&ctx, [&](mlir::Diagnostic &d) {
        if (message.empty())
          message = d.str();
        return success();
      });
      auto dict = mlir::DictionaryAttr::get(&ctx, attrs);
      typename OpTy::Properties props;
      mlir::OperationName(OpTy::getOperationName(), &ctx)
          .populateDefaultProperties(mlir::OpaqueProperties(&props));
      ok = succeeded(OpTy::setPropertiesFromAttr(
               props, dict, [&] { return mlir::emitError(loc); })) &&
           succeeded(OpTy::inferReturnTypes(&ctx, loc, operands, dict,
                                            mlir::OpaqueProperties(&props),
                                            {}, types));
    }
    if (!ok) {
      // "'graft.matmul' op matmul shapes ..." -> "matmul: matmul shapes ...".
      StringRef msg(message);
      std::string opPrefix = ("'" + OpTy::getOperationName() + "' op ").str();
      msg.consume_front(opPrefix);
      error(l, pyName + ": " + msg);
      return failure();
    }
  } else {
    types.push_back(resultType);
  }
  auto op = OpTy::create(builder, loc, types, operands, attrs);
  return op->getResult(0);
}

//===----------------------------------------------------------------------===//
// Conversions
//===----------------------------------------------------------------------===//

FailureOr<Value> Gen::asTensor(const Val &v, Loc l, StringRef what) {
  if (v.k == Val::K::Tensor)
    return v.t;
  if (v.k != Val::K::Poison)
    error(l, "expected a tensor for " + what + ", got " + kindName(v));
  return failure();
}

FailureOr<llvm::SmallVector<Value>> Gen::inputWeightBias(const Bound &b) {
  auto x = asTensor(b.get("input"), b.locOf("input"), "input");
  auto w = asTensor(b.get("weight"), b.locOf("weight"), "weight");
  if (failed(x) || failed(w))
    return failure();
  llvm::SmallVector<Value> ops = {*x, *w};
  if (b.has("bias")) {
    auto bias = asTensor(b.get("bias"), b.locOf("bias"), "bias");
    if (failed(bias))
      return failure();
    ops.push_back(*bias);
  }
  return ops;
}

FailureOr<Value> Gen::asFloatTensor(const Val &v, Loc l, StringRef fn) {
  auto t = asTensor(v, l, ("the input of " + fn).str());
  if (failed(t))
    return failure();
  if (!mlir::isa<mlir::FloatType>(typeOf(*t).getElementType())) {
    error(l, fn + " expects a floating-point tensor, got " + typeStr(*t));
    hint("convert it first, e.g. x.float()");
    return failure();
  }
  return t;
}

FailureOr<double> Gen::asNumber(const Val &v, Loc l, StringRef what) {
  if (v.k == Val::K::Num)
    return v.num;
  if (v.k == Val::K::Bool)
    return v.b ? 1.0 : 0.0;
  if (v.k != Val::K::Poison)
    error(l, "expected a number for " + what + ", got " + kindName(v));
  return failure();
}

FailureOr<int64_t> Gen::asInt(const Val &v, Loc l, StringRef what) {
  // Integers are held as doubles: one outside int64's range (2^63) is an
  // error, not a conversion with undefined behaviour.
  if (v.k == Val::K::Num && v.isInt &&
      !(v.num >= -0x1p63 && v.num < 0x1p63)) {
    error(l, "integer for " + what +
                 " is out of range: its magnitude is 2^63 or more");
    return failure();
  }
  if (v.k == Val::K::Num && v.isInt)
    return static_cast<int64_t>(v.num);
  if (v.k == Val::K::Num && v.num == std::floor(v.num) &&
      std::fabs(v.num) < 9e15)
    return static_cast<int64_t>(v.num);
  if (v.k != Val::K::Poison)
    error(l, "expected an integer for " + what + ", got " + kindName(v));
  return failure();
}

FailureOr<bool> Gen::asBool(const Val &v, Loc l, StringRef what) {
  if (v.k == Val::K::Bool)
    return v.b;
  if (v.k != Val::K::Poison)
    error(l, "expected True or False for " + what + ", got " + kindName(v));
  return failure();
}

FailureOr<std::string> Gen::asString(const Val &v, Loc l, StringRef what) {
  if (v.k == Val::K::Str)
    return v.str;
  if (v.k != Val::K::Poison)
    error(l, "expected a string for " + what + ", got " + kindName(v));
  return failure();
}

FailureOr<llvm::SmallVector<int64_t>> Gen::asIntList(const Val &v, Loc l,
                                                     StringRef what) {
  llvm::SmallVector<int64_t> out;
  if (v.k == Val::K::Num) {
    auto i = asInt(v, l, what);
    if (failed(i))
      return failure();
    out.push_back(*i);
    return out;
  }
  if (v.k != Val::K::List) {
    if (v.k != Val::K::Poison)
      error(l, "expected an integer or a list of integers for " + what +
                   ", got " + kindName(v));
    return failure();
  }
  for (const Val &item : *v.list) {
    auto i = asInt(item, l, what);
    if (failed(i))
      return failure();
    out.push_back(*i);
  }
  return out;
}

/// PyTorch's dim wrapping: -1 is the last dimension.
FailureOr<int64_t> Gen::normDim(int64_t dim, int64_t rank, Loc l) {
  int64_t r = std::max<int64_t>(rank, 1);
  if (dim < -r || dim >= r) {
    error(l, "Dimension out of range (expected to be in range of [" +
                 Twine(-r) + ", " + Twine(r - 1) + "], but got " + Twine(dim) +
                 ")");
    return failure();
  }
  return dim < 0 ? dim + r : dim;
}

Value Gen::scalar(double v, Type elt, Loc l) {
  auto type = RankedTensorType::get({}, elt);
  mlir::DenseElementsAttr value;
  if (auto f = mlir::dyn_cast<mlir::FloatType>(elt)) {
    llvm::APFloat a(v);
    bool lost;
    a.convert(f.getFloatSemantics(), llvm::APFloat::rmNearestTiesToEven,
              &lost);
    value = mlir::DenseElementsAttr::get(type, a);
  } else if (elt.isInteger(1)) {
    value = mlir::DenseElementsAttr::get(type, v != 0);
  } else {
    value = mlir::DenseElementsAttr::get(
        type, llvm::APInt(elt.getIntOrFloatBitWidth(),
                          static_cast<int64_t>(v), /*isSigned=*/true));
  }
  return ConstantOp::create(builder, L(l), value);
}

std::optional<FailureOr<Val>>
Gen::createTensor(StringRef name, std::vector<CallArg> &args, Loc loc) {
  static const llvm::StringSet<> names = {
      "arange",    "zeros",     "ones", "full", "zeros_like",
      "ones_like", "full_like", "tril", "triu"};
  if (!names.contains(name))
    return std::nullopt;
  // Constants are written into the IR: at most 2^24 elements.
  constexpr int64_t maxElements = int64_t(1) << 24;
  auto dtypeOf = [&](CallArg &a, Type &elt) -> LogicalResult {
    auto s = asString(a.value, a.loc, "dtype");
    if (failed(s))
      return failure();
    elt = elementTypeNamed(*s);
    if (!elt) {
      error(a.loc, "unknown dtype '" + *s +
                       "'; expected f32, f64, bf16, i64, i32 or bool");
      return failure();
    }
    return success();
  };
  // A constant of `type` with `v` everywhere: a splat, one value in the IR
  // whatever the size.
  auto splat = [&](RankedTensorType type, double v) -> Val {
    Type elt = type.getElementType();
    mlir::Attribute element;
    if (auto f = mlir::dyn_cast<mlir::FloatType>(elt))
      element = builder.getFloatAttr(f, v);
    else if (elt.isInteger(1))
      element = builder.getBoolAttr(v != 0);
    else
      element = builder.getIntegerAttr(elt, static_cast<int64_t>(v));
    return Val::tensor(ConstantOp::create(
        builder, L(loc), mlir::DenseElementsAttr::get(type, element)));
  };
  // A constant of `type` whose element i is value(i).
  auto constant =
      [&](RankedTensorType type,
          llvm::function_ref<double(int64_t)> value) -> FailureOr<Val> {
    Type elt = type.getElementType();
    int64_t n = type.getNumElements();
    if (n > maxElements) {
      error(loc, name + "() would make a constant of " + Twine(n) +
                     " elements (at most 2^24 are written into the model)");
      return failure();
    }
    mlir::DenseElementsAttr attr;
    if (auto f = mlir::dyn_cast<mlir::FloatType>(elt)) {
      std::vector<llvm::APFloat> values;
      for (int64_t i = 0; i < n; ++i) {
        llvm::APFloat a(value(i));
        bool lost;
        a.convert(f.getFloatSemantics(), llvm::APFloat::rmNearestTiesToEven,
                  &lost);
        values.push_back(a);
      }
      attr = mlir::DenseElementsAttr::get(type, values);
    } else {
      std::vector<llvm::APInt> values;
      for (int64_t i = 0; i < n; ++i)
        values.push_back(llvm::APInt(
            elt.getIntOrFloatBitWidth(), static_cast<int64_t>(value(i)),
            /*isSigned=*/true, /*implicitTrunc=*/true));
      attr = mlir::DenseElementsAttr::get(type, values);
    }
    return Val::tensor(ConstantOp::create(builder, L(loc), attr));
  };

  // The positional arguments and the keywords, split.
  std::vector<CallArg *> positional;
  llvm::StringMap<CallArg *> keywords;
  for (CallArg &a : args) {
    if (a.keyword.empty()) {
      if (!keywords.empty()) {
        error(a.loc, "positional argument follows keyword argument");
        return FailureOr<Val>(failure());
      }
      positional.push_back(&a);
    } else {
      keywords[a.keyword] = &a;
    }
  }
  auto unexpected = [&](llvm::ArrayRef<StringRef> allowed) -> LogicalResult {
    for (auto &kv : keywords)
      if (!llvm::is_contained(allowed, kv.getKey())) {
        error(kv.getValue()->loc, name +
                                      "() got an unexpected keyword "
                                      "argument '" +
                                      kv.getKey() + "'");
        return failure();
      }
    return success();
  };

  if (name == "tril" || name == "triu") {
    // PyTorch: elements on and below (tril) or above (triu) the diagonal
    // `diagonal` of the last two dimensions are kept, the others zeroed.
    if (failed(unexpected({"input", "diagonal"})))
      return FailureOr<Val>(failure());
    auto b = bindArgs(name, {"input", "diagonal"}, 1, args, loc);
    if (failed(b))
      return FailureOr<Val>(failure());
    auto x = asTensor(b->get("input"), b->locOf("input"), name);
    if (failed(x))
      return FailureOr<Val>(failure());
    int64_t diagonal = 0;
    if (b->has("diagonal")) {
      auto d = asInt(b->get("diagonal"), b->locOf("diagonal"), "diagonal");
      if (failed(d))
        return FailureOr<Val>(failure());
      diagonal = *d;
    }
    RankedTensorType xt = typeOf(*x);
    if (xt.getRank() < 2) {
      error(b->locOf("input"), name + ": input tensor must have at least 2 "
                                      "dimensions");
      return FailureOr<Val>(failure());
    }
    int64_t rows = xt.getDimSize(xt.getRank() - 2),
            cols = xt.getDimSize(xt.getRank() - 1);
    bool lower = name == "tril";
    auto mask =
        constant(RankedTensorType::get({rows, cols}, builder.getI1Type()),
                 [&](int64_t i) -> double {
                   int64_t r = i / cols, c = i % cols;
                   return lower ? c - r <= diagonal : c - r >= diagonal;
                 });
    if (failed(mask))
      return FailureOr<Val>(failure());
    Value zero = scalar(0, xt.getElementType(), loc);
    auto kept = make<WhereOp>(loc, name, {mask->t, *x, zero});
    if (failed(kept))
      return FailureOr<Val>(failure());
    return FailureOr<Val>(Val::tensor(*kept));
  }

  bool like = name.ends_with("_like");
  StringRef base = like ? name.drop_back(5) : name;
  Type elt;
  if (auto it = keywords.find("dtype"); it != keywords.end())
    if (failed(dtypeOf(*it->getValue(), elt)))
      return FailureOr<Val>(failure());

  if (name == "arange") {
    // arange(end), arange(start, end), arange(start, end, step): integers
    // give i64 values, any float f32 (PyTorch's inference).
    if (failed(unexpected({"start", "end", "step", "dtype"})))
      return FailureOr<Val>(failure());
    std::vector<Val> bounds;
    for (CallArg *a : positional)
      bounds.push_back(a->value);
    for (StringRef k : {"start", "end", "step"})
      if (auto it = keywords.find(k); it != keywords.end())
        bounds.push_back(it->getValue()->value);
    if (bounds.empty() || bounds.size() > 3) {
      error(loc, "arange() takes 1 to 3 numbers (end; start, end; start, "
                 "end, step)");
      return FailureOr<Val>(failure());
    }
    double nums[3] = {0, 0, 1};
    bool allInt = true;
    for (auto [i, v] : llvm::enumerate(bounds)) {
      auto d = asNumber(v, loc, "arange()");
      if (failed(d))
        return FailureOr<Val>(failure());
      nums[bounds.size() == 1 ? 1 : i] = *d;
      allInt &= v.isInt;
    }
    double start = nums[0], end = nums[1], step = nums[2];
    if (step == 0) {
      error(loc, "arange(): step must be nonzero");
      return FailureOr<Val>(failure());
    }
    if ((step > 0 && end < start) || (step < 0 && end > start)) {
      error(loc, "arange(): upper bound and larger bound inconsistent with "
                 "step sign");
      return FailureOr<Val>(failure());
    }
    int64_t n = static_cast<int64_t>(std::ceil((end - start) / step));
    if (n < 1) {
      error(loc, "arange() of no elements: Graft's tensors have at least one");
      return FailureOr<Val>(failure());
    }
    if (!elt)
      elt = allInt ? Type(builder.getI64Type()) : Type(builder.getF32Type());
    return constant(RankedTensorType::get({n}, elt), [&](int64_t i) {
      return start + static_cast<double>(i) * step;
    });
  }

  // zeros, ones, full and the _like forms.
  llvm::SmallVector<int64_t> shape;
  double fill = base == "ones" ? 1.0 : 0.0;
  size_t fillArg = base == "full" ? 1 : 0; // positional args after the size
  if (like) {
    // zeros_like(input), ones_like(input), full_like(input, fill_value);
    // dtype is keyword-only, as in torch.
    if (positional.size() > 1 + fillArg) {
      error(positional[1 + fillArg]->loc,
            name + "() takes dtype as a keyword: dtype=\"f64\"");
      return FailureOr<Val>(failure());
    }
    auto b = bindArgs(
        name,
        fillArg ? llvm::ArrayRef<StringRef>{"input", "fill_value", "dtype"}
                : llvm::ArrayRef<StringRef>{"input", "dtype"},
        1 + fillArg, args, loc);
    if (failed(b))
      return FailureOr<Val>(failure());
    auto x = asTensor(b->get("input"), b->locOf("input"), name);
    if (failed(x))
      return FailureOr<Val>(failure());
    RankedTensorType xt = typeOf(*x);
    llvm::append_range(shape, xt.getShape());
    if (!elt)
      elt = xt.getElementType();
    if (fillArg) {
      auto f =
          asNumber(b->get("fill_value"), b->locOf("fill_value"), "fill_value");
      if (failed(f))
        return FailureOr<Val>(failure());
      fill = *f;
    }
  } else {
    if (failed(unexpected({"size", "fill_value", "dtype"})))
      return FailureOr<Val>(failure());
    // The size: numbers, or one list or tuple of them (full takes the
    // size as its first argument, as torch.full does).
    std::vector<const CallArg *> sizeArgs;
    for (size_t i = 0; i < (fillArg ? std::min<size_t>(1, positional.size())
                                    : positional.size());
         ++i)
      sizeArgs.push_back(positional[i]);
    if (auto it = keywords.find("size"); it != keywords.end())
      sizeArgs.push_back(it->getValue());
    if (fillArg && positional.size() > 2) {
      error(positional[2]->loc, "full() takes the size as one list or "
                                "tuple, then fill_value: full((2, 3), 0.5)");
      return FailureOr<Val>(failure());
    }
    std::vector<std::pair<Val, Loc>> dims;
    if (sizeArgs.size() == 1 && sizeArgs[0]->value.k == Val::K::List)
      for (const Val &v : *sizeArgs[0]->value.list)
        dims.push_back({v, sizeArgs[0]->loc});
    else
      for (const CallArg *a : sizeArgs)
        dims.push_back({a->value, a->loc});
    if (dims.empty()) {
      error(loc, name + "() needs a size, e.g. " + name +
                     (fillArg ? "((3, 4), 0.5)" : "(3, 4)"));
      return FailureOr<Val>(failure());
    }
    for (auto &[v, l] : dims) {
      auto d = asInt(v, l, "a dimension");
      if (failed(d))
        return FailureOr<Val>(failure());
      if (*d < 1) {
        error(l, name + "(): dimension " + Twine(*d) +
                     " (Graft's tensors have dimensions of at least 1)");
        return FailureOr<Val>(failure());
      }
      shape.push_back(*d);
    }
    if (fillArg) {
      const CallArg *v = positional.size() == 2 ? positional[1]
                                                : keywords.lookup("fill_value");
      if (!v) {
        error(loc, "full() missing required argument 'fill_value'");
        return FailureOr<Val>(failure());
      }
      auto f = asNumber(v->value, v->loc, "fill_value");
      if (failed(f))
        return FailureOr<Val>(failure());
      fill = *f;
      // PyTorch infers full()'s dtype from the fill value.
      if (!elt && v->value.k == Val::K::Num && v->value.isInt)
        elt = builder.getI64Type();
      if (!elt && v->value.k == Val::K::Bool)
        elt = builder.getI1Type();
    }
    if (!elt)
      elt = builder.getF32Type();
  }
  return splat(RankedTensorType::get(shape, elt), fill);
}

/// Two operands of a binary operator: tensors, or a tensor and a Python
/// number that becomes a 0-d constant of the tensor's dtype.
FailureOr<std::pair<Value, Value>> Gen::promotePair(const Val &a, Loc la,
                                                    const Val &b, Loc lb,
                                                    StringRef op) {
  if (a.k == Val::K::Poison || b.k == Val::K::Poison)
    return failure();
  auto isNum = [](const Val &v) {
    return v.k == Val::K::Num || v.k == Val::K::Bool;
  };
  if (a.k == Val::K::Tensor && b.k == Val::K::Tensor)
    return std::make_pair(a.t, b.t);
  if (a.k == Val::K::Tensor && isNum(b))
    return std::make_pair(
        a.t, scalar(*asNumber(b, lb, op), typeOf(a.t).getElementType(), lb));
  if (isNum(a) && b.k == Val::K::Tensor)
    return std::make_pair(
        scalar(*asNumber(a, la, op), typeOf(b.t).getElementType(), la), b.t);
  error(a.k == Val::K::Tensor ? lb : la,
        "unsupported operand types for " + op + ": " + kindName(a) + " and " +
            kindName(b));
  return failure();
}

//===----------------------------------------------------------------------===//
// Arguments
//===----------------------------------------------------------------------===//

FailureOr<std::vector<CallArg>> Gen::evalArgs(const std::vector<Arg> &args) {
  std::vector<CallArg> out;
  for (const Arg &a : args) {
    auto v = eval(*a.value);
    if (failed(v))
      return failure();
    out.push_back({a.keyword, a.loc, std::move(*v)});
  }
  return out;
}

/// Binds positional and keyword arguments to `names`, the first `required`
/// of which must be given; reports PyTorch-style arity errors.
FailureOr<Bound> Gen::bindArgs(StringRef fn, llvm::ArrayRef<StringRef> names,
                               size_t required, std::vector<CallArg> &args,
                               Loc loc) {
  Bound b;
  b.callLoc = loc;
  size_t positional = 0;
  for (CallArg &a : args) {
    if (a.value.k == Val::K::Poison)
      return failure();
    if (a.keyword.empty()) {
      if (positional >= names.size()) {
        error(a.loc, fn + "() takes " + Twine(names.size()) +
                         " positional argument" +
                         (names.size() == 1 ? "" : "s") + " but " +
                         Twine(llvm::count_if(args,
                                              [](const CallArg &c) {
                                                return c.keyword.empty();
                                              })) +
                         " were given");
        return failure();
      }
      b.values[names[positional]] = a.value;
      b.locs[names[positional]] = a.loc;
      ++positional;
      continue;
    }
    if (!llvm::is_contained(names, a.keyword)) {
      error(a.loc, fn + "() got an unexpected keyword argument '" +
                       a.keyword + "'");
      std::string list;
      for (StringRef n : names)
        list += (list.empty() ? "" : ", ") + n.str();
      hint(fn + "() takes: " + list);
      return failure();
    }
    if (b.values.count(a.keyword)) {
      error(a.loc, fn + "() got multiple values for argument '" + a.keyword +
                       "'");
      return failure();
    }
    b.values[a.keyword] = a.value;
    b.locs[a.keyword] = a.loc;
  }
  for (size_t i = 0; i < required; ++i)
    if (!b.values.count(names[i])) {
      error(loc, fn + "() missing required argument '" + names[i] + "'");
      return failure();
    }
  return b;
}

void Gen::unknownName(Loc l, StringRef name) {
  error(l, "name '" + name + "' is not defined");
  // Did-you-mean: the closest name in scope, module or built-in.
  static const char *const builtins[] = {
      "gelu",        "linear",
      "matmul",      "softmax",
      "log_softmax", "cross_entropy",
      "nll_loss",    "mse_loss",
      "dropout",     "embedding",
      "layer_norm",  "conv2d",
      "max_pool2d",  "avg_pool2d",
      "cat",         "where",
      "masked_fill", "sum",
      "mean",        "amax",
      "argmax",      "maximum",
      "minimum",     "arange",
      "zeros",       "ones",
      "full",        "zeros_like",
      "ones_like",   "full_like",
      "tril",        "triu",
      "pow",         "detach",
      "clone",       "reshape",
      "transpose",   "permute",
      "flatten",     "scaled_dot_product_attention",
      "retain_grad", "grad_hook",
      "range",       "len",
      "Linear",      "Conv2d",
      "LayerNorm",   "BatchNorm1d",
      "BatchNorm2d", "Embedding",
      "Dropout",     "Sequential",
      "GELU",        "MaxPool2d",
      "Flatten"};
  std::string best;
  unsigned bestDist = 3;
  auto consider = [&](StringRef candidate) {
    unsigned d = name.edit_distance(candidate, true, bestDist);
    if (d < bestDist || (d == bestDist && best.empty() && d <= 2)) {
      size_t limit = name.size() <= 3 ? 1 : std::max<size_t>(2, name.size() / 3);
      if (d <= limit) {
        best = candidate.str();
        bestDist = d;
      }
    }
  };
  for (Scope *s = scope; s; s = s->parent)
    for (auto &kv : s->vars)
      consider(kv.getKey());
  for (auto &kv : modules)
    consider(kv.getKey());
  for (auto &kv : unaryBindings().functions)
    consider(kv.getKey());
  for (auto &kv : unaryBindings().modules)
    consider(kv.getKey());
  for (const char *b : builtins)
    consider(b);
  if (!best.empty())
    hint("did you mean '" + best + "'?");
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

bool Gen::spend(uint64_t &counter, uint64_t limit, Loc l, const char *what,
                const char *flag) {
  if (++counter <= limit && !overBudget)
    return true;
  if (!overBudget) {
    error(l, "the model is too large to build: more than " + Twine(limit) +
                 " " + what +
                 " (functions are inlined and loops unrolled at compile time)");
    note(l, "hint: look for a loop or a chain of function calls that "
            "multiplies the work; if the model really is this large, raise "
            "the limit with " + Twine(flag) + "=N");
  }
  overBudget = true;
  return false;
}

FailureOr<Val> Gen::eval(const Expr &e) {
  if (!spend(evaluations, options.maxEvaluations, e.loc,
             "expression evaluations", "--max-evaluations"))
    return failure();
  switch (e.kind) {
  case ExprKind::Number:
    return Val::number(e.number, e.isInt);
  case ExprKind::String:
    return Val::string(e.name);
  case ExprKind::Bool:
    return Val::boolean(e.boolean);
  case ExprKind::None:
    return Val();
  case ExprKind::Name: {
    if (Val *v = scope->lookup(e.name)) {
      if (v->k == Val::K::Poison)
        return failure();
      return *v;
    }
    auto m = modules.find(e.name);
    if (m != modules.end()) {
      Val r;
      r.k = Val::K::ModType;
      r.mod = m->second;
      r.str = e.name;
      return r;
    }
    static const char *const builtinModules[] = {
        "Linear", "Conv2d", "LayerNorm", "BatchNorm1d", "BatchNorm2d",
        "Embedding", "Dropout", "Sequential", "GELU", "MaxPool2d", "Flatten"};
    if (llvm::is_contained(builtinModules, e.name) ||
        unaryBindings().modules.count(e.name)) {
      Val r;
      r.k = Val::K::ModType;
      r.builtinModule = e.name;
      r.str = e.name;
      return r;
    }
    // Bare built-in function names are resolved by evalCall.
    unknownName(e.loc, e.name);
    return failure();
  }
  case ExprKind::Unary: {
    auto v = eval(*e.lhs);
    if (failed(v))
      return failure();
    if (e.op == "+")
      return *v;
    if (v->k == Val::K::Num)
      return Val::number(-v->num, v->isInt);
    auto t = asFloatTensor(*v, e.lhs->loc, "neg");
    if (failed(t))
      return failure();
    auto r = make<NegOp>(e.loc, "neg", {*t}, {}, t->getType());
    return failed(r) ? FailureOr<Val>(failure()) : Val::tensor(*r);
  }
  case ExprKind::Binary:
    return evalBinary(e);
  case ExprKind::Call:
    return evalCall(e);
  case ExprKind::Member:
    return evalMember(e);
  case ExprKind::Index:
    return evalIndex(e);
  case ExprKind::Slice:
    error(e.loc, "a slice is only allowed inside '[...]'");
    return failure();
  case ExprKind::List:
  case ExprKind::Tuple: {
    std::vector<Val> items;
    for (const Arg &a : e.args) {
      auto v = eval(*a.value);
      if (failed(v))
        return failure();
      items.push_back(std::move(*v));
    }
    return Val::listOf(std::move(items));
  }
  case ExprKind::ListComp: {
    auto iterable = eval(*e.rhs);
    if (failed(iterable))
      return failure();
    if (iterable->k != Val::K::List) {
      error(e.rhs->loc, "expected a list or range(...) to iterate over, got " +
                            kindName(*iterable));
      return failure();
    }
    std::vector<Val> items;
    for (const Val &item : *iterable->list) {
      bind(e.name, item);
      auto v = eval(*e.lhs);
      if (failed(v))
        return failure();
      items.push_back(std::move(*v));
    }
    return Val::listOf(std::move(items));
  }
  }
  return failure();
}

FailureOr<Val> Gen::evalBinary(const Expr &e) {
  auto a = eval(*e.lhs);
  if (failed(a))
    return failure();
  auto b = eval(*e.rhs);
  if (failed(b))
    return failure();
  StringRef op = e.op;
  // Compile-time arithmetic on numbers (dims, module arguments).
  if (a->k == Val::K::Num && b->k == Val::K::Num) {
    double x = a->num, y = b->num;
    bool ints = a->isInt && b->isInt;
    if (op == "+") return Val::number(x + y, ints);
    if (op == "-") return Val::number(x - y, ints);
    if (op == "*") return Val::number(x * y, ints);
    if (op == "**") return Val::number(std::pow(x, y), ints && y >= 0);
    if (op == "/") {
      if (y == 0) {
        error(e.loc, "division by zero");
        return failure();
      }
      return Val::number(x / y, false);
    }
    if (op == "<") return Val::boolean(x < y);
    if (op == "<=") return Val::boolean(x <= y);
    if (op == ">") return Val::boolean(x > y);
    if (op == ">=") return Val::boolean(x >= y);
    if (op == "==") return Val::boolean(x == y);
    if (op == "!=") return Val::boolean(x != y);
    error(e.loc, "unsupported operand types for " + op + ": numbers");
    return failure();
  }
  auto pair = promotePair(*a, e.lhs->loc, *b, e.rhs->loc, op);
  if (failed(pair))
    return failure();
  auto [x, y] = *pair;
  FailureOr<Value> r = failure();
  auto isCompare = llvm::StringSwitch<std::optional<ComparePredicate>>(op)
                       .Case("<", ComparePredicate::lt)
                       .Case("<=", ComparePredicate::le)
                       .Case(">", ComparePredicate::gt)
                       .Case(">=", ComparePredicate::ge)
                       .Case("==", ComparePredicate::eq)
                       .Case("!=", ComparePredicate::ne)
                       .Default(std::nullopt);
  if (isCompare) {
    r = make<CompareOp>(
        e.loc, op, {x, y},
        {attr("predicate", ComparePredicateAttr::get(&ctx, *isCompare))});
    return failed(r) ? FailureOr<Val>(failure()) : Val::tensor(*r);
  }
  for (Value v : {x, y})
    if (!mlir::isa<mlir::FloatType>(typeOf(v).getElementType())) {
      error(e.loc, "operator " + op +
                       " expects floating-point tensors, got " +
                       typeStr(x) + " and " + typeStr(y));
      hint("Graft does not promote types; convert with x.float()");
      return failure();
    }
  if (op == "+") r = make<AddOp>(e.loc, "add", {x, y});
  else if (op == "-") r = make<SubOp>(e.loc, "sub", {x, y});
  else if (op == "*") r = make<MulOp>(e.loc, "mul", {x, y});
  else if (op == "/") r = make<DivOp>(e.loc, "div", {x, y});
  else if (op == "**") r = make<PowOp>(e.loc, "pow", {x, y});
  else if (op == "@") r = make<MatmulOp>(e.loc, "matmul", {x, y});
  if (failed(r))
    return failure();
  return Val::tensor(*r);
}

FailureOr<Val> Gen::evalMember(const Expr &e) {
  auto base = eval(*e.lhs);
  if (failed(base))
    return failure();
  if (base->k == Val::K::Inst) {
    if (Val *v = base->inst->scope.vars.count(e.name)
                     ? &base->inst->scope.vars[e.name]
                     : nullptr)
      return *v;
    if (!base->inst->children.empty()) {
      unsigned idx;
      if (!StringRef(e.name).getAsInteger(10, idx) &&
          idx < base->inst->children.size()) {
        Val r;
        r.k = Val::K::Inst;
        r.inst = base->inst->children[idx];
        return r;
      }
    }
    error(e.loc, "'" + base->inst->typeName + "' object has no attribute '" +
                     e.name + "'");
    return failure();
  }
  if (base->k == Val::K::List) {
    unsigned idx;
    if (!StringRef(e.name).getAsInteger(10, idx) && idx < base->list->size())
      return (*base->list)[idx];
  }
  if (base->k == Val::K::Tensor) {
    RankedTensorType t = typeOf(base->t);
    if (e.name == "shape") {
      std::vector<Val> dims;
      for (int64_t d : t.getShape())
        dims.push_back(Val::number(d, true));
      return Val::listOf(std::move(dims));
    }
    if (e.name == "ndim")
      return Val::number(t.getRank(), true);
    if (e.name == "T") {
      if (t.getRank() != 2) {
        error(e.loc, ".T expects a 2-D tensor, got " + typeStr(base->t));
        return failure();
      }
      // PyTorch's x.T is x.permute(1, 0) (PermuteBackward0), while
      // x.transpose(0, 1) is TransposeBackward0: keep them apart in the IR.
      auto r = make<PermuteOp>(
          e.loc, "permute", {base->t},
          {attr("dims", builder.getDenseI64ArrayAttr({1, 0}))});
      return failed(r) ? FailureOr<Val>(failure()) : Val::tensor(*r);
    }
  }
  error(e.loc, Twine(kindName(*base)) + " has no attribute '" + e.name + "'");
  return failure();
}

FailureOr<Val> Gen::evalIndex(const Expr &e) {
  auto base = eval(*e.lhs);
  if (failed(base))
    return failure();
  if (base->k == Val::K::List || (base->k == Val::K::Inst &&
                                  !base->inst->children.empty())) {
    if (e.args.size() != 1 || e.args[0].value->kind == ExprKind::Slice) {
      error(e.loc, "a list takes one integer index");
      return failure();
    }
    auto i = eval(*e.args[0].value);
    if (failed(i))
      return failure();
    auto idx = asInt(*i, e.args[0].loc, "the index");
    if (failed(idx))
      return failure();
    int64_t n = base->k == Val::K::List ? base->list->size()
                                        : base->inst->children.size();
    int64_t k = *idx < 0 ? *idx + n : *idx;
    if (k < 0 || k >= n) {
      error(e.args[0].loc, "index " + Twine(*idx) +
                               " is out of range for a list of " + Twine(n));
      return failure();
    }
    if (base->k == Val::K::List)
      return (*base->list)[k];
    Val r;
    r.k = Val::K::Inst;
    r.inst = base->inst->children[k];
    return r;
  }
  auto x = asTensor(*base, e.lhs->loc, "indexing");
  if (failed(x))
    return failure();
  Value cur = *x;
  int64_t rank = typeOf(cur).getRank();
  if (static_cast<int64_t>(e.args.size()) > rank) {
    error(e.loc, "too many indices for tensor of dimension " + Twine(rank));
    return failure();
  }
  // Integer indices select (slice of one, then reshape away the dim).
  llvm::SmallVector<int64_t> dropDims;
  for (auto [dim, a] : llvm::enumerate(e.args)) {
    const Expr &item = *a.value;
    int64_t size = typeOf(cur).getDimSize(dim);
    int64_t start = 0, end = size, step = 1;
    auto bound = [&](const ExprPtr &p, int64_t &out) -> LogicalResult {
      if (!p)
        return success();
      auto v = eval(*p);
      if (failed(v))
        return failure();
      auto i = asInt(*v, p->loc, "a slice bound");
      if (failed(i))
        return failure();
      out = *i;
      return success();
    };
    if (item.kind == ExprKind::Slice) {
      if (failed(bound(item.start, start)) || failed(bound(item.end, end)) ||
          failed(bound(item.step, step)))
        return failure();
      if (step <= 0) {
        error(item.loc, "slice step must be positive");
        return failure();
      }
      // Python slice semantics: negative bounds count from the end, then
      // clamp.
      if (start < 0) start += size;
      if (end < 0) end += size;
      start = std::clamp<int64_t>(start, 0, size);
      end = std::clamp<int64_t>(end, 0, size);
      if (start == 0 && end == size && step == 1)
        continue;
    } else {
      auto v = eval(item);
      if (failed(v))
        return failure();
      auto i = asInt(*v, item.loc, "an index");
      if (failed(i))
        return failure();
      int64_t k = *i < 0 ? *i + size : *i;
      if (k < 0 || k >= size) {
        error(item.loc, "index " + Twine(*i) + " is out of bounds for "
                        "dimension " + Twine(dim) + " with size " +
                        Twine(size));
        return failure();
      }
      start = k;
      end = k + 1;
      dropDims.push_back(dim);
    }
    auto r = make<SliceOp>(item.loc, "slice", {cur},
                           {attr("dim", builder.getI64IntegerAttr(dim)),
                            attr("start", builder.getI64IntegerAttr(start)),
                            attr("end", builder.getI64IntegerAttr(end)),
                            attr("step", builder.getI64IntegerAttr(step))});
    if (failed(r))
      return failure();
    cur = *r;
  }
  if (!dropDims.empty()) {
    llvm::SmallVector<int64_t> shape;
    for (auto [i, d] : llvm::enumerate(typeOf(cur).getShape()))
      if (!llvm::is_contained(dropDims, static_cast<int64_t>(i)))
        shape.push_back(d);
    return reshape(cur, shape, e.loc, "select");
  }
  return Val::tensor(cur);
}

FailureOr<Val> Gen::reshape(Value x, llvm::ArrayRef<int64_t> shapeIn, Loc l,
                            StringRef pyName) {
  llvm::SmallVector<int64_t> shape(shapeIn);
  int64_t n = sh::numel(typeOf(x).getShape());
  int64_t known = 1, inferred = -1;
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (d == -1) {
      if (inferred >= 0) {
        error(l, "only one dimension can be inferred");
        return failure();
      }
      inferred = i;
    } else if (d < 0 || d > kMaxDim) {
      error(l, "invalid shape dimension " + Twine(d));
      return failure();
    } else {
      known *= d;
    }
  }
  if (inferred >= 0) {
    if (known == 0 || n % known != 0) {
      error(l, "shape '" + sh::str(shape) + "' is invalid for input of size " +
                   Twine(n));
      return failure();
    }
    shape[inferred] = n / known;
  }
  if (llvm::Error err = sh::reshape(typeOf(x).getShape(), shape)) {
    error(l, pyName + ": " + llvm::toString(std::move(err)));
    return failure();
  }
  auto r = make<ReshapeOp>(
      l, pyName, {x}, {},
      RankedTensorType::get(shape, typeOf(x).getElementType()));
  return failed(r) ? FailureOr<Val>(failure()) : Val::tensor(*r);
}

FailureOr<Val> Gen::evalCall(const Expr &e) {
  const Expr &callee = *e.lhs;
  // Methods: x.relu(), blocks[0](x) is handled below as a value call.
  if (callee.kind == ExprKind::Member) {
    auto self = eval(*callee.lhs);
    if (failed(self))
      return failure();
    if (self->k == Val::K::Tensor) {
      auto args = evalArgs(e.args);
      if (failed(args))
        return failure();
      return callMethod(*self, callee.lhs->loc, callee.name, *args, callee.loc,
                        callee.lhs.get());
    }
    if (self->k == Val::K::Inst) {
      Instance &inst = *self->inst;
      if (inst.decl) {
        for (const StmtPtr &s : inst.decl->body)
          if (s->kind == StmtKind::Def && s->func->name == callee.name) {
            auto args = evalArgs(e.args);
            if (failed(args))
              return failure();
            return callFunction(*s->func, &inst.scope, *args, e.loc, &inst);
          }
      }
      if (callee.name == "requires_grad_") {
        auto args = evalArgs(e.args);
        if (failed(args))
          return failure();
        auto b = bindArgs("requires_grad_", {"requires_grad"}, 0, *args, e.loc);
        if (failed(b))
          return failure();
        bool on = true;
        if (b->has("requires_grad")) {
          auto v = asBool(b->get("requires_grad"), b->locOf("requires_grad"),
                          "requires_grad");
          if (failed(v))
            return failure();
          on = *v;
        }
        // module.requires_grad_(False) freezes every parameter under it.
        for (ParamOp p : model.getBody().getOps<ParamOp>())
          if (StringRef(p.getName()).starts_with(inst.prefix))
            p.setFrozen(!on);
        return Val();
      }
    }
  }
  if (callee.kind == ExprKind::Name && !scope->lookup(callee.name) &&
      !modules.count(callee.name)) {
    // A built-in function.
    auto args = evalArgs(e.args);
    if (failed(args))
      return failure();
    return callBuiltin(callee.name, *args, e.loc);
  }
  auto fnVal = eval(callee);
  if (failed(fnVal))
    return failure();
  auto args = evalArgs(e.args);
  if (failed(args))
    return failure();
  switch (fnVal->k) {
  case Val::K::Func:
    return callFunction(*fnVal->fn, fnVal->fnScope, *args, e.loc, nullptr);
  case Val::K::Inst:
    return callInstance(*fnVal->inst, *args, e.loc);
  case Val::K::ModType:
    error(e.loc, "module '" + fnVal->str +
                     "' can only be instantiated by assigning it to a name "
                     "in a model or module body (name = " + fnVal->str +
                     "(...))");
    hint("instances get their state_dict names from the name they are "
         "assigned to");
    return failure();
  default:
    error(e.loc, Twine("'") + kindName(*fnVal) + "' object is not callable");
    return failure();
  }
}

//===----------------------------------------------------------------------===//
// Built-in functions
//===----------------------------------------------------------------------===//

template <typename OpTy>
FailureOr<Val> Gen::unary(Bound &a, Loc l, StringRef pyName) {
  auto x = asFloatTensor(a.get("input"), a.locOf("input"), pyName);
  if (failed(x))
    return failure();
  auto r = make<OpTy>(l, pyName, {*x}, {}, x->getType());
  return failed(r) ? FailureOr<Val>(failure()) : Val::tensor(*r);
}

const Gen::UnaryBindings &Gen::unaryBindings() {
  static const UnaryBindings bindings = [] {
    UnaryBindings r;
    forEachUnaryOp([&](auto *tag) {
      using Op = std::remove_pointer_t<decltype(tag)>;
      UnaryRow row = Op::getUnaryRow();
      if (row.inPlace) {
        r.inPlace[row.torchName] = [](mlir::OpBuilder &b, mlir::Location l,
                                      Value x) -> Value {
          return Op::create(b, l, x);
        };
        return;
      }
      r.functions[row.torchName] = [](Gen &g, Bound &a, Loc l,
                                      StringRef name) {
        return g.unary<Op>(a, l, name);
      };
      if (!row.moduleName.empty())
        r.modules[row.moduleName] = row.torchName.str();
    });
    return r;
  }();
  return bindings;
}

FailureOr<Val> Gen::callBuiltin(StringRef name, std::vector<CallArg> &args,
                                Loc loc) {
  auto bindOr = [&](llvm::ArrayRef<StringRef> names, size_t required) {
    return bindArgs(name, names, required, args, loc);
  };
  auto tensorResult = [](FailureOr<Value> r) -> FailureOr<Val> {
    if (failed(r))
      return failure();
    return Val::tensor(*r);
  };
  auto getDim = [&](Bound &b, StringRef key, Value x) -> FailureOr<int64_t> {
    auto d = asInt(b.get(key), b.locOf(key), key);
    if (failed(d))
      return failure();
    return normDim(*d, typeOf(x).getRank(), b.locOf(key));
  };

  // Compile-time helpers.
  if (name == "range") {
    auto b = bindOr({"stop"}, 1);
    if (failed(b))
      return failure();
    auto n = asInt(b->get("stop"), b->locOf("stop"), "range()");
    if (failed(n))
      return failure();
    if (*n > 4096) {
      error(b->locOf("stop"), "range(" + Twine(*n) +
                                  ") is too long for a compile-time loop "
                                  "(at most 4096)");
      return failure();
    }
    std::vector<Val> items;
    for (int64_t i = 0; i < *n; ++i)
      items.push_back(Val::number(i, true));
    return Val::listOf(std::move(items));
  }
  if (name == "len") {
    auto b = bindOr({"obj"}, 1);
    if (failed(b))
      return failure();
    const Val &v = b->get("obj");
    if (v.k == Val::K::List)
      return Val::number(v.list->size(), true);
    if (v.k == Val::K::Tensor && typeOf(v.t).getRank() > 0)
      return Val::number(typeOf(v.t).getDimSize(0), true);
    error(b->locOf("obj"), "len() expects a list or a tensor");
    return failure();
  }
  if (name == "int" || name == "float") {
    auto b = bindOr({"x"}, 1);
    if (failed(b))
      return failure();
    if (b->get("x").k == Val::K::Num) {
      double v = b->get("x").num;
      return Val::number(name == "int" ? std::trunc(v) : v, name == "int");
    }
    // float('inf'), float('-inf'), float('nan'), as Python reads them.
    if (name == "float" && b->get("x").k == Val::K::Str) {
      std::string text = StringRef(b->get("x").str).trim().lower();
      StringRef t(text);
      bool negative = t.consume_front("-");
      if (!negative)
        t.consume_front("+");
      if (t == "inf" || t == "infinity")
        return Val::number(negative ? -INFINITY : INFINITY, false);
      if (t == "nan")
        return Val::number(NAN, false);
      error(b->locOf("x"),
            "could not convert string to float: '" + b->get("x").str + "'");
      return failure();
    }
  }
  if (std::optional<FailureOr<Val>> made = createTensor(name, args, loc))
    return *made;
  if (name == "sqrt" || name == "exp" || name == "log") {
    if (args.size() == 1 && args[0].value.k == Val::K::Num) {
      double v = args[0].value.num;
      if (name == "sqrt") return Val::number(std::sqrt(v), false);
      if (name == "exp") return Val::number(std::exp(v), false);
      return Val::number(std::log(v), false);
    }
  }

  // Elementwise: the unary rows.
  auto unaryFn = unaryBindings().functions.find(name);
  if (unaryFn != unaryBindings().functions.end()) {
    auto b = bindOr({"input"}, 1);
    if (failed(b))
      return failure();
    return unaryFn->second(*this, *b, loc, name);
  }
  if (name == "gelu") {
    auto b = bindOr({"input", "approximate"}, 1);
    if (failed(b))
      return failure();
    auto x = asFloatTensor(b->get("input"), b->locOf("input"), name);
    if (failed(x))
      return failure();
    GeluApproximation approx = GeluApproximation::none;
    if (b->has("approximate")) {
      auto s = asString(b->get("approximate"), b->locOf("approximate"),
                        "approximate");
      if (failed(s))
        return failure();
      if (*s == "tanh")
        approx = GeluApproximation::tanh;
      else if (*s != "none") {
        error(b->locOf("approximate"),
              "approximate argument must be either none or tanh.");
        return failure();
      }
    }
    return tensorResult(make<GeluOp>(
        loc, name, {*x},
        {attr("approximate", GeluApproximationAttr::get(&ctx, approx))},
        x->getType()));
  }
  if (name == "add" || name == "sub" || name == "mul" || name == "div" ||
      name == "pow" || name == "maximum" || name == "minimum" ||
      name == "matmul") {
    auto b = bindOr({"input", "other"}, 2);
    if (failed(b))
      return failure();
    auto pair = promotePair(b->get("input"), b->locOf("input"),
                            b->get("other"), b->locOf("other"), name);
    if (failed(pair))
      return failure();
    auto [x, y] = *pair;
    if (name == "add") return tensorResult(make<AddOp>(loc, name, {x, y}));
    if (name == "sub") return tensorResult(make<SubOp>(loc, name, {x, y}));
    if (name == "mul") return tensorResult(make<MulOp>(loc, name, {x, y}));
    if (name == "div") return tensorResult(make<DivOp>(loc, name, {x, y}));
    if (name == "pow") return tensorResult(make<PowOp>(loc, name, {x, y}));
    if (name == "maximum")
      return tensorResult(make<MaximumOp>(loc, name, {x, y}));
    if (name == "minimum")
      return tensorResult(make<MinimumOp>(loc, name, {x, y}));
    return tensorResult(make<MatmulOp>(loc, name, {x, y}));
  }
  if (name == "where") {
    auto b = bindOr({"condition", "input", "other"}, 3);
    if (failed(b))
      return failure();
    auto c = asTensor(b->get("condition"), b->locOf("condition"), "condition");
    if (failed(c))
      return failure();
    auto pair = promotePair(b->get("input"), b->locOf("input"),
                            b->get("other"), b->locOf("other"), name);
    if (failed(pair))
      return failure();
    return tensorResult(
        make<WhereOp>(loc, name, {*c, pair->first, pair->second}));
  }
  if (name == "masked_fill") {
    auto b = bindOr({"input", "mask", "value"}, 3);
    if (failed(b))
      return failure();
    auto x = asFloatTensor(b->get("input"), b->locOf("input"), name);
    auto m = asTensor(b->get("mask"), b->locOf("mask"), "mask");
    auto v = asNumber(b->get("value"), b->locOf("value"), "value");
    if (failed(x) || failed(m) || failed(v))
      return failure();
    return tensorResult(make<MaskedFillOp>(
        loc, name, {*x, *m}, {attr("value", builder.getF64FloatAttr(*v))}));
  }
  if (name == "linear") {
    auto b = bindOr({"input", "weight", "bias"}, 2);
    if (failed(b))
      return failure();
    auto operands = inputWeightBias(*b);
    if (failed(operands))
      return failure();
    llvm::SmallVector<Value> &ops = *operands;
    return tensorResult(make<LinearOp>(loc, name, ops));
  }
  if (name == "sum" || name == "mean" || name == "amax" || name == "max") {
    auto b = bindOr({"input", "dim", "keepdim"}, 1);
    if (failed(b))
      return failure();
    auto x = asFloatTensor(b->get("input"), b->locOf("input"), name);
    if (failed(x))
      return failure();
    llvm::SmallVector<int64_t> dims;
    if (b->has("dim")) {
      auto d = asIntList(b->get("dim"), b->locOf("dim"), "dim");
      if (failed(d))
        return failure();
      for (int64_t v : *d) {
        auto n = normDim(v, typeOf(*x).getRank(), b->locOf("dim"));
        if (failed(n))
          return failure();
        dims.push_back(*n);
      }
    }
    bool keep = false;
    if (b->has("keepdim")) {
      auto k = asBool(b->get("keepdim"), b->locOf("keepdim"), "keepdim");
      if (failed(k))
        return failure();
      keep = *k;
    }
    llvm::SmallVector<NamedAttribute> attrs = {
        attr("dims", builder.getDenseI64ArrayAttr(dims)),
        attr("keepdim", builder.getBoolAttr(keep))};
    if (name == "sum") return tensorResult(make<SumOp>(loc, name, {*x}, attrs));
    if (name == "mean")
      return tensorResult(make<MeanOp>(loc, name, {*x}, attrs));
    return tensorResult(make<MaxOp>(loc, "amax", {*x}, attrs));
  }
  if (name == "argmax") {
    auto b = bindOr({"input", "dim", "keepdim"}, 2);
    if (failed(b))
      return failure();
    auto x = asFloatTensor(b->get("input"), b->locOf("input"), name);
    if (failed(x))
      return failure();
    auto d = getDim(*b, "dim", *x);
    if (failed(d))
      return failure();
    bool keep = b->has("keepdim") && b->get("keepdim").k == Val::K::Bool &&
                b->get("keepdim").b;
    return tensorResult(make<ArgmaxOp>(
        loc, name, {*x},
        {attr("dim", builder.getI64IntegerAttr(*d)),
         attr("keepdim", builder.getBoolAttr(keep))}));
  }
  if (name == "softmax" || name == "log_softmax") {
    auto b = bindOr({"input", "dim"}, 2);
    if (failed(b))
      return failure();
    auto x = asFloatTensor(b->get("input"), b->locOf("input"), name);
    if (failed(x))
      return failure();
    auto d = getDim(*b, "dim", *x);
    if (failed(d))
      return failure();
    auto attrs = {attr("dim", builder.getI64IntegerAttr(*d))};
    if (name == "softmax")
      return tensorResult(make<SoftmaxOp>(loc, name, {*x}, attrs, x->getType()));
    return tensorResult(
        make<LogSoftmaxOp>(loc, name, {*x}, attrs, x->getType()));
  }
  if (name == "reshape" || name == "view" || name == "transpose" ||
      name == "permute" || name == "flatten" || name == "detach" ||
      name == "clone" || name == "unsqueeze" || name == "squeeze" ||
      name == "expand" || name == "broadcast_to") {
    if (args.empty() || !args[0].keyword.empty()) {
      error(loc, name + "() missing required argument 'input'");
      return failure();
    }
    CallArg self = args.front();
    std::vector<CallArg> rest(args.begin() + 1, args.end());
    return callMethod(self.value, self.loc, name, rest, loc, nullptr);
  }
  if (name == "cat" || name == "concat") {
    auto b = bindOr({"tensors", "dim"}, 1);
    if (failed(b))
      return failure();
    const Val &list = b->get("tensors");
    if (list.k != Val::K::List || list.list->empty()) {
      error(b->locOf("tensors"), "cat() expects a non-empty list of tensors");
      return failure();
    }
    llvm::SmallVector<Value> inputs;
    for (const Val &v : *list.list) {
      auto t = asTensor(v, b->locOf("tensors"), "cat()");
      if (failed(t))
        return failure();
      inputs.push_back(*t);
    }
    int64_t dim = 0;
    if (b->has("dim")) {
      auto d = getDim(*b, "dim", inputs.front());
      if (failed(d))
        return failure();
      dim = *d;
    }
    return tensorResult(make<ConcatOp>(
        loc, "cat", inputs, {attr("dim", builder.getI64IntegerAttr(dim))}));
  }
  if (name == "conv2d") {
    auto b = bindOr({"input", "weight", "bias", "stride", "padding",
                     "dilation", "groups"},
                    2);
    if (failed(b))
      return failure();
    auto operands = inputWeightBias(*b);
    if (failed(operands))
      return failure();
    llvm::SmallVector<Value> &ops = *operands;
    llvm::SmallVector<NamedAttribute> attrs;
    for (StringRef key : {"stride", "padding", "dilation"}) {
      if (!b->has(key))
        continue;
      auto l = asIntList(b->get(key), b->locOf(key), key);
      if (failed(l))
        return failure();
      if (l->size() == 1)
        l->push_back(l->front());
      attrs.push_back(attr(key, builder.getDenseI64ArrayAttr(*l)));
    }
    if (b->has("groups")) {
      auto g = asInt(b->get("groups"), b->locOf("groups"), "groups");
      if (failed(g))
        return failure();
      attrs.push_back(attr("groups", builder.getI64IntegerAttr(*g)));
    }
    return tensorResult(make<Conv2dOp>(loc, name, ops, attrs));
  }
  if (name == "max_pool2d" || name == "avg_pool2d") {
    auto b = bindOr({"input", "kernel_size", "stride", "padding", "dilation",
                     "ceil_mode"},
                    2);
    if (failed(b))
      return failure();
    auto x = asFloatTensor(b->get("input"), b->locOf("input"), name);
    if (failed(x))
      return failure();
    auto pair = [&](StringRef key) -> FailureOr<llvm::SmallVector<int64_t>> {
      auto l = asIntList(b->get(key), b->locOf(key), key);
      if (succeeded(l) && l->size() == 1)
        l->push_back(l->front());
      return l;
    };
    auto kernel = pair("kernel_size");
    if (failed(kernel))
      return failure();
    llvm::SmallVector<int64_t> stride = *kernel;
    if (b->has("stride")) {
      auto s = pair("stride");
      if (failed(s))
        return failure();
      stride = *s;
    }
    llvm::SmallVector<NamedAttribute> attrs = {
        attr("kernel_size", builder.getDenseI64ArrayAttr(*kernel)),
        attr("stride", builder.getDenseI64ArrayAttr(stride))};
    if (b->has("padding")) {
      auto p = pair("padding");
      if (failed(p))
        return failure();
      attrs.push_back(attr("padding", builder.getDenseI64ArrayAttr(*p)));
    }
    if (b->has("ceil_mode")) {
      auto c = asBool(b->get("ceil_mode"), b->locOf("ceil_mode"), "ceil_mode");
      if (failed(c))
        return failure();
      attrs.push_back(attr("ceil_mode", builder.getBoolAttr(*c)));
    }
    if (name == "max_pool2d") {
      if (b->has("dilation")) {
        auto d = pair("dilation");
        if (failed(d))
          return failure();
        attrs.push_back(attr("dilation", builder.getDenseI64ArrayAttr(*d)));
      }
      return tensorResult(make<MaxPool2dOp>(loc, name, {*x}, attrs));
    }
    if (b->has("dilation")) {
      error(b->locOf("dilation"), "avg_pool2d() has no dilation");
      return failure();
    }
    return tensorResult(make<AvgPool2dOp>(loc, name, {*x}, attrs));
  }
  if (name == "layer_norm") {
    auto b = bindOr({"input", "normalized_shape", "weight", "bias", "eps"}, 2);
    if (failed(b))
      return failure();
    auto x = asFloatTensor(b->get("input"), b->locOf("input"), name);
    auto shape = asIntList(b->get("normalized_shape"),
                           b->locOf("normalized_shape"), "normalized_shape");
    if (failed(x) || failed(shape))
      return failure();
    llvm::SmallVector<Value> ops = {*x};
    int32_t segs[3] = {1, 0, 0};
    for (auto [i, key] : llvm::enumerate(std::array<StringRef, 2>{"weight", "bias"})) {
      if (!b->has(key))
        continue;
      auto t = asTensor(b->get(key), b->locOf(key), key);
      if (failed(t))
        return failure();
      ops.push_back(*t);
      segs[i + 1] = 1;
    }
    double eps = 1e-5;
    if (b->has("eps")) {
      auto e = asNumber(b->get("eps"), b->locOf("eps"), "eps");
      if (failed(e))
        return failure();
      eps = *e;
    }
    return tensorResult(make<LayerNormOp>(
        loc, name, ops,
        {attr("normalized_shape", builder.getDenseI64ArrayAttr(*shape)),
         attr("eps", builder.getF64FloatAttr(eps)),
         attr("operandSegmentSizes", builder.getDenseI32ArrayAttr(segs))}));
  }
  if (name == "batch_norm") {
    auto b = bindOr({"input", "running_mean", "running_var", "weight", "bias",
                     "momentum", "eps"},
                    3);
    if (failed(b))
      return failure();
    auto x = asFloatTensor(b->get("input"), b->locOf("input"), name);
    auto rm = asTensor(b->get("running_mean"), b->locOf("running_mean"),
                       "running_mean");
    auto rv = asTensor(b->get("running_var"), b->locOf("running_var"),
                       "running_var");
    if (failed(x) || failed(rm) || failed(rv))
      return failure();
    for (auto [key, v] : {std::pair{"running_mean", *rm}, {"running_var", *rv}})
      if (!v.getDefiningOp<BufferOp>()) {
        error(b->locOf(key), Twine("batch_norm: ") + key +
                                 " must be a buffer (declare it with "
                                 "'buffer'): train mode updates it");
        return failure();
      }
    llvm::SmallVector<Value> ops = {*x};
    int32_t segs[5] = {1, 0, 0, 1, 1};
    for (auto [i, key] : llvm::enumerate(std::array<StringRef, 2>{"weight", "bias"})) {
      if (!b->has(key))
        continue;
      auto t = asTensor(b->get(key), b->locOf(key), key);
      if (failed(t))
        return failure();
      ops.push_back(*t);
      segs[i + 1] = 1;
    }
    ops.push_back(*rm);
    ops.push_back(*rv);
    llvm::SmallVector<NamedAttribute> attrs = {
        attr("operandSegmentSizes", builder.getDenseI32ArrayAttr(segs))};
    for (StringRef key : {"momentum", "eps"})
      if (b->has(key)) {
        auto v = asNumber(b->get(key), b->locOf(key), key);
        if (failed(v))
          return failure();
        attrs.push_back(attr(key, builder.getF64FloatAttr(*v)));
      }
    return tensorResult(make<BatchNormOp>(loc, name, ops, attrs));
  }
  if (name == "dropout") {
    auto b = bindOr({"input", "p"}, 1);
    if (failed(b))
      return failure();
    auto x = asFloatTensor(b->get("input"), b->locOf("input"), name);
    if (failed(x))
      return failure();
    double p = 0.5;
    if (b->has("p")) {
      auto v = asNumber(b->get("p"), b->locOf("p"), "p");
      if (failed(v))
        return failure();
      p = *v;
    }
    if (!(p >= 0 && p <= 1)) {
      error(b->locOf("p"), "dropout probability has to be between 0 and 1, "
                           "but got " + fmt(p));
      return failure();
    }
    return tensorResult(make<DropoutOp>(
        loc, name, {*x},
        {attr("p", builder.getF64FloatAttr(p)),
         attr("stream", builder.getI64IntegerAttr(nextRandomStream++))},
        x->getType()));
  }
  if (name == "embedding") {
    auto b = bindOr({"input", "weight", "padding_idx"}, 2);
    if (failed(b))
      return failure();
    auto idx = asTensor(b->get("input"), b->locOf("input"), "input");
    auto w = asTensor(b->get("weight"), b->locOf("weight"), "weight");
    if (failed(idx) || failed(w))
      return failure();
    llvm::SmallVector<NamedAttribute> attrs;
    if (b->has("padding_idx")) {
      auto p = asInt(b->get("padding_idx"), b->locOf("padding_idx"),
                     "padding_idx");
      if (failed(p))
        return failure();
      int64_t n = typeOf(*w).getRank() > 0 ? typeOf(*w).getDimSize(0) : 0;
      attrs.push_back(attr("padding_idx",
                           builder.getI64IntegerAttr(*p < 0 ? *p + n : *p)));
    }
    return tensorResult(make<EmbeddingOp>(loc, name, {*w, *idx}, attrs));
  }
  if (name == "scaled_dot_product_attention") {
    auto b = bindOr({"query", "key", "value", "is_causal", "scale"}, 3);
    if (failed(b))
      return failure();
    auto q = asTensor(b->get("query"), b->locOf("query"), "query");
    auto k = asTensor(b->get("key"), b->locOf("key"), "key");
    auto v = asTensor(b->get("value"), b->locOf("value"), "value");
    if (failed(q) || failed(k) || failed(v))
      return failure();
    llvm::SmallVector<NamedAttribute> attrs;
    if (b->has("is_causal")) {
      auto c = asBool(b->get("is_causal"), b->locOf("is_causal"), "is_causal");
      if (failed(c))
        return failure();
      attrs.push_back(attr("is_causal", builder.getBoolAttr(*c)));
    }
    if (b->has("scale")) {
      auto s = asNumber(b->get("scale"), b->locOf("scale"), "scale");
      if (failed(s))
        return failure();
      attrs.push_back(attr("scale", builder.getF64FloatAttr(*s)));
    }
    return tensorResult(make<ScaledDotProductAttentionOp>(loc, name,
                                                          {*q, *k, *v}, attrs));
  }
  if (name == "cross_entropy" || name == "nll_loss" || name == "mse_loss") {
    bool ce = name == "cross_entropy", mse = name == "mse_loss";
    llvm::SmallVector<StringRef> names = {"input", "target"};
    if (!mse)
      names.push_back("ignore_index");
    names.push_back("reduction");
    if (ce)
      names.push_back("label_smoothing");
    auto b = bindOr(names, 2);
    if (failed(b))
      return failure();
    auto x = asFloatTensor(b->get("input"), b->locOf("input"), name);
    auto y = asTensor(b->get("target"), b->locOf("target"), "target");
    if (failed(x) || failed(y))
      return failure();
    llvm::SmallVector<NamedAttribute> attrs;
    if (b->has("reduction")) {
      auto r = asString(b->get("reduction"), b->locOf("reduction"),
                        "reduction");
      if (failed(r))
        return failure();
      auto red = symbolizeReduction(*r);
      if (!red) {
        error(b->locOf("reduction"),
              "'" + *r + "' is not a valid value for reduction; expected "
                         "'none', 'mean' or 'sum'");
        return failure();
      }
      attrs.push_back(attr("reduction", ReductionAttr::get(&ctx, *red)));
    }
    if (!mse && b->has("ignore_index")) {
      auto i = asInt(b->get("ignore_index"), b->locOf("ignore_index"),
                     "ignore_index");
      if (failed(i))
        return failure();
      attrs.push_back(attr("ignore_index", builder.getI64IntegerAttr(*i)));
    }
    if (ce && b->has("label_smoothing")) {
      auto s = asNumber(b->get("label_smoothing"),
                        b->locOf("label_smoothing"), "label_smoothing");
      if (failed(s))
        return failure();
      attrs.push_back(attr("label_smoothing", builder.getF64FloatAttr(*s)));
    }
    if (!mse && !mlir::isa<mlir::IntegerType>(typeOf(*y).getElementType())) {
      error(b->locOf("target"),
            name + ": expected class indices (an i64 or i32 tensor) as "
                   "target, got " + typeStr(*y));
      return failure();
    }
    if (ce)
      return tensorResult(make<CrossEntropyOp>(loc, name, {*x, *y}, attrs));
    if (mse)
      return tensorResult(make<MseLossOp>(loc, name, {*x, *y}, attrs));
    return tensorResult(make<NllLossOp>(loc, name, {*x, *y}, attrs));
  }
  if (name == "retain_grad" || name == "grad_hook") {
    auto b = name == "retain_grad" ? bindOr({"input", "name"}, 1)
                                   : bindOr({"input", "name"}, 2);
    if (failed(b))
      return failure();
    auto x = asTensor(b->get("input"), b->locOf("input"), "input");
    if (failed(x))
      return failure();
    std::string label;
    if (b->has("name")) {
      auto s = asString(b->get("name"), b->locOf("name"), "name");
      if (failed(s))
        return failure();
      label = *s;
    } else {
      // retain_grad(h): named after the variable.
      for (const CallArg &a : args)
        if (a.keyword.empty()) {
          const char *p = a.loc.ptr.getPointer();
          while (p && (llvm::isAlnum(*p) || *p == '_'))
            label += *p++;
          break;
        }
    }
    if (!mlir::isa<mlir::FloatType>(typeOf(*x).getElementType())) {
      error(b->locOf("input"), name + " expects a floating-point tensor, "
                                      "got " + typeStr(*x));
      return failure();
    }
    if (name == "retain_grad") {
      RetainGradOp::create(builder, L(loc), label, *x);
      return Val();
    }
    return tensorResult(make<GradHookOp>(loc, name, {*x},
                                         {attr("name",
                                               builder.getStringAttr(label))},
                                         x->getType()));
  }
  unknownName(loc, name);
  return failure();
}

//===----------------------------------------------------------------------===//
// Tensor methods
//===----------------------------------------------------------------------===//

FailureOr<Val> Gen::inPlace(StringRef name, Val self, const Expr *selfExpr,
                            Loc selfLoc, std::vector<CallArg> &args, Loc loc) {
  static const char *const otherInPlace[] = {"masked_fill_", "add_", "sub_",
                                             "mul_", "div_"};
  if (!unaryBindings().inPlace.count(name) &&
      !llvm::is_contained(otherInPlace, name)) {
    error(loc, "tensor has no method '" + name + "'");
    return failure();
  }
  auto x = asFloatTensor(self, selfLoc, name);
  if (failed(x))
    return failure();
  // PyTorch: a leaf that requires grad may not be modified in place in
  // grad mode (optimizers do it under no_grad). A version of the leaf made
  // by an in-place op under no_grad (`no_grad { w.add_(1) }`) is the same
  // leaf.
  if (mode == GradMode::Grad) {
    Value id = *x;
    while (mlir::Operation *d = id.getDefiningOp()) {
      if (!mlir::isa<NoGradOp, InferenceOp>(d))
        break;
      Value outer = regionResultIdentity(d, id);
      if (!outer)
        break;
      id = outer;
    }
    mlir::Operation *def = id.getDefiningOp();
    bool leafRequiringGrad = false;
    if (auto p = mlir::dyn_cast_or_null<ParamOp>(def))
      leafRequiringGrad = !p.getFrozen();
    if (auto in = mlir::dyn_cast_or_null<InputOp>(def))
      leafRequiringGrad = in.getRequiresGrad();
    if (leafRequiringGrad) {
      error(loc, "a leaf Variable that requires grad is being used in an "
                 "in-place operation.");
      hint("use the out-of-place form (x = x." + name.drop_back().str() +
           "(...)), or modify it inside a no_grad { } block");
      return failure();
    }
  }
  mlir::Location l = L(loc);
  // The in-place op on `target`, at the insertion point.
  auto emit = [&](Value target) -> FailureOr<Value> {
    Value *x = &target;
    FailureOr<Value> r = failure();
    auto unaryInPlace = unaryBindings().inPlace.find(name);
    if (unaryInPlace != unaryBindings().inPlace.end()) {
      auto b = bindArgs(name, {}, 0, args, loc);
      if (failed(b))
        return failure();
      r = unaryInPlace->second(builder, l, *x);
    } else if (name == "masked_fill_") {
      auto b = bindArgs(name, {"mask", "value"}, 2, args, loc);
      if (failed(b))
        return failure();
      auto m = asTensor(b->get("mask"), b->locOf("mask"), "mask");
      auto v = asNumber(b->get("value"), b->locOf("value"), "value");
      if (failed(m) || failed(v))
        return failure();
      if (llvm::Error err = sh::broadcastsTo(typeOf(*m).getShape(),
                                             typeOf(*x).getShape())) {
        error(loc, name + ": " + llvm::toString(std::move(err)));
        return failure();
      }
      r = MaskedFillInPlaceOp::create(builder, l, x->getType(), *x, *m,
                                      builder.getF64FloatAttr(*v))
              ->getResult(0);
    } else {
      auto b = bindArgs(name, {"other"}, 1, args, loc);
      if (failed(b))
        return failure();
      auto pair = promotePair(Val::tensor(*x), selfLoc, b->get("other"),
                              b->locOf("other"), name);
      if (failed(pair))
        return failure();
      Value other = pair->second;
      if (typeOf(other).getElementType() != typeOf(*x).getElementType()) {
        error(b->locOf("other"), name + ": expected operands of the same "
                                        "dtype, got " + typeStr(*x) + " and " +
                                        typeStr(other));
        return failure();
      }
      auto bc = sh::broadcast(typeOf(*x).getShape(), typeOf(other).getShape());
      if (!bc) {
        error(loc, name + ": " + llvm::toString(bc.takeError()));
        return failure();
      }
      if (*bc != typeOf(*x).getShape()) {
        error(loc, "output with shape " + sh::str(typeOf(*x).getShape()) +
                       " doesn't match the broadcast shape " + sh::str(*bc));
        return failure();
      }
      mlir::Operation *op;
      if (name == "add_") op = AddInPlaceOp::create(builder, l, *x, other);
      else if (name == "sub_") op = SubInPlaceOp::create(builder, l, *x, other);
      else if (name == "mul_") op = MulInPlaceOp::create(builder, l, *x, other);
      else op = DivInPlaceOp::create(builder, l, *x, other);
      r = op->getResult(0);
    }
    return r;
  };

  // Writing through a detached alias (`d = w.detach(); d.add_(1)`) writes
  // the storage it shares with `w`: PyTorch allows it (`d` does not require
  // grad, nothing is recorded) and `w` sees the new values, with its version
  // counter bumped. It is emitted as that update of `w` under no_grad, then
  // detached again; the names of `w` and of `d` are rebound to the new
  // versions (graft-check-inplace then checks the write against what
  // backward saved of `w`).
  Value base = *x;
  while (auto det = base.getDefiningOp<DetachOp>())
    base = det.getInput();
  if (base != *x) {
    Value newBase;
    if (mode == GradMode::Grad) {
      auto block = std::make_unique<mlir::Block>();
      mlir::OpBuilder::InsertPoint ip = builder.saveInsertionPoint();
      builder.setInsertionPointToEnd(block.get());
      FailureOr<Value> r = emit(base);
      if (succeeded(r))
        YieldOp::create(builder, l, mlir::ValueRange{*r});
      builder.restoreInsertionPoint(ip);
      if (failed(r))
        return failure();
      auto region =
          NoGradOp::create(builder, l, mlir::TypeRange{r->getType()});
      region->getRegion(0).push_back(block.release());
      newBase = region->getResult(0);
    } else {
      FailureOr<Value> r = emit(base);
      if (failed(r))
        return failure();
      newBase = *r;
    }
    Value alias = DetachOp::create(builder, l, newBase.getType(), newBase);
    for (Value v = *x; v != base; v = v.getDefiningOp<DetachOp>().getInput())
      rebindTensor(v, alias);
    rebindTensor(base, newBase);
    if (selfExpr && selfExpr->kind == ExprKind::Name)
      bind(selfExpr->name, Val::tensor(alias));
    return Val::tensor(alias);
  }
  FailureOr<Value> r = emit(*x);
  if (failed(r))
    return failure();
  // The name now denotes the new version (x.add_(y) returns x), and so does
  // every other name bound to the same tensor (`a = x`).
  rebindTensor(*x, *r);
  if (selfExpr && selfExpr->kind == ExprKind::Name)
    bind(selfExpr->name, Val::tensor(*r));
  return Val::tensor(*r);
}

FailureOr<Val> Gen::callMethod(Val self, Loc selfLoc, StringRef name,
                               std::vector<CallArg> &args, Loc loc,
                               const Expr *selfExpr) {
  auto x = asTensor(self, selfLoc, ("." + name + "()").str());
  if (failed(x))
    return failure();
  RankedTensorType type = typeOf(*x);
  int64_t rank = type.getRank();
  auto tensorResult = [](FailureOr<Value> r) -> FailureOr<Val> {
    if (failed(r))
      return failure();
    return Val::tensor(*r);
  };
  // Varargs shapes: x.view(B, -1) or x.view([B, -1]).
  auto shapeArgs = [&]() -> FailureOr<llvm::SmallVector<int64_t>> {
    if (args.size() == 1 && args[0].value.k == Val::K::List)
      return asIntList(args[0].value, args[0].loc, name);
    llvm::SmallVector<int64_t> out;
    for (const CallArg &a : args) {
      if (!a.keyword.empty()) {
        error(a.loc, name + "() got an unexpected keyword argument '" +
                         a.keyword + "'");
        return failure();
      }
      auto i = asInt(a.value, a.loc, "a size");
      if (failed(i))
        return failure();
      out.push_back(*i);
    }
    return out;
  };

  if (StringRef(name).ends_with("_") && name != "requires_grad_")
    return inPlace(name, self, selfExpr, selfLoc, args, loc);
  if (name == "requires_grad_") {
    auto b = bindArgs(name, {"requires_grad"}, 0, args, loc);
    if (failed(b))
      return failure();
    bool on = true;
    if (b->has("requires_grad")) {
      auto v = asBool(b->get("requires_grad"), b->locOf("requires_grad"),
                      "requires_grad");
      if (failed(v))
        return failure();
      on = *v;
    }
    mlir::Operation *def = x->getDefiningOp();
    if (auto in = mlir::dyn_cast_or_null<InputOp>(def)) {
      if (on && !mlir::isa<mlir::FloatType>(type.getElementType())) {
        error(loc, "only Tensors of floating point dtype can require "
                   "gradients (input '" + in.getName() + "' is " +
                   typeStr(*x) + ")");
        hint("declare the input with a float dtype such as f32, or do not "
             "ask for its gradient");
        return failure();
      }
      in.setRequiresGrad(on);
      return self;
    }
    if (auto p = mlir::dyn_cast_or_null<ParamOp>(def)) {
      p.setFrozen(!on);
      return self;
    }
    error(loc, "you can only change requires_grad flags of leaf variables. "
               "If you want to use a computed variable in a subgraph that "
               "doesn't require differentiation use var_no_grad = "
               "var.detach().");
    hint("requires_grad_ applies to inputs and parameters; this value is "
         "computed by an op");
    return failure();
  }
  if (name == "retain_grad" || name == "register_hook") {
    std::vector<CallArg> all = {{"", selfLoc, self}};
    all.insert(all.end(), args.begin(), args.end());
    auto r = callBuiltin(name == "retain_grad" ? "retain_grad" : "grad_hook",
                         all, loc);
    if (succeeded(r) && name == "register_hook" && selfExpr &&
        selfExpr->kind == ExprKind::Name)
      bind(selfExpr->name, *r);
    return r;
  }
  if (name == "detach") {
    if (failed(bindArgs(name, {}, 0, args, loc)))
      return failure();
    return tensorResult(make<DetachOp>(loc, name, {*x}, {}, type));
  }
  if (name == "clone") {
    if (failed(bindArgs(name, {}, 0, args, loc)))
      return failure();
    return tensorResult(make<CloneOp>(loc, name, {*x}, {}, type));
  }
  if (name == "float" || name == "double" || name == "long" || name == "to") {
    Type elt;
    if (name == "float") elt = builder.getF32Type();
    else if (name == "double") elt = builder.getF64Type();
    else if (name == "long") elt = builder.getI64Type();
    else {
      auto b = bindArgs(name, {"dtype"}, 1, args, loc);
      if (failed(b))
        return failure();
      auto s = asString(b->get("dtype"), b->locOf("dtype"), "dtype");
      if (failed(s))
        return failure();
      elt = elementTypeNamed(*s);
      if (!elt) {
        error(b->locOf("dtype"), "unknown dtype '" + *s +
                                     "'; expected f32, f64, bf16, i64, i32 or "
                                     "i1");
        return failure();
      }
    }
    if (name != "to" && failed(bindArgs(name, {}, 0, args, loc)))
      return failure();
    return tensorResult(make<CastOp>(loc, "to", {*x}, {},
                                     RankedTensorType::get(type.getShape(),
                                                           elt)));
  }
  if (name == "reshape" || name == "view") {
    auto shape = shapeArgs();
    if (failed(shape))
      return failure();
    return reshape(*x, *shape, loc, name);
  }
  if (name == "flatten") {
    auto b = bindArgs(name, {"start_dim", "end_dim"}, 0, args, loc);
    if (failed(b))
      return failure();
    int64_t s = 0, e = -1;
    if (b->has("start_dim")) {
      auto v = asInt(b->get("start_dim"), b->locOf("start_dim"), "start_dim");
      if (failed(v))
        return failure();
      s = *v;
    }
    if (b->has("end_dim")) {
      auto v = asInt(b->get("end_dim"), b->locOf("end_dim"), "end_dim");
      if (failed(v))
        return failure();
      e = *v;
    }
    auto sd = normDim(s, rank, loc), ed = normDim(e, rank, loc);
    if (failed(sd) || failed(ed))
      return failure();
    llvm::SmallVector<int64_t> shape;
    int64_t merged = 1;
    for (int64_t i = 0; i < rank; ++i) {
      if (i < *sd || i > *ed)
        shape.push_back(type.getDimSize(i));
      else {
        merged *= type.getDimSize(i);
        if (i == *ed)
          shape.push_back(merged);
      }
    }
    return reshape(*x, shape, loc, name);
  }
  if (name == "unsqueeze" || name == "squeeze") {
    auto b = bindArgs(name, {"dim"}, name == "unsqueeze" ? 1 : 0, args, loc);
    if (failed(b))
      return failure();
    llvm::SmallVector<int64_t> shape(type.getShape());
    if (name == "unsqueeze") {
      auto d = asInt(b->get("dim"), b->locOf("dim"), "dim");
      if (failed(d))
        return failure();
      auto nd = normDim(*d, rank + 1, b->locOf("dim"));
      if (failed(nd))
        return failure();
      shape.insert(shape.begin() + *nd, 1);
    } else if (b->has("dim")) {
      auto d = asInt(b->get("dim"), b->locOf("dim"), "dim");
      if (failed(d))
        return failure();
      auto nd = normDim(*d, rank, b->locOf("dim"));
      if (failed(nd))
        return failure();
      if (rank > 0 && shape[*nd] == 1)
        shape.erase(shape.begin() + *nd);
    } else {
      llvm::erase(shape, 1);
    }
    return reshape(*x, shape, loc, name);
  }
  if (name == "transpose") {
    auto b = bindArgs(name, {"dim0", "dim1"}, 2, args, loc);
    if (failed(b))
      return failure();
    auto d0 = asInt(b->get("dim0"), b->locOf("dim0"), "dim0");
    auto d1 = asInt(b->get("dim1"), b->locOf("dim1"), "dim1");
    if (failed(d0) || failed(d1))
      return failure();
    auto n0 = normDim(*d0, rank, b->locOf("dim0"));
    auto n1 = normDim(*d1, rank, b->locOf("dim1"));
    if (failed(n0) || failed(n1))
      return failure();
    return tensorResult(
        make<TransposeOp>(loc, name, {*x},
                          {attr("dim0", builder.getI64IntegerAttr(*n0)),
                           attr("dim1", builder.getI64IntegerAttr(*n1))}));
  }
  if (name == "permute") {
    auto dims = shapeArgs();
    if (failed(dims))
      return failure();
    for (int64_t &d : *dims) {
      auto n = normDim(d, rank, loc);
      if (failed(n))
        return failure();
      d = *n;
    }
    return tensorResult(make<PermuteOp>(
        loc, name, {*x}, {attr("dims", builder.getDenseI64ArrayAttr(*dims))}));
  }
  if (name == "expand" || name == "broadcast_to") {
    auto shape = shapeArgs();
    if (failed(shape))
      return failure();
    // -1 keeps the size of that dimension.
    int64_t offset = static_cast<int64_t>(shape->size()) - rank;
    for (auto [i, d] : llvm::enumerate(*shape))
      if (d == -1 && static_cast<int64_t>(i) >= offset)
        d = type.getDimSize(i - offset);
    if (llvm::Error err = sh::broadcastsTo(type.getShape(), *shape)) {
      error(loc, name + ": " + llvm::toString(std::move(err)));
      return failure();
    }
    return tensorResult(make<BroadcastToOp>(
        loc, name, {*x}, {},
        RankedTensorType::get(*shape, type.getElementType())));
  }
  // Every functional op as a method: x.relu(), x.softmax(-1), x.sum(1), ...
  static const char *const asMethods[] = {
      "gelu", "sum", "mean", "amax", "max", "argmax",
      "softmax", "log_softmax", "matmul", "add", "sub", "mul", "div", "pow",
      "maximum", "minimum", "masked_fill"};
  if (llvm::is_contained(asMethods, name) ||
      unaryBindings().functions.count(name)) {
    std::vector<CallArg> all = {{"", selfLoc, self}};
    all.insert(all.end(), args.begin(), args.end());
    return callBuiltin(name, all, loc);
  }
  error(loc, "tensor has no method '" + name + "'");
  return failure();
}

//===----------------------------------------------------------------------===//
// Modules and functions
//===----------------------------------------------------------------------===//

/// state_dict names are unique: reassigning an instance name or declaring a
/// parameter twice would give two tensors one key.
void Gen::checkUniqueName(Loc loc, StringRef name) {
  auto [it, inserted] = declared.try_emplace(name, loc);
  if (inserted)
    return;
  error(loc, "duplicate state_dict name '" + name + "'");
  note(it->second, "previous declaration is here");
}

Value Gen::declParam(Loc loc, StringRef name, RankedTensorType type,
                     InitAttr init) {
  checkUniqueName(loc, name);
  auto op = ParamOp::create(builder, L(loc), type, name, init, false);
  insertDecl(op);
  return op;
}

Value Gen::declBuffer(Loc loc, StringRef name, RankedTensorType type,
                      InitAttr init) {
  checkUniqueName(loc, name);
  auto op = BufferOp::create(builder, L(loc), type, name, init);
  insertDecl(op);
  return op;
}

/// Declarations go before all computation of the model, in declaration
/// order, so they dominate every use, including uses inside regions.
void Gen::insertDecl(mlir::Operation *op) {
  mlir::Block &body = model.getBody().front();
  if (lastDecl)
    op->moveAfter(lastDecl);
  else
    op->moveBefore(&body, body.begin());
  lastDecl = op;
}

bool Gen::canDeclare(Loc l, StringRef what) {
  if (declaring && regions.empty())
    return true;
  error(l, what + " can only be declared in a model or module body, not "
                  "inside a function, loop or block");
  return false;
}

static InitAttr makeInit(mlir::MLIRContext *ctx, InitKind kind,
                         llvm::ArrayRef<NamedAttribute> args = {}) {
  return InitAttr::get(ctx, kind,
                       args.empty() ? mlir::DictionaryAttr()
                                    : mlir::DictionaryAttr::get(ctx, args));
}

FailureOr<Val> Gen::instantiateBuiltin(StringRef type,
                                       std::vector<CallArg> &args, Loc loc,
                                       const std::string &pfx) {
  auto inst = std::make_shared<Instance>();
  inst->prefix = pfx;
  inst->typeName = type.str();
  inst->scope.parent = &globals;
  Type f32 = builder.getF32Type();
  auto set = [&](StringRef k, Val v) { inst->scope.vars[k] = std::move(v); };
  auto cfgInt = [&](Bound &b, StringRef k,
                    int64_t fallback) -> FailureOr<int64_t> {
    if (!b.has(k))
      return fallback;
    return asInt(b.get(k), b.locOf(k), k);
  };
  auto cfgBool = [&](Bound &b, StringRef k, bool fallback) -> FailureOr<bool> {
    if (!b.has(k))
      return fallback;
    return asBool(b.get(k), b.locOf(k), k);
  };
  auto cfgNum = [&](Bound &b, StringRef k, double fallback) -> FailureOr<double> {
    if (!b.has(k))
      return fallback;
    return asNumber(b.get(k), b.locOf(k), k);
  };
  auto positive = [&](Bound &b, StringRef k, int64_t v) -> LogicalResult {
    if (v > 0)
      return success();
    error(b.locOf(k), type + ": " + k + " must be positive, got " + Twine(v));
    return failure();
  };
  // PyTorch's reset_parameters(): kaiming_uniform(a=sqrt(5)) for the weight,
  // uniform(+-1/sqrt(fan_in)) for the bias.
  auto kaimingWeight = [&] {
    return makeInit(&ctx, InitKind::kaiming_uniform,
                    {attr("a", builder.getF64FloatAttr(std::sqrt(5.0)))});
  };
  auto fanInBias = [&](int64_t fanIn) {
    double bound = fanIn > 0 ? 1.0 / std::sqrt(static_cast<double>(fanIn)) : 0;
    return makeInit(&ctx, InitKind::uniform,
                    {attr("a", builder.getF64FloatAttr(-bound)),
                     attr("b", builder.getF64FloatAttr(bound))});
  };
  auto result = [&]() {
    Val v;
    v.k = Val::K::Inst;
    v.inst = inst;
    return v;
  };

  if (type == "Linear") {
    auto b = bindArgs(type, {"in_features", "out_features", "bias"}, 2, args,
                      loc);
    if (failed(b))
      return failure();
    auto in = cfgInt(*b, "in_features", 0), out = cfgInt(*b, "out_features", 0);
    auto bias = cfgBool(*b, "bias", true);
    if (failed(in) || failed(out) || failed(bias) ||
        failed(positive(*b, "in_features", *in)) ||
        failed(positive(*b, "out_features", *out)))
      return failure();
    set("in_features", Val::number(*in, true));
    set("out_features", Val::number(*out, true));
    set("weight", Val::tensor(declParam(
                      loc, pfx + "weight",
                      RankedTensorType::get({*out, *in}, f32), kaimingWeight())));
    if (*bias)
      set("bias", Val::tensor(declParam(loc, pfx + "bias",
                                        RankedTensorType::get({*out}, f32),
                                        fanInBias(*in))));
    return result();
  }
  if (type == "Conv2d") {
    auto b = bindArgs(type,
                      {"in_channels", "out_channels", "kernel_size", "stride",
                       "padding", "dilation", "groups", "bias"},
                      3, args, loc);
    if (failed(b))
      return failure();
    auto in = cfgInt(*b, "in_channels", 0), out = cfgInt(*b, "out_channels", 0);
    auto groups = cfgInt(*b, "groups", 1);
    auto bias = cfgBool(*b, "bias", true);
    auto kernel = asIntList(b->get("kernel_size"), b->locOf("kernel_size"),
                            "kernel_size");
    if (failed(in) || failed(out) || failed(groups) || failed(bias) ||
        failed(kernel) || failed(positive(*b, "in_channels", *in)) ||
        failed(positive(*b, "out_channels", *out)) ||
        failed(positive(*b, "groups", *groups)))
      return failure();
    if (kernel->size() == 1)
      kernel->push_back(kernel->front());
    if (kernel->size() != 2 || (*kernel)[0] <= 0 || (*kernel)[1] <= 0) {
      error(b->locOf("kernel_size"), "Conv2d: kernel_size must be one or two "
                                     "positive integers");
      return failure();
    }
    if (*in % *groups || *out % *groups) {
      error(b->locOf("groups"), *in % *groups
                                    ? "in_channels must be divisible by groups"
                                    : "out_channels must be divisible by "
                                      "groups");
      return failure();
    }
    for (StringRef k : {"stride", "padding", "dilation", "groups"})
      if (b->has(k))
        set(k, b->get(k));
    // Saturating: the weight's shape check reports sizes out of range.
    int64_t fanIn = graft::shape::numel({*in / *groups, (*kernel)[0],
                                        (*kernel)[1]});
    set("weight",
        Val::tensor(declParam(loc, pfx + "weight",
                              RankedTensorType::get({*out, *in / *groups,
                                                     (*kernel)[0], (*kernel)[1]},
                                                    f32),
                              kaimingWeight())));
    if (*bias)
      set("bias", Val::tensor(declParam(loc, pfx + "bias",
                                        RankedTensorType::get({*out}, f32),
                                        fanInBias(fanIn))));
    return result();
  }
  if (type == "LayerNorm") {
    auto b = bindArgs(type, {"normalized_shape", "eps", "elementwise_affine",
                             "bias"},
                      1, args, loc);
    if (failed(b))
      return failure();
    auto shape = asIntList(b->get("normalized_shape"),
                           b->locOf("normalized_shape"), "normalized_shape");
    auto eps = cfgNum(*b, "eps", 1e-5);
    auto affine = cfgBool(*b, "elementwise_affine", true);
    auto bias = cfgBool(*b, "bias", true);
    if (failed(shape) || failed(eps) || failed(affine) || failed(bias))
      return failure();
    std::vector<Val> dims;
    for (int64_t d : *shape)
      dims.push_back(Val::number(d, true));
    set("normalized_shape", Val::listOf(std::move(dims)));
    set("eps", Val::number(*eps, false));
    auto t = RankedTensorType::get(*shape, f32);
    if (*affine) {
      set("weight", Val::tensor(declParam(loc, pfx + "weight", t,
                                          makeInit(&ctx, InitKind::ones))));
      if (*bias)
        set("bias", Val::tensor(declParam(loc, pfx + "bias", t,
                                          makeInit(&ctx, InitKind::zeros))));
    }
    return result();
  }
  if (type == "BatchNorm1d" || type == "BatchNorm2d") {
    auto b = bindArgs(type, {"num_features", "eps", "momentum", "affine"}, 1,
                      args, loc);
    if (failed(b))
      return failure();
    auto n = cfgInt(*b, "num_features", 0);
    auto eps = cfgNum(*b, "eps", 1e-5), momentum = cfgNum(*b, "momentum", 0.1);
    auto affine = cfgBool(*b, "affine", true);
    if (failed(n) || failed(eps) || failed(momentum) || failed(affine) ||
        failed(positive(*b, "num_features", *n)))
      return failure();
    set("eps", Val::number(*eps, false));
    set("momentum", Val::number(*momentum, false));
    auto t = RankedTensorType::get({*n}, f32);
    if (*affine) {
      set("weight", Val::tensor(declParam(loc, pfx + "weight", t,
                                          makeInit(&ctx, InitKind::ones))));
      set("bias", Val::tensor(declParam(loc, pfx + "bias", t,
                                        makeInit(&ctx, InitKind::zeros))));
    }
    // The buffers of PyTorch's state_dict, in its order.
    set("running_mean",
        Val::tensor(declBuffer(loc, pfx + "running_mean", t,
                               makeInit(&ctx, InitKind::zeros))));
    set("running_var", Val::tensor(declBuffer(loc, pfx + "running_var", t,
                                              makeInit(&ctx, InitKind::ones))));
    set("num_batches_tracked",
        Val::tensor(declBuffer(
            loc, pfx + "num_batches_tracked",
            RankedTensorType::get({}, builder.getI64Type()),
            makeInit(&ctx, InitKind::zeros))));
    return result();
  }
  if (type == "Embedding") {
    auto b = bindArgs(type, {"num_embeddings", "embedding_dim", "padding_idx"},
                      2, args, loc);
    if (failed(b))
      return failure();
    auto n = cfgInt(*b, "num_embeddings", 0), d = cfgInt(*b, "embedding_dim", 0);
    if (failed(n) || failed(d) || failed(positive(*b, "num_embeddings", *n)) ||
        failed(positive(*b, "embedding_dim", *d)))
      return failure();
    if (b->has("padding_idx"))
      set("padding_idx", b->get("padding_idx"));
    set("weight", Val::tensor(declParam(loc, pfx + "weight",
                                        RankedTensorType::get({*n, *d}, f32),
                                        makeInit(&ctx, InitKind::normal))));
    return result();
  }
  if (type == "Dropout") {
    auto b = bindArgs(type, {"p"}, 0, args, loc);
    if (failed(b))
      return failure();
    auto p = cfgNum(*b, "p", 0.5);
    if (failed(p))
      return failure();
    set("p", Val::number(*p, false));
    return result();
  }
  if (type == "MaxPool2d") {
    auto b = bindArgs(type, {"kernel_size", "stride", "padding"}, 1, args, loc);
    if (failed(b))
      return failure();
    for (StringRef k : {"kernel_size", "stride", "padding"})
      if (b->has(k))
        set(k, b->get(k));
    return result();
  }
  if (type == "GELU" || type == "Flatten" ||
      unaryBindings().modules.count(type)) {
    auto b = bindArgs(type, type == "GELU" ? llvm::ArrayRef<StringRef>{"approximate"}
                                           : llvm::ArrayRef<StringRef>{},
                      0, args, loc);
    if (failed(b))
      return failure();
    if (b->has("approximate"))
      set("approximate", b->get("approximate"));
    return result();
  }
  error(loc, "unknown built-in module '" + type + "'");
  return failure();
}

/// `name = Module(args)` and `name = [Module(args) for i in range(n)]`:
/// instantiation with the state_dict prefix of the name.
FailureOr<Val> Gen::instantiate(const Expr &e, const std::string &pfx) {
  if (e.kind == ExprKind::ListComp) {
    auto iterable = eval(*e.rhs);
    if (failed(iterable))
      return failure();
    if (iterable->k != Val::K::List) {
      error(e.rhs->loc, "expected a list or range(...) to iterate over");
      return failure();
    }
    auto list = std::make_shared<Instance>();
    list->prefix = pfx;
    list->typeName = "ModuleList";
    for (auto [i, item] : llvm::enumerate(*iterable->list)) {
      bind(e.name, item);
      auto v = instantiate(*e.lhs, pfx + std::to_string(i) + ".");
      if (failed(v))
        return failure();
      if (v->k != Val::K::Inst) {
        error(e.lhs->loc, "a list of modules must contain module instances");
        return failure();
      }
      list->children.push_back(v->inst);
    }
    Val r;
    r.k = Val::K::Inst;
    r.inst = list;
    return r;
  }
  if (e.kind == ExprKind::List) {
    auto list = std::make_shared<Instance>();
    list->prefix = pfx;
    list->typeName = "ModuleList";
    for (auto [i, a] : llvm::enumerate(e.args)) {
      auto v = instantiate(*a.value, pfx + std::to_string(i) + ".");
      if (failed(v))
        return failure();
      if (v->k != Val::K::Inst)
        return eval(e); // not a module list: an ordinary list
      list->children.push_back(v->inst);
    }
    Val r;
    r.k = Val::K::Inst;
    r.inst = list;
    return r;
  }
  if (e.kind != ExprKind::Call || e.lhs->kind != ExprKind::Name)
    return eval(e);
  Val *shadow = scope->lookup(e.lhs->name);
  bool isBuiltinModule = !shadow && !modules.count(e.lhs->name) &&
                         !e.lhs->name.empty() && llvm::isUpper(e.lhs->name[0]);
  if (!shadow && (modules.count(e.lhs->name) || isBuiltinModule)) {
    if (e.lhs->name == "Sequential" || e.lhs->name == "ModuleList") {
      auto seq = std::make_shared<Instance>();
      seq->prefix = pfx;
      seq->typeName = e.lhs->name;
      std::vector<const Expr *> items;
      if (e.lhs->name == "ModuleList" && e.args.size() == 1)
        for (const Arg &a : e.args[0].value->args)
          items.push_back(a.value.get());
      else
        for (const Arg &a : e.args)
          items.push_back(a.value.get());
      for (auto [i, item] : llvm::enumerate(items)) {
        auto v = instantiate(*item, pfx + std::to_string(i) + ".");
        if (failed(v))
          return failure();
        if (v->k != Val::K::Inst) {
          error(item->loc, e.lhs->name + " takes module instances, got " +
                               kindName(*v));
          return failure();
        }
        seq->children.push_back(v->inst);
      }
      Val r;
      r.k = Val::K::Inst;
      r.inst = seq;
      return r;
    }
    auto args = evalArgs(e.args);
    if (failed(args))
      return failure();
    auto it = modules.find(e.lhs->name);
    if (it == modules.end()) {
      auto type = eval(*e.lhs); // reports unknown names with a suggestion
      if (failed(type))
        return failure();
      return instantiateBuiltin(e.lhs->name, *args, e.loc, pfx);
    }
    const ModuleDecl &decl = *it->second;
    if (callDepth > 64) {
      error(e.loc, "modules nested too deeply (recursive instantiation?)");
      return failure();
    }
    auto inst = std::make_shared<Instance>();
    inst->prefix = pfx;
    inst->typeName = decl.name;
    inst->decl = &decl;
    inst->scope.parent = &globals;
    // Bind the module's parameters like a function's.
    std::vector<StringRef> names;
    size_t required = 0;
    for (const Arg &p : decl.params) {
      names.push_back(p.keyword);
      if (!p.value)
        required = names.size();
    }
    auto b = bindArgs(decl.name, names, required, *args, e.loc);
    if (failed(b))
      return failure();
    Scope *savedScope = scope;
    std::string savedPrefix = prefix;
    bool savedDeclaring = declaring;
    auto savedRegions = std::move(regions);
    regions.clear();
    scope = &inst->scope;
    for (const Arg &p : decl.params) {
      if (b->values.count(p.keyword)) {
        inst->scope.vars[p.keyword] = b->get(p.keyword);
      } else {
        scope = savedScope;
        auto v = eval(*p.value);
        scope = &inst->scope;
        if (failed(v))
          return failure();
        inst->scope.vars[p.keyword] = *v;
      }
    }
    prefix = pfx;
    declaring = true;
    ++callDepth;
    LogicalResult ok = success();
    for (const StmtPtr &s : decl.body) {
      if (s->kind == StmtKind::Def)
        continue; // methods
      if (failed(genStmt(*s, nullptr)))
        ok = failure();
    }
    --callDepth;
    scope = savedScope;
    prefix = savedPrefix;
    declaring = savedDeclaring;
    regions = std::move(savedRegions);
    if (failed(ok))
      return failure();
    Val r;
    r.k = Val::K::Inst;
    r.inst = inst;
    return r;
  }
  return eval(e);
}

FailureOr<Val> Gen::callInstance(Instance &inst, std::vector<CallArg> &args,
                                 Loc loc) {
  auto var = [&](StringRef k) { return inst.scope.vars.lookup(k); };
  auto forward1 = [&](StringRef fn,
                      std::vector<CallArg> extra = {}) -> FailureOr<Val> {
    if (args.size() != 1 || !args[0].keyword.empty()) {
      error(loc, inst.typeName + ".forward() takes 1 positional argument but " +
                     Twine(args.size()) + " were given");
      return failure();
    }
    std::vector<CallArg> all = {args[0]};
    all.insert(all.end(), extra.begin(), extra.end());
    return callBuiltin(fn, all, loc);
  };
  StringRef t = inst.typeName;
  if (inst.decl) {
    for (const StmtPtr &s : inst.decl->body)
      if (s->kind == StmtKind::Def && s->func->name == "forward")
        return callFunction(*s->func, &inst.scope, args, loc, &inst);
    error(loc, "module '" + t + "' has no forward method to call");
    return failure();
  }
  if (t == "Sequential") {
    if (args.size() != 1) {
      error(loc, "Sequential takes one input");
      return failure();
    }
    Val cur = args[0].value;
    for (auto &child : inst.children) {
      std::vector<CallArg> a = {{"", args[0].loc, cur}};
      auto r = callInstance(*child, a, loc);
      if (failed(r))
        return failure();
      cur = *r;
    }
    return cur;
  }
  if (t == "ModuleList") {
    error(loc, "a list of modules is not callable; iterate over it (for "
               "block in blocks { x = block(x) })");
    return failure();
  }
  if (t == "Linear") {
    std::vector<CallArg> extra = {{"", loc, var("weight")}};
    if (inst.scope.vars.count("bias"))
      extra.push_back({"", loc, var("bias")});
    return forward1("linear", extra);
  }
  if (t == "Conv2d") {
    std::vector<CallArg> extra = {{"", loc, var("weight")}};
    if (inst.scope.vars.count("bias"))
      extra.push_back({"bias", loc, var("bias")});
    for (StringRef k : {"stride", "padding", "dilation", "groups"})
      if (inst.scope.vars.count(k))
        extra.push_back({k.str(), loc, var(k)});
    return forward1("conv2d", extra);
  }
  if (t == "LayerNorm") {
    std::vector<CallArg> extra = {{"", loc, var("normalized_shape")}};
    for (StringRef k : {"weight", "bias", "eps"})
      if (inst.scope.vars.count(k))
        extra.push_back({k.str(), loc, var(k)});
    return forward1("layer_norm", extra);
  }
  if (t == "BatchNorm1d" || t == "BatchNorm2d") {
    std::vector<CallArg> extra = {{"", loc, var("running_mean")},
                                  {"", loc, var("running_var")}};
    for (StringRef k : {"weight", "bias", "momentum", "eps"})
      if (inst.scope.vars.count(k))
        extra.push_back({k.str(), loc, var(k)});
    if (args.size() == 1 && args[0].value.k == Val::K::Tensor) {
      int64_t rank = typeOf(args[0].value.t).getRank();
      bool ok = t == "BatchNorm2d" ? rank == 4 : (rank == 2 || rank == 3);
      if (!ok) {
        error(loc, "expected " +
                       Twine(t == "BatchNorm2d" ? "4D" : "2D or 3D") +
                       " input (got " + Twine(rank) + "D input)");
        return failure();
      }
    }
    return forward1("batch_norm", extra);
  }
  if (t == "Embedding") {
    std::vector<CallArg> extra = {{"", loc, var("weight")}};
    if (inst.scope.vars.count("padding_idx"))
      extra.push_back({"padding_idx", loc, var("padding_idx")});
    return forward1("embedding", extra);
  }
  if (t == "Dropout")
    return forward1("dropout", {{"p", loc, var("p")}});
  if (t == "MaxPool2d") {
    std::vector<CallArg> extra;
    for (StringRef k : {"kernel_size", "stride", "padding"})
      if (inst.scope.vars.count(k))
        extra.push_back({k.str(), loc, var(k)});
    return forward1("max_pool2d", extra);
  }
  auto unaryModule = unaryBindings().modules.find(t);
  if (unaryModule != unaryBindings().modules.end())
    return forward1(unaryModule->second);
  if (t == "GELU") {
    std::vector<CallArg> extra;
    if (inst.scope.vars.count("approximate"))
      extra.push_back({"approximate", loc, var("approximate")});
    return forward1("gelu", extra);
  }
  if (t == "Flatten") {
    if (args.size() != 1) {
      error(loc, "Flatten takes one input");
      return failure();
    }
    std::vector<CallArg> a = {{"", loc, Val::number(1, true)}};
    return callMethod(args[0].value, args[0].loc, "flatten", a, loc, nullptr);
  }
  error(loc, "'" + t + "' object is not callable");
  return failure();
}

FailureOr<Val> Gen::callFunction(const FunctionDecl &fn, Scope *parent,
                                 std::vector<CallArg> &args, Loc loc,
                                 Instance *self) {
  if (callDepth > 64) {
    error(loc, "maximum recursion depth exceeded while calling '" + fn.name +
                   "'");
    return failure();
  }
  std::vector<StringRef> names;
  size_t required = 0;
  for (const Arg &p : fn.params) {
    names.push_back(p.keyword);
    if (!p.value)
      required = names.size();
  }
  auto b = bindArgs(fn.name, names, required, args, loc);
  if (failed(b))
    return failure();
  Scope local;
  local.parent = parent ? parent : &globals;
  for (const Arg &p : fn.params) {
    if (b->values.count(p.keyword)) {
      local.vars[p.keyword] = b->get(p.keyword);
      continue;
    }
    auto v = eval(*p.value);
    if (failed(v))
      return failure();
    local.vars[p.keyword] = *v;
  }
  bool noGrad = llvm::is_contained(fn.decorators, "no_grad");
  bool inference = llvm::is_contained(fn.decorators, "inference_mode") ||
                   llvm::is_contained(fn.decorators, "inference");
  for (auto [d, l] : llvm::zip(fn.decorators, fn.decoratorLocs))
    if (d != "no_grad" && d != "inference_mode" && d != "inference") {
      error(l, "unknown decorator '@" + d +
                   "'; expected @no_grad or @inference_mode");
      return failure();
    }

  Scope *savedScope = scope;
  bool savedDeclaring = declaring;
  GradMode savedMode = mode;
  auto savedRegions = std::move(regions);
  regions.clear();
  scope = &local;
  declaring = false;
  ++callDepth;
  ReturnSignal ret;
  LogicalResult ok = success();
  if (noGrad || inference) {
    // The decorator form: the whole body is one grad-mode region.
    mlir::Location l = L(fn.loc);
    auto block = std::make_unique<mlir::Block>();
    mlir::OpBuilder::InsertPoint ip = builder.saveInsertionPoint();
    builder.setInsertionPointToEnd(block.get());
    mode = inference ? GradMode::Inference : GradMode::NoGrad;
    ok = genBlock(fn.body, &ret);
    llvm::SmallVector<Value> yielded;
    if (succeeded(ok) && ret.value.k == Val::K::Tensor)
      yielded.push_back(ret.value.t);
    if (succeeded(ok) && ret.value.k != Val::K::Tensor &&
        ret.value.k != Val::K::None) {
      error(fn.loc, "a no_grad function must return a tensor or nothing");
      ok = failure();
    }
    YieldOp::create(builder, l, yielded);
    builder.restoreInsertionPoint(ip);
    mlir::TypeRange types(yielded);
    mlir::Operation *op =
        inference ? InferenceOp::create(builder, l, types).getOperation()
                  : NoGradOp::create(builder, l, types).getOperation();
    op->getRegion(0).push_back(block.release());
    if (!yielded.empty())
      ret.value = Val::tensor(op->getResult(0));
  } else {
    ok = genBlock(fn.body, &ret);
  }
  --callDepth;
  scope = savedScope;
  declaring = savedDeclaring;
  mode = savedMode;
  regions = std::move(savedRegions);
  if (failed(ok))
    return failure();
  return ret.value;
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

void Gen::rebindTensor(Value from, Value to) {
  for (Scope *s = scope; s; s = s->parent)
    for (auto &entry : s->vars) {
      if (entry.second.k != Val::K::Tensor || entry.second.t != from)
        continue;
      for (RegionFrame &f : regions)
        if (f.scope == s && f.seen.insert(entry.first()).second)
          f.assigned.push_back(entry.first().str());
      entry.second.t = to;
    }
}

void Gen::bind(StringRef name, Val v) {
  for (RegionFrame &f : regions)
    if (f.scope == scope)
      if (f.seen.insert(name).second)
        f.assigned.push_back(name.str());
  scope->vars[name] = std::move(v);
}

Type Gen::elementTypeNamed(StringRef name) {
  return llvm::StringSwitch<Type>(name)
      .Cases({"f32", "float32", "float"}, builder.getF32Type())
      .Cases({"f64", "float64", "double"}, builder.getF64Type())
      .Cases({"bf16", "bfloat16"}, builder.getBF16Type())
      .Cases({"i64", "int64", "long"}, builder.getI64Type())
      .Cases({"i32", "int32", "int"}, builder.getI32Type())
      .Cases({"i1", "bool"}, builder.getI1Type())
      .Default(Type());
}

FailureOr<RankedTensorType> Gen::evalType(const TypeSpec &t) {
  Type elt = elementTypeNamed(t.dtype);
  if (!elt) {
    error(t.loc, "unknown element type '" + t.dtype +
                     "'; expected f32, f64, bf16, i64, i32 or bool");
    return failure();
  }
  llvm::SmallVector<int64_t> shape;
  for (const ExprPtr &d : t.dims) {
    auto v = eval(*d);
    if (failed(v))
      return failure();
    auto n = asInt(*v, d->loc, "a dimension");
    if (failed(n))
      return failure();
    if (*n <= 0 || *n > kMaxDim) {
      error(d->loc, "dimension sizes must be positive and at most 2^31, got " +
                        Twine(*n));
      return failure();
    }
    shape.push_back(*n);
  }
  return RankedTensorType::get(shape, elt);
}

FailureOr<InitAttr> Gen::evalInit(const Expr *e, StringRef what) {
  if (!e)
    return makeInit(&ctx, InitKind::zeros);
  std::string kindName;
  const std::vector<Arg> *args = nullptr;
  static const std::vector<Arg> none;
  if (e->kind == ExprKind::Name) {
    kindName = e->name;
    args = &none;
  } else if (e->kind == ExprKind::Call && e->lhs->kind == ExprKind::Name) {
    kindName = e->lhs->name;
    args = &e->args;
  } else {
    error(e->loc, "expected an initialiser such as zeros, ones, normal(std=0.02) "
                  "or kaiming_uniform(a=sqrt(5)) for " + what);
    return failure();
  }
  StringRef k = StringRef(kindName).rtrim('_'); // torch.nn.init.normal_
  auto kind = symbolizeInitKind(k);
  if (!kind) {
    error(e->loc, "unknown initialiser '" + kindName +
                      "'; expected zeros, ones, constant, normal, uniform, "
                      "kaiming_uniform, kaiming_normal, xavier_uniform or "
                      "xavier_normal");
    return failure();
  }
  auto evaluated = evalArgs(*args);
  if (failed(evaluated))
    return failure();
  llvm::SmallVector<StringRef> names;
  switch (*kind) {
  case InitKind::zeros:
  case InitKind::ones: break;
  case InitKind::constant: names = {"value"}; break;
  case InitKind::normal: names = {"mean", "std"}; break;
  case InitKind::uniform: names = {"a", "b"}; break;
  case InitKind::kaiming_uniform:
  case InitKind::kaiming_normal: names = {"a", "mode", "nonlinearity"}; break;
  case InitKind::xavier_uniform:
  case InitKind::xavier_normal: names = {"gain"}; break;
  }
  auto b = bindArgs(k, names, *kind == InitKind::constant ? 1 : 0, *evaluated,
                    e->loc);
  if (failed(b))
    return failure();
  llvm::SmallVector<NamedAttribute> attrs;
  for (StringRef n : names) {
    if (!b->has(n))
      continue;
    const Val &v = b->get(n);
    if (n == "mode" || n == "nonlinearity") {
      auto s = asString(v, b->locOf(n), n);
      if (failed(s))
        return failure();
      attrs.push_back(attr(n, builder.getStringAttr(*s)));
    } else {
      auto x = asNumber(v, b->locOf(n), n);
      if (failed(x))
        return failure();
      attrs.push_back(attr(n, builder.getF64FloatAttr(*x)));
    }
  }
  std::string message;
  mlir::ScopedDiagnosticHandler capture(&ctx, [&](mlir::Diagnostic &d) {
    if (message.empty())
      message = d.str();
    return success();
  });
  auto dict = attrs.empty() ? mlir::DictionaryAttr()
                            : mlir::DictionaryAttr::get(&ctx, attrs);
  InitAttr init = InitAttr::getChecked(
      [&] { return mlir::emitError(L(e->loc)); }, &ctx, *kind, dict);
  if (!init) {
    error(e->loc, message);
    return failure();
  }
  return init;
}

LogicalResult Gen::genInput(const Stmt &s) {
  if (!canDeclare(s.loc, "inputs"))
    return failure();
  if (!prefix.empty()) {
    error(s.loc, "inputs are declared in the model, not in a module");
    return failure();
  }
  auto type = evalType(*s.type);
  if (failed(type))
    return failure();
  if (s.requiresGrad && !mlir::isa<mlir::FloatType>(type->getElementType())) {
    error(s.loc, "only Tensors of floating point dtype can require gradients "
                 "(input '" + s.name + "' is " +
                 llvm::StringRef(s.type->dtype) + ")");
    hint("integer inputs such as labels and token ids never have "
         "gradients; remove 'requires_grad' or declare a float dtype");
    return failure();
  }
  if (auto it = declared.find(s.name); it != declared.end()) {
    error(s.loc, "duplicate input '" + s.name + "'");
    note(it->second, "previous declaration is here");
    return failure();
  }
  if (scope->vars.count(s.name)) {
    error(s.loc, "'" + s.name + "' is already defined");
    return failure();
  }
  declared[s.name] = s.loc;
  auto op = InputOp::create(builder, L(s.loc), *type, s.name, s.requiresGrad);
  insertDecl(op);
  bind(s.name, Val::tensor(op));
  return success();
}

LogicalResult Gen::genParamOrBuffer(const Stmt &s) {
  bool isParam = s.kind == StmtKind::Param;
  if (!canDeclare(s.loc, isParam ? "parameters" : "buffers"))
    return failure();
  auto type = evalType(*s.type);
  if (failed(type))
    return failure();
  if (isParam && !mlir::isa<mlir::FloatType>(type->getElementType())) {
    error(s.type->loc, "Only Tensors of floating point and complex dtype can "
                       "require gradients (parameter '" + s.name + "' is " +
                       llvm::StringRef(s.type->dtype) + ")");
    hint("use a buffer for integer state");
    return failure();
  }
  if (isParam && !s.value) {
    error(s.loc, "parameter '" + s.name + "' needs an initialiser (param " +
                     s.name + ": TYPE = normal(std=0.02), zeros, ...)");
    return failure();
  }
  auto init = evalInit(s.value.get(), "'" + s.name + "'");
  if (failed(init))
    return failure();
  std::string full = prefix + s.name;
  if (scope->vars.count(s.name)) {
    error(s.loc, "'" + s.name + "' is already defined in this module");
    return failure();
  }
  InitKind k = init->getKind();
  bool needsFans = k == InitKind::kaiming_uniform ||
                   k == InitKind::kaiming_normal ||
                   k == InitKind::xavier_uniform || k == InitKind::xavier_normal;
  if (needsFans && type->getRank() < 2) {
    error(s.value->loc, "Fan in and fan out can not be computed for tensor "
                        "with fewer than 2 dimensions");
    hint(stringifyInitKind(k).str() + " needs a weight of rank 2 or more; use "
                                "uniform or normal for biases");
    return failure();
  }
  Value v = isParam ? declParam(s.loc, full, *type, *init)
                    : declBuffer(s.loc, full, *type, *init);
  bind(s.name, Val::tensor(v));
  return success();
}

LogicalResult Gen::genAssign(const Stmt &s) {
  if (s.targets.size() == 1) {
    FailureOr<Val> v = declaring && regions.empty()
                           ? instantiate(*s.value, prefix + s.targets[0] + ".")
                           : eval(*s.value);
    if (failed(v)) {
      bind(s.targets[0], Val::poison());
      return failure();
    }
    bind(s.targets[0], *v);
    return success();
  }
  auto v = eval(*s.value);
  if (failed(v)) {
    for (const std::string &t : s.targets)
      bind(t, Val::poison());
    return failure();
  }
  if (v->k != Val::K::List || v->list->size() != s.targets.size()) {
    error(s.loc, "cannot unpack " + Twine(kindName(*v)) + " into " +
                     Twine(s.targets.size()) + " names");
    for (const std::string &t : s.targets)
      bind(t, Val::poison());
    return failure();
  }
  for (auto [t, item] : llvm::zip(s.targets, *v->list))
    bind(t, item);
  return success();
}

LogicalResult Gen::genFreeze(const Stmt &s) {
  for (auto [pattern, l] : llvm::zip(s.patterns, s.patternLocs)) {
    auto glob = llvm::GlobPattern::create(pattern);
    if (!glob) {
      llvm::consumeError(glob.takeError());
      error(l, "invalid pattern '" + pattern + "'");
      return failure();
    }
    // `fc1` freezes the instance fc1 (every name under `fc1.`), `fc1.weight`
    // one parameter, `features.*` a pattern.
    unsigned matched = 0;
    for (ParamOp p : model.getBody().getOps<ParamOp>()) {
      StringRef n = p.getName();
      if (glob->match(n) || n.starts_with(prefix + pattern + ".") ||
          n == prefix + pattern) {
        p.setFrozen(true);
        ++matched;
      }
    }
    if (!matched) {
      error(l, "freeze: '" + pattern + "' matches no parameter declared so "
                                      "far");
      hint("freeze names a parameter (fc1.weight), a module instance (fc1) "
           "or a pattern (features.*), after its declaration");
      return failure();
    }
  }
  return success();
}

LogicalResult Gen::genOutput(const Stmt &s) {
  Val v;
  Loc l = s.loc;
  if (s.value) {
    auto r = eval(*s.value);
    if (failed(r))
      return failure();
    v = *r;
    l = s.value->loc;
    bind(s.name, v);
  } else {
    Val *p = scope->lookup(s.name);
    if (!p) {
      unknownName(s.loc, s.name);
      return failure();
    }
    v = *p;
  }
  auto t = asTensor(v, l, "an output");
  if (failed(t))
    return failure();
  if (!regions.empty() || callDepth > 0) {
    error(s.loc, "outputs are declared at the model level");
    return failure();
  }
  for (OutputOp o : model.getBody().getOps<OutputOp>())
    if (o.getName() == s.name) {
      error(s.loc, "duplicate output '" + s.name + "'");
      return failure();
    }
  OutputOp::create(builder, L(s.loc), s.name, *t);
  return success();
}

LogicalResult Gen::genGradMode(const Stmt &s) {
  bool inference = s.kind == StmtKind::Inference;
  mlir::Location l = L(s.loc);
  auto block = std::make_unique<mlir::Block>();
  mlir::OpBuilder::InsertPoint ip = builder.saveInsertionPoint();
  builder.setInsertionPointToEnd(block.get());
  GradMode savedMode = mode;
  if (mode != GradMode::Inference)
    mode = inference ? GradMode::Inference : GradMode::NoGrad;
  regions.push_back({scope, {}, {}});
  LogicalResult ok = genBlock(s.body, nullptr);
  RegionFrame frame = std::move(regions.back());
  regions.pop_back();
  mode = savedMode;
  // Every tensor name (re)bound in the block and defined inside it leaves
  // the block as a result.
  llvm::SmallVector<std::string> names;
  llvm::SmallVector<Value> yielded;
  for (const std::string &n : frame.assigned) {
    Val *v = scope->vars.count(n) ? &scope->vars[n] : nullptr;
    if (!v || v->k != Val::K::Tensor)
      continue;
    mlir::Operation *def = v->t.getDefiningOp();
    if (!def || !block->findAncestorOpInBlock(*def))
      continue;
    names.push_back(n);
    yielded.push_back(v->t);
  }
  YieldOp::create(builder, l, yielded);
  builder.restoreInsertionPoint(ip);
  mlir::TypeRange types(yielded);
  mlir::Operation *op =
      inference ? InferenceOp::create(builder, l, types).getOperation()
                : NoGradOp::create(builder, l, types).getOperation();
  op->getRegion(0).push_back(block.release());
  for (auto [n, r] : llvm::zip(names, op->getResults()))
    bind(n, Val::tensor(r));
  return ok;
}

LogicalResult Gen::genFor(const Stmt &s, ReturnSignal *ret) {
  auto iterable = eval(*s.value);
  if (failed(iterable))
    return failure();
  std::vector<Val> items;
  if (iterable->k == Val::K::List)
    items = *iterable->list;
  else if (iterable->k == Val::K::Inst && !iterable->inst->children.empty())
    for (auto &c : iterable->inst->children) {
      Val v;
      v.k = Val::K::Inst;
      v.inst = c;
      items.push_back(v);
    }
  else {
    error(s.value->loc, "cannot iterate over " + Twine(kindName(*iterable)) +
                            "; expected a list, a list of modules or "
                            "range(n)");
    return failure();
  }
  for (const Val &item : items) {
    bind(s.name, item);
    if (failed(genBlock(s.body, ret)))
      return failure();
    if (ret && ret->returned)
      break;
  }
  return success();
}

LogicalResult Gen::genTrain(const Stmt &s) {
  if (callDepth > 0 || !regions.empty() || !prefix.empty()) {
    error(s.loc, "a train block belongs to the model body");
    return failure();
  }
  if (!model.getBody().getOps<TrainOp>().empty()) {
    error(s.loc, "a model has at most one train block");
    return failure();
  }
  OptimizerKind kind = OptimizerKind::sgd;
  bool haveOptimizer = false;
  llvm::SmallVector<NamedAttribute> attrs;
  llvm::SmallVector<mlir::Attribute> groups;
  Loc optLoc = s.loc;
  bool ok = true;

  // Keyword options of the optimizers and of param_group.
  auto options = [&](std::vector<CallArg> &args, bool allowLr, StringRef fn,
                     llvm::SmallVectorImpl<NamedAttribute> &out) -> LogicalResult {
    for (CallArg &a : args) {
      if (a.keyword.empty()) {
        error(a.loc, fn + "() takes keyword arguments only (lr=..., ...)");
        return failure();
      }
      StringRef k = a.keyword;
      if (k == "lr" && !allowLr)
        continue;
      if (k == "nesterov" || k == "maximize" || k == "amsgrad" ||
          k == "centered") {
        auto b = asBool(a.value, a.loc, k);
        if (failed(b))
          return failure();
        out.push_back(attr(k, builder.getBoolAttr(*b)));
      } else if (k == "betas") {
        if (a.value.k != Val::K::List || a.value.list->size() != 2) {
          error(a.loc, "betas must be a pair such as (0.9, 0.999)");
          return failure();
        }
        llvm::SmallVector<double> betas;
        for (const Val &v : *a.value.list) {
          auto d = asNumber(v, a.loc, "betas");
          if (failed(d))
            return failure();
          betas.push_back(*d);
        }
        out.push_back(attr(k, builder.getDenseF64ArrayAttr(betas)));
      } else if (k == "lr" || k == "momentum" || k == "dampening" ||
                 k == "weight_decay" || k == "eps" || k == "rho" ||
                 k == "alpha" || k == "lr_decay" ||
                 k == "initial_accumulator_value") {
        auto d = asNumber(a.value, a.loc, k);
        if (failed(d))
          return failure();
        out.push_back(attr(k, builder.getF64FloatAttr(*d)));
      } else {
        error(a.loc, fn + "() got an unexpected keyword argument '" + k + "'");
        return failure();
      }
    }
    return success();
  };

  for (const StmtPtr &st : s.body) {
    const Stmt &t = *st;
    if (t.kind == StmtKind::Assign && t.targets.size() == 1) {
      StringRef key = t.targets[0];
      if (key == "loss") {
        auto v = eval(*t.value);
        if (failed(v)) {
          ok = false;
          continue;
        }
        auto l = asTensor(*v, t.value->loc, "the loss");
        if (failed(l)) {
          ok = false;
          continue;
        }
        RankedTensorType lt = typeOf(*l);
        if (lt.getRank() != 0 || !mlir::isa<mlir::FloatType>(lt.getElementType())) {
          error(t.value->loc, "grad can be implicitly created only for scalar "
                              "outputs: the loss is " + typeStr(*l));
          hint("reduce it to a 0-d float tensor, e.g. with .mean() or "
               "reduction='mean'");
          ok = false;
          continue;
        }
        LossOp::create(builder, L(t.loc), *l);
        loss = *l;
        lossLoc = t.value->loc;
        continue;
      }
      if (key == "optimizer") {
        const Expr &e = *t.value;
        if (e.kind != ExprKind::Call || e.lhs->kind != ExprKind::Name) {
          error(e.loc, "expected an optimizer: SGD(...), Adam(...), "
                       "AdamW(...), Adadelta(...), Adagrad(...) or "
                       "RMSprop(...)");
          ok = false;
          continue;
        }
        StringRef n = e.lhs->name;
        if (n == "SGD") kind = OptimizerKind::sgd;
        else if (n == "Adam") kind = OptimizerKind::adam;
        else if (n == "AdamW") kind = OptimizerKind::adamw;
        else if (n == "Adadelta")
          kind = OptimizerKind::adadelta;
        else if (n == "Adagrad")
          kind = OptimizerKind::adagrad;
        else if (n == "RMSprop")
          kind = OptimizerKind::rmsprop;
        else {
          error(e.lhs->loc, "unknown optimizer '" + n +
                                "'; expected SGD, Adam, AdamW, Adadelta, "
                                "Adagrad or RMSprop");
          ok = false;
          continue;
        }
        auto args = evalArgs(e.args);
        if (failed(args) || failed(options(*args, true, n, attrs))) {
          ok = false;
          continue;
        }
        haveOptimizer = true;
        optLoc = e.loc;
        bool hasLr = llvm::any_of(attrs, [](NamedAttribute a) {
          return a.getName() == "lr";
        });
        if (!hasLr) {
          if (kind == OptimizerKind::sgd) {
            error(e.loc, "SGD() missing required argument 'lr'");
            ok = false;
            continue;
          }
          // torch.optim's default learning rates.
          double lr =
              kind == OptimizerKind::adadelta ? 1.0
              : kind == OptimizerKind::adagrad || kind == OptimizerKind::rmsprop
                  ? 1e-2
                  : 1e-3;
          attrs.push_back(attr("lr", builder.getF64FloatAttr(lr)));
        }
        // torch.optim's defaults, written out so the IR says what runs.
        auto fill = [&](StringRef k, mlir::Attribute v) {
          if (!llvm::any_of(attrs, [&](NamedAttribute a) {
                return a.getName() == k;
              }))
            attrs.push_back(attr(k, v));
        };
        if (kind == OptimizerKind::adam || kind == OptimizerKind::adamw) {
          fill("betas", builder.getDenseF64ArrayAttr({0.9, 0.999}));
          fill("eps", builder.getF64FloatAttr(1e-8));
          fill("weight_decay", builder.getF64FloatAttr(
                                   kind == OptimizerKind::adamw ? 1e-2 : 0.0));
        } else if (kind == OptimizerKind::adadelta) {
          fill("rho", builder.getF64FloatAttr(0.9));
          fill("eps", builder.getF64FloatAttr(1e-6));
        } else if (kind == OptimizerKind::adagrad) {
          fill("eps", builder.getF64FloatAttr(1e-10));
        } else if (kind == OptimizerKind::rmsprop) {
          fill("alpha", builder.getF64FloatAttr(0.99));
          fill("eps", builder.getF64FloatAttr(1e-8));
        }
        continue;
      }
      if (key == "lr_schedule")
        continue; // applied once the train op exists (genModel)
      auto v = eval(*t.value);
      if (failed(v)) {
        ok = false;
        continue;
      }
      if (key == "accumulation_steps" || key == "seed") {
        auto n = asInt(*v, t.value->loc, key);
        if (failed(n)) {
          ok = false;
          continue;
        }
        if (key == "accumulation_steps" && *n < 1) {
          error(t.value->loc, "accumulation_steps must be at least 1, got " +
                                  Twine(*n));
          ok = false;
          continue;
        }
        attrs.push_back(attr(key, builder.getI64IntegerAttr(*n)));
        continue;
      }
      if (key == "clip_grad_norm" || key == "clip_grad_value" ||
          key == "clip_norm_type") {
        auto d = asNumber(*v, t.value->loc, key);
        if (failed(d)) {
          ok = false;
          continue;
        }
        if (!(*d > 0)) {
          error(t.value->loc, key + " must be positive, got " + fmt(*d));
          ok = false;
          continue;
        }
        attrs.push_back(attr(key, builder.getF64FloatAttr(*d)));
        continue;
      }
      error(t.targetLocs[0], "unknown training setting '" + key +
                                 "'; expected loss, optimizer, "
                                 "accumulation_steps, clip_grad_norm, "
                                 "clip_norm_type, clip_grad_value, "
                                 "lr_schedule or seed");
      ok = false;
      continue;
    }
    if (t.kind == StmtKind::ExprStmt && t.value->kind == ExprKind::Call &&
        t.value->lhs->kind == ExprKind::Name) {
      const Expr &e = *t.value;
      StringRef fn = e.lhs->name;
      auto args = evalArgs(e.args);
      if (failed(args)) {
        ok = false;
        continue;
      }
      if (fn == "param_group") {
        llvm::SmallVector<mlir::Attribute> patterns;
        std::vector<CallArg> kw;
        for (CallArg &a : *args) {
          if (a.keyword.empty()) {
            auto p = asString(a.value, a.loc, "a parameter pattern");
            if (failed(p)) {
              ok = false;
              break;
            }
            patterns.push_back(builder.getStringAttr(*p));
          } else {
            kw.push_back(a);
          }
        }
        if (patterns.empty()) {
          error(e.loc, "param_group() needs at least one parameter name "
                       "pattern, e.g. param_group(\"*.bias\", "
                       "weight_decay=0.0)");
          ok = false;
          continue;
        }
        // Patterns must match a trainable parameter, or they are a typo.
        for (auto [i, p] : llvm::enumerate(patterns)) {
          StringRef pat = mlir::cast<mlir::StringAttr>(p).getValue();
          auto glob = llvm::GlobPattern::create(pat);
          bool any = false;
          if (glob)
            for (ParamOp op : model.getBody().getOps<ParamOp>())
              any |= glob->match(op.getName());
          else
            llvm::consumeError(glob.takeError());
          if (!any) {
            error((*args)[i].loc, "param_group: pattern '" + pat +
                                      "' matches no parameter");
            ok = false;
          }
        }
        llvm::SmallVector<NamedAttribute> g = {
            attr("params", builder.getArrayAttr(patterns))};
        if (failed(options(kw, true, fn, g))) {
          ok = false;
          continue;
        }
        groups.push_back(builder.getDictionaryAttr(g));
        continue;
      }
      if (fn == "clip_grad_norm") {
        auto b = bindArgs(fn, {"max_norm", "norm_type"}, 1, *args, e.loc);
        if (failed(b)) {
          ok = false;
          continue;
        }
        for (StringRef k : {"max_norm", "norm_type"}) {
          if (!b->has(k))
            continue;
          auto d = asNumber(b->get(k), b->locOf(k), k);
          if (failed(d) || !(*d > 0)) {
            if (succeeded(d))
              error(b->locOf(k), k + " must be positive");
            ok = false;
            continue;
          }
          attrs.push_back(attr(k == "max_norm" ? "clip_grad_norm"
                                               : "clip_norm_type",
                               builder.getF64FloatAttr(*d)));
        }
        continue;
      }
      if (fn == "lr_schedule" || fn == "StepLR" || fn == "ExponentialLR" ||
          fn == "CosineAnnealingLR" || fn == "LinearLR") {
        error(e.loc, "write the schedule as 'lr_schedule = " + fn + "(...)'");
        ok = false;
        continue;
      }
      error(e.lhs->loc, "unknown training directive '" + fn +
                            "'; expected param_group(...) or "
                            "clip_grad_norm(...)");
      ok = false;
      continue;
    }
    error(t.loc, "expected a training setting (loss = ..., optimizer = ..., "
                 "param_group(...), accumulation_steps = ..., ...)");
    ok = false;
  }
  if (!ok)
    return failure();
  if (!haveOptimizer) {
    error(s.loc, "the train block needs an optimizer (optimizer = SGD(lr=0.1) "
                 "or Adam(...), AdamW(...), Adadelta(...), Adagrad(...), "
                 "RMSprop(...))");
    return failure();
  }
  if (!groups.empty())
    attrs.push_back(attr("param_groups", builder.getArrayAttr(groups)));
  attrs.push_back(
      attr("optimizer", OptimizerKindAttr::get(&ctx, kind)));
  std::string message;
  {
    mlir::ScopedDiagnosticHandler capture(&ctx, [&](mlir::Diagnostic &d) {
      if (message.empty())
        message = d.str();
      return success();
    });
    auto op = TrainOp::create(builder, L(s.loc), mlir::TypeRange(),
                              mlir::ValueRange(), attrs);
    if (failed(mlir::verify(op))) {
      StringRef msg(message);
      msg.consume_front("'graft.train' op ");
      error(optLoc, msg);
      op->erase();
      return failure();
    }
  }
  return success();
}

LogicalResult Gen::genBlock(const Block &block, ReturnSignal *ret) {
  LogicalResult result = success();
  for (const StmtPtr &s : block) {
    if (diags.tooMany())
      return failure();
    if (failed(genStmt(*s, ret)))
      result = failure();
    if (ret && ret->returned)
      break;
  }
  return result;
}

LogicalResult Gen::genStmt(const Stmt &s, ReturnSignal *ret) {
  switch (s.kind) {
  case StmtKind::Dim: {
    if (!declaring || callDepth > 0) {
      error(s.loc, "dimensions are declared at the top level or in a model");
      return failure();
    }
    auto v = eval(*s.value);
    if (failed(v))
      return failure();
    auto n = asInt(*v, s.value->loc, "a dimension");
    if (failed(n))
      return failure();
    int64_t size = *n;
    for (auto &[name, value] : options.dims)
      if (name == s.name) {
        size = value;
        usedDimOverrides.insert(name);
      }
    if (size <= 0) {
      error(s.value->loc, "dimension '" + s.name + "' must be positive, got " +
                              Twine(size));
      return failure();
    }
    bind(s.name, Val::number(size, true));
    return success();
  }
  case StmtKind::Input:
    return genInput(s);
  case StmtKind::Param:
  case StmtKind::Buffer:
    return genParamOrBuffer(s);
  case StmtKind::Assign:
    if (s.targets.size() == 1 && s.targets[0] == "lr_schedule")
      break;
    return genAssign(s);
  case StmtKind::ExprStmt: {
    auto v = eval(*s.value);
    return failure(failed(v));
  }
  case StmtKind::Return: {
    if (!ret) {
      error(s.loc, "'return' outside a function");
      return failure();
    }
    ret->returned = true;
    if (s.value) {
      auto v = eval(*s.value);
      if (failed(v))
        return failure();
      ret->value = *v;
    }
    return success();
  }
  case StmtKind::Output:
    return genOutput(s);
  case StmtKind::Freeze:
    return genFreeze(s);
  case StmtKind::NoGrad:
  case StmtKind::Inference:
    return genGradMode(s);
  case StmtKind::For:
    return genFor(s, ret);
  case StmtKind::Def: {
    Val f;
    f.k = Val::K::Func;
    f.fn = s.func.get();
    f.fnScope = scope;
    if (scope->vars.count(s.func->name)) {
      error(s.loc, "'" + s.func->name + "' is already defined");
      return failure();
    }
    bind(s.func->name, f);
    return success();
  }
  case StmtKind::Train:
    return genTrain(s);
  }
  // lr_schedule = Kind(args): handled here, outside genTrain's evaluation.
  if (s.kind == StmtKind::Assign)
    error(s.loc, "lr_schedule is set inside a train block");
  return failure();
}

void Gen::declareGlobals(const Program &p) {
  for (const auto &m : p.modules) {
    auto [it, inserted] = modules.try_emplace(m->name, m.get());
    if (!inserted) {
      error(m->loc, "duplicate module '" + m->name + "'");
      note(it->second->loc, "previous definition is here");
    }
  }
  scope = &globals;
  declaring = true;
  for (const StmtPtr &s : p.globals) {
    if (s->kind == StmtKind::Def) {
      if (globals.vars.count(s->func->name)) {
        error(s->loc, "duplicate function '" + s->func->name + "'");
        continue;
      }
      Val f;
      f.k = Val::K::Func;
      f.fn = s->func.get();
      f.fnScope = &globals;
      globals.vars[s->func->name] = f;
      continue;
    }
    if (s->kind == StmtKind::Dim && globals.vars.count(s->name)) {
      error(s->loc, "duplicate dimension '" + s->name + "'");
      continue;
    }
    (void)genStmt(*s, nullptr);
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Models and the driver
//===----------------------------------------------------------------------===//

void Gen::genModel(const ModelDecl &m) {
  auto modelOp = ModelOp::create(builder, L(m.loc), m.name);
  model = modelOp;
  lastDecl = nullptr;
  Scope modelScope;
  modelScope.parent = &globals;
  scope = &modelScope;
  prefix.clear();
  declaring = true;
  mode = GradMode::Grad;
  loss = Value();
  declared.clear();
  nextRandomStream = 0;
  mlir::OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(&model.getBody().front());
  unsigned errorsBefore = diags.getNumErrors();
  // Two passes keep the lr_schedule assignment (an AST-level setting) next
  // to the train block that reads it.
  (void)genBlock(m.body, nullptr);
  for (const StmtPtr &s : m.body) {
    if (s->kind != StmtKind::Train)
      continue;
    for (const StmtPtr &t : s->body) {
      if (t->kind != StmtKind::Assign || t->targets.size() != 1 ||
          t->targets[0] != "lr_schedule")
        continue;
      const Expr &e = *t->value;
      auto trains = model.getBody().getOps<TrainOp>();
      if (trains.empty())
        break;
      TrainOp train = *trains.begin();
      if (e.kind != ExprKind::Call || e.lhs->kind != ExprKind::Name) {
        error(e.loc, "expected a schedule such as StepLR(step_size=30, "
                     "gamma=0.1) or CosineAnnealingLR(T_max=1000)");
        continue;
      }
      auto args = evalArgs(e.args);
      if (failed(args))
        continue;
      llvm::SmallVector<NamedAttribute> sched = {
          attr("kind", builder.getStringAttr(e.lhs->name))};
      bool ok = true;
      for (CallArg &a : *args) {
        if (a.keyword.empty()) {
          error(a.loc, e.lhs->name + "() takes keyword arguments only");
          ok = false;
          break;
        }
        auto d = asNumber(a.value, a.loc, a.keyword);
        if (failed(d)) {
          ok = false;
          break;
        }
        sched.push_back(attr(a.keyword, a.value.isInt
                                            ? mlir::Attribute(
                                                  builder.getI64IntegerAttr(
                                                      static_cast<int64_t>(*d)))
                                            : builder.getF64FloatAttr(*d)));
      }
      if (!ok)
        continue;
      train.setLrScheduleAttr(builder.getDictionaryAttr(sched));
      std::string message;
      mlir::ScopedDiagnosticHandler capture(&ctx, [&](mlir::Diagnostic &d) {
        if (message.empty())
          message = d.str();
        return success();
      });
      if (failed(mlir::verify(train))) {
        StringRef msg(message);
        msg.consume_front("'graft.train' op ");
        error(e.loc, msg);
      }
    }
  }
  if (diags.getNumErrors() != errorsBefore)
    return;
  // backward() on a loss that needs no gradient.
  if (loss) {
    RequiresGradAnalysis analysis(model);
    if (!analysis.requiresGrad(loss)) {
      error(lossLoc, "element 0 of tensors does not require grad and does not "
                     "have a grad_fn");
      hint("the loss depends on no trainable value: every parameter it uses "
           "is frozen, or it is computed under no_grad/inference or from "
           "detached values");
    }
  }
}

mlir::OwningOpRef<mlir::ModuleOp>
Gen::run(llvm::ArrayRef<std::unique_ptr<Program>> programs) {
  for (const auto &p : programs)
    declareGlobals(*p);
  auto module = mlir::ModuleOp::create(builder.getUnknownLoc());
  mlir::OwningOpRef<mlir::ModuleOp> owned(module);
  builder.setInsertionPointToEnd(module.getBody());
  llvm::StringMap<Loc> modelNames;
  for (const auto &p : programs)
    for (const auto &m : p->models) {
      auto [it, inserted] = modelNames.try_emplace(m->name, m->loc);
      if (!inserted) {
        error(m->loc, "duplicate model '" + m->name + "'");
        note(it->second, "previous definition is here");
        continue;
      }
      genModel(*m);
      builder.setInsertionPointToEnd(module.getBody());
    }
  for (auto &[name, value] : options.dims)
    if (!usedDimOverrides.contains(name)) {
      diags.error(SMLoc(), "--dim " + name + "=" + Twine(value) +
                               ": the model declares no dimension '" + name +
                               "'");
    }
  if (modelNames.empty() && diags.getNumErrors() == 0)
    diags.error(SMLoc(), "no model declared (expected 'model NAME { ... }')");
  if (diags.getNumErrors())
    return nullptr;
  // A last safety net: the dialect's verifiers, reported at the source
  // (without the generic-form IR MLIR attaches for IR inputs).
  bool printOp = ctx.shouldPrintOpOnDiagnostic();
  ctx.printOpOnDiagnostic(false);
  LogicalResult verified = mlir::verify(module);
  ctx.printOpOnDiagnostic(printOp);
  if (failed(verified))
    return nullptr;
  return owned;
}

static LogicalResult
loadRecursive(Diagnostics &diags, StringRef path, SMLoc includeLoc,
              std::vector<std::unique_ptr<Program>> &programs,
              llvm::StringSet<> &seen, unsigned depth) {
  llvm::SourceMgr &sm = diags.getSourceMgr();
  llvm::SmallString<256> real;
  if (llvm::sys::fs::real_path(path, real))
    real = path;
  if (!seen.insert(real).second)
    return success(); // included once
  if (depth > 16) {
    diags.error(includeLoc, "includes nested too deeply");
    return failure();
  }
  // Only a regular file (or a link to one) is read: a device or FIFO is
  // refused before it is opened (graft::isDeviceLike).
  std::string why;
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  if (graft::isDeviceLike(path))
    why = graft::kNotRegularFile.str();
  else if (auto file = llvm::MemoryBuffer::getFile(path, /*IsText=*/true))
    buffer = std::move(*file);
  else
    why = file.getError().message();
  if (!buffer) {
    if (includeLoc.isValid())
      diags.error(includeLoc,
                  "cannot open included file '" + path + "': " + why);
    else
      diags.error(SMLoc(), "cannot open '" + path + "': " + why);
    return failure();
  }
  unsigned id = sm.AddNewSourceBuffer(std::move(buffer), includeLoc);
  Parser parser(diags, id);
  auto program = parser.parseProgram();
  LogicalResult ok = success();
  for (const Include &inc : program->includes) {
    llvm::SmallString<256> resolved(llvm::sys::path::parent_path(path));
    llvm::sys::path::append(resolved, inc.path);
    if (llvm::sys::path::is_absolute(inc.path))
      resolved = inc.path;
    if (failed(loadRecursive(diags, resolved, inc.loc.ptr, programs, seen,
                             depth + 1)))
      ok = failure();
  }
  programs.push_back(std::move(program));
  return ok;
}

mlir::OwningOpRef<mlir::ModuleOp>
graft::frontend::compileFile(mlir::MLIRContext &ctx, llvm::SourceMgr &sm,
                             StringRef path, const GenOptions &options,
                             llvm::raw_ostream &os) {
  ctx.loadDialect<GraftDialect>();
  Diagnostics diags(sm, os);
  std::vector<std::unique_ptr<Program>> programs;
  llvm::StringSet<> seen;
  if (failed(loadRecursive(diags, path, SMLoc(), programs, seen, 0)) ||
      diags.getNumErrors())
    return nullptr;
  // Anything the dialect still reports comes out with its source location.
  mlir::SourceMgrDiagnosticHandler handler(sm, &ctx, os);
  Gen gen(ctx, diags, options);
  return gen.run(programs);
}
