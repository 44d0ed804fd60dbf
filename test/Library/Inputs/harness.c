/* Checks a library built by `graft compile` against graft-reference's
 * output (the reference evaluator) for the same seed and inputs:
 *   harness REFERENCE SEED WORKDIR UPDATE_ATOL [GRAFT_TRAIN_CHECKPOINT]
 * Compiled with MODEL_HEADER (the generated header) and MODEL (its
 * descriptor). Prints one PASS/FAIL line per check; exits 1 on a failure. */
#include MODEL_HEADER

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void check(int ok, const char *what) {
  printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
  if (!ok)
    ++failures;
}

#include "must.h"

struct ref {
  char kind[16], name[128];
  long n;
  double *v;
};
static struct ref refs[256];
static int nrefs;

static void read_refs(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    printf("FAIL: cannot open %s\n", path);
    exit(1);
  }
  while (nrefs < 256 && fscanf(f, "%15s %127s %ld", refs[nrefs].kind,
                               refs[nrefs].name, &refs[nrefs].n) == 3) {
    refs[nrefs].v = malloc(sizeof(double) * (size_t)(refs[nrefs].n + 1));
    for (long i = 0; i < refs[nrefs].n; ++i)
      if (fscanf(f, "%lf", &refs[nrefs].v[i]) != 1) {
        printf("FAIL: bad reference file\n");
        exit(1);
      }
    ++nrefs;
  }
  fclose(f);
}

static double value(const graft_tensor_desc *d, const void *data, long i) {
  switch (d->dtype) {
  case GRAFT_DTYPE_F32: return ((const float *)data)[i];
  case GRAFT_DTYPE_F64: return ((const double *)data)[i];
  case GRAFT_DTYPE_I64: return (double)((const int64_t *)data)[i];
  default: return NAN;
  }
}

/* Largest |a - ref| - rtol*|ref| over the tensor; <= atol passes. */
static int compare(graft_context *ctx, graft_role role, const struct ref *r,
                   double scale, double atol, double rtol, int exact) {
  int32_t i;
  const graft_tensor_desc *d;
  void *data;
  if (graft_find_tensor(ctx, role, r->name, &i) != GRAFT_OK) {
    printf("  no tensor %s: %s\n", r->name, graft_last_error());
    return 0;
  }
  MUST(graft_tensor_info(ctx, i, &d));
  MUST(graft_tensor_data(ctx, i, &data));
  if (d->numel != r->n) {
    printf("  %s: %lld elements, reference %ld\n", r->name, (long long)d->numel, r->n);
    return 0;
  }
  double worst = 0;
  long at = 0;
  for (long k = 0; k < r->n; ++k) {
    double want = scale * r->v[k], got = value(d, data, k);
    if (exact) {
      if ((float)want != (float)got) {
        printf("  %s[%ld]: %.9g, reference %.9g (bit-exact expected)\n",
               r->name, k, got, want);
        return 0;
      }
      continue;
    }
    double err = fabs(got - want) - rtol * fabs(want);
    if (err > worst || isnan(got))
      worst = isnan(got) ? INFINITY : err, at = k;
  }
  if (worst > atol) {
    printf("  %s[%ld]: %.9g, reference %.9g\n", r->name, at,
           value(d, data, at), scale * r->v[at]);
    return 0;
  }
  return 1;
}

static void set_inputs(graft_context *ctx) {
  for (int k = 0; k < nrefs; ++k) {
    if (strcmp(refs[k].kind, "input"))
      continue;
    int32_t i;
    const graft_tensor_desc *d;
    void *data;
    MUST(graft_find_tensor(ctx, GRAFT_ROLE_INPUT, refs[k].name, &i));
    MUST(graft_tensor_info(ctx, i, &d));
    MUST(graft_tensor_data(ctx, i, &data));
    for (long e = 0; e < refs[k].n && e < d->numel; ++e) {
      if (d->dtype == GRAFT_DTYPE_F32)
        ((float *)data)[e] = (float)refs[k].v[e];
      else if (d->dtype == GRAFT_DTYPE_I64)
        ((int64_t *)data)[e] = (int64_t)refs[k].v[e];
    }
  }
}

