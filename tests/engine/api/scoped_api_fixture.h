// Test fixture (unit tests and the route fuzzer): a real AlertStore holding
// alerts of two agencies, a LiveHub, an AuthStore with a token of each role,
// and an ApiContext over them; requests go straight to RouteRequest.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/api/live_hub.h"
#include "engine/api/routes.h"
#include "engine/api/stream_feed.h"
#include "engine/auth/auth_store.h"
#include "engine/store/alert_store.h"

namespace gsoc::api::testing {

inline constexpr const char* kAgencyA = "agency-alpha";
inline constexpr const char* kAgencyB = "agency-bravo";
inline constexpr const char* kSecretOfB = "bravo-only-marker";

class ScopedApi {
 public:
  // `alerts` alerts, alternating A and B (odd ids A, even ids B).
  explicit ScopedApi(const std::string& tag, size_t alerts = 40) {
    dir_ = std::filesystem::temp_directory_path() /
           ("gsoc-scoped-" + tag + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    store::StoreOptions options;
    options.path = dir_ / "alerts.db";
    options.retention_age = std::chrono::seconds(0);
    store_ = store::AlertStore::Open(options);
    store_->AddListener(&hub_);
    Publish(alerts);
    auth::AuthStoreOptions auth_options;
    auth_options.path = dir_ / "auth.db";
    auth_ = auth::AuthStore::Open(auth_options);
    admin = auth_->CreateToken(auth::Role::kAdmin, {}, "root").token;
    analyst = auth_->CreateToken(auth::Role::kAnalyst, {}, "ana").token;
    agency_a = auth_->CreateToken(auth::Role::kAgencyAnalyst, {kAgencyA}, "alpha-1").token;
    viewer = auth_->CreateToken(auth::Role::kViewer, {}, "vic").token;
    ApiOptions api;
    api.tokens = {"config-token-0123456789"};
    ApiHooks hooks;
    hooks.rules_json = [] { return std::string("{\"rules\":[]}"); };
    hooks.reload = [] {};
    hooks.ready = [] { return true; };
    hooks.auth = auth_.get();
    context_ = std::make_unique<ApiContext>(std::move(api), *store_, hub_, std::move(hooks));
  }
  ~ScopedApi() {
    context_.reset();
    auth_.reset();
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  const std::filesystem::path& dir() const { return dir_; }

  void Publish(size_t count) {
    std::vector<Alert> alerts;
    for (size_t i = 0; i < count; ++i) {
      const bool a = (next_ % 2) == 1;
      Alert alert;
      alert.time_ns = 1'795'600'000'000'000'000 + static_cast<int64_t>(next_) * 1'000'000'000;
      alert.rule = {a ? "rule-a" : "rule-b",
                    "ssh_bruteforce",
                    "SSH brute force",
                    rules::Level::kHigh,
                    {"attack.t1110"}};
      alert.agency = a ? kAgencyA : kAgencyB;
      alert.events.push_back(
          {next_, alert.time_ns, a ? "sshd: failed password" : std::string(kSecretOfB)});
      alerts.push_back(std::move(alert));
      (a ? ids_a : ids_b).push_back(next_++);
    }
    store_->Publish(alerts);
    store_->Flush();
  }

  HttpRequest Request(boost::beast::http::verb method, const std::string& target,
                      const std::string& token, std::string body = {}) const {
    HttpRequest request{method, target, 11};
    if (!token.empty()) request.set(boost::beast::http::field::authorization, "Bearer " + token);
    request.body() = std::move(body);
    request.prepare_payload();
    return request;
  }

  Routed Route(const HttpRequest& request) {
    return RouteRequest(*context_, request, "10.0.0.9:4242");
  }

  // The whole SSE output a stream request gives now (store and hub).
  std::string StreamBytes(const Routed& routed) {
    StreamFeed feed(*store_, hub_, routed.stream->filter, routed.stream->last_event_id);
    std::string out;
    for (int i = 0; i < 1000 && feed.Next(out, 7); ++i) {
    }
    return out;
  }

  auth::AuthStore& auth() { return *auth_; }
  ApiContext& context() { return *context_; }

  std::string admin, analyst, agency_a, viewer;
  std::vector<uint64_t> ids_a, ids_b;

 private:
  std::filesystem::path dir_;
  LiveHub hub_;
  std::unique_ptr<store::AlertStore> store_;
  std::unique_ptr<auth::AuthStore> auth_;
  std::unique_ptr<ApiContext> context_;
  uint64_t next_ = 1;
};

// Whether `bytes` holds anything of agency B: its name, its marker, or
// one of its alert ids as the JSON or SSE shows them.
inline bool HoldsAgencyB(const std::string& bytes, const std::vector<uint64_t>& ids_b) {
  if (bytes.find(kAgencyB) != std::string::npos) return true;
  if (bytes.find(kSecretOfB) != std::string::npos) return true;
  for (uint64_t id : ids_b) {
    const std::string n = std::to_string(id);
    if (bytes.find("\"id\":\"" + n + "\"") != std::string::npos) return true;
    if (bytes.find("id: " + n + "\n") != std::string::npos) return true;
    if (bytes.find("\"next_cursor\":\"" + n + "\"") != std::string::npos) return true;
  }
  return false;
}

}  // namespace gsoc::api::testing
