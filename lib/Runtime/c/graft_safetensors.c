/*===- graft_safetensors.c - Checkpoint files, read and written once ------===*
 *
 * graft_safetensors.h says what each function does. C11 and POSIX; no
 * state outside the calls.
 *
 *===----------------------------------------------------------------------===*/

#include "graft_safetensors.h"
#include "graft_api.h"
#include "graft_rng.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*--- Element types --------------------------------------------------------*/

/* Indexed by GRAFT_DTYPE_*. */
static const char *const dtype_names[] = {"F32", "F64", "BF16",
                                          "I64", "I32", "BOOL"};

const char *graft_st_dtype_name(int32_t dtype) {
  return dtype >= 0 && dtype <= GRAFT_DTYPE_BOOL ? dtype_names[dtype] : "?";
}

int32_t graft_st_dtype_of(const char *name) {
  for (int32_t d = 0; d <= GRAFT_DTYPE_BOOL; ++d)
    if (strcmp(name, dtype_names[d]) == 0)
      return d;
  return -1;
}

/*--- Growable strings -----------------------------------------------------*/

/* Appends to a growable string; returns 0 when out of memory. */
struct graft_st_sbuf {
  char *s;
  size_t n, cap;
};
static int st_add(struct graft_st_sbuf *b, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->s ? b->s + b->n : 0, b->s ? b->cap - b->n : 0, fmt, ap);
    va_end(ap);
    if (k < 0)
      return 0;
    if (b->s && b->n + (size_t)k < b->cap) {
      b->n += (size_t)k;
      return 1;
    }
    size_t cap = (b->cap + (size_t)k + 1) * 2;
    char *s = (char *)realloc(b->s, cap);
    if (!s)
      return 0;
    b->s = s;
    b->cap = cap;
  }
}

/* A JSON string of `prefix` then `s`: quotes, backslashes and control
 * characters escaped; other bytes (UTF-8) as they are. */
static int st_json(struct graft_st_sbuf *b, const char *prefix, const char *s) {
  int ok = st_add(b, "\"");
  for (int part = 0; part < 2; ++part)
    for (const unsigned char *c = (const unsigned char *)(part ? s : prefix);
         ok && c && *c; ++c)
      ok = *c == '"' || *c == '\\' ? st_add(b, "\\%c", *c)
           : *c < 0x20             ? st_add(b, "\\u%04x", *c)
                                   : st_add(b, "%c", *c);
  return ok && st_add(b, "\"");
}

/*--- Checksums ------------------------------------------------------------*/

/* The CRC-32 of zlib (reflected polynomial 0xedb88320, as Python's
 * zlib.crc32), slicing by 8; the tables are built per file (8 KiB,
 * microseconds), so threads share nothing. */
#define CHECKSUM_KEY "\"graft.checksum\":\"crc32:"
struct st_crc32 {
  uint32_t crc;
  uint32_t t[8][256];
};

static void crc32_init(struct st_crc32 *c) {
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t v = n;
    for (int k = 0; k < 8; ++k)
      v = (v & 1) ? (v >> 1) ^ 0xedb88320u : v >> 1;
    c->t[0][n] = v;
  }
  for (uint32_t n = 0; n < 256; ++n)
    for (int k = 1; k < 8; ++k)
      c->t[k][n] = (c->t[k - 1][n] >> 8) ^ c->t[0][c->t[k - 1][n] & 0xff];
  c->crc = 0xffffffffu;
}

