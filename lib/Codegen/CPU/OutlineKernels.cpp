//===- OutlineKernels.cpp - Each loop nest its own function, shared -------===//
//
// graft-outline-kernels (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "graft/Codegen/Passes.h"
#include "graft/Dialect/Graft/IR/GraftDialect.h"
#include "graft/Support/Statistics.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

namespace graft {
#define GEN_PASS_DEF_OUTLINEKERNELS
#include "graft/Codegen/Passes.h.inc"
} // namespace graft

using namespace mlir;

GRAFT_STATISTIC(numKernels, "graft-outline-kernels",
                "Distinct kernel functions created");
GRAFT_STATISTIC(numKernelCalls, "graft-outline-kernels",
                "Loop nests outlined (calls of the kernels)");

namespace {
/// A value a kernel can take as an argument: a scalar, or a statically
/// shaped memref with the identity layout (the bare-pointer convention of
/// the LLVM lowering passes exactly these).
bool isPassable(Type t) {
  if (t.isIntOrIndexOrFloat())
    return true;
  auto m = dyn_cast<MemRefType>(t);
  return m && m.hasStaticShape() && m.getLayout().isIdentity();
}

/// The kernel's inputs for `op`: the values it takes as arguments, and the
/// ops it recomputes inside (constants, and the side-effect-free views that
/// make a non-identity memref of a passable one), in dependency order.
/// Fails when some value can be neither.
struct KernelInputs {
  llvm::SetVector<Value> args;
  llvm::SetVector<Operation *> cloned;

  LogicalResult add(Value v) {
    if (args.contains(v))
      return success();
    Operation *def = v.getDefiningOp();
    if (def && cloned.contains(def))
      return success();
    if (def && matchPattern(v, m_Constant())) {
      cloned.insert(def);
      return success();
    }
    if (isPassable(v.getType())) {
      args.insert(v);
      return success();
    }
    if (!def || !isPure(def) || def->getNumRegions() != 0)
      return failure();
    for (Value operand : def->getOperands())
      if (failed(add(operand)))
        return failure();
    cloned.insert(def);
    return success();
  }
};

/// True when `loop` runs a sequence of loop nests each iteration, one of
/// them split across threads (a convolution's chunks of the batch): each
/// nest becomes its own kernel, called from the loop, rather than the loop
/// one large function.
bool isSequenceOfNests(scf::ForOp loop) {
  int64_t nests = 0;
  bool parallel = false;
  for (Operation &op : *loop.getBody()) {
    nests += op.getNumRegions() != 0;
    parallel |= isa<scf::ParallelOp>(op);
  }
  return nests > 1 && parallel;
}

struct OutlineKernelsPass
    : graft::impl::OutlineKernelsBase<OutlineKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    SymbolTable symbols(module);
    OpBuilder builder(ctx);
    // Kernels by their body's text: identical loop nests (the layers of a
    // stack, a forward in train_step and in predict) share one function.
    llvm::StringMap<func::FuncOp> byBody;
    unsigned nextName = 0;
    for (auto fn : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (fn.isDeclaration() ||
          fn->hasAttr(graft::GraftDialect::KernelAttrHelper::getNameStr()))
        continue;
      // The ops to outline: those of the body with regions, and of the
      // bodies of loops over sequences of nests, instead of those loops.
      SmallVector<Operation *> nests;
      for (Operation &op : fn.front()) {
        auto loop = dyn_cast<scf::ForOp>(op);
        if (!loop || !isSequenceOfNests(loop)) {
          nests.push_back(&op);
          continue;
        }
        for (Operation &inner : *loop.getBody())
          nests.push_back(&inner);
      }
      for (Operation *nest : nests) {
        Operation &op = *nest;
        if (op.getNumRegions() == 0 ||
            !llvm::all_of(op.getResultTypes(), isPassable))
          continue;
        KernelInputs in;
        bool ok = true;
        // Every value the nest uses that is defined outside it.
        op.walk([&](Operation *inner) {
          for (Value v : inner->getOperands())
            if (!op.isAncestor(v.getParentBlock()->getParentOp()))
              ok &= succeeded(in.add(v));
        });
        if (!ok)
          continue;

        // The kernel: the recomputed ops, then the loop nest.
        SmallVector<Type> argTypes;
        for (Value v : in.args)
          argTypes.push_back(v.getType());
        builder.setInsertionPoint(fn);
        auto kernel = func::FuncOp::create(
            builder, op.getLoc(), "__graft_kernel",
            builder.getFunctionType(argTypes, op.getResultTypes()));
        kernel.setPrivate();
        Block *body = kernel.addEntryBlock();
        IRMapping map;
        for (auto [v, arg] : llvm::zip(in.args, body->getArguments()))
          map.map(v, arg);
        builder.setInsertionPointToStart(body);
        for (Operation *c : in.cloned)
          builder.clone(*c, map);
        Operation *copy = builder.clone(op, map);
        func::ReturnOp::create(builder, op.getLoc(), copy->getResults());

        // One function per distinct body.
        std::string text;
        {
          llvm::raw_string_ostream os(text);
          // A local scope: numbered from the kernel, not from the module
          // (which would also make this quadratic).
          kernel.print(os,
                       OpPrintingFlags().printGenericOpForm().useLocalScope());
        }
        func::FuncOp target = byBody.lookup(text);
        if (target) {
          kernel.erase();
        } else {
          target = kernel;
          byBody[text] = kernel;
          kernel->setAttr(graft::GraftDialect::KernelAttrHelper::getNameStr(),
                          UnitAttr::get(ctx));
          // Kept out of line by LLVM: inlined back, the entry points would
          // be one function again, and LLVM's time superlinear in its size.
          kernel->setAttr(
              "passthrough",
              builder.getArrayAttr(builder.getStringAttr("noinline")));
          kernel->setAttr("llvm.linkage",
                          LLVM::LinkageAttr::get(ctx, LLVM::Linkage::Internal));
          std::string name;
          do
            name = "__graft_kernel_" + std::to_string(nextName++);
          while (symbols.lookup(name));
          kernel.setSymName(name);
          symbols.insert(kernel);
          ++numKernels;
        }
        builder.setInsertionPoint(&op);
        ++numKernelCalls;
        auto call = func::CallOp::create(builder, op.getLoc(), target,
                                         in.args.getArrayRef());
        op.replaceAllUsesWith(call.getResults());
        op.erase();
      }
    }
  }
};
} // namespace
