/*===- graft_cpu.c - The CPU features a library needs ----------------------===*
 *
 * graft_create refuses a library compiled for features this CPU lacks
 * (AVX-512, AMX, ...), with their names, rather than crash on an illegal
 * instruction in the first step.
 *
 * Part of graft_runtime.c's one translation unit (the runtime is embedded
 * as one object): it uses the declarations made there and in the parts
 * included before it.
 *
 *===----------------------------------------------------------------------===*/

/*--- The CPU: does it have what the library was compiled for? ------------*/

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* One x86 extension: the CPUID leaf/subleaf, register (0 ebx, 1 ecx,
 * 2 edx) and bit that report it, and the register state (XCR0 bits) the
 * operating system must enable for it. LLVM's feature names. */
struct x86_feature {
  const char *name;
  unsigned leaf, sub, reg, bit;
  unsigned long long xcr0;
};
#define XCR0_AVX 0x6ULL       /* SSE and AVX state */
#define XCR0_AVX512 0xe6ULL   /* and opmask, ZMM_Hi256, Hi16_ZMM */
#define XCR0_AMX 0x60000ULL   /* XTILECFG, XTILEDATA */
static const struct x86_feature x86_features[] = {
    {"sse3", 1, 0, 1, 0, 0},          {"ssse3", 1, 0, 1, 9, 0},
    {"sse4.1", 1, 0, 1, 19, 0},       {"sse4.2", 1, 0, 1, 20, 0},
    {"popcnt", 1, 0, 1, 23, 0},       {"avx", 1, 0, 1, 28, XCR0_AVX},
    {"fma", 1, 0, 1, 12, XCR0_AVX},   {"f16c", 1, 0, 1, 29, XCR0_AVX},
    {"avx2", 7, 0, 0, 5, XCR0_AVX},   {"bmi", 7, 0, 0, 3, 0},
    {"bmi2", 7, 0, 0, 8, 0},          {"avx512f", 7, 0, 0, 16, XCR0_AVX512},
    {"avx512dq", 7, 0, 0, 17, XCR0_AVX512},
    {"avx512ifma", 7, 0, 0, 21, XCR0_AVX512},
    {"avx512cd", 7, 0, 0, 28, XCR0_AVX512},
    {"avx512bw", 7, 0, 0, 30, XCR0_AVX512},
    {"avx512vl", 7, 0, 0, 31, XCR0_AVX512},
    {"avx512vbmi", 7, 0, 1, 1, XCR0_AVX512},
    {"avx512vbmi2", 7, 0, 1, 6, XCR0_AVX512},
    {"avx512vnni", 7, 0, 1, 11, XCR0_AVX512},
    {"avx512bitalg", 7, 0, 1, 12, XCR0_AVX512},
    {"avx512vpopcntdq", 7, 0, 1, 14, XCR0_AVX512},
    {"avx512fp16", 7, 0, 2, 23, XCR0_AVX512},
    {"amx-bf16", 7, 0, 2, 22, XCR0_AMX},
    {"amx-tile", 7, 0, 2, 24, XCR0_AMX},
    {"amx-int8", 7, 0, 2, 25, XCR0_AMX},
    {"avxvnni", 7, 1, 3, 4, XCR0_AVX},  /* eax of leaf 7.1 */
    {"avx512bf16", 7, 1, 3, 5, XCR0_AVX512},
};

static int x86_has(const struct x86_feature *f) {
  unsigned r[4] = {0, 0, 0, 0}; /* ebx, ecx, edx, eax */
  if (!__get_cpuid_count(f->leaf, f->sub, &r[3], &r[0], &r[1], &r[2]))
    return 0;
  if (!((r[f->reg] >> f->bit) & 1))
    return 0;
  if (f->xcr0) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !((c >> 27) & 1)) /* OSXSAVE */
      return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    unsigned long long xcr0 = ((unsigned long long)hi << 32) | lo;
    if ((xcr0 & f->xcr0) != f->xcr0)
      return 0;
  }
  return 1;
}
#endif

/* Checks every extension in the comma-separated `features`; names this
 * runtime does not know are not checked. GRAFT_OK or GRAFT_ERR_CPU. */
static graft_status check_cpu(const graft_model_desc *m) {
#if defined(__x86_64__) || defined(__i386__)
  const char *p = m->target_features;
  while (p && *p) {
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    for (size_t k = 0; k < sizeof x86_features / sizeof *x86_features; ++k) {
      const struct x86_feature *f = &x86_features[k];
      if (strlen(f->name) == n && strncmp(f->name, p, n) == 0 && !x86_has(f))
        return fail(GRAFT_ERR_CPU,
                    "graft_create: model '%s' was compiled for CPU '%s' and "
                    "uses %s, which "
                    "this CPU lacks; recompile it with `graft compile "
                    "--target-cpu=<cpu>` for this machine (or an older one, "
                    "e.g. x86-64-v2)",
                    m->name, m->target_cpu ? m->target_cpu : "?", f->name);
    }
    p = end ? end + 1 : 0;
  }
#else
  (void)m;
#endif
  return GRAFT_OK;
}
