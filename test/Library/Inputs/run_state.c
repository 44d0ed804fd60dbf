/* The run state of a context through checkpoints (test/Library/run-state.test):
 *
 *   run-state MODE CHECKPOINT-DIR THREADS
 *
 * MODE "resume": an uninterrupted run of 2N train steps with dropout on is
 * bit-identical to N steps, graft_save, and, in a fresh context (create +
 * load, no init), N more steps; also with forward_backward + step. Then the
 * regressions of issue 15: create + load of a weights-only file trains with
 * the model's learning rates; hyper-parameters torch.optim rejects are
 * rejected; a non-finite loss is reported; a non-strict load reports
 * missing and unexpected names; user properties round-trip.
 * MODE "inspect FILE [RESAVED]": loads FILE (e.g. written by graft train)
 * into a fresh context, prints its run state and saves it to RESAVED.
 * MODE "weights FILE OUT": the same, saving OUT with graft_save_weights.
 * MODE "accumulate": input gradients accumulate (issue 15).
 * MODE "create": prints what graft_create says (the CPU check).
 * MODE "eval": graft_eval of a model without a loss. */
#include MODEL_HEADER

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...)                                                      \
  do {                                                                        \
    if (cond) {                                                               \
      printf("PASS: ");                                                       \
    } else {                                                                  \
      printf("FAIL: ");                                                       \
      ++failures;                                                             \
    }                                                                         \
    printf(__VA_ARGS__);                                                      \
    printf("\n");                                                             \
  } while (0)

