/* The sum of a step's gradients over MPI ranks, three ways, timed on this
 * machine (bench/dist.sh runs it under mpirun -np 2; docs/Distributed.md):
 *   graft    graft_dist_sum (lib/Runtime/c/graft_dist.c): reduce-scatter by
 *            MPI_Alltoall, rank-order sums, MPI_Allgather: the same bits on
 *            every rank and as one process accumulating the batches
 *   allreduce  MPI_Allreduce(MPI_SUM): Open MPI's algorithm, its order
 *   iallreduce MPI_Iallreduce + MPI_Wait: the non-blocking form a backward
 *            would start bucket by bucket (here nothing overlaps it)
 * and whether the last two give bits equal to graft's.
 *
 *   mpicc -O2 -Ilib/Runtime/c bench/allreduce.c lib/Runtime/c/graft_dist.c
 *   mpirun -np 2 ./a.out [FLOATS [REPEATS]]
 */
#include <mpi.h>

#include "graft_dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int alltoall(const void *send, void *recv, size_t nbytes, void *user) {
  return MPI_Alltoall(send, (int)nbytes, MPI_BYTE, recv, (int)nbytes, MPI_BYTE,
                      *(MPI_Comm *)user) != MPI_SUCCESS;
}
static int allgather(const void *send, void *recv, size_t nbytes, void *user) {
  return MPI_Allgather(send, (int)nbytes, MPI_BYTE, recv, (int)nbytes,
                       MPI_BYTE, *(MPI_Comm *)user) != MPI_SUCCESS;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm world = MPI_COMM_WORLD;
  int rank, size;
  MPI_Comm_rank(world, &rank);
  MPI_Comm_size(world, &size);
  long n = argc > 1 ? atol(argv[1]) : 1199882; /* the MNIST Net's */
  int repeats = argc > 2 ? atoi(argv[2]) : 50;
  graft_comm comm = {rank, size, alltoall, allgather, 0, 0, &world};
  size_t bytes = graft_dist_buffer_bytes(n, 4, size);
  float *grad = malloc(n * sizeof *grad), *send = malloc(bytes),
        *a = malloc(bytes), *b = malloc(n * sizeof *b),
        *c = malloc(n * sizeof *c);
  srand(rank + 1);
  for (long i = 0; i < n; ++i)
    grad[i] = (float)rand() / RAND_MAX - 0.5f;
  double t[3] = {0, 0, 0};
  for (int r = 0; r < repeats + 3; ++r) {
    MPI_Barrier(world);
    double t0 = MPI_Wtime();
    memcpy(send, grad, n * sizeof *send); /* as the gradients are packed */
    graft_dist_sum(&comm, send, n, GRAFT_DTYPE_F32, a);
    double t1 = MPI_Wtime();
    MPI_Barrier(world);
    double t2 = MPI_Wtime();
    MPI_Allreduce(grad, b, (int)n, MPI_FLOAT, MPI_SUM, world);
    double t3 = MPI_Wtime();
    MPI_Barrier(world);
    MPI_Request req;
    double t4 = MPI_Wtime();
    MPI_Iallreduce(grad, c, (int)n, MPI_FLOAT, MPI_SUM, world, &req);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
    double t5 = MPI_Wtime();
    if (r >= 3)
      t[0] += t1 - t0, t[1] += t3 - t2, t[2] += t5 - t4;
  }
  if (rank == 0) {
    printf("%d ranks, %.2f MiB of f32, mean of %d:\n", size,
           n * 4 / 1048576.0, repeats);
    printf("  graft_dist_sum (rank order)  %.3f ms\n", 1e3 * t[0] / repeats);
    printf("  MPI_Allreduce                %.3f ms, %s graft's bits\n",
           1e3 * t[1] / repeats, memcmp(a, b, n * 4) ? "not" : "equal to");
    printf("  MPI_Iallreduce + MPI_Wait    %.3f ms, %s graft's bits\n",
           1e3 * t[2] / repeats, memcmp(a, c, n * 4) ? "not" : "equal to");
  }
  MPI_Finalize();
  return 0;
}
