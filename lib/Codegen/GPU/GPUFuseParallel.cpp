//===- GPUFuseParallel.cpp - Independent loop nests into one kernel -------===//
//
// graft-gpu-fuse-parallel (Passes.td, docs/GPU.md): neighbouring top-level
// scf.parallel nests of a host function that do not depend on each other
// become one 1-D scf.parallel, which graft-gpu-map-loops maps to a single
// kernel. Nests whose only dependences are elementwise (the same element in
// the same iteration) run one after the other in the same thread.
//
//===----------------------------------------------------------------------===//

#include "graft/Codegen/Passes.h"
#include "graft/Support/Statistics.h"

#include "GPU/BufferOf.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"

#include <limits>
#include <vector>

namespace graft {
#define GEN_PASS_DEF_GPUFUSEPARALLEL
#include "graft/Codegen/Passes.h.inc"
} // namespace graft

using namespace mlir;

GRAFT_STATISTIC(NumRuns, "graft-gpu-fuse-parallel",
                "Runs of loop nests fused into one launch");
GRAFT_STATISTIC(NumNestsFused, "graft-gpu-fuse-parallel",
                "Loop nests in those runs");
using graft::Buffer;
using graft::bufferOf;

namespace {

/// One read or write of a loop nest or another op.
struct Access {
  Buffer buffer;
  bool write = false;
  /// Set (to the memref's type: static shape, identity layout) when the
  /// access is `m[iv0, ..., ivn]` of the nest's own induction variables
  /// through a direct `m`: each iteration touches its own element.
  Type elementwise;
};

/// Whether `a` and `b` may touch the same bytes, one of them writing.
bool conflict(const Access &a, const Access &b) {
  return a.buffer.root == b.buffer.root && (a.write || b.write) &&
         a.buffer.begin < b.buffer.end && b.buffer.begin < a.buffer.end;
}

/// Whether conflicting accesses of two nests over the same iteration space
/// touch the same element in each iteration, and no other iteration's.
bool sameElement(const Access &a, const Access &b) {
  return a.elementwise && a.elementwise == b.elementwise &&
         a.buffer.offset == b.buffer.offset;
}

/// Appends what `op` and the ops nested in it read and write. False when
/// an effect is not on a buffer it can trace (or an op has no declared
/// effects). `ivs`: the induction variables of `op` when it is a loop nest.
bool collectEffects(Operation *op, ValueRange ivs,
                    SmallVectorImpl<Access> &out) {
  WalkResult r = op->walk([&](Operation *inner) {
    auto iface = dyn_cast<MemoryEffectOpInterface>(inner);
    if (!iface)
      return inner->hasTrait<OpTrait::HasRecursiveMemoryEffects>()
                 ? WalkResult::advance()
                 : WalkResult::interrupt();
    SmallVector<MemoryEffects::EffectInstance> effects;
    iface.getEffects(effects);
    for (const MemoryEffects::EffectInstance &e : effects) {
      // New storage conflicts with nothing.
      if (isa<MemoryEffects::Allocate>(e.getEffect()))
        continue;
      Value v = e.getValue();
      if (!v || !isa<BaseMemRefType>(v.getType()))
        return WalkResult::interrupt();
      std::optional<Buffer> buffer = bufferOf(v);
      if (!buffer)
        return WalkResult::interrupt();
      // A free is a write: nothing may touch the buffer after it.
      Access a{*buffer, !isa<MemoryEffects::Read>(e.getEffect()), Type()};
      ValueRange indices;
      if (auto load = dyn_cast<memref::LoadOp>(inner))
        indices = load.getIndices();
      else if (auto store = dyn_cast<memref::StoreOp>(inner))
        indices = store.getIndices();
      auto type = dyn_cast<MemRefType>(v.getType());
      if (buffer->direct && !ivs.empty() && type && type.hasStaticShape() &&
          type.getLayout().isIdentity() && llvm::equal(indices, ivs))
        a.elementwise = type;
      out.push_back(a);
    }
    return WalkResult::advance();
  });
  return !r.wasInterrupted();
}

/// What the kernel of `loop` will take from the host. graft-gpu-map-loops
/// clones host scalars read from buffers (a load in the same block, and the
/// pure ops on its value) into the kernel: their buffers are read there,
/// appended to `reads`, and their other operands are kernel parameters.
/// Constants are sunk into the kernel by outlining; every other value used
/// from above is a parameter. False when a buffer cannot be traced.
bool hostOperands(scf::ParallelOp loop, SmallVectorImpl<Access> &reads,
                  llvm::SetVector<Value> &params) {
  Block *block = loop->getBlock();
  DenseMap<Value, bool> memo;
  // Mirrors sinkScalarReads: is `v` a load in the block or a pure op on one?
  std::function<bool(Value)> sunk = [&](Value v) -> bool {
    Operation *def = v.getDefiningOp();
    if (!def || def->getBlock() != block)
      return false;
    if (auto it = memo.find(v); it != memo.end())
      return it->second;
    bool result = isa<memref::LoadOp>(def);
    if (!result && isPure(def))
      result = llvm::any_of(def->getOperands(), sunk);
    return memo[v] = result;
  };
  llvm::SetVector<Value> above;
  getUsedValuesDefinedAbove(loop.getRegion(), above);
  SmallVector<Value> work(above.begin(), above.end());
  DenseSet<Operation *> seen;
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (!sunk(v)) {
      if (!matchPattern(v, m_Constant()))
        params.insert(v);
      continue;
    }
    Operation *def = v.getDefiningOp();
    if (!seen.insert(def).second)
      continue;
    if (auto load = dyn_cast<memref::LoadOp>(def)) {
      std::optional<Buffer> buffer = bufferOf(load.getMemRef());
      if (!buffer)
        return false;
      reads.push_back(Access{*buffer, /*write=*/false, Type()});
    }
    llvm::append_range(work, def->getOperands());
  }
  return true;
}

