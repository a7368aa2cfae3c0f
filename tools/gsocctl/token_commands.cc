// gsocctl token create|list|revoke: API tokens and their roles, through a
// running gsocd's API (an admin token) or directly in the auth.db of a
// stopped gsocd's data dir (--data-dir).
#include <simdjson.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/auth/auth_store.h"
#include "engine/util/json_writer.h"
#include "engine/util/time_format.h"
#include "tools/gsocctl/commands.h"
#include "tools/gsocctl/terminal_text.h"

namespace gsoc::ctl {

namespace {

struct TokenOptions {
  const ApiCommand* api = nullptr;  // of the subcommand that runs
  std::string data_dir;
  std::string role;
  std::vector<std::string> agencies;
  std::string name;
  std::string id;
};

// The data dir's token store, or null after a message (gsocd holds its lock).
std::unique_ptr<auth::AuthStore> OpenDirect(const std::string& data_dir) {
  auth::AuthStoreOptions options;
  options.path = std::filesystem::path(data_dir) / "auth.db";
  try {
    return auth::AuthStore::Open(options);
  } catch (const std::exception& error) {
    const std::string text = error.what();
    if (text.find("is gsocd running") != std::string::npos) {
      std::fprintf(stderr,
                   "gsocctl: %s is in use: gsocd is running on this data dir.\n"
                   "  Stop it, or manage tokens through its API (--url/--config with an admin "
                   "token) instead of --data-dir.\n",
                   options.path.c_str());
    } else {
      std::fprintf(stderr, "gsocctl: %s\n", TerminalSafe(text).c_str());
    }
    return nullptr;
  }
}

std::string FormatTime(int64_t ns) {
  char buffer[32];
  return std::string(FormatRfc3339Millis(ns, buffer));
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ",") + item;
  return out.empty() ? "-" : out;
}

struct TokenRow {
  std::string id, role, name, created, agencies;
  bool revoked = false;
};

TokenRow RowOf(const auth::TokenInfo& t) {
  return {t.token_id,       std::string(auth::RoleName(t.role)),
          t.name,           FormatTime(t.created_ns),
          Join(t.agencies), t.revoked};
}

void PrintTokens(const std::vector<TokenRow>& rows) {
  std::printf("%-16s  %-14s  %-24s  %-24s  %-8s  %s\n", "ID", "ROLE", "NAME", "CREATED", "STATE",
              "AGENCIES");
  for (const TokenRow& t : rows) {
    std::printf("%-16s  %-14s  %-24s  %-24s  %-8s  %s\n", TerminalSafe(t.id).c_str(),
                TerminalSafe(t.role).c_str(), TerminalSafe(t.name).c_str(),
                TerminalSafe(t.created).c_str(), t.revoked ? "revoked" : "active",
                TerminalSafe(t.agencies).c_str());
  }
}

void PrintCreated(const std::string& token, const std::string& id, std::string_view role) {
  std::printf("%s\n", token.c_str());  // alone on stdout: TOKEN=$(gsocctl token create ...)
  std::fflush(stdout);
  std::fprintf(stderr, "token %s (%s) created; it is shown only this once\n", id.c_str(),
               std::string(role).c_str());
}

int CreateDirect(const TokenOptions& o, auth::Role role) {
  auto store = OpenDirect(o.data_dir);
  if (!store) return 1;
  try {
    const auth::CreatedToken created =
        store->CreateToken(role, o.agencies, o.name.empty() ? std::string(o.role) : o.name);
    PrintCreated(created.token, created.info.token_id, o.role);
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "gsocctl: token create: %s\n", TerminalSafe(error.what()).c_str());
    return 2;
  }
}

std::string CreateBody(const TokenOptions& o) {
  std::string body = "{\"role\":";
  AppendJsonString(body, o.role);
  body += ",\"name\":";
  AppendJsonString(body, o.name.empty() ? o.role : o.name);
  body += ",\"agencies\":[";
  for (size_t i = 0; i < o.agencies.size(); ++i) {
    if (i > 0) body += ',';
    AppendJsonString(body, o.agencies[i]);
  }
  return body + "]}";
}

int Create(const TokenOptions& o) {
  const auto role = auth::ParseRole(o.role);
  if (!role) {
    std::fprintf(stderr, "gsocctl: --role: one of admin, analyst, agency-analyst, viewer\n");
    return 2;
  }
  if (const std::string why =
          auth::ValidateTokenRequest(*role, o.agencies, o.name.empty() ? o.role : o.name);
      !why.empty()) {
    std::fprintf(stderr, "gsocctl: token create: %s\n", TerminalSafe(why).c_str());
    return 2;
  }
  if (!o.data_dir.empty()) return CreateDirect(o, *role);
  ApiEndpoint endpoint;
  std::string url;
  if (const int code = o.api->Resolve(&endpoint, &url); code != 0) return code;
  const HttpReply reply = ApiClient(endpoint).Send("POST", "/api/v1/tokens", CreateBody(o));
  if (reply.status != 201) return o.api->Report(reply);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view token, id;
  if (parser.parse(reply.body).get(root) != simdjson::SUCCESS ||
      root["token"].get(token) != simdjson::SUCCESS ||
      root["token_id"].get(id) != simdjson::SUCCESS) {
    std::fprintf(stderr, "gsocctl: %s: unexpected reply to token create\n", url.c_str());
    return 1;
  }
  PrintCreated(std::string(token), std::string(id), o.role);
  return 0;
}

