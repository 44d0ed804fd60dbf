//===- GPUSchedule.cpp - Tiled GPU kernels for products and reductions ----===//
//
// graft-gpu-schedule builds the kernel each op's #graft.gpu_config names
// (the strategy's choice, GPUStrategy.cpp): products become shared-memory
// tiled kernels (on the tensor cores in TF32: mma.sync), row reductions
// warp reductions (one warp per output, shuffles), column reductions blocks
// of outputs by slices, full reductions block reductions (shuffles, then
// shared memory across warps). Each replaced linalg.generic becomes a
// gpu.launch built here; the rest of the CUDA pipeline (kernel outlining, NVVM)
// treats it like any other. See the pass description in Passes.td and
// docs/GPU.md.
//
//===----------------------------------------------------------------------===//

#include "graft/Codegen/Passes.h"
#include "graft/Support/Statistics.h"

#include "GPU/KernelMatch.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"

namespace graft {
#define GEN_PASS_DEF_GPUSCHEDULE
#include "graft/Codegen/Passes.h.inc"
} // namespace graft

using namespace mlir;
using namespace graft::gpu;
using graft::GPUConfigAttr;
using graft::GPUKernel;
using graft::kGPUConfigAttrName;

GRAFT_STATISTIC(NumProductKernels, "graft-gpu-schedule",
                "Products and convolutions as shared-memory tiled kernels");
GRAFT_STATISTIC(NumTensorCoreKernels, "graft-gpu-schedule",
                "Of those, on the tensor cores (TF32 mma.sync)");
GRAFT_STATISTIC(NumRowReductions, "graft-gpu-schedule",
                "Reductions as a warp per output");
GRAFT_STATISTIC(NumColumnReductions, "graft-gpu-schedule",
                "Reductions as blocks of outputs by slices");
GRAFT_STATISTIC(NumFullReductions, "graft-gpu-schedule",
                "Reductions to one value, in one block");

namespace {

constexpr int64_t kTileK = 16;    // products: the k step staged in shared memory
constexpr int64_t kThreadsXY = 16;       // products: 16x16 threads per block
constexpr int64_t kRowsPerBlock = 8;     // row reductions: warps per block
constexpr int64_t kFullThreads = 1024;   // full reductions: one block

/// Index arithmetic at one insertion point.
struct Emitter {
  OpBuilder &b;
  Location loc;
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value div(Value x, int64_t y) {
    return arith::DivUIOp::create(b, loc, x, idx(y));
  }
  Value rem(Value x, int64_t y) {
    return arith::RemUIOp::create(b, loc, x, idx(y));
  }
  Value lt(Value x, int64_t y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, idx(y));
  }
  Value both(Value x, Value y) { return arith::AndIOp::create(b, loc, x, y); }

  /// `lin` split into indices of `trips` (the last fastest), into `ivs` at
  /// the positions `dims`.
  void delinearize(Value lin, ArrayRef<int64_t> trips, ArrayRef<unsigned> dims,
                   MutableArrayRef<Value> ivs) {
    for (int i = static_cast<int>(dims.size()) - 1; i >= 0; --i) {
      int64_t t = trips[dims[i]];
      ivs[dims[i]] = i == 0 ? lin : rem(lin, t);
      if (i > 0)
        lin = div(lin, t);
    }
  }

  /// The value of `e` (an index expression the kernels compute: see
  /// KernelMatch.cpp's evaluable) at loop indices `ivs`.
  Value eval(AffineExpr e, ArrayRef<Value> ivs) {
    if (auto d = dyn_cast<AffineDimExpr>(e))
      return ivs[d.getPosition()];
    if (auto c = dyn_cast<AffineConstantExpr>(e))
      return idx(c.getValue());
    auto bin = cast<AffineBinaryOpExpr>(e);
    Value l = eval(bin.getLHS(), ivs), r = eval(bin.getRHS(), ivs);
    switch (e.getKind()) {
    case AffineExprKind::Add:
      return add(l, r);
    case AffineExprKind::Mul:
      return mul(l, r);
    case AffineExprKind::FloorDiv:
      return arith::DivUIOp::create(b, loc, l, r);
    default: // Mod
      return arith::RemUIOp::create(b, loc, l, r);
    }
  }

