// The primitives of gsoc's binary encodings (the cluster's event, alert and
// hit batches; the alert store's records, engine/alert/alert_codec.h):
// little-endian fixed integers, LEB128 varints (at most 10 bytes),
// zigzag for signed values, length-prefixed bytes. Writing appends to a
// std::string; reading is `WireReader` over untrusted input, whose first
// failure sticks (every later read returns 0 / empty) with a static reason
// and the byte offset where it happened. Header-only: the codecs and their
// fuzz targets share it without a link dependency.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gsoc {

struct CodecError {
  std::string_view reason;  // static text
  size_t offset = 0;        // byte of the input where decoding stopped
};

namespace wire {

inline void PutVarint(std::string& out, uint64_t value) {
  char bytes[10];
  size_t n = 0;
  while (value >= 0x80) {
    bytes[n++] = static_cast<char>(value | 0x80);
    value >>= 7;
  }
  bytes[n++] = static_cast<char>(value);
  out.append(bytes, n);
}

// Reads one varint from the front of `in` and advances past it; false (and
// `in` left as it was) when it is truncated or holds more than 64 bits. For
// parsers of a view that need no WireReader (keys, posting lists).
inline bool ReadVarint(std::string_view& in, uint64_t* value) {
  uint64_t result = 0;
  for (size_t i = 0; i < in.size() && i < 10; ++i) {
    const auto byte = static_cast<uint8_t>(in[i]);
    if (i == 9 && byte > 1) return false;  // beyond 64 bits
    result |= uint64_t{byte & 0x7fu} << (7 * i);
    if ((byte & 0x80) == 0) {
      in.remove_prefix(i + 1);
      *value = result;
      return true;
    }
  }
  return false;
}

// Big-endian: keys that sort by number under a byte-wise comparator
// (RocksDB's default), as the alert store's and triage's ids do.
inline void PutBigEndian64(std::string& out, uint64_t value) {
  char bytes[8];
  for (int i = 7; i >= 0; --i, value >>= 8) bytes[i] = static_cast<char>(value & 0xff);
  out.append(bytes, 8);
}
// The first 8 bytes of `bytes` (the caller checked there are 8).
inline uint64_t GetBigEndian64(std::string_view bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  return value;
}

inline void PutZigzag(std::string& out, int64_t value) {
  PutVarint(out, (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63));
}

inline void PutFixed(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

inline void PutText(std::string& out, std::string_view text) {
  PutVarint(out, text.size());
  out.append(text);
}

class WireReader {
 public:
  explicit WireReader(std::string_view in) : in_(in) {}

  bool ok() const { return error_.reason.empty(); }
  bool at_end() const { return at_ == in_.size(); }
  size_t remaining() const { return in_.size() - at_; }
  size_t offset() const { return at_; }
  const CodecError& error() const { return error_; }

  // Records the first failure; always false (for `return in.Fail(...)`).
  bool Fail(std::string_view reason) {
    if (ok()) error_ = {reason, at_};
    return false;
  }

  uint8_t U8() {
    if (!ok()) return 0;
    if (at_ >= in_.size()) return Fail("truncated"), 0;
    return static_cast<uint8_t>(in_[at_++]);
  }

  uint64_t Fixed(int bytes) {
    if (!ok()) return 0;
    if (remaining() < static_cast<size_t>(bytes)) return Fail("truncated"), 0;
    uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) {
      value |= uint64_t{static_cast<uint8_t>(in_[at_ + i])} << (8 * i);
    }
    at_ += static_cast<size_t>(bytes);
    return value;
  }

  uint64_t Varint() {
    uint64_t value = 0;
    for (int shift = 0; ok(); shift += 7) {
      const uint8_t byte = U8();
      if (!ok()) return 0;
      if (shift == 63) {  // the tenth byte holds bit 63 alone
        if ((byte & 0x7e) != 0) return Fail("varint overflows 64 bits"), 0;
        if ((byte & 0x80) != 0) return Fail("varint longer than 10 bytes"), 0;
      }
      value |= uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80) == 0) return value;
    }
    return 0;
  }

  int64_t Zigzag() {
    const uint64_t v = Varint();
    return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }

  // `n` bytes as a view into the input, or empty with an error when fewer remain.
  std::string_view Bytes(uint64_t n) {
    if (!ok()) return {};
    if (n > remaining()) return Fail("length beyond the message"), std::string_view();
    const std::string_view out = in_.substr(at_, static_cast<size_t>(n));
    at_ += static_cast<size_t>(n);
    return out;
  }

  // A length-prefixed text (PutText).
  std::string_view Text() { return Bytes(Varint()); }
  void Text(std::string& out) {
    const std::string_view text = Text();
    out.assign(text.data(), text.size());
  }

  // A count of items that each take at least `min_bytes`: never more than
  // the input left could hold (so a hostile count allocates nothing), nor
  // `limit` (refused as `too_many`).
  size_t Count(size_t limit, size_t min_bytes, std::string_view too_many) {
    const uint64_t n = Varint();
    if (!ok()) return 0;
    if (n > limit) return Fail(too_many), 0;
    if (n * min_bytes > remaining()) return Fail("count beyond the message"), 0;
    return static_cast<size_t>(n);
  }

 private:
  std::string_view in_;
  size_t at_ = 0;
  CodecError error_;
};

// A batch message: magic:u32 version:u8 flags:u8(=0) count:u32, then
// `count` items read by `read_item(reader, item)`, nothing after. The texts
// name the kind of batch in its refusals.
struct BatchFormat {
  uint32_t magic;
  uint8_t version;
  size_t max_items;
  size_t min_item_bytes;  // no item is shorter (a hostile count allocates nothing)
  std::string_view bad_magic, bad_version, empty, too_many;
};

// How DecodeBatch fills `out`: kFresh, every item made anew (`out` cleared
// first); kReused, the items `out` holds already are overwritten in place,
// keeping their strings' and vectors' capacity, so a caller that decodes
// every message into one vector allocates only when a message needs more
// than the ones before (items beyond the message's count are destroyed).
// With kReused, `read_item` must set every member of the item.
enum class ItemReuse { kFresh, kReused };

template <typename Item, typename ReadItem>
bool DecodeBatch(std::string_view message, const BatchFormat& format, std::vector<Item>& out,
                 CodecError* error, ReadItem&& read_item, ItemReuse reuse = ItemReuse::kFresh) {
  if (reuse == ItemReuse::kFresh) out.clear();
  WireReader in(message);
  if (in.Fixed(4) != format.magic && in.ok()) in.Fail(format.bad_magic);
  if (in.U8() != format.version && in.ok()) in.Fail(format.bad_version);
  if (in.U8() != 0 && in.ok()) in.Fail("reserved flags set");
  const uint64_t count = in.Fixed(4);
  if (in.ok() && count == 0) in.Fail(format.empty);
  if (in.ok() && count > format.max_items) in.Fail(format.too_many);
  if (in.ok() && count * format.min_item_bytes > in.remaining())
    in.Fail("count beyond the message");
  out.resize(in.ok() ? static_cast<size_t>(count) : 0);
  for (size_t i = 0; i < out.size() && in.ok(); ++i) read_item(in, out[i]);
  if (in.ok() && !in.at_end()) in.Fail("trailing bytes");
  if (in.ok()) return true;
  out.clear();
  if (error != nullptr) *error = in.error();
  return false;
}

}  // namespace wire
}  // namespace gsoc
