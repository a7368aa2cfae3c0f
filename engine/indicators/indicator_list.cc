#include "engine/indicators/indicator_list.h"

#include <hs/hs.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/indicators/tables.h"
#include "engine/util/ip_address.h"
#include "engine/util/regular_file.h"

namespace gsoc::indicators {
namespace {

using detail::Ip128;
using detail::IpSet;
using detail::StringSet;

enum class Kind { kIp, kCidr, kDomain, kUrl, kHash, kString };

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
// A byte that can be part of a DNS label (IDN bytes >= 0x80 count as label bytes).
bool IsLabelChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_' ||
         u >= 0x80;
}

uint64_t LoadBe64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

// An IPv4 or IPv6 address (no prefix), by the shared parser, as Ip128;
// `v4` tells which family the text was.
bool ParseIp(std::string_view s, Ip128& out, bool& v4) {
  IpBytes bytes;
  if (!ParseIpAddress(s, bytes, &v4)) return false;
  out = {LoadBe64(bytes.data()), LoadBe64(bytes.data() + 8)};
  return true;
}

enum class CidrParse { kNotCidr, kOk, kBadAddress, kBadLength };

// "addr/len". prefix_len is returned in the 128-bit space (IPv4 /n -> 96+n)
// and `out` is masked.
CidrParse ParseCidr(std::string_view s, Ip128& out, unsigned& prefix_len) {
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos) return CidrParse::kNotCidr;
  const std::string_view addr = s.substr(0, slash);
  const std::string_view len = s.substr(slash + 1);
  bool v4 = false;
  if (!ParseIp(addr, out, v4)) {
    // Shaped like a CIDR (digits/hex, dots or colons, then /digits) but the
    // address does not parse: a broken entry, not a URL.
    // IPv4-like (digits and dots) or IPv6-like (hex, dots, at least one colon);
    // "cafe.de/12" is a host and path, not a broken CIDR.
    const bool v4_shape =
        !addr.empty() && addr.find('.') != std::string_view::npos &&
        std::all_of(addr.begin(), addr.end(), [](char c) { return IsDigit(c) || c == '.'; });
    const bool v6_shape = addr.find(':') != std::string_view::npos &&
                          std::all_of(addr.begin(), addr.end(),
                                      [](char c) { return IsHex(c) || c == '.' || c == ':'; });
    const bool addr_shape = v4_shape || v6_shape;
    const bool len_shape = !len.empty() && std::all_of(len.begin(), len.end(), IsDigit);
    return addr_shape && len_shape ? CidrParse::kBadAddress : CidrParse::kNotCidr;
  }
  if (len.empty() || len.size() > 3 || !std::all_of(len.begin(), len.end(), IsDigit)) {
    return CidrParse::kBadLength;
  }
  unsigned n = 0;
  for (char c : len) n = n * 10 + static_cast<unsigned>(c - '0');
  if (n > (v4 ? 32u : 128u)) return CidrParse::kBadLength;
  prefix_len = v4 ? 96 + n : n;
  out = detail::MaskIp(out, prefix_len);
  return CidrParse::kOk;
}

bool IsDottedQuadShape(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return IsDigit(c) || c == '.'; }) &&
         std::count(s.begin(), s.end(), '.') == 3;
}

// A host name: >= 2 labels of [a-z0-9_-] (and IDN bytes), each 1-63, total
// <= 253, last label not all digits.
bool IsDomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t labels = 0;
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    const std::string_view label =
        s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (label.empty() || label.size() > 63 ||
        !std::all_of(label.begin(), label.end(), IsLabelChar)) {
      return false;
    }
    ++labels;
    if (dot == std::string_view::npos) {
      return labels >= 2 && !std::all_of(label.begin(), label.end(), IsDigit);
    }
    start = dot + 1;
  }
}

bool IsHash(std::string_view s) {
  const size_t n = s.size();
  return (n == 32 || n == 40 || n == 64 || n == 128) && std::all_of(s.begin(), s.end(), IsHex);
}

bool IsUrl(std::string_view s) {
  const size_t scheme = s.find("://");
  if (scheme != std::string_view::npos && scheme > 0) return true;
  const size_t slash = s.find('/');  // host/path without a scheme
  return slash != std::string_view::npos && slash > 0 && IsDomain(s.substr(0, slash));
}

[[noreturn]] void Fail(const std::filesystem::path& file, size_t line, const std::string& reason) {
  throw std::runtime_error(file.string() + ":" + std::to_string(line) + ": " + reason);
}