  /// The indices `map` gives for loop indices `ivs`.
  SmallVector<Value> indices(AffineMap map, ArrayRef<Value> ivs) {
    SmallVector<Value> out;
    for (AffineExpr e : map.getResults())
      out.push_back(eval(e, ivs));
    return out;
  }
};

/// A gpu.launch with `threads` (x, y, z) per block, its body terminated, the
/// builder inside it before the terminator.
gpu::LaunchOp createLaunch(OpBuilder &b, Location loc,
                           std::array<int64_t, 3> grid,
                           std::array<int64_t, 3> threads,
                           TypeRange workgroup) {
  Emitter e{b, loc};
  auto launch = gpu::LaunchOp::create(
      b, loc, e.idx(grid[0]), e.idx(grid[1]), e.idx(grid[2]), e.idx(threads[0]),
      e.idx(threads[1]), e.idx(threads[2]), /*dynamicSharedMemorySize=*/nullptr,
      /*asyncTokenType=*/nullptr, ValueRange{}, workgroup);
  Block &body = launch.getBody().front();
  b.setInsertionPointToEnd(&body);
  auto term = gpu::TerminatorOp::create(b, loc);
  b.setInsertionPoint(term);
  return launch;
}

MemRefType sharedMemRef(ArrayRef<int64_t> shape, Type elt) {
  auto space = gpu::AddressSpaceAttr::get(elt.getContext(),
                                          gpu::AddressSpace::Workgroup);
  return MemRefType::get(shape, elt, MemRefLayoutAttrInterface{}, space);
}

//===----------------------------------------------------------------------===//
// Products
//===----------------------------------------------------------------------===//