static void crc32_add(struct st_crc32 *c, const void *data, size_t n) {
  const unsigned char *p = (const unsigned char *)data;
  uint32_t crc = c->crc;
  for (; n >= 8; p += 8, n -= 8) {
    uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                         (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
                  (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
    crc = c->t[7][lo & 0xff] ^ c->t[6][(lo >> 8) & 0xff] ^
          c->t[5][(lo >> 16) & 0xff] ^ c->t[4][lo >> 24] ^
          c->t[3][hi & 0xff] ^ c->t[2][(hi >> 8) & 0xff] ^
          c->t[1][(hi >> 16) & 0xff] ^ c->t[0][hi >> 24];
  }
  for (; n > 0; --n)
    crc = (crc >> 8) ^ c->t[0][(crc ^ *p++) & 0xff];
  c->crc = crc;
}

static uint32_t crc32_value(const struct st_crc32 *c) {
  return c->crc ^ 0xffffffffu;
}

/* Where the 8 digits of the "graft.checksum" entry of the header's
 * "__metadata__" object begin, found without parsing: the places where
 * "graft.checksum":" starts outside every string, one level inside the
 * top-level object's "__metadata__" object. The offset in `header` of the
 * digits when there is exactly one such place and its value is crc32: and
 * 8 hex digits without escapes; -1 otherwise. */
static int64_t checksum_digits(const char *header, size_t n) {
  static const char key[] = "\"graft.checksum\":\"";
  static const char meta[] = "\"__metadata__\"";
  unsigned depth = 0;
  int inString = 0, metadataNext = 0, inMetadata = 0, count = 0;
  size_t found = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = header[i];
    if (inString) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = 0;
      continue;
    }
    if (c == '"') {
      if (depth == 1)
        metadataNext = n - i >= sizeof meta - 1 &&
                       memcmp(header + i, meta, sizeof meta - 1) == 0;
      else if (depth == 2 && inMetadata && n - i >= sizeof key - 1 &&
               memcmp(header + i, key, sizeof key - 1) == 0) {
        ++count;
        found = i + sizeof key - 1;
      }
      inString = 1;
    } else if (c == '{' || c == '[') {
      if (++depth == 2)
        inMetadata = c == '{' && metadataNext;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  if (count != 1 || n - found < 15 || memcmp(header + found, "crc32:", 6) != 0 ||
      header[found + 14] != '"')
    return -1;
  for (size_t k = found + 6; k < found + 14; ++k)
    if (!((header[k] >= '0' && header[k] <= '9') ||
          (header[k] >= 'a' && header[k] <= 'f') ||
          (header[k] >= 'A' && header[k] <= 'F')))
      return -1;
  return (int64_t)(found + 6);
}

/*--- Writing --------------------------------------------------------------*/

unsigned char *graft_st_header(const graft_st_tensor *tensors, int32_t n,
                               const graft_st_meta *meta, int32_t nmeta,
                               size_t *len) {
  struct graft_st_sbuf h = {0, 0, 0};
  /* 8 bytes for the length, then the checksum first, its digits 0s until
   * the file's CRC is known. */
  int ok = st_add(&h, "12345678{\"__metadata__\":{");
  size_t checksumAt = h.n + strlen(CHECKSUM_KEY);
  ok = ok && st_add(&h, "%s00000000\"", CHECKSUM_KEY);
  for (int32_t i = 0; ok && i < nmeta; ++i)
    ok = st_add(&h, ",") && st_json(&h, meta[i].prefix, meta[i].key) &&
         st_add(&h, ":") && st_json(&h, 0, meta[i].value);
  ok = ok && st_add(&h, "}");
  uint64_t offset = 0;
  for (int32_t i = 0; ok && i < n; ++i) {
    const graft_st_tensor *t = &tensors[i];
    ok = st_add(&h, ",") && st_json(&h, t->prefix, t->name) &&
         st_add(&h, ":{\"dtype\":\"%s\",\"shape\":[", t->dtype);
    for (int32_t d = 0; ok && d < t->rank; ++d)
      ok = st_add(&h, d ? ",%lld" : "%lld", (long long)t->shape[d]);
    ok = ok && st_add(&h, "],\"data_offsets\":[%llu,%llu]}",
                      (unsigned long long)offset,
                      (unsigned long long)(offset + t->nbytes));
    offset += t->nbytes;
  }
  ok = ok && st_add(&h, "}");
  while (ok && (h.n - 8) % 8) /* the format pads the header to 8 bytes */
    ok = st_add(&h, " ");
  struct st_crc32 *crc = ok ? (struct st_crc32 *)malloc(sizeof *crc) : 0;
  if (!crc) {
    free(h.s);
    return 0;
  }
  uint64_t hlen = h.n - 8;
  for (int k = 0; k < 8; ++k)
    h.s[k] = (char)(unsigned char)(hlen >> (8 * k));
  /* The checksum: of the whole file with its digits as 0s (they are, in
   * the header built above), then written into the header. */
  crc32_init(crc);
  crc32_add(crc, h.s, h.n);
  for (int32_t i = 0; i < n; ++i)
    crc32_add(crc, tensors[i].data, (size_t)tensors[i].nbytes);
  char digits[9];
  snprintf(digits, sizeof digits, "%08lx", (unsigned long)crc32_value(crc));
  memcpy(h.s + checksumAt, digits, 8);
  free(crc);
  *len = h.n;
  return (unsigned char *)h.s;
}

/*--- Reading --------------------------------------------------------------*/

/* A JSON reader for the header: every read is bounds-checked. */
struct st_json {
  const char *p, *end;
};

static void ws(struct st_json *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' ||
                           *j->p == '\t'))
    ++j->p;
}