static int all(graft_context *ctx, const char *kind, graft_role role,
               double scale, double atol, double rtol, int exact) {
  int ok = 1, seen = 0;
  for (int k = 0; k < nrefs; ++k)
    if (!strcmp(refs[k].kind, kind)) {
      ++seen;
      ok &= compare(ctx, role, &refs[k], scale, atol, rtol, exact);
    }
  return ok && seen > 0;
}

static int hook_calls;
static void zero_hook(const char *name, graft_role role, void *data,
                      const graft_tensor_desc *d, void *user) {
  (void)name;
  (void)role;
  ++hook_calls;
  *(int *)user += 1;
  memset(data, 0, (size_t)d->nbytes);
}

static void count_hook(const char *name, graft_role role, void *data,
                       const graft_tensor_desc *d, void *user) {
  (void)name;
  (void)role;
  (void)data;
  (void)d;
  *(int *)user += 1;
}

static void double_hook(const char *name, graft_role role, void *data,
                        const graft_tensor_desc *d, void *user) {
  (void)name;
  if (role != GRAFT_ROLE_GRAD || d->dtype != GRAFT_DTYPE_F32)
    return;
  *(int *)user += 1;
  for (int64_t k = 0; k < d->numel; ++k)
    ((float *)data)[k] *= 2.0f;
}

/* Multiplies every f32 input by `by` (a second batch). */
static void scale_inputs(graft_context *ctx, float by) {
  int32_t n;
  MUST(graft_tensor_count(ctx, &n));
  for (int32_t i = 0; i < n; ++i) {
    const graft_tensor_desc *d;
    float *x;
    MUST(graft_tensor_info(ctx, i, &d));
    if (d->role != GRAFT_ROLE_INPUT || d->dtype != GRAFT_DTYPE_F32)
      continue;
    MUST(graft_tensor_data(ctx, i, (void **)&x));
    for (int64_t k = 0; k < d->numel; ++k)
      x[k] *= by;
  }
}

/* A context of MODEL initialised from `seed` (hooked and plain twins). */
static graft_context *twin(uint64_t seed) {
  graft_context *ctx;
  MUST(graft_create(&MODEL, &ctx));
  MUST(graft_init(ctx, seed));
  return ctx;
}

/* Is every f32 tensor of `role` in `a` within atol + rtol * |scale * b| of
 * `scale` times its twin in `b`? (0, 0: exactly.) */
static int scaled_copy(graft_context *a, graft_context *b, graft_role role,
                       float scale, float atol, float rtol) {
  int same = 1;
  int32_t n;
  MUST(graft_tensor_count(a, &n));
  for (int32_t i = 0; i < n; ++i) {
    const graft_tensor_desc *d;
    float *x, *y;
    MUST(graft_tensor_info(a, i, &d));
    if (d->role != role || d->dtype != GRAFT_DTYPE_F32)
      continue;
    MUST(graft_tensor_data(a, i, (void **)&x));
    MUST(graft_tensor_data(b, i, (void **)&y));
    for (int64_t k = 0; k < d->numel; ++k) {
      float want = scale * y[k];
      same &= fabsf(x[k] - want) <= atol + rtol * fabsf(want);
    }
  }
  return same;
}

static int all_zero(graft_context *ctx, graft_role role) {
  int32_t n;
  MUST(graft_tensor_count(ctx, &n));
  for (int32_t i = 0; i < n; ++i) {
    const graft_tensor_desc *d;
    void *data;
    MUST(graft_tensor_info(ctx, i, &d));
    if (d->role != (int32_t)role)
      continue;
    MUST(graft_tensor_data(ctx, i, &data));
    for (long e = 0; e < d->numel; ++e)
      if (value(d, data, e) != 0)
        return 0;
  }
  return 1;
}

