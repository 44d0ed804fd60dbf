//===- LRLambda.cpp - LambdaLR's lr_lambda, translated --------------------===//
//
// torch.optim.lr_scheduler.LambdaLR(lr_lambda=f) multiplies each group's
// base lr by f(n) after n scheduler steps. Graft evaluates the schedule on
// the host (graft::scheduledLR), so f is translated here, once, into a tree
// of arithmetic on n (graft/Dialect/Graft/IR/LRLambda.h) that graft.train
// carries: a `lambda n: expr`, or a `def f(n)` whose body assigns locals,
// branches with if/elif/else and returns (Hugging Face's
// get_linear_schedule_with_warmup, nanoGPT's get_lr without its assert).
// Whatever does not depend on n (warmup_iters, config.max_steps,
// math.pi) is evaluated now, as the rest of the model file is.
//
//===----------------------------------------------------------------------===//

#include "Gen.h"

#include "llvm/ADT/StringSwitch.h"

using namespace graft;
using namespace graft::frontend;
using mlir::Attribute;

/// Whether `e` reads one of `env`'s names (the step or a local of it).
static bool mentions(const Expr &e, const llvm::StringMap<Attribute> &env) {
  if (const auto *name = llvm::dyn_cast<NameExpr>(&e);
      name && env.count(name->name))
    return true;
  bool found = false;
  forEachChild(e, [&](const Expr &c) { found = found || mentions(c, env); });
  return found;
}

/// A call of math.f or a Python built-in on the step: its operator.
static StringRef calledOperator(const Expr &callee) {
  if (const auto *name = llvm::dyn_cast<NameExpr>(&callee))
    return llvm::StringSwitch<StringRef>(name->name)
        .Cases({"min", "max", "abs"}, name->name)
        .Case("int", "trunc")
        .Case("float", "float")
        .Default("");
  const auto *member = llvm::dyn_cast<MemberExpr>(&callee);
  const auto *object =
      member ? llvm::dyn_cast<NameExpr>(member->object.get()) : nullptr;
  if (object && object->name == "math")
    return llvm::StringSwitch<StringRef>(member->name)
        .Cases({"cos", "sin", "exp", "log", "sqrt", "floor", "ceil"},
               member->name)
        .Default("");
  return "";
}

FailureOr<Attribute> Gen::lrLambda(const Expr &fn) {
  if (const auto *lambda = llvm::dyn_cast<LambdaExpr>(&fn)) {
    if (lambda->params.size() != 1) {
      error(fn.loc, "lr_lambda takes one argument, the step count; this "
                    "lambda takes " +
                        Twine(lambda->params.size()));
      return failure();
    }
    LambdaEnv env;
    env[lambda->params[0]] = builder.getStringAttr("n");
    return lambdaExpr(*lambda->body, env, 0);
  }
  auto v = eval(fn);
  if (failed(v))
    return failure();
  if (v->k != Val::K::Func) {
    error(fn.loc, "lr_lambda must be a function of the step count (lambda "
                  "step: ... or the name of a def), got " +
                      kindName(*v));
    return failure();
  }
  return lambdaCall(*v->fn, v->fnScope, {builder.getStringAttr("n")}, fn.loc,
                    0);
}

FailureOr<Attribute> Gen::lambdaCall(const FunctionDecl &fn, Scope *where,
                                     llvm::ArrayRef<Attribute> args, Loc l,
                                     unsigned depth) {
  if (depth > 32) {
    error(l, "lr_lambda: functions call each other too deeply (recursion "
             "cannot be translated)");
    return failure();
  }
  if (fn.params.size() != args.size()) {
    error(l, fn.name + "() takes " + Twine(fn.params.size()) +
                 " argument(s) in lr_lambda, but " + Twine(args.size()) +
                 " were given");
    return failure();
  }
  LambdaEnv env;
  for (auto [p, a] : llvm::zip(fn.params, args))
    env[p.keyword] = a;
  // Names the body does not bind resolve where the function was defined.
  Scope local;
  local.parent = where;
  Scope *saved = scope;
  scope = &local;
  std::vector<const Stmt *> body;
  for (const StmtPtr &s : fn.body)
    body.push_back(s.get());
  auto tree = lambdaBody(body, std::move(env), fn.loc, depth + 1);
  scope = saved;
  return tree;
}