/// Replaces the product `g` with a shared-memory tiled kernel: BMxBN tiles
/// of 16x16 threads (times `slices` along z), k in steps of kTileK. Each
/// thread accumulates a TMxTN register tile with fma, or (on the tensor
/// cores) each of the 8 warps an (MT*16)x(NT*8) part with mma.sync m16n8k8.
/// The `slices` groups' sums meet in shared memory, in order.
void emitProduct(linalg::GenericOp g, const Product &p, KernelPlan tiling) {
  const int64_t M = p.size(p.m), N = p.size(p.n), K = p.size(p.k),
                batch = p.size(p.batch);
  const int64_t BM = tiling.tile, BN = tiling.tile, S = tiling.slices,
                TM = BM / kThreadsXY, TN = BN / kThreadsXY;
  const bool mma = tiling.kernel == GPUKernel::tensor_core_product;
  // Tensor cores: the warps tile the block 2 x 4, each its WMxWN part as
  // MT x NT fragments of 16x8.
  const int64_t WM = BM / 2, WN = BN / 4, MT = WM / 16, NT = WN / 8;
  assert((!mma || (S == 1 && MT > 0 && NT > 0)) && "no tensor-core tiling");
  SmallVector<AffineMap> maps = g.getIndexingMapsArray();
  Value A = g.getDpsInputs()[0], B = g.getDpsInputs()[1],
        C = g.getDpsInits()[0];
  Type elt = cast<MemRefType>(C.getType()).getElementType();
  // Which of an operand's own flattened dim (m or n) and k walks its
  // contiguous (last) index; staging loads walk that one.
  auto alongOwn = [&](AffineMap map, ArrayRef<unsigned> own) {
    return map.getNumResults() > 0 &&
           map.getResults().back().isFunctionOfDim(own.back());
  };
  bool aAlongK = !alongOwn(maps[0], p.m), bAlongK = !alongOwn(maps[1], p.n);

  OpBuilder b(g);
  Location loc = g.getLoc();
  // Padding: the staging stores and the fma reads walk one row, a
  // fragment's reads 4 rows by 8 columns (a row of BM + 8 words starts 8
  // banks further).
  const int64_t pad = mma ? 8 : 1;
  MemRefType asType = sharedMemRef({S, kTileK, BM + pad}, elt);
  MemRefType bsType = sharedMemRef({S, kTileK, BN + pad}, elt);
  SmallVector<Type> workgroup = {asType, bsType};
  if (S > 1)
    workgroup.push_back(sharedMemRef({S, BM * BN}, elt));
  gpu::LaunchOp launch = createLaunch(
      b, loc,
      {llvm::divideCeilSigned(N, BN), llvm::divideCeilSigned(M, BM), batch},
      {kThreadsXY, kThreadsXY, S}, workgroup);
  Emitter e{b, loc};
  Value tx = launch.getThreadIds().x, ty = launch.getThreadIds().y,
        slice = launch.getThreadIds().z;
  Value as = launch.getWorkgroupAttributions()[0],
        bs = launch.getWorkgroupAttributions()[1];
  SmallVector<Value> ivs(p.trips.size());
  if (!p.batch.empty())
    e.delinearize(launch.getBlockIds().z, p.trips, p.batch, ivs);
  Value tid = e.add(e.mul(ty, e.idx(kThreadsXY)), tx);
  Value row0 = e.mul(launch.getBlockIds().y, e.idx(BM));
  Value col0 = e.mul(launch.getBlockIds().x, e.idx(BN));
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(elt));
  // The tensor-core fragments' coordinates (PTX ISA, "Matrix fragments for
  // mma.m16n8k8"): lane = 4 * group + thread in group.
  Value group, quad, warpRow0, warpCol0;
  if (mma) {
    Value warp = e.div(tid, kWarp), lane = e.rem(tid, kWarp);
    group = e.div(lane, 4);
    quad = e.rem(lane, 4);
    warpRow0 = e.mul(e.div(warp, 4), e.idx(WM));
    warpCol0 = e.mul(e.rem(warp, 4), e.idx(WN));
  }
  SmallVector<Value> init(mma ? MT * NT * 4 : TM * TN, zero);
  // Where the thread's accumulator `i` lies in the block's tile: (row, col).
  auto position = [&](Emitter &x, int64_t i) -> std::pair<Value, Value> {
    if (!mma)
      return {x.add(ty, x.idx(i / TN * kThreadsXY)),
              x.add(tx, x.idx(i % TN * kThreadsXY))};
    // Fragment (mt, nt), element r: rows group (+8 for r >= 2), columns
    // 2 * quad + r % 2.
    int64_t frag = i / 4, r = i % 4, mt = frag / NT, nt = frag % NT;
    Value pairCol = x.mul(quad, x.idx(2));
    return {x.add(warpRow0, x.add(group, x.idx(mt * 16 + 8 * (r / 2)))),
            x.add(warpCol0, x.add(pairCol, x.idx(nt * 8 + r % 2)))};
  };

  // One operand's share of a k step: an `extent` (its own flattened dim)
  // by kTileK tile; thread t of the slice moves elements t, t + 256, ...
  struct Operand {
    Value src;
    AffineMap map;
    Value tile; // shared memory
    ArrayRef<unsigned> own;
    int64_t extent, total;
    Value base;
    bool alongK; // the contiguous dim is k (else its own)
    int64_t perThread() const {
      return extent * kTileK / (kThreadsXY * kThreadsXY);
    }
  };
  Operand ops[2] = {{A, maps[0], as, p.m, BM, M, row0, aAlongK},
                    {B, maps[1], bs, p.n, BN, N, col0, bAlongK}};
  // Element r of the thread's share: (k, own) within the tile.
  auto slot = [&](Emitter &e, const Operand &o, int64_t r) {
    Value t = e.add(tid, e.idx(r * kThreadsXY * kThreadsXY));
    return o.alongK ? std::make_pair(e.rem(t, kTileK), e.div(t, kTileK))
                    : std::make_pair(e.div(t, o.extent), e.rem(t, o.extent));
  };
  // Loads the thread's share of the tile at k0 (zeros outside the bounds).
  auto load = [&](Emitter &e, Value k0, SmallVector<Value> &out) {
    for (const Operand &o : ops)
      for (int64_t r = 0; r < o.perThread(); ++r) {
        auto [kk, own] = slot(e, o, r);
        Value ownAt = e.add(o.base, own), kAt = e.add(k0, kk);
        Value inside = e.both(e.lt(ownAt, o.total), e.lt(kAt, K));
        auto guarded = scf::IfOp::create(
            e.b, e.loc, inside,
            [&](OpBuilder &tb, Location l) {
              Emitter te{tb, l};
              SmallVector<Value> at(ivs);
              te.delinearize(ownAt, p.trips, o.own, at);
              te.delinearize(kAt, p.trips, p.k, at);
              Value v =
                  memref::LoadOp::create(tb, l, o.src, te.indices(o.map, at));
              scf::YieldOp::create(tb, l, v);
            },
            [&](OpBuilder &eb, Location l) {
              scf::YieldOp::create(eb, l, zero);
            });
        out.push_back(guarded.getResult(0));
      }
  };
  auto store = [&](Emitter &e, ValueRange values) {
    for (const Operand &o : ops)
      for (int64_t r = 0; r < o.perThread(); ++r) {
        auto [kk, own] = slot(e, o, r);
        Value v = values.front();
        if (mma) { // rounded to TF32 once, here (cvt.rna.tf32.f32)
          Value bits = NVVM::ConvertFloatToTF32Op::create(
              e.b, e.loc, e.b.getI32Type(), v, NVVM::FPRoundingMode::RNA);
          v = arith::BitcastOp::create(e.b, e.loc, elt, bits);
        }
        memref::StoreOp::create(e.b, e.loc, v, o.tile,
                                ValueRange{slice, kk, own});
        values = values.drop_front();
      }
  };

  // Every slice runs the same number of steps (the barriers are the
  // block's): slice s takes k steps s, s + S, ...; steps past K stage
  // zeros. The next step's tile is loaded into registers before this
  // step's multiply-adds, so global memory latency hides behind them.
  int64_t steps = llvm::divideCeilSigned(llvm::divideCeilSigned(K, kTileK), S);
  auto kAt = [&](Emitter &e, Value step) {
    return e.mul(e.add(e.mul(step, e.idx(S)), slice), e.idx(kTileK));
  };
  // One k8 step of every fragment of the warp: A (16x8, rows = m) and B
  // (8x8, rows = k) fragments read from shared memory (A: rows group,
  // group + 8, columns quad, quad + 4; B: rows quad, quad + 4, column
  // group), then MT x NT mma.sync m16n8k8 into the accumulators.
  auto emitMmaStep = [&](OpBuilder &ib, Location il, Value k8, ValueRange acc) {
    Emitter ie{ib, il};
    auto fragment = [&](Value tile, Value k, Value own, int64_t rows,
                        bool aRows) {
      SmallVector<Value> v;
      for (int64_t r = 0; r < rows; ++r) {
        int64_t dk = aRows ? 4 * (r / 2) : 4 * r,
                down = aRows ? 8 * (r % 2) : 0;
        v.push_back(memref::LoadOp::create(
            ib, il, tile,
            ValueRange{slice, ie.add(k, ie.add(quad, ie.idx(dk))),
                       ie.add(own, ie.idx(down))}));
      }
      return vector::FromElementsOp::create(ib, il,
                                            VectorType::get({rows, 1}, elt), v);
    };
    SmallVector<Value> af, bf, sums;
    for (int64_t mt = 0; mt < MT; ++mt)
      af.push_back(fragment(
          as, k8, ie.add(warpRow0, ie.add(group, ie.idx(mt * 16))), 4, true));
    for (int64_t nt = 0; nt < NT; ++nt)
      bf.push_back(fragment(
          bs, k8, ie.add(warpCol0, ie.add(group, ie.idx(nt * 8))), 2, false));
    auto cType = VectorType::get({2, 2}, elt);
    for (int64_t mt = 0; mt < MT; ++mt)
      for (int64_t nt = 0; nt < NT; ++nt) {
        ValueRange c = acc.slice((mt * NT + nt) * 4, 4);
        Value cv = vector::FromElementsOp::create(ib, il, cType, c);
        Value d = nvgpu::MmaSyncOp::create(ib, il, af[mt], bf[nt], cv,
                                           ArrayRef<int64_t>{16, 8, 8},
                                           /*tf32Enabled=*/true);
        for (int64_t r = 0; r < 4; ++r)
          sums.push_back(vector::ExtractOp::create(
              ib, il, d, ArrayRef<int64_t>{r / 2, r % 2}));
      }
    scf::YieldOp::create(ib, il, sums);
  };
  SmallVector<Value> carried(init);
  load(e, kAt(e, e.idx(0)), carried);
  const size_t nacc = init.size();
  auto outer = scf::ForOp::create(
      b, loc, e.idx(0), e.idx(steps), e.idx(1), carried,
      [&](OpBuilder &ob, Location l, Value step, ValueRange iter) {
        Emitter oe{ob, l};
        ValueRange accs = iter.take_front(nacc);
        store(oe, iter.drop_front(nacc));
        gpu::BarrierOp::create(ob, l);
        SmallVector<Value> next;
        load(oe, kAt(oe, oe.add(step, oe.idx(1))), next);
        auto inner = scf::ForOp::create(
            ob, l, oe.idx(0), oe.idx(kTileK), oe.idx(mma ? 8 : 1), accs,
            [&](OpBuilder &ib, Location il, Value kk, ValueRange acc) {
              if (mma) {
                emitMmaStep(ib, il, kk, acc);
                return;
              }
              Emitter ie{ib, il};
              SmallVector<Value> av, bv, sums;
              for (int64_t i = 0; i < TM; ++i)
                av.push_back(memref::LoadOp::create(
                    ib, il, as,
                    ValueRange{slice, kk, ie.add(ty, ie.idx(i * kThreadsXY))}));
              for (int64_t j = 0; j < TN; ++j)
                bv.push_back(memref::LoadOp::create(
                    ib, il, bs,
                    ValueRange{slice, kk, ie.add(tx, ie.idx(j * kThreadsXY))}));
              for (int64_t i = 0; i < TM; ++i)
                for (int64_t j = 0; j < TN; ++j)
                  sums.push_back(math::FmaOp::create(ib, il, av[i], bv[j],
                                                     acc[i * TN + j]));
              scf::YieldOp::create(ib, il, sums);
            });
        gpu::BarrierOp::create(ob, l);
        SmallVector<Value> yielded(inner.getResults());
        yielded.append(next);
        scf::YieldOp::create(ob, l, yielded);
      });
  SmallVector<Value> sums(outer.getResults().take_front(nacc));

  // Slices: each stores its sums, slice 0 adds them up in slice order.
  Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, slice,
                                      e.idx(0));
  if (S > 1) {
    Value red = launch.getWorkgroupAttributions()[2];
    auto at = [&](Emitter &x, int64_t i) {
      auto [row, col] = position(x, i);
      return x.add(x.mul(row, x.idx(BN)), col);
    };
    for (size_t i = 0; i < nacc; ++i)
      memref::StoreOp::create(b, loc, sums[i], red,
                              ValueRange{slice, at(e, i)});
    gpu::BarrierOp::create(b, loc);
    auto total = scf::IfOp::create(
        b, loc, first,
        [&](OpBuilder &tb, Location l) {
          Emitter te{tb, l};
          SmallVector<Value> t;
          for (size_t i = 0; i < nacc; ++i) {
            Value v = memref::LoadOp::create(tb, l, red,
                                             ValueRange{te.idx(0), at(te, i)});
            for (int64_t s2 = 1; s2 < S; ++s2)
              v = arith::AddFOp::create(
                  tb, l, v,
                  memref::LoadOp::create(tb, l, red,
                                         ValueRange{te.idx(s2), at(te, i)}));
            t.push_back(v);
          }
          scf::YieldOp::create(tb, l, t);
        },
        [&](OpBuilder &eb, Location l) { scf::YieldOp::create(eb, l, init); });
    sums.assign(total.getResults().begin(), total.getResults().end());
  }

  // C += the sums, inside the bounds, by slice 0.
  for (size_t i = 0; i < nacc; ++i) {
    auto [row, col] = position(e, i);
    Value mAt = e.add(row0, row), nAt = e.add(col0, col);
    Value inside = e.both(first, e.both(e.lt(mAt, M), e.lt(nAt, N)));
    Value acc = sums[i];
    scf::IfOp::create(b, loc, inside, [&](OpBuilder &tb, Location l) {
      Emitter te{tb, l};
      SmallVector<Value> at(ivs);
      te.delinearize(mAt, p.trips, p.m, at);
      te.delinearize(nAt, p.trips, p.n, at);
      SmallVector<Value> idx = te.indices(maps[2], at);
      Value old = memref::LoadOp::create(tb, l, C, idx);
      Value sum = arith::AddFOp::create(tb, l, old, acc);
      memref::StoreOp::create(tb, l, sum, C, idx);
      scf::YieldOp::create(tb, l);
    });
  }
  g.erase();
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

