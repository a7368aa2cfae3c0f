#include "engine/match/database.h"

#include <hs/hs.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "engine/util/hash.h"
#include "engine/util/regular_file.h"

namespace gsoc::match::internal {

namespace {

constexpr char kMagic[] = "GSOCHSDB1\n";
constexpr size_t kMagicSize = sizeof(kMagic) - 1;

struct SpecsDigest {
  uint64_t hash = kFnv1aOffset;
  void Add(const void* data, size_t size) {
    hash = Fnv1a(std::string_view(static_cast<const char*>(data), size), hash);
  }
  void Add(const std::string& text) {
    uint64_t size = text.size();
    Add(&size, sizeof(size));
    Add(text.data(), text.size());
  }
  void Add(uint64_t value) { Add(&value, sizeof(value)); }
};

// Removes all but the kKeptCacheFiles most recently written or used .hsdb
// files of `dir`; nothing else there (the Sigma parse cache prunes its own).
void PruneCacheDir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::vector<std::pair<std::filesystem::file_time_type, std::filesystem::path>> files;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".hsdb" && it->is_regular_file(ec))
      files.emplace_back(it->last_write_time(ec), it->path());
  }
  if (files.size() <= kKeptCacheFiles) return;
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a > b; });
  for (size_t i = kKeptCacheFiles; i < files.size(); ++i)
    std::filesystem::remove(files[i].second, ec);
}

}  // namespace

void HsDatabaseDeleter::operator()(hs_database_t* db) const { hs_free_database(db); }

HsDatabase CompileDatabase(const DatabaseSpec& spec, std::string* error, int* failed_pattern) {
  *failed_pattern = -1;
  std::vector<const char*> expressions;
  std::vector<size_t> lengths;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
  for (const HsPatternSpec& pattern : spec.patterns) {
    expressions.push_back(pattern.expression.c_str());
    lengths.push_back(pattern.expression.size());
    flags.push_back(pattern.flags);
    ids.push_back(pattern.id);
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* compile_error = nullptr;
  hs_error_t rc;
  auto count = static_cast<unsigned>(spec.patterns.size());
  if (spec.literal) {
    rc = hs_compile_lit_multi(expressions.data(), flags.data(), ids.data(), lengths.data(), count,
                              HS_MODE_BLOCK, nullptr, &db, &compile_error);
  } else {
    rc = hs_compile_multi(expressions.data(), flags.data(), ids.data(), count, HS_MODE_BLOCK,
                          nullptr, &db, &compile_error);
  }
  if (rc != HS_SUCCESS) {
    if (compile_error != nullptr) {
      *error = compile_error->message;
      *failed_pattern = compile_error->expression;
      hs_free_compile_error(compile_error);
    } else {
      *error = "hyperscan error " + std::to_string(rc);
    }
    return nullptr;
  }
  return HsDatabase(db);
}

uint64_t HashDatabaseSpecs(const std::vector<DatabaseSpec>& specs) {
  SpecsDigest fnv;
  fnv.Add(std::string(hs_version()));
  fnv.Add(specs.size());
  for (const DatabaseSpec& spec : specs) {
    fnv.Add(spec.field);
    fnv.Add(spec.literal ? 1 : 0);
    fnv.Add(spec.patterns.size());
    for (const HsPatternSpec& pattern : spec.patterns) {
      fnv.Add(pattern.id);
      fnv.Add(pattern.flags);
      fnv.Add(pattern.expression);
    }
  }
  return fnv.hash;
}

std::filesystem::path CacheFile(const std::filesystem::path& dir, uint64_t hash) {
  char name[32];
  std::snprintf(name, sizeof(name), "%016llx.hsdb", static_cast<unsigned long long>(hash));
  return dir / name;
}

// SigmaHQ's whole corpus compiles to 19 MB; rules.limits.max_patterns
// (50,000 by default) keeps a set far below this.
constexpr uint64_t kMaxCacheFileBytes = uint64_t{1} << 30;

bool LoadCachedDatabases(const std::filesystem::path& file, size_t expected,
                         std::vector<HsDatabase>* out) {
  // One read of the whole file (an istreambuf_iterator copy took a byte at a
  // time: ~5% of a load of SigmaHQ's 19 MB of databases), of a regular file
  // only (not a FIFO someone named like a cache file) and bounded.
  std::string data, error;
  if (!ReadRegularFile(file, kMaxCacheFileBytes, &data, &error)) return false;
  if (data.size() < kMagicSize + 4 || data.compare(0, kMagicSize, kMagic) != 0) return false;
  size_t pos = kMagicSize;
  uint32_t count = 0;
  std::memcpy(&count, data.data() + pos, 4);
  pos += 4;
  if (count != expected) return false;
  std::vector<HsDatabase> dbs;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t size = 0;
    if (data.size() - pos < 8) return false;
    std::memcpy(&size, data.data() + pos, 8);
    pos += 8;
    if (data.size() - pos < size) return false;
    hs_database_t* db = nullptr;
    if (hs_deserialize_database(data.data() + pos, size, &db) != HS_SUCCESS) return false;
    dbs.emplace_back(db);
    pos += size;
  }
  if (pos != data.size()) return false;
  *out = std::move(dbs);
  std::error_code ec;  // marked as used, for PruneCacheDir
  std::filesystem::last_write_time(file, std::filesystem::file_time_type::clock::now(), ec);
  return true;
}

bool SaveCachedDatabases(const std::filesystem::path& file, const std::vector<HsDatabase>& dbs) {
  std::string data(kMagic, kMagicSize);
  auto count = static_cast<uint32_t>(dbs.size());
  data.append(reinterpret_cast<const char*>(&count), 4);
  for (const HsDatabase& db : dbs) {
    char* bytes = nullptr;
    size_t size = 0;
    if (hs_serialize_database(db.get(), &bytes, &size) != HS_SUCCESS) return false;
    uint64_t size64 = size;
    data.append(reinterpret_cast<const char*>(&size64), 8);
    data.append(bytes, size);
    std::free(bytes);  // hs_serialize_database uses the misc allocator (malloc)
  }
  if (!WriteFileAtomically(file, data)) return false;
  PruneCacheDir(file.parent_path());
  return true;
}

}  // namespace gsoc::match::internal