// The token list of a GET /api/v1/tokens reply.
bool ParseTokenList(const std::string& body, std::vector<TokenRow>& out) {
  simdjson::dom::parser parser;
  simdjson::dom::array tokens;
  if (parser.parse(body)["tokens"].get(tokens) != simdjson::SUCCESS) return false;
  for (simdjson::dom::element item : tokens) {
    std::string_view id, name, role, created;
    bool revoked = false;
    simdjson::dom::array agencies;
    if (item["token_id"].get(id) || item["name"].get(name) || item["role"].get(role) ||
        item["created_at"].get(created) || item["revoked"].get(revoked) ||
        item["agencies"].get(agencies)) {
      return false;
    }
    std::vector<std::string> names;
    for (simdjson::dom::element agency : agencies) {
      std::string_view text;
      if (agency.get(text) == simdjson::SUCCESS) names.emplace_back(text);
    }
    out.push_back({std::string(id), std::string(role), std::string(name), std::string(created),
                   Join(names), revoked});
  }
  return true;
}

int List(const TokenOptions& o) {
  std::vector<TokenRow> tokens;
  if (!o.data_dir.empty()) {
    auto store = OpenDirect(o.data_dir);
    if (!store) return 1;
    for (const auth::TokenInfo& info : store->ListTokens()) tokens.push_back(RowOf(info));
  } else {
    ApiEndpoint endpoint;
    std::string url;
    if (const int code = o.api->Resolve(&endpoint, &url); code != 0) return code;
    const HttpReply reply = ApiClient(endpoint).Get("/api/v1/tokens");
    if (reply.status != 200) return o.api->Report(reply);
    if (!ParseTokenList(reply.body, tokens)) {
      std::fprintf(stderr, "gsocctl: %s: unexpected reply to token list\n", url.c_str());
      return 1;
    }
  }
  PrintTokens(tokens);
  return 0;
}

int Revoke(const TokenOptions& o) {
  if (!o.data_dir.empty()) {
    auto store = OpenDirect(o.data_dir);
    if (!store) return 1;
    if (!store->Revoke(o.id)) {
      std::fprintf(stderr, "gsocctl: no token %s\n", TerminalSafe(o.id).c_str());
      return 1;
    }
  } else {
    ApiEndpoint endpoint;
    std::string url;
    if (const int code = o.api->Resolve(&endpoint, &url); code != 0) return code;
    std::string target = "/api/v1/tokens/";
    for (char c : o.id) {
      if (!std::isalnum(static_cast<unsigned char>(c))) {
        std::fprintf(stderr, "gsocctl: a token id is hex digits\n");
        return 2;
      }
      target += c;
    }
    const HttpReply reply = ApiClient(endpoint).Send("DELETE", target, "");
    if (reply.status != 200) return o.api->Report(reply);
  }
  std::fprintf(stderr, "token %s revoked\n", TerminalSafe(o.id).c_str());
  return 0;
}

}  // namespace

void AddToken(CLI::App& app, int* exit_code) {
  auto* token = app.add_subcommand("token", "API tokens: create, list, revoke (admin)");
  token->require_subcommand(1);
  auto options = std::make_shared<TokenOptions>();
  // Each subcommand has its own API options; the one that runs is used.
  auto add = [&](CLI::App* command, int (*run)(const TokenOptions&)) {
    auto api = std::make_shared<ApiCommand>(*command);
    command->add_option("--data-dir", options->data_dir,
                        "work directly on a stopped gsocd's data dir (its auth.db)");
    command->callback([options, api, run, exit_code] {
      options->api = api.get();
      *exit_code = run(*options);
    });
  };
  auto* create = token->add_subcommand("create", "a new token, printed once on its own line");
  create->add_option("--role", options->role, "admin, analyst, agency-analyst or viewer")
      ->required();
  create->add_option("--agency", options->agencies, "agency-analyst: an agency (repeatable)");
  create->add_option("--name", options->name, "a label (default: the role)");
  add(create, Create);
  add(token->add_subcommand("list", "every token (never its secret)"), List);
  auto* revoke = token->add_subcommand("revoke", "refuse a token from now on");
  revoke->add_option("id", options->id, "token id (see token list)")->required();
  add(revoke, Revoke);
}

}  // namespace gsoc::ctl
