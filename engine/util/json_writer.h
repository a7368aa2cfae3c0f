// Appending JSON text to a std::string: the one escaping routine every JSON
// output of gsoc uses (events file, alerts, API). Invalid UTF-8 is replaced
// by U+FFFD so the output is always valid JSON.
#pragma once

#include <string>
#include <string_view>

namespace gsoc {

void AppendJsonString(std::string& out, std::string_view text);

}  // namespace gsoc
