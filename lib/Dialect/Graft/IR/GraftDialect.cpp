//===- GraftDialect.cpp - The graft dialect and its attributes ------------===//

#include "graft/Dialect/Graft/IR/GraftDialect.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace graft;

#include "graft/Dialect/Graft/IR/GraftDialect.cpp.inc"
#include "graft/Dialect/Graft/IR/GraftEnums.cpp.inc"
#include "graft/Dialect/Graft/IR/GraftInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "graft/Dialect/Graft/IR/GraftAttrs.cpp.inc"

void GraftDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "graft/Dialect/Graft/IR/GraftAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "graft/Dialect/Graft/IR/GraftOps.cpp.inc"
      >();
}

Operation *GraftDialect::materializeConstant(OpBuilder &builder,
                                             Attribute value, Type type,
                                             Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, elements);
}

//===----------------------------------------------------------------------===//
// Entry-point argument and result attributes
//===----------------------------------------------------------------------===//

/// graft.role is a #graft<role ...> and graft.name a string.
static LogicalResult verifyEntryPointAttr(Operation *op, NamedAttribute a,
                                          llvm::StringRef what, unsigned i) {
  if (a.getName() == kRoleAttrName && !isa<RoleAttr>(a.getValue()))
    return op->emitOpError()
           << what << " " << i << ": '" << kRoleAttrName
           << "' must be a #graft<role ...>, got " << a.getValue();
  if (a.getName() == kNameAttrName && !isa<StringAttr>(a.getValue()))
    return op->emitOpError() << what << " " << i << ": '" << kNameAttrName
                             << "' must be a string, got " << a.getValue();
  return success();
}

LogicalResult GraftDialect::verifyRegionArgAttribute(Operation *op, unsigned,
                                                     unsigned argIndex,
                                                     NamedAttribute a) {
  return verifyEntryPointAttr(op, a, "argument", argIndex);
}

LogicalResult GraftDialect::verifyRegionResultAttribute(Operation *op, unsigned,
                                                        unsigned resultIndex,
                                                        NamedAttribute a) {
  return verifyEntryPointAttr(op, a, "result", resultIndex);
}

//===----------------------------------------------------------------------===//
// LoweringConfigAttr
//===----------------------------------------------------------------------===//

LogicalResult LoweringConfigAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, ArrayRef<int64_t> tileSizes,
    ArrayRef<int64_t> interchange, ArrayRef<int64_t> padOperands,
    ArrayRef<int64_t> packOperands, std::optional<int64_t> threads) {
  if (tileSizes.empty() ||
      llvm::any_of(tileSizes, [](int64_t s) { return s < 0; }))
    return emitError() << "tile_sizes must be one size >= 0 per loop";
  if (!interchange.empty()) {
    SmallVector<int64_t> sorted(interchange);
    llvm::sort(sorted);
    if (interchange.size() != tileSizes.size() ||
        llvm::any_of(llvm::enumerate(sorted),
                     [](auto p) { return p.value() != (int64_t)p.index(); }))
      return emitError() << "interchange must be a permutation of the "
                         << tileSizes.size() << " loops";
  }
  if (llvm::any_of(padOperands, [](int64_t o) { return o < 0; }))
    return emitError() << "pad_operands must be operand numbers";
  if (llvm::any_of(packOperands, [&](int64_t o) {
        return o < 0 || llvm::is_contained(padOperands, o);
      }))
    return emitError() << "pack_operands must be operand numbers not padded";
  if (threads && (*threads < 0 || *threads >= (int64_t)tileSizes.size() ||
                  tileSizes[*threads] == 0))
    return emitError() << "threads must be a tiled loop's dim";
  return success();
}

//===----------------------------------------------------------------------===//
// GPUConfigAttr
//===----------------------------------------------------------------------===//

LogicalResult
GPUConfigAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      GPUKernel kernel, std::optional<int64_t> tile,
                      std::optional<int64_t> slices) {
  auto oneOf = [](std::optional<int64_t> v, std::initializer_list<int64_t> l) {
    return v && llvm::is_contained(l, *v);
  };
  switch (kernel) {
  case GPUKernel::product:
    if (!oneOf(tile, {16, 32, 64}))
      return emitError() << "a product's tile must be 16, 32 or 64";
    if (slices && !oneOf(slices, {1, 2, 4}))
      return emitError() << "slices must be 1, 2 or 4";
    if (slices.value_or(1) > 1 && *tile != 16)
      return emitError() << "only 16x16 tiles split k into slices";
    return success();
  case GPUKernel::tensor_core_product:
    if (!oneOf(tile, {32, 64, 128}))
      return emitError() << "a tensor-core product's tile must be 32, 64 or "
                            "128";
    if (slices)
      return emitError() << "tensor-core products do not split k into slices";
    return success();
  case GPUKernel::row_reduction:
  case GPUKernel::column_reduction:
  case GPUKernel::full_reduction:
    if (tile || slices)
      return emitError() << "a reduction kernel takes no tile or slices";
    return success();
  }
  llvm_unreachable("unknown GPU kernel");
}

