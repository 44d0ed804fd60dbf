//===- PlanMemory.cpp - One planned workspace per entry point -------------===//
//
// Static memory planning of bufferized entry points and the check that lets
// callers pass a state tensor's storage as both argument and result (see
// Passes.td).
//
//===----------------------------------------------------------------------===//

#include "graft/Codegen/Passes.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "graft/Support/Statistics.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"

namespace graft {
#define GEN_PASS_DEF_PLANMEMORY
#include "graft/Codegen/Passes.h.inc"
} // namespace graft

using namespace mlir;

GRAFT_STATISTIC(NumPlanned, "graft-plan-memory",
                "Allocations made views of the workspace");
GRAFT_STATISTIC(NumKept, "graft-plan-memory",
                "Allocations kept (dynamic, in a parallel loop, or yielded)");
GRAFT_STATISTIC(WorkspaceBytes, "graft-plan-memory",
                "Workspace bytes, all entry points together");
GRAFT_STATISTIC(TemporaryBytes, "graft-plan-memory",
                "Bytes the planned allocations would take without reuse");

namespace {
constexpr int64_t kAlign = 64;

int64_t alignUp(int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

/// A planned buffer: live over top-level ops [begin, end] of the body.
struct Buffer {
  memref::AllocOp alloc;
  int64_t begin, end, bytes, offset = 0;
};

Attribute attrOf(func::FuncOp fn, unsigned arg, StringRef name) {
  return fn.getArgAttr(arg, name);
}

bool isOutParam(func::FuncOp fn, unsigned arg) {
  return fn.getArgAttr(arg, "bufferize.result") != nullptr;
}

/// The top-level ops of `body` (numbered by `index`) that use `root` or a
/// value that may alias it span [begin, end] (end < 0: none); failure when
/// it escapes (returned or passed to a call), or outlives the loop
/// iteration that defines it (yielded to the next one).
LogicalResult liveRange(Value root, Block &body,
                        const DenseMap<Operation *, int64_t> &index,
                        int64_t &begin, int64_t &end) {
  begin = INT64_MAX;
  end = -1;
  SmallVector<Value> work = {root};
  DenseSet<Value> seen;
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (!seen.insert(v).second)
      continue;
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (isa<func::ReturnOp, func::CallOp>(user))
        return failure();
      if (isa<scf::YieldOp>(user) && root.getDefiningOp() &&
          user->getParentOp()->isProperAncestor(root.getDefiningOp()))
        return failure();
      int64_t at = index.lookup(body.findAncestorOpInBlock(*user));
      begin = std::min(begin, at);
      end = std::max(end, at);
      // Conservatively, every memref an op with a use defines (views, loop
      // results) or binds in its regions (loop-carried buffers) aliases.
      for (Value r : user->getResults())
        if (isa<BaseMemRefType>(r.getType()))
          work.push_back(r);
      for (Region &region : user->getRegions())
        for (Block &block : region)
          for (BlockArgument a : block.getArguments())
            if (isa<BaseMemRefType>(a.getType()))
              work.push_back(a);
    }
  }
  return success();
}

DenseMap<Operation *, int64_t> numberOps(Block &body) {
  DenseMap<Operation *, int64_t> index;
  for (auto [i, op] : llvm::enumerate(body))
    index[&op] = i;
  return index;
}

/// The argument each state out-parameter of `fn` may share storage with:
/// the one of the same role and name.
DenseMap<Value, Value> tiedArguments(func::FuncOp fn) {
  DenseMap<Value, Value> tied;
  for (unsigned o = 0; o < fn.getNumArguments(); ++o) {
    if (!isOutParam(fn, o))
      continue;
    Attribute role = attrOf(fn, o, graft::kRoleAttrName),
              name = attrOf(fn, o, graft::kNameAttrName);
    for (unsigned a = 0; a < fn.getNumArguments() && role && name; ++a)
      if (!isOutParam(fn, a) && attrOf(fn, a, graft::kRoleAttrName) == role &&
          attrOf(fn, a, graft::kNameAttrName) == name)
        tied[fn.getArgument(o)] = fn.getArgument(a);
  }
  return tied;
}

