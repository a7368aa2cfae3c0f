// Reads a file line by line into one buffer, handing out views: no string
// per line (std::getline copied each ~1.5 KB Windows line once more before
// LineInput copied it into the batch).
//
// A line longer than max_line_bytes is skipped, not read whole: its bytes
// are dropped as they come, so the buffer stays within about twice the
// bound (or 1 MiB) however long a hostile file's line is; the skipped lines
// are counted and the first one's number kept for the caller to report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace gsoc::ctl {

class LineReader {
 public:
  explicit LineReader(size_t max_line_bytes = std::numeric_limits<size_t>::max())
      : max_line_bytes_(max_line_bytes) {}
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // False when the file cannot be opened (errno set).
  bool Open(const std::string& path);
  // The next line without its '\n' (a last line without one too), valid
  // until the next call; false at the end of the file or on a read error
  // (error() tells). Lines longer than max_line_bytes are passed over.
  bool Next(std::string_view* line);
  bool error() const { return error_; }
  // Lines passed over for their length, and the (1-based) number of the
  // first of them (0: none).
  uint64_t too_long() const { return too_long_; }
  uint64_t first_too_long_line() const { return first_too_long_line_; }
  // The buffer's size: what the reader holds, however long the lines.
  size_t buffer_bytes() const { return buffer_.size(); }

 private:
  bool Fill();  // reads more after the unread bytes; false when none came
  // Counts the line just passed over (line_number_ is its number).
  void SkipTooLong();
  // Hands out [begin_, end) as the next line if it is not too long; in
  // either case the unread bytes start at `next`.
  bool Take(size_t end, size_t next, std::string_view* line);

  const size_t max_line_bytes_;
  int fd_ = -1;
  std::vector<char> buffer_ = std::vector<char>(size_t{1} << 20);
  size_t begin_ = 0, end_ = 0;  // the unread bytes
  bool eof_ = false, error_ = false;
  bool skipping_ = false;  // dropping the rest of a line too long
  uint64_t line_number_ = 0, too_long_ = 0, first_too_long_line_ = 0;
};

}  // namespace gsoc::ctl
