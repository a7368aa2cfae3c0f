// rules/logsources.yaml (+ included pipeline files) -> LogSourceMap. An entry
// matches a rule logsource when product, service and category are all equal
// (case-insensitive; an absent key only matches an absent key) or the entry
// says '*' (any value, also none). The most specific matching entry (most
// non-'*' keys) wins; ties go to the first entry loaded.
#include "engine/rules/logsource_map.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include "engine/util/ascii.h"
#include "engine/util/program_name.h"
#include "engine/util/regular_file.h"

namespace gsoc::rules {
namespace {

constexpr std::string_view kAny = "*";
constexpr int kMaxIncludeDepth = 8;

char LowerChar(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// `pattern` is lower-case with `*` wildcards. Iterative, no allocation.
bool GlobMatches(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == LowerChar(text[t])) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool ValueMatches(const std::string& pattern, std::string_view value) {
  if (pattern == kAny) return true;
  if (pattern.find('*') == std::string::npos) return EqualsLowerAscii(pattern, value);
  return GlobMatches(pattern, value);
}

// A mapping file is configuration a third party may supply: a FIFO would
// block a load (and gsocd's hot reload) and a huge file exhaust memory.
constexpr uint64_t kMaxMapFileBytes = 16 << 20;

std::string ReadFile(const std::filesystem::path& file) {
  std::string text, error;
  if (!ReadRegularFile(file, kMaxMapFileBytes, &text, &error)) {
    throw std::runtime_error(file.string() +
                             ":0: " + std::string(WithoutFileName(error, file.string())));
  }
  return text;
}

// The files a path names: itself, or a folder's *.yaml / *.yml in name order.
std::vector<std::filesystem::path> FilesOf(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::is_directory(path, error)) return {path};
  std::vector<std::filesystem::path> files;
  for (const auto& item : std::filesystem::directory_iterator(path, error)) {
    const auto ext = item.path().extension();
    if (item.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(item.path());
  }
  if (error) throw std::runtime_error(path.string() + ":0: cannot list folder: " + error.message());
  std::sort(files.begin(), files.end());
  return files;
}

// `rule_value` lower-cased by the caller (once a rule, not once an entry).
bool FieldMatches(const std::string& entry_value, const std::string& lower_rule_value) {
  return entry_value == kAny || entry_value == lower_rule_value;
}

int Specificity(const LogSource& logsource) {
  int count = 0;
  for (const std::string* value : {&logsource.product, &logsource.service, &logsource.category})
    if (!value->empty() && *value != kAny) ++count;
  return count;
}

bool SameLogSource(const LogSource& a, const LogSource& b) {
  return a.product == b.product && a.service == b.service && a.category == b.category;
}

}  // namespace

class LogSourceMap::Parser {
 public:
  Parser(LogSourceMap& map, std::string file) : map_(map), file_(std::move(file)) {}

  [[noreturn]] void Fail(const YAML::Node& at, const std::string& reason) const {
    int line = 0;
    if (at.IsDefined()) line = at.Mark().line + 1;
    throw std::runtime_error(file_ + ":" + std::to_string(line) + ": " + reason);
  }
  std::string Where(const YAML::Node& at) const {
    return file_ + ":" + std::to_string(at.Mark().line + 1);
  }

  // Parses the document; returns its `include` paths (relative to the file).
  std::vector<std::string> Document(const YAML::Node& root) {
    if (!root.IsMap() || !root["logsources"]) Fail(root, "expected a map with 'logsources'");
    std::vector<std::string> includes;
    for (const auto& item : root) {
      const std::string key = item.first.as<std::string>();
      if (key == "include") {
        includes = Strings(item.second, "include");
      } else if (key != "logsources") {
        Fail(item.first, "unknown key '" + key + "' (logsources, include)");
      }
    }
    const YAML::Node entries = root["logsources"];
    if (!entries.IsSequence()) Fail(entries, "'logsources' must be a list");
    for (const YAML::Node& node : entries) {
      Entry entry = ParseEntry(node);
      for (const Entry& other : map_.entries_)
        if (SameLogSource(other.logsource, entry.logsource))
          Fail(node, "a second entry for the same logsource");
      map_.entries_.push_back(std::move(entry));
    }
    return includes;
  }

