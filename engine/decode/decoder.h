// Decoders: turn an event's free text into fields (src_ip, user, ...).
//
// Decoder files (rules/decoders/*.yaml) list decoders:
// clang-format off
//   decoders:
//     - name: sshd-failed-password
//       programs: [sshd]              # optional; case-insensitive; omitted = any program
//       listeners: [syslog_tcp]       # optional
//       agencies: [mof]               # optional
//       regex: 'Failed (?<method>password|publickey) for (invalid user )?(?<user>\S+) from (?<src_ip>[0-9a-fA-F:.]+) port (?<src_port>\d+)'
//       fields: {action: failure}     # optional constant fields added on match
//       continue: false               # optional; true = later decoders are tried too
//       description: '...'            # optional, ignored
// clang-format on
// A program filter also holds for the part before '(' of an old-style PAM
// tag (`sshd(pam_unix)` matches `sshd`). Unset and empty captures add no
// field. See engine/decode/README.md and rules/decoders/README.md.
// Named captures become fields (names from the vocabulary in DESIGN.md).
//
// Candidates are found with Hyperscan: every decoder regex is compiled into
// one database (HS_FLAG_PREFILTER where the regex needs it), the message is
// scanned once, and only decoders whose pattern fired (and whose program /
// listener / agency filter holds) run their PCRE2-JIT regex to take the
// captures. Decoders are tried in file order; the first one whose regex
// matches wins (one decoder per event), unless it says `continue: true`.
//
// Every PCRE2 match runs under RegexLimits; a match stopped by a limit is
// "no match" for that decoder and is counted (limit_hits()).
//
// Threading: a DecoderSet is immutable once built (but for the relaxed
// atomic limit counters); each worker thread uses its own Scratch
// (Hyperscan scratch + PCRE2 match data and context). Decode never
// allocates per field: capture values are views into the event's message,
// constant fields point into the set, names into the set.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/decode/regex_limits.h"
#include "engine/event/event_batch.h"
#include "engine/rules/rule.h"

namespace gsoc::decode {

class DecoderSet {
 public:
  class Scratch;

  struct LoadResult {
    std::unique_ptr<DecoderSet> set;       // null when errors is not empty
    std::vector<rules::RuleError> errors;  // file:line, decoder name, reason
  };
  // Files, or folders (recursively, *.yml/*.yaml in sorted order).
  // `listener_names` and `agency_names` resolve the filters by name (index =
  // Event::listener / Event::agency).
  // kHyperscan: an event's candidate decoders come from one scan of its
  // message (README "Candidate selection"). kNone: every decoder is a
  // candidate of every event; the same result, slower: the reference the
  // prefilter is tested against.
  enum class Prefilter { kHyperscan, kNone };
  static LoadResult Load(const std::vector<std::filesystem::path>& paths,
                         const std::vector<std::string>& listener_names,
                         const std::vector<std::string>& agency_names,
                         const RegexLimits& limits = {},
                         Prefilter prefilter = Prefilter::kHyperscan);
  ~DecoderSet();

  std::unique_ptr<Scratch> MakeScratch() const;
  size_t size() const;

  // Adds the fields of the matching decoder to `event`; returns its name, or
  // empty if no decoder matched. With `continue: true` later decoders may add
  // fields too; the name returned is that of the first one that matched.
  // A JSON event whose message is its whole line (no `message` member) is
  // not decoded: it has no free text (engine/decode/README.md).
  std::string_view Decode(EventBatch& batch, Event& event, Scratch& scratch) const;

  // Decoders whose regex hit a RegexLimits bound, with how often (only
  // those with hits; at most size() entries).
  struct LimitHits {
    std::string_view decoder;
    uint64_t hits = 0;
  };
  std::vector<LimitHits> limit_hits() const;

 private:
  struct Impl;
  explicit DecoderSet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Per-thread matching state (Hyperscan scratch, PCRE2 match data, candidate
// list). Made by DecoderSet::MakeScratch for that set; not thread-safe.
class DecoderSet::Scratch {
 public:
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

 private:
  friend class DecoderSet;
  struct State;
  explicit Scratch(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace gsoc::decode
