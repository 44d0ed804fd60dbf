//===- UnaryOps.h - Every unary elementwise op, by its row ------*- C++ -*-===//
//
// The ops declared by a unary row in GraftOps.td (Graft_UnaryOp and
// Graft_InPlaceUnaryOp) carry their binding (getUnaryRow) and their scalar
// formula (scalar<T>). These helpers visit them all, so that the front-end's
// name tables, the evaluator and the lowering need no list of their own: a
// new row reaches every layer.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_DIALECT_GRAFT_IR_UNARYOPS_H
#define GRAFT_DIALECT_GRAFT_IR_UNARYOPS_H

#include "graft/Dialect/Graft/IR/GraftOps.h"

#include <optional>
#include <type_traits>

namespace graft {
namespace detail {
template <typename Op, typename = void> struct IsUnaryRow : std::false_type {};
template <typename Op>
struct IsUnaryRow<Op, std::void_t<decltype(Op::getUnaryRow())>>
    : std::true_type {};

template <typename... Ops> struct OpList {
  template <typename F> static void forEachUnary(F &&f) {
    (visit<Ops>(f), ...);
  }
  template <typename Op, typename F> static void visit(F &f) {
    if constexpr (IsUnaryRow<Op>::value)
      f(static_cast<Op *>(nullptr));
  }
};
using AllOps = OpList<
#define GET_OP_LIST
#include "graft/Dialect/Graft/IR/GraftOps.cpp.inc"
    >;
} // namespace detail

/// Calls `f((Op *)nullptr)` for every op declared by a unary row (in the
/// order of their class names); `f` is generic (`[](auto *tag) { using Op =
/// std::remove_pointer_t<decltype(tag)>; ... }`).
template <typename F> void forEachUnaryOp(F &&f) {
  detail::AllOps::forEachUnary(f);
}

/// `f((Op *)nullptr)` for the row op that `op` is, or nullopt when it is
/// not one.
template <typename R, typename F>
std::optional<R> visitUnaryOp(mlir::Operation *op, F &&f) {
  std::optional<R> result;
  forEachUnaryOp([&](auto *tag) {
    using Op = std::remove_pointer_t<decltype(tag)>;
    if (!result && llvm::isa<Op>(op))
      result = f(tag);
  });
  return result;
}

/// Whether `op` is declared by a unary row.
inline bool isUnaryOp(mlir::Operation *op) {
  return visitUnaryOp<bool>(op, [](auto *) { return true; }).has_value();
}
} // namespace graft

#endif
