// rules/logsources.yaml -> LogSourceMap. An entry matches a rule logsource
// when product, service and category are all equal (case-insensitive; an
// absent key only matches an absent key) or the entry says '*' (any value,
// also none). The most specific matching entry (most non-'*' keys) wins;
// ties go to the first entry in the file.
#include "engine/rules/logsource_map.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace gsoc::rules {
namespace {

constexpr std::string_view kAny = "*";

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class MapParser {
 public:
  explicit MapParser(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void Fail(const YAML::Node& at, const std::string& reason) const {
    int line = 0;
    if (at.IsDefined()) line = at.Mark().line + 1;
    throw std::runtime_error(file_ + ":" + std::to_string(line) + ": " + reason);
  }

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
      const std::string lower = Lower(program);
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
      const auto known = std::find_if(std::begin(kFormats), std::end(kFormats),
                                      [&](EventFormat f) { return FormatName(f) == Lower(text); });
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
      const std::string value = Lower(entry.second.Scalar());
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

  template <typename Entry>
  Entry ParseEntry(const YAML::Node& node) const {
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
      else
        Fail(item.first, "unknown key '" + key + "' (logsource, programs, facilities, formats)");
    }
    if (!has_logsource) Fail(node, "entry has no logsource");
    return entry;
  }

 private:
  std::string file_;
};

bool FieldMatches(const std::string& entry_value, const std::string& rule_value) {
  return entry_value == kAny || entry_value == Lower(rule_value);
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

namespace {

bool EqualsIgnoreCase(std::string_view lower, std::string_view text) {
  if (lower.size() != text.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// `programs` are lower-case. "sshd(pam_unix)" (old PAM lines) counts as sshd.
// No allocation: this runs per event and candidate rule.
bool ProgramMatches(const std::vector<std::string>& programs, std::string_view program) {
  const size_t paren = program.find('(');
  const std::string_view base =
      paren == std::string_view::npos ? program : program.substr(0, paren);
  for (const std::string& candidate : programs) {
    if (EqualsIgnoreCase(candidate, program) || EqualsIgnoreCase(candidate, base)) return true;
  }
  return false;
}

}  // namespace

bool EventFilter::Matches(const Event& event) const {
  if (!programs.empty() && !ProgramMatches(programs, event.program)) return false;
  if (!facilities.empty() &&
      std::find(facilities.begin(), facilities.end(), event.facility) == facilities.end())
    return false;
  return formats.empty() ||
         std::find(formats.begin(), formats.end(), event.format) != formats.end();
}

LogSourceMap LogSourceMap::Load(const std::filesystem::path& file) {
  std::ifstream stream(file, std::ios::binary);
  if (!stream) throw std::runtime_error(file.string() + ":0: cannot read file");
  std::ostringstream text;
  text << stream.rdbuf();
  return Parse(text.str(), file.string());
}

LogSourceMap LogSourceMap::Parse(const std::string& yaml, const std::string& file_name) {
  const MapParser parser(file_name);
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(file_name + ":" + std::to_string(e.mark.line + 1) +
                             ": YAML syntax error: " + e.msg);
  }
  LogSourceMap map;
  try {
    if (!root.IsMap() || !root["logsources"]) parser.Fail(root, "expected a map with 'logsources'");
    for (const auto& item : root)
      if (item.first.as<std::string>() != "logsources")
        parser.Fail(item.first, "unknown key '" + item.first.as<std::string>() + "'");
    const YAML::Node entries = root["logsources"];
    if (!entries.IsSequence()) parser.Fail(entries, "'logsources' must be a list");
    for (const YAML::Node& node : entries) {
      Entry entry = parser.ParseEntry<Entry>(node);
      for (const Entry& other : map.entries_)
        if (SameLogSource(other.logsource, entry.logsource))
          parser.Fail(node, "a second entry for the same logsource");
      map.entries_.push_back(std::move(entry));
    }
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(file_name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return map;
}

std::optional<EventFilter> LogSourceMap::Resolve(const LogSource& logsource) const {
  const Entry* best = nullptr;
  for (const Entry& entry : entries_) {
    const bool match = FieldMatches(entry.logsource.product, logsource.product) &&
                       FieldMatches(entry.logsource.service, logsource.service) &&
                       FieldMatches(entry.logsource.category, logsource.category);
    if (match && (!best || Specificity(entry.logsource) > Specificity(best->logsource)))
      best = &entry;
  }
  if (!best) return std::nullopt;
  return best->filter;
}

}  // namespace gsoc::rules
