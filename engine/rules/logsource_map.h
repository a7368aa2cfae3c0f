// Which events a Sigma `logsource` applies to: a documented mapping loaded
// from rules/logsources.yaml, e.g. product linux + service sshd -> events
// whose program is `sshd`. A logsource with no mapping refuses the rule.
//
// The file format:
//   logsources:
//     - logsource: {product: linux, service: sshd}    # keys that must equal
//       programs: [sshd]                             # any of (case-insensitive)
//       facilities: [4, 10]                          # any of; omitted = any
//       formats: [json]                              # rfc5424|rfc3164|json; omitted = any
// An entry applies to a rule when product, service and category are equal
// (case-insensitive; a key the entry omits applies only to rules that omit
// it too, so `{product: linux}` does not cover `category: process_creation`),
// or the entry gives '*' for that key (any value, also none). The most
// specific entry wins (most keys that are not '*'); ties: first in the file.
// An entry with no programs, facilities or formats matches every event.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/event/event.h"
#include "engine/rules/rule.h"

namespace gsoc::rules {

struct EventFilter {
  std::vector<std::string> programs;  // lower-case; empty = any
  std::vector<int> facilities;        // empty = any
  std::vector<EventFormat> formats;   // empty = any

  bool Matches(const Event& event) const;  // program compare is case-insensitive
};

class LogSourceMap {
 public:
  // Throws std::runtime_error naming file, line and reason on a bad file.
  static LogSourceMap Load(const std::filesystem::path& file);
  static LogSourceMap Parse(const std::string& yaml, const std::string& file_name);

  // nullopt: no mapping (the rule is refused with the logsource in the reason).
  std::optional<EventFilter> Resolve(const LogSource& logsource) const;

 private:
  struct Entry {
    LogSource logsource;  // lower-case; "*" = any value, empty = must be absent
    EventFilter filter;
  };
  std::vector<Entry> entries_;
};

}  // namespace gsoc::rules