static int eat(struct st_json *j, char c) {
  ws(j);
  if (j->p < j->end && *j->p == c) {
    ++j->p;
    return 1;
  }
  return 0;
}

static int hex4(struct st_json *j, unsigned *v) {
  if (j->end - j->p < 4)
    return 0;
  *v = 0;
  for (int k = 0; k < 4; ++k) {
    char c = *j->p++;
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return 0;
    *v = *v * 16 + (unsigned)d;
  }
  return 1;
}

/* Reads a string; \uXXXX escapes, surrogate pairs included, become UTF-8.
 * With `out`, the decoded string is malloc'ed into *out (NULL when out of
 * memory, *nomem set); without, it is skipped. */
static int jstring(struct st_json *j, char **out, int *nomem) {
  if (!eat(j, '"'))
    return 0;
  /* Decoded, a string is never longer than its text. */
  const char *start = j->p;
  while (j->p < j->end && *j->p != '"')
    j->p += *j->p == '\\' && j->end - j->p > 1 ? 2 : 1;
  if (j->p >= j->end)
    return 0;
  const char *stop = j->p++;
  char *s = 0;
  if (out) {
    s = (char *)malloc((size_t)(stop - start) + 1);
    if (!s) {
      *nomem = 1;
      return 0;
    }
  }
  struct st_json in = {start, stop};
  size_t n = 0;
  while (in.p < in.end) {
    char c = *in.p++;
    char utf8[4];
    size_t len = 1;
    utf8[0] = c;
    if ((unsigned char)c < 0x20)
      goto bad; /* control characters must be escaped */
    if (c == '\\') {
      if (in.p >= in.end)
        goto bad;
      c = *in.p++;
      switch (c) {
      case '"': case '\\': case '/': utf8[0] = c; break;
      case 'n': utf8[0] = '\n'; break;
      case 't': utf8[0] = '\t'; break;
      case 'r': utf8[0] = '\r'; break;
      case 'b': utf8[0] = '\b'; break;
      case 'f': utf8[0] = '\f'; break;
      case 'u': {
        unsigned u, lo;
        if (!hex4(&in, &u))
          goto bad;
        if (u >= 0xd800 && u < 0xdc00) { /* a high surrogate, then a low */
          if (in.end - in.p < 6 || in.p[0] != '\\' || in.p[1] != 'u')
            goto bad;
          in.p += 2;
          if (!hex4(&in, &lo) || lo < 0xdc00 || lo >= 0xe000)
            goto bad;
          u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
        } else if (u >= 0xdc00 && u < 0xe000) {
          goto bad;
        }
        if (u == 0)
          goto bad; /* names are C strings */
        if (u < 0x80) {
          utf8[0] = (char)u;
        } else if (u < 0x800) {
          utf8[0] = (char)(0xc0 | (u >> 6));
          utf8[1] = (char)(0x80 | (u & 0x3f));
          len = 2;
        } else if (u < 0x10000) {
          utf8[0] = (char)(0xe0 | (u >> 12));
          utf8[1] = (char)(0x80 | ((u >> 6) & 0x3f));
          utf8[2] = (char)(0x80 | (u & 0x3f));
          len = 3;
        } else {
          utf8[0] = (char)(0xf0 | (u >> 18));
          utf8[1] = (char)(0x80 | ((u >> 12) & 0x3f));
          utf8[2] = (char)(0x80 | ((u >> 6) & 0x3f));
          utf8[3] = (char)(0x80 | (u & 0x3f));
          len = 4;
        }
        break;
      }
      default: goto bad;
      }
    }
    if (s)
      memcpy(s + n, utf8, len);
    n += len;
  }
  if (s) {
    s[n] = 0;
    *out = s;
  }
  return 1;
bad:
  free(s);
  return 0;
}

