#include "engine/event/byte_arena.h"

#include <algorithm>
#include <cstring>

namespace gsoc {

namespace {
// Reset keeps the blocks of fills up to this many full blocks (4 MiB with
// the default size): a gsocd batch of 1,024 Windows events in NXLog JSON
// takes ~2.3 MiB (the lines and their unescaped values). At 8 (2 MiB) each
// such batch gave back its last blocks and took new ones on its next fill,
// and their zeroing and page faults were ~3% of gsocd's CPU. The pool's and
// the queue's byte bounds count what a batch keeps (pipeline.h).
constexpr size_t kKeptBlocks = 16;
}  // namespace

char* ByteArena::AllocateSlow(size_t n) {
  // Move to the next kept block that is large enough, or add one.
  size_t next = blocks_.empty() ? 0 : current_ + 1;
  while (next < blocks_.size() && blocks_[next].size < n) ++next;
  if (next >= blocks_.size()) {
    Block block;
    // Doubling the total: few blocks for a big fill, little memory for a small one.
    block.size = std::max(n, std::min(block_size_, std::max(kFirstBlockSize, reserved_)));
    block.data = std::make_unique_for_overwrite<char[]>(block.size);  // not zeroed
    reserved_ += block.size;
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
  if (blocks_.empty()) {
    cursor_ = end_ = nullptr;
    return;
  }
  // Keep the blocks the last fill used: up to kKeptBlocks of them, or more
  // while they total at most kKeptBlocks full blocks (so that one huge batch
  // does not pin memory forever); free the others.
  size_t keep = 0;
  size_t kept = 0;
  while (keep <= current_ && keep < blocks_.size() &&
         (keep < kKeptBlocks || kept + blocks_[keep].size <= kKeptBlocks * block_size_)) {
    kept += blocks_[keep++].size;
  }
  for (size_t i = keep; i < blocks_.size(); ++i) reserved_ -= blocks_[i].size;
  blocks_.resize(keep);
  current_ = 0;
  cursor_ = blocks_[0].data.get();
  end_ = cursor_ + blocks_[0].size;
}

}  // namespace gsoc
