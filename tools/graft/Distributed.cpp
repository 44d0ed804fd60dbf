//===- Distributed.cpp - graft train as one rank of an MPI job ------------===//

#ifdef GRAFT_HAVE_MPI
#include <mpi.h> // before graft_api.h: its MPI communicator
#endif
#include "Distributed.h"
#include "graft/Training/State.h"

#include <cstdlib>

using namespace graft::cli;

/// The ranks of the job that started this process, from its launcher's
/// environment (Open MPI's mpirun, MPICH's Hydra); 1 alone.
static int launchedRanks() {
  for (const char *var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char *v = std::getenv(var))
      return std::atoi(v);
  return 1;
}

llvm::Expected<std::unique_ptr<MPIJob>> MPIJob::join() {
  int ranks = launchedRanks();
  if (ranks <= 1)
    return nullptr;
#ifdef GRAFT_HAVE_MPI
  int provided = 0;
  // MPI is called from this thread only; the step's worker threads never.
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) !=
      MPI_SUCCESS)
    return graft::training::trainingError("MPI_Init failed");
  std::unique_ptr<MPIJob> job(new MPIJob);
  if (graft_comm_from_mpi(MPI_COMM_WORLD, &job->c) != GRAFT_OK)
    return graft::training::trainingError(
        "cannot make a communicator on MPI_COMM_WORLD");
  return job;
#else
  return graft::training::trainingError(
      "this process is one of " + llvm::Twine(ranks) +
      " ranks of an MPI job, but this graft was built without MPI: install "
      "libopenmpi-dev (scripts/install-deps.sh) and build it again");
#endif
}

MPIJob::~MPIJob() {
#ifdef GRAFT_HAVE_MPI
  if (c.release)
    c.release(c.user);
  MPI_Finalize();
#endif
}

void MPIJob::abort(int code) {
#ifdef GRAFT_HAVE_MPI
  MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}
