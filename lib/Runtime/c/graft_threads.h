/*===- graft_threads.h - The threads of the generated CPU code -------------===*
 *
 * Not part of the public API. The CPU code's parallel loops are OpenMP
 * regions (MLIR's convert-scf-to-openmp); when a module is translated to
 * LLVM IR, graft::bindThreadRuntime (lib/Target/ThreadRuntime.cpp) renames
 * the OpenMP runtime calls they make (__kmpc_*) to the graft_kmpc_*
 * functions below, which run them on a pool of Graft's own
 * (graft_threads.c). Linked into every CPU library (through graft_runtime.c)
 * and into the graft tool, whose JIT resolves the same names to it.
 *
 * Why not libomp: a step would change the application's own OpenMP thread
 * count, allocate inside libomp, and wait at every region's end for worker
 * threads that another process keeps off their cores. Here a region's
 * iterations are split into blocks that the calling thread and the workers
 * claim one at a time, so the caller never waits for a worker that has not
 * started; the blocks write disjoint outputs, so results are the same
 * whatever runs them.
 *
 *===----------------------------------------------------------------------===*/
#ifndef GRAFT_THREADS_H
#define GRAFT_THREADS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The threads the calling thread's next regions may use (<= 0: the default,
 * graft_threads_default()). Per thread: each context applies its own. */
void graft_threads_set(int32_t threads);
/* GRAFT_NUM_THREADS, else OMP_NUM_THREADS (its first number), else one per
 * online core; read once. */
int32_t graft_threads_default(void);

/* The OpenMP runtime ABI that LLVM's OpenMPIRBuilder emits for a
 * `omp.parallel` holding one `omp.wsloop ... nowait` with a static schedule
 * (the only form graft-thread-regions lets through): */
typedef struct graft_kmpc_ident graft_kmpc_ident;
int32_t graft_kmpc_global_thread_num(graft_kmpc_ident *loc);
void graft_kmpc_push_num_threads(graft_kmpc_ident *loc, int32_t gtid,
                                 int32_t blocks);
void graft_kmpc_fork_call(graft_kmpc_ident *loc, int32_t argc,
                          void (*microtask)(int32_t *, int32_t *, ...), ...);
void graft_kmpc_for_static_init_8u(graft_kmpc_ident *loc, int32_t gtid,
                                   int32_t schedule, int32_t *last,
                                   uint64_t *lower, uint64_t *upper,
                                   int64_t *stride, int64_t increment,
                                   int64_t chunk);
void graft_kmpc_for_static_fini(graft_kmpc_ident *loc, int32_t gtid);

#ifdef __cplusplus
}
#endif
#endif
