/* What a train step costs the application besides time
 * (test/Library/step-allocations.test):
 *
 *   step-allocations THREADS
 *
 * - no heap allocation after the first step: malloc and its relatives are
 *   interposed and counted over 20 steps;
 * - the step's threads are the runtime's own: the process has THREADS
 *   threads (the caller and THREADS - 1 workers) after the steps.
 * Inputs: float inputs get a smooth pattern, integer ones positions within
 * their index bound. */
#define _GNU_SOURCE
#include MODEL_HEADER

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static atomic_long allocations;

void *malloc(size_t n) {
  atomic_fetch_add(&allocations, 1);
  return __libc_malloc(n);
}
void *calloc(size_t n, size_t size) {
  atomic_fetch_add(&allocations, 1);
  return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n) {
  atomic_fetch_add(&allocations, 1);
  return __libc_realloc(p, n);
}
void *aligned_alloc(size_t align, size_t n) {
  atomic_fetch_add(&allocations, 1);
  return __libc_memalign(align, n);
}
void *memalign(size_t align, size_t n) {
  atomic_fetch_add(&allocations, 1);
  return __libc_memalign(align, n);
}
int posix_memalign(void **p, size_t align, size_t n) {
  atomic_fetch_add(&allocations, 1);
  *p = __libc_memalign(align, n);
  return *p ? 0 : ENOMEM;
}
void free(void *p) { __libc_free(p); }

#define OK(call)                                                              \
  do {                                                                        \
    graft_status s_ = (call);                                                 \
    if (s_ != GRAFT_OK) {                                                     \
      printf("FAIL: %s: %s\n", #call, graft_last_error());                    \
      return 1;                                                               \
    }                                                                         \
  } while (0)

static int count_threads(void) {
  DIR *d = opendir("/proc/self/task");
  int n = 0;
  if (!d)
    return -1;
  for (struct dirent *e; (e = readdir(d));)
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  graft_context *ctx;
  OK(graft_create(&MODEL, &ctx));
  OK(graft_init(ctx, 1));
  OK(graft_set_num_threads(ctx, threads));
  int32_t count;
  OK(graft_tensor_count(ctx, &count));
  for (int32_t i = 0; i < count; ++i) {
    const graft_tensor_desc *d;
    void *data;
    OK(graft_tensor_info(ctx, i, &d));
    if (d->role != GRAFT_ROLE_INPUT)
      continue;
    OK(graft_tensor_data(ctx, i, &data));
    for (int64_t k = 0; k < d->numel; ++k) {
      if (d->dtype == GRAFT_DTYPE_F32)
        ((float *)data)[k] = (float)sin(0.37 * (double)k);
      else if (d->dtype == GRAFT_DTYPE_I64)
        ((int64_t *)data)[k] = d->index_bound ? k % d->index_bound : k % 2;
    }
  }
  double loss;
  OK(graft_train_step(ctx, &loss));
  long before = atomic_load(&allocations);
  for (int step = 0; step < 20; ++step)
    OK(graft_train_step(ctx, &loss));
  long during = atomic_load(&allocations) - before;
  /* Not vacuous: the counter saw graft_create's allocation. */
  printf("%s: the counter sees the runtime's allocations\n",
         before > 0 ? "PASS" : "FAIL");
  printf("%s: %ld heap allocations in 20 steps after the first\n",
         during == 0 && isfinite(loss) ? "PASS" : "FAIL", during);
  int n = count_threads();
  printf("%s: %d threads in the process at %d per step\n",
         n == threads ? "PASS" : "FAIL", n, threads);
  graft_destroy(ctx);
  return 0;
}
