// Shared by the triage store tests: a temporary triage.db.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "engine/triage/triage_store.h"

namespace gsoc::triage {

class TempTriageDir {
 public:
  TempTriageDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "gsoc-triage-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempTriageDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TriageOptions Options() const {
    TriageOptions options;
    options.path = path_ / "triage.db";
    options.sync = false;  // tests: durability is the e2e test's (kill -9)
    return options;
  }

 private:
  std::filesystem::path path_;
};

inline Change MakeChange(Action action, std::string author = "alice") {
  Change change;
  change.action = action;
  change.author = std::move(author);
  return change;
}

}  // namespace gsoc::triage
