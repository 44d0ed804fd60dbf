//===- Distributed.h - graft train as one rank of an MPI job ----*- C++ -*-===//
//
// `mpirun -np N graft train MODEL ...` (docs/Distributed.md): each process
// joins the MPI job mpirun started and trains as one rank, over the C
// runtime's deterministic collectives (graft_dist.h) on MPI_COMM_WORLD.
//
//===----------------------------------------------------------------------===//
#ifndef GRAFT_TOOLS_DISTRIBUTED_H
#define GRAFT_TOOLS_DISTRIBUTED_H

#include "graft_api.h"

#include "llvm/Support/Error.h"

#include <memory>

namespace graft::cli {

/// The MPI job this process is a rank of.
class MPIJob {
public:
  /// Joins the job when mpirun (or another MPI launcher) started this
  /// process as one of several ranks; null when it runs alone. An error
  /// when it is one of several but this graft was built without MPI.
  static llvm::Expected<std::unique_ptr<MPIJob>> join();
  ~MPIJob();
  const graft_comm &comm() const { return c; }
  int rank() const { return c.rank; }
  int size() const { return c.size; }
  /// Ends every rank's process with `code` (MPI_Abort): a rank that fails
  /// must not leave the others waiting in a collective.
  [[noreturn]] void abort(int code);

private:
  MPIJob() = default;
  graft_comm c{};
};

} // namespace graft::cli

#endif
