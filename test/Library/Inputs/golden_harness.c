/* Trains a library built by `graft compile` for the steps of a PyTorch golden
 * (test/golden/library/NAME.golden, written by
 * test/golden/gen_library_goldens.py) and compares, per step, the loss, every
 * parameter's gradient, and every parameter and buffer after the optimizer
 * step, within a float32 tolerance.
 *
 *   golden_harness GOLDEN [--rtol R] [--atol A]
 *       Context A: graft_zero_grad, graft_forward_backward (loss, gradients
 *       read with graft_get_by_name), graft_step (parameters, buffers).
 *       Context B: graft_train_step (loss, parameters, buffers).
 *       Both start from the golden's parameters (its formula, set with
 *       graft_set_by_name) and its inputs. Prints one line per tensor and
 *       check, and `ALL PASSED` or `FAILED: N`; exits 1 on a mismatch.
 *
 *   golden_harness --determinism SEED STEPS OUT.safetensors [INPUT=CLASSES...]
 *                  [--save-init CKPT] [--load CKPT]
 *       graft_init(SEED) (then graft_save(CKPT) of that initial state, or
 *       graft_load(CKPT) to replace it), then STEPS train_steps on inputs
 *       from the formula (floats in [-1, 1], integers in [0, CLASSES)), then
 *       graft_save(OUT). Two runs with the same arguments must write the
 *       same bytes. With --load, SEED only drives the per-step seed
 *       (dropout masks).
 *
 *   golden_harness GOLDEN, with the lines of gen_parity_goldens.py
 *       (the PyTorch parity suite, test/Library/parity-*.test):
 *       `batches N`: step s trains on the inputs recorded for step
 *       (s - 1) % N + 1; `checks sparse`: the loss of every step, gradients,
 *       parameters and buffers only at the steps that record them (the
 *       last); `evalloss S` and `output S NAME`: after training, graft_eval
 *       on the inputs of step S (loss and outputs).
 *
 *   golden_harness --dropout GOLDEN [CONTROL] [--z Z]
 *       A golden with `dropout K LO HI` and PyTorch's `seedmean SEED V`
 *       (the mean training loss of steps LO..HI under torch.manual_seed(SEED),
 *       dropout on): K runs of graft_init(ctx, seed) (its dropout seed) for
 *       seed 1..K, the golden's parameters and batches, `steps` train_steps,
 *       each giving its own window mean. Passes when the difference of the
 *       two means of K is under Z (default 4) standard errors (Welch:
 *       sqrt(var_graft / K + var_torch / K)). CONTROL: a golden of the same
 *       batches from PyTorch with another dropout p, which the same K runs
 *       must be rejected by (the comparison can fail).
 *
 * Compiled with MODEL_HEADER (the generated header) and MODEL (its
 * descriptor); plain C11, needing only what the library does. */
#define _POSIX_C_SOURCE 200809L
#include MODEL_HEADER

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "must.h"

/* ------------------------------------------------- the shared formula --- */
static uint64_t splitmix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static uint64_t fnv1a64(const char *s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (; *s; ++s)
    h = (h ^ (unsigned char)*s) * 0x100000001B3ull;
  return h;
}

static uint64_t hash_at(const char *key, int64_t i) {
  return splitmix64(fnv1a64(key) ^ splitmix64((uint64_t)i));
}

/* gen_library_goldens.py's formula(): float32(c + w * (2r - 1)), r in [0,1). */
static void formula(const char *key, int64_t n, double c, double w, float *out) {
  for (int64_t i = 0; i < n; ++i) {
    double r = (double)(hash_at(key, i) >> 40) * (1.0 / 16777216.0);
    out[i] = (float)(c + w * (2.0 * r - 1.0));
  }
}

/* -------------------------------------------------------- the golden --- */
struct rec {             /* one line of the golden file */
  char kind[16], name[160];
  char key[160];         /* finput: the formula's key, when not the name */
  int step;
  int64_t n;             /* numel */
  double a, b;           /* init/finput: center, halfwidth; tensors: sum|x|, L2 */
  int64_t nsample;
  int64_t *idx;
  double *val;           /* tensors: sampled values; iinput: all values */
};
static struct rec *recs;
static int nrecs, steps;
static int batches;      /* `batches N`: inputs cycle over N recorded steps */
static int sparse;       /* `checks sparse` */
static int dropout_k, dropout_lo, dropout_hi; /* `dropout K LO HI` */

