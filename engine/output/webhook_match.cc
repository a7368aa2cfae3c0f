#include "engine/output/webhook_match.h"

#include <algorithm>

namespace gsoc::output {

namespace {

// The end of the JSON string that starts after its opening quote at `from`.
size_t StringEnd(std::string_view json, size_t from) {
  for (size_t i = from; i < json.size(); ++i) {
    if (json[i] == '\\') {
      ++i;
    } else if (json[i] == '"') {
      return i;
    }
  }
  return std::string_view::npos;
}

// Whether the raw (still escaped) JSON string `raw` spells `tag`. Tags with
// characters JSON escapes never match an escaped spelling; Sigma tags are
// plain ASCII (attack.t1110).
bool SameTag(std::string_view raw, std::string_view tag) { return raw == tag; }

}  // namespace

bool AlertHasAnyTag(std::string_view json, const std::vector<std::string>& tags) {
  // The rule object comes first in the alert JSON and quotes inside strings
  // are escaped, so the first structural "tags":[ is the rule's.
  constexpr std::string_view kKey = "\"tags\":[";
  const size_t at = json.find(kKey);
  if (at == std::string_view::npos) return false;
  size_t i = at + kKey.size();
  while (i < json.size() && json[i] == '"') {
    const size_t end = StringEnd(json, i + 1);
    if (end == std::string_view::npos) return false;
    const std::string_view raw = json.substr(i + 1, end - i - 1);
    for (const std::string& tag : tags) {
      if (SameTag(raw, tag)) return true;
    }
    i = end + 1;
    if (i < json.size() && json[i] == ',') ++i;
  }
  return false;
}

bool WebhookMatch::Matches(const store::StoredAlert& alert) const {
  if (!agencies.empty() &&
      std::find(agencies.begin(), agencies.end(), alert.agency) == agencies.end()) {
    return false;
  }
  if (min_level && alert.level < *min_level) return false;
  return tags.empty() || AlertHasAnyTag(alert.json, tags);
}

}  // namespace gsoc::output
