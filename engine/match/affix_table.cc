#include "engine/match/affix_table.h"

#include <algorithm>
#include <map>

namespace gsoc::match::internal {

namespace {

// A trie being built: children by folded byte, entries ending here.
struct BuildNode {
  std::map<unsigned char, uint32_t> children;
  std::vector<uint32_t> hits;
};

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

void AffixTable::Build(std::vector<Entry> entries) {
  entries_ = std::move(entries);
  nodes_.clear();
  bytes_.clear();
  children_.clear();
  hits_.clear();
  labels_.clear();
  forward_root_ = backward_root_ = kNone;
  // Two tries in one node array: forward (prefixes, whole values) from node
  // 0, backward (suffixes, reversed) from node 1.
  std::vector<BuildNode> building(2);
  bool forward = false, backward = false;
  for (uint32_t e = 0; e < entries_.size(); ++e) {
    const Entry& entry = entries_[e];
    const bool reversed = entry.kind == Kind::kSuffix;
    (reversed ? backward : forward) = true;
    uint32_t node = reversed ? 1 : 0;
    const size_t n = entry.text.size();
    for (size_t i = 0; i < n; ++i) {
      const unsigned char byte = Fold(entry.text[reversed ? n - 1 - i : i]);
      const auto it = building[node].children.find(byte);
      if (it != building[node].children.end()) {
        node = it->second;
        continue;
      }
      const auto child = static_cast<uint32_t>(building.size());
      building[node].children.emplace(byte, child);
      building.emplace_back();
      node = child;
    }
    building[node].hits.push_back(e);
  }
  // Flatten, compressing each chain of single-child nodes without literals
  // into the label of the node it ends at. Nodes 0 and 1 stay the roots.
  nodes_.assign(2, Node{});
  std::vector<std::pair<uint32_t, uint32_t>> pending = {{0, 0}, {1, 1}};  // (built, flat)
  std::vector<std::pair<unsigned char, uint32_t>> root_children[2];
  while (!pending.empty()) {
    const auto [built, flat] = pending.back();
    pending.pop_back();
    const BuildNode& from = building[built];
    nodes_[flat].hits_begin = static_cast<uint32_t>(hits_.size());
    hits_.insert(hits_.end(), from.hits.begin(), from.hits.end());
    nodes_[flat].hits_end = static_cast<uint32_t>(hits_.size());
    nodes_[flat].edges_begin = static_cast<uint32_t>(bytes_.size());
    for (const auto& [byte, child] : from.children) {
      // The child's chain: follow single children that end no literal.
      const uint32_t label_begin = static_cast<uint32_t>(labels_.size());
      uint32_t end = child;
      while (building[end].hits.empty() && building[end].children.size() == 1) {
        labels_.push_back(building[end].children.begin()->first);
        end = building[end].children.begin()->second;
      }
      const auto next = static_cast<uint32_t>(nodes_.size());
      nodes_.push_back(Node{});
      nodes_[next].label_begin = label_begin;
      nodes_[next].label_end = static_cast<uint32_t>(labels_.size());
      bytes_.push_back(byte);
      children_.push_back(next);
      if (built < 2) root_children[built].emplace_back(byte, next);
      pending.emplace_back(end, next);
    }
    nodes_[flat].edges_end = static_cast<uint32_t>(bytes_.size());
  }
  if (forward) forward_root_ = 0;
  if (backward) backward_root_ = 1;
  forward_first_.assign(256, kNone);
  backward_first_.assign(256, kNone);
  for (const auto& [byte, child] : root_children[0]) forward_first_[byte] = child;
  for (const auto& [byte, child] : root_children[1]) backward_first_[byte] = child;
}

}  // namespace gsoc::match::internal