//===----------------------------------------------------------------------===//
// InitAttr
//===----------------------------------------------------------------------===//

namespace {
/// The arguments an initialiser accepts: name and whether it is a string.
struct InitArg {
  llvm::StringLiteral name;
  bool isString;
};
llvm::ArrayRef<InitArg> allowedArgs(InitKind kind) {
  static const InitArg constant[] = {{"value", false}};
  static const InitArg normal[] = {{"mean", false}, {"std", false}};
  static const InitArg uniform[] = {{"a", false}, {"b", false}};
  static const InitArg kaiming[] = {
      {"a", false}, {"mode", true}, {"nonlinearity", true}};
  static const InitArg xavier[] = {{"gain", false}};
  static const InitArg truncNormal[] = {
      {"mean", false}, {"std", false}, {"a", false}, {"b", false}};
  switch (kind) {
  case InitKind::zeros:
  case InitKind::ones:
    return {};
  case InitKind::constant:
    return constant;
  case InitKind::normal:
    return normal;
  case InitKind::uniform:
    return uniform;
  case InitKind::kaiming_uniform:
  case InitKind::kaiming_normal:
    return kaiming;
  case InitKind::xavier_uniform:
  case InitKind::xavier_normal:
    return xavier;
  case InitKind::trunc_normal:
    return truncNormal;
  }
  llvm_unreachable("unknown init kind");
}
} // namespace

/// The numeric initialiser argument `name` of `args`, or `fallback`.
static double numberArg(DictionaryAttr args, StringRef name, double fallback) {
  Attribute a = args ? args.get(name) : Attribute();
  if (auto f = dyn_cast_or_null<FloatAttr>(a))
    return f.getValueAsDouble();
  if (auto i = dyn_cast_or_null<IntegerAttr>(a))
    return static_cast<double>(i.getInt());
  return fallback;
}

LogicalResult InitAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               InitKind kind, DictionaryAttr args) {
  auto allowed = allowedArgs(kind);
  if (args) {
    for (NamedAttribute arg : args) {
      auto *it = llvm::find_if(
          allowed, [&](const InitArg &a) { return a.name == arg.getName(); });
      if (it == allowed.end()) {
        auto diag = emitError() << "initialiser '" << stringifyInitKind(kind)
                                << "' has no argument '" << arg.getName().getValue()
                                << "'";
        if (allowed.empty())
          diag << "; it takes none";
        else {
          diag << "; expected one of";
          for (const InitArg &a : allowed)
            diag << " '" << a.name << "'";
        }
        return diag;
      }
      if (it->isString != isa<StringAttr>(arg.getValue()) ||
          (!it->isString && !isa<FloatAttr, IntegerAttr>(arg.getValue())))
        return emitError() << "initialiser argument '" << arg.getName().getValue()
                           << "' must be a "
                           << (it->isString ? "string" : "number");
    }
  }
  if (kind == InitKind::constant && (!args || !args.get("value")))
    return emitError() << "initialiser 'constant' needs a 'value'";
  if (kind == InitKind::kaiming_uniform || kind == InitKind::kaiming_normal) {
    StringRef mode = "fan_in", nl = "leaky_relu";
    if (args) {
      if (auto m = args.getAs<StringAttr>("mode"))
        mode = m.getValue();
      if (auto n = args.getAs<StringAttr>("nonlinearity"))
        nl = n.getValue();
    }
    if (mode != "fan_in" && mode != "fan_out")
      return emitError() << "Mode " << mode
                         << " not supported, please use one of fan_in, fan_out";
    if (!llvm::is_contained({"leaky_relu", "relu", "linear", "tanh", "sigmoid",
                             "conv2d", "conv1d"},
                            nl))
      return emitError() << "Unsupported nonlinearity " << nl;
  }
  if (kind == InitKind::trunc_normal) {
    double std = numberArg(args, "std", 1.0), a = numberArg(args, "a", -2.0),
           b = numberArg(args, "b", 2.0);
    // The inverse-CDF draw divides by std and needs an interval.
    if (!(std > 0))
      return emitError() << "trunc_normal needs std > 0, got " << std;
    if (!(a < b))
      return emitError() << "trunc_normal needs a < b, got a = " << a
                         << ", b = " << b;
  }
  return success();
}

double InitAttr::getNumber(StringRef name, double fallback) const {
  return numberArg(getArgs(), name, fallback);
}

StringRef InitAttr::getString(StringRef name, StringRef fallback) const {
  if (!getArgs())
    return fallback;
  if (auto s = getArgs().getAs<StringAttr>(name))
    return s.getValue();
  return fallback;
}
