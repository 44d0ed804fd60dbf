/* Distinct contexts on distinct threads (test/Library/capi-threads.test):
 * jobs of two models (sgd_mlp, with gradient hooks on some, and run_state,
 * with dropout and AdamW), each in its own context, run one after the other
 * and then all at once, one pthread per job, several rounds; every job's
 * result (a digest of its losses and final state) must be the same both
 * ways. A job trains (graft_train_step, and zero_grad + forward_backward +
 * step), evaluates, sets a property, saves a full checkpoint, loads it into
 * a second context and checks both continue identically, copies the
 * parameters across with get/set, and makes calls fail to check that
 * graft_error(ctx) and graft_last_error() hold its own messages while the
 * other threads fail too. Built with -fsanitize=thread (with the runtime
 * compiled from source) so that a data race is reported.
 *
 *   capi_threads WORK-DIR THREADS-PER-CONTEXT ROUNDS */
#define _POSIX_C_SOURCE 200809L /* pthread barriers */
#include "run_state.h"
#include "sgd_mlp.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct job {
  const graft_model_desc *model;
  int id;
  uint64_t seed;
  int hooked; /* a gradient hook (every gradient and hook point) halves */
  const char *dir;
  int threads;
  pthread_barrier_t *start;
  /* Results. */
  uint64_t digest;
  long hook_calls;
  char failure[600];
};

static uint64_t fnv(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = (const unsigned char *)data;
  for (size_t k = 0; k < n; ++k)
    h = (h ^ p[k]) * 0x100000001b3ULL;
  return h;
}

static void halve(const char *name, graft_role role, void *data,
                  const graft_tensor_desc *desc, void *user) {
  (void)name, (void)role;
  if (desc->dtype == GRAFT_DTYPE_F32)
    for (int64_t k = 0; k < desc->numel; ++k)
      ((float *)data)[k] *= 0.5f;
  ++*(long *)user;
}

/* The inputs of step k: x uniform in [-1, 1), labels below the classes
 * (the output's last dimension). */
static graft_status set_batch(graft_context *ctx, uint64_t seed, int k) {
  const graft_model_desc *m = graft_model(ctx);
  int64_t classes = 1;
  for (int32_t i = 0; i < m->ntensors; ++i)
    if (m->tensors[i].role == GRAFT_ROLE_OUTPUT)
      classes = m->tensors[i].shape[m->tensors[i].rank - 1];
  uint64_t state = seed * 0x9e3779b97f4a7c15ULL + (uint64_t)k + 1;
  for (int32_t i = 0; i < m->ntensors; ++i) {
    const graft_tensor_desc *t = &m->tensors[i];
    void *data;
    if (t->role != GRAFT_ROLE_INPUT)
      continue;
    graft_status s = graft_tensor_data(ctx, i, &data);
    if (s)
      return s;
    for (int64_t e = 0; e < t->numel; ++e) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      if (t->dtype == GRAFT_DTYPE_F32)
        ((float *)data)[e] = (float)((double)(state >> 11) * 0x1.0p-52 - 1.0);
      else if (t->dtype == GRAFT_DTYPE_I64)
        ((int64_t *)data)[e] = (int64_t)(state % (uint64_t)classes);
    }
  }
  return GRAFT_OK;
}

/* The digest of ctx's state: every parameter, buffer, optimizer state,
 * output and the loss, and the step count. */
static uint64_t digest(graft_context *ctx, uint64_t h) {
  const graft_model_desc *m = graft_model(ctx);
  uint64_t steps = 0;
  graft_steps(ctx, &steps);
  h = fnv(h, &steps, sizeof steps);
  for (int32_t i = 0; i < m->ntensors; ++i) {
    int32_t role = m->tensors[i].role;
    void *data;
    if ((role == GRAFT_ROLE_PARAM || role == GRAFT_ROLE_BUFFER ||
         role == GRAFT_ROLE_OPT_STATE || role == GRAFT_ROLE_OUTPUT ||
         role == GRAFT_ROLE_LOSS) &&
        graft_tensor_data(ctx, i, &data) == GRAFT_OK)
      h = fnv(h, data, (size_t)m->tensors[i].nbytes);
  }
  return h;
}

/* Whether a and b hold the same parameters, buffers and optimizer state
 * (read with graft_get). */
