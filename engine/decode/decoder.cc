#include "engine/decode/decoder.h"

#include <hs/hs.h>
#include <pcre2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "engine/decode/program_databases.h"
#include "engine/decode/regex_convert.h"
#include "engine/util/program_name.h"
#include "engine/util/regular_file.h"

namespace gsoc::decode {
namespace {

namespace fs = std::filesystem;

struct Capture {
  uint32_t group = 0;
  std::string name;
};

struct Constant {
  std::string name;
  std::string value;
};

struct Decoder {
  std::string name;
  std::vector<std::string> programs;  // lower case
  std::vector<uint16_t> listeners;
  std::vector<uint16_t> agencies;
  std::string regex;
  pcre2_code* code = nullptr;
  bool jit = false;
  bool continue_after_match = false;
  std::vector<Capture> captures;
  std::vector<Constant> constants;
  rules::SourceLocation location;
};

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool ProgramMatches(const Decoder& decoder, std::string_view program) {
  return decoder.programs.empty() || ProgramNamed(decoder.programs, program);
}

bool Contains(const std::vector<uint16_t>& list, uint16_t value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string Pcre2Message(int code) {
  PCRE2_UCHAR buffer[256];
  const int n = pcre2_get_error_message(code, buffer, sizeof(buffer));
  if (n < 0) return "PCRE2 error " + std::to_string(code);
  return std::string(reinterpret_cast<const char*>(buffer), static_cast<size_t>(n));
}

rules::RuleError MakeError(std::string file, int line, std::string name, std::string reason) {
  rules::RuleError error;
  error.code = "decoder.rule";
  error.location.file = std::move(file);
  error.location.line = line;
  error.rule_id = std::move(name);
  error.message = std::move(reason);
  return error;
}

}  // namespace

struct DecoderSet::Impl {
  std::vector<Decoder> decoders;
  // Candidate selection: ids are decoder indexes. A Windows event's long
  // message is scanned for the unfiltered decoders' patterns only, an sshd
  // line for those and the sshd decoders'.
  ProgramDatabases databases;
  std::vector<uint32_t> always_candidates;  // decoders Hyperscan could not take
  uint32_t ovector_pairs = 1;
  RegexLimits limits;
  // Per decoder: matches stopped by a RegexLimits bound (counted as no match).
  std::unique_ptr<std::atomic<uint64_t>[]> limit_hits;

  ~Impl() {
    for (Decoder& decoder : decoders) pcre2_code_free(decoder.code);
  }
};

struct DecoderSet::Scratch::State {
  hs_scratch_t* hs = nullptr;
  pcre2_match_data* match_data = nullptr;
  std::unique_ptr<RegexMatchContext> regex;
  std::vector<uint32_t> candidates;

  ~State() {
    hs_free_scratch(hs);
    pcre2_match_data_free(match_data);
  }
};

DecoderSet::Scratch::Scratch(std::unique_ptr<State> state) : state_(std::move(state)) {}
DecoderSet::Scratch::~Scratch() = default;

namespace {

// A decoder file is hand-written YAML: far below this.
constexpr uint64_t kMaxDecoderFileBytes = 16 << 20;

class Loader {
 public:
  Loader(const std::vector<std::string>& listener_names,
         const std::vector<std::string>& agency_names, std::vector<Decoder>& decoders,
         std::vector<rules::RuleError>& errors)
      : listener_names_(listener_names),
        agency_names_(agency_names),
        decoders_(decoders),
        errors_(errors) {}

