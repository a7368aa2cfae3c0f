// A temporary directory for one store test, and the options of a store in it.
#pragma once

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <system_error>

#include "engine/store/alert_store.h"
#include "tests/util/temp_dir.h"

namespace gsoc::store::test_dir {

// A test::TempDir named gsoc-store-*, with the store's path in it.
class TempDir : public gsoc::test::TempDir {
 public:
  TempDir() : gsoc::test::TempDir("store") {}
  std::filesystem::path db() const { return path() / "alerts.db"; }
};

inline StoreOptions TestOptions(const TempDir& dir) {
  StoreOptions options;
  options.path = dir.db();
  options.retention_age = std::chrono::seconds(0);  // tests call RunRetention themselves
  return options;
}

}  // namespace gsoc::store::test_dir
