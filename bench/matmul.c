/* Times the generated 512x512x512 f32 product (bench/matmul.graft's predict
 * entry point) through the C API and prints GFLOP/s: the best of R rounds of
 * N calls each, so that a busy machine shows as noise in the mean, not in
 * the best. Checks one output element against a naive dot product. */
#include "matmul.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char **argv) {
  int calls = argc > 1 ? atoi(argv[1]) : 20, rounds = 5;
  const long n = 512;
  graft_context *ctx;
  if (graft_create(&graft_model_matmul, &ctx) != GRAFT_OK ||
      graft_init(ctx, 0) != GRAFT_OK) {
    fprintf(stderr, "matmul: %s\n", graft_last_error());
    return 1;
  }
  float *a = malloc(sizeof(float) * n * n), *w, *out;
  for (long i = 0; i < n * n; ++i)
    a[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
  int32_t wi, oi;
  if (graft_set_input(ctx, "a", a, sizeof(float) * n * n) != GRAFT_OK ||
      graft_find_tensor(ctx, GRAFT_ROLE_PARAM, "w", &wi) != GRAFT_OK ||
      graft_find_tensor(ctx, GRAFT_ROLE_OUTPUT, "out", &oi) != GRAFT_OK ||
      graft_tensor_data(ctx, wi, (void **)&w) != GRAFT_OK ||
      graft_tensor_data(ctx, oi, (void **)&out) != GRAFT_OK) {
    fprintf(stderr, "matmul: %s\n", graft_last_error());
    return 1;
  }
  double best = 1e30;
  for (int r = 0; r < rounds; ++r) {
    double t0 = now();
    for (int c = 0; c < calls; ++c)
      graft_predict(ctx);
    double t = (now() - t0) / calls;
    best = t < best ? t : best;
  }
  double ref = 0;
  for (long k = 0; k < n; ++k)
    ref += (double)a[3 * n + k] * w[k * n + 5];
  if (fabs(ref - out[3 * n + 5]) > 1e-3 * (1 + fabs(ref))) {
    fprintf(stderr, "matmul: out[3][5] = %g, expected %g\n", out[3 * n + 5],
            ref);
    return 1;
  }
  printf("matmul 512x512x512 f32: %.3f ms, %.1f GFLOP/s\n", best * 1e3,
         2.0 * n * n * n / best * 1e-9);
  graft_destroy(ctx);
  free(a);
  return 0;
}
