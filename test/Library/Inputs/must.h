/* MUST(call): a C API call the test harnesses cannot go on without; on
 * failure it prints the status and graft_last_error() and exits 1. */
#ifndef GRAFT_TEST_MUST_H
#define GRAFT_TEST_MUST_H

#include <stdio.h>
#include <stdlib.h>

#define MUST(call)                                                             \
  do {                                                                         \
    graft_status s_ = (call);                                                  \
    if (s_ != GRAFT_OK) {                                                      \
      printf("FAIL: %s: %s (%s)\n", #call, graft_status_string(s_),          \
             graft_last_error());                                             \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

#endif