static int same_state(graft_context *a, graft_context *b) {
  const graft_model_desc *m = graft_model(a);
  int same = 1;
  for (int32_t i = 0; i < m->ntensors && same; ++i) {
    int32_t role = m->tensors[i].role;
    if (role != GRAFT_ROLE_PARAM && role != GRAFT_ROLE_BUFFER &&
        role != GRAFT_ROLE_OPT_STATE)
      continue;
    size_t n = (size_t)m->tensors[i].nbytes;
    void *x = malloc(n ? n : 1), *y = malloc(n ? n : 1);
    same = graft_get(a, i, x, n) == GRAFT_OK &&
           graft_get(b, i, y, n) == GRAFT_OK && memcmp(x, y, n) == 0;
    free(x);
    free(y);
  }
  return same;
}

#define TRY(c, call)                                                          \
  do {                                                                        \
    graft_status s_ = (call);                                                 \
    if (s_ != GRAFT_OK) {                                                     \
      snprintf(j->failure, sizeof j->failure, "%s: %s: %s", #call,            \
               graft_status_string(s_), graft_error(c));                      \
      goto out;                                                               \
    }                                                                         \
  } while (0)
#define EXPECT(cond, what)                                                    \
  do {                                                                        \
    if (!(cond)) {                                                            \
      snprintf(j->failure, sizeof j->failure, "%s", what);                    \
      goto out;                                                               \
    }                                                                         \
  } while (0)

static void run_job(struct job *j) {
  graft_context *ctx = NULL, *twin = NULL;
  char path[1024], id[32], name[64];
  const char *value = NULL;
  uint64_t h = 0xcbf29ce484222325ULL, steps = 0, twin_steps = 0;
  double loss = 0, twin_loss = 0;
  int32_t index;
  j->failure[0] = 0;
  j->hook_calls = 0;
  snprintf(path, sizeof path, "%s/job%d.safetensors", j->dir, j->id);
  snprintf(id, sizeof id, "job %d", j->id);

  TRY(ctx, graft_create(j->model, &ctx));
  TRY(ctx, graft_set_num_threads(ctx, j->threads));
  TRY(ctx, graft_init(ctx, j->seed));
  TRY(ctx, graft_set_property(ctx, "job", id));
  if (j->hooked)
    TRY(ctx, graft_register_grad_hook(ctx, NULL, halve, &j->hook_calls));
  for (int k = 0; k < 12; ++k) {
    TRY(ctx, set_batch(ctx, j->seed, k));
    if (k % 3 == 2) {
      TRY(ctx, graft_zero_grad(ctx));
      TRY(ctx, graft_forward_backward(ctx, &loss));
      TRY(ctx, graft_step(ctx));
    } else {
      TRY(ctx, graft_train_step(ctx, &loss));
    }
    h = fnv(h, &loss, sizeof loss);
  }
  TRY(ctx, graft_eval(ctx, &loss));
  h = fnv(h, &loss, sizeof loss);
  TRY(ctx, graft_predict(ctx));

  /* A checkpoint: a second context continues identically. */
  TRY(ctx, graft_save(ctx, path));
  TRY(twin, graft_create(j->model, &twin));
  TRY(twin, graft_set_num_threads(twin, j->threads));
  TRY(twin, graft_load(twin, path));
  if (j->hooked)
    TRY(twin, graft_register_grad_hook(twin, NULL, halve, &j->hook_calls));
  EXPECT(same_state(ctx, twin), "the loaded context's state differs");
  TRY(twin, graft_get_property(twin, "job", &value));
  EXPECT(strcmp(value, id) == 0, "the loaded property differs");
  TRY(ctx, set_batch(ctx, j->seed, 100));
  TRY(twin, set_batch(twin, j->seed, 100));
  TRY(ctx, graft_train_step(ctx, &loss));
  TRY(twin, graft_train_step(twin, &twin_loss));
  TRY(ctx, graft_steps(ctx, &steps));
  TRY(twin, graft_steps(twin, &twin_steps));
  EXPECT(loss == twin_loss && steps == twin_steps && same_state(ctx, twin),
         "the loaded context does not continue identically");

  /* Parameters copied with get/set. */
  {
    const graft_model_desc *m = j->model;
    TRY(twin, graft_init(twin, j->seed + 1000));
    for (int32_t i = 0; i < m->ntensors; ++i) {
      const graft_tensor_desc *t = &m->tensors[i];
      if (t->role != GRAFT_ROLE_PARAM && t->role != GRAFT_ROLE_BUFFER &&
          t->role != GRAFT_ROLE_OPT_STATE)
        continue;
      void *buf = malloc((size_t)t->nbytes);
      graft_status s = graft_get(ctx, i, buf, (size_t)t->nbytes);
      if (!s)
        s = graft_set_by_name(twin, (graft_role)t->role, t->name, buf,
                              (size_t)t->nbytes);
      free(buf);
      TRY(twin, s);
    }
    EXPECT(same_state(ctx, twin), "get/set did not copy the state");
  }

  /* Failures: each context and each thread keeps its own message. */
  for (int k = 0; k < 50; ++k) {
    snprintf(name, sizeof name, "missing-%d-%d", j->id, k);
    EXPECT(graft_find_tensor(ctx, GRAFT_ROLE_PARAM, name, &index) ==
               GRAFT_ERR_NOT_FOUND,
           "a missing name was found");
    EXPECT(strstr(graft_last_error(), name) != NULL,
           "graft_last_error() is not this thread's");
    EXPECT(graft_get(twin, -1, &index, 4) == GRAFT_ERR_INVALID_ARGUMENT,
           "a bad index was taken");
    EXPECT(strstr(graft_error(ctx), name) != NULL,
           "graft_error(ctx) is not ctx's");
    EXPECT(strstr(graft_error(twin), "tensor index -1") != NULL,
           "graft_error(twin) is not twin's");
  }
  h = digest(ctx, h);
  j->digest = h;
out:
  graft_destroy(twin);
  graft_destroy(ctx);
}