// The file, read only if it is a regular file within limits.max_bytes; a
// line longer than 4 x max_entry_bytes stops the read at once.
std::string ReadListFile(const std::filesystem::path& file, const ListLimits& limits) {
  const size_t max_line = limits.max_entry_bytes * 4;
  std::string data;
  size_t line = 1;
  size_t line_bytes = 0;
  std::string error;
  const bool ok = ReadRegularFile(
      file, limits.max_bytes,
      [&](std::string_view chunk, std::string* chunk_error) {
        for (const char c : chunk) {
          if (c == '\n') {
            ++line;
            line_bytes = 0;
          } else if (++line_bytes > max_line) {
            *chunk_error = file.string() + ":" + std::to_string(line) + ": line longer than " +
                           std::to_string(max_line) +
                           " bytes (4 x rules.limits.max_list_entry_bytes); refused";
            return false;
          }
        }
        data.append(chunk);
        return true;
      },
      &error);
  if (!ok) throw std::runtime_error(error);
  if (data.starts_with("\xEF\xBB\xBF")) data.erase(0, 3);  // UTF-8 BOM
  return data;
}

constexpr Ip128 kMappedBase{0, 0x0000ffff00000000ULL};  // ::ffff:0:0/96
bool IsMapped(Ip128 a) { return a.hi == 0 && (a.lo >> 32) == 0xffff; }

// Domain boundary for ContainsSubstring: the byte before a match.
bool LeftBoundaryOk(const char* text, size_t start) {
  return start == 0 || !IsLabelChar(text[start - 1]);  // '.', '/', '@', ' ', ... are boundaries
}
// ... and after: end, or a non-domain byte; one trailing dot (FQDN "evil.com.")
// is fine if a boundary follows it.
bool RightBoundaryOk(const char* text, size_t end, size_t n) {
  if (end == n) return true;
  const char c = text[end];
  if (c == '.') return end + 1 == n || (!IsLabelChar(text[end + 1]) && text[end + 1] != '.');
  return !IsLabelChar(c);
}

}  // namespace

namespace detail {
struct ListData {
  std::string name;
  size_t entries = 0;
  std::array<size_t, 6> kind_counts{};
  StringSet strings;
  // IP prefix tables, one per (family, prefix length) present, longest
  // first. "v4": entries inside ::ffff:0:0/96 with length >= 96 (IPv4 and
  // IPv4-mapped entries); "v6": all others.
  std::vector<IpSet> v4_tables;
  std::vector<IpSet> v6_tables;
  std::vector<const IpSet*> for_v4_query;  // v4 tables + v6 tables covering ::ffff:0:0/96
  std::vector<const IpSet*> for_v6_query;  // v6 tables
  hs_database_t* db = nullptr;
  hs_scratch_t* scratch = nullptr;   // prototype, cloned per thread
  std::vector<uint32_t> domain_len;  // Hyperscan id < size(): a domain, boundary-checked

  ~ListData() {
    if (scratch != nullptr) hs_free_scratch(scratch);
    if (db != nullptr) hs_free_database(db);
  }

  bool MatchesIp(Ip128 addr, unsigned max_len) const {
    const auto& tables = IsMapped(addr) ? for_v4_query : for_v6_query;
    for (const IpSet* t : tables) {
      if (t->prefix_len() > max_len) continue;
      if (t->Contains(detail::MaskIp(addr, t->prefix_len()))) return true;
    }
    return false;
  }
  bool HasIps() const { return !for_v4_query.empty() || !for_v6_query.empty(); }
};
}  // namespace detail

struct IndicatorList::Impl : detail::ListData {};

namespace {

struct Builder {
  Builder(const ListSource& s, const ListLimits& l, detail::ListData& i)
      : source(s), limits(l), impl(i) {}

  const ListSource& source;
  const ListLimits& limits;
  detail::ListData& impl;
  std::array<std::unique_ptr<IpSet>, 129> v4_by_len{};
  std::array<std::unique_ptr<IpSet>, 129> v6_by_len{};
  std::vector<uint32_t> domain_ids;  // StringSet indexes for Hyperscan
  std::vector<uint32_t> other_ids;
  std::string lowered;

  void AddIp(Ip128 key, unsigned len) {
    auto& t = (len >= 96 && IsMapped(key) ? v4_by_len : v6_by_len)[len];
    if (!t) t = std::make_unique<IpSet>(len);
    t->Insert(key);
  }

