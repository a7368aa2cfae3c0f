#include "engine/alert/id_allocator.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

namespace gsoc {

namespace {

void WriteDurably(const std::filesystem::path& path, const std::string& text) {
  const std::string temporary = path.string() + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) throw std::runtime_error(temporary + ": " + std::strerror(errno));
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(temporary.c_str(), path.c_str()) != 0) {
    throw std::runtime_error(path.string() + ": cannot write: " + std::strerror(errno));
  }
  // Make the rename itself durable.
  const int dir = ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                         O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

}  // namespace

AlertIdAllocator::AlertIdAllocator(std::filesystem::path file) : file_(std::move(file)) {
  std::ifstream in(file_);
  if (in) {
    std::string text;
    in >> text;
    try {
      size_t used = 0;
      next_ = std::stoull(text, &used);
      if (used != text.size() || next_ == 0) throw std::invalid_argument(text);
    } catch (const std::exception&) {
      throw std::runtime_error(file_.string() + ": not an alert id ceiling: '" + text + "'");
    }
  }
  ceiling_ = next_;
}

void AlertIdAllocator::Reserve(uint64_t ceiling) {
  WriteDurably(file_, std::to_string(ceiling) + "\n");
  ceiling_ = ceiling;
}

uint64_t AlertIdAllocator::Allocate(uint64_t n) {
  std::lock_guard lock(mutex_);
  if (next_ + n > ceiling_) Reserve(next_ + n + kBlock);
  const uint64_t first = next_;
  next_ += n;
  return first;
}

uint64_t AlertIdAllocator::next() const {
  std::lock_guard lock(mutex_);
  return next_;
}

}  // namespace gsoc