static char *next_tok(char **p) {
  char *s = *p;
  while (*s == ' ' || *s == '\t' || *s == '\n')
    ++s;
  if (!*s)
    return 0;
  char *e = s;
  while (*e && *e != ' ' && *e != '\t' && *e != '\n')
    ++e;
  if (*e)
    *e++ = 0;
  *p = e;
  return s;
}

static void bad_golden(const char *line) {
  printf("FAIL: malformed golden line: %.80s\n", line);
  exit(1);
}

static double num(char **p, const char *line) {
  char *t = next_tok(p), *end;
  if (!t)
    bad_golden(line);
  double v = strtod(t, &end);
  if (*end)
    bad_golden(line);
  return v;
}

static void read_golden(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    printf("FAIL: cannot open %s\n", path);
    exit(1);
  }
  char *line = 0, *copy = 0;
  size_t cap = 0;
  int cap_recs = 0;
  while (getline(&line, &cap, f) > 0) {
    free(copy);
    copy = strdup(line);
    char *p = line, *kind = next_tok(&p);
    if (!kind || kind[0] == '#' || !strcmp(kind, "model") ||
        !strcmp(kind, "source") || !strcmp(kind, "dims"))
      continue;
    if (!strcmp(kind, "steps")) {
      steps = (int)num(&p, copy);
      continue;
    }
    if (!strcmp(kind, "batches")) {
      batches = (int)num(&p, copy);
      continue;
    }
    if (!strcmp(kind, "checks")) {
      char *what = next_tok(&p);
      if (!what || strcmp(what, "sparse"))
        bad_golden(copy);
      sparse = 1;
      continue;
    }
    if (!strcmp(kind, "dropout")) {
      dropout_k = (int)num(&p, copy);
      dropout_lo = (int)num(&p, copy);
      dropout_hi = (int)num(&p, copy);
      continue;
    }
    if (nrecs == cap_recs) {
      cap_recs = cap_recs ? 2 * cap_recs : 256;
      recs = realloc(recs, sizeof *recs * (size_t)cap_recs);
    }
    struct rec *r = &recs[nrecs++];
    memset(r, 0, sizeof *r);
    snprintf(r->kind, sizeof r->kind, "%s", kind);
    if (!strcmp(kind, "init")) { /* init NAME NUMEL C W */
      snprintf(r->name, sizeof r->name, "%s", next_tok(&p));
      r->n = (int64_t)num(&p, copy);
      r->a = num(&p, copy);
      r->b = num(&p, copy);
      continue;
    }
    r->step = (int)num(&p, copy);
    if (!strcmp(kind, "loss") || !strcmp(kind, "evalloss") ||
        !strcmp(kind, "seedmean")) {
      r->a = num(&p, copy);
      continue;
    }
    char *name = next_tok(&p);
    if (!name)
      bad_golden(copy);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->n = (int64_t)num(&p, copy);
    if (!strcmp(kind, "finput")) { /* finput STEP NAME N C W [KEY] */
      r->a = num(&p, copy);
      r->b = num(&p, copy);
      char *key = next_tok(&p);
      snprintf(r->key, sizeof r->key, "%s", key ? key : name);
    } else if (!strcmp(kind, "iinput")) {
      r->val = malloc(sizeof(double) * (size_t)r->n);
      for (int64_t i = 0; i < r->n; ++i)
        r->val[i] = num(&p, copy);
    } else { /* param0, grad, param, buffer */
      r->a = num(&p, copy);
      r->b = num(&p, copy);
      r->nsample = (int64_t)num(&p, copy);
      r->idx = malloc(sizeof(int64_t) * (size_t)(r->nsample + 1));
      r->val = malloc(sizeof(double) * (size_t)(r->nsample + 1));
      for (int64_t i = 0; i < r->nsample; ++i) {
        r->idx[i] = (int64_t)num(&p, copy);
        r->val[i] = num(&p, copy);
        if (r->idx[i] < 0 || r->idx[i] >= r->n)
          bad_golden(copy);
      }
    }
    if (next_tok(&p))
      bad_golden(copy);
  }
  free(line);
  free(copy);
  fclose(f);
  if (steps <= 0) {
    printf("FAIL: %s: no `steps`\n", path);
    exit(1);
  }
}

