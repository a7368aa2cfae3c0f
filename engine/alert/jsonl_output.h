// JSON-lines alert output: one alert per line in the schema of alert.h,
// appended to a file (rotated by size) or written to a stream (stdout for
// gsocctl replay).
//
// Two faces: in gsocd it is a CommitListener of the alert store, writing
// alerts as committed (ids from the store); offline (gsocctl replay) it is
// the AlertSink itself and numbers alerts from 1.
//
// Threading: Publish may be called from any worker; each call renders its
// alerts outside the lock, then writes them with one fwrite under a mutex.
#pragma once

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>

#include "engine/alert/alert.h"
#include "engine/store/alert_store.h"

namespace gsoc {

struct JsonlOutputOptions {
  uint64_t max_file_bytes = 100ull << 20;  // rotate beyond this (file only)
  int keep_files = 5;                      // file.1 .. file.N kept
};

class JsonlAlertOutput : public AlertSink, public store::CommitListener {
 public:
  // To a file (opened for append; rotated). Throws std::runtime_error.
  JsonlAlertOutput(const std::filesystem::path& file, JsonlOutputOptions options = {});
  // To a stream the caller owns (not rotated; gsocctl replay).
  explicit JsonlAlertOutput(std::FILE* stream);
  ~JsonlAlertOutput() override;

  void Publish(std::vector<Alert>& alerts) override;
  void Flush() override;
  // After the store's commit: writes the stored JSON as is.
  void OnCommitted(std::span<const store::StoredAlert> alerts) override;
  uint64_t alerts_written() const;

 private:
  void WriteLines(const std::string& buffer, size_t alerts);
  void RotateIfNeededLocked();

  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  bool owns_file_ = false;
  JsonlOutputOptions options_;
  mutable std::mutex mutex_;
  uint64_t bytes_ = 0;
  uint64_t written_ = 0;
  std::atomic<uint64_t> local_next_id_{1};  // ids of alerts given to Publish
};

}  // namespace gsoc
