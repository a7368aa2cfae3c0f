// What the gsocctl API commands share (alerts_commands.cc): the connection
// options, the resolved session (address, token and where it came from),
// and how failures are reported.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>

#include "tools/gsocctl/api_client.h"

namespace gsoc::ctl {

// The options the API commands share.
struct ApiCommandOptions {
  std::string url;
  std::string config;
  std::string token;
  std::string color = "auto";
  bool insecure = false;

  void AddTo(CLI::App& command) {
    command.add_option("--url", url, "gsocd API address (default http://127.0.0.1:8080)");
    command.add_option("--config", config, "gsocd config: its api address and api-token file");
    command.add_option("--token", token, "API token (else $GSOC_TOKEN, else the api-token file)");
    command.add_flag("--insecure", insecure, "https: skip certificate verification");
    command.add_option("--color", color, "auto (terminal and no NO_COLOR), always or never")
        ->check(CLI::IsMember({"auto", "always", "never"}));
  }
};

// A resolved connection: the endpoint and what to say when it fails.
struct Session {
  ApiEndpoint endpoint;
  std::string url;
  std::string token_source;  // where the token came from
  std::string token_places;  // where it is looked for
  bool color = false;
};

// 0, or the exit code after a message on stderr.
int ResolveSession(const ApiCommandOptions& options, Session* session);
// The "error" of a {"error": "..."} body, else the body itself.
std::string ErrorText(const std::string& body);
// Says why a request failed; returns the exit code (1).
int ReportFailure(const Session& session, int status, const std::string& detail);
bool Retryable(int status);
// Appends ?key=value (or &key=value), percent-encoded.
void AppendParam(std::string& target, std::string_view key, std::string_view value);

}  // namespace gsoc::ctl