/* --------------------------------------------------------- comparing --- */
static double rel_tol = 1e-4, abs_tol = 1e-5;
static int failures;
static double worst_ratio; /* largest error / allowed error seen */

static double elem(const graft_tensor_desc *d, const void *data, int64_t i) {
  switch (d->dtype) {
  case GRAFT_DTYPE_F32: return ((const float *)data)[i];
  case GRAFT_DTYPE_F64: return ((const double *)data)[i];
  case GRAFT_DTYPE_I64: return (double)((const int64_t *)data)[i];
  default: return NAN;
  }
}

static graft_role role_of(const char *kind) {
  if (!strcmp(kind, "grad"))
    return GRAFT_ROLE_GRAD;
  if (!strcmp(kind, "buffer"))
    return GRAFT_ROLE_BUFFER;
  if (!strcmp(kind, "output"))
    return GRAFT_ROLE_OUTPUT;
  return GRAFT_ROLE_PARAM;
}

/* Is |got - want| within tolerance? Records the ratio to the allowance. */
static int close_enough(double got, double want, double allowed) {
  double err = fabs(got - want);
  if (isnan(got) || isnan(want))
    return 0;
  if (allowed > 0 && err / allowed > worst_ratio)
    worst_ratio = err / allowed;
  return err <= allowed;
}

/* Compares a tensor of the context with a golden record: each recorded
 * element within abs_tol + rel_tol*|want|, and the norms within what that
 * elementwise tolerance implies for them (sum|x|: n*abs_tol + rel_tol*want;
 * L2: sqrt(n)*abs_tol + rel_tol*want). exact: bit-identical (as float32).
 * Prints one line; returns 1 when it matches. */
static int compare(graft_context *ctx, const char *what, const struct rec *r,
                   int exact) {
  graft_role role = role_of(r->kind);
  int32_t i;
  const graft_tensor_desc *d;
  if (graft_find_tensor(ctx, role, r->name, &i) != GRAFT_OK) {
    printf("  FAIL %s step %d %s %s: not in the model (%s)\n", what, r->step,
           r->kind, r->name, graft_last_error());
    return 0;
  }
  MUST(graft_tensor_info(ctx, i, &d));
  if (d->numel != r->n) {
    printf("  FAIL %s step %d %s %s: %lld elements, golden %lld\n", what,
           r->step, r->kind, r->name, (long long)d->numel, (long long)r->n);
    return 0;
  }
  void *data = malloc((size_t)d->nbytes);
  MUST(graft_get_by_name(ctx, role, r->name, data, (size_t)d->nbytes));
  int ok = 1;
  int64_t at = -1; /* the element furthest outside (or least inside) */
  double worst = -1, got_at = 0, want_at = 0;
  for (int64_t k = 0; k < r->nsample; ++k) {
    double got = elem(d, data, r->idx[k]), want = r->val[k];
    double allowed = abs_tol + rel_tol * fabs(want);
    int good = exact ? (float)got == (float)want
                     : close_enough(got, want, allowed);
    double score = isnan(got) ? INFINITY : fabs(got - want) / allowed;
    if (score > worst)
      at = r->idx[k], got_at = got, want_at = want, worst = score;
    ok &= good;
  }
  double sumabs = 0, l2 = 0;
  for (int64_t k = 0; k < d->numel; ++k) {
    double v = elem(d, data, k);
    sumabs += fabs(v);
    l2 += v * v;
  }
  l2 = sqrt(l2);
  free(data);
  double n = (double)d->numel;
  int normsOk = exact ? fabs(sumabs - r->a) <= 1e-9 * r->a &&
                            fabs(l2 - r->b) <= 1e-9 * r->b
                      : close_enough(sumabs, r->a, n * abs_tol + rel_tol * r->a) &&
                            close_enough(l2, r->b, sqrt(n) * abs_tol + rel_tol * r->b);
  printf("  %s %s step %d %s %s [%lld elements, %lld compared]: worst [%lld] "
         "%.9g, golden %.9g (|err| %.3g); sum|x| %.9g, golden %.9g; "
         "L2 %.9g, golden %.9g\n",
         ok && normsOk ? "ok" : "FAIL", what, r->step, r->kind, r->name,
         (long long)r->n, (long long)r->nsample, (long long)at, got_at,
         want_at, fabs(got_at - want_at), sumabs, r->a, l2, r->b);
  return ok && normsOk;
}

