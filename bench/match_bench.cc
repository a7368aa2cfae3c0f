// Matcher throughput: events/s per core (one thread) with 10, 100, 1,000 and
// 5,000 generated rules, on real lines (loghub OpenSSH and Linux, parsed by
// the syslog parser, with src_ip/user pulled out the way an sshd decoder
// would) and on synthetic events; and the compile time of 1,000 rules, cold
// and from the on-disk cache (counters compile_s).
//
// The rules look like the SigmaHQ linux ones: keyword lists on the message,
// program equals + message contains, user equals/startswith, src_ip
// startswith/cidr, some `and not` filters; most values are unique generated
// words (so the databases grow with the rule count) and a few are phrases
// that occur in the logs (so events do match).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "collectors/syslog/syslog_parser.h"
#include "engine/indicators/indicator_list.h"
#include "engine/match/matcher.h"

namespace {

using gsoc::Event;
using gsoc::EventBatch;
using gsoc::match::CompileOptions;
using gsoc::match::Matcher;
using gsoc::rules::MatchOp;

const std::vector<std::string> kPhrases = {"Failed password",
                                           "Accepted publickey",
                                           "Invalid user",
                                           "POSSIBLE BREAK-IN ATTEMPT",
                                           "session opened",
                                           "authentication failure",
                                           "Connection closed",
                                           "Did not receive identification",
                                           "segfault",
                                           "Out of memory",
                                           "nc -e /bin/sh",
                                           "wget http",
                                           "chmod 777",
                                           "/etc/shadow",
                                           "base64 -d",
                                           "useradd",
                                           "Bad protocol version",
                                           "maximum authentication attempts",
                                           "reverse mapping checking",
                                           "ALERT exited abnormally"};
const std::vector<std::string> kPrograms = {"sshd",   "su",   "cron",  "sudo",
                                            "kernel", "ftpd", "login", "named"};

std::string Word(std::mt19937& rng) {
  static const char kLetters[] = "abcdefghijklmnopqrstuvwxyz";
  std::uniform_int_distribution<int> length(5, 10), letter(0, 25);
  std::string word;
  int n = length(rng);
  for (int i = 0; i < n; ++i) word.push_back(kLetters[letter(rng)]);
  return word;
}

gsoc::rules::ValueMatcher V(MatchOp op, std::string text) {
  gsoc::rules::ValueMatcher value;
  value.op = op;
  value.text = std::move(text);
  return value;
}

gsoc::rules::Condition Sel(int index) {
  gsoc::rules::Condition condition;
  condition.selection = index;
  return condition;
}

std::vector<gsoc::rules::Rule> MakeRules(int count) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> kind(0, 9), percent(0, 99);
  std::vector<gsoc::rules::Rule> rules;
  for (int i = 0; i < count; ++i) {
    gsoc::rules::Rule rule;
    rule.id = "bench-" + std::to_string(i);
    rule.location = {"bench.yml", i + 1};
    gsoc::rules::Selection selection;
    selection.name = "selection";
    std::vector<gsoc::rules::FieldPredicate> predicates;
    // A real phrase in 1 of 20 values, so that some rules fire.
    auto text = [&]() { return percent(rng) < 5 ? kPhrases[rng() % kPhrases.size()] : Word(rng); };
    int k = kind(rng);
    if (k < 4) {  // keyword list
      gsoc::rules::FieldPredicate keywords;
      int n = 2 + static_cast<int>(rng() % 5);
      for (int j = 0; j < n; ++j) keywords.values.push_back(V(MatchOp::kContains, text()));
      predicates.push_back(std::move(keywords));
    } else if (k < 6) {  // program + message contains (a wildcard now and then)
      predicates.push_back({"program", {V(MatchOp::kEquals, kPrograms[rng() % kPrograms.size()])}});
      std::string value = text();
      if (percent(rng) < 20) value = value + "*" + Word(rng);
      predicates.push_back({"message", {V(MatchOp::kContains, value)}});
    } else if (k < 8) {  // user
      predicates.push_back({"user",
                            {V(percent(rng) < 50 ? MatchOp::kEquals : MatchOp::kStartsWith,
                               percent(rng) < 10 ? "root" : Word(rng))}});
      predicates.push_back({"message", {V(MatchOp::kContains, text())}});
    } else if (k < 9) {  // src_ip
      if (percent(rng) < 50) {
        predicates.push_back({"src_ip",
                              {V(MatchOp::kStartsWith, std::to_string(rng() % 256) + "." +
                                                           std::to_string(rng() % 256) + ".")}});
      } else {
        auto cidr = V(MatchOp::kCidr, std::to_string(rng() % 256) + ".0.0.0/8");
        cidr.cidr = gsoc::Cidr::Parse(cidr.text);
        predicates.push_back({"src_ip", {cidr}});
        predicates.push_back({"", {V(MatchOp::kContains, text())}});
      }
    } else {  // message endswith / startswith
      predicates.push_back(
          {"message", {V(MatchOp::kEndsWith, text()), V(MatchOp::kStartsWith, text())}});
    }
    selection.alternatives.push_back(std::move(predicates));
    rule.selections.push_back(std::move(selection));
    rule.condition = Sel(0);
    if (percent(rng) < 15) {  // `selection and not filter`
      gsoc::rules::Selection filter;
      filter.name = "filter";
      filter.alternatives.push_back({{"host", {V(MatchOp::kStartsWith, Word(rng))}}});
      rule.selections.push_back(std::move(filter));
      gsoc::rules::Condition negation;
      negation.kind = gsoc::rules::Condition::Kind::kNot;
      negation.children.push_back(Sel(1));
      gsoc::rules::Condition both;
      both.kind = gsoc::rules::Condition::Kind::kAnd;
      both.children.push_back(Sel(0));
      both.children.push_back(std::move(negation));
      rule.condition = std::move(both);
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

// The token after `marker` in the message, if any.
std::string_view After(std::string_view message, std::string_view marker) {
  size_t at = message.find(marker);
  if (at == std::string_view::npos) return {};
  std::string_view rest = message.substr(at + marker.size());
  return rest.substr(0, rest.find_first_of(" ]:;"));
}

void AddLoghub(EventBatch& batch, const char* relative) {
  std::ifstream in(std::string(GSOC_CORPUS_DIR) + "/loghub/" + relative);
  std::string line;
  gsoc::SyslogParseContext context;
  context.receive_time_ns = 1'718'000'000'000'000'000;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::string_view frame = batch.arena().Copy("<38>" + line);
    Event& event = batch.AddEvent();
    gsoc::EventFormat failed;
    gsoc::ParseSyslog(frame, context, event, batch, &failed);
    // What an sshd decoder would extract.
    std::string_view ip = After(event.message, " from ");
    if (ip.empty()) ip = After(event.message, "rhost=");
    if (!ip.empty()) batch.AddField(event, "src_ip", ip);
    std::string_view user = After(event.message, "user ");
    if (!user.empty()) batch.AddField(event, "user", user);
  }
}

void AddSynthetic(EventBatch& batch, int count) {
  std::mt19937 rng(7);
  for (int i = 0; i < count; ++i) {
    std::string message;
    int words = 6 + static_cast<int>(rng() % 12);
    for (int w = 0; w < words; ++w) {
      if (w) message.push_back(' ');
      message += rng() % 25 == 0 ? kPhrases[rng() % kPhrases.size()] : Word(rng);
    }
    Event& event = batch.AddEvent();
    event.message = batch.arena().Copy(message);
    event.program = batch.arena().Copy(kPrograms[rng() % kPrograms.size()]);
    event.host = batch.arena().Copy("host" + std::to_string(rng() % 50));
    std::string ip = std::to_string(rng() % 256) + "." + std::to_string(rng() % 256) + ".1.2";
    batch.AddField(event, "src_ip", batch.arena().Copy(ip));
    batch.AddField(event, "user", batch.arena().Copy(rng() % 10 == 0 ? "root" : Word(rng)));
  }
}

const Matcher& MatcherFor(int rules) {
  static std::map<int, std::unique_ptr<Matcher>> cache;
  auto& slot = cache[rules];
  if (!slot) slot = Matcher::Compile(MakeRules(rules), {}).matcher;
  return *slot;
}

const EventBatch& Corpus(int which) {
  static EventBatch batches[3];
  static bool loaded[3] = {};
  if (!loaded[which]) {
    loaded[which] = true;
    if (which == 0) AddLoghub(batches[0], "OpenSSH/OpenSSH_2k.log");
    if (which == 1) AddLoghub(batches[1], "Linux/Linux_2k.log");
    if (which == 2) AddSynthetic(batches[2], 4096);
  }
  return batches[which];
}

// Args: rule count, corpus (0 OpenSSH, 1 Linux, 2 synthetic).
void BM_Match(benchmark::State& state) {
  const Matcher& matcher = MatcherFor(static_cast<int>(state.range(0)));
  const EventBatch& batch = Corpus(static_cast<int>(state.range(1)));
  if (batch.empty()) {
    state.SkipWithError("no events (corpus missing?)");
    return;
  }
  auto scratch = matcher.MakeScratch();
  size_t matches = 0;
  std::function<void(size_t)> on_match = [&](size_t) { ++matches; };
  for (auto _ : state) {
    for (const Event& event : batch.events()) matcher.Match(batch, event, *scratch, on_match);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch.size()));
  state.counters["matches_per_event"] =
      static_cast<double>(matches) / static_cast<double>(state.iterations() * batch.size());
  static const char* const kNames[] = {"openssh", "linux", "synthetic"};
  state.SetLabel(kNames[state.range(1)]);
}
BENCHMARK(BM_Match)->ArgsProduct({{10, 100, 1000, 5000}, {0, 1, 2}})->ArgNames({"rules", "corpus"});

// 1,000,000 indicators (800k IPv4 addresses, 100k CIDRs, 100k domains) in
// one list, used by 20 extra rules: 10 `src_ip|expand` lookups and 10
// keyword (substring) lookups in the message, on top of the generated rules.
const gsoc::indicators::IndicatorRegistry& MillionIndicators() {
  static gsoc::indicators::IndicatorRegistry registry = [] {
    const auto file = std::filesystem::temp_directory_path() /
                      ("gsoc_bench_indicators_" + std::to_string(::getpid()) + ".txt");
    {
      std::ofstream out(file);
      std::mt19937 rng(99);
      for (int i = 0; i < 800'000; ++i) {
        out << 10 + rng() % 200 << '.' << rng() % 256 << '.' << rng() % 256 << '.' << rng() % 256
            << '\n';
      }
      for (int i = 0; i < 100'000; ++i) {
        out << rng() % 224 << '.' << rng() % 256 << '.' << rng() % 256 << ".0/24\n";
      }
      for (int i = 0; i < 100'000; ++i) out << Word(rng) << '-' << i << ".example.invalid\n";
    }
    gsoc::indicators::IndicatorRegistry lists;
    lists["bad"] = gsoc::indicators::IndicatorList::Load({"bad", file, ""});
    std::filesystem::remove(file);
    return lists;
  }();
  return registry;
}

std::vector<gsoc::rules::Rule> RulesWithIndicators(int count) {
  auto rules = MakeRules(count);
  for (int i = 0; i < 20; ++i) {
    gsoc::rules::Rule rule;
    rule.id = "bench-ioc-" + std::to_string(i);
    gsoc::rules::ValueMatcher value;
    value.op = MatchOp::kIndicator;
    value.indicator_list = "bad";
    gsoc::rules::Selection selection;
    selection.name = "selection";
    if (i < 10) {
      selection.alternatives.push_back({{"src_ip", {value}}});
    } else {
      value.text = "contains";  // substring lookup (engine/match/README.md)
      selection.alternatives.push_back({{"", {value}}});
    }
    rule.selections.push_back(std::move(selection));
    rule.condition = Sel(0);
    rules.push_back(std::move(rule));
  }
  return rules;
}

// Args: rule count, corpus; the generated rules plus the 20 indicator rules.
void BM_MatchWithMillionIndicators(benchmark::State& state) {
  static std::map<int, std::unique_ptr<Matcher>> cache;
  auto& matcher = cache[static_cast<int>(state.range(0))];
  if (!matcher) {
    CompileOptions options;
    options.indicators = &MillionIndicators();
    auto result = Matcher::Compile(RulesWithIndicators(static_cast<int>(state.range(0))), options);
    if (!result.refused.empty()) {
      state.SkipWithError(result.refused.front().message.c_str());
      return;
    }
    matcher = std::move(result.matcher);
  }
  const EventBatch& batch = Corpus(static_cast<int>(state.range(1)));
  auto scratch = matcher->MakeScratch();
  size_t matches = 0;
  std::function<void(size_t)> on_match = [&](size_t) { ++matches; };
  for (auto _ : state) {
    for (const Event& event : batch.events()) matcher->Match(batch, event, *scratch, on_match);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch.size()));
  state.counters["indicator_mb"] =
      static_cast<double>(MillionIndicators().at("bad")->memory_bytes()) / (1 << 20);
  static const char* const kNames[] = {"openssh", "linux", "synthetic"};
  state.SetLabel(kNames[state.range(1)]);
}
BENCHMARK(BM_MatchWithMillionIndicators)
    ->ArgsProduct({{10, 1000}, {0, 2}})
    ->ArgNames({"rules", "corpus"});

// Compile 1,000 rules: Arg 0 cold (no cache), 1 from a warm on-disk cache.
void BM_Compile1000(benchmark::State& state) {
  auto rules = MakeRules(1000);
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("gsoc_match_bench_" + std::to_string(::getpid()));
  CompileOptions options;
  if (state.range(0) == 1) {
    options.cache_dir = dir;
    Matcher::Compile(rules, options);  // warm the cache
  }
  double seconds = 0;
  bool from_cache = true;
  for (auto _ : state) {
    auto result = Matcher::Compile(rules, options);
    seconds += result.stats.seconds;
    from_cache = from_cache && result.stats.from_cache;
    state.counters["patterns"] = static_cast<double>(result.stats.patterns);
    state.counters["databases"] = static_cast<double>(result.stats.databases);
  }
  state.counters["compile_s"] = seconds / static_cast<double>(state.iterations());
  state.counters["from_cache"] = from_cache ? 1 : 0;
  state.SetLabel(state.range(0) == 1 ? "cache" : "cold");
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
BENCHMARK(BM_Compile1000)->Arg(0)->Arg(1)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace
