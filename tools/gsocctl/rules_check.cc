// gsocctl rules check PATH...: load, validate and compile rules; print each
// refusal with file:line and reason and a summary; exit 1 on any error.
#include <cstdio>

#include "engine/detect/rule_engine.h"
#include "tools/gsocctl/commands.h"
#include "tools/gsocctl/engine_options.h"

namespace gsoc::ctl {

namespace {

struct RulesCheck {
  EngineOptions engine;
  std::vector<std::string> paths;

  int Run() {
    if (!paths.empty()) engine.rules.insert(engine.rules.end(), paths.begin(), paths.end());
    RuleSources sources;
    if (!engine.Resolve(&sources)) return 2;
    const RuleEngineBuild build = BuildRuleEngine(sources);
    for (const auto& error : build.refused) std::printf("%s\n", error.ToString().c_str());
    for (const auto& fatal : build.fatal) std::printf("error: %s\n", fatal.c_str());
    for (const auto& warning : build.warnings) {
      std::printf("warning: %s\n", warning.ToString().c_str());
    }
    std::printf(
        "%zu rule file(s): %zu rule(s) loaded, %zu correlation(s), %zu refused; %zu pattern(s) in "
        "%zu database(s), compiled in %.3f s%s\n",
        build.rule_files, build.rules_loaded, build.correlations_loaded, build.refused.size(),
        build.compile.patterns, build.compile.databases, build.compile.seconds,
        build.compile.from_cache ? " (from cache)" : "");
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
