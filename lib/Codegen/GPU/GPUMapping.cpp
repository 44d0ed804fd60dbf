//===- GPUMapping.cpp - Loop nests and buffers onto the GPU --------------===//
//
// The CUDA pipeline's own passes around MLIR's gpu lowering (see
// lib/Pipelines/GPUPipeline.cpp and docs/GPU.md):
//   graft-gpu-parallel-first  linalg.generic loops: parallel dims outermost
//   graft-gpu-map-loops       scf.parallel nests tiled into blocks/threads
//   graft-gpu-device-memory   host buffers become device buffers
//   graft-gpu-merge-modules   every kernel in one gpu.module
//
//===----------------------------------------------------------------------===//

#include "graft/Codegen/Passes.h"
#include "graft/Support/Statistics.h"

#include "GPU/BufferOf.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"

namespace graft {
#define GEN_PASS_DEF_GPUPARALLELFIRST
#define GEN_PASS_DEF_GPUMAPLOOPS
#define GEN_PASS_DEF_GPUDEVICEMEMORY
#define GEN_PASS_DEF_GPUMERGEMODULES
#include "graft/Codegen/Passes.h.inc"
} // namespace graft

using namespace mlir;

GRAFT_STATISTIC(NumInterchanged, "graft-gpu-parallel-first",
                "Ops whose loops were reordered, parallel dims first");
GRAFT_STATISTIC(NumNestsMapped, "graft-gpu-map-loops",
                "Loop nests mapped onto the grid and blocks");
GRAFT_STATISTIC(NumDeviceBuffers, "graft-gpu-device-memory",
                "Buffers allocated in device memory");
GRAFT_STATISTIC(NumModulesMerged, "graft-gpu-merge-modules",
                "Kernel modules merged into one");

namespace {

/// Does `op` (or anything nested) read or write a memref's elements?
bool touchesMemory(Operation *op) {
  WalkResult r = op->walk([](Operation *inner) {
    if (isa<memref::LoadOp, memref::StoreOp, linalg::LinalgOp>(inner))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return r.wasInterrupted();
}

int64_t powerOf2AtLeast(int64_t n) {
  int64_t p = 1;
  while (p < n)
    p *= 2;
  return p;
}

gpu::ParallelLoopDimMappingAttr dimMap(MLIRContext *ctx, gpu::Processor p) {
  AffineMap id = AffineMap::getMultiDimIdentityMap(1, ctx);
  return gpu::ParallelLoopDimMappingAttr::get(ctx, p, id, id);
}

/// Puts the parallel dims of every linalg.generic first (the CPU lowering
/// orders some products m-k-n for contiguous inner loops; on the GPU every
/// parallel dim should become threads, and the reductions loops in each).
struct GPUParallelFirstPass
    : graft::impl::GPUParallelFirstBase<GPUParallelFirstPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<linalg::GenericOp> generics;
    getOperation().walk([&](linalg::GenericOp g) { generics.push_back(g); });
    for (linalg::GenericOp g : generics) {
      SmallVector<unsigned> parallel, reduction;
      for (auto [i, t] : llvm::enumerate(g.getIteratorTypesArray()))
        (linalg::isParallelIterator(t) ? parallel : reduction).push_back(i);
      SmallVector<unsigned> order(parallel);
      order.append(reduction);
      bool identity = llvm::all_of(llvm::enumerate(order), [](auto p) {
        return p.index() == p.value();
      });
      if (identity)
        continue;
      rewriter.setInsertionPoint(g);
      if (failed(linalg::interchangeGenericOp(rewriter, g, order))) {
        g.emitError("cannot interchange the loops of this op");
        return signalPassFailure();
      }
      ++NumInterchanged;
    }
  }
};

/// Rewrites an scf.parallel without reductions into an scf.for nest.
void parallelToFor(scf::ParallelOp p) {
  OpBuilder b(p);
  SmallVector<Value> ivs;
  scf::LoopNest nest = scf::buildLoopNest(
      b, p.getLoc(), p.getLowerBound(), p.getUpperBound(), p.getStep(),
      [&](OpBuilder &, Location, ValueRange iv) {
        ivs.assign(iv.begin(), iv.end());
      });
  Block *inner = nest.loops.back().getBody();
  for (auto [old, fresh] : llvm::zip(p.getInductionVars(), ivs))
    old.replaceAllUsesWith(fresh);
  for (Operation &op : llvm::make_early_inc_range(p.getBody()->without_terminator()))
    op.moveBefore(inner->getTerminator());
  p.erase();
}

/// Threads per block of the loop nests.
constexpr int64_t kBlockThreads = 256;

/// Maps every loop nest of the host functions onto the GPU.
///
/// - Each outermost scf.parallel is tiled: its innermost dim into tiles of
///   up to 256 threads (threadIdx.x walks contiguous memory), the dim before
///   it into what is left of 256; the tile loop goes to the grid (innermost
///   dim to blockIdx.x, then y, z; further dims run sequentially in each
///   thread), the in-tile loop to threads. Partial tiles are guarded.
/// - Serial code that touches memory (a reduction over every element, the
///   initialisation of a 0-d result) is wrapped in a one-iteration
///   scf.parallel: a one-thread kernel, since every buffer is on the device.
struct GPUMapLoopsPass : graft::impl::GPUMapLoopsBase<GPUMapLoopsPass> {

