//===- Expressions.cpp - Expressions, indexing and calls
//--------------------===//
//
// Evaluation of expressions: numbers and names at compile time, tensor
// arithmetic as graft ops, indexing and slicing, and call dispatch.
//
//===----------------------------------------------------------------------===//

#include "Gen.h"
#include "graft/Autograd/RequiresGrad.h"
#include "llvm/ADT/STLExtras.h"
#include <array>
#include <cmath>

using namespace graft;
using namespace graft::frontend;

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
            "the limit with " +
                Twine(flag) + "=N");
  }
  overBudget = true;
  return false;
}

FailureOr<Val> Gen::eval(const Expr &e) {
  if (!spend(evaluations, options.maxEvaluations, e.loc,
             "expression evaluations", "--max-evaluations"))
    return failure();
  switch (e.getKind()) {
  case ExprKind::Number: {
    const auto &n = llvm::cast<NumberExpr>(e);
    return Val::number(n.number, n.isInt);
  }
  case ExprKind::String:
    return Val::string(llvm::cast<StringExpr>(e).value);
  case ExprKind::Bool:
    return Val::boolean(llvm::cast<BoolExpr>(e).value);
  case ExprKind::None:
    return Val();
  case ExprKind::Name: {
    const std::string &name = llvm::cast<NameExpr>(e).name;
    if (Val *v = scope->lookup(name)) {
      if (v->k == Val::K::Poison)
        return failure();
      return *v;
    }
    auto m = modules.find(name);
    if (m != modules.end()) {
      Val r;
      r.k = Val::K::ModType;
      r.mod = m->second;
      r.str = name;
      return r;
    }
    if (builtins().modules.count(name) || isContainerModule(name)) {
      Val r;
      r.k = Val::K::ModType;
      r.builtinModule = name;
      r.str = name;
      return r;
    }
    // PyTorch's and Python's namespaces, as model code spells them:
    // torch.tanh, F.softmax, nn.Linear, math.sqrt.
    if (name == "torch" || name == "F" || name == "nn" || name == "math" ||
        name == "init") {
      Val r;
      r.k = Val::K::Namespace;
      r.str = name;
      return r;
    }
    // Bare built-in function names are resolved by evalCall.
    unknownName(e.loc, name);
    return failure();
  }
  case ExprKind::Unary: {
    const auto &u = llvm::cast<UnaryExpr>(e);
    auto v = eval(*u.operand);
    if (failed(v))
      return failure();
    if (u.op == "not") {
      auto t = truthOf(*v, u.operand->loc, "the operand of 'not'");
      if (failed(t))
        return failure();
      return Val::boolean(!*t);
    }
    if (u.op == "+")
      return *v;
    if (v->k == Val::K::Num)
      return Val::number(-v->num, v->isInt);
    auto t = asFloatTensor(*v, u.operand->loc, "neg");
    if (failed(t))
      return failure();
    auto r = make<NegOp>(e.loc, "neg", {*t}, {}, t->getType());
    return failed(r) ? FailureOr<Val>(failure()) : Val::tensor(*r);
  }
  case ExprKind::Binary:
    return evalBinary(llvm::cast<BinaryExpr>(e));
  case ExprKind::Conditional: {
    const auto &ifExp = llvm::cast<ConditionalExpr>(e);
    auto c = eval(*ifExp.cond);
    if (failed(c))
      return failure();
    auto t = truthOf(*c, ifExp.cond->loc, "the condition of 'x if c else y'");
    if (failed(t))
      return failure();
    return eval(*t ? *ifExp.then : *ifExp.orelse);
  }
  case ExprKind::Call:
    return evalCall(llvm::cast<CallExpr>(e));
  case ExprKind::Member:
    return evalMember(llvm::cast<MemberExpr>(e));
  case ExprKind::Index:
    return evalIndex(llvm::cast<IndexExpr>(e));
  case ExprKind::Slice:
    error(e.loc, "a slice is only allowed inside '[...]'");
    return failure();
  case ExprKind::List:
  case ExprKind::Tuple: {
    std::vector<Val> items;
    for (const Arg &a : llvm::cast<SequenceExpr>(e).elements) {
      auto v = eval(*a.value);
      if (failed(v))
        return failure();
      items.push_back(std::move(*v));
    }
    return Val::listOf(std::move(items));
  }
  case ExprKind::Dict:
    return evalDict(llvm::cast<DictExpr>(e));
  case ExprKind::Lambda:
    error(e.loc, "a lambda is a schedule's lr_lambda (LambdaLR(lr_lambda="
                 "lambda step: 0.95 ** step)); elsewhere, define the function "
                 "with 'def' and pass its name");
    return failure();
  case ExprKind::ListComp: {
    const auto &comp = llvm::cast<ListCompExpr>(e);
    std::vector<Val> items;
    if (failed(comprehend(comp.loop, comp.loc, [&]() -> LogicalResult {
          auto v = eval(*comp.element);
          if (failed(v))
            return failure();
          items.push_back(std::move(*v));
          return success();
        })))
      return failure();
    return Val::listOf(std::move(items));
  }
  }
  return failure();
}

