#include "tools/gsocctl/line_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gsoc::ctl {

LineReader::~LineReader() {
  if (fd_ >= 0) ::close(fd_);
}

bool LineReader::Open(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  return fd_ >= 0;
}

bool LineReader::Fill() {
  if (eof_ || error_) return false;
  if (begin_ > 0) {  // keep the partial line at the front
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);  // a line longer than it
  for (;;) {
    const ssize_t n = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error_ = true;
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    end_ += static_cast<size_t>(n);
    return true;
  }
}

void LineReader::SkipTooLong() {
  skipping_ = false;
  ++too_long_;
  if (first_too_long_line_ == 0) first_too_long_line_ = line_number_;
}

bool LineReader::Take(size_t end, size_t next, std::string_view* line) {
  ++line_number_;
  const bool too_long = skipping_ || end - begin_ > max_line_bytes_;
  if (too_long) {
    SkipTooLong();
  } else {
    *line = std::string_view(buffer_.data() + begin_, end - begin_);
  }
  begin_ = next;
  return !too_long;
}

bool LineReader::Next(std::string_view* line) {
  size_t scanned = begin_;  // no '\n' in [begin_, scanned)
  for (;;) {
    const void* newline = std::memchr(buffer_.data() + scanned, '\n', end_ - scanned);
    if (newline != nullptr) {
      const size_t at = static_cast<const char*>(newline) - buffer_.data();
      if (Take(at, at + 1, line)) return true;
      scanned = begin_;
      continue;
    }
    if (skipping_ || end_ - begin_ > max_line_bytes_) {  // too long already: drop what came
      skipping_ = true;
      begin_ = end_;
    }
    const size_t pending = end_ - begin_;
    if (!Fill()) break;
    scanned = begin_ + pending;
  }
  if (begin_ == end_ && !skipping_) return false;
  return Take(end_, end_, line);  // no final '\n'
}

}  // namespace gsoc::ctl
