/* graft_dist_init without MPI (dist-contract.test): the communicator is the
 * application's, here two threads of one process exchanging blocks through
 * shared memory, each rank's context on its own thread. Checks the
 * argument contract, a one-rank communicator with no functions, two
 * thread ranks against one context accumulating their two batches (bit for
 * bit), a communicator that fails, saving on rank 1, and bf16 gradients.
 *
 *   dist_threads MODE    MODE: contract | ranks | fail | bf16
 * Built against the model's library (MODEL, MODEL_HEADER) and, for ranks,
 * ACC_MODEL / ACC_HEADER: the same model with accumulation_steps = 2. */
#include MODEL_HEADER
#ifdef ACC_HEADER
#include ACC_HEADER
#endif
#include "dist_batch.h"
#include "must.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
static void expect(int ok, const char *what) {
  printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
  failures += !ok;
}
static void expect_status(graft_status got, graft_status want,
                          const char *what) {
  printf("%s: %s: %s (%s)\n", got == want ? "PASS" : "FAIL", what,
         graft_status_string(got), graft_last_error());
  failures += got != want;
}

static size_t param_bytes(graft_context *ctx, char *out) {
  int32_t n = 0;
  size_t at = 0;
  MUST(graft_tensor_count(ctx, &n));
  for (int32_t i = 0; i < n; ++i) {
    const graft_tensor_desc *d;
    void *data;
    MUST(graft_tensor_info(ctx, i, &d));
    if (d->role != GRAFT_ROLE_PARAM && d->role != GRAFT_ROLE_OPT_STATE)
      continue;
    MUST(graft_tensor_data(ctx, i, &data));
    memcpy(out + at, data, (size_t)d->nbytes);
    at += (size_t)d->nbytes;
  }
  return at;
}

/*--- A communicator of threads ------------------------------------------*/
#ifdef ACC_HEADER

enum { RANKS = 2, MAXBYTES = 1 << 20 };
static pthread_barrier_t barrier;
static char slots[RANKS][RANKS * MAXBYTES]; /* rank r's outgoing blocks */

struct thread_comm { int rank; };

static int t_alltoall(const void *send, void *recv, size_t nbytes, void *user) {
  int r = ((struct thread_comm *)user)->rank;
  if (nbytes > MAXBYTES)
    return 9;
  memcpy(slots[r], send, RANKS * nbytes);
  pthread_barrier_wait(&barrier);
  for (int j = 0; j < RANKS; ++j) /* block r of rank j's */
    memcpy((char *)recv + j * nbytes, slots[j] + r * nbytes, nbytes);
  pthread_barrier_wait(&barrier);
  return 0;
}
static int t_allgather(const void *send, void *recv, size_t nbytes,
                       void *user) {
  int r = ((struct thread_comm *)user)->rank;
  if (nbytes > MAXBYTES)
    return 9;
  memcpy(slots[r], send, nbytes);
  pthread_barrier_wait(&barrier);
  for (int j = 0; j < RANKS; ++j)
    memcpy((char *)recv + j * nbytes, slots[j], nbytes);
  pthread_barrier_wait(&barrier);
  return 0;
}
static int t_broadcast(void *data, size_t nbytes, int32_t root, void *user) {
  int r = ((struct thread_comm *)user)->rank;
  if (nbytes > MAXBYTES)
    return 9;
  if (r == root)
    memcpy(slots[root], data, nbytes);
  pthread_barrier_wait(&barrier);
  if (r != root)
    memcpy(data, slots[root], nbytes);
  pthread_barrier_wait(&barrier);
  return 0;
}
static int released;
static void t_release(void *user) {
  (void)user;
  __atomic_add_fetch(&released, 1, __ATOMIC_SEQ_CST);
}

enum { STEPS = 4 };
static char rank_state[RANKS][1 << 16];
static size_t rank_bytes[RANKS];
static double rank_loss[RANKS][STEPS];

static void *rank_main(void *arg) {
  struct thread_comm *tc = (struct thread_comm *)arg;
  graft_context *ctx;
  MUST(graft_create(&MODEL, &ctx));
  /* Every rank but 0 starts elsewhere: graft_dist_init gives rank 0's. */
  MUST(graft_init(ctx, tc->rank == 0 ? 7 : 1000 + (uint64_t)tc->rank));
  MUST(graft_set_num_threads(ctx, 1));
  graft_comm c = {tc->rank, RANKS, t_alltoall, t_allgather, t_broadcast,
                  t_release, tc};
  MUST(graft_dist_init(ctx, &c));
  for (int k = 0; k < STEPS; ++k) {
    set_batch(ctx, (int64_t)k * RANKS + tc->rank, 0);
    MUST(graft_train_step(ctx, &rank_loss[tc->rank][k]));
  }
  if (tc->rank == 1) /* rank 0 writes; the others succeed writing nothing */
    expect_status(graft_save(ctx, "/nonexistent-dir/rank1.safetensors"),
                  GRAFT_OK, "rank 1's graft_save writes nothing");
  rank_bytes[tc->rank] = param_bytes(ctx, rank_state[tc->rank]);
  MUST(graft_destroy(ctx));
  return 0;
}

