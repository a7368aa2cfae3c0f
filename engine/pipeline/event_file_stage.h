// EventFileStage: writes every event as one JSON line to a file (config key
// `events_file`), for archiving and for end-to-end tests that check fields.
//
// Threading: Process runs on any worker; each call renders its batch into a
// per-thread buffer, then appends it with one write under a mutex (per
// batch, not per event). Flush fsyncs nothing; it flushes the stdio buffer.
// When the disk is slow, workers wait on the write: the queue fills and TCP
// collectors stop reading.
#pragma once

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "engine/pipeline/pipeline.h"

namespace gsoc {

// Appends the JSON form of `event` (one line, with '\n') to `out`.
void AppendEventJson(std::string& out, const EventBatch& batch, const Event& event,
                     const std::vector<std::string>& listener_names,
                     const std::vector<std::string>& agency_names);

class EventFileStage : public Stage {
 public:
  // Throws std::runtime_error if the file cannot be opened (at start only).
  EventFileStage(const std::filesystem::path& path, std::vector<std::string> listener_names,
                 std::vector<std::string> agency_names);
  ~EventFileStage() override;

  void Process(EventBatch& batch) override;
  void Flush() override;

 private:
  std::FILE* file_;
  std::mutex mutex_;
  std::vector<std::string> listener_names_;
  std::vector<std::string> agency_names_;
};

}  // namespace gsoc
