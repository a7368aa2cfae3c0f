// Sigma loader entry points: files and folders -> documents -> rules.
#include "engine/rules/sigma_loader.h"

#include <algorithm>

#include "engine/rules/rule_metadata.h"
#include "engine/rules/sigma_cache.h"
#include "engine/rules/sigma_internal.h"
#include "engine/util/parallel_for.h"
#include "engine/util/regular_file.h"

namespace gsoc::rules {
namespace {

// Built member by member: brace-initialising RuleError trips a GCC 12
// -Wmaybe-uninitialized false positive.
RuleError MakeRefusal(std::string file, int line, std::string rule_id, std::string reason,
                      int column = 0) {
  RuleError error;
  error.code = "sigma.rule";
  error.location.file = std::move(file);
  error.location.line = line;
  error.location.column = line > 0 ? column : 0;
  error.rule_id = std::move(rule_id);
  error.message = std::move(reason);
  return error;
}

// A rule file is input a third party may supply (a community repository,
// an agency): a FIFO would block a load (and gsocd's hot reload) and a huge
// file exhaust memory. SigmaHQ's largest is ~300 KB.
constexpr uint64_t kMaxRuleFileBytes = 16 << 20;

using internal::Refusal;
using internal::Refuse;
using internal::SigmaDocument;

constexpr const char* kAggregationReason =
    "aggregation expressions are replaced by correlation rules; use a Sigma correlation rule";

YAML::Node Child(const YAML::Node& map, const char* key) { return map[key]; }

bool Has(const YAML::Node& map, const char* key) { return Child(map, key).IsDefined(); }

std::string OptionalString(const YAML::Node& map, const char* key) {
  const YAML::Node node = Child(map, key);
  if (!node.IsDefined() || node.IsNull()) return "";
  if (!node.IsScalar()) Refuse(node, std::string("'") + key + "' must be a string");
  return node.Scalar();
}

std::string RequiredString(const YAML::Node& map, const char* key) {
  std::string text = OptionalString(map, key);
  if (text.empty()) Refuse(map, std::string("missing '") + key + "'");
  return text;
}

Level ParseLevel(const YAML::Node& map) {
  const std::string text = OptionalString(map, "level");
  static constexpr Level kLevels[] = {Level::kInformational, Level::kLow, Level::kMedium,
                                      Level::kHigh, Level::kCritical};
  if (text.empty()) return Level::kMedium;
  for (const Level level : kLevels)
    if (text == LevelName(level)) return level;
  Refuse(Child(map, "level"),
         "unknown level '" + text + "' (informational, low, medium, high, critical)");
}

// A string or a list of strings (tags, references, falsepositives).
std::vector<std::string> StringList(const YAML::Node& map, const char* key) {
  const YAML::Node node = Child(map, key);
  if (!node.IsDefined() || node.IsNull()) return {};
  if (node.IsScalar()) return {node.Scalar()};
  const std::string reason = std::string("'") + key + "' must be a list of strings";
  if (!node.IsSequence()) Refuse(node, reason);
  std::vector<std::string> values;
  for (const YAML::Node& value : node) {
    if (!value.IsScalar()) Refuse(value, reason);
    values.push_back(value.Scalar());
  }
  return values;
}

std::vector<std::string> ParseTags(const YAML::Node& map) { return StringList(map, "tags"); }

// The custom attribute `aggregate_by`: a list of field names (may be empty).
std::optional<std::vector<std::string>> ParseAggregateBy(const YAML::Node& map) {
  const YAML::Node node = Child(map, "aggregate_by");
  if (!node.IsDefined() || node.IsNull()) return std::nullopt;
  if (!node.IsSequence()) Refuse(node, "'aggregate_by' must be a list of field names");
  std::vector<std::string> fields;
  for (const YAML::Node& field : node) {
    if (!field.IsScalar() || field.Scalar().empty())
      Refuse(field, "'aggregate_by' must be a list of field names");
    fields.push_back(field.Scalar());
  }
  return fields;
}

LogSource ParseLogSource(const YAML::Node& map) {
  const YAML::Node node = Child(map, "logsource");
  if (!node.IsDefined() || !node.IsMap())
    Refuse(node.IsDefined() ? node : map, "missing 'logsource' map");
  LogSource logsource{OptionalString(node, "product"), OptionalString(node, "service"),
                      OptionalString(node, "category")};
  if (logsource.product.empty() && logsource.service.empty() && logsource.category.empty())
    Refuse(node, "logsource names no product, service or category");
  return logsource;
}

std::vector<YAML::Node> ConditionNodes(const YAML::Node& detection) {
  const YAML::Node node = Child(detection, "condition");
  if (!node.IsDefined() || node.IsNull()) Refuse(detection, "detection has no condition");
  if (node.IsScalar()) return {node};
  if (!node.IsSequence() || node.size() == 0)
    Refuse(node, "condition must be a string or a list of strings");
  std::vector<YAML::Node> conditions;
  for (const YAML::Node& item : node) {
    if (!item.IsScalar()) Refuse(item, "condition must be a string or a list of strings");
    conditions.push_back(item);
  }
  return conditions;
}

Condition BuildCondition(const std::vector<YAML::Node>& nodes,
                         const std::vector<Selection>& selections) {
  Condition any;
  any.kind = Condition::Kind::kOr;
  for (const YAML::Node& node : nodes) {
    Condition condition;
    std::string error;
    if (!ParseCondition(node.Scalar(), selections, &condition, &error))
      Refuse(node, "condition '" + node.Scalar() + "': " + error);
    any.children.push_back(std::move(condition));
  }
  if (any.children.size() == 1) return std::move(any.children.front());
  return any;
}

std::string DescribeLogSource(const LogSource& logsource) {
  return "product=" + logsource.product + " service=" + logsource.service +
         " category=" + logsource.category;
}

std::vector<std::string> FilterRules(const YAML::Node& filter) {
  const YAML::Node node = Child(filter, "rules");
  if (!node.IsDefined() || node.IsNull()) Refuse(filter, "filter has no 'rules'");
  if (node.IsScalar()) return {node.Scalar()};
  if (!node.IsSequence() || node.size() == 0)
    Refuse(node, "filter 'rules' must be a rule id or a list of rule ids");
  std::vector<std::string> rules;
  for (const YAML::Node& rule : node) {
    if (!rule.IsScalar()) Refuse(rule, "filter 'rules' must be a list of rule ids or names");
    rules.push_back(rule.Scalar());
  }
  return rules;
}

SigmaFilter BuildFilter(const SigmaDocument& doc, const std::string& file, const std::string& id,
                        const LoadOptions& options, internal::ValueBudget& budget) {
  const YAML::Node& node = doc.node;
  SigmaFilter filter;
  filter.id = id;
  filter.location = {file, doc.line};
  filter.title = RequiredString(node, "title");
  filter.logsource = ParseLogSource(node);
  YAML::Node body = Child(node, "filter");
  if (!body.IsMap()) Refuse(body, "filter must be a map of rules, selections and a condition");
  filter.rules = FilterRules(body);
  // The selections are every key but `rules` and `condition`.
  YAML::Node detection(YAML::NodeType::Map);
  for (const auto& entry : body)
    if (entry.first.Scalar() != "rules") detection[entry.first] = entry.second;
  const std::vector<YAML::Node> conditions = ConditionNodes(body);
  for (const YAML::Node& condition : conditions)
    if (condition.Scalar().find('|') != std::string::npos) Refuse(condition, kAggregationReason);
  filter.selections = internal::BuildSelections(detection, options, budget);
  filter.condition = BuildCondition(conditions, filter.selections);
  return filter;
}

Rule BuildRule(const SigmaDocument& doc, const std::string& file, const std::string& id,
               const LoadOptions& options, internal::ValueBudget& budget) {
  const YAML::Node& node = doc.node;
  if (!Has(node, "detection")) Refuse(node, "document has neither detection nor correlation");
  Rule rule;
  rule.id = id;
  rule.location = {file, doc.line};
  rule.title = RequiredString(node, "title");
  rule.name = OptionalString(node, "name");
  rule.status = OptionalString(node, "status");
  rule.description = OptionalString(node, "description");
  rule.level = ParseLevel(node);
  rule.tags = ParseTags(node);
  rule.author = OptionalString(node, "author");
  rule.references = StringList(node, "references");
  rule.falsepositives = StringList(node, "falsepositives");
  CapMetadata(rule);
  rule.revision = MetadataRevision(rule);
  rule.aggregate_by = ParseAggregateBy(node);
  rule.logsource = ParseLogSource(node);
  const YAML::Node detection = Child(node, "detection");
  if (!detection.IsMap())
    Refuse(detection, "detection must be a map of selections and a condition");
  const std::vector<YAML::Node> conditions = ConditionNodes(detection);
  for (const YAML::Node& condition : conditions)
    if (condition.Scalar().find('|') != std::string::npos) Refuse(condition, kAggregationReason);
  rule.selections = internal::BuildSelections(detection, options, budget);
  rule.condition = BuildCondition(conditions, rule.selections);
  if (options.logsources && !options.logsources->Resolve(rule.logsource))
    Refuse(Child(node, "logsource"),
           "no log source mapping for " + DescribeLogSource(rule.logsource));
  return rule;
}

bool Selected(const Rule& rule, const LoadOptions& options) {
  if (!options.statuses.empty() && std::find(options.statuses.begin(), options.statuses.end(),
                                             rule.status) == options.statuses.end())
    return false;
  if (options.min_level.empty()) return true;
  for (int level = 0; level <= static_cast<int>(Level::kCritical); ++level) {
    if (options.min_level == LevelName(static_cast<Level>(level)))
      return static_cast<int>(rule.level) >= level;
  }
  return true;
}

// Rejects documents too deep or too large to emit safely.
void CheckSize(const YAML::Node& node, int depth, size_t& budget) {
  if (depth > internal::kMaxNestingDepth) Refuse(node, "document nested too deeply");
  if (budget == 0) Refuse(node, "document too large");
  --budget;
  if (node.IsMap()) {
    for (const auto& entry : node) {
      CheckSize(entry.first, depth + 1, budget);
      CheckSize(entry.second, depth + 1, budget);
    }
  } else if (node.IsSequence()) {
    for (const YAML::Node& item : node) CheckSize(item, depth + 1, budget);
  }
}

// The parsed document itself goes to the correlation loader: its marks are
// lines and columns of the file (ReadSigmaDocuments pads each document).
CorrelationDocument MakeCorrelationDocument(const SigmaDocument& doc, const std::string& file) {
  if (Has(doc.node, "detection"))
    Refuse(doc.node, "a document cannot have both detection and correlation");
  size_t budget = internal::kMaxNodesPerDocument;
  CheckSize(doc.node, 0, budget);
  CorrelationDocument document;
  document.location = {file, doc.line};
  document.node = std::make_shared<const YAML::Node>(doc.node);
  return document;
}

std::string DerivedId(const std::string& file, int index) {
  return std::filesystem::path(file).stem().string() + ":" + std::to_string(index);
}

std::string DocumentId(const SigmaDocument& doc, const std::string& file) {
  if (!doc.node.IsDefined() || !doc.node.IsMap()) return DerivedId(file, doc.index);
  const std::string id = OptionalString(doc.node, "id");
  return id.empty() ? DerivedId(file, doc.index) : id;
}

void LoadDocument(const SigmaDocument& doc, const std::string& file, const LoadOptions& options,
                  internal::ValueBudget& budget, LoadResult& result) {
  std::string id = DerivedId(file, doc.index);
  const auto refuse = [&](const std::string& reason, int line, int column) {
    result.refused.push_back(line > 0 ? MakeRefusal(file, line, id, reason, column)
                                      : MakeRefusal(file, doc.line, id, reason));
  };
  try {
    if (doc.error) throw *doc.error;
    id = DocumentId(doc, file);
    if (doc.correlation) {
      result.correlations.push_back(MakeCorrelationDocument(doc, file));
    } else if (doc.node.IsMap() && Has(doc.node, "filter") && !Has(doc.node, "detection")) {
      result.filters.push_back(BuildFilter(doc, file, id, options, budget));
    } else {
      Rule rule = BuildRule(doc, file, id, options, budget);
      if (Selected(rule, options)) {
        result.rules.push_back(std::move(rule));
      } else {
        result.skipped.push_back(rule.id);
      }
    }
  } catch (const Refusal& refusal) {
    refuse(refusal.what(), refusal.line(), refusal.column());
  } catch (const YAML::Exception& e) {
    refuse("invalid rule: " + e.msg, e.mark.line >= 0 ? e.mark.line + 1 : 0,
           e.mark.column >= 0 ? e.mark.column + 1 : 0);
  } catch (const std::exception& e) {
    refuse(std::string("invalid rule: ") + e.what(), 0, 0);
  }
}

void LoadText(const std::string& yaml, const std::string& file, const LoadOptions& options,
              LoadResult& result) {
  ++result.files;
  internal::ValueBudget budget;
  try {
    for (const SigmaDocument& doc : internal::ReadSigmaDocuments(yaml))
      LoadDocument(doc, file, options, budget, result);
  } catch (const Refusal& refusal) {
    result.refused.push_back(
        MakeRefusal(file, refusal.line(), "", refusal.what(), refusal.column()));
  } catch (const std::exception& e) {
    result.refused.push_back(MakeRefusal(file, 0, "", std::string("cannot load: ") + e.what()));
  }
}

bool IsRuleFile(const std::filesystem::path& path) {
  const std::string extension = path.extension().string();
  return extension == ".yml" || extension == ".yaml";
}

// Sorts as path's operator< does (component by component), from keys made
// once: operator< parses both paths into components on every comparison,
// which was 7% of the instructions of a cached load of SigmaHQ's 3,754
// files. A key is the path with each '/' as a NUL byte, which no name holds
// and every other byte sorts after, so comparing keys compares components.
void SortLikePaths(std::vector<std::filesystem::path>& paths) {
  std::vector<std::pair<std::string, std::filesystem::path>> keyed;
  keyed.reserve(paths.size());
  for (std::filesystem::path& path : paths) {
    std::string key = path.native();
    std::replace(key.begin(), key.end(), '/', '\0');
    keyed.emplace_back(std::move(key), std::move(path));
  }
  std::sort(keyed.begin(), keyed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < paths.size(); ++i) paths[i] = std::move(keyed[i].second);
}

std::vector<std::filesystem::path> ExpandPaths(const std::vector<std::filesystem::path>& paths,
                                               LoadResult& result) {
  std::vector<std::filesystem::path> files;
  for (const std::filesystem::path& path : paths) {
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) {
      std::vector<std::filesystem::path> found;
      for (auto it = std::filesystem::recursive_directory_iterator(path, error);
           !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error))
        if (it->is_regular_file(error) && IsRuleFile(it->path())) found.push_back(it->path());
      if (error) {
        RuleError refusal;
        refusal.location.file = path.string();
        refusal.message = "cannot list folder: " + error.message();
        result.refused.push_back(std::move(refusal));
      }
      SortLikePaths(found);
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(path);
    }
  }
  return files;
}

}  // namespace

