//===- Builtins.cpp - The built-in functions of the language --------------===//
//
// The tables of Builtins.def and Modules.def (with the unary rows of
// GraftOps.td), the call dispatch through them, and the handlers of the
// functions that build one graft op each.
//
//===----------------------------------------------------------------------===//

#include "Gen.h"
#include "graft/Dialect/Graft/IR/UnaryOps.h"

#include "llvm/ADT/StringExtras.h"

#include <array>
#include <cmath>

using namespace graft;
using namespace graft::frontend;

//===----------------------------------------------------------------------===//
// The tables
//===----------------------------------------------------------------------===//

namespace {
constexpr int VARARGS = -1;

llvm::SmallVector<StringRef> words(StringRef s) {
  llvm::SmallVector<StringRef> out;
  s.split(out, ' ', -1, /*KeepEmpty=*/false);
  return out;
}

/// A default as PyTorch writes it: True, False, None, 'none', 1e-05, -1.
Val parseDefault(StringRef text) {
  if (text == "None")
    return Val();
  if (text == "True" || text == "False")
    return Val::boolean(text == "True");
  if (text.consume_front("'")) {
    text.consume_back("'");
    return Val::string(text);
  }
  int64_t i;
  if (!text.getAsInteger(10, i))
    return Val::number(i, true);
  double d = 0;
  bool bad = text.getAsDouble(d);
  assert(!bad && "a default in Modules.def is not a number");
  (void)bad;
  return Val::number(d, false);
}

llvm::SmallVector<ModuleParam> moduleParams(StringRef spec) {
  llvm::SmallVector<ModuleParam> out;
  for (StringRef w : words(spec)) {
    auto [name, fallback] = w.split('=');
    bool required = !w.contains('=');
    out.push_back({name, required ? Val() : parseDefault(fallback), required});
  }
  return out;
}
} // namespace

const BuiltinTables &Gen::builtins() {
  static const BuiltinTables tables = [] {
    BuiltinTables t;
    auto add = [&](llvm::StringMap<Builtin> &table, StringRef name,
                   Builtin row) {
      [[maybe_unused]] bool inserted = table.try_emplace(name, row).second;
      assert(inserted && "a built-in is declared twice");
    };
#define GRAFT_FUNCTION(NAME, HANDLER, REQUIRED, PARAMS)                        \
  add(t.functions, NAME, {&Gen::HANDLER, words(PARAMS), REQUIRED});
#define GRAFT_METHOD(NAME, HANDLER, REQUIRED, PARAMS)                          \
  add(t.methods, NAME, {&Gen::HANDLER, words(PARAMS), REQUIRED});
#define GRAFT_FUNCTION_METHOD(NAME, HANDLER, REQUIRED, PARAMS)                 \
  GRAFT_FUNCTION(NAME, HANDLER, REQUIRED, PARAMS)                              \
  GRAFT_METHOD(NAME, HANDLER, REQUIRED, PARAMS)
#include "Builtins.def"
#define GRAFT_MODULE(NAME, INIT, FORWARD, INPUTS, RANKS, REQUIRED, PARAMS)     \
  t.modules.try_emplace(NAME, BuiltinModule{&Gen::INIT,                        \
                                            FORWARD,                           \
                                            moduleParams(INPUTS),              \
                                            {},                                \
                                            moduleParams(PARAMS),              \
                                            REQUIRED});                        \
  for (StringRef r : words(RANKS))                                             \
    t.modules[NAME].ranks.push_back(std::stoll(r.str()));
#include "Modules.def"
    // The unary rows: relu(x) and x.relu(), x.relu_(), ReLU().
    forEachUnaryOp([&](auto *tag) {
      using Op = std::remove_pointer_t<decltype(tag)>;
      UnaryRow row = Op::getUnaryRow();
      if (row.inPlace) {
        add(t.methods, row.torchName, {&Gen::unaryInPlace<Op>, {"input"}, 1});
        return;
      }
      Builtin fn{&Gen::unary<Op>, {"input"}, 1};
      add(t.functions, row.torchName, fn);
      add(t.methods, row.torchName, fn);
      if (!row.moduleName.empty())
        t.modules.try_emplace(row.moduleName,
                              BuiltinModule{&Gen::initConfig,
                                            row.torchName,
                                            moduleParams("input"),
                                            {},
                                            moduleParams("inplace=False"),
                                            0});
    });
    return t;
  }();
  return tables;
}

FailureOr<Val> Gen::invoke(const Builtin &row, Call &c) {
  if (row.required >= 0) {
    auto b = bindArgs(c.name, row.params, row.required, c.args, c.loc);
    if (failed(b))
      return failure();
    c.bound = std::move(*b);
  }
  return (this->*row.handler)(c);
}

FailureOr<Val> Gen::callBuiltin(StringRef name, std::vector<CallArg> &args,
                                Loc loc) {
  auto it = builtins().functions.find(name);
  if (it == builtins().functions.end()) {
    unknownName(loc, name);
    return failure();
  }
  Call c{name, args, {}, loc, nullptr, /*method=*/false};
  return invoke(it->second, c);
}

