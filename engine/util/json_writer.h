// Appending JSON text to a std::string: the one escaping routine every JSON
// output of gsoc uses (events file, alerts, API). Invalid UTF-8 is replaced
// by U+FFFD so the output is always valid JSON.
#pragma once

#include <string>
#include <string_view>

namespace gsoc {

void AppendJsonString(std::string& out, std::string_view text);

namespace json_writer_internal {
// The same escaping one byte at a time (AppendJsonString copies runs of
// plain bytes 16 at a time where SSE2 is there): what the tests compare it
// with.
void AppendJsonStringBytewise(std::string& out, std::string_view text);
}  // namespace json_writer_internal

}  // namespace gsoc
