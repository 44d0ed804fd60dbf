//===- MLIRGen.cpp - From .graft files to the graft dialect
//-----------------===//
//
// A tree-walking evaluator: module parameters, dimensions and loop counters
// are compile-time numbers; tensors are SSA values of the model being built.
// Calling a module instance or a function inlines its body, so the IR is one
// flat graft.model with grad-mode regions, as PyTorch's eager trace would be.
//
// This file: models, the driver, conversions and argument binding.
//
//===----------------------------------------------------------------------===//

#include "Gen.h"
#include "graft/Autograd/RequiresGrad.h"
#include "graft/Frontend/Parser.h"
#include "graft/Support/Files.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include <cmath>

using namespace graft;
using namespace graft::frontend;

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
  (void)genBlock(m.body, nullptr);
  releaseTiedAway();
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
  if (v.k == Val::K::Num && v.isInt && !(v.num >= -0x1p63 && v.num < 0x1p63)) {
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

FailureOr<bool> Gen::truthOf(const Val &v, Loc l, StringRef what) {
  switch (v.k) {
  case Val::K::Bool:
    return v.b;
  case Val::K::Num:
    return v.num != 0;
  case Val::K::None:
    return false;
  case Val::K::Str:
    return !v.str.empty();
  case Val::K::List:
  case Val::K::Dict:
    return !v.list->empty();
  case Val::K::Tensor:
    error(l, what + " is a tensor, whose value is known only when the model "
                    "runs; Graft decides it when compiling");
    hint("test sizes, flags and module arguments (x.size(0) > 1, "
         "config.bias); to choose between tensors element by element, use "
         "torch.where(cond, a, b)");
    return failure();
  case Val::K::Training:
    error(l, what + " is self.training: True in the training entry points "
                    "and False in eval and predict, which are compiled from "
                    "one graph, so code cannot be chosen by it");
    hint("dropout(x, p), F.dropout(x, p, training=self.training), "
         "nn.Dropout and batch norm follow the entry point: nanoGPT's "
         "dropout_p=self.dropout if self.training else 0 is "
         "dropout_p=self.dropout");
    return failure();
  case Val::K::Poison:
    return failure();
  default: // modules, functions, namespaces
    return true;
  }
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
    a.convert(f.getFloatSemantics(), llvm::APFloat::rmNearestTiesToEven, &lost);
    value = mlir::DenseElementsAttr::get(type, a);
  } else if (elt.isInteger(1)) {
    value = mlir::DenseElementsAttr::get(type, v != 0);
  } else {
    value = mlir::DenseElementsAttr::get(
        type, llvm::APInt(elt.getIntOrFloatBitWidth(), static_cast<int64_t>(v),
                          /*isSigned=*/true));
  }
  return ConstantOp::create(builder, L(l), value);
}

/// Two operands of a binary operator: tensors, or a tensor and a Python
/// number that becomes a 0-d constant of the tensor's dtype.
FailureOr<std::pair<Value, Value>>
Gen::promotePair(const Val &a, Loc la, const Val &b, Loc lb, StringRef op) {
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
  error(a.k == Val::K::Tensor ? lb : la, "unsupported operand types for " + op +
                                             ": " + kindName(a) + " and " +
                                             kindName(b));
  return failure();
}

//===----------------------------------------------------------------------===//
// Arguments
//===----------------------------------------------------------------------===//

FailureOr<std::vector<CallArg>> Gen::evalArgs(const std::vector<Arg> &args) {
  std::vector<CallArg> out;
  auto add = [&](StringRef keyword, Loc l, Val v) {
    if (!keyword.empty() && llvm::any_of(out, [&](const CallArg &o) {
          return o.keyword == keyword;
        })) {
      // Python's words (a ** dict can repeat a keyword given explicitly).
      error(l, "got multiple values for keyword argument '" + keyword + "'");
      return false;
    }
    out.push_back({keyword.str(), l, std::move(v)});
    return true;
  };
  for (const Arg &a : args) {
    auto v = eval(*a.value);
    if (failed(v))
      return failure();
    if (a.keyword != "**") {
      if (!add(a.keyword, a.loc, std::move(*v)))
        return failure();
      continue;
    }
    // f(**config): the dict's items as keyword arguments.
    if (v->k != Val::K::Dict) {
      error(a.loc, "argument after ** must be a dict, not " + kindName(*v));
      return failure();
    }
    for (auto [k, item] : llvm::zip(*v->keys, *v->list))
      if (!add(k, a.loc, item))
        return failure();
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
        error(
            a.loc,
            fn + "() takes " + Twine(names.size()) + " positional argument" +
                (names.size() == 1 ? "" : "s") + " but " +
                Twine(llvm::count_if(
                    args, [](const CallArg &c) { return c.keyword.empty(); })) +
                " were given");
        return failure();
      }
      b.values[names[positional]] = a.value;
      b.locs[names[positional]] = a.loc;
      ++positional;
      continue;
    }
    if (!llvm::is_contained(names, a.keyword)) {
      error(a.loc,
            fn + "() got an unexpected keyword argument '" + a.keyword + "'");
      std::string list;
      for (StringRef n : names)
        list += (list.empty() ? "" : ", ") + n.str();
      hint(fn + "() takes: " + list);
      return failure();
    }
    if (b.values.count(a.keyword)) {
      error(a.loc,
            fn + "() got multiple values for argument '" + a.keyword + "'");
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
  std::string best;
  unsigned bestDist = 3;
  // Among names as close, the one nearest in length (a transposed "rleu"
  // means relu, not le), then the first alphabetically: the same answer
  // whatever the tables' order.
  auto lengthGap = [&](StringRef c) {
    return c.size() > name.size() ? c.size() - name.size()
                                  : name.size() - c.size();
  };
  auto consider = [&](StringRef candidate) {
    unsigned d = name.edit_distance(candidate, true, bestDist);
    bool better =
        d < bestDist ||
        (d == bestDist && d <= 2 &&
         (best.empty() || lengthGap(candidate) < lengthGap(best) ||
          (lengthGap(candidate) == lengthGap(best) && candidate < best)));
    if (better) {
      size_t limit =
          name.size() <= 3 ? 1 : std::max<size_t>(2, name.size() / 3);
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
  for (auto &kv : builtins().functions)
    if (!kv.getKey().contains('.')) // a module's forward, not callable
      consider(kv.getKey());
  for (auto &kv : builtins().modules)
    consider(kv.getKey());
  for (StringRef container : {"Sequential", "ModuleList", "ModuleDict"})
    consider(container);
  if (!best.empty())
    hint("did you mean '" + best + "'?");
}
