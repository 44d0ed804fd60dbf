/* ms per train step of a --target=cuda library (bench/gpu-bench via
 * scripts/gpu-check.sh): the state resident on the device, inputs copied in
 * and the loss out every step, as graft_train_step does.
 *   gpu_bench STEPS */
#define _POSIX_C_SOURCE 199309L
#include "bench_mlp.h"
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
  graft_context *ctx;
  char name[128];
  int sm = 0;
  if (bench_mlp_create(&ctx) || graft_init(ctx, 0) ||
      graft_cuda_device(NULL, &sm, name, sizeof name) ||
      graft_cuda_set_resident(ctx, 1)) {
    fprintf(stderr, "gpu_bench: %s\n", graft_last_error());
    return 2;
  }
  float *x;
  int64_t *y;
  graft_tensor_data(ctx, BENCH_MLP_INPUT_X, (void **)&x);
  graft_tensor_data(ctx, BENCH_MLP_INPUT_Y, (void **)&y);
  for (int i = 0; i < BENCH_MLP_INPUT_X_NUMEL; ++i)
    x[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
  for (int i = 0; i < BENCH_MLP_INPUT_Y_NUMEL; ++i)
    y[i] = i % 10;
  double loss = 0;
  for (int i = 0; i < 10; ++i)
    if (graft_train_step(ctx, &loss)) {
      fprintf(stderr, "gpu_bench: %s\n", graft_last_error());
      return 2;
    }
  double start = now_ms();
  for (int i = 0; i < steps; ++i)
    graft_train_step(ctx, &loss);
  double ms = (now_ms() - start) / steps;
  printf("graft cuda (%s, sm_%d): train step %.3f ms (mean of %d steps, loss "
         "%.4f)\n", name, sm, ms, steps, loss);
  graft_destroy(ctx);
  return 0;
}