/// The neutral element of the combine.
Value identity(OpBuilder &b, Location loc, Operation *combine, Type t) {
  auto ft = cast<FloatType>(t);
  if (isa<arith::AddFOp>(combine))
    return arith::ConstantOp::create(b, loc, b.getZeroAttr(t));
  bool max = isa<arith::MaximumFOp, arith::MaxNumFOp>(combine);
  APFloat inf = APFloat::getInf(ft.getFloatSemantics(), /*Negative=*/max);
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(t, inf));
}

Value combineWith(OpBuilder &b, Location loc, Operation *combine, Value x,
                  Value y) {
  OperationState state(loc, combine->getName(), ValueRange{x, y},
                       TypeRange{x.getType()}, combine->getAttrs());
  return b.create(state)->getResult(0);
}

/// The generic's body at loop indices `ivs`: the value it combines into
/// its output.
Value emitBodyValue(OpBuilder &b, Location loc, linalg::GenericOp g,
                    const Reduction &r, ArrayRef<Value> ivs) {
  Emitter e{b, loc};
  IRMapping map;
  Block &body = g.getRegion().front();
  SmallVector<AffineMap> maps = g.getIndexingMapsArray();
  for (OpOperand *in : g.getDpsInputOperands()) {
    BlockArgument arg = body.getArgument(in->getOperandNumber());
    if (arg.use_empty())
      continue;
    Value v = memref::LoadOp::create(
        b, loc, in->get(), e.indices(maps[in->getOperandNumber()], ivs));
    map.map(arg, v);
  }
  for (Operation &op : body.without_terminator()) {
    if (&op == r.combine)
      continue;
    if (auto index = dyn_cast<linalg::IndexOp>(op)) {
      map.map(index.getResult(), ivs[index.getDim()]);
      continue;
    }
    b.clone(op, map);
  }
  return map.lookupOrDefault(r.value);
}

