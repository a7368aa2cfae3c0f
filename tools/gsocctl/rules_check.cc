// gsocctl rules check PATH...: load, validate and compile rules; print each
// refusal with file:line and reason and a summary; exit 1 on any error.
#include <algorithm>
#include <cstdio>
#include <set>

#include "engine/detect/rule_engine.h"
#include "tools/gsocctl/commands.h"
#include "tools/gsocctl/engine_options.h"

namespace gsoc::ctl {

namespace {

// A rule using a field its logsource's events never carry (the pipeline's
// `carries` list) cannot match as written: warn, do not refuse.
size_t WarnUncarriedFields(const RuleEngine& engine) {
  if (!engine.logsources || !engine.matcher) return 0;
  size_t warnings = 0;
  for (const rules::Rule& rule : engine.matcher->rules()) {
    const auto filter = engine.logsources->Resolve(rule.logsource);
    if (!filter || filter->carries.empty()) continue;
    std::set<std::string> reported;
    for (const rules::Selection& selection : rule.selections)
      for (const auto& alternative : selection.alternatives)
        for (const rules::FieldPredicate& predicate : alternative) {
          const std::string& field = predicate.field;
          if (field.empty() || reported.count(field) ||
              std::find(filter->carries.begin(), filter->carries.end(), field) !=
                  filter->carries.end())
            continue;
          reported.insert(field);
          ++warnings;
          const Diagnostic warning{
              Severity::kWarning,
              "sigma.field_not_carried",
              rule.location,
              rule.id,
              "",
              "field '" + field +
                  "' is not among the fields of logsource product=" + rule.logsource.product +
                  " service=" + rule.logsource.service + " category=" + rule.logsource.category};
          std::printf("%s\n", warning.ToString().c_str());
        }
  }
  return warnings;
}

struct RulesCheck {
  EngineOptions engine;
  std::vector<std::string> paths;

  int Run() {
    if (!paths.empty()) engine.rules.insert(engine.rules.end(), paths.begin(), paths.end());
    RuleSources sources;
    if (!engine.Resolve(&sources)) return 2;
    const RuleEngineBuild build = BuildRuleEngine(sources);
    for (const auto& error : build.refused) std::printf("%s\n", error.ToString().c_str());
    for (const auto& fatal : build.fatal) std::printf("error: %s\n", fatal.ToString().c_str());
    for (const auto& warning : build.warnings) std::printf("%s\n", warning.ToString().c_str());
    const size_t warnings =
        build.warnings.size() + (build.engine ? WarnUncarriedFields(*build.engine) : 0);
    std::printf(
        "%zu rule file(s) (%zu read back from the parse cache): %zu rule(s) loaded, %zu "
        "correlation(s), %zu refused, %zu skipped by status/level; %zu pattern(s) (%zu "
        "anchored literal(s) in tries), %zu database(s), compiled in %.3f s%s; %zu warning(s)\n",
        build.rule_files, build.rule_files_cached, build.rules_loaded, build.correlations_loaded,
        build.refused.size(), build.rules_skipped, build.compile.patterns,
        build.compile.affix_patterns, build.compile.databases, build.compile.seconds,
        build.compile.from_cache ? " (from cache)" : "", warnings);
    return build.fatal.empty() && build.refused.empty() ? 0 : 1;
  }
};

}  // namespace

void AddRulesCheck(CLI::App& app, int* exit_code) {
  auto* rules = app.add_subcommand("rules", "rule tools");
  rules->require_subcommand(1);
  auto* check = rules->add_subcommand("check", "validate and compile rules; exit 1 on any error");
  auto state = std::make_shared<RulesCheck>();
  state->engine.AddTo(*check);
  check->add_option("paths", state->paths, "rule files or folders");
  check->callback([state, exit_code] { *exit_code = state->Run(); });
}

}  // namespace gsoc::ctl
