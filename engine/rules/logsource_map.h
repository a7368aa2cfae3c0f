// Processing pipelines (the pySigma concept, as data): which events a Sigma
// `logsource` applies to, and how Sigma field names map to event fields.
// Loaded from rules/logsources.yaml and the files it includes
// (rules/pipelines/*.yaml); a logsource with no mapping refuses the rule.
//
// The file format:
//   include: [pipelines/]                          # files/folders, relative to this file
//   logsources:
//     - logsource: {product: linux, service: sshd}  # keys that must equal
//       programs: [sshd]                           # any of (case-insensitive)
//       facilities: [4, 10]                        # any of; omitted = any
//       formats: [json]                            # rfc5424|rfc3164|json|unparsed; omitted = any
//       events:                                    # any of; omitted = no field condition
//         - when: {Channel: Security, EventID: 4688}   # every condition holds
//           fields: {Image: NewProcessName}        # Sigma field <- event field
//       carries: [Image, CommandLine]              # fields its events carry (rules check)
// An entry applies to a rule when product, service and category are equal
// (case-insensitive; a key the entry omits applies only to rules that omit
// it too, so `{product: linux}` does not cover `category: process_creation`),
// or the entry gives '*' for that key (any value, also none). The most
// specific entry wins (most keys that are not '*'); ties: first loaded.
//
// `when` conditions: event field (JSON member after the Windows renaming of
// collectors/json, decoder field, or the header `program`/`host`) -> a value
// or a list of values, compared case-insensitively; `*` in a value is a
// wildcard ('*' alone: the field is present). `fields` are applied to every
// event that matches the `when` (Classify): the event gains field `Image`
// with the value of its `NewProcessName` unless it already has `Image`.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event/event.h"
#include "engine/event/event_batch.h"
#include "engine/rules/rule.h"
#include "engine/rules/value_index.h"

namespace gsoc::rules {

struct EventFilter {
  std::vector<std::string> programs;  // lower-case; empty = any
  std::vector<int> facilities;        // empty = any
  std::vector<EventFormat> formats;   // empty = any
  std::vector<uint16_t> selectors;    // any of (Event::selectors); empty = any
  // Field names the logsource's events carry (empty: not known); `rules
  // check` warns about a rule using a field outside them.
  std::vector<std::string> carries;

  // No allocation: runs per event and candidate rule. Program compare is
  // case-insensitive; `selectors` need the event classified (Classify).
  bool Matches(const Event& event) const;
};

class LogSourceMap {
 public:
  // Throws std::runtime_error naming file, line and reason on a bad file.
  // `file` may be a folder: every *.yaml / *.yml in it, in name order.
  static LogSourceMap Load(const std::filesystem::path& file);
  static LogSourceMap Parse(const std::string& yaml, const std::string& file_name);

  // nullopt: no mapping (the rule is refused with the logsource in the reason).
  std::optional<EventFilter> Resolve(const LogSource& logsource) const;
  // A digest of what decides whether Resolve finds a mapping (the entries'
  // logsources, in order): what the Sigma loader's refusals depend on, so
  // its parse cache (sigma_cache.h) keys on it.
  uint64_t ResolveDigest() const;

  // Per event, before matching: records the selectors the event matches in
  // event.selectors and adds the fields they map. Hot path: no allocation
  // beyond the batch's arena and field table, no exceptions. Only the
  // selectors the index names as candidates are evaluated (see Index below).
  void Classify(EventBatch& batch, Event& event) const;
  // The same result by evaluating every selector: the fallback when an event
  // has more candidates than Classify keeps on its stack, and the reference
  // the index is tested against.
  void ClassifyLinear(EventBatch& batch, Event& event) const;
  size_t selector_count() const { return selectors_.size(); }

