// Helpers of the config tests: parse a YAML text, collect and find errors.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/config/config.h"

namespace gsoc::config_test {

using ::testing::HasSubstr;

inline const std::filesystem::path kFile = "/etc/gsoc/gsoc.yaml";

inline Config Parse(const std::string& yaml) {
  ConfigResult result = ParseConfig(yaml, kFile);
  if (auto* errors = std::get_if<std::vector<ConfigError>>(&result)) {
    std::string all;
    for (const auto& error : *errors) all += error.ToString() + "\n";
    ADD_FAILURE() << "unexpected errors:\n" << all;
    return Config{};
  }
  return std::get<Config>(std::move(result));
}

inline std::vector<ConfigError> Errors(const std::string& yaml) {
  ConfigResult result = ParseConfig(yaml, kFile);
  if (auto* errors = std::get_if<std::vector<ConfigError>>(&result)) return *errors;
  ADD_FAILURE() << "expected errors, got a valid config for:\n" << yaml;
  return {};
}

inline std::string Dump(const std::vector<ConfigError>& errors) {
  std::string all;
  for (const auto& error : errors) all += error.ToString() + "\n";
  return all;
}

// The first error with `key`, or null.
inline const ConfigError* Find(const std::vector<ConfigError>& errors, const std::string& key) {
  for (const auto& error : errors) {
    if (error.key == key) return &error;
  }
  return nullptr;
}

// Expects an error at `key` on `line` whose reason contains `reason`.
inline void ExpectError(const std::vector<ConfigError>& errors, const std::string& key, int line,
                        const std::string& reason) {
  const ConfigError* error = Find(errors, key);
  ASSERT_NE(error, nullptr) << "no error for key '" << key << "' in:\n" << Dump(errors);
  EXPECT_EQ(error->location.line, line) << error->ToString();
  EXPECT_THAT(error->message, HasSubstr(reason)) << error->ToString();
  EXPECT_EQ(error->location.file, kFile.string());
}

// ----------------------------------------------------------------------------

}  // namespace gsoc::config_test