  /// Do the iterations of `loop` touch disjoint memory? Every buffer the
  /// body writes (memref.store only) is indexed by the loop's induction
  /// variable at one fixed position in each of the body's loads and stores
  /// of it, and nothing else the body reads may alias it. (The scatter-add
  /// of a pooling gradient: one plane per iteration.)
  static bool iterationsDisjoint(scf::ForOp loop) {
    if (loop.getNumResults() != 0)
      return false;
    Value iv = loop.getInductionVar();
    llvm::DenseMap<Value, unsigned> at; // written buffer -> iv's position
    bool ok = true;
    auto position = [&](ValueRange indices) -> std::optional<unsigned> {
      for (auto [i, v] : llvm::enumerate(indices))
        if (v == iv)
          return i;
      return std::nullopt;
    };
    loop.getBody()->walk([&](Operation *op) {
      if (auto st = dyn_cast<memref::StoreOp>(op)) {
        auto p = position(st.getIndices());
        auto [it, fresh] = at.try_emplace(st.getMemRef(), p ? *p : 0);
        ok &= p && it->second == *p;
      } else if (!isa<memref::LoadOp>(op) && !isMemoryEffectFree(op) &&
                 !isa<scf::ForOp, scf::YieldOp, scf::IfOp>(op)) {
        ok = false; // another kind of write
      }
    });
    if (!ok || at.empty())
      return false;
    loop.getBody()->walk([&](memref::LoadOp ld) {
      auto it = at.find(ld.getMemRef());
      if (it != at.end()) {
        ok &= ld.getIndices()[it->second] == iv;
        return;
      }
      for (auto &[written, p] : at)
        ok &= !graft::mayOverlap(ld.getMemRef(), written);
    });
    for (auto &[a, pa] : at)
      for (auto &[b, pb] : at)
        ok &= a == b || !graft::mayOverlap(a, b);
    return ok;
  }

  void wrapSerialCode(func::FuncOp fn) {
    // Serial loops whose iterations touch disjoint memory run in parallel.
    for (auto loop : llvm::to_vector(fn.getBody().front().getOps<scf::ForOp>())) {
      if (!iterationsDisjoint(loop))
        continue;
      OpBuilder b(loop);
      auto par = scf::ParallelOp::create(
          b, loop.getLoc(), ValueRange{loop.getLowerBound()},
          ValueRange{loop.getUpperBound()}, ValueRange{loop.getStep()});
      loop.getInductionVar().replaceAllUsesWith(par.getInductionVars()[0]);
      Block *body = par.getBody();
      for (Operation &op :
           llvm::make_early_inc_range(loop.getBody()->without_terminator()))
        op.moveBefore(body->getTerminator());
      loop.erase();
    }
    SmallVector<SmallVector<Operation *>> runs(1);
    for (Operation &op : fn.getBody().front()) {
      bool serial = !isa<scf::ParallelOp, gpu::LaunchOp>(op) &&
                    op.getNumResults() == 0 &&
                    !op.hasTrait<OpTrait::IsTerminator>() &&
                    !isa<memref::CopyOp, memref::DeallocOp>(op) &&
                    touchesMemory(&op);
      if (serial)
        runs.back().push_back(&op);
      else if (!runs.back().empty())
        runs.emplace_back();
    }
    for (auto &run : runs) {
      if (run.empty())
        continue;
      OpBuilder b(run.front());
      Location loc = run.front()->getLoc();
      Value zero = arith::ConstantIndexOp::create(b, loc, 0);
      Value one = arith::ConstantIndexOp::create(b, loc, 1);
      auto loop = scf::ParallelOp::create(b, loc, ValueRange{zero},
                                          ValueRange{one}, ValueRange{one});
      Operation *terminator = loop.getBody()->getTerminator();
      for (Operation *op : run)
        op->moveBefore(terminator);
    }
  }

