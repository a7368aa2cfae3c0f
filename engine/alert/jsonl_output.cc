#include "engine/alert/jsonl_output.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace gsoc {

namespace {

constexpr size_t kTailChunk = 64 * 1024;
constexpr size_t kRecoverPage = 256;

std::runtime_error FileError(const std::filesystem::path& path, const char* what) {
  return std::runtime_error("alerts file " + path.string() + ": " + what + ": " +
                            std::strerror(errno));
}

// Read and write: a torn last line is found with pread and cut with ftruncate.
int OpenForAppend(const std::filesystem::path& path) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
  if (fd < 0) throw FileError(path, "cannot open");
  return fd;
}

// Reads `size` bytes at `offset`; false on error.
bool ReadAt(int fd, uint64_t offset, size_t size, std::string& out) {
  out.resize(size);
  size_t done = 0;
  while (done < size) {
    const ssize_t n =
        ::pread(fd, out.data() + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// The offset just after the file's last '\n' (0 if none), reading backwards.
uint64_t EndOfLastWholeLine(int fd, uint64_t size) {
  std::string chunk;
  uint64_t end = size;
  while (end > 0) {
    const size_t take = static_cast<size_t>(std::min<uint64_t>(end, kTailChunk));
    if (!ReadAt(fd, end - take, take, chunk)) return size;  // unreadable: leave it alone
    const size_t newline = chunk.rfind('\n');
    if (newline != std::string::npos) return end - take + newline + 1;
    end -= take;
  }
  return 0;
}

// The id in a line that starts {"id":"<digits>" (the schema's first key).
std::optional<uint64_t> LineId(std::string_view line) {
  constexpr std::string_view kPrefix = "{\"id\":";
  if (!line.starts_with(kPrefix)) return std::nullopt;
  line.remove_prefix(kPrefix.size());
  if (!line.empty() && line.front() == '"') line.remove_prefix(1);
  uint64_t id = 0;
  const auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), id);
  if (error != std::errc() || end == line.data()) return std::nullopt;
  return id;
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

JsonlAlertOutput::JsonlAlertOutput(const std::filesystem::path& file, JsonlOutputOptions options)
    : path_(file), fd_(OpenForAppend(file)), options_(options) {
  struct stat info {};
  if (::fstat(fd_, &info) != 0) {
    ::close(fd_);
    throw FileError(file, "cannot stat");
  }
  const auto size = static_cast<uint64_t>(info.st_size);
  const uint64_t whole = EndOfLastWholeLine(fd_, size);
  if (whole < size) {  // a crash tore the last line: the next alert must not join it
    if (::ftruncate(fd_, static_cast<off_t>(whole)) != 0) {
      ::close(fd_);
      throw FileError(file, "cannot cut a torn last line");
    }
    torn_bytes_ = size - whole;
    spdlog::warn("alerts file {}: cut a torn last line ({} bytes)", file.string(), torn_bytes_);
  }
  bytes_ = whole;
}

JsonlAlertOutput::JsonlAlertOutput(std::FILE* stream) : stream_(stream) {}

JsonlAlertOutput::~JsonlAlertOutput() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<uint64_t> JsonlAlertOutput::LastWrittenId(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return std::nullopt;
  std::optional<uint64_t> id;
  struct stat info {};
  if (::fstat(fd, &info) == 0) {
    const uint64_t end = EndOfLastWholeLine(fd, static_cast<uint64_t>(info.st_size));
    if (end > 0) {
      const uint64_t start = EndOfLastWholeLine(fd, end - 1);  // the last line's first byte
      std::string head;
      const size_t take = static_cast<size_t>(std::min<uint64_t>(end - 1 - start, 64));
      if (ReadAt(fd, start, take, head)) id = LineId(head);
    }
  }
  ::close(fd);
  return id;
}

uint64_t JsonlAlertOutput::RecoverFrom(const store::AlertReader& reader) {
  if (fd_ < 0) return 0;
  auto last = LastWrittenId(path_);
  if (!last && bytes_ == 0) last = LastWrittenId(path_.string() + ".1");  // just rotated
  if (!last) return 0;
  uint64_t recovered = 0;
  store::QueryRequest request;
  request.filter.after_id = *last;
  request.limit = kRecoverPage;
  request.newest_first = false;
  for (;;) {
    const store::QueryResult page = reader.Query(request);
    if (page.alerts.empty()) break;
    OnCommitted(page.alerts);
    recovered += page.alerts.size();
    if (page.next_cursor == 0) break;
    request.filter.after_id = page.next_cursor;
  }
  if (recovered > 0) {
    spdlog::warn("alerts file {}: re-wrote {} committed alert(s) after id {} from the store",
                 path_.string(), recovered, *last);
  }
  return recovered;
}

void JsonlAlertOutput::Publish(std::vector<Alert>& alerts) { PublishRendered(alerts, {}, {}); }

void JsonlAlertOutput::PublishRendered(std::vector<Alert>& alerts, std::string_view bodies,
                                       std::span<const size_t> ends) {
  if (alerts.empty()) return;
  uint64_t id = local_next_id_.fetch_add(alerts.size());
  for (Alert& alert : alerts) alert.id = id++;
  thread_local std::string buffer;
  buffer.clear();
  const size_t rendered = std::min(ends.size(), alerts.size());
  size_t begin = 0;
  for (size_t i = 0; i < rendered; ++i) {
    AppendAlertJsonIdMember(buffer, alerts[i].id);
    buffer.append(bodies.substr(begin, ends[i] - begin));
    buffer.push_back('\n');
    begin = ends[i];
  }
  AppendAlertJsonLines(buffer, std::span<const Alert>(alerts).subspan(rendered));
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
  if (stream_) {
    // Readers (tail, tests) see whole batches at once: what stdio holds,
    // then the batch in one write(2) (through stdio, a batch larger than
    // its 4 KiB buffer took three). Errors are the stream's reader's, as
    // with stdio (a closed pipe's SIGPIPE ends gsocctl).
    std::fflush(stream_);
    const int fd = ::fileno(stream_);
    if (fd >= 0) {
      WriteAll(fd, buffer);
    } else {  // a stream with no descriptor
      std::fwrite(buffer.data(), 1, buffer.size(), stream_);
      std::fflush(stream_);
    }
    written_ += alerts;
    return;
  }
  if (fd_ < 0) {
    try {
      fd_ = OpenForAppend(path_);  // a failed rotation: retry per batch
    } catch (const std::exception& e) {
      spdlog::error("{} ({} alerts not written)", e.what(), alerts);
      return;
    }
  }
  if (!WriteAll(fd_, buffer)) {
    spdlog::error(
        "alerts file {}: write failed: {} ({} alerts; recovered from the store at the "
        "next start)",
        path_.string(), std::strerror(errno), alerts);
    return;
  }
  bytes_ += buffer.size();
  written_ += alerts;
  RotateIfNeededLocked();
}

void JsonlAlertOutput::RotateIfNeededLocked() {
  if (bytes_ < options_.max_file_bytes) return;
  ::close(fd_);
  fd_ = -1;
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
    fd_ = OpenForAppend(path_);
  } catch (const std::exception& e) {
    spdlog::error("rotating alerts: {}", e.what());
  }
}

void JsonlAlertOutput::Flush() {
  std::lock_guard lock(mutex_);
  if (stream_) std::fflush(stream_);  // a file is written straight through (write(2))
}

uint64_t JsonlAlertOutput::alerts_written() const {
  std::lock_guard lock(mutex_);
  return written_;
}

}  // namespace gsoc
