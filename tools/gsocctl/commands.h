// gsocctl subcommands: the ones that run the engine offline, and the ones
// that read alerts from a running gsocd through its HTTP API.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "tools/gsocctl/api_client.h"

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

// token_commands.cc: gsocctl token create / list / revoke.
void AddToken(CLI::App& app, int* exit_code);

// cluster_commands.cc: gsocctl cluster status.
void AddCluster(CLI::App& app, int* exit_code);

struct ApiCommandOptions;
// The API options tail/query/alert take (--url, --config, --token,
// --insecure), for other commands; defined in alerts_commands.cc.
class ApiCommand {
 public:
  explicit ApiCommand(CLI::App& command);  // adds the options
  // 0 with the endpoint, or an exit code after a message on stderr.
  int Resolve(ApiEndpoint* endpoint, std::string* url) const;
  // Says on stderr why the request failed; returns the exit code.
  int Report(const HttpReply& reply) const;

 private:
  std::shared_ptr<ApiCommandOptions> options_;
};

}  // namespace gsoc::ctl