/// The init operand through which the elementwise generic `op` overwrites
/// all of `buffer` (an identity map, the old value unread by the payload);
/// null when it does not. It may also read `buffer` as an input.
OpOperand *overwrittenInit(Operation *op, Value buffer) {
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || generic.getNumLoops() != generic.getNumParallelLoops())
    return nullptr;
  OpOperand *init = nullptr;
  for (OpOperand &o : generic.getDpsInitsMutable()) {
    if (o.get() != buffer)
      continue;
    if (init || !generic.getMatchingIndexingMap(&o).isIdentity() ||
        !generic.getMatchingBlockArgument(&o).use_empty())
      return nullptr;
    init = &o;
  }
  return init;
}

/// True when `op` may write `out` in the storage of its input `in`: a copy
/// of `in` into `out` (the start of an accumulation, which then has nothing
/// to copy), or an elementwise generic overwriting `out` and reading `in`
/// (and `out`, if at all) through identity maps, so each element is read
/// before it is written.
bool updatesInPlace(Operation *op, Value in, Value out) {
  if (auto copy = dyn_cast<memref::CopyOp>(op))
    return copy.getSource() == in && copy.getTarget() == out;
  if (!overwrittenInit(op, out))
    return false;
  auto generic = cast<linalg::GenericOp>(op);
  return llvm::all_of(generic->getOpOperands(), [&](OpOperand &o) {
    return (o.get() != in && o.get() != out) ||
           generic.getMatchingIndexingMap(&o).isIdentity();
  });
}

/// The operand of the last write of a temporary copied out at `copy`: the
/// op after which nothing but `copy` uses the temporary or its aliases,
/// when it is an elementwise generic that overwrites the whole temporary;
/// else null.
OpOperand *finalWrite(memref::AllocOp alloc, memref::CopyOp copy, Block &body,
                      const DenseMap<Operation *, int64_t> &index) {
  Operation *writer = nullptr;
  int64_t at = -1;
  for (Operation *user : alloc->getUsers()) {
    if (user == copy)
      continue;
    int64_t i = index.lookup(body.findAncestorOpInBlock(*user));
    if (i > at) {
      at = i;
      writer = user;
    }
  }
  OpOperand *init = writer && writer->getBlock() == &body
                        ? overwrittenInit(writer, alloc)
                        : nullptr;
  if (!init)
    return nullptr;
  // Every other use, aliases included, ends before the writer.
  for (Operation *user : alloc->getUsers()) {
    if (user == copy || user == writer)
      continue;
    for (Value r : user->getResults()) {
      int64_t begin, end;
      if (failed(liveRange(r, body, index, begin, end)) || end >= at)
        return nullptr;
    }
    if (user->getNumRegions() != 0 &&
        index.lookup(body.findAncestorOpInBlock(*user)) >= at)
      return nullptr;
  }
  return init;
}

/// Results computed into a temporary and copied into their out-parameter
/// at the end are computed in the out-parameter itself where that is safe:
/// always for a result no argument shares storage with; for a state result
/// when every read of its argument comes before (or is the in-place
/// elementwise update at) the first write of the temporary. A temporary
/// that held other values before (bufferization reuses a dead gradient for
/// the parameter update that reads it) keeps them; only its final
/// elementwise write moves to the out-parameter, under the same rule.
void writeResultsInPlace(func::FuncOp fn) {
  Block &body = fn.getBody().front();
  DenseMap<Operation *, int64_t> index = numberOps(body);
  // The ops by number; only copies and allocations are erased below, and
  // neither is ever the first write of another temporary.
  SmallVector<Operation *> ops =
      llvm::map_to_vector(body, [](Operation &op) { return &op; });
  DenseMap<Value, Value> tied = tiedArguments(fn);
  for (auto copy : llvm::to_vector(body.getOps<memref::CopyOp>())) {
    auto out = dyn_cast<BlockArgument>(copy.getTarget());
    auto alloc = copy.getSource().getDefiningOp<memref::AllocOp>();
    if (!out || !isOutParam(fn, out.getArgNumber()) || !alloc ||
        alloc->getBlock() != &body || alloc.getType() != out.getType())
      continue;
    int64_t first, last;
    if (failed(liveRange(alloc, body, index, first, last)) ||
        last != index.lookup(copy) || first == last)
      continue;
    // Reads of the tied argument must end at `write`, the first op that
    // writes the out-parameter's storage.
    auto safeFrom = [&](int64_t write, Value temporary) {
      Value in = tied.lookup(out);
      if (!in)
        return true;
      int64_t readFirst, readLast;
      if (failed(liveRange(in, body, index, readFirst, readLast)))
        return false;
      return readLast < write ||
             (readLast == write && updatesInPlace(ops[write], in, temporary));
    };
    if (safeFrom(first, alloc)) {
      copy->erase();
      alloc.replaceAllUsesWith(out);
      alloc->erase();
      continue;
    }
    OpOperand *write = finalWrite(alloc, copy, body, index);
    if (!write || !safeFrom(index.lookup(write->getOwner()), alloc))
      continue;
    write->set(out);
    copy->erase();
  }
  // Accumulations that now start by copying an argument onto itself.
  for (auto copy : llvm::to_vector(body.getOps<memref::CopyOp>())) {
    auto out = dyn_cast<BlockArgument>(copy.getTarget());
    if (out && tied.lookup(out) == copy.getSource())
      copy->erase();
  }
}