 private:
  std::vector<std::string> Strings(const YAML::Node& node, const char* what) const {
    if (!node.IsSequence()) Fail(node, std::string(what) + " must be a list");
    std::vector<std::string> values;
    for (const YAML::Node& item : node) {
      if (!item.IsScalar() || item.Scalar().empty())
        Fail(item, std::string(what) + " entries must be names");
      values.push_back(item.Scalar());
    }
    return values;
  }

  std::vector<std::string> Programs(const YAML::Node& node) const {
    std::vector<std::string> programs;
    for (const std::string& program : Strings(node, "programs")) {
      const std::string lower = AsciiLower(program);
      if (std::find(programs.begin(), programs.end(), lower) == programs.end())
        programs.push_back(lower);
    }
    return programs;
  }

  std::vector<int> Facilities(const YAML::Node& node) const {
    std::vector<int> facilities;
    for (const std::string& text : Strings(node, "facilities")) {
      size_t used = 0;
      int facility = -1;
      try {
        facility = std::stoi(text, &used);
      } catch (const std::exception&) {
      }
      if (used != text.size() || facility < 0 || facility > 23)
        Fail(node, "facility '" + text + "' is not a number from 0 to 23");
      facilities.push_back(facility);
    }
    return facilities;
  }

  std::vector<EventFormat> Formats(const YAML::Node& node) const {
    static constexpr EventFormat kFormats[] = {EventFormat::kRfc5424, EventFormat::kRfc3164,
                                               EventFormat::kJson, EventFormat::kUnparsed};
    std::vector<EventFormat> formats;
    for (const std::string& text : Strings(node, "formats")) {
      const auto known = std::find_if(std::begin(kFormats), std::end(kFormats), [&](EventFormat f) {
        return FormatName(f) == AsciiLower(text);
      });
      if (known == std::end(kFormats))
        Fail(node, "unknown format '" + text + "' (rfc5424, rfc3164, json, unparsed)");
      formats.push_back(*known);
    }
    return formats;
  }

  LogSource ParseLogSource(const YAML::Node& node) const {
    if (!node.IsMap()) Fail(node, "logsource must be a map");
    LogSource logsource;
    for (const auto& entry : node) {
      const std::string key = entry.first.as<std::string>();
      if (!entry.second.IsScalar() || entry.second.Scalar().empty())
        Fail(entry.second, "logsource " + key + " must be a name");
      const std::string value = AsciiLower(entry.second.Scalar());
      if (key == "product")
        logsource.product = value;
      else if (key == "service")
        logsource.service = value;
      else if (key == "category")
        logsource.category = value;
      else
        Fail(entry.first, "unknown logsource key '" + key + "' (product, service, category)");
    }
    if (logsource.product.empty() && logsource.service.empty() && logsource.category.empty())
      Fail(node, "logsource needs product, service or category");
    return logsource;
  }

  Condition ParseCondition(const std::string& field, const YAML::Node& node) {
    Condition condition;
    if (node.IsScalar()) {
      condition.values.push_back(AsciiLower(node.Scalar()));
    } else if (node.IsSequence()) {
      for (const YAML::Node& item : node) {
        if (!item.IsScalar()) Fail(item, "values of '" + field + "' must be scalars");
        condition.values.push_back(AsciiLower(item.Scalar()));
      }
    } else {
      Fail(node, "'" + field + "' must be a value or a list of values");
    }
    if (condition.values.empty()) Fail(node, "'" + field + "' has no value");
    try {
      condition.key = map_.KeyIndex(field);
    } catch (const std::runtime_error& e) {
      Fail(node, e.what());
    }
    return condition;
  }

