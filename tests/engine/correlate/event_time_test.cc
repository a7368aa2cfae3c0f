// Event time per source (agency, host), late events that are never moved,
// and the order in which batches reach the correlator (issue 10 item 4,
// issue 11 finding 4).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/correlate/correlator.h"

namespace gsoc::correlate {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kBase = 1'700'000'000 * kSecond;

// One log line that matched detection rule `rule`.
struct Line {
  uint16_t agency = 0;
  std::string host;
  double seconds = 0;  // event time, kBase + seconds
  uint32_t rule = 0;
  std::string src_ip;
  std::string user = "root";
};

// Events own their bytes (the batch arena); every line is a hit.
class Batch {
 public:
  void Add(uint64_t id, const Line& line, bool hit = true) {
    Event& event = batch_.AddEvent();
    event.id = id;
    event.event_time_ns = kBase + static_cast<int64_t>(line.seconds * kSecond);
    event.receive_time_ns = event.event_time_ns;
    event.agency = line.agency;
    event.host = batch_.arena().Copy(line.host);
    event.raw = batch_.arena().Copy("raw " + std::to_string(id) + " " + line.src_ip);
    event.message = event.raw;
    batch_.AddField(event, batch_.arena().Copy("src_ip"), batch_.arena().Copy(line.src_ip));
    batch_.AddField(event, batch_.arena().Copy("user"), batch_.arena().Copy(line.user));
    if (hit) hits_.push_back({static_cast<uint32_t>(batch_.size() - 1), line.rule});
  }
  const EventBatch& batch() const { return batch_; }
  const std::vector<RuleHit>& hits() const { return hits_; }