/// Checks (and establishes, by removing self-copies) that the state results
/// of `fn` may share their argument's storage.
LogicalResult checkInPlaceState(func::FuncOp fn) {
  Block &body = fn.getBody().front();
  DenseMap<Value, Value> tiedArg = tiedArguments(fn);
  // The trailing copies into out-parameters, and nothing else, write them.
  Operation *firstWrite = nullptr;
  for (auto [out, arg] : tiedArg)
    for (Operation *user : out.getUsers()) {
      auto copy = dyn_cast<memref::CopyOp>(user);
      if (!copy || copy.getTarget() != out || copy->getBlock() != &body)
        return fn.emitError("state result '")
               << cast<StringAttr>(
                      attrOf(fn, cast<BlockArgument>(out).getArgNumber(),
                             graft::kNameAttrName))
                      .getValue()
               << "' is written before the trailing copies: it cannot "
                  "share its argument's storage";
      if (!firstWrite || copy->isBeforeInBlock(firstWrite))
        firstWrite = copy;
    }
  // Storage that no other argument shares is `noalias`: loops reading the
  // arguments and writing the workspace vectorise without runtime checks.
  DenseSet<Value> shared;
  for (auto [out, arg] : tiedArg) {
    shared.insert(out);
    shared.insert(arg);
  }
  for (BlockArgument a : fn.getArguments())
    if (isa<BaseMemRefType>(a.getType()) && !shared.contains(a))
      fn.setArgAttr(a.getArgNumber(), "llvm.noalias",
                    UnitAttr::get(fn.getContext()));
  if (!firstWrite)
    return success();
  // A result that is a state argument's value before the step (a model
  // output of a parameter) is copied from the argument before the copies
  // that overwrite storage: the trailing copies that read a state argument
  // go first, in their order (a stable partition).
  DenseSet<Value> state;
  for (auto [out, arg] : tiedArg)
    state.insert(arg);
  Operation *start = firstWrite, *firstOther = nullptr;
  for (Operation &op : llvm::make_early_inc_range(llvm::make_range(
           firstWrite->getIterator(), body.getTerminator()->getIterator()))) {
    auto copy = dyn_cast<memref::CopyOp>(&op);
    if (!copy || !state.contains(copy.getSource()) ||
        tiedArg.lookup(copy.getTarget()) == copy.getSource()) {
      if (!firstOther)
        firstOther = &op;
      continue;
    }
    if (!firstOther)
      continue; // already before every other copy
    copy->moveBefore(firstOther);
    if (start == firstOther)
      start = copy;
  }
  DenseSet<Value> overwritten;
  for (Operation &op : llvm::make_early_inc_range(llvm::make_range(
           start->getIterator(), body.getTerminator()->getIterator()))) {
    auto copy = dyn_cast<memref::CopyOp>(&op);
    if (!copy || !isa<BlockArgument>(copy.getTarget()) ||
        !isOutParam(fn, cast<BlockArgument>(copy.getTarget()).getArgNumber()))
      return op.emitError("operation after the first write of a state "
                          "result: state cannot be updated in place");
    if (overwritten.contains(copy.getSource()))
      return op.emitError("copy reads an argument whose storage a state "
                          "result already overwrote");
    Value tied = tiedArg.lookup(copy.getTarget());
    if (tied)
      overwritten.insert(tied);
    if (tied && tied == copy.getSource())
      copy->erase(); // the result is the argument, already in place
  }
  return success();
}