static int juint(struct st_json *j, uint64_t *v) {
  ws(j);
  if (j->p >= j->end || *j->p < '0' || *j->p > '9')
    return 0;
  uint64_t x = 0;
  while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
    if (x > (UINT64_MAX - 9) / 10)
      return 0;
    x = x * 10 + (uint64_t)(*j->p++ - '0');
  }
  *v = x;
  return 1;
}

/* How deep a header may nest (a safetensors header is 3 deep): a deeper
 * one is refused before it is parsed, and the parser never recurses
 * further. */
enum { MAX_DEPTH = 32 };

/* Whether the JSON text [p, end) nests deeper than MAX_DEPTH, strings
 * skipped: one pass, no recursion. */
static int too_deep(const char *p, const char *end) {
  unsigned depth = 0;
  int inString = 0;
  for (; p < end; ++p) {
    if (inString) {
      if (*p == '\\')
        ++p;
      else if (*p == '"')
        inString = 0;
    } else if (*p == '"') {
      inString = 1;
    } else if (*p == '[' || *p == '{') {
      if (++depth > MAX_DEPTH)
        return 1;
    } else if ((*p == ']' || *p == '}') && depth > 0) {
      --depth;
    }
  }
  return 0;
}

/* Skips any JSON value (fields Graft does not read). */
static int jskip(struct st_json *j, int depth) {
  if (depth > MAX_DEPTH)
    return 0;
  ws(j);
  if (j->p >= j->end)
    return 0;
  char c = *j->p;
  if (c == '"')
    return jstring(j, 0, 0);
  if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    ++j->p;
    if (eat(j, close))
      return 1;
    do {
      if (c == '{' && (!jstring(j, 0, 0) || !eat(j, ':')))
        return 0;
      if (!jskip(j, depth + 1))
        return 0;
    } while (eat(j, ','));
    return eat(j, close);
  }
  if (c == '-' || (c >= '0' && c <= '9')) { /* a number, as JSON writes it */
    const char *start = j->p;
    j->p += c == '-';
    while (j->p < j->end && ((*j->p >= '0' && *j->p <= '9') || *j->p == '.' ||
                             *j->p == 'e' || *j->p == 'E' || *j->p == '+' ||
                             *j->p == '-'))
      ++j->p;
    return j->p - start > (c == '-');
  }
  static const char *words[] = {"true", "false", "null"};
  for (int k = 0; k < 3; ++k) {
    size_t n = strlen(words[k]);
    if ((size_t)(j->end - j->p) >= n && memcmp(j->p, words[k], n) == 0) {
      j->p += n;
      return 1;
    }
  }
  return 0;
}

int64_t graft_st_dtype_size(const char *dtype) {
  static const struct {
    const char *name;
    int64_t size;
  } sizes[] = {{"F64", 8}, {"F32", 4}, {"BF16", 2}, {"F16", 2}, {"I64", 8},
               {"I32", 4}, {"I16", 2}, {"I8", 1},   {"U8", 1},  {"BOOL", 1}};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; ++k)
    if (strcmp(dtype, sizes[k].name) == 0)
      return sizes[k].size;
  return 0;
}

