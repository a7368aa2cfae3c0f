// Fills a gsocd data dir with N realistic alerts and their triage states,
// through the store and triage APIs directly (much faster than the ingest
// path), for bench/console_scale.sh (issue 12 targets at 10,000,000 alerts).
//
// Usage: gsoc_bench_console_fill --dir DATA_DIR --rules RULES_TSV [--alerts N]
//   RULES_TSV: "<rule id>\t<title>\t<level>" per line (the script takes
//   them from the shipped Sigma pack, so /api/v1/rules/{id} finds them).
//
// Alerts: ~650-byte JSON (rule with tags, group, fields, one raw syslog
// line), 8 agencies, the rules in turn with a skew (the first rules fire
// more), the rule's level, times spread evenly over the 7 days up to now
// (so the overview counts them), src_ip from 65,536 addresses, 40 hosts, 12
// users. Triage (as analysts would leave it): 1 alert in 50 acknowledged,
// 1 in 100 closed (reason in turn), 1 in 200 assigned to one of 6 analysts;
// changes go in requests of 1,000 alerts, like the console's bulk actions.
// The store is written with sync none, the triage store without sync (a
// bench fill, not a durability test).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/store/alert_store.h"
#include "engine/triage/triage_store.h"

namespace {

using namespace gsoc;
namespace fs = std::filesystem;

constexpr int64_t kSecond = 1'000'000'000;
constexpr size_t kBatch = 256;
const char* const kAgencies[] = {"mof", "moh", "mod", "moe", "moj", "mfa", "mint", "pm"};
const char* const kUsers[] = {"root",   "admin", "oracle", "postgres", "www-data", "deploy",
                              "backup", "guest", "test",   "ubuntu",   "jenkins",  "svc-ldap"};
const char* const kAnalysts[] = {"alice", "bob", "carol", "dave", "erin", "frank"};

struct RuleSpec {
  std::string id, title;
  rules::Level level = rules::Level::kMedium;
};

std::vector<RuleSpec> ReadRules(const fs::path& path) {
  std::vector<RuleSpec> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const size_t tab1 = line.find('\t');
    const size_t tab2 = tab1 == std::string::npos ? tab1 : line.find('\t', tab1 + 1);
    if (tab2 == std::string::npos) continue;
    RuleSpec rule{line.substr(0, tab1), line.substr(tab1 + 1, tab2 - tab1 - 1)};
    const std::string level = line.substr(tab2 + 1);
    for (int l = 0; l <= static_cast<int>(rules::Level::kCritical); ++l) {
      if (level == rules::LevelName(static_cast<rules::Level>(l))) {
        rule.level = static_cast<rules::Level>(l);
      }
    }
    out.push_back(std::move(rule));
  }
  return out;
}

// Rule of alert n: rule 0 a quarter of the time, rule 1 an eighth, ... the
// rest evenly.
size_t RuleOf(uint64_t n, size_t rules) {
  const uint64_t h = (n * 0x9E3779B97F4A7C15ULL) >> 40;
  for (size_t r = 0; r + 1 < rules && r < 4; ++r) {
    if (h % (4ULL << r) == 0) return r;
  }
  return static_cast<size_t>(h % rules);
}

Alert MakeAlert(uint64_t n, uint64_t total, int64_t start_ns, int64_t span_ns,
                const std::vector<RuleSpec>& rules) {
  const RuleSpec& rule = rules[RuleOf(n, rules.size())];
  Alert alert;
  alert.time_ns =
      start_ns + static_cast<int64_t>(static_cast<double>(n) / double(total) * double(span_ns));
  alert.kind = n % 7 == 3 ? AlertKind::kCorrelation : AlertKind::kDetection;
  alert.rule = {rule.id, "", rule.title, rule.level, {"attack.t1110", "attack.credential_access"}};
  alert.agency = kAgencies[(n / 3) % std::size(kAgencies)];
  const uint64_t h = n * 2654435761ULL;
  const std::string ip =
      "203.0." + std::to_string((h >> 8) % 256) + "." + std::to_string((h >> 16) % 256);
  const char* user = kUsers[(h >> 4) % std::size(kUsers)];
  const std::string host = "srv-" + std::to_string(n % 40);
  alert.group = {{"src_ip", ip}};
  alert.window_start_ns = alert.time_ns - 60 * kSecond;
  alert.window_end_ns = alert.time_ns;
  alert.count = 1 + n % 7;
  alert.fields = {{"src_ip", ip}, {"user", user}, {"host", host}};
  alert.events.push_back({n, alert.time_ns,
                          "<38>Nov 25 10:00:00 " + host + " sshd[812]: Failed password for " +
                              user + " from " + ip + " port 52144 ssh2"});
  return alert;
}

