// The RocksDB layout of auth.db (default column family):
//
//   "t" token_id                -> token record
//   "a" seq (8 bytes, big-end.) -> audit record
//
//   token record := u8 version(1) u8 role u8 revoked i64 created_ns
//                   hash[32] str name u8 count str agency{count}
//   audit record := u8 version(1) i64 time_ns u16 status
//                   str token_id str name str method str route str target str peer
//   str := u16 length (big-endian) bytes;  integers big-endian.
#include "engine/auth/auth_store.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <stdexcept>

#include "engine/util/thread_annotations.h"

namespace gsoc::auth {

namespace {

constexpr size_t kIdBytes = 8;
constexpr size_t kSecretBytes = 32;
constexpr std::string_view kTokenPrefix = "gsoc_";
constexpr uint8_t kRecordVersion = 1;
using Hash = std::array<unsigned char, 32>;

std::string Hex(const unsigned char* bytes, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 15]);
  }
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool UnHex(std::string_view text, unsigned char* out, size_t size) {
  if (text.size() != size * 2) return false;
  for (size_t i = 0; i < size; ++i) {
    const int hi = HexDigit(text[2 * i]), lo = HexDigit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return true;
}

void RandomBytes(unsigned char* out, size_t size) {
  if (RAND_bytes(out, static_cast<int>(size)) != 1) {
    throw std::runtime_error("auth: no random bytes (OpenSSL RAND_bytes failed)");
  }
}

Hash Sha256(const unsigned char* data, size_t size) {
  Hash hash{};
  unsigned int length = 0;
  if (EVP_Digest(data, size, hash.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != hash.size()) {
    throw std::runtime_error("auth: SHA-256 failed");
  }
  return hash;
}

// --- encoding ------------------------------------------------------------------

void PutU8(std::string& out, uint8_t v) { out.push_back(static_cast<char>(v)); }
void PutBig(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void PutStr(std::string& out, std::string_view s) {
  const size_t n = std::min<size_t>(s.size(), UINT16_MAX);
  PutBig(out, n, 2);
  out.append(s.data(), n);
}

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool U8(uint8_t& v) {
    if (data_.empty()) return false;
    v = static_cast<uint8_t>(data_[0]);
    data_.remove_prefix(1);
    return true;
  }
  bool Big(uint64_t& v, size_t bytes) {
    if (data_.size() < bytes) return false;
    v = 0;
    for (size_t i = 0; i < bytes; ++i) v = v << 8 | static_cast<uint8_t>(data_[i]);
    data_.remove_prefix(bytes);
    return true;
  }
  bool Bytes(unsigned char* out, size_t size) {
    if (data_.size() < size) return false;
    std::copy_n(data_.data(), size, out);
    data_.remove_prefix(size);
    return true;
  }
  bool Str(std::string& s) {
    uint64_t n = 0;
    if (!Big(n, 2) || data_.size() < n) return false;
    s.assign(data_.data(), n);
    data_.remove_prefix(n);
    return true;
  }
  bool done() const { return data_.empty(); }

 private:
  std::string_view data_;
};

struct TokenRecord {
  TokenInfo info;
  Hash hash{};
};

std::string EncodeToken(const TokenRecord& record) {
  std::string out;
  PutU8(out, kRecordVersion);
  PutU8(out, static_cast<uint8_t>(record.info.role));
  PutU8(out, record.info.revoked ? 1 : 0);
  PutBig(out, static_cast<uint64_t>(record.info.created_ns), 8);
  out.append(reinterpret_cast<const char*>(record.hash.data()), record.hash.size());
  PutStr(out, record.info.name);
  PutU8(out, static_cast<uint8_t>(record.info.agencies.size()));
  for (const std::string& agency : record.info.agencies) PutStr(out, agency);
  return out;
}

bool DecodeToken(std::string_view id, std::string_view value, TokenRecord& record) {
  Reader in(value);
  uint8_t version = 0, role = 0, revoked = 0, count = 0;
  uint64_t created = 0;
  if (!in.U8(version) || version != kRecordVersion || !in.U8(role) ||
      role > static_cast<uint8_t>(Role::kViewer) || !in.U8(revoked) || !in.Big(created, 8) ||
      !in.Bytes(record.hash.data(), record.hash.size()) || !in.Str(record.info.name) ||
      !in.U8(count)) {
    return false;
  }
  record.info.agencies.resize(count);
  for (std::string& agency : record.info.agencies) {
    if (!in.Str(agency)) return false;
  }
  record.info.token_id = std::string(id);
  record.info.role = static_cast<Role>(role);
  record.info.revoked = revoked != 0;
  record.info.created_ns = static_cast<int64_t>(created);
  return in.done();
}

std::string EncodeAudit(const AuditEntry& entry) {
  std::string out;
  PutU8(out, kRecordVersion);
  PutBig(out, static_cast<uint64_t>(entry.time_ns), 8);
  PutBig(out, static_cast<uint64_t>(std::clamp(entry.status, 0, 999)), 2);
  for (const std::string* s :
       {&entry.token_id, &entry.name, &entry.method, &entry.route, &entry.target, &entry.peer}) {
    PutStr(out, *s);
  }
  return out;
}

bool DecodeAudit(uint64_t seq, std::string_view value, AuditEntry& entry) {
  Reader in(value);
  uint8_t version = 0;
  uint64_t time = 0, status = 0;
  if (!in.U8(version) || version != kRecordVersion || !in.Big(time, 8) || !in.Big(status, 2)) {
    return false;
  }
  for (std::string* s :
       {&entry.token_id, &entry.name, &entry.method, &entry.route, &entry.target, &entry.peer}) {
    if (!in.Str(*s)) return false;
  }
  entry.seq = seq;
  entry.time_ns = static_cast<int64_t>(time);
  entry.status = static_cast<int>(status);
  return in.done();
}

std::string AuditKey(uint64_t seq) {
  std::string key = "a";
  PutBig(key, seq, 8);
  return key;
}

void Cut(std::string& s, size_t max) {
  if (s.size() <= max) return;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // whole UTF-8
  s.resize(n);
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool PrintableName(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u != 0x7F;
  });
}

// --- the store ------------------------------------------------------------------

class RocksAuthStore final : public AuthStore {
 public:
  explicit RocksAuthStore(const AuthStoreOptions& options) : options_(options) {
    rocksdb::Options db_options;
    db_options.create_if_missing = true;
    db_options.keep_log_file_num = 2;
    db_options.max_manifest_file_size = 4 << 20;
    db_options.write_buffer_size = 4 << 20;
    options.memory.ApplyTo(db_options);
    std::error_code ignored;
    std::filesystem::create_directories(options.path, ignored);
    rocksdb::DB* db = nullptr;
    const rocksdb::Status status = rocksdb::DB::Open(db_options, options.path.string(), &db);
    if (!status.ok()) {
      const std::string reason = status.ToString();
      const bool locked = reason.find("lock") != std::string::npos ||
                          reason.find("Resource temporarily unavailable") != std::string::npos;
      throw std::runtime_error("auth store " + options.path.string() + ": cannot open: " + reason +
                               (locked ? " (in use: is gsocd running on this data dir?)" : ""));
    }
    db_.reset(db);
    Load();
  }

  ~RocksAuthStore() override {
    if (db_) db_->Close().PermitUncheckedError();
  }

  CreatedToken CreateToken(Role role, std::vector<std::string> agencies,
                           std::string name) override {
    if (std::string why = ValidateTokenRequest(role, agencies, name); !why.empty()) {
      throw std::invalid_argument(why);
    }
    std::sort(agencies.begin(), agencies.end());
    agencies.erase(std::unique(agencies.begin(), agencies.end()), agencies.end());
    unsigned char id[kIdBytes], secret[kSecretBytes];
    RandomBytes(id, sizeof(id));
    RandomBytes(secret, sizeof(secret));
    TokenRecord record;
    record.info = {Hex(id, sizeof(id)), std::move(name), role, std::move(agencies), NowNs(), false};
    record.hash = Sha256(secret, sizeof(secret));
    CreatedToken created{record.info, std::string(kTokenPrefix) + record.info.token_id + "_" +
                                          Hex(secret, sizeof(secret))};
    OPENSSL_cleanse(secret, sizeof(secret));
    MutexLock lock(mutex_);
    if (tokens_.size() >= options_.max_tokens) {
      throw std::invalid_argument("at most " + std::to_string(options_.max_tokens) + " tokens");
    }
    WriteToken(record);
    tokens_[record.info.token_id] = std::move(record);
    return created;
  }

  std::vector<TokenInfo> ListTokens() const override {
    MutexLock lock(mutex_);
    std::vector<TokenInfo> out;
    out.reserve(tokens_.size());
    for (const auto& [id, record] : tokens_) out.push_back(record.info);
    std::sort(out.begin(), out.end(), [](const TokenInfo& a, const TokenInfo& b) {
      return a.created_ns != b.created_ns ? a.created_ns < b.created_ns : a.token_id < b.token_id;
    });
    return out;
  }

  bool Revoke(std::string_view token_id) override {
    MutexLock lock(mutex_);
    const auto it = tokens_.find(std::string(token_id));
    if (it == tokens_.end()) return false;
    if (it->second.info.revoked) return true;
    TokenRecord revoked = it->second;
    revoked.info.revoked = true;
    WriteToken(revoked);  // throws: the map is left as it was
    it->second.info.revoked = true;
    return true;
  }

  std::optional<Principal> Authenticate(std::string_view token) const override {
    if (!token.starts_with(kTokenPrefix)) return std::nullopt;
    token.remove_prefix(kTokenPrefix.size());
    if (token.size() != 2 * kIdBytes + 1 + 2 * kSecretBytes || token[2 * kIdBytes] != '_') {
      return std::nullopt;
    }
    const std::string_view id = token.substr(0, 2 * kIdBytes);
    unsigned char secret[kSecretBytes];
    if (!UnHex(token.substr(2 * kIdBytes + 1), secret, sizeof(secret))) return std::nullopt;
    const Hash hash = Sha256(secret, sizeof(secret));
    OPENSSL_cleanse(secret, sizeof(secret));
    MutexLock lock(mutex_);
    const auto it = tokens_.find(std::string(id));
    if (it == tokens_.end()) return std::nullopt;
    const TokenRecord& record = it->second;
    if (CRYPTO_memcmp(hash.data(), record.hash.data(), hash.size()) != 0 || record.info.revoked) {
      return std::nullopt;
    }
    return Principal{record.info.token_id, record.info.name, record.info.role,
                     record.info.agencies};
  }

  bool Revoked(std::string_view token_id) const override {
    MutexLock lock(mutex_);
    const auto it = tokens_.find(token_id);
    return it != tokens_.end() && it->second.info.revoked;
  }

  bool AppendAudit(AuditEntry entry) override {
    Cut(entry.target, kMaxAuditTargetBytes);
    for (std::string* s :
         {&entry.token_id, &entry.name, &entry.method, &entry.route, &entry.peer}) {
      Cut(*s, kMaxAuditFieldBytes);
    }
    if (entry.time_ns == 0) entry.time_ns = NowNs();
    MutexLock lock(mutex_);
    entry.seq = next_seq_;
    const std::string value = EncodeAudit(entry);
    rocksdb::WriteBatch batch;
    batch.Put(AuditKey(entry.seq), value);
    size_t trim = 0;
    uint64_t bytes = audit_bytes_ + value.size();
    size_t count = audit_.size() + 1;
    while (trim < audit_.size() &&
           (count > options_.audit_max_entries || bytes > options_.audit_max_bytes)) {
      batch.Delete(AuditKey(audit_[trim].first));
      bytes -= audit_[trim].second;
      --count;
      ++trim;
    }
    const rocksdb::Status status = db_->Write(rocksdb::WriteOptions(), &batch);
    if (!status.ok()) {
      spdlog::error("auth store: audit write: {}", status.ToString());
      return false;
    }
    audit_.erase(audit_.begin(), audit_.begin() + static_cast<std::ptrdiff_t>(trim));
    audit_.emplace_back(entry.seq, value.size());
    audit_bytes_ = bytes;
    ++next_seq_;
    return true;
  }

  std::vector<AuditEntry> ReadAudit(size_t limit, uint64_t before) const override {
    std::vector<AuditEntry> out;
    if (limit == 0 || before <= 1) return out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->SeekForPrev(AuditKey(before - 1)); it->Valid() && out.size() < limit; it->Prev()) {
      const std::string_view key = it->key().ToStringView();
      if (key.size() != 9 || key[0] != 'a') break;
      uint64_t seq = 0;
      Reader(key.substr(1)).Big(seq, 8);
      AuditEntry entry;
      if (DecodeAudit(seq, it->value().ToStringView(), entry)) out.push_back(std::move(entry));
    }
    return out;
  }

  size_t audit_entries() const override {
    MutexLock lock(mutex_);
    return audit_.size();
  }
  uint64_t audit_bytes() const override {
    MutexLock lock(mutex_);
    return audit_bytes_;
  }

 private:
  void WriteToken(const TokenRecord& record) GSOC_REQUIRES(mutex_) {
    rocksdb::WriteOptions write;
    write.sync = true;
    const rocksdb::Status status = db_->Put(write, "t" + record.info.token_id, EncodeToken(record));
    if (!status.ok()) throw std::runtime_error("auth store: write token: " + status.ToString());
  }

  void Load() {
    MutexLock lock(mutex_);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek("a"); it->Valid() && it->key().starts_with("a"); it->Next()) {
      uint64_t seq = 0;
      if (it->key().size() != 9) continue;
      Reader(it->key().ToStringView().substr(1)).Big(seq, 8);
      audit_.emplace_back(seq, it->value().size());
      audit_bytes_ += it->value().size();
      next_seq_ = seq + 1;
    }
    for (it->Seek("t"); it->Valid() && it->key().starts_with("t"); it->Next()) {
      const std::string_view id = it->key().ToStringView().substr(1);
      TokenRecord record;
      if (!DecodeToken(id, it->value().ToStringView(), record)) {
        spdlog::warn("auth store: undecodable token record {} (ignored)", id);
        continue;
      }
      tokens_.emplace(std::string(id), std::move(record));
    }
    if (!it->status().ok()) {
      throw std::runtime_error("auth store " + options_.path.string() +
                               ": read: " + it->status().ToString());
    }
  }

  const AuthStoreOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  mutable Mutex mutex_;
  std::map<std::string, TokenRecord, std::less<>> tokens_ GSOC_GUARDED_BY(mutex_);
  std::deque<std::pair<uint64_t, size_t>> audit_ GSOC_GUARDED_BY(mutex_);  // (seq, bytes)
  uint64_t audit_bytes_ GSOC_GUARDED_BY(mutex_) = 0;
  uint64_t next_seq_ GSOC_GUARDED_BY(mutex_) = 1;
};

}  // namespace

std::string ValidateTokenRequest(Role role, const std::vector<std::string>& agencies,
                                 std::string_view name) {
  if (name.empty()) return "a token needs a name";
  if (name.size() > kMaxNameBytes || !PrintableName(name)) {
    return "name: at most " + std::to_string(kMaxNameBytes) + " printable bytes";
  }
  if (role == Role::kAgencyAnalyst && agencies.empty()) {
    return "role agency-analyst needs at least one agency";
  }
  if (role != Role::kAgencyAnalyst && !agencies.empty()) {
    return "only role agency-analyst is bound to agencies (the others see every agency)";
  }
  if (agencies.size() > kMaxAgencies) {
    return "at most " + std::to_string(kMaxAgencies) + " agencies";
  }
  for (const std::string& agency : agencies) {
    if (agency.empty() || agency.size() > kMaxAgencyBytes || !PrintableName(agency)) {
      return "agency: 1 to " + std::to_string(kMaxAgencyBytes) + " printable bytes";
    }
  }
  return {};
}

std::unique_ptr<AuthStore> AuthStore::Open(const AuthStoreOptions& options) {
  return std::make_unique<RocksAuthStore>(options);
}

}  // namespace gsoc::auth
