//===- TrainOptions.h - What graft.train accepts ----------------*- C++ -*-===//
//
// The options of `graft.train`, listed once: torch.optim's hyper-parameters
// (their type and which optimizers take them) and
// torch.optim.lr_scheduler's schedulers (the arguments each takes). The
// op's verifier, the front-end's train block and the host's schedules read
// these tables; a new option is one row here plus its meaning where it is
// used.
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_DIALECT_GRAFT_IR_TRAINOPTIONS_H
#define GRAFT_DIALECT_GRAFT_IR_TRAINOPTIONS_H

#include "graft/Dialect/Graft/IR/GraftEnums.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace graft {

/// How a hyper-parameter is written: `lr=0.1`, `nesterov=True`,
/// `betas=(0.9, 0.999)`.
enum class HyperParameterType { Number, Bool, Pair };

/// One of torch.optim's hyper-parameters, as graft.train carries it (an
/// attribute of that name: F64Attr, BoolAttr or a DenseF64ArrayAttr pair).
struct HyperParameter {
  llvm::StringLiteral name;
  HyperParameterType type;
};

/// Every hyper-parameter of graft.train, in the op's order: what a
/// parameter group may override.
llvm::ArrayRef<HyperParameter> hyperParameters();
/// The hyper-parameter called `name`; null when there is none.
const HyperParameter *findHyperParameter(llvm::StringRef name);

/// A hyper-parameter an optimizer takes besides `lr`, with torch.optim's
/// default for it: a number, a bool as 0 or 1, or a pair.
struct OptimizerOption {
  llvm::StringLiteral name;
  double value[2];
};
/// The options optimizer `kind` takes besides `lr`, as its constructor
/// lists them.
llvm::ArrayRef<OptimizerOption> optimizerOptions(OptimizerKind kind);
/// `kind`'s option `name`; null when it takes none of that name.
const OptimizerOption *findOptimizerOption(OptimizerKind kind,
                                           llvm::StringRef name);
/// Whether optimizer `kind` takes `name`: `lr` or one of its options.
bool takesHyperParameter(OptimizerKind kind, llvm::StringRef name);

/// The keyword arguments of a scheduler's constructor that graft.train
/// accepts (its optimizer is implied).
struct LRScheduleArguments {
  llvm::ArrayRef<llvm::StringLiteral> required, optional;
};
LRScheduleArguments lrScheduleArguments(LRScheduleKind kind);
/// "StepLR, MultiStepLR, ... or SequentialLR": every kind, for messages.
std::string lrScheduleKindList();

} // namespace graft

#endif
