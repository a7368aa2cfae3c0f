// The `alerts.webhook:` section; read by webhook_config.cc (the alerts
// section hands it the node).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace YAML {
class Node;
}

namespace gsoc {

// Which alerts one webhook receives (every given condition holds).
struct WebhookMatchConfig {
  std::vector<std::string> agencies;  // the alert's agency is one of these
  std::string min_level;              // empty: any level
  std::vector<std::string> tags;      // the rule has one of these tags
};

// Outputs fed after the store commit: a JSON-lines file and a webhook.
struct WebhookConfig {
  std::string name;  // alerts.webhooks: a label for logs and metrics
  WebhookMatchConfig match;
  std::string url;  // empty: no webhook
  std::vector<std::pair<std::string, std::string>> headers;
  size_t max_batch = 100;
  size_t max_queue = 100000;
  std::chrono::milliseconds timeout{5000};
  std::chrono::milliseconds retry_initial{500};
  std::chrono::milliseconds retry_max{60000};
  bool tls_verify = true;
  uint64_t max_queue_bytes = 64ull << 20;  // alert JSON waiting, in bytes (besides max_queue)
  bool allow_insecure_headers = false;     // http:// with an Authorization header
};

class ConfigReader;
void ReadWebhookConfig(ConfigReader& reader, const YAML::Node& node, const std::string& path,
                       WebhookConfig& webhook);
// alerts.webhooks: a list of webhooks, each with an optional match; names
// default to webhook-<index> and must differ.
void ReadWebhookList(ConfigReader& reader, const YAML::Node& node,
                     std::vector<WebhookConfig>& webhooks);

}  // namespace gsoc
