//===- Builtins.cpp - The built-in functions of the language ----------------===//
//
// The PyTorch functions a model file can call, each building its graft op.
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

