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

/* The elements of the spans of `dtype`. */
static int64_t span_elements(const graft_dist_span *spans, int32_t n,
                             int32_t dtype, int32_t elem_bytes) {
  int64_t count = 0;
  for (int32_t i = 0; i < n; ++i)
    if (spans[i].dtype == dtype)
      count += (int64_t)(spans[i].nbytes / (size_t)elem_bytes);
  return count;
}

/* The bytes of each half of graft_dist_sum_spans's scratch. */
static size_t sum_half(const graft_dist_span *spans, int32_t n, int32_t size) {
  size_t f32 = graft_dist_buffer_bytes(
      span_elements(spans, n, GRAFT_DTYPE_F32, 4), 4, size);
  size_t f64 = graft_dist_buffer_bytes(
      span_elements(spans, n, GRAFT_DTYPE_F64, 8), 8, size);
  size_t half = f32 > f64 ? f32 : f64;
  return (half + GRAFT_DIST_BLOCK - 1) / GRAFT_DIST_BLOCK * GRAFT_DIST_BLOCK;
}

size_t graft_dist_scratch_bytes(const graft_dist_span *sums, int32_t nsum,
                                const graft_dist_span *bcasts, int32_t nbcast,
                                int32_t size) {
  size_t bytes = 0;
  for (int32_t i = 0; i < nbcast; ++i)
    bytes += bcasts[i].nbytes;
  size_t sum = 2 * sum_half(sums, nsum, size);
  return sum > bytes ? sum : bytes;
}

/* Copies the spans of `dtype` (any, when < 0) into `area`, or back from
 * it; returns the bytes. */
static size_t pack_spans(const graft_dist_span *spans, int32_t n, int32_t dtype,
                         char *area, int unpack) {
  size_t at = 0;
  for (int32_t i = 0; i < n; ++i) {
    if (dtype >= 0 && spans[i].dtype != dtype)
      continue;
    if (unpack)
      memcpy(spans[i].data, area + at, spans[i].nbytes);
    else
      memcpy(area + at, spans[i].data, spans[i].nbytes);
    at += spans[i].nbytes;
  }
  return at;
}

int graft_dist_sum_spans(const graft_comm *comm, const graft_dist_span *spans,
                         int32_t n, int32_t divisor, void *scratch) {
  for (int32_t i = 0; i < n; ++i)
    if (spans[i].dtype != GRAFT_DTYPE_F32 && spans[i].dtype != GRAFT_DTYPE_F64)
      return -1;
  char *pack = (char *)scratch, *sum = pack + sum_half(spans, n, comm->size);
  static const int32_t dtypes[2] = {GRAFT_DTYPE_F32, GRAFT_DTYPE_F64};
  for (int d = 0; d < 2 && comm->size > 1; ++d) {
    int32_t esz = dtypes[d] == GRAFT_DTYPE_F32 ? 4 : 8;
    int64_t count = span_elements(spans, n, dtypes[d], esz);
    if (!count)
      continue;
    pack_spans(spans, n, dtypes[d], pack, 0);
    int rc = graft_dist_sum(comm, pack, count, dtypes[d], sum);
    if (rc)
      return rc;
    pack_spans(spans, n, dtypes[d], sum, 1);
  }
  if (divisor <= 1)
    return 0;
  for (int32_t i = 0; i < n; ++i) {
    if (spans[i].dtype == GRAFT_DTYPE_F32) {
      float *g = (float *)spans[i].data, q = (float)divisor;
      for (size_t k = 0; k < spans[i].nbytes / 4; ++k)
        g[k] = g[k] / q;
    } else {
      double *g = (double *)spans[i].data, q = (double)divisor;
      for (size_t k = 0; k < spans[i].nbytes / 8; ++k)
        g[k] = g[k] / q;
    }
  }
  return 0;
}

int graft_dist_broadcast_spans(const graft_comm *comm,
                               const graft_dist_span *spans, int32_t n,
                               int32_t root, void *scratch) {
  if (comm->size <= 1)
    return 0;
  size_t bytes = pack_spans(spans, n, -1, (char *)scratch, 0);
  int rc = graft_dist_broadcast(comm, scratch, bytes, root);
  if (!rc)
    pack_spans(spans, n, -1, (char *)scratch, 1);
  return rc;
}