static void check(int ok, const char *fmt, int step, const char *what) {
  printf("%s: ", ok ? "PASS" : "FAIL");
  printf(fmt, step, what);
  printf("\n");
  if (!ok)
    ++failures;
}

/* Compares every record of `kind` at `step`; at least one must exist. */
static int compare_all(graft_context *ctx, const char *what, const char *kind,
                       int step, int exact, int *count) {
  int ok = 1;
  *count = 0;
  for (int k = 0; k < nrecs; ++k)
    if (recs[k].step == step && !strcmp(recs[k].kind, kind)) {
      ++*count;
      ok &= compare(ctx, what, &recs[k], exact);
    }
  return ok;
}

static int compare_loss_kind(const char *kind, const char *what, int step,
                             double loss) {
  for (int k = 0; k < nrecs; ++k)
    if (recs[k].step == step && !strcmp(recs[k].kind, kind)) {
      double want = recs[k].a;
      int ok = close_enough(loss, want, abs_tol + rel_tol * fabs(want));
      printf("  %s %s step %d loss: %.9g, golden %.9g (|err| %.3g)\n",
             ok ? "ok" : "FAIL", what, step, loss, want, fabs(loss - want));
      return ok;
    }
  printf("  FAIL %s step %d: no golden loss\n", what, step);
  return 0;
}

static int compare_loss(const char *what, int step, double loss) {
  return compare_loss_kind("loss", what, step, loss);
}

/* ---------------------------------------------------------- set up --- */
static void set_params(graft_context *ctx) {
  int32_t n;
  MUST(graft_tensor_count(ctx, &n));
  for (int32_t i = 0; i < n; ++i) { /* every parameter must have a formula */
    const graft_tensor_desc *d;
    MUST(graft_tensor_info(ctx, i, &d));
    if (d->role != GRAFT_ROLE_PARAM)
      continue;
    int found = 0;
    for (int k = 0; k < nrecs; ++k)
      if (!strcmp(recs[k].kind, "init") && !strcmp(recs[k].name, d->name)) {
        if (d->dtype != GRAFT_DTYPE_F32 || d->numel != recs[k].n) {
          printf("FAIL: parameter %s: not f32[%lld]\n", d->name,
                 (long long)recs[k].n);
          exit(1);
        }
        float *buf = malloc((size_t)d->nbytes);
        formula(d->name, d->numel, recs[k].a, recs[k].b, buf);
        MUST(graft_set_by_name(ctx, GRAFT_ROLE_PARAM, d->name, buf,
                               (size_t)d->nbytes));
        free(buf);
        found = 1;
      }
    if (!found) {
      printf("FAIL: parameter %s is not in the golden\n", d->name);
      exit(1);
    }
  }
}

static void set_input(graft_context *ctx, const char *name, int64_t n,
                      const float *f, const double *v) {
  int32_t i;
  const graft_tensor_desc *d;
  MUST(graft_find_tensor(ctx, GRAFT_ROLE_INPUT, name, &i));
  MUST(graft_tensor_info(ctx, i, &d));
  if (d->numel != n) {
    printf("FAIL: input %s: %lld elements, golden %lld\n", name,
           (long long)d->numel, (long long)n);
    exit(1);
  }
  void *buf = malloc((size_t)d->nbytes);
  for (int64_t e = 0; e < n; ++e) {
    if (d->dtype == GRAFT_DTYPE_F32)
      ((float *)buf)[e] = f ? f[e] : (float)v[e];
    else if (d->dtype == GRAFT_DTYPE_I64)
      ((int64_t *)buf)[e] = f ? (int64_t)f[e] : (int64_t)v[e];
    else {
      printf("FAIL: input %s: unsupported dtype\n", name);
      exit(1);
    }
  }
  MUST(graft_set_input(ctx, name, buf, (size_t)d->nbytes));
  free(buf);
}

