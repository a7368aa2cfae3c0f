// gsocctl subcommands that run the engine offline.
#pragma once

#include <CLI/CLI.hpp>

namespace gsoc::ctl {

// Each adds its subcommand to `app`; the callback sets *exit_code.
void AddRulesCheck(CLI::App& app, int* exit_code);
void AddLogtest(CLI::App& app, int* exit_code);
void AddReplay(CLI::App& app, int* exit_code);

}  // namespace gsoc::ctl