FailureOr<Val> Gen::callMethod(Val self, Loc selfLoc, StringRef name,
                               std::vector<CallArg> &args, Loc loc,
                               const Expr *selfExpr) {
  auto it = builtins().methods.find(name);
  if (it == builtins().methods.end()) {
    error(loc, "tensor has no method '" + name + "'");
    return failure();
  }
  std::vector<CallArg> all = {{"", selfLoc, std::move(self)}};
  all.insert(all.end(), args.begin(), args.end());
  Call c{name, all, {}, loc, selfExpr, /*method=*/true};
  return invoke(it->second, c);
}

/// `key` as `n` integers (one given: repeated: kernel_size=3, stride=(2,
/// 1)), each at least `least`, or `fallback` each where the call does not
/// give it. Convolutions' and pooling's geometry.
FailureOr<llvm::SmallVector<int64_t>> Gen::geometryArg(Call &c, StringRef key,
                                                       size_t n,
                                                       int64_t fallback,
                                                       int64_t least) {
  if (!c.has(key))
    return llvm::SmallVector<int64_t>(n, fallback);
  auto v = asIntList(c.get(key), c.locOf(key), key);
  if (failed(v))
    return failure();
  if (v->size() == 1)
    v->resize(n, v->front());
  if (v->size() == n && llvm::all_of(*v, [&](int64_t x) { return x >= least; }))
    return v;
  error(c.locOf(key), c.name + "(): " + key + " must be " +
                          (n == 1 ? "an integer" : "one or two integers") +
                          (least > 0 ? " greater than 0" : " of at least 0"));
  return failure();
}

LogicalResult
Gen::optionalGeometry(Call &c, StringRef key, int64_t least,
                      llvm::SmallVectorImpl<NamedAttribute> &attrs) {
  if (!c.has(key))
    return success();
  auto v = geometryArg(c, key, 2, least, least);
  if (failed(v))
    return failure();
  attrs.push_back(attr(key, builder.getDenseI64ArrayAttr(*v)));
  return success();
}

LogicalResult Gen::optionalAttr(Call &c, StringRef key, AttrKind kind,
                                llvm::SmallVectorImpl<NamedAttribute> &attrs) {
  if (!c.has(key))
    return success();
  const Val &v = c.get(key);
  Loc l = c.locOf(key);
  mlir::Attribute a;
  switch (kind) {
  case AttrKind::Bool:
    if (auto b = asBool(v, l, key); succeeded(b))
      a = builder.getBoolAttr(*b);
    break;
  case AttrKind::F64:
    if (auto d = asNumber(v, l, key); succeeded(d))
      a = builder.getF64FloatAttr(*d);
    break;
  case AttrKind::I64:
    if (auto i = asInt(v, l, key); succeeded(i))
      a = builder.getI64IntegerAttr(*i);
    break;
  }
  if (!a)
    return failure();
  attrs.push_back(attr(key, a));
  return success();
}

FailureOr<int64_t> Gen::optionalDim(Call &c, int64_t rank) {
  if (!c.has("dim"))
    return 0;
  return dimArg(c, "dim", rank);
}

FailureOr<int64_t> Gen::dimArg(Call &c, StringRef key, int64_t rank) {
  auto d = asInt(c.get(key), c.locOf(key), key);
  if (failed(d))
    return failure();
  return normDim(*d, rank, c.locOf(key));
}

//===----------------------------------------------------------------------===//
// Python built-ins
//===----------------------------------------------------------------------===//

FailureOr<Val> Gen::range(Call &c) {
  auto n = asInt(c.get("stop"), c.locOf("stop"), "range()");
  if (failed(n))
    return failure();
  if (*n > 4096) {
    error(c.locOf("stop"), "range(" + Twine(*n) +
                               ") is too long for a compile-time loop "
                               "(at most 4096)");
    return failure();
  }
  std::vector<Val> items;
  for (int64_t i = 0; i < *n; ++i)
    items.push_back(Val::number(i, true));
  return Val::listOf(std::move(items));
}

FailureOr<Val> Gen::len(Call &c) {
  const Val &v = c.get("obj");
  if (v.k == Val::K::List || v.k == Val::K::Dict)
    return Val::number(v.list->size(), true);
  if (v.k == Val::K::Tensor && typeOf(v.t).getRank() > 0)
    return Val::number(typeOf(v.t).getDimSize(0), true);
  error(c.locOf("obj"), "len() expects a list, a dict or a tensor");
  return failure();
}

