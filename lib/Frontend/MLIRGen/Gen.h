//===- Gen.h - The model-file generator's state and helpers -----*- C++ -*-===//
//
// Private to lib/Frontend/MLIRGen: the compile-time values of the language
// (Val), scopes and module instances, and the generator class whose members
// are defined by concern across this folder:
//
//   MLIRGen.cpp      models, the driver, conversions and argument binding
//   Expressions.cpp  expressions, indexing, calls
//   Builtins.cpp     the tables of Builtins.def and Modules.def, call
//                    dispatch, the handlers of the op-building functions
//   Factories.cpp    tensors made at compile time (arange, zeros, tril, ...)
//   Methods.cpp      views, casts, requires_grad_, in-place updates
//   Modules.cpp      built-in modules (instantiation, forward), user
//                    modules and functions
//   Statements.cpp   statements and blocks
//   TrainBlock.cpp   the train block: backward, optimizer, schedule
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_LIB_FRONTEND_MLIRGEN_GEN_H
#define GRAFT_LIB_FRONTEND_MLIRGEN_GEN_H

#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "graft/Dialect/Graft/IR/ShapeFunctions.h"
#include "graft/Frontend/AST.h"
#include "graft/Frontend/Diagnostics.h"
#include "graft/Frontend/MLIRGen.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/Twine.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace graft::frontend {

using llvm::SMLoc;
using llvm::StringRef;
using llvm::Twine;
using mlir::failure;
using mlir::FailureOr;
using mlir::LogicalResult;
using mlir::NamedAttribute;
using mlir::RankedTensorType;
using mlir::success;
using mlir::Type;
using mlir::Value;
namespace sh = graft::shape;

//===----------------------------------------------------------------------===//
// Compile-time values
//===----------------------------------------------------------------------===//

struct Instance;
struct Scope;

/// What a name denotes while the model is being built.
struct Val {
  enum class K {
    None,
    Num,
    Bool,
    Str,
    Tensor,
    Inst,
    List,
    Func,
    ModType,
    Namespace, ///< `torch`, `F`, `nn`, `math`: `str` names it.
    Builtin,   ///< A built-in function as a value (`F.relu`): `str`.
    Record,    ///< A @dataclass, called to make a config record: `record`.
    /// `self.training`: True in the training entry points, False in eval
    /// and predict, which Graft compiles from one graph. Dropout's
    /// `training=` takes it; a branch on it is an error.
    Training,
    /// A dict with string keys: `keys` and `list` (the values), in
    /// insertion order, shared by every copy (as a Python dict is).
    Dict,
    Poison
  } k = K::None;
  double num = 0;
  bool isInt = false;
  bool b = false;
  std::string str;
  Value t;
  std::shared_ptr<Instance> inst;
  std::shared_ptr<std::vector<Val>> list;
  const FunctionDecl *fn = nullptr;
  const RecordDecl *record = nullptr;
  Scope *fnScope = nullptr;        ///< Where a function's free names resolve.
  const ModuleDecl *mod = nullptr; ///< ModType: a user module...
  std::string builtinModule;       ///< ...or a built-in one (Linear, ...).
  /// A named tuple's field names (x.max(1).values), for a List.
  std::shared_ptr<const std::vector<std::string>> fields;
  /// A Dict's keys.
  std::shared_ptr<std::vector<std::string>> keys;

