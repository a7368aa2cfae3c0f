#include "engine/event/byte_arena.h"

#include <algorithm>
#include <cstring>

namespace gsoc {

char* ByteArena::AllocateSlow(size_t n) {
  // Move to the next kept block that is large enough, or add one.
  size_t next = blocks_.empty() ? 0 : current_ + 1;
  while (next < blocks_.size() && blocks_[next].size < n) ++next;
  if (next >= blocks_.size()) {
    Block block;
    block.size = std::max(block_size_, n);
    block.data = std::make_unique<char[]>(block.size);
    blocks_.push_back(std::move(block));
    next = blocks_.size() - 1;
  }
  current_ = next;
  cursor_ = blocks_[next].data.get();
  end_ = cursor_ + blocks_[next].size;
  char* out = cursor_;
  cursor_ += n;
  return out;
}

std::string_view ByteArena::Copy(std::string_view bytes) {
  if (bytes.empty()) return {};
  char* out = Allocate(bytes.size());
  std::memcpy(out, bytes.data(), bytes.size());
  return {out, bytes.size()};
}

std::string_view ByteArena::CopyPadded(std::string_view bytes) {
  char* out = Allocate(bytes.size() + kPadding);
  if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
  std::memset(out + bytes.size(), 0, kPadding);
  return {out, bytes.size()};
}

std::string_view ByteArena::Concat(std::initializer_list<std::string_view> parts) {
  size_t total = 0;
  for (auto part : parts) total += part.size();
  if (total == 0) return {};
  char* out = Allocate(total);
  char* at = out;
  for (auto part : parts) {
    if (!part.empty()) std::memcpy(at, part.data(), part.size());
    at += part.size();
  }
  return {out, total};
}

void ByteArena::Reset() {
  used_total_ = 0;
  current_ = 0;
  if (blocks_.empty()) {
    cursor_ = end_ = nullptr;
    return;
  }
  // Keep at most a few blocks so one huge batch does not pin memory forever.
  if (blocks_.size() > 8) blocks_.resize(8);
  cursor_ = blocks_[0].data.get();
  end_ = cursor_ + blocks_[0].size;
}

}  // namespace gsoc
