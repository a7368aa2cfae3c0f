#include "engine/config/config_reader.h"

#include <sstream>

#include "engine/config/duration.h"
#include "engine/util/ip_address.h"

namespace gsoc {

void ConfigReader::Error(const YAML::Node& node, const std::string& key,
                         const std::string& reason) {
  const bool marked = node.IsDefined() && node.Mark().line >= 0;
  const int line = marked ? node.Mark().line + 1 : 0;
  const int column = marked && node.Mark().column >= 0 ? node.Mark().column + 1 : 0;
  errors_.push_back({Severity::kError, "config.key", {file_, line, column}, "", key, reason});
}

bool ConfigReader::CheckMap(const YAML::Node& map, const std::string& path,
                            const std::vector<std::string_view>& allowed) {
  if (!map.IsMap()) {
    Error(map, path, "expected a mapping");
    return false;
  }
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string key = it->first.Scalar();
    bool known = false;
    for (auto name : allowed) known = known || key == name;
    if (!known) Error(it->first, Join(path, key), "unknown key");
  }
  return true;
}

void ConfigReader::Port(const YAML::Node& map, const std::string& path, uint16_t& out) {
  const YAML::Node node = map["port"];
  if (!node.IsDefined()) {
    Error(map, Join(path, "port"), "missing (use 0 for an ephemeral port)");
    return;
  }
  int64_t value = -1;
  const size_t errors_before = errors_.size();
  Scalar(map, "port", path, value);
  if (errors_.size() != errors_before) return;  // already reported
  if (value < 0 || value > 65535) {
    Error(node, Join(path, "port"), "must be 0-65535");
    return;
  }
  out = static_cast<uint16_t>(value);
}

void ConfigReader::Address(const YAML::Node& map, const std::string& path, std::string& out) {
  Scalar(map, "address", path, out);
  IpBytes bytes;
  if (!ParseIpAddress(out, bytes)) {
    Error(map["address"].IsDefined() ? map["address"] : map, Join(path, "address"),
          "not an IP address: '" + out + "'");
  }
}

void ConfigReader::Size(const YAML::Node& map, const char* key, const std::string& path,
                        size_t& out, uint64_t min, uint64_t max) {
  const YAML::Node node = map[key];
  if (!node.IsDefined() || node.IsNull()) return;
  auto size = node.IsScalar() ? ParseSize(node.Scalar()) : std::nullopt;
  if (!size || *size < min || *size > max) {
    Error(node, Join(path, key),
          "expected a size from " + std::to_string(min) + " to " + std::to_string(max) +
              " (e.g. 65536 or 64KiB)");
    return;
  }
  out = static_cast<size_t>(*size);
}

void ConfigReader::Millis(const YAML::Node& map, const char* key, const std::string& path,
                          std::chrono::milliseconds& out, int64_t min_ms) {
  const YAML::Node node = map[key];
  if (!node.IsDefined() || node.IsNull()) return;
  auto duration = node.IsScalar() ? ParseDuration(node.Scalar()) : std::nullopt;
  if (!duration || duration->count() < min_ms) {
    Error(node, Join(path, key),
          "expected a duration of at least " + std::to_string(min_ms) + "ms (e.g. 500ms, 30s, 5m)");
    return;
  }
  out = *duration;
}

void ConfigReader::Seconds(const YAML::Node& map, const char* key, const std::string& path,
                           std::chrono::seconds& out) {
  const YAML::Node node = map[key];
  if (!node.IsDefined() || node.IsNull()) return;
  auto duration = node.IsScalar() ? ParseDuration(node.Scalar()) : std::nullopt;
  if (!duration || *duration < std::chrono::seconds(1)) {
    Error(node, Join(path, key), "expected a duration of at least 1s (e.g. 30s, 5m, 1h)");
    return;
  }
  out = std::chrono::duration_cast<std::chrono::seconds>(*duration);
}

std::filesystem::path ConfigReader::Resolve(const std::string& text) const {
  return std::filesystem::absolute(base_dir_ / text).lexically_normal();
}

void ConfigReader::ExistingPath(const YAML::Node& node, const std::string& key,
                                std::filesystem::path& out) {
  if (!node.IsScalar() || node.Scalar().empty()) {
    Error(node, key, "expected a path");
    return;
  }
  out = Resolve(node.Scalar());
  std::error_code error;
  if (!std::filesystem::exists(out, error)) {
    Error(node, key, "no such file or folder: " + out.string());
  }
}

void ConfigReader::PathList(const YAML::Node& map, const char* key, const std::string& path,
                            std::vector<std::filesystem::path>& out) {
  const YAML::Node node = map[key];
  if (!node.IsDefined() || node.IsNull()) return;
  const std::string full = Join(path, key);
  if (node.IsScalar()) {
    ExistingPath(node, full, out.emplace_back());
    return;
  }
  if (!node.IsSequence()) {
    Error(node, full, "expected a path or a list of paths");
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    ExistingPath(node[i], full + "[" + std::to_string(i) + "]", out.emplace_back());
  }
}

}  // namespace gsoc