 private:
  EventBatch batch_;
  std::vector<RuleHit> hits_;
};

CorrelationRule Rule(std::string name, CorrelationType type, std::string field, double gte,
                     int64_t timespan_s) {
  CorrelationRule rule;
  rule.id = rule.name = rule.title = name;
  rule.type = type;
  RuleRef ref;
  ref.written = ref.name = "failure";
  rule.refs.push_back(ref);
  rule.group_by = {"src_ip"};
  rule.group_fields = {{"src_ip"}};
  rule.timespan_ns = timespan_s * kSecond;
  rule.condition.gte = gte;
  rule.field = std::move(field);
  rule.fingerprint = name;
  return rule;
}

// Detection rule 0 feeds every correlation of the set.
CorrelationSet SetOf(std::vector<CorrelationRule> rules) {
  CorrelationSet set;
  set.rules = std::move(rules);
  set.detection_routes.resize(1);
  for (uint32_t i = 0; i < set.rules.size(); ++i) set.detection_routes[0].push_back({i, 0});
  set.correlation_routes.resize(set.rules.size());
  set.correlation_silenced.assign(set.rules.size(), false);
  set.detection_silenced.assign(1, true);
  return set;
}

CorrelationSet BruteForce() {
  return SetOf({Rule("brute", CorrelationType::kEventCount, "", 5, 60)});
}

std::string Describe(const Alert& alert) {
  std::string text = alert.rule.name + " " + alert.agency;
  for (const auto& [name, value] : alert.group) text += " " + name + "=" + value;
  text += " " + std::to_string((alert.window_start_ns - kBase) / kSecond) + ".." +
          std::to_string((alert.window_end_ns - kBase) / kSecond) +
          " n=" + std::to_string(alert.count);
  return text;
}

// Feeds `lines` in order, `batch_size` a batch (ids 1, 2, ...), then ends
// the stream; the alerts as sorted descriptions.
std::vector<std::string> Replay(Correlator& correlator, const CorrelationSet& set,
                                const std::vector<Line>& lines, size_t batch_size) {
  std::vector<Alert> alerts;
  for (size_t begin = 0; begin < lines.size(); begin += batch_size) {
    Batch batch;
    for (size_t i = begin; i < std::min(lines.size(), begin + batch_size); ++i) {
      batch.Add(i + 1, lines[i]);
    }
    correlator.Process(set, batch.batch(), batch.hits(), alerts);
  }
  constexpr int64_t kCentury = 100LL * 365 * 24 * 3600 * kSecond;
  const int64_t wall = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  correlator.Tick(set, wall + kCentury, alerts);
  std::vector<std::string> out;
  for (const Alert& alert : alerts) out.push_back(Describe(alert));
  std::sort(out.begin(), out.end());
  return out;
}

// Five failures 5 s apart from `ip`: one brute force.
void Burst(std::vector<Line>& lines, uint16_t agency, const std::string& host, double start,
           const std::string& ip) {
  for (int i = 0; i < 5; ++i) lines.push_back({agency, host, start + 5 * i, 0, ip});
}

// One failure every `every` seconds from each of `ips` addresses in
// [from, to): never five within 60 s for one address, but many at once if
// their times were squashed together.
void Noise(std::vector<Line>& lines, uint16_t agency, const std::string& host, double from,
           double to, double every, const std::string& prefix, int ips) {
  int n = 0;
  for (double t = from; t < to; t += every / ips, ++n) {
    lines.push_back({agency, host, t, 0, prefix + std::to_string(n % ips)});
  }
}

void SortByTime(std::vector<Line>& lines) {
  std::stable_sort(lines.begin(), lines.end(),
                   [](const Line& a, const Line& b) { return a.seconds < b.seconds; });
}

// Agency 0 (host fw-a) sends live for two hours. Agency 1 (host srv-b)
// sends live for an hour, then its forwarder is cut off; when it comes back
// (at 7200 s) it flushes the buffered hour while agency 0 keeps sending.
// Every burst fires exactly once, at its own time; the sparse failures of
// the flushed hour, which would be a brute force if squashed into "now",
// fire nothing; nothing is late.
TEST(EventTimeTest, HourLateFlushFromOneAgencyNeitherFabricatesNorLoses) {
  std::vector<Line> a_live, b_live, b_buffered, a_after;
  std::set<std::string> expected;
  Noise(a_live, 0, "fw-a", 0, 7200, 100, "a-noise-", 20);
  Noise(b_live, 1, "srv-b", 0, 3600, 100, "b-noise-", 20);
  Noise(b_buffered, 1, "srv-b", 3600, 7200, 100, "b-noise-", 20);
  Noise(a_after, 0, "fw-a", 7200, 7800, 100, "a-noise-", 20);
  for (int j = 0; j < 12; ++j) {
    const std::string a_ip = "a-burst-" + std::to_string(j);
    Burst(a_live, 0, "fw-a", 300 + 600 * j + 7, a_ip);
    expected.insert("brute mof src_ip=" + a_ip);
  }
  for (int j = 0; j < 6; ++j) {
    const std::string live = "b-live-" + std::to_string(j),
                      flushed = "b-flush-" + std::to_string(j);
    Burst(b_live, 1, "srv-b", 200 + 600 * j, live);
    Burst(b_buffered, 1, "srv-b", 3800 + 600 * j, flushed);
    expected.insert("brute moh src_ip=" + live);
    expected.insert("brute moh src_ip=" + flushed);
  }
  Burst(a_after, 0, "fw-a", 7500, "a-after");
  expected.insert("brute mof src_ip=a-after");
  // Arrival order: both live until 3600, then agency 0 alone until 7200,
  // then the flushed hour interleaved with agency 0's next minutes.
  std::vector<Line> lines;
  for (const Line& line : a_live) {
    if (line.seconds < 3600) lines.push_back(line);
  }
  lines.insert(lines.end(), b_live.begin(), b_live.end());
  SortByTime(lines);
  std::vector<Line> second_hour;
  for (const Line& line : a_live) {
    if (line.seconds >= 3600) second_hour.push_back(line);
  }
  SortByTime(second_hour);
  lines.insert(lines.end(), second_hour.begin(), second_hour.end());
  SortByTime(b_buffered);
  SortByTime(a_after);
  for (size_t i = 0, j = 0; i < b_buffered.size() || j < a_after.size();) {
    for (int k = 0; k < 7 && i < b_buffered.size(); ++k) lines.push_back(b_buffered[i++]);
    if (j < a_after.size()) lines.push_back(a_after[j++]);
  }

  CorrelatorOptions options;  // lateness 60 s
  Correlator correlator(options, {"mof", "moh"});
  const std::vector<std::string> alerts = Replay(correlator, BruteForce(), lines, 64);
  std::set<std::string> fired;
  for (const std::string& alert : alerts) {
    const std::string who = alert.substr(0, alert.rfind(' ', alert.rfind(' ') - 1));
    EXPECT_TRUE(fired.insert(who).second) << "fired twice: " << alert;
    EXPECT_TRUE(expected.count(who)) << "fabricated: " << alert;
  }
  for (const std::string& want : expected) EXPECT_TRUE(fired.count(want)) << "lost: " << want;
  EXPECT_EQ(alerts.size(), expected.size());
  EXPECT_EQ(correlator.stats().late, 0u);
  EXPECT_EQ(correlator.stats().sources, 2u);
}

// A line stamped 23 h 50 m ahead (inside max_clock_skew) moves its own
// source's time only: every other source keeps correlating, even on the
// key the line touched.
TEST(EventTimeTest, LineStampedFarAheadMovesOnlyItsOwnSource) {
  std::vector<Line> lines;
  Burst(lines, 0, "fw-a", 100, "before");
  lines.push_back({0, "fw-a", 200, 0, "shared"});
  lines.push_back({0, "fw-a", 205, 0, "shared"});
  lines.push_back({0, "rogue", 210 + 23 * 3600 + 50 * 60, 0, "shared"});
  lines.push_back({1, "srv-b", 215, 0, "b-x"});
  for (int i = 0; i < 3; ++i) lines.push_back({0, "fw-a", 220.0 + i, 0, "shared"});
  Burst(lines, 0, "fw-a", 300, "after-a");
  Burst(lines, 1, "srv-b", 310, "after-b");
  CorrelatorOptions options;
  Correlator correlator(options, {"mof", "moh"});
  const std::vector<std::string> alerts = Replay(correlator, BruteForce(), lines, 1000);
  const std::vector<std::string> want = {
      "brute mof src_ip=after-a 300..320 n=5", "brute mof src_ip=before 100..120 n=5",
      "brute mof src_ip=shared 200..222 n=5", "brute moh src_ip=after-b 310..330 n=5"};
  EXPECT_EQ(alerts, want);
  EXPECT_EQ(correlator.stats().late, 0u);
  // Run ended the stream (every clock moved a century on); the rogue's
  // clock stayed its own until then, the others' were never pushed.
  Correlator live(options, {"mof", "moh"});
  Batch batch;
  for (size_t i = 0; i < lines.size(); ++i) batch.Add(i + 1, lines[i]);
  std::vector<Alert> fired;
  live.Process(BruteForce(), batch.batch(), batch.hits(), fired);
  EXPECT_EQ(live.source_time_ns(0, "fw-a"), kBase + 320 * kSecond);
  EXPECT_EQ(live.source_time_ns(1, "srv-b"), kBase + 330 * kSecond);
  EXPECT_EQ(live.source_time_ns(0, "rogue"), kBase + (210 + 23 * 3600 + 50 * 60) * kSecond);
}

// At most max_sources clocks; the least recently active goes, and the keys
// it owned still expire (by the orphan clock).
TEST(EventTimeTest, SourcesAreBoundedAndEvictedLeastRecentlyActiveFirst) {
  CorrelatorOptions options;
  options.max_sources = 4;
  Correlator correlator(options, {"mof"});
  const CorrelationSet set = BruteForce();
  std::vector<Alert> alerts;
  for (int h = 0; h < 10; ++h) {
    Batch batch;
    batch.Add(h + 1, {0, "host-" + std::to_string(h), 10.0 * h, 0, "ip-" + std::to_string(h)});
    correlator.Process(set, batch.batch(), batch.hits(), alerts);
  }
  CorrelatorStats stats = correlator.stats();
  EXPECT_EQ(stats.sources, 4u);
  EXPECT_EQ(stats.source_evictions, 6u);
  EXPECT_EQ(stats.live_keys, 10u);
  EXPECT_EQ(correlator.source_time_ns(0, "host-0"), INT64_MIN);  // evicted
  EXPECT_EQ(correlator.source_time_ns(0, "host-9"), kBase + 90 * kSecond);
  // A checkpoint keeps sources and owners.
  std::string blob;
  correlator.Checkpoint(blob);
  Correlator restored(options, {"mof"});
  std::string error;
  ASSERT_TRUE(restored.Restore(set, blob, &error)) << error;
  EXPECT_EQ(restored.stats().sources, 4u);
  EXPECT_EQ(restored.source_time_ns(0, "host-9"), kBase + 90 * kSecond);
  EXPECT_EQ(restored.stats().live_keys, 10u);
  constexpr int64_t kCentury = 100LL * 365 * 24 * 3600 * kSecond;
  for (Correlator* c : {&correlator, &restored}) {
    c->Tick(set, kCentury, alerts);  // first tick: starts counting
    c->Tick(set, 2 * kCentury, alerts);
    EXPECT_EQ(c->stats().live_keys, 0u);
  }
  EXPECT_TRUE(alerts.empty());
}

// A workload of failures from a pool of addresses over many hours, with
// bursts; detection hits only in some batches.
std::vector<Line> Workload(size_t count, uint32_t seed) {
  std::mt19937 random(seed);
  std::vector<Line> lines;
  double t = 0;
  for (size_t i = 0; i < count; ++i) {
    t += std::uniform_real_distribution<double>(0, 8)(random);
    const int host = static_cast<int>(random() % 3);
    Line line{static_cast<uint16_t>(host % 2),           "host-" + std::to_string(host),       t, 0,
              "10.0.0." + std::to_string(random() % 40), "user" + std::to_string(random() % 6)};
    // Within lateness, a little out of order.
    line.seconds = std::max(0.0, t - std::uniform_real_distribution<double>(0, 30)(random));
    lines.push_back(line);
  }
  return lines;
}

CorrelationSet Mixed() {
  return SetOf({Rule("brute", CorrelationType::kEventCount, "", 5, 60),
                Rule("spray", CorrelationType::kValueCount, "user", 4, 120)});
}

// How batches are cut does not change the alerts (a batch may span hours).
TEST(EventTimeTest, BatchBoundariesDoNotChangeTheAlerts) {
  const std::vector<Line> lines = Workload(20000, 7);
  const CorrelationSet set = Mixed();
  Correlator one(CorrelatorOptions{}, {"mof", "moh"});
  const std::vector<std::string> reference = Replay(one, set, lines, 1);
  ASSERT_GT(reference.size(), 50u);
  for (size_t size : {7, 1024, 20000}) {
    Correlator correlator(CorrelatorOptions{}, {"mof", "moh"});
    EXPECT_EQ(Replay(correlator, set, lines, size), reference) << "batches of " << size;
  }
}

// gsocd: workers finish batches in any order; with ExpectSequence the
// correlator applies them in input order, so every run gives the alerts of
// one thread applying them in order. Batches without hits go through Pass.
TEST(EventTimeTest, WorkersInAnyOrderGiveTheAlertsOfOneInOrder) {
  const std::vector<Line> lines = Workload(20000, 11);
  const CorrelationSet set = Mixed();
  constexpr uint64_t kFirstId = 1'000'000;
  constexpr size_t kBatch = 50;
  // Every third batch has no hit (it only passes); the others' lines, in order.
  const auto quiet = [](size_t batch) { return batch % 3 == 2; };
  std::vector<Line> hits;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!quiet(i / kBatch)) hits.push_back(lines[i]);
  }
  Correlator in_order(CorrelatorOptions{}, {"mof", "moh"});
  const std::vector<std::string> reference = Replay(in_order, set, hits, kBatch);
  ASSERT_GT(reference.size(), 50u);
  for (int run = 0; run < 5; ++run) {
    std::vector<std::unique_ptr<Batch>> batches;
    for (size_t begin = 0; begin < lines.size(); begin += kBatch) {
      batches.push_back(std::make_unique<Batch>());
      for (size_t i = begin; i < std::min(lines.size(), begin + kBatch); ++i) {
        batches.back()->Add(kFirstId + i, lines[i], !quiet(begin / kBatch));
      }
    }
    Correlator correlator(CorrelatorOptions{}, {"mof", "moh"});
    correlator.ExpectSequence(kFirstId);
    std::atomic<size_t> next{0};
    std::vector<std::vector<Alert>> alerts(4);
    std::vector<std::thread> workers;
    for (size_t w = 0; w < alerts.size(); ++w) {
      workers.emplace_back([&, w] {
        std::mt19937 random(static_cast<uint32_t>(run * 10 + w));
        for (size_t k; (k = next.fetch_add(1)) < batches.size();) {
          // Matching takes a varying time: batches overtake each other.
          std::this_thread::sleep_for(std::chrono::microseconds(random() % 400));
          if (batches[k]->hits().empty()) {
            correlator.Pass(batches[k]->batch());
          } else {
            correlator.Process(set, batches[k]->batch(), batches[k]->hits(), alerts[w]);
          }
        }
      });
    }
    for (auto& worker : workers) worker.join();
    std::vector<Alert> all;
    for (auto& part : alerts) all.insert(all.end(), part.begin(), part.end());
    constexpr int64_t kCentury = 100LL * 365 * 24 * 3600 * kSecond;
    correlator.Tick(set,
                    std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                            .count() +
                        kCentury,
                    all);
    std::vector<std::string> got;
    for (const Alert& alert : all) got.push_back(Describe(alert));
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, reference) << "run " << run;
    EXPECT_EQ(correlator.stats().sequence_gaps, 0u);
  }
}

