// Appending JSON text to a std::string: the one escaping routine every JSON
// output of gsoc uses (events file, alerts, API). Invalid UTF-8 is replaced
// by U+FFFD so the output is always valid JSON.
#pragma once

#include <string>
#include <string_view>

namespace gsoc {

void AppendJsonString(std::string& out, std::string_view text);

namespace json_writer_internal {
// How AppendJsonString copies the bytes that need no escape: one at a
// time, 16 at a time (SSE2), or 32 at a time with AVX-512 VBMI2 (escapes
// included). AppendJsonString takes the widest this CPU runs; each path
// gives the same bytes, which the tests check.
enum class EscapePath { kBytewise, kSse2Blocks, kAvx512Blocks };
// False when this build or CPU does not have `path`.
bool HasEscapePath(EscapePath path);
// AppendJsonString by `path` (HasEscapePath must hold).
void AppendJsonStringBy(EscapePath path, std::string& out, std::string_view text);
}  // namespace json_writer_internal

}  // namespace gsoc
