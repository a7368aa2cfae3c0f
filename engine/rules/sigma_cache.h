// The Sigma parse cache (private to LoadSigma): each rule file's LoadResult
// kept on disk, so that a load whose files did not change reads them back
// instead of parsing their YAML (yaml-cpp was ~70% of loading SigmaHQ's
// 3,700 files from the Hyperscan cache: 0.4 of 0.7 s).
//
// One file per build and set of inputs: <cache_dir>/sigma-<16 hex>.cache,
// the digits being FNV-1a 64 over the GNU build ID of the code (BuildId():
// the loader may have changed; gsocd and gsocctl sharing a cache_dir keep
// a file each), the rule paths as given and every LoadOptions member the
// results depend on (indicator list names, the logsource map's
// ResolveDigest, statuses, min_level). Writing one removes all but the
// kKeptFiles most recently written or used (a load that reads everything
// back marks its file used). Inside, an entry per rule file, keyed
// by its path and the SHA-256 of its bytes: an edited file misses and is
// parsed again, the others are read back. A file whose result holds a
// correlation document (a YAML node, for the correlation loader) is not
// kept: it is parsed every time.
//
// Layout (wire_format.h primitives):
//   "GSOCSIGMA1\n"  text build_id  fixed64 inputs  varint count
//   { text path  bytes[32] sha256  text result }*  bytes[32] sha256-of-all-before
// build_id and inputs repeat what the name digests: a file whose header
// says another build or other inputs reads as empty and is replaced. So
// does a file that is damaged in any way (the trailing digest), larger than
// kMaxCacheBytes, or that does not decode. Written to a temporary file and
// renamed, so a reader never sees a partial file; best effort (a cache that
// cannot be written is a slower next load, not an error).
//
// Threading: Find is const and may run on every loading thread at once;
// construction and Save run on the caller's.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/rules/sigma_loader.h"

namespace gsoc::rules::internal {

using FileDigest = std::array<uint8_t, 32>;  // SHA-256
FileDigest DigestOf(std::string_view bytes);

// A rule file's result as the cache keeps it: what one LoadText gave, and
// whether the file could be read at all (unreadable files are not kept).
struct CachedFile {
  std::string path;
  FileDigest digest{};
  bool readable = false;
  bool found = false;  // read back from the cache, not parsed
};

// Whether a file's result can be kept: not one with correlation documents.
bool Cacheable(const LoadResult& part);

// The result encoding (exposed for tests): Decode gives back what Encode
// was given, or false on any damage.
void EncodeLoadResult(std::string& out, const LoadResult& part);
bool DecodeLoadResult(std::string_view in, LoadResult* part);

class SigmaParseCache {
 public:
  static constexpr uint64_t kMaxCacheBytes = uint64_t{256} << 20;
  static constexpr size_t kKeptFiles = 8;

  // Reads the cache of these inputs from `dir`; an empty `dir`, or a build
  // without a build ID, disables the cache (Find finds nothing, Save saves
  // nothing).
  SigmaParseCache(const std::filesystem::path& dir, const std::vector<std::filesystem::path>& paths,
                  const LoadOptions& options);

  bool enabled() const { return !file_.empty(); }
  const std::filesystem::path& file() const { return file_; }
  size_t entries() const { return entries_.size(); }

  // The kept result of `path` when its bytes had `digest`.
  bool Find(const std::string& path, const FileDigest& digest, LoadResult* part) const;

  // Replaces the cache file with the results of this load when they differ
  // from what it holds (a file parsed that could have been kept, or an
  // entry no longer used). `files` and `parts` are parallel.
  void Save(const std::vector<CachedFile>& files, const std::vector<LoadResult>& parts) const;

 private:
  struct Entry {
    FileDigest digest{};
    std::string_view result;  // into bytes_
  };
  void Read();

  uint64_t inputs_ = 0;  // InputsDigest: the file's name, and in its header
  std::filesystem::path file_;
  std::string bytes_;
  std::unordered_map<std::string, Entry> entries_;  // by path
};

}  // namespace gsoc::rules::internal
