// JSON-lines alert output: one alert per line in the schema of alert.h,
// appended to a file (rotated by size) or written to a stream (stdout for
// gsocctl replay).
//
// Two faces: in gsocd it is a CommitListener of the alert store, writing
// alerts as committed (ids from the store); offline (gsocctl replay) it is
// the AlertSink itself and numbers alerts from 1.
//
// Whole lines: a file is written with one write(2) per batch of whole lines
// (O_APPEND), created with mode 0600. A crash can still tear the last line
// (or lose the batch being written); on open a torn last line is truncated,
// and RecoverFrom(store) appends the committed alerts after the last whole
// line's id, so the file misses nothing the store holds.
//
// Threading: Publish may be called from any worker; each call renders its
// alerts outside the lock, then writes them under a mutex.
#pragma once

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "engine/alert/alert.h"
#include "engine/store/alert_store.h"

namespace gsoc {

struct JsonlOutputOptions {
  uint64_t max_file_bytes = 100ull << 20;  // rotate beyond this (file only)
  int keep_files = 5;                      // file.1 .. file.N kept
};

class JsonlAlertOutput : public AlertSink, public store::CommitListener {
 public:
  // To a file (opened for append, a torn last line cut off; rotated).
  // Throws std::runtime_error.
  JsonlAlertOutput(const std::filesystem::path& file, JsonlOutputOptions options = {});
  // To a stream the caller owns (not rotated; gsocctl replay).
  explicit JsonlAlertOutput(std::FILE* stream);
  ~JsonlAlertOutput() override;

  void Publish(std::vector<Alert>& alerts) override;
  // Publish for alerts rendered before their ids were known: alerts[i] for
  // i < ends.size() is bodies[ends[i - 1], ends[i]) (AppendAlertJsonBodies;
  // ends[-1] = 0), the rest are rendered here. The same lines as Publish.
  void PublishRendered(std::vector<Alert>& alerts, std::string_view bodies,
                       std::span<const size_t> ends);
  void Flush() override;
  // After the store's commit: writes the stored JSON as is.
  void OnCommitted(std::span<const store::StoredAlert> alerts) override;
  uint64_t alerts_written() const;

  // File only, before the store commits anything new: appends every alert of
  // `reader` after the id of the file's last whole line (or of the newest
  // rotated file's, when the file is empty). Returns how many were appended;
  // none when no file holds an alert yet (a new file starts with new alerts).
  uint64_t RecoverFrom(const store::AlertReader& reader);
  // Bytes of a torn last line cut off when the file was opened.
  uint64_t torn_bytes() const { return torn_bytes_; }

  // The id of the last whole line of `file` (nullopt: none).
  static std::optional<uint64_t> LastWrittenId(const std::filesystem::path& file);

 private:
  void WriteLines(const std::string& buffer, size_t alerts);
  void RotateIfNeededLocked();

  std::filesystem::path path_;
  int fd_ = -1;                  // an owned file
  std::FILE* stream_ = nullptr;  // a caller's stream
  JsonlOutputOptions options_;
  mutable std::mutex mutex_;  // guards fd_, bytes_, written_
  uint64_t bytes_ = 0;
  uint64_t written_ = 0;
  uint64_t torn_bytes_ = 0;
  std::atomic<uint64_t> local_next_id_{1};  // ids of alerts given to Publish
};

}  // namespace gsoc
