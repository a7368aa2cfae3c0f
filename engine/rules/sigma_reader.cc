// YAML documents of one file and Sigma rule collections:
// `action: global` documents are merged into every following rule document
// (global values win on conflicts, as in the Sigma reference tool sigmac)
// until `action: reset`; `action: repeat` repeats the previous rule document
// with its own keys merged over it. Correlation documents are not merged.
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <sstream>

#include "engine/rules/sigma_internal.h"

namespace gsoc::rules::internal {
namespace {

constexpr size_t kMaxMergedEntries = 10000;

bool HasKey(const YAML::Node& map, const char* key) {
  for (const auto& entry : map)
    if (entry.first.IsScalar() && entry.first.Scalar() == key) return true;
  return false;
}

std::string ScalarKey(const YAML::Node& key) {
  if (!key.IsScalar()) Refuse(key, "keys of a Sigma document must be plain names");
  return key.Scalar();
}

YAML::Node CopyWithout(const YAML::Node& map, const char* skipped) {
  YAML::Node copy(YAML::NodeType::Map);
  for (const auto& entry : map) {
    const std::string key = ScalarKey(entry.first);
    if (key != skipped) copy[key] = entry.second;
  }
  return copy;
}

// `base` with `over` merged into it; maps present in both are merged
// recursively, otherwise `over` wins. `budget` bounds the work (aliases can
// make a small document a deep or self-referencing graph).
YAML::Node MergeInto(const YAML::Node& base, const YAML::Node& over, int depth, size_t& budget) {
  if (depth > kMaxNestingDepth) Refuse(over, "collection documents nested too deeply to merge");
  YAML::Node merged(YAML::NodeType::Map);
  for (const auto& entry : base) {
    if (budget-- == 0) Refuse(over, "collection documents too large to merge");
    merged[ScalarKey(entry.first)] = entry.second;
  }
  for (const auto& entry : over) {
    if (budget-- == 0) Refuse(over, "collection documents too large to merge");
    const std::string key = ScalarKey(entry.first);
    const YAML::Node existing = static_cast<const YAML::Node&>(merged)[key];
    if (existing.IsDefined() && existing.IsMap() && entry.second.IsMap()) {
      merged[key] = MergeInto(existing, entry.second, depth + 1, budget);
    } else {
      merged[key] = entry.second;
    }
  }
  return merged;
}

YAML::Node Merge(const YAML::Node& base, const YAML::Node& over) {
  size_t budget = kMaxMergedEntries;
  return MergeInto(base, over, 0, budget);
}

std::string ActionOf(const YAML::Node& map) {
  for (const auto& entry : map)
    if (entry.first.IsScalar() && entry.first.Scalar() == "action") {
      if (!entry.second.IsScalar()) Refuse(entry.second, "action must be global, reset or repeat");
      return entry.second.Scalar();
    }
  return "";
}

// YAML::Node assignment rebinds the *target's* data (reference semantics), so
// a slot that already holds a node is emptied before it takes another one.
void Rebind(std::optional<YAML::Node>& slot, const YAML::Node& node) {
  slot.reset();
  slot.emplace(node);
}

class CollectionReader {
 public:
  // Appends the document unless it is a global/reset action.
  void Add(const YAML::Node& node, int index, std::vector<SigmaDocument>& out) {
    SigmaDocument doc;
    doc.index = index;
    doc.line = LineOf(node);
    try {
      if (!Process(node, doc)) return;
    } catch (const Refusal& refusal) {
      doc.error = refusal;
    }
    out.push_back(std::move(doc));
  }

 private:
  bool Process(const YAML::Node& node, SigmaDocument& doc) {
    if (!node.IsMap()) Refuse(node, "a Sigma document must be a map");
    const std::string action = ActionOf(node);
    if (action == "global") {
      const YAML::Node body = CopyWithout(node, "action");
      Rebind(global_, global_ ? Merge(*global_, body) : body);
      return false;
    }
    if (action == "reset") {
      global_.reset();
      return false;
    }
    if (action == "repeat") {
      if (!previous_) Refuse(node, "action: repeat needs a previous rule document");
      doc.node = Merge(*previous_, CopyWithout(node, "action"));
    } else if (!action.empty()) {
      Refuse(node, "unknown action '" + action + "' (expected global, reset or repeat)");
    } else if (HasKey(node, "correlation")) {
      doc.node = node;
      doc.correlation = true;
      return true;
    } else {
      doc.node = global_ ? Merge(node, *global_) : node;
    }
    doc.correlation = HasKey(doc.node, "correlation");
    Rebind(previous_, doc.node);
    return true;
  }