FailureOr<Val> Gen::evalBinary(const BinaryExpr &e) {
  StringRef op = e.op;
  auto a = eval(*e.lhs);
  if (failed(a))
    return failure();
  if (op == "and" || op == "or") {
    // Python's: the first operand that decides, the right one unevaluated
    // when the left decides.
    auto t =
        truthOf(*a, e.lhs->loc, ("the left operand of '" + op + "'").str());
    if (failed(t))
      return failure();
    if (*t == (op == "or"))
      return *a;
    auto b = eval(*e.rhs);
    if (succeeded(b) &&
        failed(truthOf(*b, e.rhs->loc,
                       ("the right operand of '" + op + "'").str())))
      return failure();
    return b;
  }
  auto b = eval(*e.rhs);
  if (failed(b))
    return failure();
  if (op == "is" || op == "is not") {
    // Identity of the constants: `x is None`, `flag is True`.
    bool constants =
        llvm::all_of(std::array<const Val *, 2>{&*a, &*b}, [](const Val *v) {
          return v->k == Val::K::None || v->k == Val::K::Bool;
        });
    if (!constants && a->k != Val::K::None && b->k != Val::K::None) {
      error(e.loc, "'" + op +
                       "' compares with None, True or False (x is "
                       "None); compare values with == or !=");
      return failure();
    }
    bool same = a->k == b->k && (a->k != Val::K::Bool || a->b == b->b);
    return Val::boolean(same == (op == "is"));
  }
  // Compile-time arithmetic on numbers (dims, module arguments).
  if (a->k == Val::K::Num && b->k == Val::K::Num) {
    double x = a->num, y = b->num;
    bool ints = a->isInt && b->isInt;
    if (op == "+")
      return Val::number(x + y, ints);
    if (op == "-")
      return Val::number(x - y, ints);
    if (op == "*")
      return Val::number(x * y, ints);
    if (op == "**")
      return Val::number(std::pow(x, y), ints && y >= 0);
    if (op == "/") {
      if (y == 0) {
        error(e.loc, "division by zero");
        return failure();
      }
      return Val::number(x / y, false);
    }
    if (op == "//" || op == "%") {
      // Python's floor division and modulo: the remainder takes the sign of
      // the divisor (-7 // 2 == -4, -7 % 2 == 1).
      if (y == 0) {
        error(e.loc, ints ? "integer division or modulo by zero"
                          : "float floor division or modulo by zero");
        return failure();
      }
      double q = std::floor(x / y);
      return Val::number(op == "//" ? q : x - q * y, ints);
    }
    if (op == "<")
      return Val::boolean(x < y);
    if (op == "<=")
      return Val::boolean(x <= y);
    if (op == ">")
      return Val::boolean(x > y);
    if (op == ">=")
      return Val::boolean(x >= y);
    if (op == "==")
      return Val::boolean(x == y);
    if (op == "!=")
      return Val::boolean(x != y);
    error(e.loc, "unsupported operand types for " + op + ": numbers");
    return failure();
  }
  // Equality of compile-time constants: strings (act == "gelu"), flags,
  // None; a bool equals the number it stands for, as in Python.
  auto constant = [](const Val &v) {
    return v.k == Val::K::Num || v.k == Val::K::Bool || v.k == Val::K::Str ||
           v.k == Val::K::None;
  };
  if ((op == "==" || op == "!=") && constant(*a) && constant(*b)) {
    auto numeric = [](const Val &v) -> std::optional<double> {
      if (v.k == Val::K::Num)
        return v.num;
      if (v.k == Val::K::Bool)
        return v.b ? 1.0 : 0.0;
      return std::nullopt;
    };
    bool equal;
    if (numeric(*a) && numeric(*b))
      equal = *numeric(*a) == *numeric(*b);
    else
      equal = a->k == b->k && a->str == b->str; // strings, or both None
    return Val::boolean(equal == (op == "=="));
  }
  if ((op == "//" || op == "%") && a->k != Val::K::Poison &&
      b->k != Val::K::Poison) {
    error(e.loc, "operator " + op +
                     " is for numbers (sizes, dimensions); "
                     "Graft has no tensor floor division or remainder");
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
      error(e.loc, "operator " + op + " expects floating-point tensors, got " +
                       typeStr(x) + " and " + typeStr(y));
      hint("Graft does not promote types; convert with x.float()");
      return failure();
    }
  if (op == "+")
    r = make<AddOp>(e.loc, "add", {x, y});
  else if (op == "-")
    r = make<SubOp>(e.loc, "sub", {x, y});
  else if (op == "*")
    r = make<MulOp>(e.loc, "mul", {x, y});
  else if (op == "/")
    r = make<DivOp>(e.loc, "div", {x, y});
  else if (op == "**")
    r = make<PowOp>(e.loc, "pow", {x, y});
  else if (op == "@")
    r = make<MatmulOp>(e.loc, "matmul", {x, y});
  if (failed(r))
    return failure();
  return Val::tensor(*r);
}

