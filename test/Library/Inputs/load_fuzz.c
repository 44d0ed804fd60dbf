/* Mutates a good checkpoint many ways (bytes flipped in the header and the
 * length field, truncations, JSON tokens spliced in) and loads each into a
 * context: every load must return (under ASan/UBSan: without a bad read),
 * with GRAFT_OK or an error code and a message. The parser is what these
 * mutations are for, so they are made to a copy whose graft.* metadata keys
 * are renamed (xraft.*: another tool's keys, skipped): with a checksum,
 * nearly every mutation would be a checksum mismatch, and Graft's metadata
 * without one is refused as damaged, before the tensors are looked at.
 * Then single bits flipped anywhere in the good file, checksum kept: each is
 * an error, except a flip inside the checksum key's name (then an unknown
 * key; the rest of the file is intact).
 *   load_fuzz GOOD.safetensors WORKFILE ITERATIONS */
#include MODEL_HEADER

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

int main(int argc, char **argv) {
  if (argc < 4)
    return 2;
  FILE *f = fopen(argv[1], "rb");
  if (!f)
    return 2;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *good = malloc((size_t)size), *bad = malloc((size_t)size + 64);
  if (fread(good, 1, (size_t)size, f) != (size_t)size)
    return 2;
  fclose(f);
  long hlen = 0;
  for (int k = 0; k < 8; ++k)
    hlen |= (long)good[k] << (8 * k);
  graft_context *ctx;
  if (graft_create(&MODEL, &ctx))
    return 2;
  /* Where the checksum key's name is, and a copy of the file without it. */
  unsigned char *plain = malloc((size_t)size);
  memcpy(plain, good, (size_t)size);
  static const char key[] = "\"graft.checksum\":\"crc32:";
  long keyAt = -1;
  for (long k = 8; k + (long)sizeof key - 1 <= 8 + hlen && keyAt < 0; ++k)
    if (memcmp(good + k, key, sizeof key - 1) == 0)
      keyAt = k;
  if (keyAt < 0) {
    printf("FAIL: %s has no graft.checksum\n", argv[1]);
    return 1;
  }
  for (long k = 8; k + 7 <= 8 + hlen; ++k)
    if (memcmp(plain + k, "\"graft.", 7) == 0)
      plain[k + 1] = 'x';
  static const char *tokens[] = {"\"", "{", "}", "[", "]", ",", ":", "\\",
                                 "99999999999999999999", "-1", "null", "\"F64\"",
                                 "\"optimizer.", "\"__metadata__\""};
  int counts[16] = {0};
  int iterations = atoi(argv[3]);
  for (int it = 0; it < iterations; ++it) {
    long n = size;
    memcpy(bad, plain, (size_t)size);
    switch (next() % 5) {
    case 0: /* flip header bytes */
      for (int k = 0, m = 1 + (int)(next() % 4); k < m; ++k)
        bad[next() % (unsigned long)(8 + hlen)] ^= (unsigned char)(1 + next() % 255);
      break;
    case 1: /* truncate */
      n = (long)(next() % (unsigned long)size);
      break;
    case 2: { /* splice a token into the header */
      const char *t = tokens[next() % (sizeof tokens / sizeof *tokens)];
      long at = 8 + (long)(next() % (unsigned long)hlen);
      long len = (long)strlen(t);
      if (len > 8 + hlen - at)
        len = 8 + hlen - at;
      memcpy(bad + at, t, (size_t)len);
      break;
    }
    case 3: /* a wrong length field */
      for (int k = 0; k < 8; ++k)
        bad[k] = (unsigned char)next();
      if (next() % 2)
        bad[7] = bad[6] = bad[5] = bad[4] = 0;
      break;
    case 4: /* digits changed: shapes and offsets */
      for (long k = 8; k < 8 + hlen; ++k)
        if (bad[k] >= '0' && bad[k] <= '9' && next() % 8 == 0)
          bad[k] = (unsigned char)('0' + next() % 10);
      break;
    }
    f = fopen(argv[2], "wb");
    fwrite(bad, 1, (size_t)n, f);
    fclose(f);
    graft_status s = graft_load(ctx, argv[2]);
    if (s > GRAFT_ERR_ABI || (s != GRAFT_OK && !*graft_last_error())) {
      printf("FAIL: iteration %d: status %d, message '%s'\n", it, (int)s,
             graft_last_error());
      return 1;
    }
    ++counts[s];
  }
  printf("loads: %d ok, %d format, %d not found, %d size, %d dtype\n",
         counts[GRAFT_OK], counts[GRAFT_ERR_FORMAT], counts[GRAFT_ERR_NOT_FOUND],
         counts[GRAFT_ERR_SIZE], counts[GRAFT_ERR_DTYPE]);
  int rejected = 0, renamed = 0, corrupted = 0;
  for (int it = 0; it < iterations; ++it) {
    memcpy(bad, good, (size_t)size);
    long at = (long)(next() % (unsigned long)size);
    bad[at] ^= (unsigned char)(1u << (next() % 8));
    f = fopen(argv[2], "wb");
    fwrite(bad, 1, (size_t)size, f);
    fclose(f);
    graft_status s = graft_load(ctx, argv[2]);
    int inKeyName = at > keyAt && at < keyAt + 15;
    if (s == GRAFT_OK ? !inKeyName : !*graft_last_error()) {
      printf("FAIL: bit flip at byte %ld of %ld (header %ld): status %d, "
             "message '%s'\n", at, size, 8 + hlen, (int)s, graft_last_error());
      return 1;
    }
    rejected += s != GRAFT_OK;
    renamed += s == GRAFT_OK;
    corrupted += strstr(graft_last_error(), "the checkpoint is corrupted: checksum mismatch") != 0;
  }
  printf("bit flips: %d rejected (%d as checksum mismatches), %d in the key's "
         "name\n", rejected, corrupted, renamed);
  graft_destroy(ctx);
  free(good);
  free(plain);
  free(bad);
  return 0;
}
