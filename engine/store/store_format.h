// Private to the store: the byte layout of keys and records (the whole
// picture: engine/store/README.md "Key layout"). Pure functions, no RocksDB types.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "engine/alert/alert.h"
#include "engine/util/wire_format.h"

namespace gsoc::store::format {

// Record 1 had no commit time; 2 adds it (retention goes by it); 3 keeps the
// alert as its binary detail (engine/alert/alert_codec.h) instead of its
// JSON, which is rendered when read. A store of format 1 or 2 is upgraded
// to 3 at open: its old records are read as they are (then only this gsoc
// and later open it).
//
// The store's format (meta "format_version") is the record's version, but
// for 4: records 3 with the indexes as per-batch postings (store_postings.h)
// instead of one entry per alert. A store of format 3 is upgraded to 4 at
// open: its entries are one-id postings (then only this gsoc and later open
// it; an older one refuses the unknown version).
constexpr uint8_t kRecordVersion = 3;
constexpr uint8_t kRecordVersionJson = 2;
constexpr uint8_t kRecordVersionNoCommitTime = 1;
constexpr uint64_t kFormatVersion = 4;
constexpr uint64_t kFormatVersionPerAlertIndex = 3;
constexpr uint64_t kFormatVersionJson = 2;
constexpr uint64_t kFormatVersionNoCommitTime = 1;

inline std::string IdKey(uint64_t id) {
  std::string key;
  wire::PutBigEndian64(key, id);
  return key;
}

// Key of by_rule / by_agency: name + '\0' + BE id. The prefix is name + '\0'.
inline std::string NamePrefix(std::string_view name) {
  std::string prefix(name);
  prefix.push_back('\0');
  return prefix;
}
inline std::string NameKey(std::string_view name, uint64_t id) {
  std::string key = NamePrefix(name);
  wire::PutBigEndian64(key, id);
  return key;
}

// Key of by_level: one byte level + BE id.
inline std::string LevelPrefix(rules::Level level) {
  return std::string(1, static_cast<char>(level));
}
inline std::string LevelKey(rules::Level level, uint64_t id) {
  std::string key = LevelPrefix(level);
  wire::PutBigEndian64(key, id);
  return key;
}

// Signed time made to sort as unsigned bytes.
inline uint64_t OffsetTime(int64_t time_ns) {
  return static_cast<uint64_t>(time_ns) ^ (uint64_t{1} << 63);
}
// Key of by_time: BE offset time + BE id.
inline std::string TimeKey(int64_t time_ns, uint64_t id) {
  std::string key;
  wire::PutBigEndian64(key, OffsetTime(time_ns));
  wire::PutBigEndian64(key, id);
  return key;
}

// Age summary of a block of ids (retention by age without a per-alert time
// index): meta key "time_block:" + BE block (block = id >> kTimeBlockBits) ->
// BE offset time min + BE offset time max of the retention times (commit
// times; a record 1 has only its alert time) of the alerts written to the block.
constexpr int kTimeBlockBits = 12;  // 4096 ids per block
constexpr uint64_t kTimeBlockIds = uint64_t{1} << kTimeBlockBits;
constexpr std::string_view kTimeBlockPrefix = "time_block:";
inline std::string TimeBlockKey(uint64_t block) {
  std::string key(kTimeBlockPrefix);
  wire::PutBigEndian64(key, block);
  return key;
}
inline std::string TimeBlockValue(int64_t min_ns, int64_t max_ns) {
  std::string value;
  wire::PutBigEndian64(value, OffsetTime(min_ns));
  wire::PutBigEndian64(value, OffsetTime(max_ns));
  return value;
}
inline int64_t TimeFromOffset(uint64_t offset) {
  return static_cast<int64_t>(offset ^ (uint64_t{1} << 63));
}
// false when `value` is not 16 bytes.
inline bool DecodeTimeBlockValue(std::string_view value, int64_t* min_ns, int64_t* max_ns) {
  if (value.size() != 16) return false;
  *min_ns = TimeFromOffset(wire::GetBigEndian64(value));
  *max_ns = TimeFromOffset(wire::GetBigEndian64(value.substr(8)));
  return true;
}

// Appending forms of the index keys (the writer reuses one buffer).
inline void AppendNameKey(std::string& out, std::string_view name, uint64_t id) {
  out.append(name);
  out.push_back('\0');
  wire::PutBigEndian64(out, id);
}
inline void AppendLevelKey(std::string& out, rules::Level level, uint64_t id) {
  out.push_back(static_cast<char>(level));
  wire::PutBigEndian64(out, id);
}

// The id at the end of any index key (its last 8 bytes).
inline uint64_t IdFromIndexKey(std::string_view key) {
  return key.size() < 8 ? 0 : wire::GetBigEndian64(key.substr(key.size() - 8));
}

// A decoded record whose strings point into the stored bytes.
struct RecordView {
  int64_t time_ns = 0;
  int64_t commit_ns = 0;  // when the store committed it (record 1: its time_ns)
  rules::Level level = rules::Level::kMedium;
  AlertKind kind = AlertKind::kDetection;
  std::string_view rule_id;
  std::string_view rule_name;
  std::string_view agency;
  // The rest of the record: the alert's binary detail (record 3), or its
  // JSON (records 1 and 2).
  std::string_view body;
  bool body_is_json = false;
};

inline void AppendString32(std::string& out, std::string_view text) {
  const auto size = static_cast<uint32_t>(text.size());
  char bytes[4];
  std::memcpy(bytes, &size, 4);  // little-endian hosts only (x86-64, arm64)
  out.append(bytes, 4);
  out.append(text);
}

// Record (value of the alerts CF), version 3:
//   u8 3 | i64 time_ns | i64 commit_ns | u8 level | u8 kind |
//   u32 len + rule_id | u32 len + rule_name | u32 len + agency |
//   alert detail (alert_codec.h, to the end)
// Version 2 (read only) has the alert's JSON in place of the detail;
// version 1 (read only) is version 2 without commit_ns.
// The record's head (the body follows it to the end).
inline void EncodeRecordHead(std::string& out, const RecordView& record) {
  out.push_back(static_cast<char>(kRecordVersion));
  char time[8];
  std::memcpy(time, &record.time_ns, 8);
  out.append(time, 8);
  std::memcpy(time, &record.commit_ns, 8);
  out.append(time, 8);
  out.push_back(static_cast<char>(record.level));
  out.push_back(static_cast<char>(record.kind));
  AppendString32(out, record.rule_id);
  AppendString32(out, record.rule_name);
  AppendString32(out, record.agency);
}
inline void EncodeRecord(std::string& out, const RecordView& record) {
  out.reserve(out.size() + 31 + record.rule_id.size() + record.rule_name.size() +
              record.agency.size() + record.body.size());
  EncodeRecordHead(out, record);
  out.append(record.body);
}

inline bool ReadString32(std::string_view& in, std::string_view* text) {
  if (in.size() < 4) return false;
  uint32_t size = 0;
  std::memcpy(&size, in.data(), 4);
  in.remove_prefix(4);
  if (in.size() < size) return false;
  *text = in.substr(0, size);
  in.remove_prefix(size);
  return true;
}

inline bool DecodeRecord(std::string_view in, RecordView* record) {
  if (in.empty()) return false;
  const auto version = static_cast<uint8_t>(in[0]);
  if (version != kRecordVersion && version != kRecordVersionJson &&
      version != kRecordVersionNoCommitTime) {
    return false;
  }
  const size_t times = version == kRecordVersionNoCommitTime ? 8 : 16;
  if (in.size() < 3 + times) return false;
  std::memcpy(&record->time_ns, in.data() + 1, 8);
  if (version != kRecordVersionNoCommitTime) {
    std::memcpy(&record->commit_ns, in.data() + 9, 8);
  } else {
    record->commit_ns = record->time_ns;
  }
  in.remove_prefix(1 + times);
  const auto level = static_cast<uint8_t>(in[0]);
  const auto kind = static_cast<uint8_t>(in[1]);
  if (level > static_cast<uint8_t>(rules::Level::kCritical) ||
      kind > static_cast<uint8_t>(AlertKind::kCorrelation)) {
    return false;
  }
  record->level = static_cast<rules::Level>(level);
  record->kind = static_cast<AlertKind>(kind);
  in.remove_prefix(2);
  if (!ReadString32(in, &record->rule_id) || !ReadString32(in, &record->rule_name) ||
      !ReadString32(in, &record->agency)) {
    return false;
  }
  record->body = in;
  record->body_is_json = version != kRecordVersion;
  return true;
}

}  // namespace gsoc::store::format