/// What `op` (a top-level op that may touch memory) reads and writes: its
/// effects, and for a loop nest the host scalars it reads in its kernel.
bool accessesOf(Operation *op, SmallVectorImpl<Access> &out) {
  llvm::SetVector<Value> params;
  auto loop = dyn_cast<scf::ParallelOp>(op);
  return collectEffects(op, {}, out) &&
         (!loop || hostOperands(loop, out, params));
}

/// A top-level loop nest that may be fused: no results, static bounds.
struct Nest {
  scf::ParallelOp op;
  SmallVector<int64_t> lbs, steps, trips;
  int64_t size = 1;
  SmallVector<Access> accesses;
  llvm::SetVector<Value> params;

  bool sameSpace(const Nest &o) const {
    return lbs == o.lbs && steps == o.steps && trips == o.trips;
  }
};

std::optional<Nest> analyzeNest(scf::ParallelOp loop) {
  if (loop.getNumResults() != 0)
    return std::nullopt;
  Nest n;
  n.op = loop;
  for (auto [lbv, ubv, stepv] : llvm::zip(
           loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    std::optional<int64_t> lb = getConstantIntValue(lbv),
                           ub = getConstantIntValue(ubv),
                           step = getConstantIntValue(stepv);
    if (!lb || !ub || !step || *step <= 0 || *ub <= *lb)
      return std::nullopt;
    int64_t trip = llvm::divideCeil(*ub - *lb, *step);
    // Keeps the linear index space (and its padding) far from overflow.
    if (n.size > (int64_t(1) << 40) / trip)
      return std::nullopt;
    n.lbs.push_back(*lb);
    n.steps.push_back(*step);
    n.trips.push_back(trip);
    n.size *= trip;
  }
  if (!collectEffects(loop, loop.getInductionVars(), n.accesses) ||
      !hostOperands(loop, n.accesses, n.params))
    return std::nullopt;
  return n;
}

/// Nests over one iteration space whose bodies run, in program order, in
/// the same thread; they depend on each other only elementwise.
struct Group {
  std::vector<Nest> nests;
};

/// Neighbouring nests being fused: groups that touch disjoint buffers.
struct Run {
  std::vector<Group> groups;
  llvm::SetVector<Value> params;
  unsigned numNests = 0;
};

struct GPUFuseParallelPass
    : graft::impl::GPUFuseParallelBase<GPUFuseParallelPass> {
  using Base::Base;

  void runOnOperation() override {
    if (segmentAlign < 1) {
      getOperation().emitError("segment-align must be at least 1");
      return signalPassFailure();
    }
    func::FuncOp fn = getOperation();
    if (fn.isExternal())
      return;
    std::vector<Run> runs;
    Run run;
    auto flush = [&] {
      if (run.numNests >= 2)
        runs.push_back(std::move(run));
      run = Run();
    };
    for (Operation &op : fn.getBody().front()) {
      if (auto loop = dyn_cast<scf::ParallelOp>(op))
        if (std::optional<Nest> nest = analyzeNest(loop)) {
          add(run, std::move(*nest), flush);
          continue;
        }
      if (op.hasTrait<OpTrait::IsTerminator>()) {
        flush();
        continue;
      }
      if (isMemoryEffectFree(&op))
        continue;
      // The run's nests will move past `op`: only if they commute.
      SmallVector<Access> accesses;
      if (!accessesOf(&op, accesses) || conflicts(run, accesses))
        flush();
    }
    flush();
    for (Run &r : runs) {
      ++NumRuns;
      NumNestsFused += r.numNests;
      fuse(r);
    }
  }

  /// Whether an op touching `accesses` conflicts with a nest of `run`.
  static bool conflicts(const Run &run, ArrayRef<Access> accesses) {
    for (const Group &g : run.groups)
      for (const Nest &n : g.nests)
        for (const Access &a : n.accesses)
          for (const Access &b : accesses)
            if (conflict(a, b))
              return true;
    return false;
  }

  /// Adds `nest` to `run`: a new group when it conflicts with none; merged
  /// with the groups it conflicts with when every conflict is elementwise
  /// over the same space; else, or when the kernel would take too many
  /// parameters, `nest` starts the next run.
  void add(Run &run, Nest nest, llvm::function_ref<void()> flush) {
    SmallVector<unsigned> hit;
    bool compatible = true;
    for (auto [g, group] : llvm::enumerate(run.groups)) {
      bool hits = false;
      for (const Nest &other : group.nests)
        for (const Access &a : nest.accesses)
          for (const Access &b : other.accesses)
            if (conflict(a, b)) {
              hits = true;
              compatible &= nest.sameSpace(other) && sameElement(a, b);
            }
      if (hits)
        hit.push_back(g);
    }
    llvm::SetVector<Value> params = run.params;
    params.insert(nest.params.begin(), nest.params.end());
    if (!compatible || params.size() > maxOperands) {
      flush();
      hit.clear();
      params = nest.params;
    }
    run.params = std::move(params);
    ++run.numNests;
    if (hit.empty()) {
      run.groups.push_back(Group{{std::move(nest)}});
      return;
    }
    // The groups it depends on are independent of each other: their
    // nests may interleave; keep program order.
    Group &merged = run.groups[hit.front()];
    for (unsigned g : llvm::drop_begin(hit))
      for (Nest &n : run.groups[g].nests)
        merged.nests.push_back(std::move(n));
    llvm::sort(merged.nests, [](const Nest &a, const Nest &b) {
      return a.op->isBeforeInBlock(b.op);
    });
    merged.nests.push_back(std::move(nest));
    for (unsigned g : llvm::reverse(llvm::drop_begin(hit)))
      run.groups.erase(run.groups.begin() + g);
  }

  /// The induction variables of a nest of `space` at linear index `linear`
  /// (innermost fastest).
  static SmallVector<Value>
  delinearize(OpBuilder &b, Location loc, Value linear, const Nest &space,
              llvm::function_ref<Value(int64_t)> cst) {
    unsigned n = space.trips.size();
    SmallVector<Value> ivs(n);
    Value rest = linear;
    for (int d = n - 1; d >= 0; --d) {
      Value index;
      if (space.trips[d] == 1) {
        index = cst(0);
      } else if (d == 0) {
        index = rest;
      } else {
        Value trip = cst(space.trips[d]);
        index = arith::RemUIOp::create(b, loc, rest, trip);
        rest = arith::DivUIOp::create(b, loc, rest, trip);
      }
      if (space.steps[d] != 1)
        index = arith::MulIOp::create(b, loc, index, cst(space.steps[d]));
      if (space.lbs[d] != 0)
        index = arith::AddIOp::create(b, loc, index, cst(space.lbs[d]));
      ivs[d] = index;
    }
    return ivs;
  }

  /// Replaces the nests of `run` with one 1-D loop where the last one was.
  void fuse(Run &run) {
    SmallVector<Location> locs;
    Operation *last = nullptr;
    for (Group &g : run.groups)
      for (Nest &n : g.nests) {
        locs.push_back(n.op.getLoc());
        if (!last || last->isBeforeInBlock(n.op))
          last = n.op;
      }
    IRRewriter b(last->getContext());
    b.setInsertionPoint(last);
    Location loc = b.getFusedLoc(locs);
    // The index constants, made once before the fused loop.
    DenseMap<int64_t, Value> constants;
    Operation *before = last;
    auto cst = [&](int64_t v) -> Value {
      Value &c = constants[v];
      if (!c) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(before);
        c = arith::ConstantIndexOp::create(b, loc, v);
      }
      return c;
    };
    // Segment g is [offsets[g], offsets[g] + its size), padded.
    SmallVector<int64_t> offsets{0};
    for (Group &g : run.groups)
      offsets.push_back(offsets.back() +
                        llvm::alignTo(g.nests.front().size, segmentAlign));
    int64_t total = offsets[run.groups.size() - 1] +
                    run.groups.back().nests.front().size;
    auto fused = scf::ParallelOp::create(b, loc, ValueRange{cst(0)},
                                         ValueRange{cst(total)},
                                         ValueRange{cst(1)});
    before = fused;
    Value linear = fused.getInductionVars()[0];
    b.setInsertionPoint(fused.getBody()->getTerminator());
    for (auto [g, group] : llvm::enumerate(run.groups)) {
      const Nest &space = group.nests.front();
      bool lastSegment = g + 1 == run.groups.size();
      scf::IfOp select;
      if (!lastSegment) {
        Value in = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                         linear, cst(offsets[g + 1]));
        select = scf::IfOp::create(b, loc, in, /*withElseRegion=*/true);
        b.setInsertionPoint(select.thenBlock()->getTerminator());
      }
      Value local = linear;
      if (offsets[g] != 0)
        local = arith::SubIOp::create(b, loc, linear, cst(offsets[g]));
      // The padding of the segment does nothing (the last one has none).
      if (offsets[g] + space.size < offsets[g + 1] && !lastSegment) {
        Value in = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                         local, cst(space.size));
        auto guard = scf::IfOp::create(b, loc, in, /*withElseRegion=*/false);
        b.setInsertionPoint(guard.thenBlock()->getTerminator());
      }
      SmallVector<Value> ivs = delinearize(b, loc, local, space, cst);
      for (Nest &n : group.nests) {
        Block *body = n.op.getBody();
        b.eraseOp(body->getTerminator());
        b.inlineBlockBefore(body, b.getInsertionBlock(), b.getInsertionPoint(),
                            ivs);
        b.eraseOp(n.op);
      }
      if (select)
        b.setInsertionPoint(select.elseBlock()->getTerminator());
    }
  }
};
} // namespace
