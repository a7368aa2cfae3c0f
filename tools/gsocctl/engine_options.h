// The options every gsocctl command that runs the engine shares:
// --rules PATH (repeatable), --decoders PATH (repeatable), --logsources FILE,
// --list NAME=FILE[:COLUMN] (repeatable), --config FILE (takes rules,
// decoders, lists and the logsource map from a gsocd config). Without
// --config and --rules the shipped pack (rules/ of this source tree) is used.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "engine/detect/rule_engine.h"

namespace gsoc::ctl {

struct EngineOptions {
  std::vector<std::string> rules;
  std::vector<std::string> decoders;
  std::string logsources;
  std::vector<std::string> lists;  // NAME=FILE or NAME=FILE:COLUMN
  std::string config;
  bool no_cache = false;
  std::vector<std::string> statuses;  // --status (repeatable)
  std::string min_level;              // --min-level
  int utc_offset_seconds = 0;

  void AddTo(CLI::App& command);
  // Resolves into RuleSources; false with a message on stderr if invalid.
  bool Resolve(RuleSources* sources);
  // Resolve, then BuildRuleEngine, printing each refused rule and fatal
  // problem on stderr. Returns 0 when `build` holds an engine, else the exit
  // code: 2 for invalid options, 1 when no engine could be built.
  int ResolveAndBuild(RuleSources* sources, RuleEngineBuild* build);
};

}  // namespace gsoc::ctl
