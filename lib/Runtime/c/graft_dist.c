/*===- graft_dist.c - Deterministic collectives over a graft_comm ----------===*
 *
 * See graft_dist.h. Its own file, since the graft tool links it too; in a
 * library, part of graft_runtime.c's one translation unit.
 *
 *===----------------------------------------------------------------------===*/
#include "graft_dist.h"

#include <string.h>

/* The bytes of one rank's block of `count` elements: a multiple of
 * GRAFT_DIST_BLOCK. */
static size_t dist_block_bytes(int64_t count, int32_t elem_bytes,
                               int32_t size) {
  size_t per = ((size_t)count + (size_t)size - 1) / (size_t)size;
  size_t bytes = per * (size_t)elem_bytes;
  return (bytes + GRAFT_DIST_BLOCK - 1) / GRAFT_DIST_BLOCK * GRAFT_DIST_BLOCK;
}

size_t graft_dist_buffer_bytes(int64_t count, int32_t elem_bytes,
                               int32_t size) {
  if (size < 1 || count <= 0)
    return 0;
  return (size_t)size * dist_block_bytes(count, elem_bytes, size);
}

int graft_dist_sum(const graft_comm *comm, void *data, int64_t count,
                   int32_t dtype, void *sum) {
  int32_t esz = dtype == GRAFT_DTYPE_F32 ? 4 : dtype == GRAFT_DTYPE_F64 ? 8 : 0;
  if (!esz)
    return -1;
  int32_t size = comm->size, rank = comm->rank;
  size_t total = (size_t)count * (size_t)esz;
  if (size <= 1 || count <= 0) {
    if (total)
      memcpy(sum, data, total);
    return 0;
  }
  size_t block = dist_block_bytes(count, esz, size);
  char *send = (char *)data, *recv = (char *)sum;
  memset(send + total, 0, (size_t)size * block - total);
  /* Block r of every rank's buffer arrives at rank r, in rank order. */
  int rc = comm->alltoall(send, recv, block, comm->user);
  if (rc)
    return rc;
  /* This rank's block of the sum, added in rank order, into send's block
   * `rank` (the all-gather's source; send's other blocks are spent). */
  int64_t n = (int64_t)(block / (size_t)esz);
  if (dtype == GRAFT_DTYPE_F32) {
    float *acc = (float *)(send + (size_t)rank * block);
    const float *x0 = (const float *)recv;
    for (int32_t r = 1; r < size; ++r, x0 = acc) {
      const float *x = (const float *)(recv + (size_t)r * block);
      for (int64_t k = 0; k < n; ++k)
        acc[k] = x0[k] + x[k];
    }
  } else {
    double *acc = (double *)(send + (size_t)rank * block);
    const double *x0 = (const double *)recv;
    for (int32_t r = 1; r < size; ++r, x0 = acc) {
      const double *x = (const double *)(recv + (size_t)r * block);
      for (int64_t k = 0; k < n; ++k)
        acc[k] = x0[k] + x[k];
    }
  }
  return comm->allgather(send + (size_t)rank * block, recv, block, comm->user);
}

int graft_dist_gather_small(const graft_comm *comm, const void *mine,
                            size_t nbytes, void *all) {
  char block[GRAFT_DIST_BLOCK] = {0};
  memcpy(block, mine, nbytes < sizeof block ? nbytes : sizeof block);
  if (comm->size <= 1) {
    memcpy(all, block, sizeof block);
    return 0;
  }
  return comm->allgather(block, all, sizeof block, comm->user);
}

int graft_dist_broadcast(const graft_comm *comm, void *data, size_t nbytes,
                         int32_t root) {
  if (comm->size <= 1 || nbytes == 0)
    return 0;
  /* The whole blocks in place, the rest through a block of its own. */
  size_t whole = nbytes / GRAFT_DIST_BLOCK * GRAFT_DIST_BLOCK;
  int rc = whole ? comm->broadcast(data, whole, root, comm->user) : 0;
  if (rc || whole == nbytes)
    return rc;
  char tail[GRAFT_DIST_BLOCK] = {0};
  memcpy(tail, (char *)data + whole, nbytes - whole);
  rc = comm->broadcast(tail, sizeof tail, root, comm->user);
  if (!rc)
    memcpy((char *)data + whole, tail, nbytes - whole);
  return rc;
}