/// Combines `v` across the 32 lanes of each warp (xor butterfly): every
/// lane ends with the warp's result.
Value warpCombine(OpBuilder &b, Location loc, Operation *combine, Value v) {
  for (int32_t offset = kWarp / 2; offset > 0; offset /= 2) {
    auto shuffle = gpu::ShuffleOp::create(b, loc, v, offset, kWarp,
                                          gpu::ShuffleMode::XOR);
    v = combineWith(b, loc, combine, v, shuffle.getShuffleResult());
  }
  return v;
}

/// The reduction loop of one thread: lanes `lane`, `lane + stride`, ... of
/// the reduced elements folded into the identity.
Value emitStridedFold(OpBuilder &b, Location loc, linalg::GenericOp g,
                      const Reduction &r, SmallVector<Value> ivs, Value lane,
                      int64_t stride) {
  Emitter e{b, loc};
  int64_t total = extent(r.trips, r.reduced);
  Type t = r.value.getType();
  Value init = identity(b, loc, r.combine, t);
  auto loop = scf::ForOp::create(
      b, loc, lane, e.idx(total), e.idx(stride), ValueRange{init},
      [&](OpBuilder &lb, Location l, Value lin, ValueRange acc) {
        Emitter le{lb, l};
        le.delinearize(lin, r.trips, r.reduced, ivs);
        Value v = emitBodyValue(lb, l, g, r, ivs);
        scf::YieldOp::create(lb, l, combineWith(lb, l, r.combine, acc[0], v));
      });
  return loop.getResult(0);
}