  /// Does an op in the block strictly between `from` and `to` write `m`?
  static bool writtenBetween(Value m, Operation *from, Operation *to) {
    for (Operation *op = from->getNextNode(); op && op != to;
         op = op->getNextNode()) {
      WalkResult r = op->walk([&](Operation *inner) {
        if (auto st = dyn_cast<memref::StoreOp>(inner); st && st.getMemRef() == m)
          return WalkResult::interrupt();
        if (auto cp = dyn_cast<memref::CopyOp>(inner); cp && cp.getTarget() == m)
          return WalkResult::interrupt();
        if (auto l = dyn_cast<linalg::LinalgOp>(inner))
          for (OpOperand &init : l.getDpsInitsMutable())
            if (init.get() == m)
              return WalkResult::interrupt();
        if (isa<func::CallOp>(inner))
          return WalkResult::interrupt();
        return WalkResult::advance();
      });
      if (r.wasInterrupted())
        return true;
    }
    return false;
  }

  /// Host scalars that a loop nest uses and that are read from a buffer
  /// (the learning rate, a mean's count, the loss in its gradient) are read
  /// on the device: the load and the scalar ops after it are cloned into
  /// the nest. Fails when the buffer is written in between.
  LogicalResult sinkScalarReads(scf::ParallelOp loop) {
    llvm::SetVector<Value> above;
    getUsedValuesDefinedAbove(loop.getRegion(), above);
    Block *block = loop->getBlock();
    // The ops to clone, in block order: loads and pure ops on their values.
    llvm::SetVector<Operation *> slice;
    std::function<bool(Value)> needs = [&](Value v) -> bool {
      Operation *def = v.getDefiningOp();
      if (!def || def->getBlock() != block)
        return false;
      if (slice.contains(def))
        return true;
      bool load = isa<memref::LoadOp>(def);
      if (!load && !isPure(def))
        return false;
      bool dependsOnLoad = load;
      for (Value operand : def->getOperands())
        dependsOnLoad |= needs(operand);
      if (dependsOnLoad)
        slice.insert(def);
      return dependsOnLoad;
    };
    for (Value v : above)
      needs(v);
    if (slice.empty())
      return success();
    SmallVector<Operation *> ordered(slice.begin(), slice.end());
    llvm::sort(ordered, [](Operation *a, Operation *b) {
      return a->isBeforeInBlock(b);
    });
    for (Operation *op : ordered)
      if (auto load = dyn_cast<memref::LoadOp>(op);
          load && writtenBetween(load.getMemRef(), load, loop))
        return load.emitError("this scalar is overwritten before the loop "
                              "nest that reads it");
    IRMapping map;
    OpBuilder b(loop.getBody(), loop.getBody()->begin());
    for (Operation *op : ordered)
      b.clone(*op, map);
    for (Operation *op : ordered)
      for (Value r : op->getResults())
        r.replaceUsesWithIf(map.lookup(r), [&](OpOperand &use) {
          return loop->isProperAncestor(use.getOwner());
        });
    return success();
  }