  static Val number(double v, bool isInt) {
    Val r;
    r.k = K::Num;
    r.num = v;
    r.isInt = isInt;
    return r;
  }
  static Val integer(int64_t v) { return number(static_cast<double>(v), true); }
  static Val real(double v) { return number(v, false); }
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
  static Val dictOf(std::vector<std::string> keys = {},
                    std::vector<Val> values = {}) {
    Val r;
    r.k = K::Dict;
    r.keys = std::make_shared<std::vector<std::string>>(std::move(keys));
    r.list = std::make_shared<std::vector<Val>>(std::move(values));
    return r;
  }
  /// A Dict's value for `key`; null when it has none.
  Val *findItem(StringRef key) const {
    for (auto [i, k] : llvm::enumerate(*keys))
      if (k == key)
        return &(*list)[i];
    return nullptr;
  }
  /// d[key] = value on a Dict (a new key goes last), seen by every copy.
  void setItem(StringRef key, Val value) {
    if (Val *item = findItem(key)) {
      *item = std::move(value);
      return;
    }
    keys->push_back(key.str());
    list->push_back(std::move(value));
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
  /// A list of integers, as a shape or dims argument.
  static Val ints(llvm::ArrayRef<int64_t> values) {
    std::vector<Val> items;
    for (int64_t v : values)
      items.push_back(integer(v));
    return listOf(std::move(items));
  }
  /// PyTorch's named tuples: torch.return_types.max(values, indices).
  static Val namedTuple(std::vector<Val> items,
                        std::vector<std::string> names) {
    Val r = listOf(std::move(items));
    r.fields =
        std::make_shared<const std::vector<std::string>>(std::move(names));
    return r;
  }
};

inline std::string fmt(double v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << v;
  return s;
}

/// A built op's result as a value of the language.
inline FailureOr<Val> tensorResult(FailureOr<Value> r) {
  if (failed(r))
    return failure();
  return Val::tensor(*r);
}

/// torch.nn's containers, built by instantiate() rather than a Modules.def
/// row: Sequential, ModuleList, ModuleDict.
inline bool isContainerModule(StringRef name) {
  return name == "Sequential" || name == "ModuleList" || name == "ModuleDict";
}

inline StringRef kindName(const Val &v) {
  switch (v.k) {
  case Val::K::None:
    return "None";
  case Val::K::Num:
    return v.isInt ? "an integer" : "a number";
  case Val::K::Bool:
    return "a bool";
  case Val::K::Str:
    return "a string";
  case Val::K::Tensor:
    return "a tensor";
  case Val::K::Inst:
    return "a module instance";
  case Val::K::List:
    return "a list";
  case Val::K::Func:
    return "a function";
  case Val::K::Namespace:
    return "a namespace";
  case Val::K::Builtin:
    return "a built-in function";
  case Val::K::ModType:
    return "a module type";
  case Val::K::Record:
    return "a dataclass";
  case Val::K::Training:
    return "self.training";
  case Val::K::Dict:
    return "a dict";
  case Val::K::Poison:
    return "an erroneous value";
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

inline InitAttr makeInit(mlir::MLIRContext *ctx, InitKind kind,
                         llvm::ArrayRef<NamedAttribute> args = {}) {
  return InitAttr::get(ctx, kind,
                       args.empty() ? mlir::DictionaryAttr()
                                    : mlir::DictionaryAttr::get(ctx, args));
}

/// The gates of a recurrent cell of `mode` (torch's: "LSTM", "GRU",
/// "RNN_TANH", "RNN_RELU"; or the module's "RNN"): 4, 3 or 1. Its weights
/// stack that many blocks of hidden_size rows.
int64_t rnnGates(llvm::StringRef mode);

class Gen;

/// A call of a built-in function or tensor method, as its handler sees it.
struct Call {
  StringRef name;             ///< As written: `relu`, `relu_`, `view`.
  std::vector<CallArg> &args; ///< Evaluated; a method's receiver first.
  Bound bound;                ///< `args` bound to the row's parameters.
  Loc loc;
  const Expr *selfExpr; ///< A method's receiver (rebound in place).
  bool method;

  const Val &get(StringRef n) const { return bound.get(n); }
  bool has(StringRef n) const { return bound.has(n); }
  Loc locOf(StringRef n) const { return bound.locOf(n); }
};

/// A row of Builtins.def, or a unary row of GraftOps.td.
struct Builtin {
  FailureOr<Val> (Gen::*handler)(Call &);
  /// PyTorch's parameter names in order; `required` of them are required,
  /// or, when it is negative, the handler binds the arguments itself.
  llvm::SmallVector<StringRef> params;
  int required;
};

/// A parameter of a built-in module's constructor, with PyTorch's default.
struct ModuleParam {
  StringRef name;
  Val fallback; ///< None when the parameter has no default or it is None.
  bool required;
};

/// A row of Modules.def, or a torch.nn module of a unary row (`ReLU`).
struct BuiltinModule {
  LogicalResult (Gen::*init)(Instance &, Bound &);
  StringRef forward; ///< The built-in function an instance applies.
  /// PyTorch's forward(): the arguments a call gives.
  llvm::SmallVector<ModuleParam> inputs;
  llvm::SmallVector<int64_t> ranks; ///< Input ranks accepted; empty: any.
  llvm::SmallVector<ModuleParam> params;
  int required;
};

/// The built-in functions, tensor methods and modules, by name.
struct BuiltinTables {
  llvm::StringMap<Builtin> functions, methods;
  llvm::StringMap<BuiltinModule> modules;
};

class Composer;

class Gen {
  friend class Composer;

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
  LogicalResult genInput(const InputStmt &s);
  LogicalResult genParamOrBuffer(const ParamStmt &s);
  LogicalResult genAssign(const AssignStmt &s);
  LogicalResult genFreeze(const FreezeStmt &s);
  /// `object.name = value` (weight tying): `object.name` becomes the
  /// parameter `value`, one parameter under both state_dict names.
  LogicalResult genSetAttr(const SetAttrStmt &s);
  /// Makes `target` the parameter `source` (tieParams' rules in
  /// docs/language.md): the earlier-declared op stays, with both ops'
  /// names, `source`'s initialiser and flag.
  void tieParams(ParamOp target, ParamOp source, Loc l);
  /// Every Val reachable from the current scope that holds `from` holds
  /// `to` instead.
  void replaceEverywhere(Value from, Value to);
  /// Checks that no op uses a parameter tied away, then erases them.
  void releaseTiedAway();
  LogicalResult genOutput(const OutputStmt &s);
  LogicalResult genGradMode(const BlockStmt &s);
  LogicalResult genFor(const ForStmt &s, ReturnSignal *ret);
  /// `StepLR(step_size=30)`, ...: a torch.optim.lr_scheduler class as
  /// graft.train's lr_schedule dictionary.
  FailureOr<mlir::DictionaryAttr> genSchedule(const Expr &e);
  // LambdaLR's lr_lambda (LRLambda.cpp): a `lambda step: ...` or a `def`
  // translated into graft/Dialect/Graft/IR/LRLambda.h's tree.
  using LambdaEnv = llvm::StringMap<mlir::Attribute>;
  FailureOr<mlir::Attribute> lrLambda(const Expr &fn);
  FailureOr<mlir::Attribute> lambdaExpr(const Expr &e, const LambdaEnv &env,
                                        unsigned depth);
  FailureOr<mlir::Attribute> lambdaBody(llvm::ArrayRef<const Stmt *> body,
                                        LambdaEnv env, Loc end, unsigned depth);
  FailureOr<mlir::Attribute> lambdaCall(const FunctionDecl &fn, Scope *where,
                                        llvm::ArrayRef<mlir::Attribute> args,
                                        Loc l, unsigned depth);
  LogicalResult genTrain(const BlockStmt &s);
  void bind(StringRef name, Val v);
  FailureOr<RankedTensorType> evalType(const TypeSpec &t);
  FailureOr<InitAttr> evalInit(const Expr *e, StringRef what);
  /// The initialiser `kind` with `args` bound to its parameters, as `fn`
  /// (`normal`, `init.normal_`) takes them.
  FailureOr<InitAttr> initAttr(InitKind kind, StringRef fn,
                               std::vector<CallArg> &args, Loc loc);
  /// Kaiming and Xavier initialisers need fans: a tensor of rank 2 or more.
  LogicalResult checkInitFits(InitKind kind, RankedTensorType type, Loc loc);
  void insertDecl(mlir::Operation *op);
  bool canDeclare(Loc l, StringRef what);

  // Modules.
  FailureOr<Val> instantiate(const Expr &e, const std::string &prefix);
  FailureOr<Val> instantiateBuiltin(StringRef type, std::vector<CallArg> &args,
                                    Loc loc, const std::string &prefix);
  /// The items a `for` or comprehension iterates over: a list's, or a
  /// ModuleList's modules.
  FailureOr<std::vector<Val>> iterate(const Val &v, Loc l);
  /// Binds the loop variables to one item (`for name, p in ...` unpacks).
  LogicalResult bindTargets(llvm::ArrayRef<std::string> targets,
                            const Val &item, Loc l);
  /// Runs `body` once per item the comprehension at `l` keeps, with its
  /// loop variables bound: `[... for targets in iterable if cond]`.
  LogicalResult comprehend(const Comprehension &loop, Loc l,
                           llvm::function_ref<LogicalResult()> body);
  FailureOr<Val> instantiateModuleDict(const CallExpr &e,
                                       const std::string &pfx);
  /// `Config(n_layer=2)`: a dataclass's __init__, as a named tuple.
  FailureOr<Val> makeRecord(const RecordDecl &record, Scope *defaults,
                            const std::vector<CallArg> &args, Loc l);
  FailureOr<Val> callInstance(Instance &inst, std::vector<CallArg> &args,
                              Loc loc);
  LogicalResult applyToModules(Instance &inst, const Val &fn, Loc l,
                               llvm::SmallPtrSetImpl<Instance *> &seen);
  FailureOr<Val> applyFn(Call &c);
  FailureOr<Val> isInstance(Call &c);
  FailureOr<Val> callFunction(const FunctionDecl &fn, Scope *parent,
                              std::vector<CallArg> &args, Loc loc,
                              Instance *self);
  Value declParam(Loc loc, StringRef name, RankedTensorType type,
                  InitAttr init);
  Value declBuffer(Loc loc, StringRef name, RankedTensorType type,
                   InitAttr init);
  void checkUniqueName(Loc loc, StringRef name);
  // The INIT handlers of Modules.def: `b` holds the constructor's arguments
  // with the row's defaults filled in.
  LogicalResult initLinear(Instance &inst, Bound &b);
  LogicalResult initConv(Instance &inst, Bound &b);
  LogicalResult initLayerNorm(Instance &inst, Bound &b);
  LogicalResult initGroupNorm(Instance &inst, Bound &b);
  LogicalResult initRNN(Instance &inst, Bound &b);
  LogicalResult initMultiheadAttention(Instance &inst, Bound &b);
  LogicalResult initBatchNorm(Instance &inst, Bound &b);
  LogicalResult initEmbedding(Instance &inst, Bound &b);
  /// A module with no state: its arguments become its attributes.
  LogicalResult initConfig(Instance &inst, Bound &b);
  FailureOr<int64_t> positiveInt(const Instance &inst, const Bound &b,
                                 StringRef key);

  // Expressions.
  FailureOr<Val> eval(const Expr &e);
  FailureOr<Val> evalCall(const CallExpr &e);
  FailureOr<std::vector<CallArg>> evalArgs(const std::vector<Arg> &args);
  FailureOr<Val> evalBinary(const BinaryExpr &e);
  FailureOr<Val> evalIndex(const IndexExpr &e);
  FailureOr<Val> evalMember(const MemberExpr &e);
  /// `torch.X`, `F.X`, `nn.X`, `math.X`: a built-in function, module type,
  /// dtype name or number.
  FailureOr<Val> namespaceMember(StringRef ns, const MemberExpr &e);
  FailureOr<Val> callBuiltin(StringRef name, std::vector<CallArg> &args,
                             Loc loc);
  FailureOr<Val> callMethod(Val self, Loc selfLoc, StringRef name,
                            std::vector<CallArg> &args, Loc loc,
                            const Expr *selfExpr);
  FailureOr<Val> invoke(const Builtin &row, Call &call);
  static const BuiltinTables &builtins();
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
  /// Python's truth value of a compile-time value (`if`, `assert`, `not`,
  /// `and`, `or`); a tensor is an error, its value being unknown until run
  /// time.
  FailureOr<bool> truthOf(const Val &v, Loc l, StringRef what);
  FailureOr<std::string> asString(const Val &v, Loc l, StringRef what);
  FailureOr<llvm::SmallVector<int64_t>> asIntList(const Val &v, Loc l,
                                                  StringRef what);
  FailureOr<int64_t> normDim(int64_t dim, int64_t rank, Loc l);
  Value scalar(double v, Type elt, Loc l);
  Val splatConstant(RankedTensorType type, double v, Loc loc);
  FailureOr<Val> constantOf(RankedTensorType type,
                            llvm::function_ref<double(int64_t)> value, Loc loc,
                            const Twine &what);
  /// The element type a dtype name stands for ("f32", "float32", "long",
  /// ...), or null.
  Type elementTypeNamed(StringRef name);
  FailureOr<std::pair<Value, Value>>
  promotePair(const Val &a, Loc la, const Val &b, Loc lb, StringRef op);

  // Ops.
  template <typename OpTy>
  FailureOr<Value> make(Loc l, StringRef pyName, mlir::ValueRange operands,
                        llvm::ArrayRef<NamedAttribute> attrs = {},
                        Type resultType = {});

  // The handlers of Builtins.def (Builtins.cpp, Factories.cpp, Methods.cpp).
  FailureOr<Val> range(Call &c);
  FailureOr<Val> len(Call &c);
  /// dict(key=value, ...), dict(other, key=value, ...).
  FailureOr<Val> dictCall(Call &c);
  /// `{k: v, ...}`: string keys, a repeated key's last value.
  FailureOr<Val> evalDict(const DictExpr &e);
  /// d[key], d.get(key, default), d.keys(), d.values(), d.items().
  FailureOr<Val> dictItem(const Val &dict, const Val &key, Loc l);
  /// The key of `d[key]`: one string.
  FailureOr<std::string> dictKey(const IndexExpr &index);
  FailureOr<Val> dictMethod(const Val &dict, const CallExpr &call);
  FailureOr<Val> enumerateItems(Call &c);
  FailureOr<Val> namedParameters(Call &c);
  /// The (name, parameter) pairs of the parameters whose state_dict name
  /// starts with `prefix`, named without it.
  Val namedParametersUnder(StringRef prefix);
  FailureOr<Val> toNumber(Call &c);
  /// arange, zeros, ones, full (and their _like forms), tril and triu:
  /// tensors made at compile time.
  FailureOr<Val> factory(Call &c);
  template <typename OpTy> FailureOr<Val> unary(Call &c);
  FailureOr<Val> gelu(Call &c);
  FailureOr<Val> clamp(Call &c);
  template <typename OpTy> FailureOr<Val> binary(Call &c);
  FailureOr<Val> where(Call &c);
  FailureOr<Val> maskedFill(Call &c);
  FailureOr<Val> dropout(Call &c);
  /// Whether a random op's `training` argument is given and false.
  FailureOr<bool> trainingOff(Call &c);
  FailureOr<Val> linear(Call &c);
  FailureOr<Val> attention(Call &c);
  /// torch.eq, ne, lt, le, gt, ge: the predicate is the name.
  FailureOr<Val> compare(Call &c);
  /// scaled_dot_product_attention by PyTorch's definition, op by op: for an
  /// attn_mask or dropout on the weights, which the fused op does not take.
  FailureOr<Val> attentionByDefinition(Call &c, Value q, Value k, Value v);
  // Decompositions.cpp: functions written as PyTorch defines them.
  FailureOr<double> numberOr(Call &c, StringRef name, double fallback);
  LogicalResult noInPlace(Call &c);
  /// A loss's `reduction` ('mean' by default) of its pointwise values.
  FailureOr<Val> reduceLoss(Call &c, Val pointwise);
  /// A loss's `reduction` argument ('mean' when absent): 'none', 'mean',
  /// 'sum', and with `batchmean` also 'batchmean' (kl_div); any other value
  /// is an error in PyTorch's words.
  FailureOr<std::string> reductionArg(Call &c, bool batchmean = false);
  FailureOr<Val> leakyRelu(Call &c);
  FailureOr<Val> stochasticDepth(Call &c);
  FailureOr<Val> elu(Call &c);
  FailureOr<Val> softplus(Call &c);
  /// l1_loss, smooth_l1_loss, huber_loss.
  FailureOr<Val> regressionLoss(Call &c);
  /// binary_cross_entropy and binary_cross_entropy_with_logits.
  FailureOr<Val> binaryCrossEntropy(Call &c);
  FailureOr<Val> klDiv(Call &c);
  /// x.repeat(r0, r1, ...): a reshape, an expand and a reshape.
  FailureOr<Val> repeat(Call &c);
  /// index_select(x, dim, index): an embedding lookup of dim's slices.
  FailureOr<Val> indexSelect(Call &c);
  FailureOr<Val> conv2d(Call &c);
  // Layers.cpp: layers written over the built-ins.
  FailureOr<Val> groupNorm(Call &c);
  FailureOr<Val> conv1d(Call &c);
  FailureOr<Val> convTranspose2d(Call &c);
  FailureOr<Val> adaptiveAvgPool2d(Call &c);
  FailureOr<Val> interpolate(Call &c);
  FailureOr<Val> rnn(Call &c);
  FailureOr<Val> rnnCell(Call &c);
  FailureOr<Val> multiHeadAttention(Call &c);
  FailureOr<Val> oneHot(Call &c);
  FailureOr<Val> gather(Call &c);
  FailureOr<Val> topk(Call &c);
  template <typename OpTy> FailureOr<Val> reduce(Call &c);
  FailureOr<Val> argmax(Call &c);
  /// torch.max(x), torch.max(x, dim) (values and indices), and Python's
  /// max(a, b, ...) of numbers; min of numbers.
  FailureOr<Val> maxOf(Call &c);
  FailureOr<Val> minOf(Call &c);
  /// Python's max or min of two or more numbers, when `c` is such a call.
  std::optional<FailureOr<Val>> numberExtremum(Call &c, bool max);
  template <typename OpTy> FailureOr<Val> softmax(Call &c);
  /// layer_norm's and batch_norm's optional weight and bias: appended to
  /// `ops` when given, with their operand segments (segs[1], segs[2]) set.
  LogicalResult affineOperands(Call &c, llvm::SmallVectorImpl<Value> &ops,
                               int32_t *segs);
  FailureOr<Val> layerNorm(Call &c);
  FailureOr<Val> batchNorm(Call &c);
  template <typename OpTy> FailureOr<Val> pool(Call &c);
  FailureOr<Val> cat(Call &c);
  FailureOr<Val> embedding(Call &c);
  template <typename OpTy> FailureOr<Val> criterion(Call &c);
  FailureOr<Val> reshapeTo(Call &c);
  FailureOr<Val> flatten(Call &c);
  FailureOr<Val> unsqueeze(Call &c);
  FailureOr<Val> squeeze(Call &c);
  FailureOr<Val> transpose(Call &c);
  FailureOr<Val> permute(Call &c);
  FailureOr<Val> expand(Call &c);
  /// torch.nn.init's normal_(p, ...) and the like: sets the initialiser of
  /// a parameter or buffer (Statements.cpp).
  FailureOr<Val> initialise(Call &c);
  FailureOr<Val> size(Call &c);
  FailureOr<Val> rank(Call &c);
  FailureOr<Val> numel(Call &c);
  FailureOr<Val> contiguous(Call &c);
  FailureOr<Val> split(Call &c);
  FailureOr<Val> chunk(Call &c);
  FailureOr<Val> unbind(Call &c);
  FailureOr<Val> stack(Call &c);
  /// `x` cut along `dim` into pieces of `sizes` (which sum to its size), as
  /// a list of tensors: split, chunk and unbind (`drop`: without `dim`).
  FailureOr<Val> pieces(Call &c, Value x, int64_t dim,
                        llvm::ArrayRef<int64_t> sizes, bool drop);
  FailureOr<Val> detach(Call &c);
  FailureOr<Val> clone(Call &c);
  FailureOr<Val> cast(Call &c);
  FailureOr<Val> requiresGrad(Call &c);
  FailureOr<Val> retainGrad(Call &c);
  FailureOr<Val> gradHook(Call &c);
  template <typename OpTy> FailureOr<Val> unaryInPlace(Call &c);
  template <typename OpTy> FailureOr<Val> inPlaceBinary(Call &c);
  FailureOr<Val> maskedFillInPlace(Call &c);
  /// The second operand of x.add_(other) and the like: a tensor of x's
  /// dtype that broadcasts to x's shape, or a Python number.
  FailureOr<Value> inPlaceOther(Call &c, Value x);
  /// The receiver of a view-like call and its size arguments: x.view(B, -1),
  /// x.view([B, -1]), torch.reshape(x, (B, -1)).
  FailureOr<std::pair<Value, llvm::SmallVector<int64_t>>>
  tensorAndSizes(Call &c);
  /// The tensor bound to `input`, as a tensor.
  FailureOr<Value> input(Call &c) {
    return asTensor(c.get("input"), c.locOf("input"), c.name);
  }
  /// The tensor bound to `input`, which must be floating-point.
  FailureOr<Value> floatInput(Call &c) {
    return asFloatTensor(c.get("input"), c.locOf("input"), c.name);
  }
  /// A dimension argument, wrapped (-1 is the last) for a tensor of `rank`.
  FailureOr<int64_t> dimArg(Call &c, StringRef key, int64_t rank);
  /// The `dim` argument, wrapped for `rank`, or 0 when the call gives none
  /// (cat, stack, split, chunk, unbind).
  FailureOr<int64_t> optionalDim(Call &c, int64_t rank);
  /// An optional argument as an op attribute of the same name: appended to
  /// `attrs` when the call gives it, as a bool, an f64, an i64, or a pair of
  /// i64 (an int n stands for (n, n)); failure when it is of another kind.
  enum class AttrKind { Bool, F64, I64 };
  /// A convolution's or pooling's `key`: `n` integers (one given:
  /// repeated), each at least `least`; `fallback` each when not given.
  FailureOr<llvm::SmallVector<int64_t>> geometryArg(Call &c, StringRef key,
                                                    size_t n, int64_t fallback,
                                                    int64_t least);
  LogicalResult optionalAttr(Call &c, StringRef key, AttrKind kind,
                             llvm::SmallVectorImpl<NamedAttribute> &attrs);
  /// `key`, one or two integers of at least `least` (see geometryArg), as
  /// a pair attribute, when the call gives it.
  LogicalResult optionalGeometry(Call &c, StringRef key, int64_t least,
                                 llvm::SmallVectorImpl<NamedAttribute> &attrs);
  /// Rebinds every name in scope that denotes the tensor `from` to `to`:
  /// after an in-place op, all names of the tensor see the new version.
  void rebindTensor(Value from, Value to);
  /// An in-place update of the receiver of `c`: `emit` builds the op on the
  /// tensor it is given. Checks PyTorch's leaf rule, writes through detached
  /// aliases, and rebinds every name of the tensor to the new version.
  /// Ends a grad-mode region whose body was built into `block` since the
  /// insertion point `ip` was saved: yields `yielded` and builds the no_grad
  /// or inference op that holds the block at `ip`.
  mlir::Operation *endGradModeRegion(mlir::Location l, bool inference,
                                     std::unique_ptr<mlir::Block> block,
                                     mlir::OpBuilder::InsertPoint ip,
                                     mlir::ValueRange yielded);
  FailureOr<Val> inPlace(Call &c,
                         llvm::function_ref<FailureOr<Value>(Value)> emit);
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
  /// The ops of parameters tied away (tieParams), with where: kept out of
  /// the model until it is done, so that a value taken from one before the
  /// tie and used after is an error, not a dangling reference.
  mlir::Block tiedAway;
  std::vector<std::pair<mlir::Operation *, Loc>> tiedAwayAt;
  Scope *scope = nullptr;
  std::string prefix;     ///< state_dict prefix of declarations
  bool declaring = false; ///< in a model body or a module's __init__
  GradMode mode = GradMode::Grad;
  std::vector<RegionFrame> regions;
  unsigned callDepth = 0;
  /// Inside module.apply(fn), or a function a module's body calls: it
  /// initialises parameters, as __init__ does.
  unsigned constructing = 0;
  /// Inside the body of a user module being instantiated (its __init__).
  unsigned constructingModule = 0;
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
                                            mlir::OpaqueProperties(&props), {},
                                            types));
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

/// Calls of built-ins in sequence, as a layer's or a decomposed function's
/// formula writes them (Layers.cpp, Decompositions.cpp): each returns its
/// value, or poison once a call has failed (its error is reported), so that
/// a formula reads as PyTorch's and is checked once, at the end. The
/// arguments of one call, a braced list, are built in order.
class Composer {
public:
  Composer(Gen &g, Loc l) : g(g), l(l) {}

  /// fn(args..., keyword=value...).
  Val operator()(StringRef fn, std::vector<Val> args,
                 std::vector<std::pair<StringRef, Val>> keywords = {}) {
    if (failed)
      return Val::poison();
    std::vector<CallArg> call;
    for (Val &a : args)
      call.push_back({"", l, std::move(a)});
    for (auto &[k, v] : keywords)
      call.push_back({k.str(), l, std::move(v)});
    return check(g.callBuiltin(fn, call, l));
  }

  /// x[..., start:end, ...] along `dim`.
  Val slice(const Val &x, int64_t dim, int64_t start, int64_t end) {
    if (failed)
      return Val::poison();
    mlir::OpBuilder &b = g.builder;
    return check(tensorResult(
        g.make<SliceOp>(l, "slice", {x.t},
                        {g.attr("dim", b.getI64IntegerAttr(dim)),
                         g.attr("start", b.getI64IntegerAttr(start)),
                         g.attr("end", b.getI64IntegerAttr(end)),
                         g.attr("step", b.getI64IntegerAttr(1))})));
  }

  /// Zeros of `shape`, of x's element type.
  Val zeros(const Val &x, llvm::ArrayRef<int64_t> shape) {
    if (failed)
      return Val::poison();
    return g.splatConstant(
        RankedTensorType::get(shape, type(x).getElementType()), 0, l);
  }

  /// A constant of `shape` and element type `elt` holding `values`.
  Val constant(llvm::ArrayRef<int64_t> shape, Type elt,
               llvm::ArrayRef<double> values, StringRef what) {
    if (failed)
      return Val::poison();
    return check(g.constantOf(
        RankedTensorType::get(shape, elt), [&](int64_t i) { return values[i]; },
        l, what));
  }

  /// Fails the sequence after an error reported elsewhere.
  void abandon() { failed = true; }

  /// Reports an error and fails the sequence.
  void fail(Loc at, const Twine &msg) {
    if (!failed)
      g.error(at, msg);
    failed = true;
  }

  RankedTensorType type(const Val &v) {
    return mlir::cast<RankedTensorType>(v.t.getType());
  }

  bool ok() const { return !failed; }

  FailureOr<Val> result(Val v) const {
    if (failed)
      return mlir::failure();
    return v;
  }

private:
  Val check(FailureOr<Val> r) {
    if (mlir::succeeded(r))
      return *r;
    failed = true;
    return Val::poison();
  }

  Gen &g;
  Loc l;
  bool failed = false;
};

} // namespace graft::frontend

#endif