/// out[ivs] = out[ivs] combine v.
void emitUpdate(OpBuilder &b, Location loc, linalg::GenericOp g,
                const Reduction &r, ArrayRef<Value> ivs, Value v) {
  Emitter e{b, loc};
  Value out = g.getDpsInits()[0];
  SmallVector<Value> idx = e.indices(g.getIndexingMapsArray().back(), ivs);
  Value old = memref::LoadOp::create(b, loc, out, idx);
  memref::StoreOp::create(b, loc, combineWith(b, loc, r.combine, old, v), out,
                          idx);
}

/// Lane 0: out[ivs] = out[ivs] combine v.
void emitUpdateFromLane0(OpBuilder &b, Location loc, linalg::GenericOp g,
                         const Reduction &r, ArrayRef<Value> ivs, Value lane,
                         Value v) {
  Emitter e{b, loc};
  Value first =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, e.idx(0));
  scf::IfOp::create(b, loc, first, [&](OpBuilder &fb, Location fl) {
    emitUpdate(fb, fl, g, r, ivs, v);
    scf::YieldOp::create(fb, fl);
  });
}

/// Long rows read along a contiguous dim: a warp per output.
void emitRowReduction(linalg::GenericOp g, const Reduction &r) {
  int64_t outputs = extent(r.trips, r.parallel);
  OpBuilder b(g);
  Location loc = g.getLoc();
  gpu::LaunchOp launch = createLaunch(
      b, loc, {llvm::divideCeilSigned(outputs, kRowsPerBlock), 1, 1},
      {kWarp, kRowsPerBlock, 1}, {});
  Emitter e{b, loc};
  Value lane = launch.getThreadIds().x;
  Value o = e.add(e.mul(launch.getBlockIds().x, e.idx(kRowsPerBlock)),
                  launch.getThreadIds().y);
  // The guard is uniform across a warp, as the shuffles need.
  scf::IfOp::create(b, loc, e.lt(o, outputs), [&](OpBuilder &tb, Location l) {
    Emitter te{tb, l};
    SmallVector<Value> ivs(r.trips.size());
    te.delinearize(o, r.trips, r.parallel, ivs);
    Value v = emitStridedFold(tb, l, g, r, ivs, lane, kWarp);
    emitUpdateFromLane0(tb, l, g, r, ivs, lane,
                        warpCombine(tb, l, r.combine, v));
    scf::YieldOp::create(tb, l);
  });
  g.erase();
}