FailureOr<Val> Gen::namespaceMember(StringRef ns, const MemberExpr &e) {
  StringRef name = e.name;
  Val r;
  if (ns == "math") {
    // Python's math: constants, and the unary functions of numbers.
    std::optional<double> constant =
        llvm::StringSwitch<std::optional<double>>(name)
            .Case("pi", M_PI)
            .Case("e", M_E)
            .Case("tau", 2 * M_PI)
            .Case("inf", INFINITY)
            .Case("nan", NAN)
            .Default(std::nullopt);
    if (constant)
      return Val::number(*constant, false);
  }
  if (ns == "torch" && elementTypeNamed(name))
    return Val::string(name); // a dtype: torch.long, torch.float32
  if (ns == "torch" && name == "nn") {
    r.k = Val::K::Namespace;
    r.str = "nn";
    return r;
  }
  if (ns == "nn" && (name == "functional" || name == "init")) {
    r.k = Val::K::Namespace;
    r.str = name == "init" ? "init" : "F";
    return r;
  }
  if (ns == "nn" &&
      (builtins().modules.count(name) || isContainerModule(name))) {
    r.k = Val::K::ModType;
    r.builtinModule = name.str();
    r.str = name.str();
    return r;
  }
  if (ns != "nn" && builtins().functions.count(name)) {
    r.k = Val::K::Builtin;
    r.str = name.str();
    return r;
  }
  error(e.loc, "'" + ns + "' has no attribute '" + name + "' in Graft");
  hint("the language knows torch's, F's and math's functions that are in "
       "docs/language.md, nn's modules, and math.pi, math.e, math.inf");
  return failure();
}

