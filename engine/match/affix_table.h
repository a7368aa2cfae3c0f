// AffixTable: the anchored literals of one scan (`startswith`, `endswith`
// and `equals` values without wildcards), found by walking the value
// through two tries instead of by Hyperscan.
//
// Why: SigmaHQ's Windows rules are mostly such values on short fields
// (`Image|endswith: '\rundll32.exe'`, `TargetObject|startswith: ...`): 70-90%
// of the patterns of the hot scans (ImageLoaded, SourceImage, Image, ...).
// Compiled as `^literal` / `literal\z` they made Hyperscan's databases
// large, and a scan of a 30-byte path cost ~1,000-1,500 cycles. A walk costs
// a few cycles per byte of the longest matching affix, and stops at the
// first byte no literal continues with.
//
// Same answers as Hyperscan: a caseless literal compares ASCII letters
// case-insensitively and every other byte exactly (HS_FLAG_CASELESS without
// UTF-8 mode), a cased one byte for byte; a prefix must start the value, a
// suffix end it, a whole literal be the value.
//
// Ownership and threading: built once at compile, read-only afterwards;
// Find may run on any number of threads at once. Memory, also while
// building: linear in the literals' bytes (a node where a literal ends or
// two part, the bytes between them one label).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/util/ascii.h"

namespace gsoc::match::internal {

class AffixTable {
 public:
  enum class Kind : uint8_t { kPrefix, kSuffix, kWhole };
  struct Entry {
    Kind kind = Kind::kPrefix;
    std::string text;  // as written (unescaped)
    bool cased = false;
    uint32_t pattern = 0;
  };
  // Longer literals stay in Hyperscan: a walk is bounded by this depth.
  static constexpr size_t kMaxLength = 256;
  static_assert(kMaxLength < 0x10000, "a node's label length is packed in 16 bits");

  // Entries' texts are at most kMaxLength bytes.
  void Build(std::vector<Entry> entries);
  bool empty() const { return entries_.empty(); }

  // Calls found(pattern id) once for every literal `value` has as its
  // prefix, suffix or whole value.
  template <typename Found>
  void Find(std::string_view value, Found&& found) const {
    Walk(forward_first_, value, /*backward=*/false, found);
    Walk(backward_first_, value, /*backward=*/true, found);
  }

 private:
  // A compressed trie: a node's label is the bytes after the edge byte
  // that leads to it (single-child, literal-free chains folded into one
  // node: "\\windows\\system32\\" is one compare loop, not 19 hops).
  //
  // Packed into one array of words, each node's parts side by side, so a
  // step of the walk reads one or two cache lines, not one in each of
  // several arrays (the walk was bound by those misses: ~7% of a SigmaHQ
  // corpus replay). A node at offset o:
  //   blob_[o]      label length | edge count << 16
  //   blob_[o + 1]  hit count
  //   the label's bytes (walk order, folded), padded to a word;
  //   the hits, two words each: pattern id, entry << 2 | whole << 1 | cased;
  //   the edge bytes (ascending), padded to a word;
  //   the children's offsets, one word per edge.
  static constexpr uint32_t kHitWhole = 2, kHitCased = 1;
  static unsigned char Fold(char c) { return static_cast<unsigned char>(AsciiLowerChar(c)); }
  static size_t Words(size_t bytes) { return (bytes + 3) / 4; }
  bool Matches(const Entry& entry, std::string_view value) const;
  struct Key {
    std::string text;  // folded, reversed for a suffix
    uint32_t entry = 0;
  };
  struct Builder;
  void Pack(const Builder& trie, std::vector<uint32_t>& first);

  // The first byte through a table (the roots have dozens of edges; deeper
  // nodes one or two), the others through the nodes' edges and labels.
  template <typename Found>
  void Walk(const std::vector<uint32_t>& first, std::string_view value, bool backward,
            Found& found) const {
    const size_t n = value.size();
    if (first.empty() || n == 0) return;
    auto at = [&](size_t depth) { return Fold(value[backward ? n - 1 - depth : depth]); };
    const uint32_t* blob = blob_.data();
    uint32_t node = first[at(0)];
    size_t depth = 1;  // bytes of the value walked
    while (node != kNone) {
      const uint32_t* here = blob + node;
      const size_t label = here[0] & 0xffff;
      const uint32_t edges = here[0] >> 16;
      const uint32_t hit_count = here[1];
      if (label > n - depth) return;
      const auto* label_bytes = reinterpret_cast<const unsigned char*>(here + 2);
      for (size_t k = 0; k < label; ++k) {
        if (at(depth + k) != label_bytes[k]) return;
      }
      depth += label;
      const uint32_t* hits = here + 2 + Words(label);
      for (uint32_t h = 0; h < hit_count; ++h) {
        const uint32_t flags = hits[2 * h + 1];
        if ((flags & kHitWhole) != 0 && depth != n) continue;
        if ((flags & kHitCased) != 0 && !Matches(entries_[flags >> 2], value)) continue;
        found(hits[2 * h]);
      }
      if (depth == n) return;
      const auto* edge_bytes = reinterpret_cast<const unsigned char*>(hits + 2 * hit_count);
      const uint32_t* children = hits + 2 * hit_count + Words(edges);
      const unsigned char byte = at(depth);
      node = kNone;
      for (uint32_t e = 0; e < edges; ++e) {
        if (edge_bytes[e] < byte) continue;
        if (edge_bytes[e] == byte) node = children[e];
        break;
      }
      ++depth;
    }
  }

  static constexpr uint32_t kNone = UINT32_MAX;
  std::vector<Entry> entries_;
  std::vector<uint32_t> blob_;  // the nodes, packed
  // The roots' children by byte (offsets into blob_; empty: no literal).
  std::vector<uint32_t> forward_first_;   // prefixes and whole values
  std::vector<uint32_t> backward_first_;  // suffixes, read from the value's end
};

}  // namespace gsoc::match::internal
