// Differential fuzzing of the JSON string paths that have several forms.
//  - The block unescaper (collectors/json/json_unescape.h), the input taken
//    as the body of a JSON string: when simdjson accepts `"input"`, the
//    block unescaper gives simdjson's text, or declines (nullptr) only for
//    a \u escape.
//  - AppendJsonString's escaping paths (engine/util/json_writer.h), the
//    input taken as text: every path this CPU has gives the bytewise
//    output, which simdjson reads back as the input when it is UTF-8.
// ASan checks that no path reads or writes outside its buffers.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/json/json_unescape.h"
#include "engine/util/json_writer.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

simdjson::dom::parser& Parser() {
  static simdjson::dom::parser parser;
  return parser;
}

void CheckUnescape(std::string_view body) {
  std::string json = "\"" + std::string(body) + "\"";
  const size_t limit = json.size();
  simdjson::dom::element element;
  std::string_view expected;
  if (Parser().parse(json).get(element) || element.get_string().get(expected)) return;
  json.append(64, '"');  // padding; a quote past the limit must not count
  std::vector<char> out(body.size() + 64);
  const char* end =
      gsoc::json_internal::UnescapeSimpleEscapes(json.data() + 1, json.data() + limit, out.data());
  if (end == nullptr) {
    Check(!gsoc::json_internal::BlockUnescapeAvailable() ||
          body.find("\\u") != std::string_view::npos);
    return;
  }
  Check(std::string_view(out.data(), static_cast<size_t>(end - out.data())) == expected);
}

void CheckEscape(std::string_view text) {
  using gsoc::json_writer_internal::EscapePath;
  std::string bytewise;
  gsoc::json_writer_internal::AppendJsonStringBy(EscapePath::kBytewise, bytewise, text);
  for (const EscapePath path : {EscapePath::kSse2Blocks, EscapePath::kAvx512Blocks}) {
    if (!gsoc::json_writer_internal::HasEscapePath(path)) continue;
    std::string by_path;
    gsoc::json_writer_internal::AppendJsonStringBy(path, by_path, text);
    Check(by_path == bytewise);
  }
  simdjson::dom::element element;
  std::string_view decoded;
  Check(!Parser().parse(bytewise).get(element) && !element.get_string().get(decoded));
  if (simdjson::validate_utf8(text.data(), text.size())) Check(decoded == text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckUnescape(input);
  CheckEscape(input);
  return 0;
}
