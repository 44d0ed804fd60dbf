/* train_step with gradient hooks on a model with accumulation_steps > 1.
 * train_step takes one batch per step and does not divide its gradients;
 * with hooks the runtime runs it as zero_grad + forward_backward + step,
 * and step's `accumulation_steps` hyper-parameter is 1 for that step. Two
 * contexts (same seed, same inputs), one with an identity hook, take two
 * train steps: the parameters, buffers and optimizer state must agree, the
 * hook must have run, and accumulation_steps must be the model's again. */
#include MODEL_HEADER

#include <math.h>
#include <stdio.h>

static void hook(const char *name, graft_role role, void *data,
                 const graft_tensor_desc *d, void *user) {
  (void)name, (void)role, (void)data, (void)d;
  ++*(int *)user;
}

/* The largest relative difference of the f32 tensors of `role`. */
static double worst(graft_context *a, graft_context *b, graft_role role) {
  double w = 0;
  int32_t n;
  graft_tensor_count(a, &n);
  for (int32_t i = 0; i < n; ++i) {
    const graft_tensor_desc *d;
    float *x, *y;
    graft_tensor_info(a, i, &d);
    if (d->role != role || d->dtype != GRAFT_DTYPE_F32)
      continue;
    graft_tensor_data(a, i, (void **)&x);
    graft_tensor_data(b, i, (void **)&y);
    for (int64_t k = 0; k < d->numel; ++k) {
      double e = fabs((double)x[k] - y[k]) / (1e-6 + fabs((double)y[k]));
      if (e > w)
        w = e;
    }
  }
  return w;
}

int main(void) {
  graft_context *hooked, *fused;
  int calls = 0;
  if (graft_create(&MODEL, &hooked) || graft_init(hooked, 1) ||
      graft_create(&MODEL, &fused) || graft_init(fused, 1) ||
      graft_register_grad_hook(hooked, 0, hook, &calls))
    return 2;
  printf("accumulation_steps %d\n", (int)MODEL.accumulation_steps);
  for (int step = 0; step < 2; ++step) {
    double l1, l2;
    graft_status s = graft_train_step(hooked, &l1);
    if (s || graft_train_step(fused, &l2)) {
      printf("%s: %s\n", graft_status_string(s), graft_last_error());
      return 1;
    }
    printf("step %d: losses %s\n", step, l1 == l2 ? "equal" : "differ");
  }
  double count = 0;
  graft_get_hyper(hooked, "accumulation_steps", &count);
  printf("hook calls %s, accumulation_steps after %g\n",
         calls > 0 ? "> 0" : "none", count);
  double p = worst(hooked, fused, GRAFT_ROLE_PARAM),
         o = worst(hooked, fused, GRAFT_ROLE_OPT_STATE);
  printf("params %s, optimizer state %s\n", p < 1e-4 ? "agree" : "differ",
         o < 1e-4 ? "agree" : "differ");
  graft_destroy(hooked);
  graft_destroy(fused);
  return 0;
}