LoadResult LoadSigma(const std::vector<std::filesystem::path>& paths, const LoadOptions& options) {
  LoadResult result;
  try {
    const std::vector<std::filesystem::path> files = ExpandPaths(paths, result);
    // Each file into its own result, on several threads (YAML parsing is
    // most of a load: ~1.5 s of CPU for SigmaHQ's 3,700 files), merged in
    // file order: the same result as one file after the other.
    // Files unchanged since a load with the same inputs are read back from
    // the parse cache instead (sigma_cache.h).
    const internal::SigmaParseCache cache(options.cache_dir, paths, options);
    std::vector<internal::CachedFile> cached(files.size());
    std::vector<LoadResult> parts(files.size());
    auto load_file = [&](size_t i) {
      const std::filesystem::path& file = files[i];
      LoadResult& part = parts[i];
      internal::CachedFile& entry = cached[i];
      entry.path = file.string();
      try {
        std::string bytes, error;
        if (!ReadRegularFile(file, kMaxRuleFileBytes, &bytes, &error)) {
          ++part.files;
          part.refused.push_back(
              MakeRefusal(file.string(), 0, "", std::string(WithoutFileName(error, entry.path))));
          return;
        }
        if (cache.enabled()) {
          entry.readable = true;
          entry.digest = internal::DigestOf(bytes);
          entry.found = cache.Find(entry.path, entry.digest, &part);
          if (entry.found) return;
        }
        LoadText(bytes, file.string(), options, part);
      } catch (const std::exception& e) {
        part.refused.push_back(
            MakeRefusal(file.string(), 0, "", std::string("cannot load: ") + e.what()));
      }
    };
    const size_t threads = ThreadsPerCore(options.load_threads, 4);
    // Small sets are not worth a thread.
    ParallelFor(files.size(), std::min(threads, files.size() / 64 + 1), load_file);
    cache.Save(cached, parts);
    for (const internal::CachedFile& entry : cached) result.files_cached += entry.found ? 1 : 0;
    for (LoadResult& part : parts) {
      auto append = [](auto& to, auto& from) {
        to.insert(to.end(), std::make_move_iterator(from.begin()),
                  std::make_move_iterator(from.end()));
      };
      append(result.rules, part.rules);
      append(result.filters, part.filters);
      append(result.skipped, part.skipped);
      append(result.refused, part.refused);
      append(result.correlations, part.correlations);
      result.files += part.files;
    }
  } catch (const std::exception& e) {
    result.refused.push_back(MakeRefusal("", 0, "", std::string("cannot load rules: ") + e.what()));
  }
  ApplyFilters(result);
  return result;
}

LoadResult LoadSigmaText(const std::string& yaml, const std::string& file_name,
                         const LoadOptions& options) {
  LoadResult result;
  LoadText(yaml, file_name, options, result);
  ApplyFilters(result);
  return result;
}

}  // namespace gsoc::rules
