//===- Functions.cpp - Running func.func entry points in the evaluator ----===//
//
// The training program's entry points are func.func ops whose bodies are
// graft ops and a func.return; this runs them with the evaluator's op
// semantics (OpEvaluator), so the optimizer step is checked by the same
// oracle as the forward and backward passes.
//
//===----------------------------------------------------------------------===//

#include "graft/Evaluator/Evaluator.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace graft;
using namespace graft::eval;

static llvm::Error fnError(func::FuncOp fn, const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "@" + fn.getSymName() + ": " + msg);
}

llvm::Expected<std::vector<Tensor>>
Evaluator::runFunction(func::FuncOp fn, llvm::ArrayRef<Tensor> args) {
  if (fn.isExternal())
    return fnError(fn, "has no body");
  Block &body = fn.getBody().front();
  if (args.size() != body.getNumArguments())
    return fnError(fn, llvm::formatv("takes {0} arguments, {1} given",
                                     body.getNumArguments(), args.size()));

  // The function's mode and seed for this run only.
  Mode savedMode = mode;
  uint64_t savedSeed = seed;
  llvm::scope_exit restore([&] {
    mode = savedMode;
    seed = savedSeed;
  });
  if (auto m = fn->getAttrOfType<StringAttr>(
          GraftDialect::ModeAttrHelper::getNameStr())) {
    if (m.getValue() == "train")
      mode = Mode::Train;
    else if (m.getValue() == "eval")
      mode = Mode::Eval;
    else
      return fnError(fn, "unknown graft.mode '" + m.getValue() + "'");
  }

  values.clear();
  gradients.clear();
  outputs.clear();
  updatedBuffers.clear();
  gradientOrder.clear();
  lossValue = nullptr;
  for (auto [i, arg] : llvm::enumerate(body.getArguments())) {
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    std::optional<DType> dt =
        type ? elementTypeOf(type.getElementType()) : std::nullopt;
    auto name = fn.getArgAttrOfType<StringAttr>(i, kNameAttrName);
    std::string what = llvm::formatv("argument {0}{1}", i,
                                     name ? " '" + name.getValue().str() + "'"
                                          : std::string())
                           .str();
    if (!dt)
      return fnError(fn, what + " is not a tensor the evaluator knows");
    if (llvm::ArrayRef<int64_t>(args[i].shape) != type.getShape() ||
        args[i].numel() != type.getNumElements())
      return fnError(fn, what + " given as " + args[i].typeStr() +
                             ", expected shape " +
                             Tensor::filled(type.getShape(), DType::F64)
                                 .typeStr());
    Tensor t = args[i];
    t.dtype = *dt;
    if (!isFloat(t.dtype) || !computeInF64)
      for (double &x : t.data)
        x = roundTo(t.dtype, x);
    auto role = fn.getArgAttrOfType<RoleAttr>(i, kRoleAttrName);
    if (role && role.getValue() == Role::seed) {
      if (t.numel() != 1)
        return fnError(fn, what + ": the seed is one integer");
      seed = static_cast<uint64_t>(static_cast<int64_t>(t.data[0]));
    }
    values[arg] = std::move(t);
  }

  for (Operation &op : body) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      std::vector<Tensor> results;
      for (Value v : ret.getOperands()) {
        auto it = values.find(v);
        if (it == values.end())
          return fnError(fn, "a returned value has no value");
        results.push_back(it->second);
      }
      return results;
    }
    if (!isa_and_nonnull<GraftDialect>(op.getDialect()))
      return fnError(fn, "cannot evaluate '" + op.getName().getStringRef() +
                             "'");
    if (llvm::Error e = evalOp(&op))
      return std::move(e);
  }
  return fnError(fn, "has no func.return");
}
