//===- Inspect.cpp - The autograd table and graph of a model --------------===//
//
// Everything here is read off a clone of the model: the requires-grad
// analysis and the active set before backward, then the ops that
// graft-derive-backward appends. Nothing is decided twice: what has a
// gradient is what the backward derivation gives one, and the reasons for
// the others are found by following the uses of the leaf to the cut
// (detach, a grad-mode region, a non-differentiable op) that stops it.
//
//===----------------------------------------------------------------------===//

#include "graft/Autograd/Inspect.h"
#include "graft/Autograd/Passes.h"
#include "graft/Autograd/RequiresGrad.h"
#include "graft/Dialect/Graft/IR/GraftOps.h"
#include "graft/Dialect/Graft/IR/ShapeFunctions.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"

#include <array>
#include <functional>
#include <optional>

using namespace mlir;
using namespace graft;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// `file:line:col` of the first file location in `loc`, or "unknown".
static std::string locStr(Location loc) {
  if (auto f = dyn_cast<FileLineColLoc>(loc))
    return (f.getFilename().getValue() + ":" + Twine(f.getLine()) + ":" +
            Twine(f.getColumn()))
        .str();
  if (auto n = dyn_cast<NameLoc>(loc))
    return locStr(n.getChildLoc());
  if (auto c = dyn_cast<CallSiteLoc>(loc))
    return locStr(c.getCallee());
  if (auto f = dyn_cast<FusedLoc>(loc))
    for (Location l : f.getLocations())
      if (std::string s = locStr(l); s != "unknown")
        return s;
  return "unknown";
}

/// The name a front-end gave to `loc` (a NameLoc), or "".
static StringRef locName(Location loc) {
  if (auto n = dyn_cast<NameLoc>(loc))
    return n.getName().getValue();
  return "";
}

static RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// `f32[4, 3]`, as `graft check` prints types.
static std::string typeStr(Value v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  RankedTensorType t = tensorType(v);
  os << t.getElementType() << shape::str(t.getShape());
  return s;
}

/// Bytes of a tensor value in memory (an i1 takes a byte).
static int64_t byteSize(Value v) {
  RankedTensorType t = tensorType(v);
  int64_t bits = t.getElementType().getIntOrFloatBitWidth();
  return t.getNumElements() * ((bits + 7) / 8);
}

/// The innermost grad-mode region `op` is in, or null.
static Operation *gradFreeRegionOf(Operation *op) {
  for (Operation *p = op->getParentOp(); p && !isa<ModelOp>(p);
       p = p->getParentOp())
    if (isa<NoGradOp, InferenceOp>(p))
      return p;
  return nullptr;
}

static StringRef modeName(Operation *region) {
  return isa<InferenceOp>(region) ? "inference" : "no_grad";
}

/// Declarations and constants (and their detached aliases): they live for
/// the whole step anyway, so backward reading them costs no activation
/// memory.
static bool livesAnyway(Value v) {
  Operation *def = v.getDefiningOp();
  // detach shares its input's storage.
  while (auto d = dyn_cast_or_null<DetachOp>(def))
    def = d.getInput().getDefiningOp();
  return !def || isa<InputOp, ParamOp, BufferOp, ConstantOp>(def);
}

//===----------------------------------------------------------------------===//
// Inspection: the facts, computed once per model
//===----------------------------------------------------------------------===//

namespace {
/// Where autograd stops following a value to the loss.
struct Cut {
  enum Kind { Detach, GradFree, NonDifferentiable } kind;
  Operation *op;
};

struct ValueNames {
  std::string name;
  SmallVector<std::string, 2> kinds;
};

class Inspection {
public:
  explicit Inspection(ModelOp original);

  ModelOp model; // the clone, with backward appended when it could be
  std::optional<RequiresGradAnalysis> ag;
  llvm::DenseSet<Value> active;
  /// Values the loss depends on numerically (through any op or region).
  llvm::DenseSet<Value> reach;
  /// Every op before backward, with its position in program order.
  llvm::DenseMap<Operation *, unsigned> forwardOps;
  SmallVector<Operation *> backwardOps; // top-level ops appended
  llvm::DenseSet<Operation *> differentiated, pruned;
  llvm::SetVector<Value> saved;
  llvm::MapVector<Value, ValueNames> names;
  /// The values graft.gradient marks give a .grad.
  llvm::DenseSet<Value> gradValues;
  AutogradSummary summary;