/// Replaces the statically shaped allocations of `fn` by views of a new
/// workspace argument; returns its size in bytes and, in `temporaries`, the
/// bytes the allocations would take without reuse.
int64_t planWorkspace(func::FuncOp fn, int64_t &temporaries) {
  Block &body = fn.getBody().front();
  DenseMap<Operation *, int64_t> index = numberOps(body);
  DataLayout layout = DataLayout::closest(fn);
  SmallVector<Buffer> buffers;
  // Allocations in the body, and in the bodies of sequential loops (one
  // buffer for all iterations: it lives for the loop's top-level op); not
  // in a loop whose iterations threads split (each needs its own).
  SmallVector<memref::AllocOp> allocs;
  fn.walk([&](memref::AllocOp alloc) {
    for (Operation *p = alloc->getParentOp(); p != fn; p = p->getParentOp())
      if (!isa<scf::ForOp>(p))
        return;
    allocs.push_back(alloc);
  });
  for (memref::AllocOp alloc : allocs) {
    MemRefType t = alloc.getType();
    if (!t.hasStaticShape() || !t.getLayout().isIdentity() ||
        t.getMemorySpace() || !alloc.getSymbolOperands().empty() ||
        !t.getElementType().isIntOrFloat())
      continue;
    Buffer b{alloc, 0, 0, 0};
    if (failed(liveRange(alloc, body, index, b.begin, b.end)))
      continue;
    if (b.end < 0) // never used
      b.begin = b.end = index.lookup(body.findAncestorOpInBlock(*alloc));
    b.bytes = alignUp(std::max<int64_t>(
        1, t.getNumElements() *
               (int64_t)layout.getTypeSize(t.getElementType())));
    buffers.push_back(b);
  }
  // First fit: the lowest offset that no buffer live at the same time uses.
  llvm::sort(buffers, [](const Buffer &a, const Buffer &b) {
    return a.bytes > b.bytes || (a.bytes == b.bytes && a.begin < b.begin);
  });
  int64_t total = 0;
  temporaries = 0;
  for (size_t i = 0; i < buffers.size(); ++i) {
    Buffer &b = buffers[i];
    SmallVector<std::pair<int64_t, int64_t>> taken;
    for (size_t j = 0; j < i; ++j)
      if (buffers[j].begin <= b.end && b.begin <= buffers[j].end)
        taken.push_back({buffers[j].offset, buffers[j].offset + buffers[j].bytes});
    llvm::sort(taken);
    int64_t offset = 0;
    for (auto [lo, hi] : taken)
      if (offset + b.bytes > lo)
        offset = std::max(offset, hi);
    b.offset = offset;
    total = std::max(total, offset + b.bytes);
    temporaries += b.bytes;
  }

  OpBuilder builder(fn.getContext());
  auto wsType = MemRefType::get({total}, builder.getI8Type());
  unsigned wsIndex = fn.getNumArguments();
  (void)fn.insertArgument(
      wsIndex, wsType,
      builder.getDictionaryAttr(
          {builder.getNamedAttr(graft::kRoleAttrName,
                                graft::RoleAttr::get(builder.getContext(),
                                                     graft::Role::workspace)),
           builder.getNamedAttr("llvm.noalias", builder.getUnitAttr())}),
      fn.getLoc());
  Value ws = fn.getArgument(wsIndex);
  for (Buffer &b : buffers) {
    builder.setInsertionPoint(b.alloc);
    Value offset = arith::ConstantIndexOp::create(builder, b.alloc.getLoc(),
                                                  b.offset);
    Value view = memref::ViewOp::create(builder, b.alloc.getLoc(),
                                        b.alloc.getType(), ws, offset,
                                        ValueRange{});
    b.alloc.replaceAllUsesWith(view);
    b.alloc.erase();
    ++NumPlanned;
  }
  return total;
}

struct PlanMemoryPass : graft::impl::PlanMemoryBase<PlanMemoryPass> {
  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      if (fn.isExternal() || !fn.getBody().hasOneBlock())
        continue;
      if (failed(checkInPlaceState(fn)))
        return signalPassFailure();
      writeResultsInPlace(fn);
      int64_t temporaries;
      int64_t bytes = planWorkspace(fn, temporaries);
      WorkspaceBytes += bytes;
      TemporaryBytes += temporaries;
      fn.walk([&](memref::AllocOp) { ++NumKept; });
      auto i64 = IntegerType::get(&getContext(), 64);
      fn->setAttr(graft::GraftDialect::WorkspaceBytesAttrHelper::getNameStr(),
                  IntegerAttr::get(i64, bytes));
      fn->setAttr(graft::GraftDialect::TemporaryBytesAttrHelper::getNameStr(),
                  IntegerAttr::get(i64, temporaries));
    }
  }
};
} // namespace
