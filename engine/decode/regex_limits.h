// Bounds on one PCRE2 match over event data (decoders and `|re` rules).
//
// A hostile message must not make one regex cost milliseconds: every
// pcre2_match on event data gets a match context with these limits, and a
// limit hit counts as "no match" (and is counted by the caller). With the
// JIT (the usual case) `match_limit` bounds the work and `heap_limit_kib`
// is the most the per-thread JIT stack may grow to; without it (the
// interpreter) `depth_limit` and `heap_limit_kib` apply as PCRE2 defines
// them. Defaults: README.md of this folder.
#pragma once

#include <cstdint>
#include <memory>

struct pcre2_real_match_context_8;
struct pcre2_real_jit_stack_8;

namespace gsoc {

struct RegexLimits {
  // Per match: match_limit plus match_limit_per_byte for every byte of the
  // subject, so work stays proportional to the input (an ordinary regex on
  // a long message must still match; a crafted one costs a constant factor).
  uint32_t match_limit = 20'000;
  uint32_t depth_limit = 10'000;
  uint32_t heap_limit_kib = 4096;
  uint32_t match_limit_per_byte = 16;
};

// One thread's match context: the limits plus a JIT stack that grows up to
// heap_limit_kib. Not thread-safe; one per worker scratch.
class RegexMatchContext {
 public:
  explicit RegexMatchContext(const RegexLimits& limits);
  ~RegexMatchContext();
  RegexMatchContext(const RegexMatchContext&) = delete;
  RegexMatchContext& operator=(const RegexMatchContext&) = delete;

  // The context with the match limit set for a subject of this length.
  pcre2_real_match_context_8* get(size_t subject_length) const;

 private:
  uint64_t match_limit_ = 0;
  uint64_t match_limit_per_byte_ = 0;
  pcre2_real_match_context_8* context_ = nullptr;
  pcre2_real_jit_stack_8* jit_stack_ = nullptr;
};

// True for a pcre2_match result that is neither a match (>= 0) nor a plain
// "no match": a match/depth/heap/JIT-stack limit or out of memory.
bool IsRegexLimitHit(int pcre2_result);

}  // namespace gsoc
