/* ms per train step of a --target=cuda library (scripts/gpu-check.sh): the
 * state resident on the device, inputs copied in and the loss out every
 * step, as graft_train_step does. Built with -DMODEL_HEADER='"NAME.h"'
 * -DMODEL=graft_model_NAME against libNAME.a.
 *   gpu_bench [STEPS [WARMUP]]   (defaults 200 and 10) */
#define _POSIX_C_SOURCE 199309L
#include MODEL_HEADER
#include "fill_inputs.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
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
  fill_inputs(ctx, 0);
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
