#include "engine/rules/sigma_cache.h"

#include <openssl/evp.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <system_error>

#include "engine/util/build_id.h"
#include "engine/util/hash.h"
#include "engine/util/regular_file.h"
#include "engine/util/wire_format.h"

namespace gsoc::rules::internal {

namespace {

constexpr std::string_view kMagic = "GSOCSIGMA2\n";  // 2: |neq, time parts
// Bounds on what a cache file may claim (it is ours, but may be damaged).
constexpr size_t kMaxItems = size_t{1} << 24;
constexpr int kMaxConditionDepth = 1024;  // the parser allows 64 levels of nesting

using wire::PutFixed;
using wire::PutText;
using wire::PutVarint;
using wire::PutZigzag;

// ---- Encoding ----

void PutBool(std::string& out, bool value) { out += value ? '\1' : '\0'; }

void PutTexts(std::string& out, const std::vector<std::string>& texts) {
  PutVarint(out, texts.size());
  for (const std::string& text : texts) PutText(out, text);
}

void PutLocation(std::string& out, const SourceLocation& location) {
  PutText(out, location.file);
  PutZigzag(out, location.line);
  PutZigzag(out, location.column);
}

void PutValue(std::string& out, const ValueMatcher& value) {
  out += static_cast<char>(value.op);
  PutText(out, value.text);
  PutBool(out, value.cased);
  PutBool(out, value.regex_caseless);
  PutBool(out, value.regex_multiline);
  PutBool(out, value.regex_dotall);
  PutFixed(out, std::bit_cast<uint64_t>(value.number), 8);
  PutBool(out, value.cidr.has_value());
  if (value.cidr) {
    out.append(reinterpret_cast<const char*>(value.cidr->bytes.data()), value.cidr->bytes.size());
    out += static_cast<char>(value.cidr->prefix_length);
  }
  PutBool(out, value.exists);
  PutText(out, value.indicator_list);
  out += static_cast<char>(value.time_part);
}

void PutSelections(std::string& out, const std::vector<Selection>& selections) {
  PutVarint(out, selections.size());
  for (const Selection& selection : selections) {
    PutText(out, selection.name);
    PutVarint(out, selection.alternatives.size());
    for (const std::vector<FieldPredicate>& alternative : selection.alternatives) {
      PutVarint(out, alternative.size());
      for (const FieldPredicate& predicate : alternative) {
        PutText(out, predicate.field);
        PutVarint(out, predicate.values.size());
        for (const ValueMatcher& value : predicate.values) PutValue(out, value);
        PutBool(out, predicate.all);
        PutBool(out, predicate.negated);
      }
    }
  }
}

void PutCondition(std::string& out, const Condition& condition) {
  out += static_cast<char>(condition.kind);
  PutZigzag(out, condition.selection);
  PutVarint(out, condition.selections.size());
  for (int selection : condition.selections) PutZigzag(out, selection);
  PutVarint(out, condition.children.size());
  for (const Condition& child : condition.children) PutCondition(out, child);
}

void PutLogSource(std::string& out, const LogSource& logsource) {
  PutText(out, logsource.product);
  PutText(out, logsource.service);
  PutText(out, logsource.category);
}

void PutRule(std::string& out, const Rule& rule) {
  for (const std::string* text :
       {&rule.id, &rule.name, &rule.title, &rule.description, &rule.status, &rule.author})
    PutText(out, *text);
  out += static_cast<char>(rule.level);
  PutTexts(out, rule.tags);
  PutTexts(out, rule.references);
  PutTexts(out, rule.falsepositives);
  PutBool(out, rule.metadata_truncated);
  PutFixed(out, rule.revision, 8);
  PutLogSource(out, rule.logsource);
  PutSelections(out, rule.selections);
  PutCondition(out, rule.condition);
  PutLocation(out, rule.location);
  PutBool(out, rule.aggregate_by.has_value());
  if (rule.aggregate_by) PutTexts(out, *rule.aggregate_by);
}

void PutFilter(std::string& out, const SigmaFilter& filter) {
  PutText(out, filter.id);
  PutText(out, filter.title);
  PutLogSource(out, filter.logsource);
  PutTexts(out, filter.rules);
  PutSelections(out, filter.selections);
  PutCondition(out, filter.condition);
  PutLocation(out, filter.location);
}

void PutDiagnostic(std::string& out, const RuleError& error) {
  out += static_cast<char>(error.severity);
  PutText(out, error.code);
  PutLocation(out, error.location);
  PutText(out, error.rule_id);
  PutText(out, error.key);
  PutText(out, error.message);
}

// ---- Decoding: every read checked (WireReader's first failure sticks) ----

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  wire::WireReader& in() { return in_; }