static int ranks(void) {
  pthread_barrier_init(&barrier, 0, RANKS);
  pthread_t threads[RANKS];
  struct thread_comm tc[RANKS];
  for (int r = 0; r < RANKS; ++r) {
    tc[r].rank = r;
    pthread_create(&threads[r], 0, rank_main, &tc[r]);
  }
  for (int r = 0; r < RANKS; ++r)
    pthread_join(threads[r], 0);
  expect(released == RANKS, "each context released its communicator");
  /* One context, accumulating the two batches of each step. */
  graft_context *one;
  MUST(graft_create(&ACC_MODEL, &one));
  MUST(graft_init(one, 7));
  MUST(graft_set_num_threads(one, 1));
  int same_loss = 1;
  for (int k = 0; k < STEPS; ++k) {
    double sum = 0, l;
    MUST(graft_zero_grad(one));
    for (int m = 0; m < RANKS; ++m) {
      set_batch(one, (int64_t)k * RANKS + m, 0);
      MUST(graft_forward_backward(one, &l));
      sum += l;
    }
    MUST(graft_step(one));
    same_loss &= sum / RANKS == rank_loss[0][k] && sum / RANKS == rank_loss[1][k];
  }
  static char want[1 << 16];
  size_t n = param_bytes(one, want);
  expect(same_loss, "every step's loss is the accumulated run's, on both ranks");
  expect(n == rank_bytes[0] && !memcmp(want, rank_state[0], n),
         "rank 0's parameters and optimizer state are the accumulated run's, bit for bit");
  expect(n == rank_bytes[1] && !memcmp(want, rank_state[1], n),
         "rank 1's are the same");
  MUST(graft_destroy(one));
  return 0;
}
#else
static int ranks(void) { return 0; }
#endif

/* A communicator whose alltoall fails, the other rank mirrored. */
static int f_alltoall(const void *s, void *r, size_t n, void *u) {
  (void)s, (void)r, (void)n, (void)u;
  return 7;
}
static int f_allgather(const void *send, void *recv, size_t nbytes, void *u) {
  (void)u;
  memcpy(recv, send, nbytes);
  memcpy((char *)recv + nbytes, send, nbytes);
  return 0;
}
static int f_broadcast(void *d, size_t n, int32_t root, void *u) {
  (void)d, (void)n, (void)root, (void)u;
  return 0;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "contract";
  graft_context *ctx;
  MUST(graft_create(&MODEL, &ctx));
  MUST(graft_init(ctx, 7));
  MUST(graft_set_num_threads(ctx, 1));
  if (!strcmp(mode, "contract")) {
    graft_comm c = {0, 1, 0, 0, 0, 0, 0};
    int32_t rank = -1, size = -1;
    expect_status(graft_dist_init(0, &c), GRAFT_ERR_INVALID_ARGUMENT, "NULL ctx");
    c.rank = 2, c.size = 2;
    expect_status(graft_dist_init(ctx, &c), GRAFT_ERR_INVALID_ARGUMENT, "rank 2 of 2");
    c.rank = 0, c.size = 0;
    expect_status(graft_dist_init(ctx, &c), GRAFT_ERR_INVALID_ARGUMENT, "size 0");
    c.rank = 1, c.size = 2;
    expect_status(graft_dist_init(ctx, &c), GRAFT_ERR_INVALID_ARGUMENT, "2 ranks, no functions");
    expect_status(graft_dist_rank(ctx, 0, &size), GRAFT_ERR_INVALID_ARGUMENT, "rank NULL");
    MUST(graft_dist_rank(ctx, &rank, &size));
    expect(rank == 0 && size == 1, "a context that is not distributed is rank 0 of 1");
    /* One rank, no functions: a distributed step is zero_grad,
     * forward_backward and step, as one process takes them. */
    graft_context *plain;
    MUST(graft_create(&MODEL, &plain));
    MUST(graft_init(plain, 7));
    MUST(graft_set_num_threads(plain, 1));
    c.rank = 0, c.size = 1;
    MUST(graft_dist_init(ctx, &c));
    MUST(graft_dist_rank(ctx, &rank, &size));
    expect(rank == 0 && size == 1, "rank 0 of 1");
    int same = 1;
    for (int k = 0; k < 3; ++k) {
      double a, b;
      set_batch(ctx, k, 0);
      set_batch(plain, k, 0);
      MUST(graft_train_step(ctx, &a));
      MUST(graft_zero_grad(plain));
      MUST(graft_forward_backward(plain, &b));
      MUST(graft_step(plain));
      same &= a == b;
    }
    static char sa[1 << 16], sb[1 << 16];
    size_t na = param_bytes(ctx, sa), nb = param_bytes(plain, sb);
    expect(same && na == nb && !memcmp(sa, sb, na),
           "one rank trains as zero_grad, forward_backward and step");
    MUST(graft_dist_init(ctx, 0));
    MUST(graft_dist_rank(ctx, &rank, &size));
    expect(rank == 0 && size == 1, "NULL makes it one process again");
    MUST(graft_destroy(plain));
  } else if (!strcmp(mode, "ranks")) {
    ranks();
  } else if (!strcmp(mode, "fail")) {
    graft_comm c = {0, 2, f_alltoall, f_allgather, f_broadcast, 0, 0};
    MUST(graft_dist_init(ctx, &c));
    set_batch(ctx, 0, 0);
    expect_status(graft_train_step(ctx, 0), GRAFT_ERR_DIST, "a failing alltoall");
  } else if (!strcmp(mode, "bf16")) {
    graft_comm c = {0, 1, 0, 0, 0, 0, 0};
    expect_status(graft_dist_init(ctx, &c), GRAFT_ERR_UNSUPPORTED, "bf16 gradients");
  }
  MUST(graft_destroy(ctx));
  printf("%s: %d failures\n", failures ? "FAILED" : "ALL PASSED", failures);
  return failures != 0;
}