  void LoadFile(const fs::path& path) {
    file_ = path.string();
    YAML::Node root;
    std::string text;
    std::string read_error;
    if (!ReadRegularFile(path, kMaxDecoderFileBytes, &text, &read_error)) {
      Error(0, "", read_error);
      return;
    }
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      Error(e.mark.is_null() ? 0 : e.mark.line + 1, "", "YAML: " + e.msg);
      return;
    }
    if (!root.IsMap()) {
      Error(Line(root), "", "expected a map with a `decoders` list");
      return;
    }
    YAML::Node list;
    bool has_list = false;
    for (const auto& entry : root) {
      const std::string key = entry.first.Scalar();
      if (key == "decoders") {
        list = entry.second;
        has_list = true;
      } else {
        Error(Line(entry.first), "", "unknown key `" + key + "` (expected `decoders`)");
      }
    }
    if (!has_list || !list.IsSequence()) {
      Error(Line(has_list ? list : root), "", "`decoders` must be a list");
      return;
    }
    for (const YAML::Node& node : list) LoadDecoder(node);
  }

 private:
  static int Line(const YAML::Node& node) {
    const YAML::Mark mark = node.Mark();
    return mark.is_null() ? 0 : mark.line + 1;
  }

  void Error(int line, const std::string& name, std::string reason) {
    errors_.push_back(MakeError(file_, line, name, std::move(reason)));
  }

  // A scalar or a list of scalars.
  bool StringList(const YAML::Node& node, const std::string& name, const std::string& key,
                  std::vector<std::string>& out) {
    if (node.IsScalar()) {
      out.push_back(node.Scalar());
      return true;
    }
    if (node.IsSequence()) {
      for (const YAML::Node& item : node) {
        if (!item.IsScalar() || item.Scalar().empty()) {
          Error(Line(item), name, "`" + key + "` entries must be non-empty strings");
          return false;
        }
        out.push_back(item.Scalar());
      }
      return true;
    }
    Error(Line(node), name, "`" + key + "` must be a string or a list of strings");
    return false;
  }

  void ResolveNames(const YAML::Node& node, const std::string& name, const std::string& key,
                    const std::vector<std::string>& table, std::vector<uint16_t>& out, bool& ok) {
    std::vector<std::string> names;
    if (!StringList(node, name, key, names)) {
      ok = false;
      return;
    }
    for (const std::string& wanted : names) {
      auto it = std::find(table.begin(), table.end(), wanted);
      if (it == table.end()) {
        Error(Line(node), name,
              std::string("unknown ") + (key == "agencies" ? "agency" : "listener") + " `" +
                  wanted + "`");
        ok = false;
        continue;
      }
      out.push_back(static_cast<uint16_t>(it - table.begin()));
    }
  }

  void LoadDecoder(const YAML::Node& node) {
    if (!node.IsMap()) {
      Error(Line(node), "", "a decoder must be a map");
      return;
    }
    Decoder decoder;
    decoder.location = {file_, Line(node)};
    bool ok = true;
    // The name first, so that every other error can carry it.
    if (const YAML::Node name = node["name"]; name) {
      if (!name.IsScalar() || name.Scalar().empty()) {
        Error(Line(name), "", "`name` must be a non-empty string");
        ok = false;
      } else {
        decoder.name = name.Scalar();
      }
    } else {
      Error(Line(node), "", "decoder has no `name`");
      ok = false;
    }
    const std::string& name = decoder.name;
    YAML::Node regex_node;
    bool has_regex = false;
    for (const auto& entry : node) {
      const std::string key = entry.first.Scalar();
      const YAML::Node& value = entry.second;
      if (key == "name" || key == "description") {
        if (key == "description" && !value.IsScalar()) {
          Error(Line(value), name, "`description` must be a string");
          ok = false;
        }
      } else if (key == "regex") {
        regex_node = value;
        has_regex = true;
      } else if (key == "programs") {
        std::vector<std::string> programs;
        if (StringList(value, name, key, programs)) {
          for (std::string& program : programs) {
            for (char& c : program) c = LowerAscii(c);
            decoder.programs.push_back(std::move(program));
          }
        } else {
          ok = false;
        }
      } else if (key == "listeners") {
        ResolveNames(value, name, key, listener_names_, decoder.listeners, ok);
      } else if (key == "agencies") {
        ResolveNames(value, name, key, agency_names_, decoder.agencies, ok);
      } else if (key == "fields") {
        if (!value.IsMap()) {
          Error(Line(value), name, "`fields` must be a map of field name to value");
          ok = false;
          continue;
        }
        for (const auto& field : value) {
          if (!field.second.IsScalar() || field.first.Scalar().empty()) {
            Error(Line(field.first), name, "`fields` values must be strings");
            ok = false;
            continue;
          }
          decoder.constants.push_back({field.first.Scalar(), field.second.Scalar()});
        }
      } else if (key == "continue") {
        try {
          decoder.continue_after_match = value.as<bool>();
        } catch (const YAML::Exception&) {
          Error(Line(value), name, "`continue` must be true or false");
          ok = false;
        }
      } else {
        Error(Line(entry.first), name,
              "unknown key `" + key +
                  "` (expected name, description, programs, listeners, agencies, regex, fields, "
                  "continue)");
        ok = false;
      }
    }
    if (!name.empty()) {
      auto [it, inserted] = seen_.emplace(name, decoder.location);
      if (!inserted) {
        Error(decoder.location.line, name,
              "duplicate decoder name (first defined at " + it->second.file + ":" +
                  std::to_string(it->second.line) + ")");
        ok = false;
      }
    }
    if (!has_regex) {
      Error(decoder.location.line, name, "decoder has no `regex`");
      return;
    }
    if (!regex_node.IsScalar() || regex_node.Scalar().empty()) {
      Error(Line(regex_node), name, "`regex` must be a non-empty string");
      return;
    }
    decoder.regex = regex_node.Scalar();
    if (!CompileRegex(decoder, Line(regex_node))) ok = false;
    if (!ok) {
      pcre2_code_free(decoder.code);
      return;
    }
    decoders_.push_back(std::move(decoder));
  }