  Selector ParseSelector(const YAML::Node& node) {
    if (!node.IsMap()) Fail(node, "each events entry must be a map with 'when'");
    Selector selector;
    for (const auto& item : node) {
      const std::string key = item.first.as<std::string>();
      if (key == "when") {
        if (!item.second.IsMap() || item.second.size() == 0)
          Fail(item.second, "'when' must be a map of field conditions");
        for (const auto& condition : item.second) {
          const std::string field = condition.first.as<std::string>();
          selector.conditions.push_back(ParseCondition(field, condition.second));
          selector.canonical += field + "=";
          for (const std::string& value : selector.conditions.back().values)
            selector.canonical += value + "|";
          selector.canonical += ";";
        }
      } else if (key == "fields") {
        if (!item.second.IsMap())
          Fail(item.second, "'fields' must map Sigma fields to event fields");
        for (const auto& alias : item.second) {
          if (!alias.second.IsScalar() || alias.second.Scalar().empty())
            Fail(alias.second, "'fields' values must be event field names");
          selector.aliases.push_back({alias.first.as<std::string>(), alias.second.Scalar()});
        }
      } else {
        Fail(item.first, "unknown key '" + key + "' (when, fields)");
      }
    }
    if (selector.conditions.empty()) Fail(node, "events entry has no 'when'");
    return selector;
  }