  LogicalResult mapLoop(scf::ParallelOp loop) {
    MLIRContext *ctx = &getContext();
    // Parallel loops nested in the nest run sequentially in each thread.
    SmallVector<scf::ParallelOp> nested;
    loop.getBody()->walk([&](scf::ParallelOp p) {
      if (p.getNumResults() == 0)
        nested.push_back(p);
    });
    for (scf::ParallelOp p : llvm::reverse(nested))
      parallelToFor(p);
    unsigned n = loop.getNumLoops();
    SmallVector<int64_t> trips(n, -1);
    for (unsigned d = 0; d < n; ++d) {
      auto lb = getConstantIntValue(loop.getLowerBound()[d]);
      auto ub = getConstantIntValue(loop.getUpperBound()[d]);
      auto step = getConstantIntValue(loop.getStep()[d]);
      if (lb && ub && step && *step > 0)
        trips[d] = (*ub - *lb + *step - 1) / *step;
    }
    SmallVector<int64_t> tiles(n, 1);
    auto tileOf = [](int64_t trip, int64_t limit) {
      return trip < 0 ? limit : std::min(powerOf2AtLeast(trip), limit);
    };
    tiles[n - 1] = tileOf(trips[n - 1], kBlockThreads);
    if (n >= 2)
      tiles[n - 2] = tileOf(trips[n - 2], kBlockThreads / tiles[n - 1]);
    auto [outer, inner] = scf::tileParallelLoop(loop, tiles,
                                                /*noMinMaxBounds=*/true);
    SmallVector<gpu::ParallelLoopDimMappingAttr> outerMap, innerMap;
    const gpu::Processor blocks[] = {gpu::Processor::BlockX,
                                     gpu::Processor::BlockY,
                                     gpu::Processor::BlockZ};
    for (unsigned d = 0; d < n; ++d) {
      unsigned fromInner = n - 1 - d;
      outerMap.push_back(dimMap(
          ctx, fromInner < 3 ? blocks[fromInner] : gpu::Processor::Sequential));
      gpu::Processor t = gpu::Processor::Sequential;
      if (fromInner == 0)
        t = gpu::Processor::ThreadX;
      else if (fromInner == 1 && tiles[d] > 1)
        t = gpu::Processor::ThreadY;
      innerMap.push_back(dimMap(ctx, t));
    }
    return success(succeeded(gpu::setMappingAttr(outer, outerMap)) &&
                   succeeded(gpu::setMappingAttr(inner, innerMap)));
  }

  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      if (fn.isExternal())
        continue;
      wrapSerialCode(fn);
      SmallVector<scf::ParallelOp> loops;
      for (auto loop : fn.getBody().front().getOps<scf::ParallelOp>())
        loops.push_back(loop);
      for (scf::ParallelOp loop : loops)
        if (failed(sinkScalarReads(loop)))
          return signalPassFailure();
      // The host copies of what was sunk are dead now.
      Block &body = fn.getBody().front();
      for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
        if (op.use_empty() && op.getNumResults() > 0 &&
            (isa<memref::LoadOp>(op) || isPure(&op)))
          op.erase();
      for (scf::ParallelOp loop : loops) {
        if (failed(mapLoop(loop))) {
          loop.emitError("cannot map this loop nest onto the GPU");
          return signalPassFailure();
        }
        ++NumNestsMapped;
      }
    }
  }
};

/// After kernel outlining, every buffer the host functions allocate is a
/// device buffer (gpu.alloc, gpu.dealloc) and copies between buffers are
/// device copies (gpu.memcpy); the entry points' arguments are device
/// pointers. Fails, naming the op, when host code is left that would read or
/// write device memory.
struct GPUDeviceMemoryPass
    : graft::impl::GPUDeviceMemoryBase<GPUDeviceMemoryPass> {
  /// The element of a 32-bit splat constant global `v` reads, or null.
  Value splatOf(OpBuilder &b, Value v) {
    auto get = v.getDefiningOp<memref::GetGlobalOp>();
    if (!get)
      return {};
    auto global = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
        get, get.getNameAttr());
    if (!global || !global.getConstant())
      return {};
    auto init = dyn_cast_or_null<DenseElementsAttr>(global.getConstantInitValue());
    if (!init || !init.isSplat() ||
        init.getElementType().getIntOrFloatBitWidth() != 32)
      return {};
    return arith::ConstantOp::create(b, get.getLoc(),
                                     cast<TypedAttr>(init.getSplatValue<Attribute>()));
  }

  void runOnOperation() override {
    bool failedAny = false;
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      SmallVector<Operation *> ops;
      fn.walk([&](Operation *op) { ops.push_back(op); });
      for (Operation *op : ops) {
        OpBuilder b(op);
        if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
          auto dev = gpu::AllocOp::create(
              b, op->getLoc(), alloc.getType(), Type(), ValueRange{},
              alloc.getDynamicSizes(), alloc.getSymbolOperands());
          ++NumDeviceBuffers;
          alloc.replaceAllUsesWith(dev.getMemref());
          alloc.erase();
        } else if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
          gpu::DeallocOp::create(b, op->getLoc(), Type(), ValueRange{},
                                 dealloc.getMemref());
          dealloc.erase();
        } else if (auto copy = dyn_cast<memref::CopyOp>(op)) {
          // A splat constant (zeros for zero_grad) is a memset; any other
          // source, device or host (a constant global), a copy: the driver
          // tells the two apart by address (unified addressing).
          if (Value splat = splatOf(b, copy.getSource()))
            gpu::MemsetOp::create(b, op->getLoc(), Type(), ValueRange{},
                                  copy.getTarget(), splat);
          else
            gpu::MemcpyOp::create(b, op->getLoc(), Type(), ValueRange{},
                                  copy.getTarget(), copy.getSource());
          copy.erase();
        } else if (auto global = dyn_cast<memref::GetGlobalOp>(op)) {
          // Host constants may be copied from, or give reshapes their
          // shape; kernels read a device copy (a mask, say), made at the
          // start of the function and freed at its end.
          bool kernelReads = false;
          for (Operation *user : global->getUsers()) {
            if (isa<gpu::LaunchFuncOp>(user))
              kernelReads = true;
            else if (!isa<memref::CopyOp, gpu::MemcpyOp, memref::ReshapeOp>(
                         user)) {
              user->emitError("the host constant ")
                  << global.getName() << " is read here on the device";
              failedAny = true;
            }
          }
          if (!kernelReads)
            continue;
          b.setInsertionPointAfter(global);
          auto dev = gpu::AllocOp::create(b, op->getLoc(), global.getType(),
                                          Type(), ValueRange{}, ValueRange{},
                                          ValueRange{});
          ++NumDeviceBuffers;
          gpu::MemcpyOp::create(b, op->getLoc(), Type(), ValueRange{},
                                dev.getMemref(), global.getResult());
          global.getResult().replaceUsesWithIf(
              dev.getMemref(), [](OpOperand &use) {
                return isa<gpu::LaunchFuncOp>(use.getOwner());
              });
          fn.walk([&](func::ReturnOp ret) {
            OpBuilder rb(ret);
            gpu::DeallocOp::create(rb, ret.getLoc(), Type(), ValueRange{},
                                   dev.getMemref());
          });
        } else if (isa<memref::LoadOp, memref::StoreOp, memref::AllocaOp,
                       linalg::LinalgOp>(op)) {
          op->emitError("GPU code generation left host code that reads or "
                        "writes a device buffer");
          failedAny = true;
        }
      }
    }
    if (failedAny)
      signalPassFailure();
  }
};

