#include "engine/cluster/alert_identity.h"

#include <string_view>

namespace gsoc {
namespace {

__extension__ using Uint128 = unsigned __int128;

// FNV-1a, 128 bits (offset basis and prime of the FNV specification).
class Fnv128 {
 public:
  void Bytes(std::string_view bytes) {
    for (const char c : bytes) {
      state_ ^= static_cast<unsigned char>(c);
      state_ *= kPrime;
    }
  }
  // Length first: ("ab", "c") and ("a", "bc") differ.
  void Text(std::string_view text) {
    U64(text.size());
    Bytes(text);
  }
  void U64(uint64_t value) {
    char bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
    Bytes(std::string_view(bytes, 8));
  }
  AlertIdentity Digest() const {
    return {static_cast<uint64_t>(state_ >> 64), static_cast<uint64_t>(state_)};
  }

 private:
  static constexpr Uint128 kPrime = (Uint128{1} << 88) | 0x13b;
  Uint128 state_ = (Uint128{0x6c62272e07bb0142ULL} << 64) | 0x62b821756295c58dULL;
};

void AppendHex(std::string& out, uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) out += kDigits[(value >> shift) & 0xf];
}

}  // namespace

std::string AlertIdentity::Text() const {
  std::string text;
  text.reserve(32);
  AppendHex(text, high);
  AppendHex(text, low);
  return text;
}

AlertIdentity ComputeAlertIdentity(const Alert& alert, InputPosition position) {
  Fnv128 hash;
  hash.Text("gsoc.alert.1");  // the identity's version: a change of inputs changes it
  hash.Text(alert.rule.id);
  hash.U64(static_cast<uint64_t>(alert.kind));
  hash.Text(alert.agency);
  hash.U64(alert.group.size());
  for (const auto& [name, value] : alert.group) {
    hash.Text(name);
    hash.Text(value);
  }
  hash.U64(static_cast<uint64_t>(alert.window_start_ns));
  hash.U64(static_cast<uint64_t>(alert.window_end_ns));
  hash.U64(position.stream_sequence);
  hash.U64(position.event_index);
  if (alert.aggregate_key != 0) {  // a version of an aggregate (the others' identities unchanged)
    hash.U64(alert.aggregate_key);
    hash.U64(alert.aggregate_version);
    hash.U64(static_cast<uint64_t>(alert.aggregate_opened_ns));
  }
  return hash.Digest();
}

std::string AlertMessageId(std::span<const AlertIdentity> identities) {
  Fnv128 hash;
  hash.U64(identities.size());
  for (const AlertIdentity& identity : identities) {
    hash.U64(identity.high);
    hash.U64(identity.low);
  }
  return "a-" + hash.Digest().Text();
}

bool IdentityWindow::Insert(const AlertIdentity& identity) {
  if (max_count_ == 0) return true;
  if (!set_.insert(identity).second) return false;
  order_.push_back(identity);
  while (order_.size() > max_count_) {
    set_.erase(order_.front());
    order_.pop_front();
  }
  return true;
}

}  // namespace gsoc