void graft_st_free(graft_st_file *f) {
  for (int32_t i = 0; i < f->nentries; ++i) {
    free(f->entries[i].name);
    free(f->entries[i].shape);
  }
  free(f->entries);
  for (int32_t i = 0; i < 2 * f->nmeta; ++i)
    free(f->meta[i]);
  free(f->meta);
  f->entries = 0;
  f->meta = 0;
  f->nentries = f->nmeta = 0;
}

/* `items` (a malloc'ed array of `size`-byte items, `n` of them used) with
 * room for one more: capacities double at powers of two. The same or a
 * realloc'ed pointer; NULL when out of memory (`items` is then unchanged). */
static void *grow(void *items, int32_t n, size_t size) {
  if (n & (n - 1))
    return items;
  return realloc(items, size * (size_t)(n ? 2 * n : 1));
}

static int compare_by_name(const void *x, const void *y) {
  return strcmp((*(const graft_st_entry *const *)x)->name,
                (*(const graft_st_entry *const *)y)->name);
}

static int compare_by_begin(const void *x, const void *y) {
  const graft_st_entry *a = *(const graft_st_entry *const *)x,
                       *b = *(const graft_st_entry *const *)y;
  return a->begin < b->begin ? -1 : a->begin > b->begin;
}

/* Reads one tensor entry's object into *e (its name already set). */
static int read_entry(struct st_json *j, graft_st_entry *e, int *nomem,
                      const char **what) {
  int haveDtype = 0, haveShape = 0, haveOffsets = 0;
  *what = "is malformed";
  if (!eat(j, '{')) {
    *what = "is not an object";
    return 0;
  }
  if (!eat(j, '}')) {
    do {
      char *field = 0;
      if (!jstring(j, &field, nomem) || !eat(j, ':')) {
        free(field);
        return 0;
      }
      enum { OTHER, DTYPE, SHAPE, OFFSETS } which =
          !strcmp(field, "dtype")          ? DTYPE
          : !strcmp(field, "shape")        ? SHAPE
          : !strcmp(field, "data_offsets") ? OFFSETS
                                           : OTHER;
      free(field);
      if (which == DTYPE) {
        char *dtype = 0;
        int ok = jstring(j, &dtype, nomem) && strlen(dtype) < sizeof e->dtype;
        if (ok)
          strcpy(e->dtype, dtype);
        free(dtype);
        if (!ok) {
          *what = "has a bad dtype";
          return 0;
        }
        haveDtype = 1;
      } else if (which == SHAPE) {
        *what = "has a bad shape";
        if (!eat(j, '['))
          return 0;
        if (!eat(j, ']')) {
          do {
            uint64_t v;
            int64_t *shape;
            if (!juint(j, &v) || v > (uint64_t)INT64_MAX || e->rank >= 64)
              return 0;
            if (!(shape = (int64_t *)grow(e->shape, e->rank, sizeof *shape))) {
              *nomem = 1;
              return 0;
            }
            e->shape = shape;
            e->shape[e->rank++] = (int64_t)v;
          } while (eat(j, ','));
          if (!eat(j, ']'))
            return 0;
        }
        *what = "is malformed";
        haveShape = 1;
      } else if (which == OFFSETS) {
        if (!eat(j, '[') || !juint(j, &e->begin) || !eat(j, ',') ||
            !juint(j, &e->end) || !eat(j, ']')) {
          *what = "has bad data_offsets";
          return 0;
        }
        haveOffsets = 1;
      } else if (!jskip(j, 2)) {
        return 0;
      }
    } while (eat(j, ','));
    if (!eat(j, '}'))
      return 0;
  }
  if (!haveDtype || !haveShape || !haveOffsets) {
    *what = "lacks its dtype, shape or data_offsets";
    return 0;
  }
  return 1;
}