FailureOr<Val> Gen::evalMember(const MemberExpr &e) {
  auto base = eval(*e.object);
  if (failed(base))
    return failure();
  if (base->k == Val::K::Inst) {
    if (Val *v = base->inst->scope.vars.count(e.name)
                     ? &base->inst->scope.vars[e.name]
                     : nullptr)
      return *v;
    // A method as a value (self.apply(self._init_weights)): bound to the
    // instance, which does not own itself.
    if (const ModuleDecl *decl = base->inst->decl)
      for (const StmtPtr &s : decl->body)
        if (auto *def = llvm::dyn_cast<DefStmt>(s.get());
            def && def->func->name == e.name) {
          Val m;
          m.k = Val::K::Func;
          m.fn = def->func.get();
          m.fnScope = &base->inst->scope;
          m.inst = std::shared_ptr<Instance>(std::shared_ptr<Instance>(),
                                             base->inst.get());
          return m;
        }
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
    // nn.Module.training: which entry point runs, not a compile-time bool.
    if (e.name == "training") {
      Val t;
      t.k = Val::K::Training;
      return t;
    }
    error(e.loc, "'" + base->inst->typeName + "' object has no attribute '" +
                     e.name + "'");
    return failure();
  }
  if (base->k == Val::K::Namespace)
    return namespaceMember(base->str, e);
  if (base->k == Val::K::List) {
    unsigned idx;
    if (!StringRef(e.name).getAsInteger(10, idx) && idx < base->list->size())
      return (*base->list)[idx];
    if (base->fields)
      for (auto [name, v] : llvm::zip(*base->fields, *base->list))
        if (name == e.name)
          return v;
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
    if (e.name == "requires_grad") {
      // A parameter's flag, or what autograd derives for any other value.
      if (auto p = base->t.getDefiningOp<ParamOp>())
        return Val::boolean(!p.getFrozen());
      return Val::boolean(RequiresGradAnalysis(model).requiresGrad(base->t));
    }
    if (e.name == "T") {
      if (t.getRank() != 2) {
        error(e.loc, ".T expects a 2-D tensor, got " + typeStr(base->t));
        return failure();
      }
      // PyTorch's x.T is x.permute(1, 0) (PermuteBackward0), while
      // x.transpose(0, 1) is TransposeBackward0: keep them apart in the IR.
      auto r =
          make<PermuteOp>(e.loc, "permute", {base->t},
                          {attr("dims", builder.getDenseI64ArrayAttr({1, 0}))});
      return failed(r) ? FailureOr<Val>(failure()) : Val::tensor(*r);
    }
  }
  error(e.loc, Twine(kindName(*base)) + " has no attribute '" + e.name + "'");
  return failure();
}