static void set_inputs(graft_context *ctx, int step) {
  int seen = 0;
  if (batches > 0 && step <= steps) /* a small data set, cycled */
    step = (step - 1) % batches + 1;
  for (int k = 0; k < nrecs; ++k) {
    struct rec *r = &recs[k];
    if (r->step != step)
      continue;
    if (!strcmp(r->kind, "finput")) {
      char key[200];
      float *buf = malloc(sizeof(float) * (size_t)r->n);
      snprintf(key, sizeof key, "%s@%d", r->key, step);
      formula(key, r->n, r->a, r->b, buf);
      set_input(ctx, r->name, r->n, buf, 0);
      free(buf);
      ++seen;
    } else if (!strcmp(r->kind, "iinput")) {
      set_input(ctx, r->name, r->n, 0, r->val);
      ++seen;
    }
  }
  if (!seen) {
    printf("FAIL: the golden has no inputs for step %d\n", step);
    exit(1);
  }
}

/* ------------------------------------------------------ determinism --- */
static int determinism(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: golden_harness --determinism SEED STEPS OUT "
                    "[INPUT=CLASSES...]\n");
    return 2;
  }
  uint64_t seed = strtoull(argv[2], 0, 10);
  int nsteps = atoi(argv[3]);
  graft_context *ctx;
  MUST(graft_create(&MODEL, &ctx));
  MUST(graft_init(ctx, seed));
  for (int a = 5; a + 1 < argc; ++a) {
    if (!strcmp(argv[a], "--save-init")) /* weights only: no run state */
      MUST(graft_save_weights(ctx, argv[a + 1]));
    else if (!strcmp(argv[a], "--load"))
      MUST(graft_load(ctx, argv[a + 1]));
  }
  int32_t n;
  MUST(graft_tensor_count(ctx, &n));
  double loss = 0;
  for (int s = 1; s <= nsteps; ++s) {
    for (int32_t i = 0; i < n; ++i) {
      const graft_tensor_desc *d;
      MUST(graft_tensor_info(ctx, i, &d));
      if (d->role != GRAFT_ROLE_INPUT)
        continue;
      char key[200];
      snprintf(key, sizeof key, "%s@%d", d->name, s);
      void *data;
      MUST(graft_tensor_data(ctx, i, &data));
      if (d->dtype == GRAFT_DTYPE_F32) {
        formula(key, d->numel, 0.0, 1.0, data);
        continue;
      }
      long classes = 0;
      size_t len = strlen(d->name);
      for (int a = 5; a < argc; ++a)
        if (!strncmp(argv[a], d->name, len) && argv[a][len] == '=')
          classes = strtol(argv[a] + len + 1, 0, 10);
      if (d->dtype != GRAFT_DTYPE_I64 || classes <= 0) {
        printf("FAIL: input %s: give its class count as %s=N\n", d->name,
               d->name);
        return 1;
      }
      for (int64_t e = 0; e < d->numel; ++e)
        ((int64_t *)data)[e] = (int64_t)(hash_at(key, e) % (uint64_t)classes);
    }
    MUST(graft_train_step(ctx, &loss));
  }
  MUST(graft_save(ctx, argv[4]));
  printf("seed %llu: %d train steps, last loss %.9g (%a)\nsaved %s\n",
         (unsigned long long)seed, nsteps, loss, loss, argv[4]);
  graft_destroy(ctx);
  return 0;
}

/* ------------------------------------------------------------- main --- */
/* After `entry` of step s: the parameters (at least one) and the buffers
 * (if any) are the golden's. */
static void check_updated(graft_context *ctx, const char *entry, int s) {
  char what[64];
  int count;
  int ok = compare_all(ctx, entry, "param", s, 0, &count);
  snprintf(what, sizeof what, "%s: %d parameters", entry, count);
  if (!sparse || count || s == steps) /* sparse: the last step at least */
    check(ok && count > 0, "step %d: %s", s, what);
  ok = compare_all(ctx, entry, "buffer", s, 0, &count);
  if (count) {
    snprintf(what, sizeof what, "%s: %d buffers", entry, count);
    check(ok, "step %d: %s", s, what);
  }
}