  bool isRetained(Value v) const;
  /// Whether the derived backward marks `v` with graft.gradient.
  bool hasGrad(Value v) const { return gradValues.contains(v); }
  /// Why `v`, which could have a gradient (a parameter, a requires_grad
  /// input or a retained value), has none; "" when it has one.
  std::string whyNoGrad(Value v) const;
  /// The name shown for `v`: its own, or `%7 (file:line:col)`.
  std::string displayName(Value v);
  std::string kindStr(Value v) const;

private:
  OwningOpRef<ModuleOp> scratch;
  std::optional<AsmState> asmState;

  void computeReach();
  void collectNames();
  void classifyRecorded();
  void deriveBackward();
  void summarizeParams();
  SmallVector<Cut> findCuts(Value leaf) const;
};
} // namespace

Inspection::Inspection(ModelOp original) {
  scratch = ModuleOp::create(original.getLoc());
  OpBuilder b = OpBuilder::atBlockEnd(scratch->getBody());
  model = cast<ModelOp>(b.clone(*original.getOperation()));
  model.getBody().walk<WalkOrder::PreOrder>(
      [&](Operation *op) { forwardOps.try_emplace(op, forwardOps.size()); });
  ag.emplace(model);
  active = computeActiveValues(model, *ag);
  computeReach();
  collectNames();
  classifyRecorded();
  summarizeParams();
  deriveBackward();
  for (Operation &op : model.getBody().front())
    if (!forwardOps.contains(&op))
      backwardOps.push_back(&op);
  // graft.gradient names a parameter, an input or a retained value.
  llvm::StringMap<SmallVector<Value, 1>> byName;
  for (Operation &op : model.getBody().front()) {
    if (auto p = dyn_cast<ParamOp>(op))
      byName[p.getName()].push_back(p);
    else if (auto in = dyn_cast<InputOp>(op))
      byName[in.getName()].push_back(in);
    else if (auto r = dyn_cast<RetainGradOp>(op))
      byName[r.getName()].push_back(r.getValue());
  }
  for (Operation *op : backwardOps)
    if (auto g = dyn_cast<GradientOp>(op))
      for (Value v : byName.lookup(g.getName()))
        gradValues.insert(v);
  for (Operation &op : model.getBody().front()) {
    Value leaf;
    if (auto p = dyn_cast<ParamOp>(op); p && !p.getFrozen())
      leaf = p;
    else if (auto in = dyn_cast<InputOp>(op); in && in.getRequiresGrad())
      leaf = in;
    if (leaf && !hasGrad(leaf))
      ++summary.leavesWithoutGrad;
  }
}

void Inspection::computeReach() {
  Value loss = model.getLoss();
  if (!loss)
    return;
  reach.insert(loss);
  std::function<void(Block &)> visit = [&](Block &block) {
    for (Operation &op : llvm::reverse(block)) {
      if (auto y = dyn_cast<YieldOp>(op)) {
        for (auto [i, v] : llvm::enumerate(y.getValues()))
          if (reach.contains(op.getParentOp()->getResult(i)))
            reach.insert(v);
        continue;
      }
      if (llvm::none_of(op.getResults(),
                        [&](Value r) { return reach.contains(r); }))
        continue;
      for (Region &region : op.getRegions())
        for (Block &inner : region)
          visit(inner);
      for (Value v : op.getOperands())
        reach.insert(v);
    }
  };
  visit(model.getBody().front());
}

