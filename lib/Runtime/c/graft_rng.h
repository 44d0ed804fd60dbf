/* graft_rng.h: Graft's counter-based random numbers, the one definition.
 *
 * Every draw is a pure function of (seed, stream or tensor name, index), so
 * that the reference evaluator (lib/Evaluator), the C runtime's graft_init
 * and the generated dropout code (lib/Conversion/GraftToLinalg/
 * Elementwise.cpp, which emits the same arithmetic as IR) produce the same numbers in any order
 * and on any thread. C, static inline: included by graft_runtime.c and by
 * the evaluator's C++. */
#ifndef GRAFT_RNG_H
#define GRAFT_RNG_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* splitmix64's finaliser. */
static inline uint64_t graft_rng_mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* The top 53 bits as a double in [0, 1). */
static inline double graft_rng_unit(uint64_t bits) {
  return (double)(bits >> 11) * 0x1.0p-53;
}

/* FNV-1a of `size` bytes. */
static inline uint64_t graft_rng_hash(const char *s, size_t size) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < size; ++i)
    h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
  return h;
}

/* The stream of a tensor's initial values: (seed, its name). */
static inline uint64_t graft_rng_init_base(uint64_t seed, const char *name,
                                           size_t size) {
  return graft_rng_mix64(graft_rng_mix64(seed ^ 0x5eedULL) ^
                         graft_rng_hash(name, size));
}

/* Draw `index` of an initialisation stream: uniform in [0, 1). */
static inline double graft_rng_init_uniform(uint64_t base, int64_t index) {
  return graft_rng_unit(graft_rng_mix64(base ^ (uint64_t)index));
}

/* Element `index` of a standard normal tensor: Box-Muller on draws 2 index
 * and 2 index + 1. */
static inline double graft_rng_init_normal(uint64_t base, int64_t index) {
  double u1 = 1.0 - graft_rng_init_uniform(base, 2 * index); /* (0, 1] */
  double u2 = graft_rng_init_uniform(base, 2 * index + 1);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* erf^-1(y) for y in (-1, 1), +-HUGE_VAL at +-1: M. Giles' approximation
 * ("Approximating the erfinv function", GPU Computing Gems, 2011), then
 * Newton steps on erf to double precision. */
static inline double graft_rng_erfinv(double y) {
  if (y <= -1.0)
    return -HUGE_VAL;
  if (y >= 1.0)
    return HUGE_VAL;
  double w = -log((1.0 - y) * (1.0 + y)), p;
  if (w < 5.0) {
    w -= 2.5;
    p = 2.81022636e-08;
    p = 3.43273939e-07 + p * w;
    p = -3.5233877e-06 + p * w;
    p = -4.39150654e-06 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
  } else {
    w = sqrt(w) - 3.0;
    p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
  }
  double x = p * y;
  for (int k = 0; k < 2; ++k) /* erf'(x) = 2/sqrt(pi) exp(-x^2) */
    x -= (erf(x) - y) / (1.1283791670955126 * exp(-x * x));
  return x;
}
/* Element `index` of a tensor drawn from N(mean, std) truncated to [a, b],
 * as torch.nn.init.trunc_normal_ draws it: a uniform draw between the
 * bounds' CDF values (as 2 CDF - 1), through erfinv, scaled, clamped. */
static inline double graft_rng_init_trunc_normal(uint64_t base, int64_t index,
                                                 double mean, double std,
                                                 double a, double b) {
  double lo = erf((a - mean) / std / sqrt(2.0));
  double hi = erf((b - mean) / std / sqrt(2.0));
  double u = lo + (hi - lo) * graft_rng_init_uniform(base, index);
  double v = graft_rng_erfinv(u) * std * sqrt(2.0) + mean;
  return v < a ? a : v > b ? b : v;
}
/* Dropout's uniform draw for element `index` of the mask of `stream` (one
 * stream per dropout op) in the step seeded `seed`. */
static inline double graft_rng_dropout_uniform(uint64_t seed, int64_t stream,
                                               int64_t index) {
  return graft_rng_unit(graft_rng_mix64(
      graft_rng_mix64(graft_rng_mix64(seed) ^ (uint64_t)stream) ^
      (uint64_t)index));
}

#endif
