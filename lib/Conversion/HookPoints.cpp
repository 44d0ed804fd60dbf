//===- HookPoints.cpp - The hook points of the backward, per target ------===//
//
// graft-hook-points (see Passes.td): records the hook points of each
// function and declares the runtime's graft_run_hook on the CPU; removes
// or rejects them for CUDA.
//
//===----------------------------------------------------------------------===//

#include "graft/Conversion/Passes.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringSet.h"

namespace graft {
#define GEN_PASS_DEF_HOOKPOINTS
#include "graft/Conversion/Passes.h.inc"
} // namespace graft

using namespace mlir;

namespace {
struct HookPointsPass : graft::impl::HookPointsBase<HookPointsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool cuda = target == "cuda";
    bool any = false;
    llvm::StringMap<Type> typeOf;
    for (auto fn : module.getOps<func::FuncOp>()) {
      SmallVector<Attribute> points;
      llvm::StringSet<> seen;
      WalkResult r = fn.walk([&](graft::HookCallOp op) {
        if (cuda) {
          if (op->hasAttr(
                  graft::GraftDialect::RetainedAttrHelper::getNameStr())) {
            op.getResult().replaceAllUsesWith(op.getGrad());
            op->erase();
            return WalkResult::advance();
          }
          op.emitError("gradient hook '")
              << op.getName()
              << "': --target=cuda cannot call hooks inside the backward "
                 "(hooks on non-leaf tensors run on the host, in the middle "
                 "of the compiled backward); compile this model for the CPU, "
                 "or remove the register_hook";
          return WalkResult::interrupt();
        }
        auto [it, fresh] = typeOf.try_emplace(op.getName(), op.getType());
        if (!fresh && it->second != op.getType()) {
          op.emitError("hook '")
              << op.getName() << "' is on gradients of different types ("
              << it->second << " and " << op.getType() << ")";
          return WalkResult::interrupt();
        }
        any = true;
        if (seen.insert(op.getName()).second) {
          Builder b(op.getContext());
          points.push_back(b.getDictionaryAttr(
              {b.getNamedAttr("name", op.getNameAttr()),
               b.getNamedAttr("type", TypeAttr::get(op.getType()))}));
        }
        return WalkResult::advance();
      });
      if (r.wasInterrupted())
        return signalPassFailure();
      if (!points.empty())
        fn->setAttr(graft::GraftDialect::HookPointsAttrHelper::getNameStr(),
                    ArrayAttr::get(module.getContext(), points));
    }
    if (!any || module.lookupSymbol("graft_run_hook"))
      return;
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto ptr = LLVM::LLVMPointerType::get(module.getContext());
    auto decl = func::FuncOp::create(b, module.getLoc(), "graft_run_hook",
                                     b.getFunctionType({ptr, ptr}, {}));
    decl.setPrivate();
  }
};
} // namespace