void Inspection::collectNames() {
  auto add = [&](Value v, StringRef name, StringRef kind) {
    ValueNames &n = names[v];
    if (n.name.empty())
      n.name = name.str();
    n.kinds.push_back(kind.str());
  };
  // Declarations and marks first, in program order; then front-end names.
  model.getBody().walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (auto in = dyn_cast<InputOp>(op))
      add(in, in.getName(), "input");
    else if (auto p = dyn_cast<ParamOp>(op))
      add(p, p.getName(), "param");
    else if (auto buf = dyn_cast<BufferOp>(op))
      add(buf, buf.getName(), "buffer");
    else if (auto out = dyn_cast<OutputOp>(op))
      add(out.getValue(), out.getName(), "output");
    else if (auto r = dyn_cast<RetainGradOp>(op))
      add(r.getValue(), r.getName(), "retained");
    else if (auto h = dyn_cast<GradHookOp>(op))
      add(h.getInput(), h.getName(), "hook");
    else if (auto l = dyn_cast<LossOp>(op))
      add(l.getValue(), "", "loss");
  });
  model.getBody().walk<WalkOrder::PreOrder>([&](Operation *op) {
    StringRef name = locName(op->getLoc());
    if (name.empty() || op->getNumResults() != 1)
      return;
    ValueNames &n = names[op->getResult(0)];
    if (n.name.empty())
      n.name = name.str();
  });
}

bool Inspection::isRetained(Value v) const {
  auto it = names.find(v);
  return it != names.end() && llvm::is_contained(it->second.kinds, "retained");
}

void Inspection::classifyRecorded() {
  for (Operation &op : model.getBody().front()) {
    if (!ag->isRecorded(&op))
      continue;
    ++summary.recordedOps;
    if (llvm::none_of(op.getResults(),
                      [&](Value r) { return active.contains(r); })) {
      pruned.insert(&op);
      continue;
    }
    differentiated.insert(&op);
    SmallVector<bool> needed;
    for (Value v : op.getOperands())
      needed.push_back(active.contains(v));
    for (Value v : cast<AutogradOpInterface>(op).getSavedForBackward(needed))
      if (!livesAnyway(v))
        saved.insert(v);
  }
  summary.differentiatedOps = differentiated.size();
  summary.prunedOps = pruned.size();
  summary.savedTensors = saved.size();
  for (Value v : saved)
    summary.savedBytes += byteSize(v);
}

void Inspection::summarizeParams() {
  for (auto p : model.getBody().front().getOps<ParamOp>()) {
    int64_t n = p.getType().getNumElements();
    summary.totalParams += n;
    ++summary.totalParamTensors;
    if (p.getFrozen()) {
      summary.frozenParams += n;
      ++summary.frozenParamTensors;
    } else {
      summary.trainableParams += n;
      ++summary.trainableParamTensors;
    }
  }
}

void Inspection::deriveBackward() {
  if (!model.getLoss()) {
    summary.noBackwardReason = "the model has no graft.loss";
    return;
  }
  MLIRContext *ctx = model.getContext();
  std::string firstError;
  ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error && firstError.empty())
      firstError = d.str();
    return success();
  });
  PassManager pm(ctx, ModuleOp::getOperationName());
  pm.nest<ModelOp>().addPass(createDeriveBackward());
  if (succeeded(pm.run(*scratch))) {
    summary.hasBackward = true;
    return;
  }
  summary.noBackwardReason =
      firstError.empty() ? "graft-derive-backward failed" : firstError;
}

SmallVector<Cut> Inspection::findCuts(Value leaf) const {
  SmallVector<Cut> cuts;
  llvm::DenseSet<Operation *> seenCut;
  llvm::DenseSet<Value> seen{leaf};
  SmallVector<Value> work{leaf};
  auto addCut = [&](Cut::Kind k, Operation *op) {
    if (seenCut.insert(op).second)
      cuts.push_back({k, op});
  };
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (!forwardOps.contains(user))
        continue;
      // Only uses on the way to the loss explain anything.
      bool toLoss =
          isa<LossOp>(user) ||
          llvm::any_of(user->getResults(),
                       [&](Value r) { return reach.contains(r); }) ||
          (isa<YieldOp>(user) && reach.contains(user->getParentOp()->getResult(
                                     use.getOperandNumber())));
      if (!toLoss || isa<LossOp>(user))
        continue;
      if (gradFreeRegionOf(user)) {
        addCut(Cut::GradFree, user);
        continue;
      }
      if (isa<DetachOp>(user)) {
        addCut(Cut::Detach, user);
        continue;
      }
      bool follows = false;
      for (Value r : user->getResults())
        if (reach.contains(r) && ag->requiresGrad(r)) {
          follows = true;
          if (seen.insert(r).second)
            work.push_back(r);
        }
      if (!follows)
        addCut(Cut::NonDifferentiable, user);
    }
  }
  return cuts;
}

