#include "engine/rules/rule_metadata.h"

#include <algorithm>
#include <string>
#include <vector>

#include "engine/util/hash.h"

namespace gsoc::rules {
namespace {

// What is left of the rule's metadata budget, and whether anything was cut.
struct Budget {
  size_t left = 0;
  bool cut = false;

  // Cuts `text` to `max` bytes and to what is left, at a UTF-8 boundary.
  void Fit(std::string& text, size_t max) {
    size_t keep = std::min({text.size(), max, left});
    if (keep < text.size()) {
      while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) --keep;
      text.resize(keep);
      cut = true;
    }
    left -= text.size();
  }

  void FitList(std::vector<std::string>& list, const MetadataLimits& limits) {
    if (list.size() > limits.max_list_entries) {
      list.resize(limits.max_list_entries);
      cut = true;
    }
    size_t kept = 0;
    for (; kept < list.size() && left > 0; ++kept) Fit(list[kept], limits.max_text_bytes);
    if (kept < list.size()) {
      list.resize(kept);
      cut = true;
    }
  }
};

}  // namespace

void RevisionHasher::Mix(const void* data, size_t size) {
  hash_ = Fnv1a(std::string_view(static_cast<const char*>(data), size), hash_);
}

RevisionHasher& RevisionHasher::Add(uint64_t number) {
  unsigned char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(number >> (8 * i));
  Mix(bytes, sizeof bytes);
  return *this;
}

RevisionHasher& RevisionHasher::Add(std::string_view text) {
  Add(static_cast<uint64_t>(text.size()));
  Mix(text.data(), text.size());
  return *this;
}

RevisionHasher& RevisionHasher::Add(const std::vector<std::string>& list) {
  Add(static_cast<uint64_t>(list.size()));
  for (const std::string& item : list) Add(item);
  return *this;
}

uint64_t MetadataRevision(const Rule& rule) {
  RevisionHasher hasher;
  hasher.Add(rule.id).Add(rule.name).Add(rule.title).Add(rule.description).Add(rule.status);
  hasher.Add(static_cast<uint64_t>(rule.level)).Add(rule.tags).Add(rule.author);
  hasher.Add(rule.references).Add(rule.falsepositives);
  return hasher.Add(static_cast<uint64_t>(rule.metadata_truncated)).value();
}

bool CapMetadata(Rule& rule, const MetadataLimits& limits) {
  Budget budget{limits.max_total_bytes};
  budget.Fit(rule.author, limits.max_text_bytes);
  budget.FitList(rule.tags, limits);  // tags first: ATT&CK ids matter most
  budget.Fit(rule.description, limits.max_description_bytes);
  budget.FitList(rule.falsepositives, limits);
  budget.FitList(rule.references, limits);
  if (budget.cut) rule.metadata_truncated = true;
  return budget.cut;
}

}  // namespace gsoc::rules
