#include "engine/match/pcre.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace gsoc::match::internal {

void PcreCodeDeleter::operator()(pcre2_code* code) const { pcre2_code_free(code); }
void PcreMatchDataDeleter::operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }

PcreCode PcreCompile(const std::string& pattern, uint32_t options, std::string* error) {
  int code = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* compiled = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                       options, &code, &offset, nullptr);
  if (compiled == nullptr) {
    PCRE2_UCHAR buffer[256];
    pcre2_get_error_message(code, buffer, sizeof(buffer));
    if (error) {
      *error = reinterpret_cast<const char*>(buffer);
      *error += " at offset " + std::to_string(offset);
    }
    return nullptr;
  }
  pcre2_jit_compile(compiled, PCRE2_JIT_COMPLETE);  // interpreter if JIT is unavailable
  return PcreCode(compiled);
}

PcreMatchData PcreMakeMatchData() { return PcreMatchData(pcre2_match_data_create(1, nullptr)); }

PcreResult PcreSearch(const pcre2_code* code, std::string_view subject, pcre2_match_data* data,
                      const RegexMatchContext& context) {
  const int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0,
                             0, data, context.get(subject.size()));
  // 0: matched, ovector too small for the groups (we need none)
  if (rc >= 0) return PcreResult::kMatch;
  return IsRegexLimitHit(rc) ? PcreResult::kLimit : PcreResult::kNoMatch;
}

}  // namespace gsoc::match::internal