int graft_st_read(const unsigned char *bytes, uint64_t size, graft_st_file *f,
                  char *err, size_t cap) {
  static const char kBadMetadata[] =
      "malformed JSON in the safetensors header's '__metadata__'";
  graft_st_file out = {0, 0, 0, 0};
  int nomem = 0, status = GRAFT_ST_MALFORMED;
  char *key = 0;
  graft_st_entry **sorted = 0;
#define BAD(...)                                                              \
  do {                                                                        \
    snprintf(err, cap, __VA_ARGS__);                                          \
    goto fail;                                                                \
  } while (0)
#define NOMEM_OR_BAD(...)                                                     \
  do {                                                                        \
    if (nomem)                                                                \
      goto no_memory;                                                         \
    BAD(__VA_ARGS__);                                                         \
  } while (0)
  if (size < 8)
    BAD("not a safetensors file (%llu bytes, shorter than its header length)",
        (unsigned long long)size);
  uint64_t hlen = 0;
  for (int k = 0; k < 8; ++k)
    hlen |= (uint64_t)bytes[k] << (8 * k);
  if (hlen > size - 8 || hlen < 2)
    BAD("not a safetensors file, or a truncated one (a header of %llu bytes "
        "in a file of %llu)",
        (unsigned long long)hlen, (unsigned long long)size);
  const uint64_t dataStart = 8 + hlen;
  struct st_json j = {(const char *)bytes + 8, (const char *)bytes + dataStart};
  int hasChecksum = 0, graftKeys = 0;
  if (too_deep(j.p, j.end))
    BAD("the safetensors header nests more than %d levels deep: not a "
        "checkpoint",
        MAX_DEPTH);
  if (!eat(&j, '{'))
    BAD("the safetensors header is not a JSON object");
  if (!eat(&j, '}')) {
    do {
      if (!jstring(&j, &key, &nomem) || !eat(&j, ':'))
        NOMEM_OR_BAD("the safetensors header is malformed JSON");
      if (strcmp(key, "__metadata__") == 0) {
        free(key);
        key = 0;
        /* String values are kept; others (not safetensors') skipped. */
        if (!eat(&j, '{'))
          BAD("the safetensors header's '__metadata__' is not a JSON object");
        if (eat(&j, '}'))
          continue;
        do {
          char *k = 0, *v = 0;
          if (!jstring(&j, &k, &nomem) || !eat(&j, ':')) {
            free(k);
            NOMEM_OR_BAD("%s", kBadMetadata);
          }
          graftKeys |= strncmp(k, "graft.", 6) == 0;
          ws(&j);
          if (j.p < j.end && *j.p == '"') {
            if (!jstring(&j, &v, &nomem)) {
              free(k);
              NOMEM_OR_BAD("%s", kBadMetadata);
            }
            /* Pairs of strings, grown a pair at a time. */
            char **meta = (char **)grow(out.meta, out.nmeta, 2 * sizeof *meta);
            if (!meta) {
              free(k);
              free(v);
              goto no_memory;
            }
            out.meta = meta;
            hasChecksum |= strcmp(k, "graft.checksum") == 0;
            out.meta[2 * out.nmeta] = k;
            out.meta[2 * out.nmeta + 1] = v;
            ++out.nmeta;
          } else {
            free(k);
            if (!jskip(&j, 2))
              BAD("%s", kBadMetadata);
          }
        } while (eat(&j, ','));
        if (!eat(&j, '}'))
          BAD("%s", kBadMetadata);
        continue;
      }
      graft_st_entry *entries = (graft_st_entry *)grow(
          out.entries, out.nentries, sizeof *entries);
      if (!entries)
        goto no_memory;
      out.entries = entries;
      graft_st_entry *e = &out.entries[out.nentries++];
      memset(e, 0, sizeof *e);
      e->name = key;
      key = 0;
      const char *what;
      if (!read_entry(&j, e, &nomem, &what))
        NOMEM_OR_BAD("entry '%s' %s", e->name, what);
    } while (eat(&j, ','));
    if (!eat(&j, '}'))
      BAD("the safetensors header is malformed JSON");
  }
  ws(&j);
  if (j.p != j.end)
    BAD("text after the safetensors header's JSON object");

  /* Each entry's bytes inside the data: a truncated file says so. */
  const uint64_t dataSize = size - dataStart;
  for (int32_t i = 0; i < out.nentries; ++i) {
    graft_st_entry *e = &out.entries[i];
    if (e->begin > e->end || e->end > dataSize)
      BAD("the bytes of '%s' lie outside the file (truncated?)", e->name);
  }
  /* The checksum, before the entries are checked against each other: a
   * damaged file says so. */
  int64_t sumAt = checksum_digits((const char *)bytes + 8, (size_t)hlen);
  if (graftKeys && !hasChecksum)
    BAD("the checkpoint is corrupted: it has Graft's metadata but no "
        "graft.checksum entry");
  if (hasChecksum && sumAt < 0)
    BAD("the checkpoint's graft.checksum entry is malformed (not 'crc32:' "
        "and 8 hex digits, written once): the file is damaged");
  if (sumAt >= 0) {
    struct st_crc32 *crc = (struct st_crc32 *)malloc(sizeof *crc);
    if (!crc)
      goto no_memory;
    size_t at = 8 + (size_t)sumAt;
    crc32_init(crc);
    crc32_add(crc, bytes, at);
    crc32_add(crc, "00000000", 8);
    crc32_add(crc, bytes + at + 8, (size_t)(size - at - 8));
    uint32_t value = crc32_value(crc);
    free(crc);
    char stored[9];
    memcpy(stored, bytes + at, 8);
    stored[8] = 0;
    if (strtoul(stored, 0, 16) != (unsigned long)value)
      BAD("the checkpoint is corrupted: checksum mismatch (stored crc32:%s, "
          "computed crc32:%08lx)",
          stored, (unsigned long)value);
  }

  /* As many bytes as the shape needs. */
  for (int32_t i = 0; i < out.nentries; ++i) {
    graft_st_entry *e = &out.entries[i];
    uint64_t nbytes = e->end - e->begin;
    e->begin += dataStart;
    e->end += dataStart;
    int64_t elem = graft_st_dtype_size(e->dtype);
    if (!elem)
      continue; /* another tool's dtype: whoever wants it refuses it */
    uint64_t numel = 1;
    for (int32_t d = 0; d < e->rank; ++d) {
      /* More elements than the file has bytes before the product can
       * overflow. */
      if (e->shape[d] && numel > dataSize / (uint64_t)e->shape[d])
        BAD("tensor '%s' has a shape of more elements than the file holds",
            e->name);
      numel *= (uint64_t)e->shape[d];
    }
    if (nbytes != numel * (uint64_t)elem)
      BAD("tensor '%s': %llu bytes of data for %llu elements of %s", e->name,
          (unsigned long long)nbytes, (unsigned long long)numel, e->dtype);
  }
  /* Each name once; ranges that do not overlap (safetensors: they would
   * alias). Sorted, not compared pairwise: a header may list millions. */
  if (out.nentries > 1) {
    sorted = (graft_st_entry **)malloc(sizeof *sorted * (size_t)out.nentries);
    if (!sorted)
      goto no_memory;
    for (int32_t i = 0; i < out.nentries; ++i)
      sorted[i] = &out.entries[i];
    qsort(sorted, (size_t)out.nentries, sizeof *sorted, compare_by_name);
    for (int32_t i = 1; i < out.nentries; ++i)
      if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0)
        BAD("tensor '%s' appears twice", sorted[i]->name);
    qsort(sorted, (size_t)out.nentries, sizeof *sorted, compare_by_begin);
    for (int32_t i = 1; i < out.nentries; ++i)
      if (sorted[i]->begin < sorted[i - 1]->end)
        BAD("tensors '%s' and '%s' overlap in the file (data_offsets): not a "
            "valid safetensors file",
            sorted[i - 1]->name, sorted[i]->name);
    free(sorted);
  }
  *f = out;
  return GRAFT_ST_OK;
