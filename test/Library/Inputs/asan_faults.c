/* Faults an application can make with a library of `graft compile
 * --sanitize=address`, which AddressSanitizer must stop (asan.test):
 *   kernel:  a generated entry point called directly, with an input buffer
 *            one row short: the kernel's read past it is reported;
 *   runtime: a C API call on a destroyed context: the runtime's read of the
 *            freed context is reported;
 *   ok:      a correct step, which runs to the end. */
#include MODEL_HEADER
#include "must.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "ok";
  const graft_model_desc *model = &MODEL;
  graft_context *ctx;
  MUST(graft_create(model, &ctx));
  MUST(graft_init(ctx, 1));

  if (!strcmp(mode, "runtime")) {
    MUST(graft_destroy(ctx));
    uint64_t steps;
    graft_steps(ctx, &steps); /* use after free */
    printf("not reported\n");
    return 0;
  }

  /* predict's arguments and results: the context's storage, except the
   * input `x`, which gets a copy one row short in "kernel" mode. */
  const graft_entry_desc *entry = &model->entries[model->predict];
  int32_t nptr = entry->nargs + entry->nresults + 1;
  void **pointers = calloc((size_t)nptr, sizeof *pointers);
  int32_t x;
  MUST(graft_find_tensor(ctx, GRAFT_ROLE_INPUT, "x", &x));
  const graft_tensor_desc *xdesc;
  MUST(graft_tensor_info(ctx, x, &xdesc));
  int64_t row = xdesc->nbytes / xdesc->shape[0];
  size_t xbytes = (size_t)(xdesc->nbytes - (strcmp(mode, "kernel") ? 0 : row));
  float *xcopy = malloc(xbytes);
  memset(xcopy, 0, xbytes);
  for (int32_t i = 0; i < nptr - 1; ++i) {
    int32_t t = i < entry->nargs ? entry->args[i] : entry->results[i - entry->nargs];
    MUST(graft_tensor_data(ctx, t, &pointers[i]));
    if (t == x)
      pointers[i] = xcopy;
  }
  pointers[nptr - 1] =
      aligned_alloc(64, (size_t)((entry->workspace_bytes + 63) / 64 * 64 + 64));
  entry->fn(pointers);
  printf("predict ran\n");
  free(pointers[nptr - 1]);
  free(xcopy);
  free(pointers);
  MUST(graft_destroy(ctx));
  return 0;
}