FailureOr<Attribute> Gen::lambdaBody(llvm::ArrayRef<const Stmt *> body,
                                     LambdaEnv env, Loc end, unsigned depth) {
  for (auto [i, s] : llvm::enumerate(body)) {
    switch (s->getKind()) {
    case StmtKind::Assign: {
      const auto &assign = llvm::cast<AssignStmt>(*s);
      if (assign.targets.size() != 1) {
        error(s->loc, "lr_lambda: assign one name at a time");
        return failure();
      }
      auto t = lambdaExpr(*assign.value, env, depth);
      if (failed(t))
        return failure();
      env[assign.targets[0]] = *t;
      continue;
    }
    case StmtKind::Return: {
      const ExprPtr &value = llvm::cast<ReturnStmt>(*s).value;
      if (!value) {
        error(s->loc, "lr_lambda must return the factor of the learning "
                      "rate");
        return failure();
      }
      return lambdaExpr(*value, env, depth);
    }
    case StmtKind::If: {
      const auto &ifStmt = llvm::cast<IfStmt>(*s);
      // Each branch continues with the statements after the if: their
      // values are selected by the conditions, in order.
      llvm::ArrayRef<const Stmt *> rest = body.drop_front(i + 1);
      auto continued = [&](const Block &b) {
        std::vector<const Stmt *> seq;
        for (const StmtPtr &st : b)
          seq.push_back(st.get());
        seq.insert(seq.end(), rest.begin(), rest.end());
        return lambdaBody(seq, env, end, depth);
      };
      auto tree = continued(ifStmt.orelse);
      if (failed(tree))
        return failure();
      for (const Branch &b : llvm::reverse(ifStmt.branches)) {
        auto cond = lambdaExpr(*b.cond, env, depth);
        auto taken = continued(b.body);
        if (failed(cond) || failed(taken))
          return failure();
        tree = builder.getArrayAttr(
            {builder.getStringAttr("select"), *cond, *taken, *tree});
      }
      return tree;
    }
    default:
      error(s->loc, "lr_lambda: a schedule function assigns names, "
                    "branches with if/elif/else and returns; this statement "
                    "cannot be evaluated at each step");
      if (llvm::isa<AssertStmt>(*s))
        hint("remove the assert: the learning rate is computed by the "
             "trainer, where it cannot stop the run");
      return failure();
    }
  }
  error(end, "lr_lambda: the function does not return a value on every "
             "path");
  return failure();
}

FailureOr<Attribute> Gen::lambdaExpr(const Expr &e, const LambdaEnv &env,
                                     unsigned depth) {
  if (!mentions(e, env)) {
    // Known now: a number of the model file.
    auto v = eval(e);
    if (failed(v))
      return failure();
    if (v->k == Val::K::Bool)
      return Attribute(builder.getF64FloatAttr(v->b));
    auto d = asNumber(*v, e.loc, "a value of lr_lambda");
    if (failed(d))
      return failure();
    return Attribute(builder.getF64FloatAttr(*d));
  }
  auto node = [&](StringRef op, llvm::ArrayRef<Attribute> operands) {
    llvm::SmallVector<Attribute> items = {builder.getStringAttr(op)};
    items.append(operands.begin(), operands.end());
    return Attribute(builder.getArrayAttr(items));
  };
  auto sub = [&](const Expr &x) { return lambdaExpr(x, env, depth); };
  switch (e.getKind()) {
  case ExprKind::Name:
    return env.lookup(llvm::cast<NameExpr>(e).name);
  case ExprKind::Unary: {
    const auto &u = llvm::cast<UnaryExpr>(e);
    auto a = sub(*u.operand);
    if (failed(a))
      return failure();
    if (u.op == "+")
      return *a;
    return node(u.op == "-" ? "neg" : "not", {*a});
  }
  case ExprKind::Binary: {
    const auto &bin = llvm::cast<BinaryExpr>(e);
    StringRef op = llvm::StringSwitch<StringRef>(bin.op)
                       .Case("+", "add")
                       .Case("-", "sub")
                       .Case("*", "mul")
                       .Case("/", "div")
                       .Case("//", "floordiv")
                       .Case("%", "mod")
                       .Case("**", "pow")
                       .Case("<", "lt")
                       .Case("<=", "le")
                       .Case(">", "gt")
                       .Case(">=", "ge")
                       .Case("==", "eq")
                       .Case("!=", "ne")
                       .Case("and", "and")
                       .Case("or", "or")
                       .Default("");
    if (op.empty())
      break;
    auto a = sub(*bin.lhs), b = sub(*bin.rhs);
    if (failed(a) || failed(b))
      return failure();
    return node(op, {*a, *b});
  }
  case ExprKind::Conditional: {
    const auto &ifExp = llvm::cast<ConditionalExpr>(e);
    auto c = sub(*ifExp.cond), a = sub(*ifExp.then), b = sub(*ifExp.orelse);
    if (failed(c) || failed(a) || failed(b))
      return failure();
    return node("select", {*c, *a, *b});
  }
  case ExprKind::Call: {
    const auto &call = llvm::cast<CallExpr>(e);
    llvm::SmallVector<Attribute> args;
    for (const Arg &a : call.args) {
      if (!a.keyword.empty())
        break;
      auto t = sub(*a.value);
      if (failed(t))
        return failure();
      args.push_back(*t);
    }
    if (args.size() != call.args.size())
      break; // keyword arguments
    StringRef op = calledOperator(*call.callee);
    if (op == "float" && args.size() == 1)
      return args[0];
    bool variadic = op == "min" || op == "max";
    if (!op.empty() && (variadic ? args.size() >= 2 : args.size() == 1))
      return node(op, args);
    if (op.empty() && llvm::isa<NameExpr>(*call.callee)) {
      // A function of the model file, applied to the step: inlined.
      auto f = eval(*call.callee);
      if (failed(f))
        return failure();
      if (f->k == Val::K::Func)
        return lambdaCall(*f->fn, f->fnScope, args, e.loc, depth + 1);
    }
    break;
  }
  default:
    break;
  }
  error(e.loc, "lr_lambda: this expression on the step count cannot be "
               "evaluated at each step");
  hint("a schedule function uses + - * / // % **, comparisons, and/or/not, "
       "x if c else y, min, max, abs, int, float, math.cos/sin/exp/log/sqrt/"
       "floor/ceil and functions of the file");
  return failure();
}
