/*===- graft_threads.c - The threads of the generated CPU code -------------===*
 *
 * See graft_threads.h. A region of n blocks: block b runs the loop body
 * over the b-th of n balanced, contiguous slices of the iterations, the way
 * a static OpenMP schedule gives them to n threads. The calling thread and
 * the pool's workers claim blocks from one atomic ticket until none is
 * left; the caller then waits only for blocks already being run. A worker
 * that another process keeps off its core claims nothing and delays
 * nothing. With one thread, one block, or the pool serving another thread's
 * region, the caller runs the whole loop as one block.
 *
 * A worker descheduled while it runs a block (another process busy on its
 * core) still makes the caller wait, for up to the other process's time
 * slice. When the caller waited longer than twice its own share and more
 * than kStallNs, regions run on the caller alone for a while: 4 ms, doubled
 * at each such stall up to 256 ms, forgotten after a second without one.
 * On a quiet machine no region stalls; on a busy one the workers are tried
 * again a few times a second.
 *
 * Memory: the pool's workers are created on the first region that wants
 * them (pthread_create); after that a region allocates nothing. Workers
 * spin briefly after a region (the next one usually follows within
 * microseconds), then yield their core for a while, then sleep on a
 * condition variable.
 *
 *===----------------------------------------------------------------------===*/
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "graft_threads.h"

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum {
  kMaxWorkers = 255,
  /* Blocks per thread: enough that a thread that falls behind leaves its
   * share to the others, few enough that each is a long contiguous run. */
  kBlocksPerThread = 4,
  /* A worker waits for the next region spinning (kSpins pauses, some
   * microseconds), then yielding its core (kYields times: whoever else is
   * runnable there runs, so a waiting worker never competes with the step
   * or another process for a core), then asleep. */
  kSpins = 1 << 10,
  kYields = 1 << 8,
  /* OpenMP's kmp_sch_static: the one schedule the regions use. */
  kStaticSchedule = 34,
};

static const int64_t kStallNs = 100000, kFirstBackoffNs = 4000000,
                     kMostBackoffNs = 256000000, kForgetNs = 1000000000;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

typedef void (*microtask0)(int32_t *, int32_t *);
typedef void (*microtask1)(int32_t *, int32_t *, void *);

/* A region's loop body and blocks. Two slots, by the generation's parity:
 * a worker reads the slot of the generation it saw in the ticket, and its
 * claim (a compare-exchange on the ticket) succeeds only while that
 * generation is current, so a slot being rewritten for a later region is
 * never run. Stores release and loads acquire, so a slot read that sees a
 * later region's values also sees the later ticket. */
struct region {
  _Atomic(void *) fn; /* microtask0 or microtask1, by argc */
  _Atomic(void *) arg;
  _Atomic int32_t argc;
  _Atomic int32_t blocks;
  _Atomic int32_t helpers; /* workers 1..helpers may claim blocks */
  _Atomic int32_t done;    /* blocks finished */
};

