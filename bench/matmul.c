/* Times the generated M x K x N f32 product (bench/matmul.graft's predict
 * entry point, compiled at the shape bench/matmul.sh gives it) through the
 * C API and prints GFLOP/s: the best of R rounds of enough calls for about
 * 20 ms each, so that a busy machine shows as noise in the mean, not in the
 * best. Checks a few output elements against naive dot products. */
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

int main(void) {
  int rounds = 5;
  graft_context *ctx;
  if (graft_create(&graft_model_matmul, &ctx) != GRAFT_OK ||
      graft_init(ctx, 0) != GRAFT_OK) {
    fprintf(stderr, "matmul: %s\n", graft_last_error());
    return 1;
  }
  int32_t ai, wi, oi;
  const graft_tensor_desc *ad, *wd;
  if (graft_find_tensor(ctx, GRAFT_ROLE_INPUT, "a", &ai) != GRAFT_OK ||
      graft_find_tensor(ctx, GRAFT_ROLE_PARAM, "w", &wi) != GRAFT_OK ||
      graft_tensor_info(ctx, ai, &ad) != GRAFT_OK ||
      graft_tensor_info(ctx, wi, &wd) != GRAFT_OK) {
    fprintf(stderr, "matmul: %s\n", graft_last_error());
    return 1;
  }
  const long m = ad->shape[0], k = ad->shape[1], n = wd->shape[1];
  float *a = malloc(sizeof(float) * m * k), *w, *out;
  for (long i = 0; i < m * k; ++i)
    a[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
  if (graft_set_input(ctx, "a", a, sizeof(float) * m * k) != GRAFT_OK ||
      graft_find_tensor(ctx, GRAFT_ROLE_OUTPUT, "out", &oi) != GRAFT_OK ||
      graft_tensor_data(ctx, wi, (void **)&w) != GRAFT_OK ||
      graft_tensor_data(ctx, oi, (void **)&out) != GRAFT_OK) {
    fprintf(stderr, "matmul: %s\n", graft_last_error());
    return 1;
  }
  double flops = 2.0 * m * k * n, best = 1e30;
  int calls = (int)(2e-2 / (flops / 100e9)) + 1;
  for (int r = 0; r < rounds; ++r) {
    double t0 = now();
    for (int c = 0; c < calls; ++c)
      graft_predict(ctx);
    double t = (now() - t0) / calls;
    best = t < best ? t : best;
  }
  /* The corners and the middle: the last rows and columns are the peeled
   * remainder tiles. */
  const long rows[] = {0, m / 2, m - 1}, cols[] = {0, n / 2, n - 1};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) {
      long i = rows[r], j = cols[c];
      double ref = 0;
      for (long l = 0; l < k; ++l)
        ref += (double)a[i * k + l] * w[l * n + j];
      if (fabs(ref - out[i * n + j]) > 1e-3 * (1 + fabs(ref))) {
        fprintf(stderr, "matmul: out[%ld][%ld] = %g, expected %g\n", i, j,
                out[i * n + j], ref);
        return 1;
      }
    }
  printf("matmul %ldx%ldx%ld f32: %.4f ms, %.1f GFLOP/s\n", m, k, n,
         best * 1e3, flops / best * 1e-9);
  graft_destroy(ctx);
  free(a);
  return 0;
}