  bool CompileRegex(Decoder& decoder, int line) {
    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    decoder.code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(decoder.regex.data()),
                                 decoder.regex.size(), 0, &error_code, &error_offset, nullptr);
    if (decoder.code == nullptr) {
      Error(line, decoder.name,
            "regex does not compile: " + Pcre2Message(error_code) + " at offset " +
                std::to_string(error_offset));
      return false;
    }
    uint32_t name_count = 0;
    uint32_t entry_size = 0;
    PCRE2_SPTR table = nullptr;
    pcre2_pattern_info(decoder.code, PCRE2_INFO_NAMECOUNT, &name_count);
    pcre2_pattern_info(decoder.code, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
    pcre2_pattern_info(decoder.code, PCRE2_INFO_NAMETABLE, &table);
    if (name_count == 0) {
      Error(line, decoder.name,
            "regex has no named groups (?<field>...); captures are what a decoder extracts");
      return false;
    }
    for (uint32_t i = 0; i < name_count; ++i) {
      const PCRE2_SPTR entry = table + static_cast<size_t>(i) * entry_size;
      const uint32_t group = (static_cast<uint32_t>(entry[0]) << 8) | entry[1];
      decoder.captures.push_back({group, std::string(reinterpret_cast<const char*>(entry + 2))});
    }
    std::sort(decoder.captures.begin(), decoder.captures.end(),
              [](const Capture& a, const Capture& b) { return a.group < b.group; });
    decoder.jit = pcre2_jit_compile(decoder.code, PCRE2_JIT_COMPLETE) == 0;
    return true;
  }