  std::vector<uint16_t> Selectors(const YAML::Node& node) {
    if (!node.IsSequence() || node.size() == 0) Fail(node, "'events' must be a non-empty list");
    std::vector<uint16_t> ids;
    for (const YAML::Node& item : node) {
      const uint16_t id = map_.AddSelector(ParseSelector(item), Where(item));
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  Entry ParseEntry(const YAML::Node& node) {
    if (!node.IsMap()) Fail(node, "each logsources entry must be a map");
    Entry entry;
    bool has_logsource = false;
    for (const auto& item : node) {
      const std::string key = item.first.as<std::string>();
      if (key == "logsource")
        entry.logsource = ParseLogSource(item.second), has_logsource = true;
      else if (key == "programs")
        entry.filter.programs = Programs(item.second);
      else if (key == "facilities")
        entry.filter.facilities = Facilities(item.second);
      else if (key == "formats")
        entry.filter.formats = Formats(item.second);
      else if (key == "events")
        entry.filter.selectors = Selectors(item.second);
      else if (key == "carries")
        entry.filter.carries = Strings(item.second, "carries");
      else
        Fail(item.first, "unknown key '" + key +
                             "' (logsource, programs, facilities, formats, events, carries)");
    }
    if (!has_logsource) Fail(node, "entry has no logsource");
    return entry;
  }

  LogSourceMap& map_;
  std::string file_;
};

uint16_t LogSourceMap::KeyIndex(const std::string& name) {
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == name) return static_cast<uint16_t>(i);
  }
  if (keys_.size() >= 64)
    throw std::runtime_error("more than 64 distinct field names in 'when' conditions");
  keys_.push_back(name);
  key_lengths_ |= uint64_t{1} << std::min<size_t>(name.size(), 63);
  return static_cast<uint16_t>(keys_.size() - 1);
}

uint16_t LogSourceMap::AddSelector(Selector selector, const std::string& where) {
  for (size_t i = 0; i < selectors_.size(); ++i) {
    Selector& existing = selectors_[i];
    if (existing.canonical != selector.canonical) continue;
    for (Alias& alias : selector.aliases) {
      const auto same = std::find_if(existing.aliases.begin(), existing.aliases.end(),
                                     [&](const Alias& a) { return a.sigma == alias.sigma; });
      if (same == existing.aliases.end()) {
        existing.aliases.push_back(std::move(alias));
      } else if (same->event != alias.event) {
        throw std::runtime_error(where + ": field " + alias.sigma + " is mapped to both " +
                                 same->event + " and " + alias.event + " for the same events");
      }
    }
    return static_cast<uint16_t>(i);
  }
  if (selectors_.size() >= 0xFFFF) throw std::runtime_error(where + ": too many event selectors");
  selectors_.push_back(std::move(selector));
  return static_cast<uint16_t>(selectors_.size() - 1);
}

std::vector<std::string> LogSourceMap::ParseText(const std::string& yaml,
                                                 const std::string& file_name) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(file_name + ":" + std::to_string(e.mark.line + 1) +
                             ": YAML syntax error: " + e.msg);
  }
  try {
    Parser parser(*this, file_name);
    return parser.Document(root);
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(file_name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

void LogSourceMap::LoadInto(const std::filesystem::path& path, int depth,
                            std::vector<std::filesystem::path>& seen) {
  for (const std::filesystem::path& file : FilesOf(path)) {
    std::error_code error;
    auto canonical = std::filesystem::weakly_canonical(file, error);
    if (error) canonical = file;
    if (std::find(seen.begin(), seen.end(), canonical) != seen.end()) continue;  // loaded already
    seen.push_back(canonical);
    for (const std::string& include : ParseText(ReadFile(file), file.string())) {
      if (depth >= kMaxIncludeDepth)
        throw std::runtime_error(file.string() + ":0: includes nested deeper than 8");
      const std::filesystem::path target = file.parent_path() / include;
      if (!std::filesystem::exists(target, error))
        throw std::runtime_error(file.string() + ":0: include '" + include + "': no such file");
      LoadInto(target, depth + 1, seen);
    }
  }
}

LogSourceMap LogSourceMap::Load(const std::filesystem::path& file) {
  LogSourceMap map;
  std::vector<std::filesystem::path> seen;
  map.LoadInto(file, 0, seen);
  map.BuildIndex();
  return map;
}

LogSourceMap LogSourceMap::Parse(const std::string& yaml, const std::string& file_name) {
  LogSourceMap map;
  if (!map.ParseText(yaml, file_name).empty())
    throw std::runtime_error(file_name + ":0: include needs a file (LogSourceMap::Load)");
  map.BuildIndex();
  return map;
}

std::optional<EventFilter> LogSourceMap::Resolve(const LogSource& logsource) const {
  const Entry* best = nullptr;
  const std::string product = AsciiLower(logsource.product);
  const std::string service = AsciiLower(logsource.service);
  const std::string category = AsciiLower(logsource.category);
  for (const Entry& entry : entries_) {
    const bool match = FieldMatches(entry.logsource.product, product) &&
                       FieldMatches(entry.logsource.service, service) &&
                       FieldMatches(entry.logsource.category, category);
    if (match && (!best || Specificity(entry.logsource) > Specificity(best->logsource)))
      best = &entry;
  }
  if (!best) return std::nullopt;
  return best->filter;
}

uint64_t LogSourceMap::ResolveDigest() const {
  uint64_t hash = kFnv1aOffset;
  auto add = [&](const std::string& text) {
    const uint64_t size = text.size();
    hash = Fnv1a(std::string_view(reinterpret_cast<const char*>(&size), sizeof(size)), hash);
    hash = Fnv1a(text, hash);
  };
  for (const Entry& entry : entries_) {
    add(entry.logsource.product);
    add(entry.logsource.service);
    add(entry.logsource.category);
  }
  return hash;
}

namespace {
// Values a selector may be filed under: exact, and short enough for the
// lower-case copy Classify makes of the event's value on its stack.
constexpr size_t kMaxFiledValue = 256;
bool IsFileable(const std::string& pattern) {
  return pattern.size() <= kMaxFiledValue && pattern.find('*') == std::string::npos;
}

// Candidates Classify keeps on its stack; an event with more falls back to
// ClassifyLinear (same result, every selector tested).
constexpr size_t kMaxCandidates = 256;

// Aliases Apply maps in one walk over the event's fields; a selector with
// more takes ApplyPerAlias (the shipped pipelines have at most 9).
constexpr size_t kMaxOneWalkAliases = 32;
}  // namespace

void LogSourceMap::BuildIndex() {
  for (Selector& selector : selectors_) {
    selector.alias_lengths = 0;
    std::vector<Alias>& aliases = selector.aliases;
    std::map<std::string, std::vector<uint16_t>> codes;  // name -> alias codes, ascending
    for (size_t i = 0; i < aliases.size() && i < kMaxOneWalkAliases; ++i) {
      codes[aliases[i].event].push_back(static_cast<uint16_t>(2 * i));
      codes[aliases[i].sigma].push_back(static_cast<uint16_t>(2 * i + 1));
    }
    selector.alias_names.Build({codes.begin(), codes.end()});
    for (size_t i = 0; i < aliases.size(); ++i) {
      for (const std::string* name : {&aliases[i].sigma, &aliases[i].event})
        selector.alias_lengths |= uint64_t{1} << std::min<size_t>(name->size(), 63);
      aliases[i].fed_by = aliases[i].covered_by = 0;
      for (size_t j = 0; j < std::min<size_t>(i, 64); ++j) {
        if (aliases[j].sigma == aliases[i].event) aliases[i].fed_by |= uint64_t{1} << j;
        if (aliases[j].sigma == aliases[i].sigma) aliases[i].covered_by |= uint64_t{1} << j;
      }
    }
  }
  required_.assign(selectors_.size(), 0);
  ValueIndex::Entries key_names;
  for (size_t k = 0; k < keys_.size(); ++k) {
    key_names.push_back({keys_[k], {static_cast<uint16_t>(k)}});
    if (keys_[k] == "program") program_key_ = static_cast<int>(k);
    if (keys_[k] == "host") host_key_ = static_cast<int>(k);
  }
  // How many selectors share each exact value of each key: a selector is
  // filed under the condition whose values are shared by the fewest (for
  // {Channel: Sysmon, EventID: 1} that is EventID: some thirty selectors
  // share the Sysmon channel, two or three EventID 1).
  std::vector<std::unordered_map<std::string, size_t>> sharing(keys_.size());
  auto fileable = [](const Condition& condition) {
    return std::all_of(condition.values.begin(), condition.values.end(), IsFileable);
  };
  for (size_t s = 0; s < selectors_.size(); ++s) {
    for (const Condition& condition : selectors_[s].conditions) {
      required_[s] |= uint64_t{1} << condition.key;
      if (!fileable(condition)) continue;
      for (const std::string& value : condition.values) ++sharing[condition.key][value];
    }
  }
  auto cost = [&](const Condition& condition) {
    size_t most = 0;
    for (const std::string& value : condition.values)
      most = std::max(most, sharing[condition.key][value]);
    return most * condition.values.size();
  };
  key_index_.Build(std::move(key_names));
  dispatch_.clear();
  dispatch_of_key_.fill(-1);
  dispatch_keys_ = scanned_keys_ = 0;
  for (auto& list : scanned_) list.clear();
  scanned_always_.clear();
  std::vector<std::unordered_map<std::string, std::vector<uint16_t>>> filed_by_value;
  for (size_t s = 0; s < selectors_.size(); ++s) {
    const Condition* best = nullptr;
    for (const Condition& condition : selectors_[s].conditions) {
      if (!fileable(condition)) continue;
      if (!best || cost(condition) < cost(*best)) best = &condition;
    }
    if (!best && required_[s] == 0) scanned_always_.push_back(static_cast<uint16_t>(s));
    if (!best && required_[s] != 0) {
      const int first = std::countr_zero(required_[s]);
      scanned_[first].push_back(static_cast<uint16_t>(s));
      scanned_keys_ |= uint64_t{1} << first;
    }
    if (!best) continue;
    if (dispatch_of_key_[best->key] < 0) {
      dispatch_of_key_[best->key] = static_cast<int16_t>(dispatch_.size());
      dispatch_keys_ |= uint64_t{1} << best->key;
      dispatch_.push_back(Dispatch{best->key, 0, {}});
      filed_by_value.emplace_back();
    }
    const auto d = static_cast<size_t>(dispatch_of_key_[best->key]);
    for (const std::string& value : best->values) {
      auto& filed = filed_by_value[d][value];
      if (filed.empty() || filed.back() != s) filed.push_back(static_cast<uint16_t>(s));
      dispatch_[d].longest = std::max(dispatch_[d].longest, value.size());
    }
  }
  for (size_t d = 0; d < dispatch_.size(); ++d) {
    dispatch_[d].by_value.Build({filed_by_value[d].begin(), filed_by_value[d].end()});
  }
}

void LogSourceMap::GatherKeys(const EventBatch& batch, const Event& event, KeyValues& keys) const {
  for (const Field& field : batch.FieldsOf(event)) {
    const size_t length = std::min<size_t>(field.name.size(), 63);
    if ((key_lengths_ >> length & 1) == 0) continue;
    const std::vector<uint16_t>* key = key_index_.Find(field.name);
    if (key != nullptr && !keys.present(key->front())) keys.Set(key->front(), field.value);
  }
  auto header = [&](int k, std::string_view value) {
    if (k < 0 || keys.present(k) || value.empty()) return;
    keys.Set(k, value);
  };
  header(program_key_, event.program);
  header(host_key_, event.host);
}

bool LogSourceMap::SelectorMatches(const Selector& selector, const KeyValues& keys) const {
  for (const Condition& condition : selector.conditions) {
    if (!keys.present(condition.key)) return false;
    const std::string_view value = keys.value(condition.key);
    bool any = false;
    for (const std::string& pattern : condition.values) {
      if (ValueMatches(pattern, value)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}

void LogSourceMap::Apply(EventBatch& batch, Event& event, uint16_t selector) const {
  if (event.selector_count < Event::kMaxSelectors) {
    event.selectors[event.selector_count++] = selector;
  }
  const Selector& s = selectors_[selector];
  const std::vector<Alias>& aliases = s.aliases;
  if (aliases.empty()) return;
  if (aliases.size() > kMaxOneWalkAliases) return ApplyPerAlias(batch, event, s);
  // One walk: per alias, the first field named its event (the value) and
  // whether a field is named its sigma. Values are read under their bit only.
  struct Value {
    const char* data;
    size_t size;
  };
  Value values[kMaxOneWalkAliases];
  uint64_t source = 0, target = 0;
  for (const Field& field : batch.FieldsOf(event)) {
    if ((s.alias_lengths >> std::min<size_t>(field.name.size(), 63) & 1) == 0) continue;
    const std::vector<uint16_t>* codes = s.alias_names.Find(field.name);
    if (codes == nullptr) continue;
    for (const uint16_t code : *codes) {
      const uint64_t bit = uint64_t{1} << (code >> 1);
      if ((code & 1) != 0) {
        target |= bit;
      } else if ((source & bit) == 0) {
        values[code >> 1] = {field.value.data(), field.value.size()};
        source |= bit;
      }
    }
  }
  // Then in alias order, as a walk per alias saw them: the fields added by
  // earlier aliases come after the event's own (a source only when the event
  // has none of that name; the first added wins), and cover their sigma.
  uint64_t added = 0;
  for (size_t i = 0; i < aliases.size(); ++i) {
    const uint64_t bit = uint64_t{1} << i;
    if ((target & bit) != 0 || (aliases[i].covered_by & added) != 0) continue;
    if ((source & bit) == 0) {
      const uint64_t fed = aliases[i].fed_by & added;
      if (fed == 0) continue;
      values[i] = values[std::countr_zero(fed)];
    }
    batch.AddField(event, batch.arena().Copy(aliases[i].sigma), {values[i].data, values[i].size});
    added |= bit;
  }
}

void LogSourceMap::ApplyPerAlias(EventBatch& batch, Event& event, const Selector& selector) const {
  for (const Alias& alias : selector.aliases) {
    std::string_view value;
    bool source = false;
    bool target = false;
    for (const Field& field : batch.FieldsOf(event)) {
      if (!source && field.name == alias.event) value = field.value, source = true;
      if (field.name == alias.sigma) target = true;
    }
    if (source && !target) batch.AddField(event, batch.arena().Copy(alias.sigma), value);
  }
}

void LogSourceMap::ClassifyLinear(EventBatch& batch, Event& event) const {
  event.selector_count = 0;
  if (selectors_.empty()) return;
  KeyValues keys;
  GatherKeys(batch, event, keys);
  for (size_t s = 0; s < selectors_.size(); ++s) {
    if (SelectorMatches(selectors_[s], keys)) Apply(batch, event, static_cast<uint16_t>(s));
  }
}

void LogSourceMap::Classify(EventBatch& batch, Event& event) const {
  event.selector_count = 0;
  if (selectors_.empty()) return;
  KeyValues keys;
  GatherKeys(batch, event, keys);
  uint16_t candidates[kMaxCandidates];
  size_t count = 0;
  for (uint64_t bits = keys.mask & dispatch_keys_; bits != 0; bits &= bits - 1) {
    const Dispatch& dispatch = dispatch_[dispatch_of_key_[std::countr_zero(bits)]];
    const std::string_view value = keys.value(dispatch.key);
    if (value.size() > dispatch.longest) continue;
    char lower[kMaxFiledValue];
    for (size_t i = 0; i < value.size(); ++i) lower[i] = LowerChar(value[i]);
    const std::vector<uint16_t>* filed = dispatch.by_value.Find({lower, value.size()});
    if (filed == nullptr) continue;
    for (uint16_t s : *filed) {
      if ((required_[s] & ~keys.mask) != 0) continue;
      if (count == kMaxCandidates) return ClassifyLinear(batch, event);
      candidates[count++] = s;
    }
  }
  auto add_scanned = [&](const std::vector<uint16_t>& selectors) {
    for (uint16_t s : selectors) {
      if ((required_[s] & ~keys.mask) != 0) continue;
      if (count == kMaxCandidates) return false;
      candidates[count++] = s;
    }
    return true;
  };
  if (!add_scanned(scanned_always_)) return ClassifyLinear(batch, event);
  for (uint64_t bits = keys.mask & scanned_keys_; bits != 0; bits &= bits - 1) {
    if (!add_scanned(scanned_[std::countr_zero(bits)])) return ClassifyLinear(batch, event);
  }
  // Ascending, as ClassifyLinear applies them: the first selector to map a
  // field wins, and the first kMaxSelectors are recorded.
  std::sort(candidates, candidates + count);
  for (size_t i = 0; i < count; ++i) {
    if (SelectorMatches(selectors_[candidates[i]], keys)) Apply(batch, event, candidates[i]);
  }
}

bool EventFilter::Matches(const Event& event) const {
  if (!programs.empty() && !ProgramNamed(programs, event.program)) return false;
  if (!facilities.empty() &&
      std::find(facilities.begin(), facilities.end(), event.facility) == facilities.end())
    return false;
  if (!formats.empty() && std::find(formats.begin(), formats.end(), event.format) == formats.end())
    return false;
  if (selectors.empty()) return true;
  for (uint8_t i = 0; i < event.selector_count; ++i) {
    if (std::binary_search(selectors.begin(), selectors.end(), event.selectors[i])) return true;
  }
  return false;
}

}  // namespace gsoc::rules
