#include "engine/detect/rule_engine.h"

#include <atomic>
#include <chrono>
#include <future>

#include "engine/util/json_writer.h"
#include "engine/util/private_dir.h"

namespace gsoc {

namespace {

std::atomic<uint64_t> next_generation{1};

Diagnostic Fatal(std::string code, std::string file, std::string message) {
  Diagnostic fatal;
  fatal.code = std::move(code);
  fatal.location.file = std::move(file);
  fatal.message = std::move(message);
  return fatal;
}

void LoadLists(const RuleSources& sources, RuleEngine& engine, RuleEngineBuild& build) {
  for (const auto& source : sources.lists) {
    try {
      engine.lists[source.name] = indicators::IndicatorList::Load(source, sources.limits.lists);
    } catch (const std::exception& e) {
      build.fatal.push_back(Fatal("list.file", source.file.string(),
                                  "indicator list " + source.name + ": " + e.what()));
    }
  }
}

void LoadLogSources(const RuleSources& sources, RuleEngine& engine, RuleEngineBuild& build) {
  if (sources.logsources.empty()) return;
  try {
    engine.logsources =
        std::make_unique<rules::LogSourceMap>(rules::LogSourceMap::Load(sources.logsources));
  } catch (const std::exception& e) {
    build.fatal.push_back(Fatal("logsource.file", sources.logsources.string(), e.what()));
  }
}

// Sets engine.decoders only, and returns the errors that fail the build:
// it runs beside CompileRules (BuildRuleEngine), which must not read them.
std::vector<Diagnostic> LoadDecoders(const RuleSources& sources, RuleEngine& engine) {
  auto loaded = decode::DecoderSet::Load(sources.decoder_paths, sources.listener_names,
                                         sources.agency_names, sources.limits.regex);
  engine.decoders = std::move(loaded.set);
  return std::move(loaded.errors);
}

// A rule whose description, tags, references, author or falsepositives went
// past rules::MetadataLimits loads with the cut copy (rules/rule_metadata.h):
// say so, so that an analyst reading the shortened text knows why.
// Detection rules and correlations alike.
template <typename RuleType>
void WarnTruncatedMetadata(const std::vector<RuleType>& loaded, RuleEngineBuild& build) {
  for (const RuleType& rule : loaded) {
    if (!rule.metadata_truncated) continue;
    ++build.metadata_truncated;
    build.warnings.push_back({Severity::kWarning, "sigma.metadata_truncated", rule.location,
                              rule.id, "",
                              "description, tags, references, author or falsepositives exceed "
                              "the metadata limits and were cut; alerts and the API show the "
                              "cut copy"});
  }
}

// sources.cache_dir when only this user can write there (private_dir.h),
// else none and a warning: the caches' content is used as compiled rules.
std::filesystem::path PrivateCacheDir(const RuleSources& sources, Diagnostic* warning) {
  std::string why;
  if (sources.cache_dir.empty() || EnsurePrivateDirectory(sources.cache_dir, &why)) {
    return sources.cache_dir;
  }
  // Member by member: g++ 12 warns (-Wmaybe-uninitialized) at the
  // aggregate initialiser of the nested SourceLocation.
  warning->severity = Severity::kWarning;
  warning->code = kCacheDirWarning;
  warning->location.file = sources.cache_dir.string();
  warning->message = why + "; the rule caches are not used (every load parses and compiles)";
  return {};
}

void CompileRules(const RuleSources& sources, RuleEngine& engine, RuleEngineBuild& build) {
  Diagnostic cache_warning;
  const std::filesystem::path cache_dir = PrivateCacheDir(sources, &cache_warning);
  rules::LoadOptions options;
  for (const auto& [name, list] : engine.lists) options.indicator_lists.push_back(name);
  options.logsources = engine.logsources.get();
  options.statuses = sources.statuses;
  options.min_level = sources.min_level;
  options.cache_dir = cache_dir;
  rules::LoadResult loaded = rules::LoadSigma(sources.rule_paths, options);
  build.rule_files = loaded.files;
  build.rule_files_cached = loaded.files_cached;
  build.rules_skipped = loaded.skipped.size();
  build.refused = std::move(loaded.refused);
  std::vector<rules::CorrelationDocument> correlation_documents = std::move(loaded.correlations);
  match::CompileOptions compile;
  compile.cache_dir = cache_dir;
  compile.indicators = &engine.lists;
  compile.logsources = engine.logsources.get();
  compile.regex = sources.limits.regex;
  compile.limits = sources.limits.set;
  compile.refuse_pcre_fallback = sources.strict;
  auto compiled = match::Matcher::Compile(std::move(loaded.rules), compile);
  for (auto& error : compiled.refused) build.refused.push_back(std::move(error));
  build.warnings = std::move(compiled.warnings);
  if (!cache_warning.message.empty()) build.warnings.push_back(std::move(cache_warning));
  build.compile = compiled.stats;
  engine.matcher = std::move(compiled.matcher);
  build.rules_loaded = engine.matcher ? engine.matcher->rules().size() : 0;
  if (!engine.matcher) return;
  WarnTruncatedMetadata(engine.matcher->rules(), build);
  auto correlations = correlate::LoadCorrelations(correlation_documents, engine.matcher->rules());
  for (auto& error : correlations.refused) build.refused.push_back(std::move(error));
  engine.correlations = std::move(correlations.set);
  build.correlations_loaded = engine.correlations->rules.size();
  WarnTruncatedMetadata(engine.correlations->rules, build);
}

}  // namespace

RuleLimits RuleLimitsFrom(const RulesConfig& config) {
  const RuleLimitsConfig& c = config.limits;
  RuleLimits limits;
  limits.regex = {c.regex_match_limit, c.regex_depth_limit, c.regex_heap_limit_kib};
  limits.set = {c.max_values_per_rule, c.max_patterns};
  limits.lists = {c.max_list_bytes, c.max_list_entries, c.max_list_entry_bytes};
  limits.build_timeout = c.reload_timeout;
  return limits;
}

RuleEngineBuild BuildRuleEngine(const RuleSources& sources) {
  const auto start = std::chrono::steady_clock::now();
  RuleEngineBuild build;
  auto engine = std::make_shared<RuleEngine>();
  engine->generation = next_generation.fetch_add(1);
  LoadLists(sources, *engine, build);
  LoadLogSources(sources, *engine, build);
  // The decoders need neither the lists nor the rules: they load on a second
  // thread while the rules compile, which is one thread for most of its time
  // (their Hyperscan databases are compiled at every load, ~13 ms of a
  // cached load of the SigmaHQ corpus's ~0.23 s). Their errors come after
  // those of the lists and log sources, as before. The rules are checked
  // even when a decoder fails (`rules check` lists both), and dropped with
  // the build.
  auto decoders = std::async(std::launch::async, [&] { return LoadDecoders(sources, *engine); });
  if (build.fatal.empty()) CompileRules(sources, *engine, build);
  for (Diagnostic& error : decoders.get()) build.fatal.push_back(std::move(error));  // or rethrows
  if (build.fatal.empty() && !engine->matcher) {
    build.fatal.push_back(Fatal("sigma.compile", "", "rules did not compile"));
  }
  build.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (build.fatal.empty()) build.engine = std::move(engine);
  return build;
}

namespace {

// `{"id":…,"name":…,"title":…` (the object left open).
void AppendRuleIdentity(std::string& out, const std::string& id, const std::string& name,
                        const std::string& title) {
  out += "{\"id\":";
  AppendJsonString(out, id);
  out += ",\"name\":";
  AppendJsonString(out, name);
  out += ",\"title\":";
  AppendJsonString(out, title);
}

void AppendRuleJson(std::string& out, const std::string& id, const std::string& name,
                    const std::string& title, rules::Level level, const char* kind,
                    const char* type, bool alone) {
  AppendRuleIdentity(out, id, name, title);
  out += ",\"level\":\"";
  out += rules::LevelName(level);
  out += "\",\"kind\":\"";
  out += kind;
  out += "\"";
  if (type) {
    out += ",\"type\":\"";
    out += type;
    out += "\"";
  }
  out += alone ? ",\"alerts_alone\":true}" : ",\"alerts_alone\":false}";
}

}  // namespace

std::string RuleSetJson(const RuleEngine& engine, uint64_t refused) {
  std::string out = "{\"generation\":" + std::to_string(engine.generation) + ",\"rules\":[";
  const auto& detections = engine.matcher->rules();
  const correlate::CorrelationSet& set = *engine.correlations;
  bool first = true;
  for (size_t i = 0; i < detections.size(); ++i) {
    if (!first) out.push_back(',');
    first = false;
    const rules::Rule& rule = detections[i];
    AppendRuleJson(out, rule.id, rule.name, rule.title, rule.level, "detection", nullptr,
                   !set.detection_silenced[i]);
  }
  for (size_t i = 0; i < set.rules.size(); ++i) {
    if (!first) out.push_back(',');
    first = false;
    const correlate::CorrelationRule& rule = set.rules[i];
    AppendRuleJson(out, rule.id, rule.name, rule.title, rule.level, "correlation",
                   correlate::CorrelationTypeName(rule.type), !set.correlation_silenced[i]);
  }
  out += "],\"counts\":{\"detection\":" + std::to_string(detections.size()) +
         ",\"correlation\":" + std::to_string(set.rules.size()) +
         ",\"refused\":" + std::to_string(refused) + "}}";
  return out;
}

namespace {

void AppendStrings(std::string& out, std::string_view name, const std::vector<std::string>& items) {
  out += ",\"";
  out += name;
  out += "\":[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out.push_back(',');
    AppendJsonString(out, items[i]);
  }
  out.push_back(']');
}

// The members every rule kind has, without the closing brace.
void AppendRuleMeta(std::string& out, const std::string& id, const std::string& name,
                    const std::string& title, const std::string& description,
                    const std::string& status, rules::Level level,
                    const std::vector<std::string>& tags) {
  AppendRuleIdentity(out, id, name, title);
  out += ",\"description\":";
  AppendJsonString(out, description);
  out += ",\"status\":";
  AppendJsonString(out, status);
  out += ",\"level\":\"";
  out += rules::LevelName(level);
  out += '"';
  AppendStrings(out, "tags", tags);
}

template <class Rules>
const auto* FindRule(const Rules& rules, std::string_view id) {
  for (const auto& rule : rules) {
    if (rule.id == id) return &rule;
  }
  for (const auto& rule : rules) {
    if (!rule.name.empty() && rule.name == id) return &rule;
  }
  return static_cast<decltype(&rules[0])>(nullptr);
}

}  // namespace