  const std::vector<std::string>& listener_names_;
  const std::vector<std::string>& agency_names_;
  std::vector<Decoder>& decoders_;
  std::vector<rules::RuleError>& errors_;
  std::unordered_map<std::string, rules::SourceLocation> seen_;
  std::string file_;
};

// Flags Hyperscan accepts `expression` with, or -1 if it takes it in no form
// (the decoder is then a candidate for every event).
int HyperscanFlags(const std::string& expression) {
  for (unsigned flags : {HS_FLAG_SINGLEMATCH, HS_FLAG_SINGLEMATCH | HS_FLAG_PREFILTER}) {
    hs_database_t* db = nullptr;
    hs_compile_error_t* error = nullptr;
    if (hs_compile(expression.c_str(), flags, HS_MODE_BLOCK, nullptr, &db, &error) == HS_SUCCESS) {
      hs_free_database(db);
      return static_cast<int>(flags);
    }
    hs_free_compile_error(error);
  }
  return -1;
}

std::vector<fs::path> ExpandPaths(const std::vector<fs::path>& paths,
                                  std::vector<rules::RuleError>& errors) {
  std::vector<fs::path> files;
  for (const fs::path& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<fs::path> found;
      for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path& p = it->path();
        if (it->is_regular_file(ec) && (p.extension() == ".yaml" || p.extension() == ".yml")) {
          found.push_back(p);
        }
      }
      if (ec) {
        errors.push_back(MakeError(path.string(), 0, "", "cannot read folder: " + ec.message()));
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(path, ec)) {
      files.push_back(path);
    } else {
      errors.push_back(MakeError(path.string(), 0, "", "no such file or folder"));
    }
  }
  return files;
}

// Shorter literals fire on too many messages to be worth a scan.
constexpr size_t kMinLiteral = 3;

// What Hyperscan looks for on behalf of decoder `id`: a literal every match
// must contain where the regex has one, else the regex itself (named groups
// rewritten as plain groups; PREFILTER where the exact form is refused);
// nothing for a regex Hyperscan takes in neither form (an always-candidate).
// The literal matters: full regexes with bounded IPv6 repeats made Hyperscan
// a third of gsocd's CPU on a mixed syslog load.
std::optional<HsPattern> PatternOf(const Decoder& decoder, uint32_t id) {
  const std::optional<RequiredLiteral> literal = FindRequiredLiteral(decoder.regex);
  if (literal && literal->text.size() >= kMinLiteral) {
    return HsPattern{id, literal->text,
                     HS_FLAG_SINGLEMATCH | (literal->caseless ? HS_FLAG_CASELESS : 0u), true};
  }
  std::string expression = StripNamedGroups(decoder.regex);
  const int flags = HyperscanFlags(expression);
  if (flags < 0) return std::nullopt;
  return HsPattern{id, std::move(expression), static_cast<unsigned>(flags), false};
}

}  // namespace

DecoderSet::DecoderSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DecoderSet::~DecoderSet() = default;

DecoderSet::LoadResult DecoderSet::Load(const std::vector<fs::path>& paths,
                                        const std::vector<std::string>& listener_names,
                                        const std::vector<std::string>& agency_names,
                                        const RegexLimits& limits, Prefilter prefilter) {
  LoadResult result;
  auto impl = std::make_unique<Impl>();
  impl->limits = limits;
  const std::vector<fs::path> files = ExpandPaths(paths, result.errors);
  Loader loader(listener_names, agency_names, impl->decoders, result.errors);
  for (const fs::path& file : files) loader.LoadFile(file);
  if (!result.errors.empty()) return result;

  // Candidate selection (README, PatternOf, ProgramDatabases).
  for (uint32_t i = 0; i < impl->decoders.size(); ++i) {
    Decoder& decoder = impl->decoders[i];
    uint32_t captures = 0;
    pcre2_pattern_info(decoder.code, PCRE2_INFO_CAPTURECOUNT, &captures);
    impl->ovector_pairs = std::max(impl->ovector_pairs, captures + 1);
    std::optional<HsPattern> pattern;
    if (prefilter != Prefilter::kNone) pattern = PatternOf(decoder, i);
    if (!pattern) {
      impl->always_candidates.push_back(i);
      continue;
    }
    impl->databases.Add(std::move(*pattern), decoder.programs);
  }
  std::string error;
  int64_t culprit = -1;
  if (!impl->databases.Compile(&error, &culprit)) {
    const Decoder* decoder = culprit >= 0 ? &impl->decoders[culprit] : nullptr;
    result.errors.push_back(
        MakeError(decoder ? decoder->location.file : "", decoder ? decoder->location.line : 0,
                  decoder ? decoder->name : "", "Hyperscan database: " + error));
    return result;
  }
  impl->limit_hits = std::make_unique<std::atomic<uint64_t>[]>(impl->decoders.size());
  result.set.reset(new DecoderSet(std::move(impl)));
  return result;
}