std::string Inspection::whyNoGrad(Value v) const {
  if (auto p = v.getDefiningOp<ParamOp>(); p && p.getFrozen())
    return "frozen";
  if (!ag->requiresGrad(v))
    return "requires_grad=False";
  if (hasGrad(v))
    return "";
  if (!ModelOp(model).getLoss())
    return "no path to the loss (the model has no graft.loss)";
  if (active.contains(v))
    return summary.hasBackward
               ? "on the loss's path, but the derived backward has no "
                 "graft.gradient for it"
               : "backward not derived: " + summary.noBackwardReason;
  SmallVector<Cut> cuts = findCuts(v);
  // In program order, whatever the order of the use lists.
  llvm::sort(cuts, [&](const Cut &a, const Cut &b) {
    return forwardOps.lookup(a.op) < forwardOps.lookup(b.op);
  });
  if (cuts.empty())
    return "no path to the loss";
  std::string s = "only ";
  for (auto [i, c] : llvm::enumerate(cuts)) {
    if (i)
      s += " and ";
    std::string at = locStr(c.op->getLoc());
    switch (c.kind) {
    case Cut::Detach:
      s += "reached through detach at " + at;
      break;
    case Cut::GradFree:
      s += ("used under " + modeName(gradFreeRegionOf(c.op)) + " at " + at)
               .str();
      break;
    case Cut::NonDifferentiable:
      s += ("reached through non-differentiable " +
            c.op->getName().getStringRef() + " at " + at)
               .str();
      break;
    }
  }
  return s;
}

std::string Inspection::displayName(Value v) {
  auto it = names.find(v);
  if (it != names.end() && !it->second.name.empty())
    return it->second.name;
  if (!asmState)
    asmState.emplace(model);
  std::string s;
  llvm::raw_string_ostream os(s);
  v.printAsOperand(os, *asmState);
  Operation *def = v.getDefiningOp();
  os << " (" << (def ? locStr(def->getLoc()) : "unknown") << ")";
  return s;
}

std::string Inspection::kindStr(Value v) const {
  auto it = names.find(v);
  if (it == names.end() || it->second.kinds.empty())
    return "value";
  return llvm::join(it->second.kinds, ",");
}

//===----------------------------------------------------------------------===//
// Summary and table
//===----------------------------------------------------------------------===//

AutogradSummary graft::summarizeAutograd(ModelOp model) {
  return Inspection(model).summary;
}

/// The summary as lines of text.
static SmallVector<std::string> summaryLines(const AutogradSummary &s) {
  SmallVector<std::string> lines;
  auto fmt = [](const Twine &t) { return t.str(); };
  lines.push_back(fmt(
      "parameters: " + Twine(s.totalParams) + " total (" +
      Twine(s.totalParamTensors) + " tensors), " + Twine(s.trainableParams) +
      " trainable (" + Twine(s.trainableParamTensors) + "), " +
      Twine(s.frozenParams) + " frozen (" + Twine(s.frozenParamTensors) + ")"));
  lines.push_back(fmt("saved for backward: " + Twine(s.savedBytes) +
                      " bytes in " + Twine(s.savedTensors) +
                      " tensors (activations only)"));
  lines.push_back(fmt("recorded ops: " + Twine(s.recordedOps) + ", " +
                      Twine(s.differentiatedOps) + " differentiated, " +
                      Twine(s.prunedOps) + " pruned"));
  if (s.leavesWithoutGrad)
    lines.push_back(fmt("leaves that require grad but get no gradient: " +
                        Twine(s.leavesWithoutGrad)));
  if (!s.hasBackward)
    lines.push_back("backward: none: " + s.noBackwardReason);
  return lines;
}

