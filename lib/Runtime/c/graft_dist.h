/*===- graft_dist.h - Deterministic collectives over a graft_comm ----------===*
 *
 * Not part of the public API. Data-parallel training sums the ranks'
 * gradients with a reduce-scatter and an all-gather built on the
 * communicator's alltoall and allgather (graft_comm in graft_api.h): each
 * rank owns a block of the buffer, receives every rank's copy of it, and
 * adds them in rank order, ((x0 + x1) + x2) + ..., the order in which one
 * process accumulates the same micro-batches; then every rank gathers every
 * block. The result is bit-identical on every rank and to that one process,
 * whatever the transport (MPI's own reductions may add in any order).
 * Linked into every CPU library (through graft_runtime.c) and into the
 * graft tool (graft train under mpirun).
 *
 *===----------------------------------------------------------------------===*/
#ifndef GRAFT_DIST_H
#define GRAFT_DIST_H

#include "graft_api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The bytes of a communicator block: every count passed to a graft_comm
 * callback is a multiple of it. */
#define GRAFT_DIST_BLOCK 64

/* The bytes of graft_dist_sum's buffers for `count` elements of
 * `elem_bytes` each over `size` ranks: `size` blocks of a multiple of 64
 * bytes, at least count * elem_bytes. */
size_t graft_dist_buffer_bytes(int64_t count, int32_t elem_bytes, int32_t size);

/* Sums `count` elements of `dtype` (GRAFT_DTYPE_F32 or F64) at `data`
 * across the ranks of `comm`, in rank order, into `sum` on every rank. Both
 * hold graft_dist_buffer_bytes; `data` is the send buffer (its padding is
 * zeroed, its contents are spent). Returns 0, or the nonzero code of the
 * callback that failed, or -1 for a dtype it cannot sum. */
int graft_dist_sum(const graft_comm *comm, void *data, int64_t count,
                   int32_t dtype, void *sum);

/* Every rank's `nbytes` (<= GRAFT_DIST_BLOCK) at `mine`, in rank order, at
 * `all` (comm->size blocks of GRAFT_DIST_BLOCK bytes). Returns 0 or the
 * callback's code. */
int graft_dist_gather_small(const graft_comm *comm, const void *mine,
                            size_t nbytes, void *all);

/* Rank `root`'s `nbytes` at `data` on every rank. Returns 0 or the
 * callback's code. */
int graft_dist_broadcast(const graft_comm *comm, void *data, size_t nbytes,
                         int32_t root);

/* One tensor of a collective: `nbytes` of `dtype` at `data`. */
typedef struct graft_dist_span {
  void *data;
  size_t nbytes;
  int32_t dtype;
} graft_dist_span;

/* The scratch bytes graft_dist_sum_spans needs for the `nsum` spans at
 * `sums`, and graft_dist_broadcast_spans for the `nbcast` at `bcasts`,
 * over `size` ranks (one scratch serves both). */
size_t graft_dist_scratch_bytes(const graft_dist_span *sums, int32_t nsum,
                                const graft_dist_span *bcasts, int32_t nbcast,
                                int32_t size);

/* Sums each of the `n` spans (f32 or f64) over the ranks of `comm`, in rank
 * order: the f32 spans packed into one graft_dist_sum, then the f64 ones.
 * Then, when `divisor` > 1, divides every element by it (rounded to the
 * element's type), as a generated step divides by its accumulation_steps.
 * `scratch` holds graft_dist_scratch_bytes, 64-byte aligned. Returns 0,
 * the nonzero code of the callback that failed, or -1 for a dtype it
 * cannot sum. */
int graft_dist_sum_spans(const graft_comm *comm, const graft_dist_span *spans,
                         int32_t n, int32_t divisor, void *scratch);

/* Rank `root`'s `n` spans on every rank, packed into one broadcast through
 * `scratch` (the spans' total bytes). Returns 0 or the callback's code. */
int graft_dist_broadcast_spans(const graft_comm *comm,
                               const graft_dist_span *spans, int32_t n,
                               int32_t root, void *scratch);

#ifdef __cplusplus
}
#endif
#endif
