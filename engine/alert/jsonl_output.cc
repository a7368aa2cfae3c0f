#include "engine/alert/jsonl_output.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace gsoc {

namespace {
std::FILE* OpenForAppend(const std::filesystem::path& path) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::FILE* file = std::fopen(path.c_str(), "ae");
  if (!file) {
    throw std::runtime_error("alerts file " + path.string() + ": " + std::strerror(errno));
  }
  return file;
}
}  // namespace

JsonlAlertOutput::JsonlAlertOutput(const std::filesystem::path& file, JsonlOutputOptions options)
    : path_(file), file_(OpenForAppend(file)), owns_file_(true), options_(options) {
  std::error_code error;
  bytes_ = std::filesystem::file_size(file, error);
  if (error) bytes_ = 0;
}

JsonlAlertOutput::JsonlAlertOutput(std::FILE* stream) : file_(stream) {}

JsonlAlertOutput::~JsonlAlertOutput() {
  if (owns_file_ && file_) std::fclose(file_);
}

void JsonlAlertOutput::Publish(std::vector<Alert>& alerts) {
  if (alerts.empty()) return;
  uint64_t id = local_next_id_.fetch_add(alerts.size());
  for (Alert& alert : alerts) alert.id = id++;
  thread_local std::string buffer;
  buffer.clear();
  for (const Alert& alert : alerts) {
    AppendAlertJson(buffer, alert);
    buffer.push_back('\n');
  }
  WriteLines(buffer, alerts.size());
}

void JsonlAlertOutput::OnCommitted(std::span<const store::StoredAlert> alerts) {
  if (alerts.empty()) return;
  std::string buffer;
  for (const store::StoredAlert& alert : alerts) {
    buffer += alert.json;
    buffer.push_back('\n');
  }
  WriteLines(buffer, alerts.size());
}

void JsonlAlertOutput::WriteLines(const std::string& buffer, size_t alerts) {
  std::lock_guard lock(mutex_);
  if (!file_ && owns_file_) {
    try {
      file_ = OpenForAppend(path_);  // a failed rotation: retry per batch
    } catch (const std::exception& e) {
      spdlog::error("{} ({} alerts not written)", e.what(), alerts);
      return;
    }
  }
  std::fwrite(buffer.data(), 1, buffer.size(), file_);
  std::fflush(file_);  // readers (tail, tests) see whole batches at once
  bytes_ += buffer.size();
  written_ += alerts;
  RotateIfNeededLocked();
}

void JsonlAlertOutput::RotateIfNeededLocked() {
  if (!owns_file_ || bytes_ < options_.max_file_bytes) return;
  std::fclose(file_);
  file_ = nullptr;
  std::error_code ignored;
  for (int i = options_.keep_files - 1; i >= 1; --i) {
    std::filesystem::rename(path_.string() + "." + std::to_string(i),
                            path_.string() + "." + std::to_string(i + 1), ignored);
  }
  if (options_.keep_files > 0) {
    std::filesystem::rename(path_, path_.string() + ".1", ignored);
  } else {
    std::filesystem::remove(path_, ignored);
  }
  bytes_ = 0;
  try {
    file_ = OpenForAppend(path_);
  } catch (const std::exception& e) {
    spdlog::error("rotating alerts: {}", e.what());
  }
}

void JsonlAlertOutput::Flush() {
  std::lock_guard lock(mutex_);
  if (file_) std::fflush(file_);
}

uint64_t JsonlAlertOutput::alerts_written() const {
  std::lock_guard lock(mutex_);
  return written_;
}

}  // namespace gsoc