void graft::printAutogradTable(ModelOp model, llvm::raw_ostream &os,
                               const InspectOptions &options) {
  Inspection in(model);
  using Row = std::array<std::string, 8>;
  std::vector<Row> rows{{"name", "kind", "type", "requires_grad", "is_leaf",
                         "grad_fn", "grad", "why no grad"}};
  in.model.getBody().walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (!in.forwardOps.contains(op))
      return;
    for (Value v : op->getResults()) {
      if (!options.allValues && !in.names.count(v))
        continue;
      AutogradInfo ai = in.ag->lookup(v);
      // What could have a .grad: parameters, inputs marked requires_grad
      // and retained values.
      auto input = dyn_cast<InputOp>(op);
      bool candidate = isa<ParamOp>(op) || (input && input.getRequiresGrad()) ||
                       in.isRetained(v);
      rows.push_back(
          {in.displayName(v), in.kindStr(v), typeStr(v),
           ai.requiresGrad ? "True" : "False", ai.isLeaf ? "True" : "False",
           ai.gradFn.empty() ? "None" : ai.gradFn.str(),
           in.hasGrad(v) ? "yes" : "no", candidate ? in.whyNoGrad(v) : ""});
    }
  });
  std::array<size_t, 8> width{};
  for (const Row &r : rows)
    for (size_t i = 0; i < r.size(); ++i)
      width[i] = std::max(width[i], r[i].size());
  os << "model @" << model.getSymName() << "\n";
  for (const Row &r : rows) {
    std::string line = " ";
    for (size_t i = 0; i < r.size(); ++i) {
      line += " " + r[i];
      if (i + 1 < r.size())
        line += std::string(width[i] - r[i].size() + 1, ' ');
    }
    os << StringRef(line).rtrim() << "\n";
  }
  for (const std::string &l : summaryLines(in.summary))
    os << "  " << l << "\n";
}

//===----------------------------------------------------------------------===//
// Graphviz
//===----------------------------------------------------------------------===//

namespace {
class DotWriter {
public:
  DotWriter(Inspection &in, llvm::raw_ostream &os) : in(in), os(os) {}
  void write();

private:
  Inspection &in;
  llvm::raw_ostream &os;
  llvm::DenseMap<Operation *, std::string> ids;
  llvm::StringMap<std::string> leafByName;
  int next = 0;

  static std::string esc(StringRef s);
  std::string id(Operation *op) {
    std::string &s = ids[op];
    if (s.empty())
      s = "n" + std::to_string(next++);
    return s;
  }
  /// The node an edge carrying `v` starts at (through grad-mode regions to
  /// the op whose value they yield); null when none is drawn.
  Operation *source(Value v);
  void forwardNode(Operation *op, StringRef indent);
  void forwardBlock(Block &block, StringRef indent);
  void backwardNode(Operation *op);
  void edges();
  std::string opLabel(Operation *op);
};
} // namespace

std::string DotWriter::esc(StringRef s) {
  std::string r;
  for (char c : s) {
    if (c == '"' || c == '\\')
      r += '\\';
    r += c;
  }
  return r;
}

Operation *DotWriter::source(Value v) {
  Operation *def = v.getDefiningOp();
  if (!def)
    return nullptr;
  if (isa<NoGradOp, InferenceOp>(def)) {
    Block &body = def->getRegion(0).front();
    auto y = cast<YieldOp>(body.getTerminator());
    return source(y.getValues()[cast<OpResult>(v).getResultNumber()]);
  }
  return def;
}

/// A constant's value when it is one number.
static std::string constantStr(ConstantOp c) {
  auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
  if (!dense || !dense.isSplat())
    return "";
  std::string s;
  llvm::raw_string_ostream os(s);
  if (auto f = dyn_cast<FloatAttr>(dense.getSplatValue<Attribute>()))
    os << llvm::format("%g", f.getValueAsDouble());
  else if (auto i = dyn_cast<IntegerAttr>(dense.getSplatValue<Attribute>()))
    os << i.getValue().getSExtValue();
  return s;
}

std::string DotWriter::opLabel(Operation *op) {
  std::string label;
  if (op->getNumResults() == 1) {
    auto it = in.names.find(op->getResult(0));
    if (it != in.names.end() && !it->second.name.empty())
      label = esc(it->second.name) + "\\n";
  }
  label += op->getName().getStringRef().str();
  if (auto c = dyn_cast<ConstantOp>(op))
    if (std::string v = constantStr(c); !v.empty())
      label += " " + v;
  return label;
}

