#include "engine/match/affix_table.h"

#include <algorithm>
#include <cstddef>
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

// Built from the sorted keys (folded; a suffix's reversed), so memory is
// linear in the literals' bytes whatever a rule set holds: a node only
// where a literal ends or keys part, a chain between them one label.
void AffixTable::Build(std::vector<Entry> entries) {
  entries_ = std::move(entries);
  nodes_.assign(2, Node{});  // 0: the forward root, 1: the backward root
  bytes_.clear();
  children_.clear();
  hits_.clear();
  labels_.clear();
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
    std::sort(keys[side].begin(), keys[side].end(), [](const Key& a, const Key& b) {
      return std::tie(a.text, a.entry) < std::tie(b.text, b.entry);
    });
    BuildNode(keys[side], 0, keys[side].size(), 0, static_cast<uint32_t>(side));
  }
  forward_root_ = keys[0].empty() ? kNone : 0;
  backward_root_ = keys[1].empty() ? kNone : 1;
  forward_first_.assign(256, kNone);
  backward_first_.assign(256, kNone);
  for (int side = 0; side < 2; ++side) {
    std::vector<uint32_t>& first = side == 0 ? forward_first_ : backward_first_;
    const Node& root = nodes_[side];
    for (uint32_t e = root.edges_begin; e < root.edges_end; ++e) first[bytes_[e]] = children_[e];
  }
}

// keys[begin, end) share their first `depth` bytes; fills nodes_[node].
// Recursion depth: at most one level per byte of the longest literal.
void AffixTable::BuildNode(const std::vector<Key>& keys, size_t begin, size_t end, size_t depth,
                           uint32_t node) {
  // The keys that end here sort first (a prefix before its extensions).
  size_t i = begin;
  nodes_[node].hits_begin = static_cast<uint32_t>(hits_.size());
  for (; i < end && keys[i].text.size() == depth; ++i) hits_.push_back(keys[i].entry);
  nodes_[node].hits_end = static_cast<uint32_t>(hits_.size());
  // One edge per next byte; the keys of an edge are contiguous.
  std::vector<std::pair<size_t, size_t>> groups;
  while (i < end) {
    size_t j = i + 1;
    while (j < end && keys[j].text[depth] == keys[i].text[depth]) ++j;
    groups.emplace_back(i, j);
    i = j;
  }
  const auto edges = static_cast<uint32_t>(bytes_.size());
  nodes_[node].edges_begin = edges;
  nodes_[node].edges_end = edges + static_cast<uint32_t>(groups.size());
  bytes_.resize(edges + groups.size());
  children_.resize(edges + groups.size());
  // The children first, side by side (a walk reads one of them, and the
  // top levels, which every walk reads, stay in few cache lines), then
  // their subtrees.
  const auto children = static_cast<uint32_t>(nodes_.size());
  nodes_.resize(children + groups.size());
  std::vector<size_t> shared(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    const auto [first, last] = groups[g];
    // The group's common prefix (sorted: that of its first and last keys)
    // past the edge byte is the child's label.
    shared[g] = CommonPrefix(keys[first].text, keys[last - 1].text);
    Node& child = nodes_[children + g];
    child.label_begin = static_cast<uint32_t>(labels_.size());
    labels_.insert(labels_.end(), keys[first].text.begin() + static_cast<std::ptrdiff_t>(depth + 1),
                   keys[first].text.begin() + static_cast<std::ptrdiff_t>(shared[g]));
    child.label_end = static_cast<uint32_t>(labels_.size());
    bytes_[edges + g] = static_cast<unsigned char>(keys[first].text[depth]);
    children_[edges + g] = children + static_cast<uint32_t>(g);
  }
  for (size_t g = 0; g < groups.size(); ++g) {
    BuildNode(keys, groups[g].first, groups[g].second, shared[g],
              children + static_cast<uint32_t>(g));
  }
}

}  // namespace gsoc::match::internal
