// Diagnostic: the one type every loader reports problems with — the config
// (ConfigReader), Sigma detection rules, filters and correlations
// (engine/rules, engine/correlate), decoders (engine/decode) and indicator
// lists (engine/indicators) — and that gsocd logs and `gsocctl rules check`
// prints and counts.
//
// What it carries: severity (an error refuses what it names — a rule, a
// decoder, the config; a warning loads it), a stable code naming the kind of
// problem (`<loader>.<what>`, e.g. config.key, sigma.rule, correlation.rule,
// filter.rule, decoder.rule, list.file, sigma.pcre2_fallback), where (file,
// 1-based line and column, 0 when unknown), which rule (id, or the decoder's
// name) or config key, and the message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gsoc {

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
  bool operator==(const SourceLocation&) const = default;
};

enum class Severity : uint8_t { kError, kWarning };
std::string_view SeverityName(Severity severity);  // "error", "warning"

struct Diagnostic {
  Severity severity = Severity::kError;
  std::string code;  // <loader>.<what>
  SourceLocation location;
  std::string rule_id;  // the rule (or decoder) concerned; empty when none
  std::string key;      // config: the dotted key path, e.g. listeners[1].port
  std::string message;

  // "file:line:column: [warning: ][rule <id>: |<key>: ]message"
  std::string ToString() const;
  bool operator==(const Diagnostic&) const = default;
};

}  // namespace gsoc
