// Private helpers of the Sigma loader (not part of the gsoc_rules interface).
//
// Loading throws Refusal internally; LoadSigma/LoadSigmaText catch it and turn
// it into a RuleError. Nothing here is thread-shared.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/rules/sigma_loader.h"

namespace gsoc::rules::internal {

// Limits that keep hostile input bounded.
// Per file: `action: repeat`/`global` and aliases can multiply a rule.
inline constexpr size_t kMaxValuesPerFile = 200000;
inline constexpr size_t kMaxValueBytesPerFile = 16 << 20;  // text of all values
inline constexpr int kMaxNestingDepth = 64;
inline constexpr size_t kMaxNodesPerDocument = 200000;

// Why a rule (or a file) is refused; `line` is 1-based, 0 if unknown.
class Refusal : public std::runtime_error {
 public:
  Refusal(std::string reason, int line, int column = 0)
      : std::runtime_error(std::move(reason)), line_(line), column_(column) {}
  int line() const { return line_; }
  int column() const { return column_; }

 private:
  int line_;
  int column_;
};

// 1-based line of a node, 0 if it has none (e.g. a node built by merging).
int LineOf(const YAML::Node& node);
// 1-based column of a node, 0 if it has none.
int ColumnOf(const YAML::Node& node);
[[noreturn]] void Refuse(const YAML::Node& at, const std::string& reason);

// ---- sigma_reader.cc: YAML documents and Sigma collections ----

struct SigmaDocument {
  YAML::Node node;  // after `action: global` / `repeat` merging
  int index = 0;    // 1-based index of the YAML document in the file
  int line = 0;     // 1-based line where the document starts
  bool correlation = false;
  std::optional<Refusal> error;  // a collection error that refuses this document
};

// Throws Refusal on a YAML syntax error (the whole file is refused).
std::vector<SigmaDocument> ReadSigmaDocuments(const std::string& yaml);

// ReadSigmaDocuments' two checks of one document's text (padded to its
// file lines, with no `---` or `...` line after its first): whether the
// document YAML::Load gave is known to end where the text does (then it is
// read once), and the first pass that refuses content after the document
// (throws Refusal) for the others. Exposed for the differential test.
bool EndsWithTheText(const std::string& text, const YAML::Node& root);
void RefuseContentAfterTheDocument(const std::string& text);

// ---- sigma_detection.cc: selections and values ----

// What a file may still expand into; shared by its rules.
struct ValueBudget {
  size_t values = kMaxValuesPerFile;
  size_t bytes = kMaxValueBytesPerFile;
};

// All selections of a `detection` map (every key except `condition`).
std::vector<Selection> BuildSelections(const YAML::Node& detection, const LoadOptions& options,
                                       ValueBudget& budget);

// ---- sigma_modifiers.cc: one `field|mod|mod` key applied to its values ----

struct ValueContext {
  const LoadOptions* options = nullptr;
  ValueBudget* budget = nullptr;
};
// Usually one predicate; `|all` over values that expand to several variants
// gives one predicate per value (ANDed by the enclosing alternative).
std::vector<FieldPredicate> BuildPredicates(const std::string& key, const YAML::Node& values,
                                            const ValueContext& context);

// ---- sigma_value.cc: transformation of Sigma string values ----

// A Sigma value split into literal text and wildcards.
struct ValuePiece {
  enum class Kind { kLiteral, kAnyRun, kAnyChar };
  Kind kind = Kind::kLiteral;
  std::string literal;
};
std::vector<ValuePiece> SplitSigmaValue(std::string_view value);
// Back to Sigma value text; literal `*`, `?` and `\` are escaped.
std::string JoinSigmaValue(const std::vector<ValuePiece>& pieces);
std::string EscapeSigmaLiteral(std::string_view literal);

std::string Base64Encode(std::string_view bytes);
// The three base64offset variants (pySigma / Sigma specification algorithm).
std::vector<std::string> Base64OffsetVariants(std::string_view bytes);

enum class Utf16Kind { kLittleEndian, kBigEndian, kWithBom };
// nullopt if `utf8` is not valid UTF-8.
std::optional<std::string> EncodeUtf16(std::string_view utf8, Utf16Kind kind);

// windash: every `-` or `/` at the start of a word becomes each of
// `-`, `/`, en dash, em dash, horizontal bar. `max_variants` bounds the result
// (nullopt when exceeded).
std::optional<std::vector<std::string>> ExpandWindash(std::string_view value, size_t max_variants);

// Glob match of a selection name against a `1 of x*` pattern (`*`, `?`).
bool GlobMatch(std::string_view pattern, std::string_view name);

}  // namespace gsoc::rules::internal
