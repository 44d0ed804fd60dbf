/* Hooks on hook points (GRAFT_ROLE_HOOK): the generated code calls them in
 * the middle of the backward, and what they leave flows on upstream, as
 * PyTorch's h.register_hook(lambda g: k * g) on a non-leaf h. Compared with
 * the unhooked run of a twin context (same seed, same inputs):
 *   - doubling at h doubles the gradients of fc1 (upstream of h) and leaves
 *     fc2 and side (downstream of h, beside it) as they were;
 *   - tripling at the retained r triples fc1 and fc2 (upstream of r) and
 *     the retained gradient of r (it reports what flows on), not side;
 *   - both multiply fc1 by 6; zeroing at h zeroes fc1;
 *   - train_step stays fused and calls them: its update is
 *     zero_grad + forward_backward + step's with the same hook. */
#include "hook_points.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MUST(x)                                                               \
  do {                                                                        \
    graft_status s_ = (x);                                                    \
    if (s_) {                                                                 \
      printf("FAIL: %s: %s: %s\n", #x, graft_status_string(s_),              \
             graft_last_error());                                             \
      return 1;                                                               \
    }                                                                         \
  } while (0)

static int failures;
static void check(int ok, const char *what) {
  printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
  failures += !ok;
}

struct scale {
  float by;
  int calls, wrong;
  const char *name;
  int64_t numel;
};

static void scale_hook(const char *name, graft_role role, void *data,
                       const graft_tensor_desc *d, void *user) {
  struct scale *s = (struct scale *)user;
  ++s->calls;
  if (role != GRAFT_ROLE_HOOK || strcmp(name, s->name) || d->numel != s->numel ||
      d->dtype != GRAFT_DTYPE_F32 || d->role != GRAFT_ROLE_HOOK)
    ++s->wrong;
  for (int64_t k = 0; k < d->numel; ++k)
    ((float *)data)[k] *= s->by;
}

static int roles_seen[16];
static void any_hook(const char *name, graft_role role, void *data,
                     const graft_tensor_desc *d, void *user) {
  (void)name, (void)data, (void)d, (void)user;
  if (role >= 0 && role < 16)
    ++roles_seen[role];
}

static void set_inputs(graft_context *ctx) {
  float x[HOOK_POINTS_INPUT_X_NUMEL];
  int64_t y[HOOK_POINTS_INPUT_Y_NUMEL];
  for (int k = 0; k < HOOK_POINTS_INPUT_X_NUMEL; ++k)
    x[k] = (float)sin(0.7 * k + 0.3);
  for (int k = 0; k < HOOK_POINTS_INPUT_Y_NUMEL; ++k)
    y[k] = k % 3;
  graft_set_input(ctx, "x", x, sizeof x);
  graft_set_input(ctx, "y", y, sizeof y);
}

static graft_context *fresh(void) {
  graft_context *ctx = 0;
  if (hook_points_create(&ctx) || graft_init(ctx, 5))
    return 0;
  set_inputs(ctx);
  return ctx;
}

/* Is tensor (role, name) of `a` `by` times that of `b`, elementwise?
 * (exactly: a hook multiplying by a power of two, or zero, scales every
 * later product and sum exactly; else to rounding) */
static int scaled(graft_context *a, graft_context *b, graft_role role,
                  const char *name, float by, float rtol) {
  int32_t i;
  float *x, *y;
  const graft_tensor_desc *d;
  if (graft_find_tensor(a, role, name, &i) || graft_tensor_info(a, i, &d) ||
      graft_tensor_data(a, i, (void **)&x) ||
      graft_tensor_data(b, i, (void **)&y))
    return 0;
  int nonzero = 0;
  for (int64_t k = 0; k < d->numel; ++k) {
    double want = (double)by * y[k];
    if (fabs(x[k] - want) > rtol * fabs(want) + (rtol ? 1e-7 : 0))
      return 0;
    nonzero |= y[k] != 0;
  }
  return nonzero; /* a gradient that is all zero would prove nothing */
}