/* A safetensors file with one entry naming `key`, dtype and shape; data of
 * `bytes` zero bytes, of which the file keeps `keep`. */
static void write_file(const char *path, const char *header, long bytes,
                       long keep) {
  FILE *f = fopen(path, "wb");
  unsigned long long n = strlen(header);
  unsigned char len[8];
  for (int k = 0; k < 8; ++k)
    len[k] = (unsigned char)(n >> (8 * k));
  fwrite(len, 1, 8, f);
  fwrite(header, 1, n, f);
  for (long i = 0; i < bytes && i < keep; ++i)
    fputc(0, f);
  fclose(f);
}

static void expect_load(graft_context *ctx, const char *path, graft_status want,
                        const char *what) {
  graft_status s = graft_load(ctx, path);
  printf("  %s -> %s: %s\n", what, graft_status_string(s), graft_last_error());
  check(s == want && strlen(graft_last_error()) > 0, what);
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: harness REFERENCE SEED WORKDIR UPDATE_ATOL\n");
    return 2;
  }
  read_refs(argv[1]);
  uint64_t seed = strtoull(argv[2], 0, 10);
  const char *dir = argv[3];
  double updateAtol = atof(argv[4]);
  char path[4096];

  graft_context *a, *b, *c;
  MUST(graft_create(&MODEL, &a));
  MUST(graft_init(a, seed));
  check(all(a, "param", GRAFT_ROLE_PARAM, 1, 0, 0, 1),
        "init: parameters bit-identical to graft::eval::initTensor");

  set_inputs(a);
  double loss, loss2;
  MUST(graft_zero_grad(a));
  MUST(graft_forward_backward(a, &loss));
  for (int k = 0; k < nrefs; ++k)
    if (!strcmp(refs[k].kind, "loss"))
      check(fabs(loss - refs[k].v[0]) <= 1e-5 + 1e-4 * fabs(refs[k].v[0]),
            "forward_backward: loss matches the evaluator");
  check(all(a, "grad", GRAFT_ROLE_GRAD, 1, 1e-5, 1e-3, 0),
        "forward_backward: gradients match the evaluator");
  {
    int any = 0;
    for (int k = 0; k < nrefs; ++k)
      any |= !strcmp(refs[k].kind, "retained");
    if (any)
      check(all(a, "retained", GRAFT_ROLE_RETAINED_GRAD, 1, 1e-5, 1e-3, 0),
            "forward_backward: retained gradients match the evaluator");
  }
  MUST(graft_forward_backward(a, &loss2));
  check(loss2 == loss && all(a, "grad", GRAFT_ROLE_GRAD, 2, 2e-5, 1e-3, 0),
        "forward_backward accumulates: twice the gradients");
  MUST(graft_zero_grad(a));
  check(all_zero(a, GRAFT_ROLE_GRAD), "zero_grad zeroes every gradient");

  /* train_step from the same state: the parameters after one step. */
  MUST(graft_create(&MODEL, &b));
  MUST(graft_init(b, seed));
  set_inputs(b);
  double lossStep;
  MUST(graft_train_step(b, &lossStep));
  check(lossStep == loss, "train_step: the same loss as forward_backward");
  check(all(b, "updated", GRAFT_ROLE_PARAM, 1, updateAtol, 1e-4, 0),
        "train_step: updated parameters match the reference step");

  /* forward_backward + step gives train_step's parameters. */
  MUST(graft_init(a, seed));
  set_inputs(a);
  MUST(graft_forward_backward(a, 0));
  MUST(graft_step(a));
  check(all(a, "updated", GRAFT_ROLE_PARAM, 1, updateAtol, 1e-4, 0),
        "forward_backward then step: updated parameters match");

  /* Same seed, same steps: bit-identical, whatever the thread count (b
   * runs on one thread, c on three: the work is split by disjoint outputs). */
  {
    int32_t t;
    MUST(graft_set_num_threads(b, 1));
    MUST(graft_get_num_threads(b, &t));
    check(t == 1, "graft_set_num_threads(1): one thread");
  }
  MUST(graft_create(&MODEL, &c));
  MUST(graft_set_num_threads(c, 3));
  MUST(graft_init(c, seed));
  set_inputs(c);
  MUST(graft_train_step(c, 0));
  MUST(graft_train_step(b, 0));
  MUST(graft_train_step(c, 0));
  {
    int32_t n, same = 1;
    MUST(graft_tensor_count(b, &n));
    for (int32_t i = 0; i < n; ++i) {
      const graft_tensor_desc *d;
      void *x, *y;
      MUST(graft_tensor_info(b, i, &d));
      MUST(graft_tensor_data(b, i, &x));
      MUST(graft_tensor_data(c, i, &y));
      if (d->role <= GRAFT_ROLE_OPT_STATE)
        same &= memcmp(x, y, (size_t)d->nbytes) == 0;
    }
    check(same, "two contexts, same seed and steps, 1 and 3 threads: "
                "bit-identical state");
  }

  /* The learning rate at run time: 0 leaves the parameters alone. */
  {
    MUST(graft_init(a, seed));
    set_inputs(a);
    MUST(graft_set_lr(a, 0.0));
    double lr;
    MUST(graft_get_hyper(a, "lr", &lr));
    MUST(graft_train_step(a, 0));
    check(lr == 0.0 && all(a, "param", GRAFT_ROLE_PARAM, 1, 0, 0, 1),
          "set_lr(0): train_step leaves the parameters unchanged");
  }

  /* Gradient hooks after forward_backward. */
  {
    int mine = 0;
    MUST(graft_init(a, seed));
    set_inputs(a);
    MUST(graft_register_grad_hook(a, 0, zero_hook, &mine));
    MUST(graft_forward_backward(a, 0));
    check(mine > 0 && all_zero(a, GRAFT_ROLE_GRAD),
          "grad hooks: called after forward_backward, may modify the gradient");
    MUST(graft_clear_grad_hooks(a));
    check(graft_register_grad_hook(a, "no.such", zero_hook, &mine) ==
              GRAFT_ERR_NOT_FOUND,
          "grad hooks: an unknown name is an error");
  }

  /* Gradient hooks with accumulation: each forward_backward's hook sees
   * that backward's gradient alone, as PyTorch's Tensor.register_hook, and
   * its result is accumulated: a hook doubling the gradient over two
   * forward_backward calls gives exactly twice the plain accumulation
   * (doubling the sum instead would give 4 g1 + 2 g2). */
  {
    int mine = 0;
    graft_context *h = twin(seed), *plain = twin(seed);
    MUST(graft_register_grad_hook(h, 0, double_hook, &mine));
    for (int call = 0; call < 2; ++call) {
      set_inputs(h);
      set_inputs(plain);
      if (call == 1) { /* a different batch */
        scale_inputs(h, 0.5f);
        scale_inputs(plain, 0.5f);
      }
      MUST(graft_forward_backward(h, 0));
      MUST(graft_forward_backward(plain, 0));
    }
    check(mine > 0 && scaled_copy(h, plain, GRAFT_ROLE_GRAD, 2.0f, 0.0f, 0.0f),
          "grad hooks: each backward's gradient, before accumulation");
    MUST(graft_destroy(h));
    MUST(graft_destroy(plain));
  }

  /* Gradient hooks with train_step: an identity hook sees every gradient
   * and the step is the fused one's (two contexts, same seed and inputs). */
  {
    int mine = 0;
    graft_context *h = twin(seed), *plain = twin(seed);
    set_inputs(h);
    set_inputs(plain);
    MUST(graft_register_grad_hook(h, 0, count_hook, &mine));
    MUST(graft_train_step(h, 0));
    MUST(graft_train_step(plain, 0));
    check(mine > 0 &&
              scaled_copy(h, plain, GRAFT_ROLE_PARAM, 1.0f, 1e-6f, 1e-5f),
          "grad hooks: called by train_step, which updates as without them");
    MUST(graft_destroy(h));
    MUST(graft_destroy(plain));
  }

  /* By name and index. */
  {
    const graft_tensor_desc *d;
    MUST(graft_tensor_info(b, 0, &d));
    float *buf = malloc((size_t)d->nbytes);
    MUST(graft_get(b, 0, buf, (size_t)d->nbytes));
    MUST(graft_set_by_name(a, GRAFT_ROLE_PARAM, d->name, buf, (size_t)d->nbytes));
    check(graft_get(b, 0, buf, 3) == GRAFT_ERR_SIZE,
          "get with the wrong byte count: GRAFT_ERR_SIZE");
    check(graft_get(b, 100000, buf, 4) == GRAFT_ERR_INVALID_ARGUMENT,
          "get with a bad index: GRAFT_ERR_INVALID_ARGUMENT");
    check(graft_set_by_name(a, GRAFT_ROLE_LOSS, "loss", buf, 4) ==
              GRAFT_ERR_READ_ONLY,
          "set on a result: GRAFT_ERR_READ_ONLY");
    free(buf);
  }

  /* Checkpoints. */
  snprintf(path, sizeof path, "%s/ok.safetensors", dir);
  MUST(graft_save(b, path));
  MUST(graft_init(a, seed + 1));
  MUST(graft_load(a, path));
  {
    int32_t n, same = 1;
    MUST(graft_tensor_count(b, &n));
    for (int32_t i = 0; i < n; ++i) {
      const graft_tensor_desc *d;
      void *x, *y;
      MUST(graft_tensor_info(b, i, &d));
      MUST(graft_tensor_data(b, i, &x));
      MUST(graft_tensor_data(a, i, &y));
      if (d->role == GRAFT_ROLE_PARAM || d->role == GRAFT_ROLE_BUFFER ||
          d->role == GRAFT_ROLE_OPT_STATE)
        same &= memcmp(x, y, (size_t)d->nbytes) == 0;
    }
    check(same, "save then load: parameters and optimizer state restored");
  }
  /* Bad files, and the state they must not touch. */
  {
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *bytes = malloc((size_t)size);
    if (fread(bytes, 1, (size_t)size, f) != (size_t)size)
      exit(1);
    fclose(f);
    char bad[4096];
    snprintf(bad, sizeof bad, "%s/truncated.safetensors", dir);
    f = fopen(bad, "wb");
    fwrite(bytes, 1, (size_t)size - 5, f);
    fclose(f);
    expect_load(a, bad, GRAFT_ERR_FORMAT, "load: truncated data");
    f = fopen(bad, "wb");
    fwrite(bytes, 1, 20, f);
    fclose(f);
    expect_load(a, bad, GRAFT_ERR_FORMAT, "load: truncated header");
    f = fopen(bad, "wb");
    fwrite(bytes, 1, 4, f);
    fclose(f);
    expect_load(a, bad, GRAFT_ERR_FORMAT, "load: shorter than the length field");
    snprintf(bad, sizeof bad, "%s/text.safetensors", dir);
    f = fopen(bad, "wb");
    fputs("this is not a safetensors file at all, just text\n", f);
    fclose(f);
    expect_load(a, bad, GRAFT_ERR_FORMAT, "load: not safetensors");
    free(bytes);

    const graft_tensor_desc *d;
    MUST(graft_tensor_info(a, 0, &d)); /* the first parameter */
    char header[1024];
    snprintf(bad, sizeof bad, "%s/name.safetensors", dir);
    snprintf(header, sizeof header,
             "{\"nope.weight\":{\"dtype\":\"F32\",\"shape\":[%lld],"
             "\"data_offsets\":[0,%lld]}}",
             (long long)d->numel, (long long)d->nbytes);
    write_file(bad, header, d->nbytes, d->nbytes);
    expect_load(a, bad, GRAFT_ERR_NOT_FOUND, "load: a name the model lacks");
    snprintf(bad, sizeof bad, "%s/shape.safetensors", dir);
    snprintf(header, sizeof header,
             "{\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld,1,1],"
             "\"data_offsets\":[0,%lld]}}",
             d->name, (long long)d->numel, (long long)d->nbytes);
    write_file(bad, header, d->nbytes, d->nbytes);
    expect_load(a, bad, GRAFT_ERR_SIZE, "load: a wrong shape");
    snprintf(bad, sizeof bad, "%s/dtype.safetensors", dir);
    snprintf(header, sizeof header, "{\"%s\":{\"dtype\":\"F64\",\"shape\":[",
             d->name);
    for (int32_t k = 0; k < d->rank; ++k)
      snprintf(header + strlen(header), sizeof header - strlen(header),
               k ? ",%lld" : "%lld", (long long)d->shape[k]);
    snprintf(header + strlen(header), sizeof header - strlen(header),
             "],\"data_offsets\":[0,%lld]}}", (long long)(2 * d->nbytes));
    write_file(bad, header, 2 * d->nbytes, 2 * d->nbytes);
    expect_load(a, bad, GRAFT_ERR_DTYPE, "load: a wrong dtype");
    snprintf(bad, sizeof bad, "%s/missing.safetensors", dir);
    write_file(bad, "{}", 0, 0);
    expect_load(a, bad, GRAFT_ERR_NOT_FOUND, "load: a parameter missing");
    snprintf(bad, sizeof bad, "%s/json.safetensors", dir);
    write_file(bad, "{\"a\":{\"dtype\":", 0, 0);
    /* The whole header is read before any name is looked up. */
    expect_load(a, bad, GRAFT_ERR_FORMAT, "load: broken JSON (unknown name first)");
    write_file(bad, "{\"__metadata__\":{\"x\":[1,{\"y\":", 0, 0);
    expect_load(a, bad, GRAFT_ERR_FORMAT, "load: broken JSON");
    snprintf(bad, sizeof bad, "%s/does-not-exist.safetensors", dir);
    expect_load(a, bad, GRAFT_ERR_IO, "load: no such file");
    /* After every failure, the state is the good checkpoint's. */
    int32_t n, same = 1;
    MUST(graft_tensor_count(b, &n));
    for (int32_t i = 0; i < n; ++i) {
      void *x, *y;
      MUST(graft_tensor_info(b, i, &d));
      MUST(graft_tensor_data(b, i, &x));
      MUST(graft_tensor_data(a, i, &y));
      if (d->role == GRAFT_ROLE_PARAM)
        same &= memcmp(x, y, (size_t)d->nbytes) == 0;
    }
    check(same, "failed loads leave the parameters unchanged");
  }

  /* A checkpoint `graft train` wrote (optional fifth argument). */
  if (argc > 5) {
    double step = 0;
    graft_status s = graft_load(a, argv[5]);
    if (s)
      printf("  %s: %s\n", argv[5], graft_last_error());
    graft_get_by_name(a, GRAFT_ROLE_OPT_STATE, "step", &step, sizeof step);
    printf("  optimizer step from graft train: %g\n", step);
    check(s == GRAFT_OK && step > 0,
          "load: a graft train checkpoint, with its optimizer state");
  }

  MUST(graft_destroy(a));
  MUST(graft_destroy(b));
  MUST(graft_destroy(c));
  printf("%s: %d failures\n", failures ? "FAILED" : "ALL PASSED", failures);
  return failures ? 1 : 0;
}
