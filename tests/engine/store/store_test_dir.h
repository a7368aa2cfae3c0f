// A temporary directory for one store test, and the options of a store in it.
#pragma once

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <system_error>

#include "engine/store/alert_store.h"

namespace gsoc::store::test_dir {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "gsoc-store-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path db() const { return path_ / "alerts.db"; }

 private:
  std::filesystem::path path_;
};

inline StoreOptions TestOptions(const TempDir& dir) {
  StoreOptions options;
  options.path = dir.db();
  options.retention_age = std::chrono::seconds(0);  // tests call RunRetention themselves
  return options;
}

}  // namespace gsoc::store::test_dir
