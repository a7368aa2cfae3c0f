// Reads a file line by line into blocks, handing out views: no string per
// line (std::getline copied each ~1.5 KB Windows line once more before
// LineInput copied it into the batch).
//
// A view stays valid for as long as its block is held (block()): replay's
// reading thread hands the views of a batch's JSON lines to the thread that
// matches the batch, which parses each line where it lies just before it
// matches it, so the bytes go from the kernel's copy to that thread's
// cache once (the reading thread copying them into the batch made them
// cross between the cores twice, and cost it a copy of every line). A
// block is never written again once a line of it was handed out while
// another holder has it: the reader moves on to a new block instead.
//
// Each line is followed in its block by at least LineBlock::kPadding
// readable bytes (the next lines, or zeros), which stay as they are for as
// long as another holder has the block: simdjson parses a line where it
// lies, reading up to that far past its end (LineInput::ParseDeferred).
//
// A line longer than max_line_bytes is skipped, not read whole: its bytes
// are dropped as they come, so a block stays within about twice the bound
// (or 1 MiB) however long a hostile file's line is; the skipped lines are
// counted and the first one's number kept for the caller to report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

namespace gsoc::ctl {

// Bytes read from the file, lines and parts of lines, then kPadding bytes
// that reads never fill.
struct LineBlock {
  static constexpr size_t kPadding = 64;  // ByteArena::kPadding, simdjson's 64
  explicit LineBlock(size_t size) : bytes(new char[size + kPadding]), size(size) {}  // not zeroed
  std::unique_ptr<char[]> bytes;
  size_t size;  // what reads fill
};

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
  // until the next call, or for as long as its block() is held, and
  // followed by LineBlock::kPadding readable bytes (above); false at
  // the end of the file or on a read error (error() tells). Lines longer
  // than max_line_bytes are passed over.
  bool Next(std::string_view* line);
  // The block the line Next gave last lies in.
  const std::shared_ptr<const LineBlock>& block() const { return held_; }
  bool error() const { return error_; }
  // Lines passed over for their length, and the (1-based) number of the
  // first of them (0: none).
  uint64_t too_long() const { return too_long_; }
  uint64_t first_too_long_line() const { return first_too_long_line_; }
  // The current block's size: what the reader holds, however long the lines.
  size_t buffer_bytes() const { return block_->size; }

 private:
  static constexpr size_t kBlockBytes = size_t{1} << 20;

  bool Fill();  // reads more after the unread bytes; false when none came
  // Counts the line just passed over (line_number_ is its number).
  void SkipTooLong();
  // Hands out [begin_, end) as the next line if it is not too long; in
  // either case the unread bytes start at `next`.
  bool Take(size_t end, size_t next, std::string_view* line);

  const size_t max_line_bytes_;
  int fd_ = -1;
  std::shared_ptr<LineBlock> block_ = std::make_shared<LineBlock>(kBlockBytes);
  std::shared_ptr<const LineBlock> held_ = block_;  // block() (as const)
  size_t begin_ = 0, end_ = 0;                      // the unread bytes of block_
  size_t handed_end_ = 0;                           // where the last line handed out ends in block_
  bool eof_ = false, error_ = false;
  bool skipping_ = false;  // dropping the rest of a line too long
  uint64_t line_number_ = 0, too_long_ = 0, first_too_long_line_ = 0;
};

}  // namespace gsoc::ctl