  std::optional<YAML::Node> global_;
  std::optional<YAML::Node> previous_;
};

// ---- document splitting ----
// yaml-cpp 0.7's LoadAll loops forever (allocating) on a stray `,` at block
// level (e.g. the text ", s"), so documents are split here and each is
// parsed alone, with a check that nothing follows it. Splitting on `---` /
// `...` lines is exact: YAML forbids them inside content.

constexpr size_t kMaxDocumentsPerFile = 500;

struct TextChunk {
  std::string text;
  int first_line = 0;  // 0-based line of the chunk in the file
};

bool IsMarkerLine(std::string_view line, std::string_view marker) {
  if (line.substr(0, 3) != marker) return false;
  return line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r' ||
         line[3] == '\n';
}

std::vector<TextChunk> SplitDocuments(const std::string& yaml) {
  std::vector<TextChunk> chunks(1);
  int line = 0;
  for (size_t pos = 0; pos < yaml.size(); ++line) {
    const size_t end = yaml.find('\n', pos);
    const size_t next = end == std::string::npos ? yaml.size() : end + 1;
    const std::string_view text(yaml.data() + pos, next - pos);
    if (IsMarkerLine(text, "---")) chunks.push_back({"", line});
    chunks.back().text += text;
    if (IsMarkerLine(text, "...")) chunks.push_back({"", line + 1});
    pos = next;
  }
  return chunks;
}

// Only whitespace, comments and directives: not a document.
bool IsBlank(const std::string& text) {
  bool line_start = true, skipping = false;
  for (const char c : text) {
    if (c == '\n') {
      line_start = true, skipping = false;
    } else if (skipping || c == ' ' || c == '\t' || c == '\r') {
      continue;
    } else if (line_start && (c == '#' || c == '%')) {
      skipping = true;
    } else {
      return false;
    }
  }
  return true;
}

// Records where the first event of a document is.
class FirstEvent : public YAML::EventHandler {
 public:
  int line = 0;
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Note(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { Note(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Note(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Note(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Note(mark);
  }
  void OnMapEnd() override {}

 private:
  void Note(const YAML::Mark& mark) {
    if (line == 0) line = mark.line + 1;
  }
};

[[noreturn]] void SyntaxError(const YAML::Exception& e) {
  const bool marked = e.mark.line >= 0;
  throw Refusal("YAML syntax error: " + e.msg, marked ? e.mark.line + 1 : 0,
                marked && e.mark.column >= 0 ? e.mark.column + 1 : 0);
}

// The first character of the chunk's content, past blank and comment lines
// and a bare `---` marker line; the view is empty when there is none.
std::string_view ContentStart(const std::string& text) {
  for (size_t pos = 0; pos < text.size();) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view line(text.data() + pos, end - pos);
    if (IsMarkerLine(line, "---")) line.remove_prefix(3);
    const size_t first = line.find_first_not_of(" \t\r");
    if (first != std::string_view::npos && line[first] != '#')
      return std::string_view(text).substr(line.data() - text.data());
    pos = end + 1;
  }
  return {};
}

bool IsPlainKeyStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

// A root block map whose first key is at column 0 ends only where the text
// does: yaml-cpp's scanner ends a document early only at a `---` or `...`
// line (SplitDocuments cut the text there already) or a directive (`%` at
// column 0); any other token at column 0 is another key or a syntax error
// inside the map. Every other document may leave content behind that
// YAML::Load would silently drop, so it takes a first pass that looks for
// it. (Sigma rules are the first kind: they parse once.) The differential
// test (tests/engine/rules/one_pass_reading_test.cc) holds this against the
// first pass on mutated corpus rules.
bool EndsWithTheText(const std::string& text, const YAML::Node& root) {
  const std::string_view start = ContentStart(text);
  const bool at_line_start =
      !start.empty() && (start.data() == text.data() || start.data()[-1] == '\n');
  const size_t offset = static_cast<size_t>(start.data() - text.data());
  return at_line_start && IsPlainKeyStart(start.front()) && root.IsMap() &&
         root.Mark().column == 0 && text.find("\n%", offset) == std::string::npos;
}

void RefuseContentAfterTheDocument(const std::string& text) {
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  FirstEvent first, after;
  parser.HandleNextDocument(first);
  if (parser.HandleNextDocument(after))
    throw Refusal("YAML syntax error: unexpected content after the document", after.line);
}

namespace {

// One document; lines are padded so that marks are lines of the file.
YAML::Node ParseChunk(const TextChunk& chunk) {
  const std::string text = std::string(chunk.first_line, '\n') + chunk.text;
  try {
    YAML::Node root = YAML::Load(text);
    if (!EndsWithTheText(text, root)) RefuseContentAfterTheDocument(text);
    return root;
  } catch (const YAML::Exception& e) {
    SyntaxError(e);
  }
}

}  // namespace

int LineOf(const YAML::Node& node) {
  try {
    if (!node.IsDefined()) return 0;
    const int line = node.Mark().line;
    return line >= 0 ? line + 1 : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

int ColumnOf(const YAML::Node& node) {
  try {
    if (!node.IsDefined() || node.Mark().line < 0) return 0;
    const int column = node.Mark().column;
    return column >= 0 ? column + 1 : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

void Refuse(const YAML::Node& at, const std::string& reason) {
  throw Refusal(reason, LineOf(at), ColumnOf(at));
}

std::vector<SigmaDocument> ReadSigmaDocuments(const std::string& yaml) {
  const std::vector<TextChunk> chunks = SplitDocuments(yaml);
  if (chunks.size() > kMaxDocumentsPerFile)
    throw Refusal(
        "more than " + std::to_string(kMaxDocumentsPerFile) + " YAML documents in one file", 0);
  std::vector<SigmaDocument> documents;
  CollectionReader reader;
  int index = 0;
  for (const TextChunk& chunk : chunks) {
    if (IsBlank(chunk.text)) continue;
    ++index;
    const YAML::Node node = ParseChunk(chunk);
    if (node.IsNull()) continue;  // an empty document (e.g. `---` alone)
    reader.Add(node, index, documents);
  }
  return documents;
}

}  // namespace gsoc::rules::internal