// A batch with nothing to correlate lets the ones after it go ahead, even
// when it passes before its turn.
TEST(EventTimeTest, PassedBatchesDoNotHoldTheSequence) {
  const CorrelationSet set = BruteForce();
  Correlator correlator(CorrelatorOptions{}, {"mof"});
  correlator.ExpectSequence(100);
  Batch quiet_late, quiet_first, busy;
  quiet_late.Add(105, {0, "h", 1, 0, "x"});  // ids 105..109, passed ahead of turn
  for (uint64_t id = 106; id < 110; ++id) quiet_late.Add(id, {0, "h", 1, 0, "x"});
  for (uint64_t id = 100; id < 105; ++id) quiet_first.Add(id, {0, "h", 1, 0, "x"});
  for (uint64_t id = 110; id < 115; ++id) busy.Add(id, {0, "h", 2.0 + id - 110, 0, "y"});
  correlator.Pass(quiet_late.batch());
  correlator.Pass(quiet_first.batch());
  std::vector<Alert> alerts;
  const auto start = std::chrono::steady_clock::now();
  correlator.Process(set, busy.batch(), busy.hits(), alerts);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(alerts.size(), 1u);
  EXPECT_EQ(correlator.stats().sequence_gaps, 0u);
}

// What the pipeline asks before it prepares a worker's next batch: would
// this batch wait for earlier ones? Only while one before it is unapplied.
TEST(EventTimeTest, WouldWaitOnlyWhileAnEarlierBatchIsUnapplied) {
  Batch first, second, scattered;
  for (uint64_t id = 100; id < 105; ++id) first.Add(id, {0, "h", 1, 0, "x"});
  for (uint64_t id = 105; id < 110; ++id) second.Add(id, {0, "h", 1, 0, "x"});
  scattered.Add(200, {0, "h", 1, 0, "x"});
  scattered.Add(300, {0, "h", 1, 0, "x"});  // not contiguous: never sequenced
  Correlator unsequenced(CorrelatorOptions{}, {"mof"});
  EXPECT_FALSE(unsequenced.WouldWait(second.batch()));

  Correlator correlator(CorrelatorOptions{}, {"mof"});
  correlator.ExpectSequence(100);
  EXPECT_FALSE(correlator.WouldWait(first.batch()));
  EXPECT_TRUE(correlator.WouldWait(second.batch()));
  EXPECT_FALSE(correlator.WouldWait(scattered.batch()));
  correlator.Pass(first.batch());
  EXPECT_FALSE(correlator.WouldWait(second.batch()));
}

}  // namespace
}  // namespace gsoc::correlate
