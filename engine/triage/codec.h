// Private to gsoc_triage: the byte layout of keys and records in triage.db
// (engine/triage/README.md "Layout"). Records are little-endian fixed
// integers and length-prefixed strings; a record that does not decode is
// reported as corrupt, never read past its end.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "engine/util/wire_format.h"

namespace gsoc::triage::codec {

// Key prefixes (one byte).
constexpr char kState = 'T';       // T id            -> state record
constexpr char kHistory = 'H';     // H id version    -> history record
constexpr char kByStatus = 'S';    // S status id     -> ""
constexpr char kByAssignee = 'A';  // A name \0 id  -> ""
constexpr char kCase = 'C';        // C case id       -> case record
constexpr char kAlertCase = 'K';   // K alert id case id -> ""
constexpr char kAutoOpen = 'O';    // O rule \0 agency \0 value -> case id, last alert time
constexpr char kLog = 'L';         // L position seq  -> change log entry (stream resume)
constexpr std::string_view kNextCaseKey = "M/next_case";
constexpr std::string_view kLogDroppedKey =
    "M/log_dropped";  // -> position, seq of the last dropped

inline std::string StateKey(uint64_t id) {
  std::string key(1, kState);
  wire::PutBigEndian64(key, id);
  return key;
}
inline std::string HistoryPrefix(uint64_t id) {
  std::string key(1, kHistory);
  wire::PutBigEndian64(key, id);
  return key;
}
inline std::string HistoryKey(uint64_t id, uint64_t version) {
  std::string key = HistoryPrefix(id);
  wire::PutBigEndian64(key, version);
  return key;
}
inline std::string StatusPrefix(uint8_t status) { return std::string{kByStatus, char(status)}; }
inline std::string StatusKey(uint8_t status, uint64_t id) {
  std::string key = StatusPrefix(status);
  wire::PutBigEndian64(key, id);
  return key;
}
inline std::string AssigneePrefix(std::string_view name) {
  std::string key(1, kByAssignee);
  key.append(name);
  key.push_back('\0');
  return key;
}
inline std::string AssigneeKey(std::string_view name, uint64_t id) {
  std::string key = AssigneePrefix(name);
  wire::PutBigEndian64(key, id);
  return key;
}
inline std::string LogKey(uint64_t position, uint64_t seq) {
  std::string key(1, kLog);
  wire::PutBigEndian64(key, position);
  wire::PutBigEndian64(key, seq);
  return key;
}

inline std::string CaseKey(uint64_t id) {
  std::string key(1, kCase);
  wire::PutBigEndian64(key, id);
  return key;
}
inline std::string AlertCasePrefix(uint64_t alert_id) {
  std::string key(1, kAlertCase);
  wire::PutBigEndian64(key, alert_id);
  return key;
}
inline std::string AlertCaseKey(uint64_t alert_id, uint64_t case_id) {
  std::string key = AlertCasePrefix(alert_id);
  wire::PutBigEndian64(key, case_id);
  return key;
}
inline std::string AutoOpenKey(std::string_view rule, std::string_view agency,
                               std::string_view value) {
  std::string key(1, kAutoOpen);
  ((((key += rule) += '\0') += agency) += '\0') += value;
  return key;
}

class Writer {
 public:
  void U8(uint8_t value) { out_.push_back(static_cast<char>(value)); }
  void U64(uint64_t value) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>(value >> (8 * i)));
  }
  void I64(int64_t value) { U64(static_cast<uint64_t>(value)); }
  void Str(std::string_view text) {
    U64(text.size());
    out_.append(text);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads until the first failure; ok() tells whether everything was there.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  uint8_t U8() {
    if (!Need(1)) return 0;
    const uint8_t value = static_cast<unsigned char>(in_[0]);
    in_.remove_prefix(1);
    return value;
  }
  uint64_t U64() {
    if (!Need(8)) return 0;
    uint64_t value = 0;
    for (int i = 7; i >= 0; --i) value = value << 8 | static_cast<unsigned char>(in_[i]);
    in_.remove_prefix(8);
    return value;
  }
  int64_t I64() { return static_cast<int64_t>(U64()); }
  std::string Str() {
    const uint64_t size = U64();
    if (!Need(size)) return {};
    std::string text(in_.substr(0, size));
    in_.remove_prefix(size);
    return text;
  }
  bool ok() const { return ok_; }

 private:
  bool Need(uint64_t size) {
    if (ok_ && size <= in_.size()) return true;
    ok_ = false;
    return false;
  }
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace gsoc::triage::codec