int Usage() {
  std::fprintf(stderr,
               "usage: gsoc_bench_console_fill --dir DATA_DIR --rules RULES_TSV [--alerts N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir, rules_path;
  uint64_t total = 10'000'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    if (name == "--dir") {
      dir = argv[i + 1];
    } else if (name == "--rules") {
      rules_path = argv[i + 1];
    } else if (name == "--alerts") {
      total = std::strtoull(argv[i + 1], nullptr, 10);
    } else {
      return Usage();
    }
  }
  if (dir.empty() || rules_path.empty() || total == 0) return Usage();
  const std::vector<RuleSpec> rules = ReadRules(rules_path);
  if (rules.empty()) {
    std::fprintf(stderr, "console_fill: no rules in %s\n", rules_path.c_str());
    return 1;
  }
  fs::create_directories(dir);
  store::StoreOptions options;
  options.path = dir / "alerts.db";
  options.sync = store::SyncPolicy::kNone;
  options.retention_age = std::chrono::seconds(0);
  auto alerts = store::AlertStore::Open(options);
  const uint64_t first_id = alerts->last_id() + 1;
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const int64_t span = 7 * 24 * 3600 * kSecond - 3600 * kSecond;  // the last 7 days but an hour
  const auto started = std::chrono::steady_clock::now();
  // Two publishing threads (as the pipeline's workers); the writer commits in id order.
  auto publish = [&](uint64_t from, uint64_t to) {
    std::vector<Alert> batch;
    for (uint64_t n = from; n < to; n += kBatch) {
      batch.clear();
      for (uint64_t k = n; k < std::min(to, n + kBatch); ++k) {
        batch.push_back(MakeAlert(k, total, now - span, span, rules));
      }
      alerts->Publish(batch);
    }
  };
  const uint64_t chunk = 100'000;
  for (uint64_t n = 0; n < total; n += 2 * chunk) {
    std::thread second(publish, std::min(total, n + chunk), std::min(total, n + 2 * chunk));
    publish(n, std::min(total, n + chunk));
    second.join();
    if ((n / (2 * chunk)) % 10 == 9) {
      std::fprintf(stderr, "console_fill: %llu alerts\n",
                   static_cast<unsigned long long>(n + 2 * chunk));
    }
  }
  alerts->Flush();
  const uint64_t last_id = alerts->last_id();
  const double fill_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  triage::TriageOptions triage_options;
  triage_options.path = dir / "triage.db";
  triage_options.sync = false;
  auto triage = triage::TriageStore::Open(triage_options);
  triage->NoteAlertPosition(last_id);
  auto apply = [&](triage::Change change, uint64_t every, uint64_t offset) {
    std::vector<triage::ChangeTarget> targets;
    size_t requests = 0;
    for (uint64_t id = first_id + offset; id <= last_id; id += every) {
      // The agency as the API passes it (the triage indexes carry it).
      const auto alert = alerts->Get(id);
      targets.push_back({id, alert ? alert->agency : std::string(), 0});
      if (targets.size() == 1000 || id + every > last_id) {
        triage->Apply(change, targets);
        targets.clear();
        ++requests;
      }
    }
    return requests;
  };
  triage::Change ack;
  ack.action = triage::Action::kAck;
  ack.author = "fill";
  apply(ack, 50, 7);
  for (size_t r = 0; r < 4; ++r) {
    triage::Change close;
    close.action = triage::Action::kClose;
    close.reason = static_cast<triage::Reason>(1 + r);
    close.author = "fill";
    apply(close, 400, 11 + 100 * r);
  }
  for (size_t a = 0; a < std::size(kAnalysts); ++a) {
    triage::Change assign;
    assign.action = triage::Action::kAssign;
    assign.assignee = kAnalysts[a];
    assign.author = "fill";
    apply(assign, 200 * std::size(kAnalysts), 13 + 200 * a);
  }
  const double total_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "console_fill: %llu alerts (ids %llu..%llu) in %.1f s (%.0f alerts/s), triage in %.1f s\n",
      static_cast<unsigned long long>(last_id - first_id + 1),
      static_cast<unsigned long long>(first_id), static_cast<unsigned long long>(last_id),
      fill_seconds, double(last_id - first_id + 1) / fill_seconds, total_seconds - fill_seconds);
  return 0;
}