  bool Bool() {
    const uint8_t byte = in_.U8();
    if (byte > 1) in_.Fail("not a boolean");
    return byte == 1;
  }
  template <typename Enum>
  Enum EnumUpTo(Enum last) {
    const uint8_t byte = in_.U8();
    if (byte > static_cast<uint8_t>(last)) in_.Fail("enumeration out of range");
    return static_cast<Enum>(byte);
  }
  int Int() {
    const int64_t value = in_.Zigzag();
    if (value < INT32_MIN || value > INT32_MAX) in_.Fail("integer out of range");
    return static_cast<int>(value);
  }
  size_t Count(size_t min_bytes) { return in_.Count(kMaxItems, min_bytes, "too many items"); }
  void Texts(std::vector<std::string>& texts) {
    texts.resize(Count(1));
    for (std::string& text : texts) in_.Text(text);
  }
  void Location(SourceLocation& location) {
    in_.Text(location.file);
    location.line = Int();
    location.column = Int();
  }
  void Value(ValueMatcher& value) {
    value.op = EnumUpTo(MatchOp::kTimePart);
    in_.Text(value.text);
    value.cased = Bool();
    value.regex_caseless = Bool();
    value.regex_multiline = Bool();
    value.regex_dotall = Bool();
    value.number = std::bit_cast<double>(in_.Fixed(8));
    if (Bool()) {
      Cidr cidr;
      const std::string_view bytes = in_.Bytes(cidr.bytes.size());
      if (in_.ok()) std::memcpy(cidr.bytes.data(), bytes.data(), bytes.size());
      cidr.prefix_length = in_.U8();
      value.cidr = cidr;
    }
    value.exists = Bool();
    in_.Text(value.indicator_list);
    value.time_part = EnumUpTo(TimePart::kYear);
  }
  void Selections(std::vector<Selection>& selections) {
    selections.resize(Count(2));
    for (Selection& selection : selections) {
      in_.Text(selection.name);
      selection.alternatives.resize(Count(1));
      for (std::vector<FieldPredicate>& alternative : selection.alternatives) {
        alternative.resize(Count(3));
        for (FieldPredicate& predicate : alternative) {
          in_.Text(predicate.field);
          predicate.values.resize(Count(16));
          for (ValueMatcher& value : predicate.values) Value(value);
          predicate.all = Bool();
          predicate.negated = Bool();
        }
      }
    }
  }
  void ConditionTree(Condition& condition, int depth) {
    if (depth > kMaxConditionDepth) {
      in_.Fail("condition nested too deeply");
      return;
    }
    condition.kind = EnumUpTo(Condition::Kind::kAllOf);
    condition.selection = Int();
    condition.selections.resize(Count(1));
    for (int& selection : condition.selections) selection = Int();
    condition.children.resize(Count(4));
    for (Condition& child : condition.children) ConditionTree(child, depth + 1);
  }
  void Source(LogSource& logsource) {
    in_.Text(logsource.product);
    in_.Text(logsource.service);
    in_.Text(logsource.category);
  }
  void RuleValue(Rule& rule) {
    for (std::string* text :
         {&rule.id, &rule.name, &rule.title, &rule.description, &rule.status, &rule.author})
      in_.Text(*text);
    rule.level = EnumUpTo(Level::kCritical);
    Texts(rule.tags);
    Texts(rule.references);
    Texts(rule.falsepositives);
    rule.metadata_truncated = Bool();
    rule.revision = in_.Fixed(8);
    Source(rule.logsource);
    Selections(rule.selections);
    ConditionTree(rule.condition, 0);
    Location(rule.location);
    if (Bool()) Texts(rule.aggregate_by.emplace());
  }
  void Filter(SigmaFilter& filter) {
    in_.Text(filter.id);
    in_.Text(filter.title);
    Source(filter.logsource);
    Texts(filter.rules);
    Selections(filter.selections);
    ConditionTree(filter.condition, 0);
    Location(filter.location);
  }
  void Diagnostic(RuleError& error) {
    error.severity = EnumUpTo(Severity::kWarning);
    in_.Text(error.code);
    Location(error.location);
    in_.Text(error.rule_id);
    in_.Text(error.key);
    in_.Text(error.message);
  }