/// Moves every kernel into one gpu.module (see Passes.td).
struct GPUMergeModulesPass
    : graft::impl::GPUMergeModulesBase<GPUMergeModulesPass> {
  void runOnOperation() override {
    ModuleOp top = getOperation();
    auto modules = llvm::to_vector(top.getOps<gpu::GPUModuleOp>());
    if (modules.size() < 2)
      return;
    MLIRContext *ctx = &getContext();
    OpBuilder b(modules.front());
    auto merged = gpu::GPUModuleOp::create(b, modules.front().getLoc(),
                                           "graft_kernels");
    NumModulesMerged += modules.size();
    SymbolTable mergedTable(merged);
    // (old module, old symbol) -> new symbol in `merged`.
    DenseMap<std::pair<StringAttr, StringAttr>, StringAttr> renamed;
    for (gpu::GPUModuleOp m : modules) {
      StringAttr mname = m.getNameAttr();
      auto ops = llvm::to_vector(llvm::make_pointer_range(
          m.getBody()->without_terminator()));
      unsigned kernels = llvm::count_if(
          ops, [](Operation *op) { return isa<gpu::GPUFuncOp>(op); });
      for (Operation *op : ops) {
        auto sym = dyn_cast<SymbolOpInterface>(op);
        if (!sym) {
          m.emitError("cannot merge a kernel module holding a ")
              << op->getName();
          return signalPassFailure();
        }
        StringAttr old = sym.getNameAttr();
        // A kernel is named after its module (unique at the top level);
        // another symbol (a global a kernel reads) keeps its name, once.
        StringAttr name = old;
        if (isa<gpu::GPUFuncOp>(op))
          name = kernels == 1 ? mname
                              : StringAttr::get(ctx, mname.getValue() + "_" +
                                                         old.getValue());
        if (Operation *existing = mergedTable.lookup(name)) {
          if (isa<gpu::GPUFuncOp>(op) ||
              !OperationEquivalence::isEquivalentTo(
                  existing, op, OperationEquivalence::ignoreValueEquivalence,
                  nullptr, OperationEquivalence::IgnoreLocations)) {
            op->emitError("cannot merge kernel modules: two different "
                          "symbols named ")
                << name;
            return signalPassFailure();
          }
          continue;
        }
        op->remove();
        sym.setName(name);
        mergedTable.insert(op);
        renamed[{mname, old}] = name;
      }
    }
    top.walk([&](gpu::LaunchFuncOp launch) {
      SymbolRefAttr kernel = launch.getKernel();
      auto it = renamed.find({kernel.getRootReference(),
                              kernel.getLeafReference()});
      if (it != renamed.end())
        launch.setKernelAttr(SymbolRefAttr::get(
            merged.getNameAttr(), {FlatSymbolRefAttr::get(it->second)}));
    });
    for (gpu::GPUModuleOp m : modules)
      m.erase();
  }
};

} // namespace