no_memory:
  status = GRAFT_ST_NO_MEMORY;
  snprintf(err, cap, "out of memory");
fail:
  free(key);
  free(sorted);
  graft_st_free(&out);
  return status;
#undef BAD
#undef NOMEM_OR_BAD
}

/*--- Files replaced in place ----------------------------------------------*/

int graft_st_temporary_of(const char *name, const char *base, pid_t *pid) {
  size_t blen = strlen(base);
  if (strncmp(name, base, blen) != 0 || strncmp(name + blen, ".tmp-", 5) != 0)
    return 0;
  const char *p = name + blen + 5;
  if (*p < '1' || *p > '9')
    return 0;
  long long v = 0;
  int digits = 0;
  for (; *p >= '0' && *p <= '9'; ++p) {
    if (++digits > 10)
      return 0;
    v = v * 10 + (*p - '0');
  }
  if (v > 2147483647LL || *p++ != '-')
    return 0;
  for (int k = 0; k < 6; ++k, ++p)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return 0;
  if (*p)
    return 0;
  *pid = (pid_t)v;
  return 1;
}

/* The directory holding `path` ("." or "/" where it names none): malloc'ed,
 * NULL when out of memory. */
static char *directory_of(const char *path) {
  const char *slash = strrchr(path, '/');
  size_t dlen = slash ? (size_t)(slash - path) : 0;
  char *dir = (char *)malloc(dlen + 2);
  if (!dir)
    return 0;
  if (!slash)
    memcpy(dir, ".", 2);
  else if (dlen == 0)
    memcpy(dir, "/", 2);
  else {
    memcpy(dir, path, dlen);
    dir[dlen] = 0;
  }
  return dir;
}

