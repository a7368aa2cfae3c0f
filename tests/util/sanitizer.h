// Whether this test binary is built with AddressSanitizer: GSOC_TEST_ASAN
// (0 or 1, for #if: ASan owns operator new, so allocation counters are left
// out) and kAddressSanitizer. kSanitizerRssSlack is what a bound on resident
// memory gets under it: freed memory stays in ASan's quarantine (256 MiB by
// default), so RSS does not come back down.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define GSOC_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GSOC_TEST_ASAN 1
#endif
#endif
#ifndef GSOC_TEST_ASAN
#define GSOC_TEST_ASAN 0
#endif

namespace gsoc::test {

inline constexpr bool kAddressSanitizer = GSOC_TEST_ASAN == 1;
inline constexpr size_t kSanitizerRssSlack = kAddressSanitizer ? size_t{300} << 20 : 0;

}  // namespace gsoc::test