 private:
  struct Entry {
    LogSource logsource;  // lower-case; "*" = any value, empty = must be absent
    EventFilter filter;
  };
  struct Condition {
    uint16_t key = 0;                 // index into keys_
    std::vector<std::string> values;  // lower-case Sigma-like globs; "*" = present
  };
  struct Alias {
    std::string sigma;  // field the rules use
    std::string event;  // field the event carries
    // Set by BuildIndex, bit j for an earlier alias j of the selector: its
    // sigma is this one's event (the field it adds is a source), or this
    // one's sigma (the field it adds is the target).
    uint64_t fed_by = 0;
    uint64_t covered_by = 0;
  };
  struct Selector {
    std::string canonical;  // for deduplication
    std::vector<Condition> conditions;
    std::vector<Alias> aliases;
    // Set by BuildIndex: bit n, an alias name (sigma or event) of length n
    // (n < 64; bit 63: longer), and the aliases by name (codes 2 * alias
    // index, + 1 where the name is the alias's sigma), for Apply's one walk.
    uint64_t alias_lengths = 0;
    ValueIndex alias_names;
  };
  class Parser;
  friend class Parser;

  // Parses one file's text into this map; returns its `include` paths.
  std::vector<std::string> ParseText(const std::string& yaml, const std::string& file_name);
  void LoadInto(const std::filesystem::path& path, int depth,
                std::vector<std::filesystem::path>& seen);
  uint16_t AddSelector(Selector selector, const std::string& where);
  uint16_t KeyIndex(const std::string& name);
  // Which keys_ the event carries (bit k of mask) and their values. The
  // values are plain pointers and sizes, left uninitialized (read only under
  // their mask bit): a std::string_view array was 1 KiB zeroed per event.
  struct KeyValues {
    struct Value {
      const char* data;
      size_t size;
    };
    Value values[64];
    uint64_t mask = 0;
    bool present(size_t k) const { return (mask >> k & 1) != 0; }
    std::string_view value(size_t k) const { return {values[k].data, values[k].size}; }
    void Set(size_t k, std::string_view value) {
      values[k] = {value.data(), value.size()};
      mask |= uint64_t{1} << k;
    }
  };
  bool SelectorMatches(const Selector& selector, const KeyValues& keys) const;
  void GatherKeys(const EventBatch& batch, const Event& event, KeyValues& keys) const;
  void Apply(EventBatch& batch, Event& event, uint16_t selector) const;
  // Apply's mapping by walking the fields once per alias: for a selector with
  // more aliases than Apply's one walk keeps on its stack.
  void ApplyPerAlias(EventBatch& batch, Event& event, const Selector& selector) const;
  // Built once after loading (BuildIndex): most selectors have a condition
  // whose values are all exact (Channel, _path, event.dataset, ...). Each such
  // selector is filed under one of those keys by its values, so an event
  // looks its value up once instead of testing every selector; the others
  // are scanned, skipped in one AND when the event lacks a key they need.
  struct Dispatch {
    uint16_t key = 0;
    size_t longest = 0;   // longest value filed (longer event values cannot match)
    ValueIndex by_value;  // lower-case value -> selectors, ascending
  };
  void BuildIndex();

  std::vector<Entry> entries_;
  std::vector<std::string> keys_;  // distinct condition field names
  uint64_t key_lengths_ = 0;       // bit n: a key of length n (n < 64); bit 63: longer
  std::vector<Selector> selectors_;
  std::vector<uint64_t> required_;  // per selector: bit k = a condition on keys_[k]
  std::vector<Dispatch> dispatch_;
  // Per event, only the keys it carries are visited (their bits in
  // KeyValues::mask): the dispatch of key k, and the selectors filed under
  // no value whose first required key is k (scanned_: per key, ascending;
  // scanned_always_: no condition at all).
  std::array<int16_t, 64> dispatch_of_key_{};  // index into dispatch_, -1: none
  uint64_t dispatch_keys_ = 0;
  std::array<std::vector<uint16_t>, 64> scanned_;
  uint64_t scanned_keys_ = 0;
  std::vector<uint16_t> scanned_always_;
  ValueIndex key_index_;  // keys_ by name
  int program_key_ = -1;  // keys_ index of "program" / "host" (header fields)
  int host_key_ = -1;
};

}  // namespace gsoc::rules
