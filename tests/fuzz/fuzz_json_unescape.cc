// Differential fuzzing of the block unescaper (json_unescape.h): each input
// is the body of a JSON string. When simdjson accepts `"input"`, the block
// unescaper must give simdjson's text, or decline (nullptr) for a \u
// escape; it must never read or write outside its padded buffers (ASan).
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/json/json_unescape.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  std::string json = "\"" + std::string(body) + "\"";
  const size_t limit = json.size();
  static simdjson::dom::parser parser;
  simdjson::dom::element element;
  std::string_view expected;
  if (parser.parse(json).get(element) || element.get_string().get(expected)) return 0;
  json.append(64, '"');  // padding; a quote past the limit must not count
  std::vector<char> out(size + 64);
  const char* end =
      gsoc::json_internal::UnescapeSimpleEscapes(json.data() + 1, json.data() + limit, out.data());
  if (end == nullptr) {
    if (gsoc::json_internal::BlockUnescapeAvailable() && body.find("\\u") == std::string::npos) {
      std::abort();  // declined a string without a \u escape
    }
    return 0;
  }
  const std::string_view got(out.data(), static_cast<size_t>(end - out.data()));
  if (got != expected) std::abort();
  return 0;
}