static struct {
  pthread_mutex_t owner; /* held by the thread whose region the pool runs */
  int32_t workers;       /* started; under owner */
  /* generation << 32 | the next unclaimed block */
  _Atomic uint64_t ticket;
  struct region slot[2];
  /* Bumped once per region; workers wait for it to change. */
  _Atomic uint32_t posted;
  _Atomic int32_t sleepers;
  pthread_mutex_t sleep;
  pthread_cond_t wake;
  /* After a stall: regions run on their caller alone until alone_until;
   * backoff is the next stall's (under owner, alone_until read without). */
  _Atomic int64_t alone_until;
  int64_t backoff, last_stall;
} pool = {PTHREAD_MUTEX_INITIALIZER, 0, 0, {{0}}, 0, 0,
          PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* The caller of a region worked `work` ns on its blocks and then waited
 * `wait` ns for the workers' (under owner). */
static void note_wait(int64_t end, int64_t work, int64_t wait) {
  if (wait <= 2 * work || wait <= kStallNs)
    return;
  if (end - pool.last_stall > kForgetNs)
    pool.backoff = 0;
  pool.backoff = pool.backoff ? 2 * pool.backoff : kFirstBackoffNs;
  if (pool.backoff > kMostBackoffNs)
    pool.backoff = kMostBackoffNs;
  pool.last_stall = end;
  atomic_store_explicit(&pool.alone_until, end + pool.backoff,
                        memory_order_relaxed);
}

/* The block this thread runs, of how many; read back by the loop's
 * static_init through global_thread_num. */
static _Thread_local int32_t this_block, this_blocks = 1;
/* The caller's settings: threads (graft_threads_set), and the block count
 * the next fork takes from push_num_threads (0: none pushed). */
static _Thread_local int32_t thread_limit, pushed_blocks;
static _Atomic int32_t default_threads;

int32_t graft_threads_default(void) {
  int32_t n = atomic_load_explicit(&default_threads, memory_order_relaxed);
  if (n > 0)
    return n;
  const char *env = getenv("GRAFT_NUM_THREADS");
  if (!env || atoi(env) <= 0)
    env = getenv("OMP_NUM_THREADS");
  n = env ? atoi(env) : 0; /* "4,2" (nested levels): the first */
  if (n <= 0)
    n = (int32_t)sysconf(_SC_NPROCESSORS_ONLN);
  if (n <= 0)
    n = 1;
  if (n > kMaxWorkers + 1)
    n = kMaxWorkers + 1;
  atomic_store_explicit(&default_threads, n, memory_order_relaxed);
  return n;
}

void graft_threads_set(int32_t threads) { thread_limit = threads; }

static int32_t thread_count(void) {
  int32_t n = thread_limit > 0 ? thread_limit : graft_threads_default();
  return n > kMaxWorkers + 1 ? kMaxWorkers + 1 : n;
}

static void run_block(void *fn, void *arg, int32_t argc, int32_t block,
                      int32_t blocks) {
  int32_t tid = block, zero = 0;
  this_block = block;
  this_blocks = blocks;
  if (argc == 0)
    ((microtask0)fn)(&tid, &zero);
  else
    ((microtask1)fn)(&tid, &zero, arg);
  this_block = 0;
  this_blocks = 1;
}

/* Claims and runs blocks of the current region until none is left (or,
 * for worker `index`, while the region wants it). */
static void run_blocks(int32_t index) {
  uint64_t t = atomic_load(&pool.ticket);
  for (;;) {
    uint32_t generation = (uint32_t)(t >> 32), next = (uint32_t)t;
    struct region *r = &pool.slot[generation & 1];
    void *fn = atomic_load_explicit(&r->fn, memory_order_acquire);
    void *arg = atomic_load_explicit(&r->arg, memory_order_acquire);
    int32_t argc = atomic_load_explicit(&r->argc, memory_order_acquire);
    int32_t blocks = atomic_load_explicit(&r->blocks, memory_order_acquire);
    int32_t helpers = atomic_load_explicit(&r->helpers, memory_order_acquire);
    if ((int64_t)next >= blocks || index > helpers)
      return;
    if (!atomic_compare_exchange_weak(&pool.ticket, &t, t + 1))
      continue; /* t now holds the ticket */
    run_block(fn, arg, argc, (int32_t)next, blocks);
    atomic_fetch_add_explicit(&r->done, 1, memory_order_release);
    t = atomic_load(&pool.ticket);
  }
}

static void *worker_main(void *p) {
  int32_t index = (int32_t)(intptr_t)p;
  uint32_t seen = atomic_load(&pool.posted);
  for (;;) {
    uint32_t now = atomic_load_explicit(&pool.posted, memory_order_acquire);
    for (int spin = 0; now == seen && spin < kSpins + kYields; ++spin) {
      if (spin < kSpins)
        cpu_relax();
      else
        sched_yield();
      now = atomic_load_explicit(&pool.posted, memory_order_acquire);
    }
    if (now == seen) {
      /* Sleep. The poster bumps `posted` and then reads `sleepers`; this
       * thread counts itself a sleeper and then reads `posted` (both
       * sequentially consistent): one of the two sees the other. */
      pthread_mutex_lock(&pool.sleep);
      atomic_fetch_add(&pool.sleepers, 1);
      while ((now = atomic_load(&pool.posted)) == seen)
        pthread_cond_wait(&pool.wake, &pool.sleep);
      atomic_fetch_sub(&pool.sleepers, 1);
      pthread_mutex_unlock(&pool.sleep);
    }
    seen = now;
    run_blocks(index);
  }
  return NULL;
}

/* Starts workers up to `want` (under pool.owner); returns how many run. */
static int32_t start_workers(int32_t want) {
  while (pool.workers < want) {
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int failed = pthread_create(&thread, &attr, worker_main,
                                (void *)(intptr_t)(pool.workers + 1));
    pthread_attr_destroy(&attr);
    if (failed)
      break; /* run with the workers there are */
    ++pool.workers;
  }
  return pool.workers < want ? pool.workers : want;
}

int32_t graft_kmpc_global_thread_num(graft_kmpc_ident *loc) {
  (void)loc;
  return this_block;
}

void graft_kmpc_push_num_threads(graft_kmpc_ident *loc, int32_t gtid,
                                 int32_t blocks) {
  (void)loc;
  (void)gtid;
  pushed_blocks = blocks;
}

void graft_kmpc_fork_call(graft_kmpc_ident *loc, int32_t argc,
                          void (*microtask)(int32_t *, int32_t *, ...), ...) {
  (void)loc;
  void *arg = NULL;
  if (argc > 1)
    abort(); /* graft::bindThreadRuntime lets no such call through */
  if (argc == 1) {
    va_list ap;
    va_start(ap, microtask);
    arg = va_arg(ap, void *);
    va_end(ap);
  }
  void *fn = (void *)microtask;
  int32_t threads = thread_count();
  int32_t blocks = pushed_blocks > 0 ? pushed_blocks : kBlocksPerThread * threads;
  pushed_blocks = 0;
  if (blocks > kBlocksPerThread * threads)
    blocks = kBlocksPerThread * threads;
  if (threads <= 1)
    blocks = 1;
  int64_t start = 0;
  if (threads > 1 && blocks > 1) {
    start = now_ns();
    if (start < atomic_load_explicit(&pool.alone_until, memory_order_relaxed))
      blocks = 1; /* the workers stalled a region lately */
  }
  /* One block, or the pool busy with another thread's region (or a block
   * of this one: regions do not nest, but a region inside a microtask
   * would run here too): the whole loop on this thread. */
  if (blocks <= 1 || this_blocks > 1 ||
      pthread_mutex_trylock(&pool.owner) != 0) {
    run_block(fn, arg, argc, 0, 1);
    return;
  }
  int32_t helpers = start_workers(threads - 1);
  uint32_t generation = (uint32_t)(atomic_load(&pool.ticket) >> 32) + 1;
  struct region *r = &pool.slot[generation & 1];
  atomic_store_explicit(&r->fn, fn, memory_order_release);
  atomic_store_explicit(&r->arg, arg, memory_order_release);
  atomic_store_explicit(&r->argc, argc, memory_order_release);
  atomic_store_explicit(&r->blocks, blocks, memory_order_release);
  atomic_store_explicit(&r->helpers, helpers, memory_order_release);
  atomic_store_explicit(&r->done, 0, memory_order_release);
  atomic_store(&pool.ticket, (uint64_t)generation << 32);
  atomic_fetch_add(&pool.posted, 1);
  if (atomic_load(&pool.sleepers) > 0) {
    pthread_mutex_lock(&pool.sleep);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.sleep);
  }
  run_blocks(0);
  if (atomic_load_explicit(&r->done, memory_order_acquire) < blocks) {
    int64_t worked = now_ns();
    while (atomic_load_explicit(&r->done, memory_order_acquire) < blocks)
      cpu_relax();
    int64_t end = now_ns();
    note_wait(end, worked - start, end - worked);
  }
  pthread_mutex_unlock(&pool.owner);
}

void graft_kmpc_for_static_init_8u(graft_kmpc_ident *loc, int32_t gtid,
                                   int32_t schedule, int32_t *last,
                                   uint64_t *lower, uint64_t *upper,
                                   int64_t *stride, int64_t increment,
                                   int64_t chunk) {
  (void)loc;
  (void)chunk;
  if (schedule != kStaticSchedule || increment != 1)
    abort(); /* graft::bindThreadRuntime lets no such call through */
  uint64_t blocks = (uint64_t)this_blocks, block = (uint64_t)gtid;
  uint64_t first = *lower, trip = *upper >= first ? *upper - first + 1 : 0;
  uint64_t size = trip / blocks, extra = trip % blocks;
  uint64_t start = first + block * size + (block < extra ? block : extra);
  uint64_t count = size + (block < extra);
  *lower = start;
  *upper = start + count - 1; /* count 0: upper < lower, no iteration */
  *stride = (int64_t)trip;
  *last = block + 1 == blocks;
}

void graft_kmpc_for_static_fini(graft_kmpc_ident *loc, int32_t gtid) {
  (void)loc;
  (void)gtid;
}
