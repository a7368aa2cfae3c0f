#include "engine/decode/program_databases.h"

#include <algorithm>
#include <map>

#include "engine/util/hash.h"
#include "engine/util/program_name.h"

namespace gsoc::decode {
namespace {

// A literal as a regex that matches exactly its bytes.
std::string EscapedLiteral(std::string_view literal) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : literal) {
    const auto byte = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

int OnMatch(unsigned int id, unsigned long long /*from*/, unsigned long long /*to*/,
            unsigned int /*flags*/, void* context) {
  static_cast<std::vector<uint32_t>*>(context)->push_back(id);
  return 0;
}

}  // namespace

ProgramDatabases::~ProgramDatabases() {
  hs_free_database(unnamed_);
  for (hs_database_t* database : databases_) hs_free_database(database);
}

void ProgramDatabases::Add(HsPattern pattern, const std::vector<std::string>& programs) {
  if (programs.empty()) {
    unfiltered_.push_back(std::move(pattern));
    return;
  }
  for (const std::string& program : programs) {
    if (std::find(programs_.begin(), programs_.end(), program) == programs_.end())
      programs_.push_back(program);
  }
  filtered_.push_back({std::move(pattern), programs});
}

bool ProgramDatabases::Compile(std::string* error, int64_t* culprit) {
  hs_database_t* database = nullptr;
  if (!Build({}, &database, error, culprit)) return false;
  unnamed_ = database;
  // Programs whose filters name the same decoders share a database.
  std::map<std::vector<uint32_t>, uint32_t> by_set;
  for (const std::string& program : programs_) {
    std::vector<uint32_t> set;
    for (uint32_t i = 0; i < filtered_.size(); ++i) {
      const std::vector<std::string>& names = filtered_[i].programs;
      if (std::find(names.begin(), names.end(), program) != names.end()) set.push_back(i);
    }
    auto [it, added] = by_set.emplace(set, static_cast<uint32_t>(databases_.size()));
    if (added) {
      if (!Build(set, &database, error, culprit)) return false;
      databases_.push_back(database);
    }
    database_of_program_.push_back(it->second);
  }
  // The name table. A name with an upper-case byte can equal no program (the
  // compare lower-cases the program only), as in the linear scan: left out.
  size_t capacity = 8;
  while (capacity < 2 * programs_.size()) capacity *= 2;
  slots_.assign(capacity, 0);
  for (size_t i = 0; i < programs_.size(); ++i) {
    const std::string& name = programs_[i];
    if (std::any_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
      continue;
    size_t slot = ShortStringHash(name) & (capacity - 1);
    while (slots_[slot] != 0) slot = (slot + 1) & (capacity - 1);
    slots_[slot] = static_cast<uint32_t>(i + 1);
  }
  return true;
}

bool ProgramDatabases::Build(const std::vector<uint32_t>& filtered, hs_database_t** database,
                             std::string* error, int64_t* culprit) const {
  *database = nullptr;
  std::vector<const HsPattern*> patterns;
  for (const HsPattern& pattern : unfiltered_) patterns.push_back(&pattern);
  for (const uint32_t i : filtered) patterns.push_back(&filtered_[i].pattern);
  if (patterns.empty()) return true;
  const bool all_literal =
      std::all_of(patterns.begin(), patterns.end(), [](const HsPattern* p) { return p->literal; });
  std::vector<std::string> expressions;
  std::vector<const char*> pointers;
  std::vector<size_t> lengths;
  std::vector<unsigned> flags, ids;
  expressions.reserve(patterns.size());
  for (const HsPattern* pattern : patterns) {
    const bool escape = pattern->literal && !all_literal;
    expressions.push_back(escape ? EscapedLiteral(pattern->expression) : pattern->expression);
    pointers.push_back(expressions.back().c_str());
    lengths.push_back(expressions.back().size());
    flags.push_back(pattern->flags);
    ids.push_back(pattern->id);
  }
  const auto count = static_cast<unsigned>(patterns.size());
  hs_compile_error_t* compile_error = nullptr;
  const hs_error_t status =
      all_literal ? hs_compile_lit_multi(pointers.data(), flags.data(), ids.data(), lengths.data(),
                                         count, HS_MODE_BLOCK, nullptr, database, &compile_error)
                  : hs_compile_multi(pointers.data(), flags.data(), ids.data(), count,
                                     HS_MODE_BLOCK, nullptr, database, &compile_error);
  if (status == HS_SUCCESS) return true;
  *error = compile_error->message;
  *culprit = compile_error->expression >= 0 ? ids[compile_error->expression] : -1;
  hs_free_compile_error(compile_error);
  return false;
}

void ProgramDatabases::AllocScratch(hs_scratch_t** scratch) const {
  if (unnamed_ != nullptr) hs_alloc_scratch(unnamed_, scratch);
  for (const hs_database_t* database : databases_) hs_alloc_scratch(database, scratch);
}

int64_t ProgramDatabases::IndexOf(std::string_view lower) const {
  const size_t mask = slots_.size() - 1;
  for (size_t slot = ShortStringHash(lower) & mask;; slot = (slot + 1) & mask) {
    const uint32_t entry = slots_[slot];
    if (entry == 0) return -1;
    if (programs_[entry - 1] == lower) return entry - 1;
  }
}

const hs_database_t* ProgramDatabases::DatabaseOf(std::string_view program,
                                                  const hs_database_t** second) const {
  *second = nullptr;
  if (programs_.empty()) return unnamed_;
  if (program.size() > kMaxHashed || slots_.empty()) return DatabaseOfLinear(program, second);
  // Lower-cased on the stack, noting the first '(' on the way (the PAM base).
  char lower[kMaxHashed];
  size_t paren = std::string_view::npos;
  for (size_t i = 0; i < program.size(); ++i) {
    const char c = program[i];
    lower[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    if (c == '(' && paren == std::string_view::npos) paren = i;
  }
  int64_t whole = IndexOf({lower, program.size()});
  // An empty base (a leading '(') names nothing, as ProgramBase says.
  int64_t base = paren != std::string_view::npos && paren > 0 ? IndexOf({lower, paren}) : -1;
  if (whole < 0 && base < 0) return unnamed_;
  // The name listed first gives the first database, as the linear scan did.
  if (whole < 0 || (base >= 0 && base < whole)) std::swap(whole, base);
  const hs_database_t* first = databases_[database_of_program_[whole]];
  if (base >= 0) {
    const hs_database_t* other = databases_[database_of_program_[base]];
    if (other != first) *second = other;  // `program` and its base name two filters
  }
  return first;
}

const hs_database_t* ProgramDatabases::DatabaseOfLinear(std::string_view program,
                                                        const hs_database_t** second) const {
  *second = nullptr;
  const std::string_view base = ProgramBase(program);
  const hs_database_t* first = nullptr;
  for (size_t i = 0; i < programs_.size(); ++i) {
    if (!EqualsLowerAscii(programs_[i], program) &&
        (base.empty() || !EqualsLowerAscii(programs_[i], base)))
      continue;
    const hs_database_t* database = databases_[database_of_program_[i]];
    if (first == nullptr) {
      first = database;
    } else if (database != first) {
      *second = database;  // `program` and its base name two filters
      break;
    }
  }
  return first != nullptr ? first : unnamed_;
}

void ProgramDatabases::Scan(std::string_view program, std::string_view message,
                            hs_scratch_t* scratch, std::vector<uint32_t>& candidates) const {
  if (message.empty()) return;
  const hs_database_t* second = nullptr;
  const hs_database_t* first = DatabaseOf(program, &second);
  for (const hs_database_t* database : {first, second}) {
    if (database == nullptr) continue;
    hs_scan(database, message.data(), static_cast<unsigned>(message.size()), 0, scratch, OnMatch,
            &candidates);
  }
}

}  // namespace gsoc::decode