std::string RuleDetailJson(const rules::Rule& rule) {
  std::string out;
  AppendRuleMeta(out, rule.id, rule.name, rule.title, rule.description, rule.status, rule.level,
                 rule.tags);
  AppendStrings(out, "references", rule.references);
  AppendStrings(out, "falsepositives", rule.falsepositives);
  out += ",\"author\":";
  AppendJsonString(out, rule.author);
  out += rule.metadata_truncated ? ",\"metadata_truncated\":true" : "";
  out += ",\"kind\":\"detection\"}";
  return out;
}

std::string RuleDetailJson(const correlate::CorrelationRule& rule) {
  std::string out;
  AppendRuleMeta(out, rule.id, rule.name, rule.title, rule.description, rule.status, rule.level,
                 rule.tags);
  out += ",\"references\":[],\"falsepositives\":[],\"author\":\"\"";
  out += rule.metadata_truncated ? ",\"metadata_truncated\":true" : "";
  out += ",\"kind\":\"correlation\",";
  out += "\"type\":\"";
  out += correlate::CorrelationTypeName(rule.type);
  out += "\"}";
  return out;
}

std::optional<std::string> RuleDetailJson(const RuleEngine& engine, std::string_view id) {
  if (const rules::Rule* rule = FindRule(engine.matcher->rules(), id)) return RuleDetailJson(*rule);
  if (const correlate::CorrelationRule* rule = FindRule(engine.correlations->rules, id))
    return RuleDetailJson(*rule);
  return std::nullopt;
}

}  // namespace gsoc
