#include "engine/output/webhook_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <string_view>

#include "engine/config/config_reader.h"

namespace gsoc {
namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool IsLevelName(const std::string& level) {
  static constexpr std::string_view kLevels[] = {"informational", "low", "medium", "high",
                                                 "critical"};
  return std::find(std::begin(kLevels), std::end(kLevels), level) != std::end(kLevels);
}

void ReadStringList(ConfigReader& reader, const YAML::Node& map, const char* key,
                    const std::string& path, std::vector<std::string>& out) {
  const YAML::Node node = map[key];
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsSequence()) {
    reader.Error(node, path + "." + key, "expected a list of strings");
    return;
  }
  for (const YAML::Node& item : node) {
    if (!item.IsScalar() || item.Scalar().empty()) {
      reader.Error(item, path + "." + key, "expected a non-empty string");
      continue;
    }
    out.push_back(item.Scalar());
  }
}

void ReadWebhookMatch(ConfigReader& reader, const YAML::Node& node, const std::string& path,
                      WebhookMatchConfig& match) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(node, path, {"agencies", "min_level", "tags"})) return;
  ReadStringList(reader, node, "agencies", path, match.agencies);
  ReadStringList(reader, node, "tags", path, match.tags);
  reader.Scalar(node, "min_level", path, match.min_level);
  if (!match.min_level.empty() && !IsLevelName(match.min_level)) {
    reader.Error(node["min_level"], path + ".min_level",
                 "expected informational, low, medium, high or critical");
  }
}

}  // namespace

void ReadWebhookList(ConfigReader& reader, const YAML::Node& node,
                     std::vector<WebhookConfig>& webhooks) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsSequence()) {
    reader.Error(node, "alerts.webhooks", "expected a list of webhooks");
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = "alerts.webhooks[" + std::to_string(i) + "]";
    WebhookConfig webhook;
    ReadWebhookConfig(reader, node[i], path, webhook);
    if (webhook.name.empty()) webhook.name = "webhook-" + std::to_string(i);
    for (const WebhookConfig& other : webhooks) {
      if (other.name == webhook.name) {
        reader.Error(node[i], path + ".name", "another webhook is named " + webhook.name);
      }
    }
    webhooks.push_back(std::move(webhook));
  }
}

void ReadWebhookConfig(ConfigReader& reader, const YAML::Node& node, const std::string& path,
                       WebhookConfig& webhook) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(
          node, path,
          {"url", "headers", "max_batch", "max_queue", "max_queue_size", "timeout", "retry_initial",
           "retry_max", "tls_verify", "allow_insecure_headers", "name", "match"})) {
    return;
  }
  reader.Scalar(node, "name", path, webhook.name);
  ReadWebhookMatch(reader, node["match"], path + ".match", webhook.match);
  reader.Scalar(node, "url", path, webhook.url);
  if (webhook.url.rfind("http://", 0) != 0 && webhook.url.rfind("https://", 0) != 0) {
    reader.Error(node["url"].IsDefined() ? node["url"] : node, path + ".url",
                 "expected an http:// or https:// URL");
  }
  const YAML::Node headers = node["headers"];
  if (headers.IsDefined() && !headers.IsNull()) {
    if (!headers.IsMap()) {
      reader.Error(headers, path + ".headers", "expected a map of header: value");
    } else {
      for (auto it = headers.begin(); it != headers.end(); ++it) {
        if (!it->second.IsScalar()) {
          reader.Error(it->second, path + ".headers." + it->first.Scalar(), "expected a string");
          continue;
        }
        webhook.headers.emplace_back(it->first.Scalar(), it->second.Scalar());
      }
    }
  }
  reader.Size(node, "max_batch", path, webhook.max_batch, 1, 100000);
  reader.Size(node, "max_queue", path, webhook.max_queue, 1, 100'000'000);
  reader.Millis(node, "timeout", path, webhook.timeout, 100);
  reader.Millis(node, "retry_initial", path, webhook.retry_initial, 10);
  reader.Millis(node, "retry_max", path, webhook.retry_max, 10);
  reader.Scalar(node, "tls_verify", path, webhook.tls_verify);
  size_t queue_bytes = webhook.max_queue_bytes;
  reader.Size(node, "max_queue_size", path, queue_bytes, 64 * 1024, 1ull << 40);
  webhook.max_queue_bytes = queue_bytes;
  reader.Scalar(node, "allow_insecure_headers", path, webhook.allow_insecure_headers);
  if (webhook.url.rfind("http://", 0) == 0 && !webhook.headers.empty() &&
      !webhook.allow_insecure_headers) {
    for (const auto& [name, value] : webhook.headers) {
      if (!EqualsNoCase(name, "authorization") && !EqualsNoCase(name, "proxy-authorization") &&
          !EqualsNoCase(name, "cookie")) {
        continue;
      }
      reader.Error(node["headers"], path + ".headers." + name,
                   "would be sent in clear text over http://; use https:// (or "
                   "allow_insecure_headers: true)");
    }
  }
}

}  // namespace gsoc
