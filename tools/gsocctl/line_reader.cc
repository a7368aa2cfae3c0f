#include "tools/gsocctl/line_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
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
  const bool shared = block_.use_count() > 2;  // held_ is one holder
  // Reading at end_ would write over the padding of the last line handed
  // out, which another holder may be parsing (a short read: a pipe, a
  // file's end).
  const bool over_padding = shared && end_ < handed_end_ + LineBlock::kPadding;
  if (end_ == block_->size || (begin_ == end_ && begin_ > 0) || over_padding) {
    // No room after the unread bytes (or none unread): they move to the
    // front, of this block when nobody else holds it (no view of it is
    // out), else of a new one, twice their size when they fill a block.
    const size_t pending = end_ - begin_;
    if (shared || pending * 2 > block_->size) {
      auto fresh = std::make_shared<LineBlock>(std::max(kBlockBytes, pending * 2));
      std::memcpy(fresh->bytes.get(), block_->bytes.get() + begin_, pending);
      block_ = std::move(fresh);
      held_ = block_;
    } else {
      std::memmove(block_->bytes.get(), block_->bytes.get() + begin_, pending);
    }
    begin_ = 0;
    end_ = pending;
    handed_end_ = 0;
  }
  for (;;) {
    const ssize_t n = ::read(fd_, block_->bytes.get() + end_, block_->size - end_);
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
    char* bytes = block_->bytes.get();
    *line = std::string_view(bytes + begin_, end - begin_);
    handed_end_ = end;
    // Its padding runs past what was read: zeros, never read into while
    // another holder has the block (Fill).
    if (end + LineBlock::kPadding > end_)
      std::memset(bytes + end_, 0, end + LineBlock::kPadding - end_);
  }
  begin_ = next;
  return !too_long;
}

bool LineReader::Next(std::string_view* line) {
  size_t scanned = begin_;  // no '\n' in [begin_, scanned)
  for (;;) {
    const char* data = block_->bytes.get();
    const void* newline = std::memchr(data + scanned, '\n', end_ - scanned);
    if (newline != nullptr) {
      const size_t at = static_cast<const char*>(newline) - data;
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