FailureOr<Val> Gen::dictCall(Call &c) {
  Val dict = Val::dictOf();
  for (CallArg &a : c.args) {
    if (a.value.k == Val::K::Poison)
      return failure();
    if (!a.keyword.empty()) {
      dict.setItem(a.keyword, a.value);
      continue;
    }
    if (&a == &c.args.front() && a.value.k == Val::K::Dict) {
      dict = Val::dictOf(*a.value.keys, *a.value.list); // a copy
      continue;
    }
    // dict(named_parameters()): (key, value) pairs.
    bool pairs = &a == &c.args.front() && a.value.k == Val::K::List &&
                 llvm::all_of(*a.value.list, [](const Val &p) {
                   return p.k == Val::K::List && p.list->size() == 2 &&
                          p.list->front().k == Val::K::Str;
                 });
    if (!pairs) {
      error(a.loc, "dict() takes keyword arguments (dict(n_layer=12, ...)) "
                   "after at most one dict or list of (name, value) pairs, "
                   "got " +
                       kindName(a.value));
      return failure();
    }
    for (const Val &p : *a.value.list)
      dict.setItem(p.list->front().str, p.list->back());
  }
  return dict;
}

FailureOr<Val> Gen::evalDict(const DictExpr &e) {
  Val dict = Val::dictOf();
  // One key and value per item (a comprehension), or each pair once.
  auto add = [&](const Arg &key, const Arg &value) -> LogicalResult {
    auto k = eval(*key.value);
    if (failed(k))
      return failure();
    if (k->k != Val::K::Str) {
      error(key.loc, "a dict's keys are strings in Graft, got " + kindName(*k));
      hint("a dict holds a configuration by name: {'n_layer': 12}");
      return failure();
    }
    auto v = eval(*value.value);
    if (failed(v))
      return failure();
    dict.setItem(k->str, std::move(*v));
    return success();
  };
  if (e.loop.iterable) {
    if (failed(comprehend(e.loop, e.loc,
                          [&] { return add(e.items[0], e.items[1]); })))
      return failure();
    return dict;
  }
  for (size_t i = 0; i + 1 < e.items.size(); i += 2)
    if (failed(add(e.items[i], e.items[i + 1])))
      return failure();
  return dict;
}

FailureOr<std::string> Gen::dictKey(const IndexExpr &index) {
  if (index.indices.size() != 1 ||
      llvm::isa<SliceExpr>(*index.indices[0].value)) {
    error(index.loc, "a dict takes one key");
    return failure();
  }
  auto key = eval(*index.indices[0].value);
  if (failed(key))
    return failure();
  return asString(*key, index.indices[0].loc, "a dict key");
}

FailureOr<Val> Gen::dictItem(const Val &dict, const Val &key, Loc l) {
  auto name = asString(key, l, "a dict key");
  if (failed(name))
    return failure();
  if (const Val *item = dict.findItem(*name))
    return *item;
  error(l, "KeyError: '" + *name + "'");
  hint(dict.keys->empty()
           ? std::string("the dict is empty")
           : "the dict's keys are " + llvm::join(*dict.keys, ", "));
  return failure();
}

FailureOr<Val> Gen::dictMethod(const Val &dict, const CallExpr &call) {
  const auto &callee = llvm::cast<MemberExpr>(*call.callee);
  StringRef name = callee.name;
  auto args = evalArgs(call.args);
  if (failed(args))
    return failure();
  if (name == "get") {
    auto b = bindArgs("get", {"key", "default"}, 1, *args, call.loc);
    if (failed(b))
      return failure();
    auto key = asString(b->get("key"), b->locOf("key"), "a dict key");
    if (failed(key))
      return failure();
    if (const Val *item = dict.findItem(*key))
      return *item;
    return b->has("default") ? b->get("default") : Val();
  }
  if (name == "keys" || name == "values" || name == "items") {
    if (failed(bindArgs(name, {}, 0, *args, call.loc)))
      return failure();
    std::vector<Val> items;
    for (auto [k, v] : llvm::zip(*dict.keys, *dict.list))
      items.push_back(name == "keys"     ? Val::string(k)
                      : name == "values" ? v
                                         : Val::listOf({Val::string(k), v}));
    return Val::listOf(std::move(items));
  }
  error(callee.loc, "'dict' object has no attribute '" + name + "'");
  hint("a dict offers d[key], d.get(key, default), keys(), values() and "
       "items()");
  return failure();
}

FailureOr<Val> Gen::enumerateItems(Call &c) {
  auto items = iterate(c.get("iterable"), c.locOf("iterable"));
  if (failed(items))
    return failure();
  int64_t start = 0;
  if (c.has("start")) {
    auto s = asInt(c.get("start"), c.locOf("start"), "start");
    if (failed(s))
      return failure();
    start = *s;
  }
  std::vector<Val> pairs;
  for (auto [i, item] : llvm::enumerate(*items))
    pairs.push_back(Val::listOf(
        {Val::number(start + static_cast<int64_t>(i), true), item}));
  return Val::listOf(std::move(pairs));
}

Val Gen::namedParametersUnder(StringRef prefix) {
  std::vector<Val> pairs;
  // Each parameter once, under its first name under `prefix`, as
  // named_parameters() skips the names a tied parameter had before.
  for (ParamOp p : model.getBody().getOps<ParamOp>())
    for (StringRef n : p.getStateDictNames())
      if (n.starts_with(prefix)) {
        pairs.push_back(
            Val::listOf({Val::string(n.drop_front(prefix.size()).str()),
                         Val::tensor(p.getResult())}));
        break;
      }
  return Val::listOf(std::move(pairs));
}