unsigned graft_st_remove_stale_temporaries(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
    return 0;
  char *dir = directory_of(path);
  if (!dir)
    return 0;
  unsigned removed = 0;
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      pid_t pid;
      if (!graft_st_temporary_of(e->d_name, base, &pid))
        continue;
      size_t n = strlen(dir) + strlen(e->d_name) + 2;
      char *file = (char *)malloc(n);
      if (!file)
        break;
      snprintf(file, n, "%s/%s", dir, e->d_name);
      /* Only a writer that no longer exists: a live one (of any user:
       * EPERM) may still rename its temporary. */
      struct stat st;
      if (lstat(file, &st) == 0 && S_ISREG(st.st_mode) &&
          kill(pid, 0) == -1 && errno == ESRCH && unlink(file) == 0)
        ++removed;
      free(file);
    }
    closedir(d);
  }
  free(dir);
  return removed;
}

int graft_st_create_temporary(const char *path, char *tmp, size_t cap) {
  unsigned long pid = (unsigned long)getpid();
  /* The suffix mixes the time, the process id and the address of `tmp`
   * (distinct between threads saving at once); O_EXCL catches the rest. */
  uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)pid << 32) ^
               (uint64_t)(uintptr_t)tmp;
  for (int attempt = 0; attempt < 100; ++attempt) {
    uint64_t z = graft_rng_mix64(x + (uint64_t)attempt);
    snprintf(tmp, cap, "%s.tmp-%lu-%06lx", path, pid,
             (unsigned long)(z & 0xffffff));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST)
      return fd;
  }
  errno = EEXIST;
  return -1;
}

int graft_st_sync_directory_of(const char *path) {
  char *dir = directory_of(path);
  if (!dir) {
    errno = ENOMEM;
    return -1;
  }
  int fd = open(dir, O_RDONLY | O_CLOEXEC);
  free(dir);
  if (fd < 0)
    return -1;
  int r = fsync(fd), err = errno;
  close(fd);
  if (r != 0 && err != EINVAL && err != ENOTSUP) {
    errno = err;
    return -1;
  }
  return 0;
}
