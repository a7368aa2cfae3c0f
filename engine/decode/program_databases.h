// The decoders' Hyperscan candidate selection: one database per program
// filter, holding the patterns of the decoders that name that program and
// those of the decoders that name none, so a message is scanned once.
//
// Before, a message went through up to four databases (unfiltered literals
// and regexes, then every filtered decoder's literals and regexes when its
// program was named anywhere): four scans, and an sshd line was scanned for
// the sudo, cron, useradd, ... literals too.
//
// Ownership: owns the compiled databases. Threading: immutable once
// compiled; Scan is called from any number of threads, each with its own
// scratch (AllocScratch). Scan allocates nothing once `candidates` has grown.
#pragma once

#include <hs/hs.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gsoc::decode {

// What Hyperscan looks for on behalf of one decoder: its required literal or
// its regex (named groups stripped).
struct HsPattern {
  uint32_t id = 0;  // reported on a match: the decoder's index
  std::string expression;
  unsigned flags = 0;
  bool literal = false;  // bytes to find, not a regex
};

class ProgramDatabases {
 public:
  ProgramDatabases() = default;
  ProgramDatabases(const ProgramDatabases&) = delete;
  ProgramDatabases& operator=(const ProgramDatabases&) = delete;
  ~ProgramDatabases();

  // `programs`: the decoder's program filter (lower case); empty for every program.
  void Add(HsPattern pattern, const std::vector<std::string>& programs);

  // Builds the databases. On failure: false, with Hyperscan's message and the
  // id of the pattern it blamed (-1 when none).
  bool Compile(std::string* error, int64_t* culprit);

  // Grows `scratch` to fit every database.
  void AllocScratch(hs_scratch_t** scratch) const;

  // Appends to `candidates` the ids whose pattern occurs in `message`, for a
  // message of `program`; unsorted, possibly repeated.
  void Scan(std::string_view program, std::string_view message, hs_scratch_t* scratch,
            std::vector<uint32_t>& candidates) const;

  // The names the filters use (lower case, no duplicates).
  const std::vector<std::string>& programs() const { return programs_; }

 private:
  struct Filtered {
    HsPattern pattern;
    std::vector<std::string> programs;
  };
  // Compiles the unfiltered patterns plus those of `filtered` (indexes into
  // filtered_); none: a null database.
  bool Build(const std::vector<uint32_t>& filtered, hs_database_t** database, std::string* error,
             int64_t* culprit) const;
  // The database for `program`: its filter's, or the unfiltered patterns'
  // when no filter names it. `second`: another filter's, when the program and
  // its base name (before '(') are two filters.
  const hs_database_t* DatabaseOf(std::string_view program, const hs_database_t** second) const;
  // The same, by comparing with every name: for programs longer than
  // kMaxHashed.
  const hs_database_t* DatabaseOfLinear(std::string_view program,
                                        const hs_database_t** second) const;
  // Index into programs_ of `lower` (lower case), or -1: one probe sequence
  // in slots_.
  int64_t IndexOf(std::string_view lower) const;

  // Programs up to this long are lower-cased on the stack and looked up in
  // slots_ (an RFC 5424 APP-NAME is at most 48; RFC 3164 and JSON programs
  // are rarely longer).
  static constexpr size_t kMaxHashed = 64;

  std::vector<HsPattern> unfiltered_;
  std::vector<Filtered> filtered_;
  std::vector<std::string> programs_;
  std::vector<uint32_t> database_of_program_;  // per programs_ entry: index into databases_
  // Open addressing on ShortStringHash of the name, linear probing: 0 =
  // empty, else programs_ index + 1. A power of two, at most half full.
  std::vector<uint32_t> slots_;
  hs_database_t* unnamed_ = nullptr;       // for a program no filter names
  std::vector<hs_database_t*> databases_;  // one per distinct set of filtered decoders
};

}  // namespace gsoc::decode
