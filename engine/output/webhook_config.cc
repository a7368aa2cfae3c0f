#include "engine/output/webhook_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>

#include "engine/config/config_reader.h"

namespace gsoc {
namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

void ReadWebhookConfig(ConfigReader& reader, const YAML::Node& node, const std::string& path,
                       WebhookConfig& webhook) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!reader.CheckMap(node, path,
                       {"url", "headers", "max_batch", "max_queue", "max_queue_size", "timeout",
                        "retry_initial", "retry_max", "tls_verify", "allow_insecure_headers"})) {
    return;
  }
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