 private:
  wire::WireReader in_;
};

// FNV-1a 64 over the inputs a load's results depend on, each length-prefixed.
uint64_t InputsDigest(const std::vector<std::filesystem::path>& paths, const LoadOptions& options) {
  uint64_t hash = kFnv1aOffset;
  auto add = [&](std::string_view text) {
    const uint64_t size = text.size();
    hash = Fnv1a(std::string_view(reinterpret_cast<const char*>(&size), sizeof(size)), hash);
    hash = Fnv1a(text, hash);
  };
  auto add_all = [&](const auto& texts) {
    add(std::to_string(texts.size()));
    for (const auto& text : texts) add(text);
  };
  add(kMagic);
  add(BuildId());
  std::vector<std::string> names;
  for (const std::filesystem::path& path : paths) names.push_back(path.string());
  add_all(names);
  add_all(options.indicator_lists);
  add(options.logsources ? std::to_string(options.logsources->ResolveDigest()) : "none");
  add_all(options.statuses);
  add(options.min_level);
  return hash;
}

std::filesystem::path CacheFileOf(const std::filesystem::path& dir, uint64_t inputs) {
  char name[48];
  std::snprintf(name, sizeof(name), "sigma-%016llx.cache", static_cast<unsigned long long>(inputs));
  return dir / name;
}

// Removes all but the kKeptFiles most recently written or used cache files
// of `dir` (each build and set of inputs leaves one).
void Prune(const std::filesystem::path& dir) {
  std::error_code ec;
  std::vector<std::pair<std::filesystem::file_time_type, std::filesystem::path>> files;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with("sigma-") && name.ends_with(".cache"))
      files.emplace_back(it->last_write_time(ec), it->path());
  }
  if (files.size() <= SigmaParseCache::kKeptFiles) return;
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a > b; });
  for (size_t i = SigmaParseCache::kKeptFiles; i < files.size(); ++i)
    std::filesystem::remove(files[i].second, ec);
}

}  // namespace

FileDigest DigestOf(std::string_view bytes) {
  FileDigest digest{};
  unsigned length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != digest.size()) {
    digest.fill(0);  // never equal to a real file's: Find refuses an all-zero digest
  }
  return digest;
}

bool Cacheable(const LoadResult& part) { return part.correlations.empty(); }

void EncodeLoadResult(std::string& out, const LoadResult& part) {
  PutVarint(out, part.files);
  PutVarint(out, part.rules.size());
  for (const Rule& rule : part.rules) PutRule(out, rule);
  PutVarint(out, part.filters.size());
  for (const SigmaFilter& filter : part.filters) PutFilter(out, filter);
  PutTexts(out, part.skipped);
  PutVarint(out, part.refused.size());
  for (const RuleError& error : part.refused) PutDiagnostic(out, error);
}

