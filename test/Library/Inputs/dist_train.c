/* Data-parallel training through the C API (dist.test). Trains STEPS
 * optimizer steps of the model, either
 *   dist_train mpi OUT STEPS [FAULT K R] as one rank of mpirun's job
 *                                       (graft_dist_init_mpi), on global
 *                                       batch step * size + rank; with a
 *                                       FAULT (index: a label out of range,
 *                                       nan: a nan input) in rank R's batch
 *                                       of step K, every rank prints what
 *                                       its step returned, and goes on; or
 *   dist_train single OUT STEPS N       as one process that accumulates N
 *                                       batches a step (the model's
 *                                       accumulation_steps must be N),
 *                                       batches step * N + m,
 * and writes its parameters to OUT.params and its buffers to OUT.buffers
 * (rank r: OUT.r<r>.params, ...), raw bytes in tensor order; rank 0 (or the
 * one process) prints each step's loss exactly (%a). */
#include <mpi.h>

#include MODEL_HEADER
#include "dist_batch.h"
#include "must.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void dump(graft_context *ctx, const char *out, int rank, int role,
                 const char *what) {
  char path[512];
  if (rank < 0)
    snprintf(path, sizeof path, "%s.%s", out, what);
  else
    snprintf(path, sizeof path, "%s.r%d.%s", out, rank, what);
  FILE *f = fopen(path, "wb");
  if (!f) {
    printf("FAIL: cannot write %s\n", path);
    exit(1);
  }
  int32_t n = 0;
  MUST(graft_tensor_count(ctx, &n));
  for (int32_t i = 0; i < n; ++i) {
    const graft_tensor_desc *d;
    void *data;
    MUST(graft_tensor_info(ctx, i, &d));
    if (d->role != role)
      continue;
    MUST(graft_tensor_data(ctx, i, &data));
    fwrite(data, 1, (size_t)d->nbytes, f);
  }
  fclose(f);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    printf("usage: %s mpi|single OUT STEPS [N | FAULT K R]\n", argv[0]);
    return 2;
  }
  int mpi = !strcmp(argv[1], "mpi");
  const char *out = argv[2];
  int steps = atoi(argv[3]), n = !mpi && argc > 4 ? atoi(argv[4]) : 1;
  const char *fault = mpi && argc > 6 ? argv[4] : 0;
  int fault_step = fault ? atoi(argv[5]) : -1, fault_rank = fault ? atoi(argv[6]) : -1;
  graft_context *ctx;
  MUST(graft_create(&MODEL, &ctx));
  MUST(graft_init(ctx, 7));
  MUST(graft_set_num_threads(ctx, 1));
  int32_t rank = 0, size = 1;
  if (mpi) {
    MPI_Init(&argc, &argv);
    MUST(graft_dist_init_mpi(ctx, MPI_COMM_WORLD));
    MUST(graft_dist_rank(ctx, &rank, &size));
  }
  for (int k = 0; k < steps; ++k) {
    double loss = 0;
    if (mpi) {
      set_batch(ctx, (int64_t)k * size + rank,
                k == fault_step && rank == fault_rank ? fault : 0);
      if (k == fault_step) {
        graft_status s = graft_train_step(ctx, &loss);
        printf("rank %d step %d: %s: %s\n", (int)rank, k,
               graft_status_string(s), graft_last_error());
        continue;
      }
      MUST(graft_train_step(ctx, &loss));
    } else {
      MUST(graft_zero_grad(ctx));
      for (int m = 0; m < n; ++m) {
        double l;
        set_batch(ctx, (int64_t)k * n + m, 0);
        MUST(graft_forward_backward(ctx, &l));
        loss += l;
      }
      loss /= n;
      MUST(graft_step(ctx));
    }
    if (rank == 0)
      printf("step %d loss %a\n", k, loss);
  }
  dump(ctx, out, mpi ? rank : -1, GRAFT_ROLE_PARAM, "params");
  dump(ctx, out, mpi ? rank : -1, GRAFT_ROLE_BUFFER, "buffers");
  MUST(graft_destroy(ctx));
  if (mpi)
    MPI_Finalize();
  return 0;
}