/* After training: graft_eval on the inputs of each `evalloss` step, its loss
 * and outputs against PyTorch's model.eval(). */
static void check_eval(graft_context *ctx, const char *entry) {
  for (int k = 0; k < nrecs; ++k) {
    if (strcmp(recs[k].kind, "evalloss"))
      continue;
    int s = recs[k].step, count;
    double loss;
    char what[96];
    set_inputs(ctx, s);
    MUST(graft_eval(ctx, &loss));
    snprintf(what, sizeof what, "eval after %s: loss", entry);
    check(compare_loss_kind("evalloss", what, s, loss), "step %d: %s", s, what);
    int ok = compare_all(ctx, what, "output", s, 0, &count);
    snprintf(what, sizeof what, "eval after %s: %d outputs", entry, count);
    check(ok && count > 0, "step %d: %s", s, what);
  }
}

/* ------------------------------------------------ dropout statistics --- */
static void mean_sd(const double *v, int n, double *mean, double *sd) {
  double m = 0, q = 0;
  for (int i = 0; i < n; ++i)
    m += v[i];
  m /= n;
  for (int i = 0; i < n; ++i)
    q += (v[i] - m) * (v[i] - m);
  *mean = m;
  *sd = n > 1 ? sqrt(q / (n - 1)) : 0;
}

/* PyTorch's K window means (`seedmean`) from the golden read last. */
static double *torch_means(const char *path, int K) {
  double *t = calloc((size_t)K, sizeof *t);
  int nt = 0;
  for (int k = 0; k < nrecs; ++k)
    if (!strcmp(recs[k].kind, "seedmean") && nt < K)
      t[nt++] = recs[k].a;
  if (nt != K) {
    printf("FAIL: %s: %d seedmean lines, expected %d\n", path, nt, K);
    exit(1);
  }
  return t;
}

/* Graft's K window means g against PyTorch's t: prints the statistics,
 * returns 1 when |mean(g) - mean(t)| < zmax standard errors. */
static int same_mean(const double *g, const double *t, int K, double zmax) {
  double gm, gs, tm, ts;
  mean_sd(g, K, &gm, &gs);
  mean_sd(t, K, &tm, &ts);
  double se = sqrt(gs * gs / K + ts * ts / K), d = gm - tm;
  double z = se > 0 ? d / se : INFINITY;
  printf("  graft: mean %.6f, sd over seeds %.6f\n", gm, gs);
  printf("  torch: mean %.6f, sd over seeds %.6f\n", tm, ts);
  printf("  difference %.6f, standard error %.6f, z %.2f (bound %g)\n", d, se,
         z, zmax);
  return fabs(z) < zmax;
}