static const char *upstream[] = {"fc1.weight", "fc1.bias"};
static const char *downstream[] = {"fc2.weight", "fc2.bias"};
static const char *beside[] = {"side.weight", "side.bias"};

static int all_scaled(graft_context *a, graft_context *b, const char **names,
                      float by, float rtol) {
  return scaled(a, b, GRAFT_ROLE_GRAD, names[0], by, rtol) &&
         scaled(a, b, GRAFT_ROLE_GRAD, names[1], by, rtol);
}

/* forward_backward of a fresh context with `hooks` registered. */
static graft_context *run(struct scale *hooks, int n) {
  graft_context *ctx = fresh();
  if (!ctx)
    return 0;
  for (int k = 0; k < n; ++k)
    if (graft_register_grad_hook(ctx, hooks[k].name, scale_hook, &hooks[k]))
      return 0;
  if (graft_forward_backward(ctx, 0))
    return 0;
  return ctx;
}

int main(void) {
  graft_context *plain = fresh();
  if (!plain)
    return 2;
  MUST(graft_forward_backward(plain, 0));

  /* The hook points are in the tensor table, without storage. */
  {
    int32_t i, j;
    const graft_tensor_desc *d;
    float zeros[HOOK_POINTS_HOOK_H_NUMEL];
    MUST(graft_find_tensor(plain, GRAFT_ROLE_HOOK, "h", &i));
    MUST(graft_tensor_info(plain, i, &d));
    MUST(graft_find_tensor(plain, GRAFT_ROLE_HOOK, "r", &j));
    check(i == HOOK_POINTS_HOOK_H && d->rank == 2 && d->shape[0] == 4 &&
              d->shape[1] == 8 && d->nbytes == HOOK_POINTS_HOOK_H_NBYTES &&
              j == HOOK_POINTS_HOOK_R,
          "hook points h and r: GRAFT_ROLE_HOOK tensors with the gradient's shape");
    memset(zeros, 0, sizeof zeros);
    check(graft_set(plain, i, zeros, sizeof zeros) == GRAFT_ERR_READ_ONLY,
          "a hook point is read-only");
  }

  struct scale h2 = {2.0f, 0, 0, "h", HOOK_POINTS_HOOK_H_NUMEL};
  graft_context *a = run(&h2, 1);
  if (!a)
    return 3;
  check(h2.calls == 1 && !h2.wrong,
        "hook on h: called once per backward, with the hook point's gradient");
  check(all_scaled(a, plain, upstream, 2.0f, 0.0f),
        "hook doubling h's gradient: fc1 (upstream of h) gradients double");
  check(all_scaled(a, plain, downstream, 1.0f, 0.0f) &&
            all_scaled(a, plain, beside, 1.0f, 0.0f),
        "hook doubling h's gradient: fc2 and side gradients unchanged");

  struct scale r3 = {3.0f, 0, 0, "r", HOOK_POINTS_HOOK_R_NUMEL};
  graft_context *b = run(&r3, 1);
  if (!b)
    return 3;
  check(r3.calls == 1 && !r3.wrong &&
            all_scaled(b, plain, upstream, 3.0f, 1e-5f) &&
            all_scaled(b, plain, downstream, 3.0f, 1e-5f) &&
            all_scaled(b, plain, beside, 1.0f, 0.0f),
        "hook tripling the retained r's gradient: what flows on upstream triples");
  check(scaled(b, plain, GRAFT_ROLE_RETAINED_GRAD, "r", 3.0f, 1e-6f),
        "hook on the retained r: the retained gradient is what flows on");

  struct scale both[2] = {{2.0f, 0, 0, "h", HOOK_POINTS_HOOK_H_NUMEL},
                          {3.0f, 0, 0, "r", HOOK_POINTS_HOOK_R_NUMEL}};
  graft_context *c = run(both, 2);
  if (!c)
    return 3;
  check(all_scaled(c, plain, upstream, 6.0f, 1e-5f) &&
            all_scaled(c, plain, downstream, 3.0f, 1e-5f) &&
            all_scaled(c, plain, beside, 1.0f, 0.0f),
        "hooks on h and r: fc1 x6, fc2 x3, side unchanged");

  struct scale h0 = {0.0f, 0, 0, "h", HOOK_POINTS_HOOK_H_NUMEL};
  graft_context *z = run(&h0, 1);
  if (!z)
    return 3;
  {
    int32_t i;
    float *g;
    int zero = 1;
    MUST(graft_find_tensor(z, GRAFT_ROLE_GRAD, "fc1.weight", &i));
    MUST(graft_tensor_data(z, i, (void **)&g));
    for (int k = 0; k < HOOK_POINTS_GRAD_FC1_WEIGHT_NUMEL; ++k)
      zero &= g[k] == 0.0f;
    check(zero && all_scaled(z, plain, downstream, 1.0f, 0.0f),
          "hook zeroing h's gradient: fc1 gradients zero, fc2 unchanged");
  }

  /* A hook for every name sees the hook points (GRAFT_ROLE_HOOK) during
   * the backward and the parameters' gradients after it, each once. */
  {
    graft_context *e = fresh();
    if (!e)
      return 3;
    MUST(graft_register_grad_hook(e, 0, any_hook, 0));
    MUST(graft_forward_backward(e, 0));
    check(roles_seen[GRAFT_ROLE_HOOK] == 2 && roles_seen[GRAFT_ROLE_GRAD] == 6 &&
              roles_seen[GRAFT_ROLE_RETAINED_GRAD] == 0,
          "a hook for every name: 2 hook points, 6 gradients, retained r once (as its hook point)");
    MUST(graft_destroy(e));
  }

  /* train_step: hooks on hook points run inside the fused step. */
  {
    struct scale t1 = {2.0f, 0, 0, "h", HOOK_POINTS_HOOK_H_NUMEL},
                 t2 = {2.0f, 0, 0, "h", HOOK_POINTS_HOOK_H_NUMEL};
    graft_context *fused = fresh(), *parts = fresh(), *unhooked = fresh();
    if (!fused || !parts || !unhooked)
      return 3;
    MUST(graft_register_grad_hook(fused, "h", scale_hook, &t1));
    MUST(graft_register_grad_hook(parts, "h", scale_hook, &t2));
    MUST(graft_train_step(fused, 0));
    MUST(graft_zero_grad(parts));
    MUST(graft_forward_backward(parts, 0));
    MUST(graft_step(parts));
    MUST(graft_train_step(unhooked, 0));
    int same = 1, fc1_differs = 0, others_same = 1;
    int32_t n;
    MUST(graft_tensor_count(fused, &n));
    for (int32_t i = 0; i < n; ++i) {
      const graft_tensor_desc *d;
      float *p, *q, *u;
      MUST(graft_tensor_info(fused, i, &d));
      if (d->role != GRAFT_ROLE_PARAM)
        continue;
      MUST(graft_tensor_data(fused, i, (void **)&p));
      MUST(graft_tensor_data(parts, i, (void **)&q));
      MUST(graft_tensor_data(unhooked, i, (void **)&u));
      int fc1 = !strncmp(d->name, "fc1.", 4);
      for (int64_t k = 0; k < d->numel; ++k) {
        same &= fabsf(p[k] - q[k]) <= 1e-6f * (1 + fabsf(q[k]));
        if (fc1)
          fc1_differs |= p[k] != u[k];
        else
          others_same &= p[k] == u[k];
      }
    }
    check(t1.calls == 1 && !t1.wrong && same && fc1_differs && others_same,
          "train_step calls hook points: the update of zero_grad + forward_backward + step");
    MUST(graft_destroy(fused));
    MUST(graft_destroy(parts));
    MUST(graft_destroy(unhooked));
  }

  /* Outside a step nothing runs (no running context). */
  graft_run_hook("h", 0);

  MUST(graft_destroy(plain));
  MUST(graft_destroy(a));
  MUST(graft_destroy(b));
  MUST(graft_destroy(c));
  MUST(graft_destroy(z));
  printf("%d failed\n", failures);
  return failures != 0;
}
