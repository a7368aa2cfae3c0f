#include "engine/util/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <system_error>

namespace gsoc {

namespace {

const char* FileKind(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISDIR(mode)) return "a directory";
  return "not a regular file";
}

std::string TooLarge(const std::string& name, uint64_t max_bytes) {
  return name + ": larger than " + std::to_string(max_bytes) + " bytes; refused";
}

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

// Opens `file` for reading if it is a regular file of at most max_bytes;
// returns the descriptor (-1 with `error` set) and its size.
int OpenRegularFile(const std::filesystem::path& file, uint64_t max_bytes, uint64_t* size,
                    std::string* error) {
  const std::string name = file.string();
  const int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    *error = name + ": cannot open: " + std::strerror(errno);
    return -1;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    *error = name + ": cannot stat: " + std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    *error = name + ": not a regular file (" + FileKind(st.st_mode) + "); refused";
  } else if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    *error = TooLarge(name, max_bytes);
  } else {
    *size = static_cast<uint64_t>(st.st_size);
    return fd;
  }
  ::close(fd);
  return -1;
}

// read(2) into `buffer`, retrying on EINTR; -1 with `error` set.
ssize_t ReadSome(int fd, char* buffer, size_t size, const std::filesystem::path& file,
                 std::string* error) {
  for (;;) {
    const ssize_t n = ::read(fd, buffer, size);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    *error = file.string() + ": cannot read: " + std::strerror(errno);
    return -1;
  }
}

}  // namespace

bool ReadRegularFile(const std::filesystem::path& file, uint64_t max_bytes,
                     const std::function<bool(std::string_view, std::string*)>& on_chunk,
                     std::string* error) {
  uint64_t size = 0;
  const int fd = OpenRegularFile(file, max_bytes, &size, error);
  if (fd < 0) return false;
  FdCloser closer{fd};
  constexpr size_t kChunk = 64 * 1024;
  auto buffer = std::make_unique<char[]>(kChunk);
  uint64_t total = 0;
  for (;;) {
    const ssize_t n = ReadSome(fd, buffer.get(), kChunk, file, error);
    if (n < 0) return false;
    if (n == 0) return true;
    total += static_cast<uint64_t>(n);
    if (total > max_bytes) {  // grew while being read
      *error = TooLarge(file.string(), max_bytes);
      return false;
    }
    if (!on_chunk(std::string_view(buffer.get(), static_cast<size_t>(n)), error)) return false;
  }
}

// Straight into `out`, sized from fstat (rule files are read by the
// thousand on every load: no chunk buffer, no copy).
bool ReadRegularFile(const std::filesystem::path& file, uint64_t max_bytes, std::string* out,
                     std::string* error) {
  out->clear();
  uint64_t size = 0;
  const int fd = OpenRegularFile(file, max_bytes, &size, error);
  if (fd < 0) return false;
  FdCloser closer{fd};
  // One byte more than fstat said, so that the read that sees the end (or
  // a file that grew) needs no second allocation.
  out->resize(static_cast<size_t>(size) + 1);
  size_t total = 0;
  for (;;) {
    if (total == out->size()) {
      if (total > max_bytes) {  // grew while being read
        out->clear();
        *error = TooLarge(file.string(), max_bytes);
        return false;
      }
      out->resize(std::min<uint64_t>(max_bytes + 1, 2 * total));
    }
    const ssize_t n = ReadSome(fd, out->data() + total, out->size() - total, file, error);
    if (n < 0) {
      out->clear();
      return false;
    }
    if (n == 0) break;
    total += static_cast<size_t>(n);
  }
  if (total > max_bytes) {
    out->clear();
    *error = TooLarge(file.string(), max_bytes);
    return false;
  }
  out->resize(total);
  return true;
}

std::string_view WithoutFileName(std::string_view error, std::string_view file) {
  if (error.size() > file.size() + 2 && error.substr(0, file.size()) == file &&
      error.substr(file.size(), 2) == ": ") {
    error.remove_prefix(file.size() + 2);
  }
  return error;
}

bool WriteFileAtomically(const std::filesystem::path& file, std::string_view data) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  std::filesystem::path temp = file;
  temp += ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out.flush()) {
      out.close();
      std::filesystem::remove(temp, ec);
      return false;
    }
  }
  std::filesystem::rename(temp, file, ec);
  if (!ec) return true;
  std::filesystem::remove(temp, ec);
  return false;
}

}  // namespace gsoc
