/*===- graft_safetensors.h - Checkpoint files, read and written once ------===*
 *
 * Checkpoints are safetensors files: an 8-byte little-endian header length,
 * a JSON header naming each tensor's dtype, shape and byte range, then the
 * data; Graft's writers add "graft.checksum" to the header's "__metadata__"
 * (docs/CAPI.md, "Checksums"). This is the one implementation of the format
 * and of the rules for writing files in place: the C runtime's graft_save
 * and graft_load (graft_runtime.c includes this file's .c, so the embedded
 * runtime stays one object) and graft train's checkpoints
 * (lib/Runtime/Checkpoint.cpp) call it.
 *
 * Every function is reentrant: no state is shared between calls.
 *
 *===----------------------------------------------------------------------===*/

#ifndef GRAFT_SAFETENSORS_H
#define GRAFT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*--- Element types --------------------------------------------------------*/

/* The safetensors dtype of a GRAFT_DTYPE_* value (graft_api.h): "F32",
 * "F64", "BF16", "I64", "I32", "BOOL"; "?" for any other value. */
const char *graft_st_dtype_name(int32_t dtype);

/* The GRAFT_DTYPE_* value of a safetensors dtype, or -1 for one that Graft
 * does not hold (F16, U8, ...). */
int32_t graft_st_dtype_of(const char *name);

/*--- Reading --------------------------------------------------------------*/

/* A tensor of a file's header. */
typedef struct graft_st_entry {
  char *name;     /* its key, decoded from JSON (UTF-8) */
  char dtype[16]; /* as written: F32, F64, BF16, I64, I32, BOOL, ... */
  int32_t rank;
  int64_t *shape;      /* rank entries */
  uint64_t begin, end; /* its bytes: [begin, end) of the whole file */
} graft_st_entry;

/* A file's header, read and checked. */
typedef struct graft_st_file {
  graft_st_entry *entries; /* in the header's order */
  int32_t nentries;
  char **meta; /* "__metadata__"'s string entries: key, value, key, ... */
  int32_t nmeta;
} graft_st_file;

/* What graft_st_read found wrong. */
enum {
  GRAFT_ST_OK = 0,
  GRAFT_ST_MALFORMED = 1, /* not a safetensors file, or a damaged one */
  GRAFT_ST_NO_MEMORY = 2,
};

/* Reads the safetensors file `bytes[size]` (the whole file) into *f; free
 * it with graft_st_free. Refused, with a message in err[cap] that names
 * what is wrong but not the file: a file too short for its header, a
 * header that is not a JSON object of tensor entries (each with a dtype,
 * a shape of whole numbers and data_offsets; other fields are skipped) or
 * nests deeper than 32 levels, a key given twice, bytes outside the data,
 * a byte count that does not match the shape of a dtype this file knows
 * (graft_st_dtype_size), overlapping byte ranges, and a damaged checksum:
 * a "graft.checksum" entry whose CRC-32 does not match the file's bytes or
 * that is malformed, or Graft's metadata without one (a flipped bit in a
 * key would otherwise turn the check off). Files of other tools, without a
 * checksum, are read as they are. A damaged checksum is reported before
 * the other checks of the entries, so a corrupted file says so. */
int graft_st_read(const unsigned char *bytes, uint64_t size, graft_st_file *f,
                  char *err, size_t cap);
void graft_st_free(graft_st_file *f);

/* Bytes per element of a safetensors dtype; 0 for one Graft does not
 * know. */
int64_t graft_st_dtype_size(const char *dtype);

/*--- Writing --------------------------------------------------------------*/

/* A tensor to write: its name is `prefix` then `name`. A tensor may be
 * given twice under two names (a tied parameter): its bytes are written
 * once per name, as safetensors' ranges never overlap. */
typedef struct graft_st_tensor {
  const char *prefix, *name;
  const char *dtype;
  int32_t rank;
  const int64_t *shape;
  const void *data;
  uint64_t nbytes;
} graft_st_tensor;

/* A metadata entry: the key is `prefix` then `key`. */
typedef struct graft_st_meta {
  const char *prefix, *key, *value;
} graft_st_meta;

/* The header of a file holding `tensors` in order, their bytes one after
 * the other, and `meta`, after "graft.checksum": "crc32:<8 hex digits>",
 * the CRC-32 of the whole file with those digits read as '0's (computed
 * here, from the tensors' data). The 8 length bytes, then the JSON text
 * padded with spaces to a multiple of 8: malloc'ed, its length in *len;
 * NULL when out of memory. The file is this, then each tensor's bytes. */
unsigned char *graft_st_header(const graft_st_tensor *tensors, int32_t n,
                               const graft_st_meta *meta, int32_t nmeta,
                               size_t *len);

/*--- Files replaced in place ----------------------------------------------*/

/* A file is written to a temporary beside it, PATH.tmp-<pid>-<6 lowercase
 * hex digits> (the writer's process id), flushed, renamed over PATH, and
 * the directory flushed. A writer killed before its rename leaves its
 * temporary; the next write of PATH, by any process, removes those whose
 * writer no longer exists. */

/* Whether `name` is a temporary of `base` (base.tmp-<pid>-<6 hex digits>);
 * *pid receives the writer's process id. */
int graft_st_temporary_of(const char *name, const char *base, pid_t *pid);
/* Removes the regular files of PATH's directory that are temporaries of
 * PATH whose writer no longer exists (kill(pid, 0) fails with ESRCH).
 * Errors are ignored. Returns the number removed. */
unsigned graft_st_remove_stale_temporaries(const char *path);
/* Creates a temporary of `path` (O_EXCL) into tmp[cap], opened for
 * writing; -1 with errno set when it cannot. */
int graft_st_create_temporary(const char *path, char *tmp, size_t cap);
/* fsync of the directory holding `path`: a file system that cannot sync a
 * directory (EINVAL, ENOTSUP) is not an error. 0, or -1 with errno set. */
int graft_st_sync_directory_of(const char *path);

#ifdef __cplusplus
}
#endif

#endif
