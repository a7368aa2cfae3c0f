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

  void Build(std::vector<Entry> entries);
  bool empty() const { return entries_.empty(); }

  // Calls found(pattern id) once for every literal `value` has as its
  // prefix, suffix or whole value.
  template <typename Found>
  void Find(std::string_view value, Found&& found) const {
    if (entries_.empty()) return;
    Walk(forward_root_, value, /*backward=*/false, found);
    Walk(backward_root_, value, /*backward=*/true, found);
  }

 private:
  // A compressed trie: a node's label is the bytes after the edge byte
  // that leads to it (single-child, literal-free chains folded into one
  // node: "\\windows\\system32\\" is one compare loop, not 19 hops).
  struct Node {
    uint32_t edges_begin = 0;  // into bytes_ / children_, sorted by byte
    uint32_t edges_end = 0;
    uint32_t hits_begin = 0;  // into hits_: literals ending at this node
    uint32_t hits_end = 0;
    uint32_t label_begin = 0;  // into labels_, in walk order, folded
    uint32_t label_end = 0;
  };
  static unsigned char Fold(char c) { return static_cast<unsigned char>(AsciiLowerChar(c)); }
  uint32_t Child(const Node& node, unsigned char byte) const {
    for (uint32_t e = node.edges_begin; e < node.edges_end; ++e) {
      if (bytes_[e] == byte) return children_[e];
      if (bytes_[e] > byte) break;
    }
    return kNone;
  }
  bool Matches(const Entry& entry, std::string_view value) const;
  struct Key {
    std::string text;  // folded, reversed for a suffix
    uint32_t entry = 0;
  };
  void BuildNode(const std::vector<Key>& keys, size_t begin, size_t end, size_t depth,
                 uint32_t node);

  // The first byte through a table (the roots have dozens of edges; deeper
  // nodes one or two), the others through the nodes' edges and labels.
  template <typename Found>
  void Walk(uint32_t root, std::string_view value, bool backward, Found& found) const {
    if (root == kNone) return;
    const uint32_t* first = root == forward_root_ ? forward_first_.data() : backward_first_.data();
    const size_t n = value.size();
    auto at = [&](size_t depth) { return Fold(value[backward ? n - 1 - depth : depth]); };
    uint32_t node = kNone;
    size_t depth = 0;  // bytes of the value walked
    while (depth < n) {
      node = depth == 0 ? first[at(0)] : Child(nodes_[node], at(depth));
      if (node == kNone) return;
      ++depth;
      const Node& here = nodes_[node];
      const size_t label = here.label_end - here.label_begin;
      if (label > n - depth) return;
      for (size_t k = 0; k < label; ++k) {
        if (at(depth + k) != labels_[here.label_begin + k]) return;
      }
      depth += label;
      for (uint32_t h = here.hits_begin; h < here.hits_end; ++h) {
        const Entry& entry = entries_[hits_[h]];
        if (entry.kind == Kind::kWhole && depth != n) continue;
        if (entry.cased && !Matches(entry, value)) continue;
        found(entry.pattern);
      }
    }
  }

  static constexpr uint32_t kNone = UINT32_MAX;
  std::vector<Entry> entries_;
  std::vector<Node> nodes_;
  std::vector<unsigned char> bytes_;
  std::vector<uint32_t> children_;
  std::vector<uint32_t> hits_;                            // entry indexes
  std::vector<unsigned char> labels_;                     // the nodes' labels
  uint32_t forward_root_ = kNone;                         // prefixes and whole values
  uint32_t backward_root_ = kNone;                        // suffixes, read from the value's end
  std::vector<uint32_t> forward_first_, backward_first_;  // the roots' children by byte
};

}  // namespace gsoc::match::internal