void DotWriter::forwardNode(Operation *op, StringRef indent) {
  std::string label, attrs;
  auto setStyle = [&](StringRef s) { attrs += (", " + s).str(); };
  if (auto p = dyn_cast<ParamOp>(op)) {
    label = "param " + esc(p.getName()) + "\\n" + typeStr(p);
    leafByName[p.getName()] = id(op);
    if (p.getFrozen()) {
      label += "\\nfrozen";
      setStyle("fillcolor=grey80, fontcolor=grey30");
    } else {
      setStyle("fillcolor=lightblue");
    }
  } else if (auto x = dyn_cast<InputOp>(op)) {
    label = "input " + esc(x.getName()) + "\\n" + typeStr(x);
    if (x.getRequiresGrad()) {
      leafByName[x.getName()] = id(op);
      label += "\\nrequires_grad";
      setStyle("fillcolor=palegreen");
    }
  } else if (auto b = dyn_cast<BufferOp>(op)) {
    label = "buffer " + esc(b.getName()) + "\\n" + typeStr(b);
    setStyle("fillcolor=lightyellow");
  } else if (auto l = dyn_cast<LossOp>(op)) {
    label = "loss\\n" + typeStr(l.getValue());
    setStyle("shape=doubleoctagon, fillcolor=salmon, penwidth=3");
  } else if (auto o = dyn_cast<OutputOp>(op)) {
    label = "output " + esc(o.getName());
    setStyle("shape=note, fillcolor=darkolivegreen1");
  } else if (auto r = dyn_cast<RetainGradOp>(op)) {
    label = "retain_grad " + esc(r.getName());
    leafByName[r.getName()] = id(op);
    setStyle("shape=note, fillcolor=gold");
  } else if (auto h = dyn_cast<GradHookOp>(op)) {
    label = "graft.grad_hook " + esc(h.getName()) + "\\nhook point";
    setStyle("fillcolor=plum");
  } else if (isa<DetachOp>(op)) {
    label = opLabel(op) + "\\ncut";
    setStyle("style=\"rounded,filled,dashed\", color=red");
  } else {
    label = opLabel(op);
    if (op->getNumResults() > 0 && in.ag->isRecorded(op)) {
      label += "\\n" + cast<AutogradOpInterface>(op).getGradFnName().str();
      if (in.pruned.contains(op)) {
        label += "\\npruned";
        setStyle("style=\"rounded,filled,dashed\", fillcolor=grey95, "
                 "fontcolor=grey55, color=grey70");
      } else {
        setStyle("fillcolor=lightgrey");
      }
    }
  }
  if (op->getNumResults() == 1 && op->getResult(0) == in.model.getLoss())
    setStyle("color=red, penwidth=3");
  os << indent << id(op) << " [label=\"" << label << "\"" << attrs << "];\n";
}

void DotWriter::forwardBlock(Block &block, StringRef indent) {
  for (Operation &op : block) {
    if (isa<YieldOp>(op) || !in.forwardOps.contains(&op))
      continue;
    if (isa<NoGradOp, InferenceOp>(op)) {
      StringRef mode = modeName(&op);
      os << indent << "subgraph cluster_" << id(&op) << " {\n"
         << indent << "  label=\"" << mode << " (" << esc(locStr(op.getLoc()))
         << "): not recorded\";\n"
         << indent << "  style=dashed; color=red;\n";
      forwardBlock(op.getRegion(0).front(), (indent + "  ").str());
      os << indent << "}\n";
      continue;
    }
    forwardNode(&op, indent);
  }
}

void DotWriter::backwardNode(Operation *op) {
  std::string label = op->getName().getStringRef().str(), attrs;
  if (auto g = dyn_cast<GradientOp>(op)) {
    label = "grad " + esc(g.getName()) + "\\n" + typeStr(g.getValue());
    attrs = ", shape=note, fillcolor=lightblue";
  } else if (auto h = dyn_cast<HookCallOp>(op)) {
    label = "graft.hook_call " + esc(h.getName());
    attrs = ", fillcolor=plum";
  } else if (op == in.backwardOps.front() && isa<ConstantOp>(op)) {
    label = "dL/dL = 1\\n" + opLabel(op);
    attrs = ", fillcolor=salmon";
  } else {
    label = opLabel(op);
  }
  os << "    " << id(op) << " [label=\"" << label << "\"" << attrs << "];\n";
}

