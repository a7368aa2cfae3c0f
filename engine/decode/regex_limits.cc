#include "engine/decode/regex_limits.h"

#include <pcre2.h>

#include <algorithm>
#include <cstdint>

namespace gsoc {

namespace {
constexpr size_t kJitStackStart = 32 * 1024;
}

RegexMatchContext::RegexMatchContext(const RegexLimits& limits)
    : match_limit_(limits.match_limit), match_limit_per_byte_(limits.match_limit_per_byte) {
  context_ = pcre2_match_context_create(nullptr);
  pcre2_set_match_limit(context_, limits.match_limit);
  pcre2_set_depth_limit(context_, limits.depth_limit);
  pcre2_set_heap_limit(context_, limits.heap_limit_kib);
  const size_t max_stack = std::max<size_t>(kJitStackStart, size_t{limits.heap_limit_kib} * 1024);
  jit_stack_ = pcre2_jit_stack_create(kJitStackStart, max_stack, nullptr);
  // Without a stack of its own the JIT uses 32 KiB of the machine stack,
  // which ordinary regexes on long messages exceed.
  if (jit_stack_ != nullptr) pcre2_jit_stack_assign(context_, nullptr, jit_stack_);
}

RegexMatchContext::~RegexMatchContext() {
  pcre2_match_context_free(context_);
  pcre2_jit_stack_free(jit_stack_);
}

pcre2_match_context* RegexMatchContext::get(size_t subject_length) const {
  const uint64_t limit = match_limit_ + match_limit_per_byte_ * subject_length;
  pcre2_set_match_limit(context_, static_cast<uint32_t>(std::min<uint64_t>(limit, UINT32_MAX)));
  return context_;
}

bool IsRegexLimitHit(int pcre2_result) {
  return pcre2_result < 0 && pcre2_result != PCRE2_ERROR_NOMATCH;
}

}  // namespace gsoc
