// ByteArena: bump allocation in large blocks, so that an event batch copies
// each message once and every view into it stays valid until Reset().
//
// Blocks grow from kFirstBlockSize (each new block as large as all before
// it, up to the block size), so an arena that holds a few small messages
// holds a few KiB, not a whole block. Reset() keeps the blocks the last fill
// used (up to 16 full blocks: 4 MiB by default), so a reused arena
// allocates nothing in the steady state, and frees the rest. New blocks are
// not zeroed: Allocate's bytes are the writer's to fill. Not thread-safe:
// one owner at a time.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace gsoc {

class ByteArena {
 public:
  static constexpr size_t kDefaultBlockSize = 256 * 1024;
  static constexpr size_t kFirstBlockSize = 4 * 1024;
  // Bytes of zeroed, readable padding that CopyPadded leaves after the copy
  // (simdjson needs SIMDJSON_PADDING = 64 after its input).
  static constexpr size_t kPadding = 64;

  explicit ByteArena(size_t block_size = kDefaultBlockSize) : block_size_(block_size) {}

  ByteArena(const ByteArena&) = delete;
  ByteArena& operator=(const ByteArena&) = delete;

  // Returns n writable bytes, stable until Reset().
  char* Allocate(size_t n);
  std::string_view Copy(std::string_view bytes);
  // Copy followed by kPadding zero bytes that are not part of the view.
  std::string_view CopyPadded(std::string_view bytes);
  // Concatenation of parts, e.g. a dotted field name.
  std::string_view Concat(std::initializer_list<std::string_view> parts);
  // Gives back the unused end of the last allocation: `data`, allocated
  // with `allocated` bytes, keeps its first `kept`. For a writer that needs
  // more room than it fills (an unescaper). No effect on an earlier one.
  void ShrinkLast(char* data, size_t allocated, size_t kept);

  void Reset();
  // Bytes the next allocations may take from the current block without a
  // new one.
  size_t room() const { return static_cast<size_t>(end_ - cursor_); }
  size_t bytes_used() const { return used_total_; }
  // The bytes of the blocks the arena holds (used or not): its real memory.
  size_t bytes_reserved() const { return reserved_; }

 private:
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size = 0;
  };
  char* AllocateSlow(size_t n);

  size_t block_size_;
  std::vector<Block> blocks_;
  size_t current_ = 0;  // index of the block being filled
  char* cursor_ = nullptr;
  char* end_ = nullptr;
  size_t used_total_ = 0;
  size_t reserved_ = 0;  // sum of blocks_[i].size
};

inline char* ByteArena::Allocate(size_t n) {
  used_total_ += n;
  if (static_cast<size_t>(end_ - cursor_) >= n) {
    char* out = cursor_;
    cursor_ += n;
    return out;
  }
  return AllocateSlow(n);
}

inline void ByteArena::ShrinkLast(char* data, size_t allocated, size_t kept) {
  if (kept > allocated || data + allocated != cursor_) return;
  cursor_ = data + kept;
  used_total_ -= allocated - kept;
}

}  // namespace gsoc
