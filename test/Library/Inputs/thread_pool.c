/* The thread pool of the generated code (lib/Runtime/c/graft_threads.c),
 * driven the way the code LLVM's OpenMPIRBuilder emits drives it
 * (test/Library/thread-pool.test): a microtask asks its block for the
 * iterations to run (global_thread_num, for_static_init_8u), runs them and
 * finishes (for_static_fini).
 *
 * - Every iteration runs exactly once, for trip counts from 1 to 1000,
 *   1 to 8 threads, and the block counts a region may push (none, 1, 2, 7,
 *   64, more than its iterations).
 * - A region never runs on more threads than the caller allows.
 * - Two application threads running regions at once each get every
 *   iteration run once (one of them has the pool, the other runs alone).
 * - Argument-less regions (argc 0) run too. */
#include "graft_threads.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...)                                                      \
  do {                                                                        \
    if (!(cond)) {                                                            \
      printf("FAIL: ");                                                       \
      printf(__VA_ARGS__);                                                    \
      printf("\n");                                                           \
      ++failures;                                                             \
    }                                                                         \
  } while (0)

enum { kMaxTrip = 1000, kMaxThreads = 64 };

struct loop {
  uint64_t trip;
  _Atomic int hits[kMaxTrip];
  /* The OS threads that ran blocks, for the thread count. */
  _Atomic(pthread_t) threads[kMaxThreads];
  _Atomic int nthreads;
};

static void note_thread(struct loop *l) {
  pthread_t self = pthread_self();
  int n = atomic_load(&l->nthreads);
  for (int i = 0; i < n && i < kMaxThreads; ++i)
    if (pthread_equal(atomic_load(&l->threads[i]), self))
      return;
  int at = atomic_fetch_add(&l->nthreads, 1);
  if (at < kMaxThreads)
    atomic_store(&l->threads[at], self);
}

/* What the outlined region body does, as OpenMPIRBuilder emits it. */
static void body(int32_t *gtid, int32_t *btid, void *arg) {
  (void)gtid;
  (void)btid;
  struct loop *l = arg;
  int32_t tid = graft_kmpc_global_thread_num(NULL);
  int32_t last = 0;
  uint64_t lower = 0, upper = l->trip - 1;
  int64_t stride = 0;
  graft_kmpc_for_static_init_8u(NULL, tid, 34, &last, &lower, &upper, &stride,
                                1, 0);
  for (uint64_t i = 0; i < upper - lower + 1; ++i)
    atomic_fetch_add(&l->hits[lower + i], 1);
  graft_kmpc_for_static_fini(NULL, tid);
  note_thread(l);
}

static struct loop *no_arg_loop;
static void body_no_arg(int32_t *gtid, int32_t *btid) {
  body(gtid, btid, no_arg_loop);
}

static void run(struct loop *l, uint64_t trip, int32_t push, int argc) {
  memset(l, 0, sizeof *l);
  l->trip = trip;
  if (push)
    graft_kmpc_push_num_threads(NULL, 0, push);
  if (argc == 0) {
    no_arg_loop = l;
    graft_kmpc_fork_call(NULL, 0,
                         (void (*)(int32_t *, int32_t *, ...))body_no_arg);
  } else {
    graft_kmpc_fork_call(NULL, 1, (void (*)(int32_t *, int32_t *, ...))body,
                         l);
  }
}

static int all_once(const struct loop *l) {
  for (uint64_t i = 0; i < l->trip; ++i)
    if (atomic_load(&l->hits[i]) != 1)
      return 0;
  return 1;
}

static void *app_thread(void *p) {
  struct loop *l = malloc(sizeof *l);
  int bad = 0;
  graft_threads_set(2);
  for (int round = 0; round < 300; ++round) {
    run(l, 97 + (uint64_t)round % 5, 8, 1);
    bad += !all_once(l);
  }
  free(l);
  *(int *)p = bad;
  return NULL;
}

int main(void) {
  static struct loop l;
  const uint64_t trips[] = {1, 2, 3, 5, 8, 97, 1000};
  const int32_t threads[] = {1, 2, 3, 8};
  const int32_t pushes[] = {0, 1, 2, 7, 64, 5000};
  int regions = 0;
  for (size_t t = 0; t < sizeof threads / sizeof *threads; ++t) {
    graft_threads_set(threads[t]);
    for (size_t k = 0; k < sizeof trips / sizeof *trips; ++k)
      for (size_t p = 0; p < sizeof pushes / sizeof *pushes; ++p)
        for (int argc = 0; argc < 2; ++argc) {
          run(&l, trips[k], pushes[p], argc);
          ++regions;
          CHECK(all_once(&l),
                "trip %llu, %d threads, %d blocks pushed, argc %d: an "
                "iteration ran other than once",
                (unsigned long long)trips[k], threads[t], pushes[p], argc);
          CHECK(atomic_load(&l.nthreads) <= threads[t],
                "trip %llu: %d threads ran blocks, %d allowed",
                (unsigned long long)trips[k], atomic_load(&l.nthreads),
                threads[t]);
        }
  }
  printf("regions: %d, each iteration once, within the thread count\n",
         regions);

  pthread_t a, b;
  int bad_a = -1, bad_b = -1;
  pthread_create(&a, NULL, app_thread, &bad_a);
  pthread_create(&b, NULL, app_thread, &bad_b);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  CHECK(bad_a == 0 && bad_b == 0, "concurrent callers: %d and %d bad regions",
        bad_a, bad_b);
  printf("two callers at once: 600 regions, each iteration once\n");
  printf("%s\n", failures ? "FAILED" : "OK");
  return failures != 0;
}