FailureOr<Val> Gen::evalIndex(const IndexExpr &e) {
  auto base = eval(*e.object);
  if (failed(base))
    return failure();
  if (base->k == Val::K::Dict) {
    auto key = dictKey(e);
    if (failed(key))
      return failure();
    return dictItem(*base, Val::string(*key), e.indices[0].loc);
  }
  if (base->k == Val::K::List ||
      (base->k == Val::K::Inst && !base->inst->children.empty())) {
    if (e.indices.size() != 1 || llvm::isa<SliceExpr>(*e.indices[0].value)) {
      error(e.loc, "a list takes one integer index");
      return failure();
    }
    auto i = eval(*e.indices[0].value);
    if (failed(i))
      return failure();
    auto idx = asInt(*i, e.indices[0].loc, "the index");
    if (failed(idx))
      return failure();
    int64_t n = base->k == Val::K::List ? base->list->size()
                                        : base->inst->children.size();
    int64_t k = *idx < 0 ? *idx + n : *idx;
    if (k < 0 || k >= n) {
      error(e.indices[0].loc, "index " + Twine(*idx) +
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
  auto x = asTensor(*base, e.object->loc, "indexing");
  if (failed(x))
    return failure();
  Value cur = *x;
  int64_t rank = typeOf(cur).getRank();
  if (static_cast<int64_t>(e.indices.size()) > rank) {
    error(e.loc, "too many indices for tensor of dimension " + Twine(rank));
    return failure();
  }
  // Integer indices select (slice of one, then reshape away the dim).
  llvm::SmallVector<int64_t> dropDims;
  for (auto [dim, a] : llvm::enumerate(e.indices)) {
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
    if (const auto *slice = llvm::dyn_cast<SliceExpr>(&item)) {
      if (failed(bound(slice->start, start)) ||
          failed(bound(slice->end, end)) || failed(bound(slice->step, step)))
        return failure();
      if (step <= 0) {
        error(item.loc, "slice step must be positive");
        return failure();
      }
      // Python slice semantics: negative bounds count from the end, then
      // clamp.
      if (start < 0)
        start += size;
      if (end < 0)
        end += size;
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
        error(item.loc, "index " + Twine(*i) +
                            " is out of bounds for "
                            "dimension " +
                            Twine(dim) + " with size " + Twine(size));
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
  auto r =
      make<ReshapeOp>(l, pyName, {x}, {},
                      RankedTensorType::get(shape, typeOf(x).getElementType()));
  return failed(r) ? FailureOr<Val>(failure()) : Val::tensor(*r);
}

FailureOr<Val> Gen::evalCall(const CallExpr &e) {
  // Methods: x.relu(), blocks[0](x) is handled below as a value call.
  if (const auto *member = llvm::dyn_cast<MemberExpr>(e.callee.get())) {
    const MemberExpr &callee = *member;
    auto self = eval(*callee.object);
    if (failed(self))
      return failure();
    if (self->k == Val::K::Namespace) {
      auto fn = namespaceMember(self->str, callee);
      if (failed(fn))
        return failure();
      if (fn->k == Val::K::Builtin) {
        auto args = evalArgs(e.args);
        if (failed(args))
          return failure();
        return callBuiltin(fn->str, *args, e.loc);
      }
    }
    if (self->k == Val::K::Dict)
      return dictMethod(*self, e);
    if (self->k == Val::K::Str &&
        (callee.name == "endswith" || callee.name == "startswith")) {
      // pn.endswith('c_proj.weight'), a suffix or a tuple of them.
      auto args = evalArgs(e.args);
      if (failed(args))
        return failure();
      auto b = bindArgs(callee.name,
                        {callee.name == "endswith" ? "suffix" : "prefix"}, 1,
                        *args, e.loc);
      if (failed(b))
        return failure();
      const CallArg &a = args->front();
      std::vector<Val> items =
          a.value.k == Val::K::List ? *a.value.list : std::vector<Val>{a.value};
      bool found = false;
      for (const Val &item : items) {
        auto affix = asString(item, a.loc, callee.name);
        if (failed(affix))
          return failure();
        StringRef str(self->str);
        found |= callee.name == "endswith" ? str.ends_with(*affix)
                                           : str.starts_with(*affix);
      }
      return Val::boolean(found);
    }
    if (self->k == Val::K::Tensor) {
      auto args = evalArgs(e.args);
      if (failed(args))
        return failure();
      return callMethod(*self, callee.object->loc, callee.name, *args,
                        callee.loc, callee.object.get());
    }
    if (self->k == Val::K::Inst) {
      Instance &inst = *self->inst;
      if (inst.decl) {
        for (const StmtPtr &s : inst.decl->body)
          if (auto *def = llvm::dyn_cast<DefStmt>(s.get());
              def && def->func->name == callee.name) {
            auto args = evalArgs(e.args);
            if (failed(args))
              return failure();
            return callFunction(*def->func, &inst.scope, *args, e.loc, &inst);
          }
      }
      if (callee.name == "apply") {
        auto args = evalArgs(e.args);
        if (failed(args))
          return failure();
        auto b = bindArgs("apply", {"fn"}, 1, *args, e.loc);
        if (failed(b))
          return failure();
        llvm::SmallPtrSet<Instance *, 16> seen;
        if (failed(applyToModules(inst, b->get("fn"), b->locOf("fn"), seen)))
          return failure();
        return *self;
      }
      if (callee.name == "named_parameters" || callee.name == "parameters") {
        if (!e.args.empty()) {
          error(e.loc, callee.name + "() takes no arguments here");
          return failure();
        }
        Val pairs = namedParametersUnder(inst.prefix);
        if (callee.name == "named_parameters")
          return pairs;
        std::vector<Val> params;
        for (const Val &p : *pairs.list)
          params.push_back((*p.list)[1]);
        return Val::listOf(std::move(params));
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
          if (p.anyName(
                  [&](StringRef n) { return n.starts_with(inst.prefix); }))
            p.setFrozen(!on);
        return Val();
      }
    }
  }
  if (const auto *name = llvm::dyn_cast<NameExpr>(e.callee.get());
      name && !scope->lookup(name->name) && !modules.count(name->name)) {
    // A built-in function.
    auto args = evalArgs(e.args);
    if (failed(args))
      return failure();
    return callBuiltin(name->name, *args, e.loc);
  }
  auto fnVal = eval(*e.callee);
  if (failed(fnVal))
    return failure();
  auto args = evalArgs(e.args);
  if (failed(args))
    return failure();
  switch (fnVal->k) {
  case Val::K::Func:
    return callFunction(*fnVal->fn, fnVal->fnScope, *args, e.loc,
                        fnVal->inst.get());
  case Val::K::Inst:
    return callInstance(*fnVal->inst, *args, e.loc);
  case Val::K::Builtin:
    return callBuiltin(fnVal->str, *args, e.loc);
  case Val::K::Record:
    return makeRecord(*fnVal->record, fnVal->fnScope, *args, e.loc);
  case Val::K::ModType:
    error(e.loc, "module '" + fnVal->str +
                     "' can only be instantiated by assigning it to a name "
                     "in a model or module body (name = " +
                     fnVal->str + "(...))");
    hint("instances get their state_dict names from the name they are "
         "assigned to");
    return failure();
  default:
    error(e.loc, Twine("'") + kindName(*fnVal) + "' object is not callable");
    return failure();
  }
}

FailureOr<Val> Gen::makeRecord(const RecordDecl &record, Scope *defaults,
                               const std::vector<CallArg> &args, Loc l) {
  // A dataclass's generated __init__(self, field1, field2=default, ...).
  std::string fn = record.name + ".__init__()";
  const std::vector<RecordField> &fields = record.fields;
  std::vector<std::optional<Val>> values(fields.size());
  size_t positional = 0;
  for (const CallArg &a : args) {
    size_t i;
    if (a.keyword.empty()) {
      i = positional++;
      if (i >= fields.size()) {
        error(a.loc, fn + " takes " + Twine(fields.size() + 1) +
                         " positional arguments but " +
                         Twine(llvm::count_if(args,
                                              [](const CallArg &c) {
                                                return c.keyword.empty();
                                              }) +
                               1) +
                         " were given");
        return failure();
      }
    } else {
      auto it = llvm::find_if(
          fields, [&](const RecordField &f) { return f.name == a.keyword; });
      if (it == fields.end()) {
        error(a.loc,
              fn + " got an unexpected keyword argument '" + a.keyword + "'");
        note(record.loc, "'" + record.name + "' is declared here");
        return failure();
      }
      i = it - fields.begin();
      if (values[i]) {
        error(a.loc,
              fn + " got multiple values for argument '" + a.keyword + "'");
        return failure();
      }
    }
    values[i] = a.value;
  }
  std::vector<Val> items;
  std::vector<std::string> names;
  Scope *caller = scope;
  for (auto [f, v] : llvm::zip(fields, values)) {
    if (!v) {
      if (!f.value) {
        error(l,
              fn + " missing 1 required positional argument: '" + f.name + "'");
        return failure();
      }
      scope = defaults;
      FailureOr<Val> d = eval(*f.value);
      scope = caller;
      if (failed(d))
        return failure();
      v = *d;
    }
    items.push_back(*v);
    names.push_back(f.name);
  }
  return Val::namedTuple(std::move(items), std::move(names));
}
