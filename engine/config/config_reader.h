// ConfigReader: what every component uses to read its own config section.
//
// It collects every error of one file at once, each as a ConfigError with
// file, line, key path and reason (nothing is half-applied: the loader
// returns the errors instead of a Config). Each method checks one value and
// leaves `out` unchanged when the key is absent or wrong.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "engine/util/diagnostic.h"

namespace gsoc {

// One problem found while loading config: the project's one diagnostic
// type (code config.key or config.file; `key` is the dotted path, e.g.
// listeners[1].port).
using ConfigError = Diagnostic;

class ConfigReader {
 public:
  // `base_dir`: relative paths in the file are taken from here (its folder).
  ConfigReader(std::string file, std::filesystem::path base_dir)
      : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

  void Error(const YAML::Node& node, const std::string& key, const std::string& reason);

  // Reports keys of `map` not in `allowed` (typos must not pass silently).
  bool CheckMap(const YAML::Node& map, const std::string& path,
                std::initializer_list<std::string_view> allowed) {
    return CheckMap(map, path, std::vector<std::string_view>(allowed));
  }
  bool CheckMap(const YAML::Node& map, const std::string& path,
                const std::vector<std::string_view>& allowed);

  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  template <typename T>
  void Scalar(const YAML::Node& map, const char* key, const std::string& path, T& out) {
    const YAML::Node node = map[key];
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsScalar()) {
      Error(node, Join(path, key), "expected a scalar value");
      return;
    }
    try {
      out = node.as<T>();
    } catch (const YAML::Exception&) {
      Error(node, Join(path, key), "invalid value '" + node.Scalar() + "'");
    }
  }

  // map["port"]: required (0 = an ephemeral port), 0-65535.
  void Port(const YAML::Node& map, const std::string& path, uint16_t& out);
  // map["address"], when present: an IPv4 or IPv6 address.
  void Address(const YAML::Node& map, const std::string& path, std::string& out);
  void Size(const YAML::Node& map, const char* key, const std::string& path, size_t& out,
            uint64_t min, uint64_t max);
  void Millis(const YAML::Node& map, const char* key, const std::string& path,
              std::chrono::milliseconds& out, int64_t min_ms);
  void Seconds(const YAML::Node& map, const char* key, const std::string& path,
               std::chrono::seconds& out);

  // `text` taken from the config file's folder, absolute and normalised.
  std::filesystem::path Resolve(const std::string& text) const;
  // A path that must exist (rules, decoders, lists, certificates are read at start).
  void ExistingPath(const YAML::Node& node, const std::string& key, std::filesystem::path& out);
  // map[key]: one existing path or a list of them.
  void PathList(const YAML::Node& map, const char* key, const std::string& path,
                std::vector<std::filesystem::path>& out);

  const std::filesystem::path& base_dir() const { return base_dir_; }
  std::vector<ConfigError>& errors() { return errors_; }

 private:
  std::string file_;
  std::filesystem::path base_dir_;
  std::vector<ConfigError> errors_;
};

}  // namespace gsoc