bool DecodeLoadResult(std::string_view in, LoadResult* part) {
  Decoder decoder(in);
  wire::WireReader& reader = decoder.in();
  LoadResult result;
  result.files = reader.Varint();
  result.rules.resize(decoder.Count(16));
  for (Rule& rule : result.rules) decoder.RuleValue(rule);
  result.filters.resize(decoder.Count(8));
  for (SigmaFilter& filter : result.filters) decoder.Filter(filter);
  decoder.Texts(result.skipped);
  result.refused.resize(decoder.Count(8));
  for (RuleError& error : result.refused) decoder.Diagnostic(error);
  if (!reader.ok() || !reader.at_end()) return false;
  *part = std::move(result);
  return true;
}

SigmaParseCache::SigmaParseCache(const std::filesystem::path& dir,
                                 const std::vector<std::filesystem::path>& paths,
                                 const LoadOptions& options) {
  if (dir.empty() || BuildId().empty()) return;
  inputs_ = InputsDigest(paths, options);
  file_ = CacheFileOf(dir, inputs_);
  Read();
}

void SigmaParseCache::Read() {
  std::string error;
  if (!ReadRegularFile(file_, kMaxCacheBytes, &bytes_, &error)) return bytes_.clear();
  const std::string_view all(bytes_);
  if (all.size() < kMagic.size() + 32 || all.substr(0, kMagic.size()) != kMagic) return;
  const std::string_view body = all.substr(0, all.size() - 32);
  const FileDigest digest = DigestOf(body);
  if (std::memcmp(digest.data(), all.data() + body.size(), digest.size()) != 0) return;
  wire::WireReader in(body.substr(kMagic.size()));
  if (in.Text() != BuildId() || in.Fixed(8) != inputs_) return;
  const size_t count = in.Count(kMaxItems, 34, "too many entries");
  std::unordered_map<std::string, Entry> entries;
  for (size_t i = 0; i < count && in.ok(); ++i) {
    const std::string_view path = in.Text();
    const std::string_view digest = in.Bytes(32);
    const std::string_view result = in.Text();
    if (!in.ok()) break;
    Entry& entry = entries[std::string(path)];
    std::memcpy(entry.digest.data(), digest.data(), 32);
    entry.result = result;
  }
  if (in.ok() && in.at_end()) entries_ = std::move(entries);
}

bool SigmaParseCache::Find(const std::string& path, const FileDigest& digest,
                           LoadResult* part) const {
  if (digest == FileDigest{}) return false;
  const auto it = entries_.find(path);
  if (it == entries_.end() || it->second.digest != digest) return false;
  return DecodeLoadResult(it->second.result, part);
}

void SigmaParseCache::Save(const std::vector<CachedFile>& files,
                           const std::vector<LoadResult>& parts) const {
  if (!enabled()) return;
  // The files to keep, each path once (a file may be named twice).
  std::vector<size_t> kept;
  std::unordered_map<std::string_view, bool> seen;
  size_t found = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    if (!files[i].readable || files[i].digest == FileDigest{} || !Cacheable(parts[i])) continue;
    if (!seen.emplace(files[i].path, true).second) continue;
    kept.push_back(i);
    if (files[i].found) ++found;
  }
  if (found == kept.size() && found == entries_.size()) {  // what the file holds already
    std::error_code ec;                                    // marked as used, for Prune
    std::filesystem::last_write_time(file_, std::filesystem::file_time_type::clock::now(), ec);
    return;
  }
  std::string data(kMagic);
  PutText(data, BuildId());
  PutFixed(data, inputs_, 8);
  PutVarint(data, kept.size());
  std::string result;
  for (const size_t i : kept) {
    PutText(data, files[i].path);
    data.append(reinterpret_cast<const char*>(files[i].digest.data()), files[i].digest.size());
    result.clear();
    EncodeLoadResult(result, parts[i]);
    PutText(data, result);
    if (data.size() > kMaxCacheBytes) return;
  }
  const FileDigest digest = DigestOf(data);
  data.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  if (WriteFileAtomically(file_, data)) Prune(file_.parent_path());
}

}  // namespace gsoc::rules::internal