FailureOr<Val> Gen::namedParameters(Call &c) {
  if (!model) {
    error(c.loc, "named_parameters() lists a model's parameters: call it in "
                 "a model");
    return failure();
  }
  return namedParametersUnder("");
}

FailureOr<Val> Gen::toNumber(Call &c) {
  const Val &x = c.get("x");
  bool isInt = c.name == "int";
  if (x.k == Val::K::Num)
    return Val::number(isInt ? std::trunc(x.num) : x.num, isInt);
  // float('inf'), float('-inf'), float('nan'), as Python reads them.
  if (!isInt && x.k == Val::K::Str) {
    std::string text = StringRef(x.str).trim().lower();
    StringRef t(text);
    bool negative = t.consume_front("-");
    if (!negative)
      t.consume_front("+");
    if (t == "inf" || t == "infinity")
      return Val::number(negative ? -INFINITY : INFINITY, false);
    if (t == "nan")
      return Val::number(NAN, false);
    error(c.locOf("x"), "could not convert string to float: '" + x.str + "'");
    return failure();
  }
  error(c.locOf("x"), c.name + "() expects a number" +
                          (isInt ? "" : " or a string") + ", got " +
                          kindName(x));
  return failure();
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

template <typename OpTy> FailureOr<Val> Gen::unary(Call &c) {
  // On a Python number, the row's scalar formula: sqrt(2.0), exp(1).
  const Val &v = c.get("input");
  if (!c.method && v.k == Val::K::Num)
    return Val::number(OpTy::template scalar<double>(v.num), false);
  auto x = floatInput(c);
  if (failed(x))
    return failure();
  return tensorResult(make<OpTy>(c.loc, c.name, {*x}, {}, x->getType()));
}

FailureOr<Val> Gen::gelu(Call &c) {
  auto x = floatInput(c);
  if (failed(x))
    return failure();
  GeluApproximation approx = GeluApproximation::none;
  if (c.has("approximate")) {
    auto s =
        asString(c.get("approximate"), c.locOf("approximate"), "approximate");
    if (failed(s))
      return failure();
    if (*s == "tanh")
      approx = GeluApproximation::tanh;
    else if (*s != "none") {
      error(c.locOf("approximate"),
            "approximate argument must be either none or tanh.");
      return failure();
    }
  }
  return tensorResult(make<GeluOp>(
      c.loc, c.name, {*x},
      {attr("approximate", GeluApproximationAttr::get(&ctx, approx))},
      x->getType()));
}

/// torch.clamp and its kin: clip, clamp_min, clamp_max, F.hardtanh and
/// F.relu6, and their in-place forms (`x.clamp_(...)`, `F.hardtanh_`,
/// inplace=True). Number bounds are a graft.clamp of the function's kind;
/// tensor bounds (the clamps, not hardtanh) are PyTorch's formula over
/// `where`.
FailureOr<Val> Gen::clamp(Call &c) {
  StringRef name = c.name;
  bool inPlaceForm = name.consume_back("_");
  if (c.has("inplace")) {
    auto b = asBool(c.get("inplace"), c.locOf("inplace"), "inplace");
    if (failed(b))
      return failure();
    inPlaceForm |= *b;
  }
  ClampKind kind = llvm::StringSwitch<ClampKind>(name)
                       .Case("clamp_min", ClampKind::clamp_min)
                       .Case("clamp_max", ClampKind::clamp_max)
                       .Cases({"hardtanh", "relu6"}, ClampKind::hardtanh)
                       .Default(ClampKind::clamp);
  // The bounds' parameter names and defaults.
  StringRef loName = "min", hiName = "max";
  std::optional<double> loDefault, hiDefault;
  if (name == "hardtanh") {
    loName = "min_val", hiName = "max_val";
    loDefault = -1.0, hiDefault = 1.0;
  } else if (name == "relu6") {
    loDefault = 0.0, hiDefault = 6.0;
  }
  auto x = floatInput(c);
  if (failed(x))
    return failure();
  struct Bound {
    std::optional<double> number;
    std::optional<Val> tensor;
  } lo{loDefault, {}}, hi{hiDefault, {}};
  for (auto [bound, param] : {std::pair(&lo, loName), std::pair(&hi, hiName)}) {
    if (!c.has(param))
      continue;
    const Val &v = c.get(param);
    if (v.k == Val::K::Tensor && kind != ClampKind::hardtanh) {
      bound->tensor = v;
      continue;
    }
    auto n = asNumber(v, c.locOf(param), param);
    if (failed(n))
      return failure();
    bound->number = *n;
  }
  bool anyTensor = lo.tensor || hi.tensor;
  if (!anyTensor && !lo.number && !hi.number) {
    error(c.loc,
          "torch.clamp: At least one of 'min' or 'max' must not be None");
    return failure();
  }
  if (anyTensor) {
    if (inPlaceForm) {
      error(c.loc, c.name + " with a tensor bound: Graft clamps in place "
                            "with number bounds only");
      hint("assign the result: x = torch.clamp(x, min, max)");
      return failure();
    }
    // PyTorch's min(max(x, min), max), the gradient of each bound where it
    // is taken (x < min, then x > max), of x where neither.
    Composer f(*this, c.loc);
    auto asVal = [](const Bound &b) {
      return b.tensor ? *b.tensor : Val::real(*b.number);
    };
    Val r = Val::tensor(*x);
    if (lo.tensor || lo.number)
      r = f("where", {f("lt", {r, asVal(lo)}), asVal(lo), r});
    if (hi.tensor || hi.number)
      r = f("where", {f("gt", {r, asVal(hi)}), asVal(hi), r});
    return f.result(r);
  }
  llvm::SmallVector<NamedAttribute> attrs{
      attr("kind", ClampKindAttr::get(&ctx, kind))};
  if (lo.number)
    attrs.push_back(attr("min", builder.getF64FloatAttr(*lo.number)));
  if (hi.number)
    attrs.push_back(attr("max", builder.getF64FloatAttr(*hi.number)));
  if (!inPlaceForm)
    return tensorResult(
        make<ClampOp>(c.loc, c.name, {*x}, attrs, x->getType()));
  return inPlace(c, [&](Value self) -> FailureOr<Value> {
    return ClampInPlaceOp::create(builder, L(c.loc),
                                  mlir::TypeRange{self.getType()},
                                  mlir::ValueRange{self}, attrs)
        ->getResult(0);
  });
}

template <typename OpTy> FailureOr<Val> Gen::binary(Call &c) {
  auto pair = promotePair(c.get("input"), c.locOf("input"), c.get("other"),
                          c.locOf("other"), c.name);
  if (failed(pair))
    return failure();
  return tensorResult(make<OpTy>(c.loc, c.name, {pair->first, pair->second}));
}

FailureOr<Val> Gen::compare(Call &c) {
  auto pair = promotePair(c.get("input"), c.locOf("input"), c.get("other"),
                          c.locOf("other"), c.name);
  if (failed(pair))
    return failure();
  std::optional<ComparePredicate> predicate = symbolizeComparePredicate(c.name);
  assert(predicate && "a compare row that is not a predicate");
  return tensorResult(make<CompareOp>(
      c.loc, c.name, {pair->first, pair->second},
      {attr("predicate", ComparePredicateAttr::get(&ctx, *predicate))}));
}

FailureOr<Val> Gen::where(Call &c) {
  auto cond = asTensor(c.get("condition"), c.locOf("condition"), "condition");
  if (failed(cond))
    return failure();
  auto pair = promotePair(c.get("input"), c.locOf("input"), c.get("other"),
                          c.locOf("other"), c.name);
  if (failed(pair))
    return failure();
  return tensorResult(
      make<WhereOp>(c.loc, c.name, {*cond, pair->first, pair->second}));
}

FailureOr<Val> Gen::maskedFill(Call &c) {
  auto x = floatInput(c);
  auto m = asTensor(c.get("mask"), c.locOf("mask"), "mask");
  auto v = asNumber(c.get("value"), c.locOf("value"), "value");
  if (failed(x) || failed(m) || failed(v))
    return failure();
  return tensorResult(make<MaskedFillOp>(
      c.loc, c.name, {*x, *m}, {attr("value", builder.getF64FloatAttr(*v))}));
}

/// training=False: the identity, in every entry point. With True (the
/// default) or self.training the random op applies where PyTorch's
/// training=self.training would: in the training entry points, not in
/// eval/predict.
FailureOr<bool> Gen::trainingOff(Call &c) {
  if (!c.has("training") || c.get("training").k == Val::K::Training)
    return false;
  auto t = asBool(c.get("training"), c.locOf("training"), "training");
  if (failed(t))
    return failure();
  return !*t;
}

FailureOr<Val> Gen::dropout(Call &c) {
  auto x = floatInput(c);
  if (failed(x))
    return failure();
  double p = 0.5;
  if (c.has("p")) {
    auto v = asNumber(c.get("p"), c.locOf("p"), "p");
    if (failed(v))
      return failure();
    p = *v;
  }
  if (!(p >= 0 && p <= 1)) {
    error(c.locOf("p"), "dropout probability has to be between 0 and 1, "
                        "but got " +
                            fmt(p));
    return failure();
  }
  auto off = trainingOff(c);
  if (failed(off))
    return failure();
  if (*off)
    return c.get("input");
  return tensorResult(make<DropoutOp>(
      c.loc, c.name, {*x},
      {attr("p", builder.getF64FloatAttr(p)),
       attr("stream", builder.getI64IntegerAttr(nextRandomStream++))},
      x->getType()));
}

//===----------------------------------------------------------------------===//
// Products
//===----------------------------------------------------------------------===//

FailureOr<Val> Gen::linear(Call &c) {
  auto operands = inputWeightBias(c.bound);
  if (failed(operands))
    return failure();
  return tensorResult(make<LinearOp>(c.loc, c.name, *operands));
}

FailureOr<Val> Gen::attention(Call &c) {
  auto q = asTensor(c.get("query"), c.locOf("query"), "query");
  auto k = asTensor(c.get("key"), c.locOf("key"), "key");
  auto v = asTensor(c.get("value"), c.locOf("value"), "value");
  if (failed(q) || failed(k) || failed(v))
    return failure();
  bool dropout = false;
  if (c.has("dropout_p")) {
    auto p = asNumber(c.get("dropout_p"), c.locOf("dropout_p"), "dropout_p");
    if (failed(p))
      return failure();
    dropout = *p != 0;
  }
  if (c.has("attn_mask") || dropout)
    return attentionByDefinition(c, *q, *k, *v);
  llvm::SmallVector<NamedAttribute> attrs;
  if (failed(optionalAttr(c, "is_causal", AttrKind::Bool, attrs)) ||
      failed(optionalAttr(c, "scale", AttrKind::F64, attrs)))
    return failure();
  return tensorResult(
      make<ScaledDotProductAttentionOp>(c.loc, c.name, {*q, *k, *v}, attrs));
}

FailureOr<Val> Gen::conv2d(Call &c) {
  auto operands = inputWeightBias(c.bound);
  if (failed(operands))
    return failure();
  llvm::SmallVector<NamedAttribute> attrs;
  if (failed(optionalGeometry(c, "stride", 1, attrs)) ||
      failed(optionalGeometry(c, "padding", 0, attrs)) ||
      failed(optionalGeometry(c, "dilation", 1, attrs)))
    return failure();
  if (failed(optionalAttr(c, "groups", AttrKind::I64, attrs)))
    return failure();
  return tensorResult(make<Conv2dOp>(c.loc, c.name, *operands, attrs));
}

//===----------------------------------------------------------------------===//
// Reductions, normalisation and pooling
//===----------------------------------------------------------------------===//

template <typename OpTy> FailureOr<Val> Gen::reduce(Call &c) {
  auto x = floatInput(c);
  if (failed(x))
    return failure();
  llvm::SmallVector<int64_t> dims;
  if (c.has("dim")) {
    auto d = asIntList(c.get("dim"), c.locOf("dim"), "dim");
    if (failed(d))
      return failure();
    for (int64_t v : *d) {
      auto n = normDim(v, typeOf(*x).getRank(), c.locOf("dim"));
      if (failed(n))
        return failure();
      dims.push_back(*n);
    }
  }
  bool keep = false;
  if (c.has("keepdim")) {
    auto k = asBool(c.get("keepdim"), c.locOf("keepdim"), "keepdim");
    if (failed(k))
      return failure();
    keep = *k;
  }
  return tensorResult(
      make<OpTy>(c.loc, c.name, {*x},
                 {attr("dims", builder.getDenseI64ArrayAttr(dims)),
                  attr("keepdim", builder.getBoolAttr(keep))}));
}

FailureOr<Val> Gen::argmax(Call &c) {
  auto x = floatInput(c);
  if (failed(x))
    return failure();
  auto d = dimArg(c, "dim", typeOf(*x).getRank());
  if (failed(d))
    return failure();
  bool keep = c.has("keepdim") && c.get("keepdim").k == Val::K::Bool &&
              c.get("keepdim").b;
  return tensorResult(
      make<ArgmaxOp>(c.loc, c.name, {*x},
                     {attr("dim", builder.getI64IntegerAttr(*d)),
                      attr("keepdim", builder.getBoolAttr(keep))}));
}

std::optional<FailureOr<Val>> Gen::numberExtremum(Call &c, bool max) {
  if (c.args.size() < 2 || llvm::any_of(c.args, [](const CallArg &a) {
        return !a.keyword.empty() || a.value.k != Val::K::Num;
      }))
    return std::nullopt;
  Val best = c.args[0].value;
  for (const CallArg &a : c.args)
    if (max ? a.value.num > best.num : a.value.num < best.num)
      best = a.value;
  return FailureOr<Val>(best);
}

FailureOr<Val> Gen::maxOf(Call &c) {
  if (auto numbers = numberExtremum(c, /*max=*/true))
    return *numbers;
  auto b = bindArgs(c.name, {"input", "dim", "keepdim"}, 1, c.args, c.loc);
  if (failed(b))
    return failure();
  c.bound = std::move(*b);
  if (!c.has("dim"))
    return reduce<MaxOp>(c);
  // torch.max(x, dim) and x.max(dim): the named tuple (values, indices).
  auto values = reduce<MaxOp>(c);
  if (failed(values))
    return failure();
  auto indices = argmax(c);
  if (failed(indices))
    return failure();
  return Val::namedTuple({*values, *indices}, {"values", "indices"});
}

FailureOr<Val> Gen::minOf(Call &c) {
  if (auto numbers = numberExtremum(c, /*max=*/false))
    return *numbers;
  error(c.loc, "min() takes two or more numbers in Graft (no tensor min "
               "reduction: write -amax(-x, dim))");
  return failure();
}

template <typename OpTy> FailureOr<Val> Gen::softmax(Call &c) {
  auto x = floatInput(c);
  if (failed(x))
    return failure();
  auto d = dimArg(c, "dim", typeOf(*x).getRank());
  if (failed(d))
    return failure();
  return tensorResult(make<OpTy>(c.loc, c.name, {*x},
                                 {attr("dim", builder.getI64IntegerAttr(*d))},
                                 x->getType()));
}

LogicalResult Gen::affineOperands(Call &c, llvm::SmallVectorImpl<Value> &ops,
                                  int32_t *segs) {
  for (auto [i, key] :
       llvm::enumerate(std::array<StringRef, 2>{"weight", "bias"})) {
    if (!c.has(key))
      continue;
    auto t = asTensor(c.get(key), c.locOf(key), key);
    if (failed(t))
      return failure();
    ops.push_back(*t);
    segs[i + 1] = 1;
  }
  return success();
}

FailureOr<Val> Gen::layerNorm(Call &c) {
  auto x = floatInput(c);
  auto shape = asIntList(c.get("normalized_shape"), c.locOf("normalized_shape"),
                         "normalized_shape");
  if (failed(x) || failed(shape))
    return failure();
  llvm::SmallVector<Value> ops = {*x};
  int32_t segs[3] = {1, 0, 0};
  if (failed(affineOperands(c, ops, segs)))
    return failure();
  double eps = 1e-5;
  if (c.has("eps")) {
    auto e = asNumber(c.get("eps"), c.locOf("eps"), "eps");
    if (failed(e))
      return failure();
    eps = *e;
  }
  return tensorResult(make<LayerNormOp>(
      c.loc, c.name, ops,
      {attr("normalized_shape", builder.getDenseI64ArrayAttr(*shape)),
       attr("eps", builder.getF64FloatAttr(eps)),
       attr("operandSegmentSizes", builder.getDenseI32ArrayAttr(segs))}));
}

FailureOr<Val> Gen::batchNorm(Call &c) {
  auto x = floatInput(c);
  auto rm =
      asTensor(c.get("running_mean"), c.locOf("running_mean"), "running_mean");
  auto rv =
      asTensor(c.get("running_var"), c.locOf("running_var"), "running_var");
  if (failed(x) || failed(rm) || failed(rv))
    return failure();
  for (auto [key, v] : {std::pair{"running_mean", *rm}, {"running_var", *rv}})
    if (!v.getDefiningOp<BufferOp>()) {
      error(c.locOf(key), Twine("batch_norm: ") + key +
                              " must be a buffer (declare it with "
                              "'buffer'): train mode updates it");
      return failure();
    }
  llvm::SmallVector<Value> ops = {*x};
  int32_t segs[5] = {1, 0, 0, 1, 1};
  if (failed(affineOperands(c, ops, segs)))
    return failure();
  ops.push_back(*rm);
  ops.push_back(*rv);
  llvm::SmallVector<NamedAttribute> attrs = {
      attr("operandSegmentSizes", builder.getDenseI32ArrayAttr(segs))};
  if (failed(optionalAttr(c, "momentum", AttrKind::F64, attrs)) ||
      failed(optionalAttr(c, "eps", AttrKind::F64, attrs)))
    return failure();
  return tensorResult(make<BatchNormOp>(c.loc, c.name, ops, attrs));
}

template <typename OpTy> FailureOr<Val> Gen::pool(Call &c) {
  auto x = floatInput(c);
  if (failed(x))
    return failure();
  // stride=None (or not given): the kernel's size.
  auto kernel = geometryArg(c, "kernel_size", 2, 1, 1);
  auto stride = c.has("stride") ? geometryArg(c, "stride", 2, 1, 1) : kernel;
  if (failed(kernel) || failed(stride))
    return failure();
  llvm::SmallVector<NamedAttribute> attrs = {
      attr("kernel_size", builder.getDenseI64ArrayAttr(*kernel)),
      attr("stride", builder.getDenseI64ArrayAttr(*stride))};
  if (failed(optionalGeometry(c, "padding", 0, attrs)) ||
      failed(optionalAttr(c, "ceil_mode", AttrKind::Bool, attrs)) ||
      failed(optionalGeometry(c, "dilation", 1, attrs)))
    return failure();
  return tensorResult(make<OpTy>(c.loc, c.name, {*x}, attrs));
}

//===----------------------------------------------------------------------===//
// Indexing and losses
//===----------------------------------------------------------------------===//

FailureOr<Val> Gen::cat(Call &c) {
  const Val &list = c.get("tensors");
  if (list.k != Val::K::List || list.list->empty()) {
    error(c.locOf("tensors"), "cat() expects a non-empty list of tensors");
    return failure();
  }
  llvm::SmallVector<Value> inputs;
  for (const Val &v : *list.list) {
    auto t = asTensor(v, c.locOf("tensors"), "cat()");
    if (failed(t))
      return failure();
    inputs.push_back(*t);
  }
  auto dim = optionalDim(c, typeOf(inputs.front()).getRank());
  if (failed(dim))
    return failure();
  return tensorResult(make<ConcatOp>(
      c.loc, "cat", inputs, {attr("dim", builder.getI64IntegerAttr(*dim))}));
}

FailureOr<Val> Gen::embedding(Call &c) {
  auto idx = input(c);
  auto w = asTensor(c.get("weight"), c.locOf("weight"), "weight");
  if (failed(idx) || failed(w))
    return failure();
  llvm::SmallVector<NamedAttribute> attrs;
  if (c.has("padding_idx")) {
    auto p = asInt(c.get("padding_idx"), c.locOf("padding_idx"), "padding_idx");
    if (failed(p))
      return failure();
    int64_t n = typeOf(*w).getRank() > 0 ? typeOf(*w).getDimSize(0) : 0;
    attrs.push_back(
        attr("padding_idx", builder.getI64IntegerAttr(*p < 0 ? *p + n : *p)));
  }
  return tensorResult(make<EmbeddingOp>(c.loc, c.name, {*w, *idx}, attrs));
}

template <typename OpTy> FailureOr<Val> Gen::criterion(Call &c) {
  constexpr bool classes = !std::is_same_v<OpTy, MseLossOp>;
  auto x = floatInput(c);
  auto y = asTensor(c.get("target"), c.locOf("target"), "target");
  if (failed(x) || failed(y))
    return failure();
  llvm::SmallVector<NamedAttribute> attrs;
  if (c.has("reduction")) {
    auto r = reductionArg(c);
    if (failed(r))
      return failure();
    attrs.push_back(
        attr("reduction", ReductionAttr::get(&ctx, *symbolizeReduction(*r))));
  }
  if (failed(optionalAttr(c, "ignore_index", AttrKind::I64, attrs)) ||
      failed(optionalAttr(c, "label_smoothing", AttrKind::F64, attrs)))
    return failure();
  if (classes && !mlir::isa<mlir::IntegerType>(typeOf(*y).getElementType())) {
    error(c.locOf("target"),
          c.name +
              ": expected class indices (an i64 or i32 tensor) as "
              "target, got " +
              typeStr(*y));
    return failure();
  }
  return tensorResult(make<OpTy>(c.loc, c.name, {*x, *y}, attrs));
}

//===----------------------------------------------------------------------===//
// Autograd
//===----------------------------------------------------------------------===//

FailureOr<Val> Gen::retainGrad(Call &c) {
  auto x = input(c);
  if (failed(x))
    return failure();
  std::string label;
  if (c.has("name")) {
    auto s = asString(c.get("name"), c.locOf("name"), "name");
    if (failed(s))
      return failure();
    label = *s;
  } else {
    // retain_grad(h), h.retain_grad(): named after the variable.
    const char *p = c.locOf("input").ptr.getPointer();
    while (p && (llvm::isAlnum(*p) || *p == '_'))
      label += *p++;
  }
  if (!mlir::isa<mlir::FloatType>(typeOf(*x).getElementType())) {
    error(c.locOf("input"), c.name +
                                " expects a floating-point tensor, "
                                "got " +
                                typeStr(*x));
    return failure();
  }
  RetainGradOp::create(builder, L(c.loc), label, *x);
  return Val();
}

FailureOr<Val> Gen::gradHook(Call &c) {
  auto x = input(c);
  auto label = asString(c.get("name"), c.locOf("name"), "name");
  if (failed(x) || failed(label))
    return failure();
  if (!mlir::isa<mlir::FloatType>(typeOf(*x).getElementType())) {
    error(c.locOf("input"), "grad_hook expects a floating-point tensor, "
                            "got " +
                                typeStr(*x));
    return failure();
  }
  auto r = tensorResult(make<GradHookOp>(
      c.loc, "grad_hook", {*x}, {attr("name", builder.getStringAttr(*label))},
      x->getType()));
  // x.register_hook(...): x now denotes the hooked value.
  if (const auto *self = llvm::dyn_cast_or_null<NameExpr>(c.selfExpr);
      succeeded(r) && c.method && self)
    bind(self->name, *r);
  return r;
}

//===----------------------------------------------------------------------===//
// In-place updates (the rest is in Methods.cpp)
//===----------------------------------------------------------------------===//

template <typename OpTy> FailureOr<Val> Gen::unaryInPlace(Call &c) {
  return inPlace(c, [&](Value x) -> FailureOr<Value> {
    return OpTy::create(builder, L(c.loc), x)->getResult(0);
  });
}

template <typename OpTy> FailureOr<Val> Gen::inPlaceBinary(Call &c) {
  return inPlace(c, [&](Value x) -> FailureOr<Value> {
    auto other = inPlaceOther(c, x);
    if (failed(other))
      return failure();
    return OpTy::create(builder, L(c.loc), x, *other)->getResult(0);
  });
}
