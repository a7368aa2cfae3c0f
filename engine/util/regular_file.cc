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

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

bool ReadRegularFile(const std::filesystem::path& file, uint64_t max_bytes,
                     const std::function<bool(std::string_view, std::string*)>& on_chunk,
                     std::string* error) {
  const std::string name = file.string();
  const int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    *error = name + ": cannot open: " + std::strerror(errno);
    return false;
  }
  FdCloser closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    *error = name + ": cannot stat: " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = name + ": not a regular file (" + FileKind(st.st_mode) + "); refused";
    return false;
  }
  const std::string too_large =
      name + ": larger than " + std::to_string(max_bytes) + " bytes; refused";
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    *error = too_large;
    return false;
  }
  constexpr size_t kChunk = 64 * 1024;
  auto buffer = std::make_unique<char[]>(kChunk);
  uint64_t total = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.get(), kChunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = name + ": cannot read: " + std::strerror(errno);
      return false;
    }
    if (n == 0) return true;
    total += static_cast<uint64_t>(n);
    if (total > max_bytes) {  // grew while being read
      *error = too_large;
      return false;
    }
    if (!on_chunk(std::string_view(buffer.get(), static_cast<size_t>(n)), error)) return false;
  }
}

bool ReadRegularFile(const std::filesystem::path& file, uint64_t max_bytes, std::string* out,
                     std::string* error) {
  out->clear();
  return ReadRegularFile(
      file, max_bytes,
      [out](std::string_view chunk, std::string*) {
        out->append(chunk);
        return true;
      },
      error);
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
