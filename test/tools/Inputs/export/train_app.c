/* An application of the C API that fine-tunes an exported model: it loads
 * the state_dict tools/graft-export.py wrote (graft_load), sets each batch
 * from raw little-endian files (float32 images, int64 labels: B samples a
 * step, one after the other), runs graft_train_step, prints each loss and
 * saves the checkpoint. docs/Import.md's step by step, as a test.
 *
 *   train_app WEIGHTS IMAGES LABELS STEPS OUT.safetensors */
#include MODEL_HEADER

#include <stdio.h>
#include <stdlib.h>

#define CHECK(call)                                                          \
  do {                                                                       \
    if ((call) != GRAFT_OK) {                                                \
      fprintf(stderr, "%s: %s\n", #call, graft_last_error());                \
      return 1;                                                              \
    }                                                                        \
  } while (0)

static void *read_all(const char *path, long *size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  *size = ftell(f);
  fseek(f, 0, SEEK_SET);
  void *data = malloc(*size);
  if (fread(data, 1, *size, f) != (size_t)*size) {
    free(data);
    data = NULL;
  }
  fclose(f);
  return data;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s WEIGHTS IMAGES LABELS STEPS OUT\n", argv[0]);
    return 2;
  }
  graft_context *ctx;
  CHECK(graft_create(&MODEL, &ctx));
  CHECK(graft_load(ctx, argv[1]));
  long image_bytes, label_bytes;
  char *images = read_all(argv[2], &image_bytes);
  char *labels = read_all(argv[3], &label_bytes);
  if (!images || !labels) {
    fprintf(stderr, "cannot read the batches\n");
    return 1;
  }
  int steps = atoi(argv[4]);
  size_t x_bytes = image_bytes / steps, y_bytes = label_bytes / steps;
  for (int s = 0; s < steps; ++s) {
    double loss;
    CHECK(graft_set_input(ctx, INPUT_X, images + s * x_bytes, x_bytes));
    CHECK(graft_set_input(ctx, INPUT_Y, labels + s * y_bytes, y_bytes));
    CHECK(graft_train_step(ctx, &loss));
    printf("step %d (C app): loss %.6f\n", s + 1, loss);
  }
  CHECK(graft_save(ctx, argv[5]));
  CHECK(graft_destroy(ctx));
  free(images);
  free(labels);
  return 0;
}
