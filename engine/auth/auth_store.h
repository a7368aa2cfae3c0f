// AuthStore: API tokens (hashed) and the audit log, in their own RocksDB
// (<data_dir>/auth.db, beside alerts.db).
//
// A token is "gsoc_<id>_<secret>": id = 8 random bytes (16 hex, public: it
// names the token in lists, the audit log and revoke), secret = 32 random
// bytes (64 hex). Only SHA-256(secret) is stored; Authenticate looks the id
// up and compares the hash in constant time (CRYPTO_memcmp). The secret is
// returned once, by CreateToken, and never again.
//
// Tokens live in memory too (a map updated on every write, after the write
// reached RocksDB with sync): a revoke is seen by the next Authenticate.
//
// Audit: AppendAudit writes one entry (seq increasing, never reused); the
// oldest entries are deleted beyond audit_max_entries or audit_max_bytes.
//
// Threading: every method is thread-safe (one mutex). Errors: Open throws
// std::runtime_error naming the path and RocksDB's reason (a LOCK held by a
// running gsocd says so); writes that fail return false / throw as stated.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/auth/principal.h"
#include "engine/store/rocks_memory.h"

namespace gsoc::auth {

struct AuthStoreOptions {
  std::filesystem::path path;  // e.g. <data_dir>/auth.db
  size_t audit_max_entries = 100'000;
  uint64_t audit_max_bytes = 32ull << 20;  // encoded entry bytes
  size_t max_tokens = 10'000;
  store::RocksMemory memory;  // gsocd: the alert store's cache and write-buffer budget
};

// Limits on what a token may carry (CreateToken refuses beyond).
inline constexpr size_t kMaxNameBytes = 128;
inline constexpr size_t kMaxAgencies = 64;
inline constexpr size_t kMaxAgencyBytes = 128;
// Bounds of one audit entry's strings (longer ones are cut).
inline constexpr size_t kMaxAuditTargetBytes = 256;
inline constexpr size_t kMaxAuditFieldBytes = 128;

struct TokenInfo {
  std::string token_id;
  std::string name;
  Role role = Role::kViewer;
  std::vector<std::string> agencies;
  int64_t created_ns = 0;
  bool revoked = false;
};

struct CreatedToken {
  TokenInfo info;
  std::string token;  // the bearer token, shown once
};

struct AuditEntry {
  uint64_t seq = 0;  // assigned by AppendAudit
  int64_t time_ns = 0;
  std::string token_id;  // empty: no valid token
  std::string name;
  std::string method;
  std::string route;
  std::string target;  // cut at kMaxAuditTargetBytes
  std::string peer;
  int status = 0;
};

// Why a token request is refused (empty when it is acceptable).
std::string ValidateTokenRequest(Role role, const std::vector<std::string>& agencies,
                                 std::string_view name);

class AuthStore {
 public:
  static std::unique_ptr<AuthStore> Open(const AuthStoreOptions& options);
  virtual ~AuthStore() = default;

  // A new token; throws std::invalid_argument when ValidateTokenRequest
  // refuses it or max_tokens exist, std::runtime_error when it cannot be
  // written.
  virtual CreatedToken CreateToken(Role role, std::vector<std::string> agencies,
                                   std::string name) = 0;
  virtual std::vector<TokenInfo> ListTokens() const = 0;
  // False when no such token. Throws std::runtime_error when the write fails.
  virtual bool Revoke(std::string_view token_id) = 0;
  // The principal of a valid, unrevoked token.
  virtual std::optional<Principal> Authenticate(std::string_view token) const = 0;
  // Whether `token_id` names a token of this store that was revoked (false
  // for unknown ids, e.g. the configured tokens' "config-N").
  virtual bool Revoked(std::string_view token_id) const = 0;

  // Records `entry` (strings cut to their bounds; seq assigned); false when
  // the write failed (logged).
  virtual bool AppendAudit(AuditEntry entry) = 0;
  // Newest first: at most `limit` entries with seq < before.
  virtual std::vector<AuditEntry> ReadAudit(size_t limit, uint64_t before = UINT64_MAX) const = 0;
  virtual size_t audit_entries() const = 0;  // held now (gauge)
  virtual uint64_t audit_bytes() const = 0;  // encoded bytes held now (gauge)

 protected:
  AuthStore() = default;
};

}  // namespace gsoc::auth
