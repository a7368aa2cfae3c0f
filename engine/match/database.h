// Hyperscan databases (private to engine/match): build one database from a
// list of patterns, and the on-disk cache of a whole rule set's databases.
//
// Cache file: <cache_dir>/<16 hex digits>.hsdb, the digits being FNV-1a 64
// over a canonical text of every database (kind, field, ids, flags,
// expressions) and hs_version(). Layout (little-endian, host order):
//   "GSOCHSDB1\n"  u32 database_count  { u64 size  bytes[size] }*
// each blob being hs_serialize_database output, in the order of the specs.
// A file that is short, has the wrong count or a blob that does not
// deserialize is ignored (the caller compiles). Written to a temporary file
// and renamed, so readers never see a partial file.
//
// Bounded: each rule set leaves one file (a SOC that edits and reloads its
// rules daily would otherwise fill the disk, 8-19 MB a SigmaHQ-sized set),
// so a save keeps only the kKeptCacheFiles most recently written or used
// .hsdb files of the directory (a load marks its file used). A process
// whose file another one removed just compiles again.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

struct hs_database;

namespace gsoc::match::internal {

struct HsPatternSpec {
  uint32_t id = 0;
  std::string expression;  // regex, or raw bytes for a literal database
  unsigned flags = 0;
};

struct DatabaseSpec {
  uint32_t field = 0;    // index into the matcher's field table
  bool literal = false;  // hs_compile_lit_multi
  std::vector<HsPatternSpec> patterns;
};

struct HsDatabaseDeleter {
  void operator()(hs_database* db) const;
};
using HsDatabase = std::unique_ptr<hs_database, HsDatabaseDeleter>;

// Null with `error` set on failure; `failed_pattern` is the index in
// spec.patterns of the offending pattern, or -1.
HsDatabase CompileDatabase(const DatabaseSpec& spec, std::string* error, int* failed_pattern);

uint64_t HashDatabaseSpecs(const std::vector<DatabaseSpec>& specs);
std::filesystem::path CacheFile(const std::filesystem::path& dir, uint64_t hash);

inline constexpr size_t kKeptCacheFiles = 8;

// True with one database per spec on success (the file is then marked used).
bool LoadCachedDatabases(const std::filesystem::path& file, size_t expected,
                         std::vector<HsDatabase>* out);
// Best effort: false (nothing thrown) when the file cannot be written.
// Then prunes the directory to kKeptCacheFiles .hsdb files.
bool SaveCachedDatabases(const std::filesystem::path& file, const std::vector<HsDatabase>& dbs);

}  // namespace gsoc::match::internal