static int dropout_stats(int argc, char **argv) {
  double zmax = 4;
  const char *control = 0;
  if (argc < 3) {
    fprintf(stderr, "usage: golden_harness --dropout GOLDEN [CONTROL] [--z Z]\n");
    return 2;
  }
  for (int a = 3; a < argc; ++a) {
    if (!strcmp(argv[a], "--z") && a + 1 < argc)
      zmax = atof(argv[++a]);
    else
      control = argv[a];
  }
  read_golden(argv[2]);
  int K = dropout_k, lo = dropout_lo, hi = dropout_hi;
  if (K < 2 || lo < 1 || hi > steps || lo > hi) {
    printf("FAIL: %s: no valid `dropout K LO HI` line\n", argv[2]);
    return 1;
  }
  double *g = calloc((size_t)K, sizeof *g), *t = torch_means(argv[2], K);
  printf("model %s, dropout on: %d seeds, %d steps, mean loss of steps %d-%d\n",
         MODEL.name, K, steps, lo, hi);
  graft_context *ctx;
  MUST(graft_create(&MODEL, &ctx));
  printf("  graft window means:");
  for (int seed = 1; seed <= K; ++seed) {
    MUST(graft_init(ctx, (uint64_t)seed)); /* the dropout seed; state reset */
    set_params(ctx);
    double sum = 0, loss;
    for (int s = 1; s <= steps; ++s) {
      set_inputs(ctx, s);
      MUST(graft_train_step(ctx, &loss));
      if (s >= lo && s <= hi)
        sum += loss;
    }
    g[seed - 1] = sum / (hi - lo + 1);
    printf(" %.6f", g[seed - 1]);
  }
  printf("\n");
  graft_destroy(ctx);
  int ok = same_mean(g, t, K, zmax);
  printf("%s: dropout: mean training loss within %g standard errors of "
         "PyTorch's\n", ok ? "PASS" : "FAIL", zmax);
  if (control) {
    /* The same batches and parameters (the control's must be the golden's:
     * only its dropout p differs), so Graft's K runs serve again. */
    int k0 = K, lo0 = lo, hi0 = hi, steps0 = steps;
    nrecs = 0;
    read_golden(control);
    if (dropout_k != k0 || dropout_lo != lo0 || dropout_hi != hi0 ||
        steps != steps0) {
      printf("FAIL: %s: not a control of %s\n", control, argv[2]);
      return 1;
    }
    free(t);
    t = torch_means(control, K);
    printf("control: PyTorch with another dropout p\n");
    int rejected = !same_mean(g, t, K, zmax);
    printf("%s: control: PyTorch with another dropout p is rejected\n",
           rejected ? "PASS" : "FAIL");
    ok &= rejected;
  }
  free(g);
  free(t);
  return ok ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "--determinism"))
    return determinism(argc, argv);
  if (argc >= 2 && !strcmp(argv[1], "--dropout"))
    return dropout_stats(argc, argv);
  if (argc < 2) {
    fprintf(stderr, "usage: golden_harness GOLDEN [--rtol R] [--atol A]\n");
    return 2;
  }
  for (int a = 2; a + 1 < argc; a += 2) {
    if (!strcmp(argv[a], "--rtol"))
      rel_tol = atof(argv[a + 1]);
    else if (!strcmp(argv[a], "--atol"))
      abs_tol = atof(argv[a + 1]);
  }
  read_golden(argv[1]);
  printf("model %s, %d steps, rtol %g, atol %g\n", MODEL.name, steps, rel_tol,
         abs_tol);

  graft_context *a, *b;
  MUST(graft_create(&MODEL, &a));
  MUST(graft_create(&MODEL, &b));
  MUST(graft_init(a, 0)); /* learning rates, buffers, optimizer state */
  MUST(graft_init(b, 0));
  set_params(a);
  set_params(b);
  int count, ok;
  ok = compare_all(a, "init", "param0", 0, 1, &count);
  check(ok && count > 0, "step %d: %s: parameters set from the formula are the golden's",
        0, "init");

  int losses_ok[2] = {1, 1}; /* sparse: every step's loss, per entry */
  for (int s = 1; s <= steps; ++s) {
    double loss;
    char what[64];
    set_inputs(a, s);
    MUST(graft_zero_grad(a));
    MUST(graft_forward_backward(a, &loss));
    ok = compare_loss("forward_backward", s, loss);
    if (sparse)
      losses_ok[0] &= ok;
    else
      check(ok, "step %d: %s: loss", s, "forward_backward");
    ok = compare_all(a, "forward_backward", "grad", s, 0, &count);
    snprintf(what, sizeof what, "forward_backward: %d gradients", count);
    if (!sparse || count)
      check(ok && count > 0, "step %d: %s", s, what);
    MUST(graft_step(a));
    check_updated(a, "step", s);

    set_inputs(b, s);
    MUST(graft_train_step(b, &loss));
    ok = compare_loss("train_step", s, loss);
    if (sparse)
      losses_ok[1] &= ok;
    else
      check(ok, "step %d: %s: loss", s, "train_step");
    check_updated(b, "train_step", s);
  }
  if (sparse) {
    check(losses_ok[0], "steps 1-%d: %s: the loss of every step", steps,
          "forward_backward");
    check(losses_ok[1], "steps 1-%d: %s: the loss of every step", steps,
          "train_step");
  }
  check_eval(a, "step");
  check_eval(b, "train_step");
  printf("worst error / allowed error: %.3g\n", worst_ratio);
  graft_destroy(a);
  graft_destroy(b);
  if (failures) {
    printf("FAILED: %d\n", failures);
    return 1;
  }
  printf("ALL PASSED\n");
  return 0;
}
