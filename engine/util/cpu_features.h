// What the CPU this process runs on can do, for code paths chosen at run
// time (the build targets the compiler's default x86-64 unless GSOC_MARCH
// says otherwise). Each answer is computed once; thread-safe.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// Functions built for AVX-512 with VBMI2 (byte compress/expand) and BMI2:
// call them only when CpuHasAvx512Vbmi2().
#define GSOC_AVX512_VBMI2_TARGET \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi,avx512vbmi2,bmi,bmi2")))
#define GSOC_HAVE_AVX512_VBMI2_TARGET 1
#else
#define GSOC_HAVE_AVX512_VBMI2_TARGET 0
#endif

namespace gsoc {

// AVX-512 F, BW, VL, VBMI and VBMI2, BMI and BMI2, with the OS saving the
// AVX-512 registers (Ice Lake and later, Zen 4 and later). False off x86-64.
bool CpuHasAvx512Vbmi2();

}  // namespace gsoc
