// Program names as filters list them (decoders' `programs:`, pipelines'
// event filters): lower case, compared with an event's program ignoring
// ASCII case; an old PAM tag such as `sshd(pam_unix)` also counts as the
// program before '('. Allocation-free: used per event.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/util/ascii.h"

namespace gsoc {

// The part of an old PAM tag before '(' (`sshd` of `sshd(pam_unix)`); empty
// when `program` has no such part.
inline std::string_view ProgramBase(std::string_view program) {
  const size_t paren = program.find('(');
  return paren == std::string_view::npos ? std::string_view() : program.substr(0, paren);
}

// True when `names` (lower case) lists `program` or its PAM base. The whole
// name first: the search for '(' only when it is not listed.
inline bool ProgramNamed(const std::vector<std::string>& names, std::string_view program) {
  for (const std::string& name : names) {
    if (EqualsLowerAscii(name, program)) return true;
  }
  const std::string_view base = ProgramBase(program);
  if (base.empty()) return false;
  for (const std::string& name : names) {
    if (EqualsLowerAscii(name, base)) return true;
  }
  return false;
}

}  // namespace gsoc