/// Long columns (consecutive outputs read consecutive elements, e.g. a
/// bias gradient summed over the batch): a block of 32 outputs x 32 slices;
/// each thread folds every 32nd element of its output's column, the slices
/// meet in shared memory, and one thread per output combines them in order.
void emitColumnReduction(linalg::GenericOp g, const Reduction &r) {
  int64_t outputs = extent(r.trips, r.parallel);
  OpBuilder b(g);
  Location loc = g.getLoc();
  Type t = r.value.getType();
  gpu::LaunchOp launch =
      createLaunch(b, loc, {llvm::divideCeilSigned(outputs, kWarp), 1, 1},
                   {kWarp, kWarp, 1}, {sharedMemRef({kWarp, kWarp + 1}, t)});
  Emitter e{b, loc};
  Value tx = launch.getThreadIds().x, ty = launch.getThreadIds().y;
  Value partials = launch.getWorkgroupAttributions()[0];
  Value o = e.add(e.mul(launch.getBlockIds().x, e.idx(kWarp)), tx);
  Value inside = e.lt(o, outputs);
  SmallVector<Value> ivs(r.trips.size());
  auto fold = scf::IfOp::create(
      b, loc, inside,
      [&](OpBuilder &tb, Location l) {
        Emitter te{tb, l};
        SmallVector<Value> at(ivs.size());
        te.delinearize(o, r.trips, r.parallel, at);
        scf::YieldOp::create(tb, l,
                             emitStridedFold(tb, l, g, r, at, ty, kWarp));
      },
      [&](OpBuilder &eb, Location l) {
        scf::YieldOp::create(eb, l, identity(eb, l, r.combine, t));
      });
  memref::StoreOp::create(b, loc, fold.getResult(0), partials,
                          ValueRange{ty, tx});
  gpu::BarrierOp::create(b, loc);
  Value first =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, ty, e.idx(0));
  scf::IfOp::create(b, loc, e.both(first, inside),
                    [&](OpBuilder &tb, Location l) {
    Emitter te{tb, l};
    te.delinearize(o, r.trips, r.parallel, ivs);
    auto total = scf::ForOp::create(
        tb, l, te.idx(0), te.idx(kWarp), te.idx(1),
        ValueRange{identity(tb, l, r.combine, t)},
        [&](OpBuilder &lb, Location ll, Value slice, ValueRange acc) {
          Value p = memref::LoadOp::create(lb, ll, partials,
                                           ValueRange{slice, tx});
          scf::YieldOp::create(lb, ll,
                               combineWith(lb, ll, r.combine, acc[0], p));
        });
    emitUpdate(tb, l, g, r, ivs, total.getResult(0));
    scf::YieldOp::create(tb, l);
  });
  g.erase();
}

