// gsocctl subcommands: the ones that run the engine offline, and the ones
// that read alerts from a running gsocd through its HTTP API.
#pragma once

#include <CLI/CLI.hpp>

namespace gsoc::ctl {

// Each adds its subcommand to `app`; the callback sets *exit_code.
void AddRulesCheck(CLI::App& app, int* exit_code);
void AddLogtest(CLI::App& app, int* exit_code);
void AddReplay(CLI::App& app, int* exit_code);
// alerts_commands.cc: gsocctl tail / query / alert.
void AddTail(CLI::App& app, int* exit_code);
void AddQuery(CLI::App& app, int* exit_code);
void AddAlert(CLI::App& app, int* exit_code);
// triage_commands.cc: gsocctl ack / start / assign / note / close / reopen, and case.
void AddTriage(CLI::App& app, int* exit_code);
void AddCase(CLI::App& app, int* exit_code);

}  // namespace gsoc::ctl
