// Indicator lists: the attack indicators (IPs, CIDRs, domains, URLs, hashes)
// that rules reference through `|expand` placeholders (%bad_ips%).
//
// A file is one value a line (`#` comments, blank lines ignored) or CSV with
// a header row and a named value column. Up to millions of entries. Lookups
// never loop over entries:
//  - exact values (domains, URLs, hashes, plain strings): a hash set,
//    case-insensitive (values are lower-cased at load);
//  - IPs and CIDRs: a prefix structure (exact IPv4/IPv6 addresses in a hash
//    set, prefixes in per-length hash tables, longest first);
//  - substrings (a listed domain or URL inside a longer text such as a URL
//    or message): one Hyperscan literal database over all domain/URL entries.
//
// Lists come from third parties: only a regular file is read (a FIFO, a
// device or a symlink to one is refused before any read, without waiting),
// and ListLimits bound its size, its entries and their length, checked
// while reading so a hostile file is refused early with bounded memory.
//
// Loading throws std::runtime_error naming file, line and reason. A loaded
// list is immutable: any thread may look up concurrently; substring search
// needs a per-thread Scratch.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

struct hs_scratch;  // <hs/hs.h>: hs_scratch_t

namespace gsoc::indicators {

struct ListSource {
  std::string name;  // placeholder name, without %
  std::filesystem::path file;
  std::string csv_column;  // empty: one value a line; else the CSV column holding values
};

// Bounds on one list (rules.limits); defaults in README.md of this folder.
struct ListLimits {
  uint64_t max_bytes = 128ull << 20;  // file size
  size_t max_entries = 2'000'000;     // values read (duplicates included)
  size_t max_entry_bytes = 8192;      // one value; a line may be 4x that (comments, CSV)
};

class IndicatorList {
 public:
  class Scratch;  // per-thread Hyperscan scratch for ContainsSubstring

  static std::unique_ptr<IndicatorList> Load(const ListSource& source,
                                             const ListLimits& limits = {});
  ~IndicatorList();

  const std::string& name() const;
  size_t size() const;          // entries loaded
  size_t memory_bytes() const;  // approximate resident size of the structures

  // `value` equals an entry (case-insensitive), or is an IP inside a listed
  // IP/CIDR. This is what `field|expand: '%list%'` tests.
  bool Matches(std::string_view value) const;
  // Some listed domain/URL occurs inside `text` (case-insensitive). What
  // `field|contains|expand: '%list%'` and keywords test.
  bool ContainsSubstring(std::string_view text, Scratch& scratch) const;
  std::unique_ptr<Scratch> MakeScratch() const;

 private:
  struct Impl;
  explicit IndicatorList(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Defined here (not only declared) so that callers can destroy the
// std::unique_ptr<Scratch> MakeScratch returns. Owns one Hyperscan scratch;
// one thread at a time. A Scratch made by one list also works with another
// list: ContainsSubstring grows it (hs_alloc_scratch) on first use there.
class IndicatorList::Scratch {
 public:
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

 private:
  friend class IndicatorList;
  Scratch() = default;
  hs_scratch* scratch_ = nullptr;
  const void* validated_for_ = nullptr;  // the database scratch_ was last sized for
};

// The lists of one configuration, by name.
using IndicatorRegistry = std::map<std::string, std::shared_ptr<const IndicatorList>>;

}  // namespace gsoc::indicators
