/* ms per train step of a --target=cuda library (scripts/gpu-check.sh): the
 * state resident on the device, inputs copied in and the loss out every
 * step, as graft_train_step does. Built with -DMODEL_HEADER='"NAME.h"'
 * -DMODEL=graft_model_NAME against libNAME.a.
 *   gpu_bench [STEPS [WARMUP]]   (defaults 200 and 10) */
#define _POSIX_C_SOURCE 199309L
#include MODEL_HEADER
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Deterministic inputs; integer labels below the output's last dimension. */
static void fill_inputs(graft_context *ctx) {
  int32_t n = 0;
  int64_t classes = 2;
  graft_tensor_count(ctx, &n);
  for (int32_t i = 0; i < n; ++i) {
    const graft_tensor_desc *d;
    graft_tensor_info(ctx, i, &d);
    if (d->role == GRAFT_ROLE_OUTPUT && d->rank > 0)
      classes = d->shape[d->rank - 1];
  }
  for (int32_t i = 0; i < n; ++i) {
    const graft_tensor_desc *d;
    void *p;
    graft_tensor_info(ctx, i, &d);
    if (d->role != GRAFT_ROLE_INPUT)
      continue;
    graft_tensor_data(ctx, i, &p);
    for (int64_t k = 0; k < d->numel; ++k) {
      uint64_t h = (uint64_t)(k + 1) * 2654435761u;
      if (d->dtype == GRAFT_DTYPE_F32)
        ((float *)p)[k] = (float)((h % 2001) / 1000.0 - 1.0);
      else if (d->dtype == GRAFT_DTYPE_I64)
        ((int64_t *)p)[k] = (int64_t)(h % (uint64_t)classes);
      else if (d->dtype == GRAFT_DTYPE_I32)
        ((int32_t *)p)[k] = (int32_t)(h % (uint64_t)classes);
    }
  }
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 200;
  int warmup = argc > 2 ? atoi(argv[2]) : 10;
  graft_context *ctx;
  char name[128];
  int sm = 0;
  if (graft_create(&MODEL, &ctx) || graft_init(ctx, 0) ||
      graft_cuda_device(NULL, &sm, name, sizeof name) ||
      graft_cuda_set_resident(ctx, 1)) {
    fprintf(stderr, "gpu_bench: %s\n", graft_last_error());
    return 2;
  }
  fill_inputs(ctx);
  double loss = 0;
  for (int i = 0; i < warmup; ++i)
    if (graft_train_step(ctx, &loss)) {
      fprintf(stderr, "gpu_bench: %s\n", graft_last_error());
      return 2;
    }
  double start = now_ms();
  for (int i = 0; i < steps; ++i)
    if (graft_train_step(ctx, &loss)) {
      fprintf(stderr, "gpu_bench: %s\n", graft_last_error());
      return 2;
    }
  double ms = (now_ms() - start) / steps;
  printf("graft cuda %s (%s, sm_%d): train step %.3f ms (mean of %d steps, "
         "loss %.4f)\n", graft_model(ctx)->name, name, sm, ms, steps, loss);
  graft_destroy(ctx);
  return 0;
}
