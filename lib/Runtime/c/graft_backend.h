/*===- graft_backend.h - Between graft_runtime.c and a device back end -----===*
 *
 * Not part of the public API. A device back end (graft_cuda.c, in libraries
 * built with --target=cuda) runs inside an entry point; it learns from here
 * which context the call is for, reports a failure (returned by the step that
 * called the entry point, with the message in graft_last_error), and is told
 * when a context is destroyed.
 *
 *===----------------------------------------------------------------------===*/
#ifndef GRAFT_BACKEND_H
#define GRAFT_BACKEND_H

#include "graft_api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The context whose entry point is running on this thread, or NULL. */
graft_context *graft_backend_context(void);
/* The running entry point failed: its step returns `s`. */
void graft_backend_fail(graft_status s, const char *message);
/* A public function `fn` of the back end failed on ctx (NULL when it has
 * none): the message, prefixed with fn, becomes graft_error(ctx) and
 * graft_last_error(); returns s. */
graft_status graft_backend_fail_context(const graft_context *ctx,
                                        const char *fn, graft_status s,
                                        const char *message);
/* Called by graft_destroy before it frees the context (NULL: none). */
extern void (*graft_backend_destroy_hook)(graft_context *ctx);
/* Whether the context's state lives on the device between steps (its host
 * copies stale): graft_cuda_set_resident (NULL: never). */
extern int (*graft_backend_resident_hook)(const graft_context *ctx);

#ifdef __cplusplus
}
#endif
#endif
