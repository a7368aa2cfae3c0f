// Reads a file line by line into one buffer, handing out views: no string
// per line (std::getline copied each ~1.5 KB Windows line once more before
// LineInput copied it into the batch).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gsoc::ctl {

class LineReader {
 public:
  LineReader() = default;
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // False when the file cannot be opened (errno set).
  bool Open(const std::string& path);
  // The next line without its '\n' (a last line without one too), valid
  // until the next call; false at the end of the file or on a read error
  // (error() tells).
  bool Next(std::string_view* line);
  bool error() const { return error_; }

 private:
  bool Fill();  // reads more after the unread bytes; false when none came

  int fd_ = -1;
  std::vector<char> buffer_ = std::vector<char>(size_t{1} << 20);
  size_t begin_ = 0, end_ = 0;  // the unread bytes
  bool eof_ = false, error_ = false;
};

}  // namespace gsoc::ctl
