/* The temporary files of graft_save (test/Library/save-temporaries.test):
 *
 *   save-temporaries full|weights PATH
 *
 * saves a freshly initialised context to PATH with graft_save (full) or
 * graft_save_weights, loads it back, and prints "saved PATH". */
#include MODEL_HEADER

#include "must.h"

#include <string.h>

int main(int argc, char **argv) {
  if (argc != 3)
    return 2;
  graft_context *ctx;
  MUST(graft_create(&MODEL, &ctx));
  MUST(graft_init(ctx, 1));
  if (strcmp(argv[1], "weights") == 0)
    MUST(graft_save_weights(ctx, argv[2]));
  else
    MUST(graft_save(ctx, argv[2]));
  MUST(graft_load(ctx, argv[2]));
  printf("saved %s\n", argv[2]);
  graft_destroy(ctx);
  return 0;
}