  void Add(std::string_view raw, size_t line) {
    if (raw.size() > limits.max_entry_bytes) {
      Fail(source.file, line,
           "entry of " + std::to_string(raw.size()) + " bytes, longer than " +
               std::to_string(limits.max_entry_bytes) + " (rules.limits.max_list_entry_bytes)");
    }
    if (impl.entries >= limits.max_entries) {
      Fail(source.file, line,
           "more than " + std::to_string(limits.max_entries) +
               " entries (rules.limits.max_list_entries)");
    }
    lowered.assign(raw);
    for (char& c : lowered) c = detail::LowerAscii(c);
    std::string_view v = lowered;
    Kind kind = Kind::kString;
    Ip128 addr;
    unsigned len = 0;
    bool v4 = false;
    switch (ParseCidr(v, addr, len)) {
      case CidrParse::kOk:
        kind = Kind::kCidr;
        AddIp(addr, len);
        break;
      case CidrParse::kBadAddress:
        Fail(source.file, line, "invalid CIDR '" + std::string(raw) + "': bad address");
      case CidrParse::kBadLength:
        Fail(source.file, line, "invalid CIDR '" + std::string(raw) + "': bad prefix length");
      case CidrParse::kNotCidr:
        if (ParseIp(v, addr, v4)) {
          kind = Kind::kIp;
          AddIp(addr, 128);
          break;
        }
        if (IsDottedQuadShape(v)) {
          Fail(source.file, line, "invalid IPv4 address '" + std::string(raw) + "'");
        }
        if (IsUrl(v)) {
          kind = Kind::kUrl;
        } else if (IsHash(v)) {
          kind = Kind::kHash;
        } else {
          if (v.size() > 1 && v.back() == '.' && IsDomain(v.substr(0, v.size() - 1))) {
            v.remove_suffix(1);  // FQDN "evil.com." -> "evil.com"
          }
          kind = IsDomain(v) ? Kind::kDomain : Kind::kString;
        }
        const auto [index, added] = impl.strings.Insert(v);
        if (added && kind == Kind::kDomain) domain_ids.push_back(index);
        if (added && (kind == Kind::kUrl || kind == Kind::kString)) other_ids.push_back(index);
        break;
    }
    ++impl.entries;
    ++impl.kind_counts[static_cast<size_t>(kind)];
  }

  void LoadPlain(std::string_view data) {
    size_t line = 0;
    size_t pos = 0;
    while (pos < data.size()) {
      size_t eol = data.find('\n', pos);
      if (eol == std::string_view::npos) eol = data.size();
      ++line;
      std::string_view v = Trim(data.substr(pos, eol - pos));
      pos = eol + 1;
      if (v.empty() || v.front() == '#') continue;
      for (size_t i = 1; i < v.size(); ++i) {  // trailing " # comment"
        if (v[i] == '#' && (v[i - 1] == ' ' || v[i - 1] == '\t')) {
          v = Trim(v.substr(0, i));
          break;
        }
      }
      Add(v, line);
    }
  }

