#include "engine/match/affix_table.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <tuple>
#include <utility>

namespace gsoc::match::internal {

namespace {

// The length of the common prefix of a and b.
size_t CommonPrefix(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

bool AffixTable::Matches(const Entry& entry, std::string_view value) const {
  const size_t length = entry.text.size();
  if (length > value.size()) return false;
  switch (entry.kind) {
    case Kind::kPrefix:
      return value.substr(0, length) == entry.text;
    case Kind::kSuffix:
      return value.substr(value.size() - length) == entry.text;
    case Kind::kWhole:
      return value == entry.text;
  }
  return false;
}

// The trie while it is built: nodes in creation order (a node's children
// side by side), each part in its own array; Pack lays them out in blob_.
struct AffixTable::Builder {
  struct Node {
    uint32_t edges_begin = 0;  // into bytes / first child + i
    uint32_t edges_end = 0;
    uint32_t first_child = 0;
    uint32_t hits_begin = 0;  // into hits: entries ending at this node
    uint32_t hits_end = 0;
    uint32_t label_begin = 0;  // into labels
    uint32_t label_end = 0;
  };
  std::vector<Node> nodes;
  std::vector<unsigned char> bytes;
  std::vector<uint32_t> hits;
  std::vector<unsigned char> labels;

  void BuildNode(const std::vector<Key>& keys, size_t begin, size_t end, size_t depth,
                 uint32_t node);
};

// Built from the sorted keys (folded; a suffix's reversed), so memory is
// linear in the literals' bytes whatever a rule set holds: a node only
// where a literal ends or keys part, a chain between them one label.
void AffixTable::Build(std::vector<Entry> entries) {
  entries_ = std::move(entries);
  blob_.clear();
  forward_first_.clear();
  backward_first_.clear();
  std::vector<Key> keys[2];
  for (uint32_t e = 0; e < entries_.size(); ++e) {
    const Entry& entry = entries_[e];
    const bool reversed = entry.kind == Kind::kSuffix;
    std::string key(entry.text.size(), '\0');
    for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<char>(Fold(entry.text[i]));
    if (reversed) std::reverse(key.begin(), key.end());
    keys[reversed ? 1 : 0].push_back({std::move(key), e});
  }
  for (int side = 0; side < 2; ++side) {
    if (keys[side].empty()) continue;
    std::sort(keys[side].begin(), keys[side].end(), [](const Key& a, const Key& b) {
      return std::tie(a.text, a.entry) < std::tie(b.text, b.entry);
    });
    Builder trie;
    trie.nodes.emplace_back();
    trie.BuildNode(keys[side], 0, keys[side].size(), 0, 0);
    Pack(trie, side == 0 ? forward_first_ : backward_first_);
  }
}

// Appends `trie`'s nodes but its root to blob_ (in creation order: the top
// levels, which every walk reads, stay in few cache lines) and sets
// first[byte] to the root's child on that byte.
void AffixTable::Pack(const Builder& trie, std::vector<uint32_t>& first) {
  std::vector<uint32_t> offset(trie.nodes.size(), kNone);
  size_t at = blob_.size();
  for (size_t i = 1; i < trie.nodes.size(); ++i) {
    const Builder::Node& node = trie.nodes[i];
    const size_t edges = node.edges_end - node.edges_begin;
    offset[i] = static_cast<uint32_t>(at);
    at += 2 + Words(node.label_end - node.label_begin) + 2 * (node.hits_end - node.hits_begin) +
          Words(edges) + edges;
  }
  blob_.resize(at, 0);
  for (size_t i = 1; i < trie.nodes.size(); ++i) {
    const Builder::Node& node = trie.nodes[i];
    const uint32_t label = node.label_end - node.label_begin;
    const uint32_t edges = node.edges_end - node.edges_begin;
    uint32_t* out = blob_.data() + offset[i];
    *out++ = label | edges << 16;
    *out++ = node.hits_end - node.hits_begin;
    if (label != 0) std::memcpy(out, trie.labels.data() + node.label_begin, label);
    out += Words(label);
    for (uint32_t h = node.hits_begin; h < node.hits_end; ++h) {
      const Entry& entry = entries_[trie.hits[h]];
      *out++ = entry.pattern;
      *out++ = trie.hits[h] << 2 | (entry.kind == Kind::kWhole ? kHitWhole : 0) |
               (entry.cased ? kHitCased : 0);
    }
    if (edges != 0) std::memcpy(out, trie.bytes.data() + node.edges_begin, edges);
    out += Words(edges);
    for (uint32_t e = 0; e < edges; ++e) *out++ = offset[node.first_child + e];
  }
  first.assign(256, kNone);
  const Builder::Node& root = trie.nodes[0];
  for (uint32_t e = root.edges_begin; e < root.edges_end; ++e)
    first[trie.bytes[e]] = offset[root.first_child + (e - root.edges_begin)];
}

// keys[begin, end) share their first `depth` bytes; fills nodes[node].
// Recursion depth: at most one level per byte of the longest literal.
void AffixTable::Builder::BuildNode(const std::vector<Key>& keys, size_t begin, size_t end,
                                    size_t depth, uint32_t node) {
  // The keys that end here sort first (a prefix before its extensions).
  size_t i = begin;
  nodes[node].hits_begin = static_cast<uint32_t>(hits.size());
  for (; i < end && keys[i].text.size() == depth; ++i) hits.push_back(keys[i].entry);
  nodes[node].hits_end = static_cast<uint32_t>(hits.size());
  // One edge per next byte; the keys of an edge are contiguous.
  std::vector<std::pair<size_t, size_t>> groups;
  while (i < end) {
    size_t j = i + 1;
    while (j < end && keys[j].text[depth] == keys[i].text[depth]) ++j;
    groups.emplace_back(i, j);
    i = j;
  }
  const auto edges = static_cast<uint32_t>(bytes.size());
  const auto children = static_cast<uint32_t>(nodes.size());
  nodes[node].edges_begin = edges;
  nodes[node].edges_end = edges + static_cast<uint32_t>(groups.size());
  nodes[node].first_child = children;
  bytes.resize(edges + groups.size());
  // The children first, side by side, then their subtrees.
  nodes.resize(children + groups.size());
  std::vector<size_t> shared(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    const auto [first, last] = groups[g];
    // The group's common prefix (sorted: that of its first and last keys)
    // past the edge byte is the child's label.
    shared[g] = CommonPrefix(keys[first].text, keys[last - 1].text);
    Node& child = nodes[children + g];
    child.label_begin = static_cast<uint32_t>(labels.size());
    labels.insert(labels.end(), keys[first].text.begin() + static_cast<std::ptrdiff_t>(depth + 1),
                  keys[first].text.begin() + static_cast<std::ptrdiff_t>(shared[g]));
    child.label_end = static_cast<uint32_t>(labels.size());
    bytes[edges + g] = static_cast<unsigned char>(keys[first].text[depth]);
  }
  for (size_t g = 0; g < groups.size(); ++g) {
    BuildNode(keys, groups[g].first, groups[g].second, shared[g],
              children + static_cast<uint32_t>(g));
  }
}

}  // namespace gsoc::match::internal