static void *thread_main(void *arg) {
  struct job *j = (struct job *)arg;
  pthread_barrier_wait(j->start);
  run_job(j);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 4)
    return 2;
  int threads = atoi(argv[2]), rounds = atoi(argv[3]), failures = 0;
  /* model, seed, hooked: jobs 0 and 2 alike. */
  static const struct {
    const graft_model_desc *model;
    uint64_t seed;
    int hooked;
  } plan[] = {{&graft_model_sgd_mlp, 1, 0},   {&graft_model_sgd_mlp, 2, 0},
              {&graft_model_sgd_mlp, 1, 0},   {&graft_model_sgd_mlp, 3, 1},
              {&graft_model_run_state, 5, 0}, {&graft_model_run_state, 6, 0}};
  enum { N = sizeof plan / sizeof *plan };
  struct job jobs[N];
  memset(jobs, 0, sizeof jobs);
  uint64_t reference[N];
  long reference_hooks[N];
  for (int i = 0; i < N; ++i) {
    jobs[i].model = plan[i].model;
    jobs[i].id = i;
    jobs[i].seed = plan[i].seed;
    jobs[i].hooked = plan[i].hooked;
    jobs[i].dir = argv[1];
    jobs[i].threads = threads;
    run_job(&jobs[i]);
    if (jobs[i].failure[0]) {
      printf("FAIL: job %d, alone: %s\n", i, jobs[i].failure);
      return 1;
    }
    reference[i] = jobs[i].digest;
    reference_hooks[i] = jobs[i].hook_calls;
  }
  printf("%s: jobs 0 and 2 (one model, one seed) agree\n",
         reference[0] == reference[2] ? "PASS" : "FAIL");
  printf("%s: the jobs of different seeds and models differ\n",
         reference[0] != reference[1] && reference[4] != reference[5] &&
                 reference[0] != reference[3]
             ? "PASS"
             : "FAIL");
  printf("%s: the hooked job's hooks ran\n",
         reference_hooks[3] > 0 ? "PASS" : "FAIL");
  failures += reference[0] != reference[2] || reference[0] == reference[1] ||
              reference_hooks[3] == 0;

  pthread_barrier_t start;
  for (int r = 0; r < rounds; ++r) {
    pthread_t tid[N];
    pthread_barrier_init(&start, NULL, N);
    for (int i = 0; i < N; ++i) {
      jobs[i].start = &start;
      jobs[i].digest = 0;
      if (pthread_create(&tid[i], NULL, thread_main, &jobs[i]) != 0) {
        printf("FAIL: pthread_create\n");
        return 1;
      }
    }
    for (int i = 0; i < N; ++i)
      pthread_join(tid[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < N; ++i) {
      if (jobs[i].failure[0]) {
        printf("FAIL: round %d, job %d: %s\n", r, i, jobs[i].failure);
        ++failures;
      } else if (jobs[i].digest != reference[i] ||
                 jobs[i].hook_calls != reference_hooks[i]) {
        printf("FAIL: round %d, job %d: not the result it has alone\n", r, i);
        ++failures;
      }
    }
  }
  printf("threads: %d jobs x %d rounds, %d threads per context, %d failures\n",
         N, rounds, threads, failures);
  return failures ? 1 : 0;
}