  // One CSV record (RFC 4180: quoted fields may hold commas, doubled quotes
  // and newlines). Returns false at end of data. `line` advances past it.
  bool NextRecord(std::string_view data, size_t& pos, size_t& line,
                  std::vector<std::string>& fields, size_t& record_line) {
    fields.clear();
    while (true) {  // skip blank lines and '#' comment lines
      if (pos >= data.size()) return false;
      size_t eol = data.find('\n', pos);
      if (eol == std::string_view::npos) eol = data.size();
      const std::string_view text = Trim(data.substr(pos, eol - pos));
      if (!text.empty() && text.front() != '#') break;
      ++line;
      pos = eol + 1;
    }
    ++line;
    record_line = line;
    size_t i = pos;
    while (true) {
      std::string& field = fields.emplace_back();
      size_t j = i;
      while (j < data.size() && (data[j] == ' ' || data[j] == '\t')) ++j;
      if (j < data.size() && data[j] == '"') {
        i = j + 1;
        while (true) {
          if (i >= data.size()) Fail(source.file, record_line, "unterminated quoted CSV field");
          const char c = data[i];
          if (c == '"') {
            if (i + 1 < data.size() && data[i + 1] == '"') {
              field.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (c == '\n') ++line;
          field.push_back(c);
          ++i;
        }
        while (i < data.size() && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r')) ++i;
        if (i < data.size() && data[i] != ',' && data[i] != '\n') {
          Fail(source.file, line, "unexpected character after closing quote in CSV field");
        }
      } else {
        while (i < data.size() && data[i] != ',' && data[i] != '\n') field.push_back(data[i++]);
      }
      if (i < data.size() && data[i] == ',') {
        ++i;
        continue;
      }
      pos = i + 1;  // past '\n' (or beyond the end)
      return true;
    }
  }

  void LoadCsv(std::string_view data) {
    std::vector<std::string> fields;
    size_t pos = 0;
    size_t line = 0;
    size_t record_line = 0;
    size_t column = SIZE_MAX;
    while (NextRecord(data, pos, line, fields, record_line)) {
      if (column == SIZE_MAX) {  // header
        for (size_t i = 0; i < fields.size() && column == SIZE_MAX; ++i) {
          if (Trim(fields[i]) == source.csv_column) column = i;
        }
        for (size_t i = 0; i < fields.size() && column == SIZE_MAX; ++i) {
          const std::string_view f = Trim(fields[i]);
          if (std::equal(
                  f.begin(), f.end(), source.csv_column.begin(), source.csv_column.end(),
                  [](char a, char b) { return detail::LowerAscii(a) == detail::LowerAscii(b); })) {
            column = i;
          }
        }
        if (column == SIZE_MAX) {
          std::string names;
          for (const auto& f : fields) names += (names.empty() ? "" : ", ") + std::string(Trim(f));
          Fail(source.file, record_line,
               "CSV header has no column '" + source.csv_column + "' (columns: " + names + ")");
        }
        continue;
      }
      if (fields.size() <= column) {
        Fail(source.file, record_line,
             "CSV row has " + std::to_string(fields.size()) + " fields, column '" +
                 source.csv_column + "' is field " + std::to_string(column + 1));
      }
      const std::string_view v = Trim(fields[column]);
      if (!v.empty()) Add(v, record_line);
    }
    if (column == SIZE_MAX) {
      Fail(source.file, line == 0 ? 1 : line,
           "CSV file has no header row (expected a column '" + source.csv_column + "')");
    }
  }

  void Finish() {
    for (int len = 128; len >= 0; --len) {
      for (auto* by_len : {&v4_by_len, &v6_by_len}) {
        if (auto& t = (*by_len)[len]) {
          t->Seal();
          (by_len == &v4_by_len ? impl.v4_tables : impl.v6_tables).push_back(std::move(*t));
        }
      }
    }
    for (const IpSet& t : impl.v4_tables) impl.for_v4_query.push_back(&t);
    for (const IpSet& t : impl.v6_tables) {
      impl.for_v6_query.push_back(&t);
      if (t.prefix_len() <= 96 && t.Contains(detail::MaskIp(kMappedBase, t.prefix_len()))) {
        impl.for_v4_query.push_back(&t);  // e.g. ::/0 covers every IPv4 address
      }
    }
    impl.strings.ShrinkToFit();
    const size_t n = domain_ids.size() + other_ids.size();
    if (n == 0) return;
    if (n > UINT_MAX) throw std::runtime_error(source.file.string() + ": too many literals");
    std::vector<const char*> exprs;
    std::vector<size_t> lens;
    std::vector<unsigned> flags;
    std::vector<unsigned> ids;
    exprs.reserve(n);
    lens.reserve(n);
    flags.reserve(n);
    ids.reserve(n);
    impl.domain_len.reserve(domain_ids.size());
    auto push = [&](uint32_t index, unsigned f) {
      const std::string_view v = impl.strings.at(index);
      ids.push_back(static_cast<unsigned>(exprs.size()));
      exprs.push_back(v.data());
      lens.push_back(v.size());
      flags.push_back(f);
    };
    // Domains: every occurrence is reported and boundary-checked in the
    // callback (no SINGLEMATCH). URLs and plain strings: first occurrence wins.
    for (uint32_t index : domain_ids) {
      push(index, HS_FLAG_CASELESS);
      impl.domain_len.push_back(static_cast<uint32_t>(impl.strings.at(index).size()));
    }
    for (uint32_t index : other_ids) push(index, HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH);
    domain_ids = {};
    other_ids = {};
    hs_compile_error_t* error = nullptr;
    if (hs_compile_lit_multi(exprs.data(), flags.data(), ids.data(), lens.data(),
                             static_cast<unsigned>(n), HS_MODE_BLOCK, nullptr, &impl.db,
                             &error) != HS_SUCCESS) {
      std::string msg = error != nullptr && error->message != nullptr ? error->message : "unknown";
      if (error != nullptr && error->expression >= 0 &&
          static_cast<size_t>(error->expression) < n) {
        msg += " (entry '" + std::string(exprs[error->expression], lens[error->expression]) + "')";
      }
      hs_free_compile_error(error);
      throw std::runtime_error(source.file.string() + ": Hyperscan compile failed: " + msg);
    }
    if (hs_alloc_scratch(impl.db, &impl.scratch) != HS_SUCCESS) {
      throw std::runtime_error(source.file.string() + ": Hyperscan scratch allocation failed");
    }
  }
};

struct ScanContext {
  const char* text;
  size_t size;
  const uint32_t* domain_len;
  size_t domains;
};

int OnMatch(unsigned id, unsigned long long /*from*/, unsigned long long to, unsigned /*flags*/,
            void* ctx) {
  const auto* c = static_cast<const ScanContext*>(ctx);
  if (id >= c->domains) return 1;  // URL / plain string: any occurrence
  const size_t end = static_cast<size_t>(to);
  const size_t start = end - c->domain_len[id];
  return LeftBoundaryOk(c->text, start) && RightBoundaryOk(c->text, end, c->size) ? 1 : 0;
}

}  // namespace

IndicatorList::Scratch::~Scratch() {
  if (scratch_ != nullptr) hs_free_scratch(scratch_);
}

IndicatorList::IndicatorList(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IndicatorList::~IndicatorList() = default;

std::unique_ptr<IndicatorList> IndicatorList::Load(const ListSource& source,
                                                   const ListLimits& limits) {
  auto impl = std::make_unique<Impl>();
  impl->name = source.name;
  {
    const std::string data = ReadListFile(source.file, limits);
    Builder b(source, limits, *impl);
    if (source.csv_column.empty()) {
      b.LoadPlain(data);
    } else {
      b.LoadCsv(data);
    }
    b.Finish();
  }
  return std::unique_ptr<IndicatorList>(new IndicatorList(std::move(impl)));
}

const std::string& IndicatorList::name() const { return impl_->name; }
size_t IndicatorList::size() const { return impl_->entries; }

size_t IndicatorList::memory_bytes() const {
  size_t total = sizeof(Impl) + impl_->strings.memory_bytes() +
                 impl_->domain_len.capacity() * sizeof(uint32_t) +
                 (impl_->v4_tables.capacity() + impl_->v6_tables.capacity()) * sizeof(IpSet) +
                 (impl_->for_v4_query.capacity() + impl_->for_v6_query.capacity()) * sizeof(void*);
  for (const IpSet& t : impl_->v4_tables) total += t.memory_bytes();
  for (const IpSet& t : impl_->v6_tables) total += t.memory_bytes();
  if (impl_->db != nullptr) {
    size_t n = 0;
    if (hs_database_size(impl_->db, &n) == HS_SUCCESS) total += n;
  }
  if (impl_->scratch != nullptr) {
    size_t n = 0;
    if (hs_scratch_size(impl_->scratch, &n) == HS_SUCCESS) total += n;
  }
  return total;
}

bool IndicatorList::Matches(std::string_view value) const {
  const Impl& m = *impl_;
  if (m.HasIps() && !value.empty() && value.size() <= 49 &&
      (IsHex(value.front()) || value.front() == ':')) {
    Ip128 addr;
    bool v4 = false;
    if (ParseIp(value, addr, v4)) return m.MatchesIp(addr, 128);
    unsigned len = 0;
    // A CIDR value matches when it lies inside a listed prefix.
    if (ParseCidr(value, addr, len) == CidrParse::kOk) return m.MatchesIp(addr, len);
  }
  return m.strings.Contains(value);
}

std::unique_ptr<IndicatorList::Scratch> IndicatorList::MakeScratch() const {
  std::unique_ptr<Scratch> s(new Scratch());
  if (impl_->scratch != nullptr) {
    if (hs_clone_scratch(impl_->scratch, &s->scratch_) != HS_SUCCESS) {
      throw std::runtime_error("indicator list '" + impl_->name + "': hs_clone_scratch failed");
    }
    s->validated_for_ = impl_->db;
  }
  return s;
}

bool IndicatorList::ContainsSubstring(std::string_view text, Scratch& scratch) const {
  const Impl& m = *impl_;
  if (m.db == nullptr || text.empty()) return false;
  if (scratch.validated_for_ != m.db) {  // a scratch from another list: grow it once
    if (hs_alloc_scratch(m.db, &scratch.scratch_) != HS_SUCCESS) return false;
    scratch.validated_for_ = m.db;
  }
  if (text.size() > UINT_MAX) text = text.substr(0, UINT_MAX);
  ScanContext ctx{text.data(), text.size(), m.domain_len.data(), m.domain_len.size()};
  return hs_scan(m.db, text.data(), static_cast<unsigned>(text.size()), 0, scratch.scratch_,
                 OnMatch, &ctx) == HS_SCAN_TERMINATED;
}

}  // namespace gsoc::indicators
