/* The single-core f32 FMA peak of this machine, measured: 12 independent
 * chains of 512-bit (or the widest native) fused multiply-adds, so that
 * bench/matmul.sh can report the product kernel as a fraction of it.
 * Built with -march=native by bench/matmul.sh. */
#include <stdio.h>
#include <time.h>

#if defined(__AVX512F__)
#define LANES 16
#elif defined(__AVX__)
#define LANES 8
#else
#define LANES 4
#endif
typedef float vec __attribute__((vector_size(LANES * sizeof(float))));

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(void) {
  vec acc[12], b, c;
  for (int l = 0; l < LANES; ++l) {
    b[l] = 0.999999f;
    c[l] = 1e-7f;
  }
  for (int i = 0; i < 12; ++i)
    acc[i] = b * (float)i;
  const long iters = 20000000;
  double best = 0;
  for (int round = 0; round < 10; ++round) {
    double t0 = now();
    for (long n = 0; n < iters; ++n) {
#pragma GCC unroll 12
      for (int i = 0; i < 12; ++i)
        acc[i] = acc[i] * b + c;
    }
    double gflops = 2.0 * LANES * 12 * iters / (now() - t0) * 1e-9;
    best = gflops > best ? gflops : best;
  }
  float sum = 0;
  for (int i = 0; i < 12; ++i)
    sum += acc[i][0];
  printf("fma peak (1 core, %d-lane f32 FMA): %.1f GFLOP/s (checksum %g)\n",
         LANES, best, sum);
  return 0;
}
