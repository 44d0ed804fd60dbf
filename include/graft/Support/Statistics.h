//===- Statistics.h - What each code generation pass did --------*- C++ -*-===//
//
// Used by Graft's passes. MLIR's Pass::Statistic is an llvm::Statistic,
// which counts nothing unless LLVM was built with assertions (Debian's is
// not, and a translation unit cannot change that: the class's layout is
// libMLIR's). Graft's passes count with llvm::TrackingStatistic instead,
// which always counts once statistics are enabled: `graft compile --stats`
// and `graft-opt --graft-stats` enable and print them, as "PASS - what".
//
//===----------------------------------------------------------------------===//

#ifndef GRAFT_SUPPORT_STATISTICS_H
#define GRAFT_SUPPORT_STATISTICS_H

#include "llvm/ADT/Statistic.h"

/// A counter `VAR` of the pass named `PASS` (its command-line name).
#define GRAFT_STATISTIC(VAR, PASS, DESC)                                       \
  static llvm::TrackingStatistic VAR = {PASS, #VAR, DESC}

#endif // GRAFT_SUPPORT_STATISTICS_H