#define OK(call)                                                              \
  do {                                                                        \
    graft_status s_ = (call);                                                 \
    if (s_ != GRAFT_OK) {                                                     \
      printf("FAIL: %s: %s\n", #call, graft_last_error());                    \
      exit(1);                                                                \
    }                                                                         \
  } while (0)

static graft_context *create(int threads) {
  graft_context *ctx;
  OK(graft_create(&MODEL, &ctx));
  OK(graft_set_num_threads(ctx, threads));
  return ctx;
}

#ifdef RUN_STATE_TENSOR_COUNT /* the tests of run_state.graft */
#define N 6

static void set_batch(graft_context *ctx, int k) {
  float x[RUN_STATE_INPUT_X_NUMEL];
  int64_t y[RUN_STATE_INPUT_Y_NUMEL];
  for (int i = 0; i < RUN_STATE_INPUT_X_NUMEL; ++i)
    x[i] = (float)sin(0.37 * i + 1.3 * k);
  for (int i = 0; i < RUN_STATE_INPUT_Y_NUMEL; ++i)
    y[i] = (i * 7 + k) % 4;
  OK(graft_set_input(ctx, "x", x, sizeof x));
  OK(graft_set_input(ctx, "y", y, sizeof y));
}

/* Every parameter, buffer and optimizer state tensor, concatenated. */
static size_t snapshot(graft_context *ctx, char *out) {
  size_t n = 0;
  int32_t count;
  OK(graft_tensor_count(ctx, &count));
  for (int32_t i = 0; i < count; ++i) {
    const graft_tensor_desc *d;
    void *data;
    OK(graft_tensor_info(ctx, i, &d));
    if (d->role != GRAFT_ROLE_PARAM && d->role != GRAFT_ROLE_BUFFER &&
        d->role != GRAFT_ROLE_OPT_STATE)
      continue;
    OK(graft_tensor_data(ctx, i, &data));
    if (out)
      memcpy(out + n, data, (size_t)d->nbytes);
    n += (size_t)d->nbytes;
  }
  return n;
}

static void train(graft_context *ctx, int from, int to, int fused,
                  double *losses) {
  for (int k = from; k < to; ++k) {
    set_batch(ctx, k);
    if (fused) {
      OK(graft_train_step(ctx, &losses[k]));
    } else {
      OK(graft_zero_grad(ctx));
      OK(graft_forward_backward(ctx, &losses[k]));
      OK(graft_step(ctx));
    }
  }
}

static void resume(const char *dir, int threads, int fused) {
  char path[4096];
  snprintf(path, sizeof path, "%s/half-%d.safetensors", dir, fused);
  const char *how = fused ? "train_step" : "forward_backward + step";
  double full[2 * N], part[2 * N];

  graft_context *a = create(threads);
  OK(graft_init(a, 7));
  train(a, 0, 2 * N, fused, full);
  size_t bytes = snapshot(a, 0);
  char *want = malloc(bytes), *got = malloc(bytes);
  snapshot(a, want);

  graft_context *b = create(threads);
  OK(graft_init(b, 7));
  train(b, 0, N, fused, part);
  OK(graft_set_property(b, "epoch", "3"));
  OK(graft_save(b, path));
  /* The interrupted run's context keeps going elsewhere: the file must not
   * depend on it. */
  OK(graft_init(b, 99));
  graft_destroy(b);

  graft_context *c = create(threads);
  OK(graft_load(c, path));
  uint64_t steps = 0, seed = 0;
  const char *epoch = 0;
  OK(graft_steps(c, &steps));
  OK(graft_get_seed(c, &seed));
  OK(graft_get_property(c, "epoch", &epoch));
  CHECK(steps == N && seed == 7 && epoch && strcmp(epoch, "3") == 0,
        "%s: the checkpoint restores steps %llu, seed %llu, property epoch %s",
        how, (unsigned long long)steps, (unsigned long long)seed,
        epoch ? epoch : "(none)");
  train(c, N, 2 * N, fused, part);
  snapshot(c, got);
  int same_loss = memcmp(full + N, part + N, sizeof(double) * N) == 0;
  CHECK(same_loss && memcmp(want, got, bytes) == 0,
        "%s, %d thread(s): create + load + %d steps is bit-identical to the "
        "uninterrupted run (losses of steps %d..%d, %zu bytes of state)",
        how, threads, N, N + 1, 2 * N, bytes);
  /* Dropout is on: a run with another seed differs. */
  graft_context *d = create(threads);
  OK(graft_init(d, 7));
  OK(graft_set_seed(d, 8));
  double other[2 * N];
  train(d, 0, 2 * N, fused, other);
  snapshot(d, got);
  CHECK(memcmp(want, got, bytes) != 0,
        "%s: another dropout seed (graft_set_seed) trains differently", how);
  graft_destroy(a);
  graft_destroy(c);
  graft_destroy(d);
  free(want);
  free(got);
}

static void report(const char *name, graft_load_issue issue, void *user) {
  char *list = user;
  strcat(list, issue == GRAFT_LOAD_MISSING ? " missing:" : " unexpected:");
  strcat(list, name);
}

/* A safetensors file by hand: the JSON header (padded to 8 bytes), then
 * `bytes` of data. */
static void write_raw(const char *path, const char *json, const void *data,
                      size_t bytes) {
  size_t cap = strlen(json) + 8;
  char *header = malloc(cap);
  int n = snprintf(header, cap, "%s", json);
  while (n % 8)
    header[n++] = ' ';
  FILE *f = fopen(path, "wb");
  unsigned char len[8];
  for (int k = 0; k < 8; ++k)
    len[k] = (unsigned char)((uint64_t)n >> (8 * k));
  fwrite(len, 1, 8, f);
  fwrite(header, 1, (size_t)n, f);
  fwrite(data, 1, bytes, f);
  fclose(f);
  free(header);
}

/* A safetensors file with fc1.weight (w) and an extra tensor. */
static void write_partial(const char *path, const float *w) {
  float data[32 * 16 + 2];
  memcpy(data, w, sizeof(float) * 32 * 16);
  data[32 * 16] = 1;
  data[32 * 16 + 1] = 2;
  write_raw(path,
            "{\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":[32,16],"
            "\"data_offsets\":[0,2048]},\"extra.bias\":{\"dtype\":"
            "\"F32\",\"shape\":[2],\"data_offsets\":[2048,2056]}}",
            data, sizeof data);
}

static void regressions(const char *dir) {
  char weights[4096], partial[4096];
  snprintf(weights, sizeof weights, "%s/weights.safetensors", dir);
  snprintf(partial, sizeof partial, "%s/partial.safetensors", dir);
  double loss;

  /* create + load of a weights-only file (a state_dict) trains. */
  graft_context *a = create(1);
  OK(graft_init(a, 3));
  OK(graft_save_weights(a, weights));
  graft_context *b = create(1);
  double lr = 0, group_lr = 0;
  OK(graft_get_hyper(b, "lr", &lr));
  OK(graft_get_hyper(b, "group1.lr", &group_lr));
  CHECK(lr == 1e-2 && group_lr == 2e-2,
        "graft_create sets the model's learning rates (%g, %g)", lr, group_lr);
  OK(graft_load(b, weights));
  float before[RUN_STATE_PARAM_FC1_WEIGHT_NUMEL], after[RUN_STATE_PARAM_FC1_WEIGHT_NUMEL];
  OK(graft_get_by_name(b, GRAFT_ROLE_PARAM, "fc1.weight", before, sizeof before));
  set_batch(b, 0);
  OK(graft_train_step(b, &loss));
  OK(graft_get_by_name(b, GRAFT_ROLE_PARAM, "fc1.weight", after, sizeof after));
  CHECK(memcmp(before, after, sizeof before) != 0,
        "create + load of a weights-only checkpoint, then a step: the weights move");
  uint64_t steps = 99;
  OK(graft_steps(b, &steps));
  CHECK(steps == 1, "a weights-only load keeps the context's run state (steps %llu)",
        (unsigned long long)steps);

  /* Hyper-parameters torch.optim rejects. */
  graft_status s1 = graft_set_lr(b, -1.0), s2 = graft_set_lr(b, NAN),
               s3 = graft_set_hyper(b, "group1.lr", INFINITY);
  OK(graft_get_hyper(b, "lr", &lr));
  CHECK(s1 == GRAFT_ERR_INVALID_ARGUMENT && s2 == GRAFT_ERR_INVALID_ARGUMENT &&
            s3 == GRAFT_ERR_INVALID_ARGUMENT && lr == 1e-2,
        "graft_set_lr(-1), graft_set_lr(nan), group1.lr = inf are rejected; lr "
        "stays %g", lr);
  (void)graft_set_lr(b, -1.0);
  printf("message: %s\n", graft_last_error());

  /* A non-finite loss is reported, not returned as OK. */
  float x[RUN_STATE_INPUT_X_NUMEL];
  for (int i = 0; i < RUN_STATE_INPUT_X_NUMEL; ++i)
    x[i] = i == 5 ? NAN : 1.0f;
  OK(graft_set_input(b, "x", x, sizeof x));
  graft_status t = graft_train_step(b, &loss);
  CHECK(t == GRAFT_ERR_NONFINITE && isnan(loss),
        "a NaN loss: graft_train_step returns GRAFT_ERR_NONFINITE (%d)", (int)t);
  printf("message: %s\n", graft_last_error());
  graft_status fb = graft_forward_backward(b, &loss);
  CHECK(fb == GRAFT_ERR_NONFINITE, "and graft_forward_backward too (%d)", (int)fb);

  /* Non-strict loading, like load_state_dict(strict=False). */
  float w[RUN_STATE_PARAM_FC1_WEIGHT_NUMEL];
  for (int i = 0; i < RUN_STATE_PARAM_FC1_WEIGHT_NUMEL; ++i)
    w[i] = (float)i;
  write_partial(partial, w);
  graft_context *c = create(1);
  OK(graft_init(c, 5));
  graft_status strict = graft_load(c, partial);
  CHECK(strict == GRAFT_ERR_NOT_FOUND, "a strict load of a partial file fails (%d)",
        (int)strict);
  printf("message: %s\n", graft_last_error());
  char list[1024] = "";
  OK(graft_load_ex(c, partial, GRAFT_LOAD_NON_STRICT, report, list));
  printf("non-strict:%s\n", list);
  float got[RUN_STATE_PARAM_FC1_WEIGHT_NUMEL];
  OK(graft_get_by_name(c, GRAFT_ROLE_PARAM, "fc1.weight", got, sizeof got));
  CHECK(memcmp(got, w, sizeof w) == 0, "a non-strict load sets what the file has");

  /* A directory is not a checkpoint (it read as "out of memory"). */
  graft_status dir_status = graft_load(c, dir);
  CHECK(dir_status == GRAFT_ERR_IO, "loading a directory: GRAFT_ERR_IO (%d)",
        (int)dir_status);
  printf("message: %s\n", graft_last_error());

  /* \uXXXX escapes in names decode to UTF-8 (they became '?'), and text
   * after the header's JSON object is an error. */
  {
    snprintf(partial, sizeof partial, "%s/escaped.safetensors", dir);
    const char *h = "{\"fc1.w\\u0065ight\":{\"dtype\":\"F32\",\"shape\":"
                    "[32,16],\"data_offsets\":[0,2048]}}";
    write_raw(partial, h, w, sizeof(float) * 32 * 16);
    char found[1024] = "";
    OK(graft_load_ex(c, partial, GRAFT_LOAD_NON_STRICT, report, found));
    CHECK(strstr(found, "unexpected") == 0,
          "a \\u escape in a name decodes (fc1.w\\u0065ight is fc1.weight)");
    /* Another tool's metadata may hold long strings. */
    char *long_json = malloc(40000);
    int k = snprintf(long_json, 40000, "{\"__metadata__\":{\"format\":\"pt\",\"notes\":\"");
    for (int i = 0; i < 30000; ++i)
      long_json[k++] = 'a' + i % 26;
    snprintf(long_json + k, 40000 - (size_t)k, "\"},%s", h + 1);
    snprintf(partial, sizeof partial, "%s/long-metadata.safetensors", dir);
    write_raw(partial, long_json, w, sizeof(float) * 32 * 16);
    free(long_json);
    graft_status long_meta = graft_load_ex(c, partial, GRAFT_LOAD_NON_STRICT, 0, 0);
    CHECK(long_meta == GRAFT_OK, "a 30000-character metadata string of another "
          "tool is skipped (%d: %s)", (int)long_meta, graft_last_error());
    /* Text after the header's JSON object, within its length. */
    char trailing_json[256];
    snprintf(trailing_json, sizeof trailing_json, "%s x", h);
    snprintf(partial, sizeof partial, "%s/trailing.safetensors", dir);
    write_raw(partial, trailing_json, w, sizeof(float) * 32 * 16);
    graft_status trailing = graft_load_ex(c, partial, GRAFT_LOAD_NON_STRICT, 0, 0);
    CHECK(trailing == GRAFT_ERR_FORMAT,
          "text after the header's JSON object: GRAFT_ERR_FORMAT (%d)",
          (int)trailing);
  }

  /* Properties. */
  OK(graft_set_property(c, "note", "a \"quoted\"\tvalue \xc3\xa9"));
  OK(graft_set_property(c, "gone", "x"));
  OK(graft_set_property(c, "gone", 0));
  snprintf(partial, sizeof partial, "%s/props.safetensors", dir);
  OK(graft_save(c, partial));
  graft_context *d = create(1);
  OK(graft_load(d, partial));
  const char *note = 0, *gone = 0;
  OK(graft_get_property(d, "note", &note));
  graft_status g = graft_get_property(d, "gone", &gone);
  CHECK(note && strcmp(note, "a \"quoted\"\tvalue \xc3\xa9") == 0 &&
            g == GRAFT_ERR_NOT_FOUND,
        "user properties round-trip through a checkpoint");
  graft_destroy(a);
  graft_destroy(b);
  graft_destroy(c);
  graft_destroy(d);
}

#endif

/* The gradient of every input that requires grad accumulates over
 * forward_backward calls (x.grad of a leaf), and zero_grad clears it. */
static void accumulate(void) {
  graft_context *c = create(1);
  OK(graft_init(c, 1));
  int32_t count, ig = -1;
  OK(graft_tensor_count(c, &count));
  for (int32_t i = 0; i < count; ++i) {
    const graft_tensor_desc *d;
    void *data;
    OK(graft_tensor_info(c, i, &d));
    OK(graft_tensor_data(c, i, &data));
    if (d->role == GRAFT_ROLE_INPUT_GRAD)
      ig = i;
    if (d->role != GRAFT_ROLE_INPUT)
      continue;
    for (int64_t k = 0; k < d->numel; ++k) {
      if (d->dtype == GRAFT_DTYPE_F32)
        ((float *)data)[k] = (float)sin(0.7 * (double)k);
      else if (d->dtype == GRAFT_DTYPE_I64)
        ((int64_t *)data)[k] = k % 2;
    }
  }
  if (ig < 0) {
    printf("FAIL: no input gradient\n");
    exit(1);
  }
  const graft_tensor_desc *d;
  OK(graft_tensor_info(c, ig, &d));
  float *g, *once = malloc((size_t)d->nbytes);
  OK(graft_tensor_data(c, ig, (void **)&g));
  OK(graft_zero_grad(c));
  OK(graft_forward_backward(c, 0));
  memcpy(once, g, (size_t)d->nbytes);
  OK(graft_forward_backward(c, 0));
  int doubled = 1, nonzero = 0;
  for (int64_t k = 0; k < d->numel; ++k) {
    doubled &= g[k] == 2 * once[k];
    nonzero |= once[k] != 0;
  }
  CHECK(doubled && nonzero, "the gradient of input '%s' accumulates: after two "
        "forward_backward calls it is twice one call's", d->name);
  OK(graft_zero_grad(c));
  int zero = 1;
  for (int64_t k = 0; k < d->numel; ++k)
    zero &= g[k] == 0;
  CHECK(zero, "graft_zero_grad clears it");
  free(once);
  graft_destroy(c);
}

static void inspect(const char *path, const char *out, int weights_only) {
  graft_context *c = create(1);
  OK(graft_load(c, path));
  if (out)
    OK(weights_only ? graft_save_weights(c, out) : graft_save(c, out));
  uint64_t steps, seed;
  double lr;
  OK(graft_steps(c, &steps));
  OK(graft_get_seed(c, &seed));
  if (graft_get_hyper(c, "lr", &lr) != GRAFT_OK)
    lr = NAN; /* a model without an optimizer */
  printf("loaded %s: steps %llu seed %llu lr %.17g\n", strrchr(path, '/') + 1,
         (unsigned long long)steps, (unsigned long long)seed, lr);
  graft_destroy(c);
}

int main(int argc, char **argv) {
  (void)failures;
  if ((argc == 3 || argc == 4) && strcmp(argv[1], "inspect") == 0) {
    inspect(argv[2], argc == 4 ? argv[3] : 0, 0);
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "weights") == 0) {
    inspect(argv[2], argv[3], 1);
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "eval") == 0) {
    graft_context *c = create(1);
    double loss = 0;
    graft_status with = graft_eval(c, &loss);
    printf("graft_eval with a loss: %d (%s): %s\n", (int)with,
           graft_status_string(with), graft_last_error());
    graft_status without = graft_eval(c, 0);
    printf("graft_eval without: %d\n", (int)without);
    graft_destroy(c);
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "create") == 0) {
    graft_context *c = 0;
    graft_status s = graft_create(&MODEL, &c);
    printf("graft_create: %d (%s): %s\n", (int)s, graft_status_string(s),
           graft_last_error());
    graft_destroy(c);
    return s != GRAFT_OK;
  }
  if (argc == 2 && strcmp(argv[1], "accumulate") == 0) {
    accumulate();
    printf(failures ? "FAILED: %d\n" : "ALL PASSED\n", failures);
    return failures != 0;
  }
#ifdef RUN_STATE_TENSOR_COUNT
  if (argc == 4 && strcmp(argv[1], "resume") == 0) {
    int threads = atoi(argv[3]);
    resume(argv[2], threads, 1);
    resume(argv[2], threads, 0);
    if (threads == 1)
      regressions(argv[2]);
    printf(failures ? "FAILED: %d\n" : "ALL PASSED\n", failures);
    return failures != 0;
  }
#endif
  fprintf(stderr, "usage: run-state resume DIR THREADS | inspect FILE [RESAVED] | weights FILE OUT | accumulate | create | eval\n");
  return 2;
}