void DotWriter::edges() {
  auto edge = [&](Operation *from, Operation *to, const std::string &attrs) {
    os << "  " << id(from) << " -> " << id(to) << " [" << attrs << "];\n";
  };
  in.model.getBody().walk<WalkOrder::PreOrder>([&](Operation *user) {
    if (isa<YieldOp, NoGradOp, InferenceOp, ModelOp>(user))
      return;
    bool isBackward = !in.forwardOps.contains(user);
    llvm::SmallPtrSet<Operation *, 4> drawn;
    for (Value v : user->getOperands()) {
      Operation *from = source(v);
      // One edge per producer (x * x draws one).
      if (!from || !drawn.insert(from).second)
        continue;
      std::string label = typeStr(v);
      if (auto r = dyn_cast<OpResult>(v);
          r && r.getOwner()->getNumResults() > 1)
        label += " #" + std::to_string(r.getResultNumber());
      std::string attrs;
      if (isBackward) {
        if (in.forwardOps.contains(v.getDefiningOp()))
          attrs = "label=\"saved " + label +
                  "\", style=dotted, color=darkorange, fontcolor=darkorange";
        else
          attrs = "label=\"" + label + "\"";
      } else if (Operation *region = gradFreeRegionOf(user);
                 region &&
                 !region->isAncestor(v.getParentRegion()->getParentOp())) {
        attrs = ("label=\"" + modeName(region) + " cut\\n" + label +
                 "\", style=dashed, color=red, fontcolor=red")
                    .str();
      } else if (isa<DetachOp>(user)) {
        attrs = "label=\"detach cut\\n" + label +
                "\", style=dashed, color=red, fontcolor=red";
      } else if (in.active.contains(v) && in.differentiated.contains(user)) {
        attrs = "label=\"" + label + "\", penwidth=2";
      } else {
        attrs = "label=\"" + label + "\", color=grey40";
      }
      edge(from, user, attrs);
    }
  });
  // backward() starts at the loss.
  if (!in.backwardOps.empty() && isa<ConstantOp>(in.backwardOps.front()))
    for (Operation &op : in.model.getBody().front())
      if (isa<LossOp>(op))
        os << "  " << id(&op) << " -> " << id(in.backwardOps.front())
           << " [label=\"backward()\", style=dashed, color=salmon];\n";
  // Gradient marks point back at the leaf (or retained value) they are for.
  for (Operation *op : in.backwardOps)
    if (auto g = dyn_cast<GradientOp>(op)) {
      auto it = leafByName.find(g.getName());
      if (it != leafByName.end())
        os << "  " << id(op) << " -> " << it->second
           << " [label=\".grad\", style=dashed, color=blue, fontcolor=blue, "
              "constraint=false];\n";
    }
}

void DotWriter::write() {
  std::string summary;
  for (const std::string &l : summaryLines(in.summary))
    summary += esc(l) + "\\l";
  os << "digraph \"" << esc(in.model.getSymName()) << "\" {\n"
     << "  graph [compound=true, fontname=\"Helvetica\", labelloc=b, "
        "labeljust=l, label=\"model @"
     << esc(in.model.getSymName()) << "\\l" << summary << "\"];\n"
     << "  node [shape=box, style=\"rounded,filled\", fillcolor=white, "
        "fontname=\"Helvetica\", fontsize=10];\n"
     << "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  os << "  subgraph cluster_forward {\n"
     << "    label=\"forward\"; color=black;\n";
  forwardBlock(in.model.getBody().front(), "    ");
  os << "  }\n";
  os << "  subgraph cluster_backward {\n"
     << "    label=\"backward (graft-derive-backward)"
     << (in.summary.hasBackward ? ""
                                : ": none: " + esc(in.summary.noBackwardReason))
     << "\"; color=blue; style=dashed;\n";
  for (Operation *op : in.backwardOps)
    backwardNode(op);
  if (in.backwardOps.empty())
    os << "    backward_empty [label=\"no backward\", shape=plaintext, "
          "style=\"\"];\n";
  os << "  }\n";
  edges();
  os << "}\n";
}

void graft::printAutogradDot(ModelOp model, llvm::raw_ostream &os) {
  Inspection in(model);
  DotWriter(in, os).write();
}
