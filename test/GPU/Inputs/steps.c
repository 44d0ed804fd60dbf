/* Runs a fixed sequence of steps on a compiled model and writes every
 * tensor after it, for comparing the CPU and the CUDA library of the same
 * model (compare.py). Deterministic inputs; labels below the output's last
 * dimension. Built against the CPU library, or with -DGRAFT_CUDA against
 * the CUDA one; `resident` (CUDA) keeps the state on the device and
 * downloads it at the end.
 *   steps OUT.bin [resident]
 * Prints the losses; exits 2 when a step fails (the error on stderr). */
#include MODEL_HEADER
#include "../../../bench/fill_inputs.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                         \
  do {                                                                      \
    graft_status s_ = (call);                                               \
    if (s_ != GRAFT_OK) {                                                   \
      fprintf(stderr, "%s: %s: %s\n", #call, graft_status_string(s_),       \
              graft_last_error());                                          \
      return 2;                                                             \
    }                                                                       \
  } while (0)

int main(int argc, char **argv) {
  if (argc < 2)
    return 1;
  int resident = argc > 2 && strcmp(argv[2], "resident") == 0;
  graft_context *ctx;
  CHECK(graft_create(&MODEL, &ctx));
  CHECK(graft_init(ctx, 5));
#ifdef GRAFT_CUDA
  if (resident)
    CHECK(graft_cuda_set_resident(ctx, 1));
#else
  (void)resident;
#endif
  double loss = NAN;
  const graft_model_desc *m = graft_model(ctx);
  if (m->forward_backward >= 0) {
    fill_inputs(ctx, 0);
    CHECK(graft_zero_grad(ctx));
    CHECK(graft_forward_backward(ctx, &loss));
    printf("forward_backward loss %.6f\n", loss);
    CHECK(graft_step(ctx));
  }
  for (int step = 1; step <= 3 && m->train_step >= 0; ++step) {
    fill_inputs(ctx, step);
    CHECK(graft_train_step(ctx, &loss));
    printf("train_step %d loss %.6f\n", step, loss);
  }
  if (m->eval >= 0) {
    fill_inputs(ctx, 9);
    CHECK(graft_eval(ctx, &loss));
    printf("eval loss %.6f\n", loss);
  }
#ifdef GRAFT_CUDA
  CHECK(graft_cuda_download(ctx));
#endif
  FILE *f = fopen(argv[1], "wb");
  if (!f)
    return 1;
  int32_t n = 0;
  graft_tensor_count(ctx, &n);
  for (int32_t i = 0; i < n; ++i) {
    const graft_tensor_desc *d;
    void *p;
    graft_tensor_info(ctx, i, &d);
    graft_tensor_data(ctx, i, &p);
    fprintf(f, "%d %d %s %lld\n", d->role, d->dtype, d->name,
            (long long)d->nbytes);
    fwrite(p, 1, (size_t)d->nbytes, f);
  }
  fclose(f);
  graft_destroy(ctx);
  return 0;
}