/// Everything to one value: one block of kFullThreads; warps combine with
/// shuffles, warp results meet in shared memory, warp 0 combines those.
void emitFullReduction(linalg::GenericOp g, const Reduction &r) {
  OpBuilder b(g);
  Location loc = g.getLoc();
  Type t = r.value.getType();
  constexpr int64_t warps = kFullThreads / kWarp;
  gpu::LaunchOp launch = createLaunch(b, loc, {1, 1, 1}, {kFullThreads, 1, 1},
                                      {sharedMemRef({warps}, t)});
  Emitter e{b, loc};
  Value tid = launch.getThreadIds().x;
  Value partials = launch.getWorkgroupAttributions()[0];
  SmallVector<Value> ivs(r.trips.size());
  Value v = emitStridedFold(b, loc, g, r, ivs, tid, kFullThreads);
  v = warpCombine(b, loc, r.combine, v);
  Value lane = e.rem(tid, kWarp), warp = e.div(tid, kWarp);
  auto isZero = [&](Value x) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x,
                                 e.idx(0));
  };
  scf::IfOp::create(b, loc, isZero(lane), [&](OpBuilder &tb, Location l) {
    memref::StoreOp::create(tb, l, v, partials, ValueRange{warp});
    scf::YieldOp::create(tb, l);
  });
  gpu::BarrierOp::create(b, loc);
  scf::IfOp::create(b, loc, isZero(warp), [&](OpBuilder &tb, Location l) {
    Value p = memref::LoadOp::create(tb, l, partials, ValueRange{lane});
    emitUpdateFromLane0(tb, l, g, r, ivs, lane,
                        warpCombine(tb, l, r.combine, p));
    scf::YieldOp::create(tb, l);
  });
  g.erase();
}

struct GPUSchedulePass : graft::impl::GPUScheduleBase<GPUSchedulePass> {
  using GPUScheduleBase::GPUScheduleBase;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<std::pair<linalg::GenericOp, GPUConfigAttr>> ops;
    for (Operation &op : func.getBody().getOps())
      if (auto config = op.getAttrOfType<GPUConfigAttr>(kGPUConfigAttrName))
        if (auto g = dyn_cast<linalg::GenericOp>(op))
          ops.push_back({g, config});
    for (auto [g, config] : ops)
      if (failed(build(g, fromConfig(config))))
        return signalPassFailure();
  }

  /// Replaces `g` by the kernel `plan` says.
  LogicalResult build(linalg::GenericOp g, const KernelPlan &plan) {
    if (isProductKernel(plan.kernel)) {
      std::optional<Product> p = matchProduct(g);
      if (!p)
        return g.emitOpError("has a product kernel's #graft.gpu_config but "
                             "is not a product (C += A * B on buffers, "
                             "static shapes)");
      if (!fitsGrid(p->shape(), plan.tile))
        return g.emitOpError("needs more than ")
               << kMaxGridYZ << " row tiles or batch entries, CUDA's "
               << "limit on gridDim.y and gridDim.z";
      emitProduct(g, *p, plan);
      ++NumProductKernels;
      if (plan.kernel == GPUKernel::tensor_core_product)
        ++NumTensorCoreKernels;
      return success();
    }
    std::optional<Reduction> r = matchReduction(g);
    if (!r)
      return g.emitOpError("has a reduction kernel's #graft.gpu_config but "
                           "is not a reduction `out combine f(ins)` on "
                           "buffers with static shapes");
    if ((plan.kernel == GPUKernel::full_reduction) != r->parallel.empty())
      return g.emitOpError(plan.kernel == GPUKernel::full_reduction
                               ? "has a full reduction's #graft.gpu_config "
                                 "but keeps parallel dims"
                               : "reduces to one value: only a "
                                 "full_reduction kernel takes it");
    switch (plan.kernel) {
    case GPUKernel::row_reduction:
      emitRowReduction(g, *r);
      ++NumRowReductions;
      break;
    case GPUKernel::column_reduction:
      emitColumnReduction(g, *r);
      ++NumColumnReductions;
      break;
    default:
      emitFullReduction(g, *r);
      ++NumFullReductions;
      break;
    }
    return success();
  }
};

} // namespace