std::unique_ptr<DecoderSet::Scratch> DecoderSet::MakeScratch() const {
  auto state = std::make_unique<Scratch::State>();
  impl_->databases.AllocScratch(&state->hs);
  state->match_data = pcre2_match_data_create(impl_->ovector_pairs, nullptr);
  state->regex = std::make_unique<RegexMatchContext>(impl_->limits);
  state->candidates.reserve(impl_->decoders.size());
  return std::unique_ptr<Scratch>(new Scratch(std::move(state)));
}

size_t DecoderSet::size() const { return impl_->decoders.size(); }

std::vector<DecoderSet::LimitHits> DecoderSet::limit_hits() const {
  std::vector<LimitHits> out;
  for (size_t i = 0; i < impl_->decoders.size(); ++i) {
    const uint64_t hits = impl_->limit_hits[i].load(std::memory_order_relaxed);
    if (hits > 0) out.push_back({impl_->decoders[i].name, hits});
  }
  return out;
}

namespace {

// A JSON event without a `message` member (collectors/json/README.md) has
// the whole line as its message, for keyword rules: no free text to decode.
// Its members are fields already, and a decoder's text pattern would only
// meet them escaped (quotes and backslashes) inside the JSON syntax.
bool IsWholeJsonLine(const Event& event) {
  return event.format == EventFormat::kJson && event.message.data() == event.raw.data() &&
         event.message.size() == event.raw.size();
}

}  // namespace

std::string_view DecoderSet::Decode(EventBatch& batch, Event& event, Scratch& scratch) const {
  Scratch::State& state = *scratch.state_;
  std::vector<uint32_t>& candidates = state.candidates;
  candidates.clear();
  const std::string_view message = event.message;
  if (IsWholeJsonLine(event)) return {};
  impl_->databases.Scan(event.program, message, state.hs, candidates);
  if (candidates.empty() && impl_->always_candidates.empty()) return {};
  candidates.insert(candidates.end(), impl_->always_candidates.begin(),
                    impl_->always_candidates.end());
  std::sort(candidates.begin(), candidates.end());  // file order
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());

  std::string_view matched;
  const auto subject = reinterpret_cast<PCRE2_SPTR>(message.data());
  for (const uint32_t index : candidates) {
    const Decoder& decoder = impl_->decoders[index];
    if (!decoder.listeners.empty() && !Contains(decoder.listeners, event.listener)) continue;
    if (!decoder.agencies.empty() && !Contains(decoder.agencies, event.agency)) continue;
    if (!ProgramMatches(decoder, event.program)) continue;
    pcre2_match_context* context = state.regex->get(message.size());
    const int rc = decoder.jit ? pcre2_jit_match(decoder.code, subject, message.size(), 0, 0,
                                                 state.match_data, context)
                               : pcre2_match(decoder.code, subject, message.size(), 0, 0,
                                             state.match_data, context);
    if (IsRegexLimitHit(rc)) impl_->limit_hits[index].fetch_add(1, std::memory_order_relaxed);
    if (rc <= 0) continue;  // no match, or a limit hit (counted)
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(state.match_data);
    for (const Capture& capture : decoder.captures) {
      if (capture.group >= static_cast<uint32_t>(rc)) continue;  // unset (trailing)
      const PCRE2_SIZE begin = ovector[2 * capture.group];
      const PCRE2_SIZE end = ovector[2 * capture.group + 1];
      if (begin == PCRE2_UNSET || end <= begin) continue;  // unset or empty
      batch.AddField(event, capture.name, message.substr(begin, end - begin));
    }
    for (const Constant& constant : decoder.constants) {
      batch.AddField(event, constant.name, constant.value);
    }
    if (matched.empty()) matched = decoder.name;
    if (!decoder.continue_after_match) break;
  }
  return matched;
}

}  // namespace gsoc::decode
