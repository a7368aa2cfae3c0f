// Correlator checkpoints, restores and rule reloads: what state survives.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/correlate/correlator.h"
#include "engine/correlate/correlator_internal.h"
#include "engine/correlate/key_table.h"
#include "tests/engine/correlate/correlator_test_util.h"

namespace gsoc::correlate {
namespace {

using namespace correlator_test;

TEST(CorrelatorTest, CheckpointRoundTripContinuesState) {
  CorrelationRule rule = EventCount("brute", {"src_ip"}, 3);
  rule.suppress_ns = 0;
  const CorrelationSet set = OneToOne({rule});
  Correlator before(SmallOptions(), {"mof"});
  Batch first;
  first.Hit(0, 1, 0, {{"src_ip", "10.0.0.1"}});
  first.Hit(0, 2, 1, {{"src_ip", "10.0.0.1"}});
  first.Hit(0, 3, 1, {{"src_ip", "10.0.0.2"}});
  Feed(before, set, first);
  std::string blob;
  before.Checkpoint(blob);

  const auto path = std::filesystem::temp_directory_path() /
                    ("gsoc-correlator-test-" + std::to_string(::getpid()) + ".ckpt");
  FileCheckpointStore store(path.string());
  store.Save(blob);
  std::string loaded;
  ASSERT_TRUE(store.Load(&loaded));
  EXPECT_EQ(loaded, blob);
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  std::filesystem::remove(path);
  EXPECT_FALSE(store.Load(&loaded));

  Correlator after(SmallOptions(), {"mof"});
  std::string error;
  ASSERT_TRUE(after.Restore(set, loaded, &error)) << error;
  EXPECT_EQ(after.stream_time_ns(), before.stream_time_ns());
  EXPECT_EQ(after.stats().live_keys, 2u);
  Batch last;
  last.Hit(0, 4, 2, {{"src_ip", "10.0.0.1"}});
  const std::vector<Alert> alerts = Feed(after, set, last);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].count, 3u);
  ASSERT_EQ(alerts[0].events.size(), 3u);
  EXPECT_EQ(alerts[0].events[0].raw,
            "<38>raw line of event 1 src_ip=10.0.0.1");  // from the checkpoint
}

// The raw cache keeps the lines of every recent correlated event; a
// checkpoint keeps only those a live window can still name. Writing the
// whole cache (tens of MiB at the default raw_cache) every interval cost
// gsocd more CPU than detection (issue 10's ingest ceiling).
TEST(CorrelatorTest, CheckpointKeepsOnlyRawLinesALiveWindowRefersTo) {
  CorrelationRule rule = EventCount("brute", {"src_ip"}, 3);
  rule.suppress_ns = 0;
  const CorrelationSet set = OneToOne({rule});
  Correlator before(SmallOptions(), {"mof"});
  Batch fired;  // 500 keys reach 3 and fire: their windows are consumed
  const std::string padding(200, 'x');
  uint64_t id = 1;
  for (int key = 0; key < 500; ++key) {
    const std::string ip = "10.1." + std::to_string(key / 256) + "." + std::to_string(key % 256);
    for (int hit = 0; hit < 3; ++hit) {
      fired.Hit(0, id++, key * 0.01, {{"src_ip", ip}, {"pad", padding}});
    }
  }
  ASSERT_EQ(Feed(before, set, fired).size(), 500u);
  Batch pending;  // one key still on its way
  const uint64_t pending_id = id;
  pending.Hit(0, pending_id, 6, {{"src_ip", "10.0.0.9"}});
  Feed(before, set, pending);
  std::string blob;
  before.Checkpoint(blob);
  EXPECT_LT(blob.size(), 4096u) << "1,500 unreferenced lines of ~230 bytes were written";

  Correlator after(SmallOptions(), {"mof"});
  std::string error;
  ASSERT_TRUE(after.Restore(set, blob, &error)) << error;
  Batch last;
  last.Hit(0, pending_id + 1, 7, {{"src_ip", "10.0.0.9"}});
  last.Hit(0, pending_id + 2, 8, {{"src_ip", "10.0.0.9"}});
  const std::vector<Alert> alerts = Feed(after, set, last);
  ASSERT_EQ(alerts.size(), 1u);
  ASSERT_EQ(alerts[0].events.size(), 3u);
  EXPECT_EQ(alerts[0].events[0].raw, "<38>raw line of event " + std::to_string(pending_id) +
                                         " src_ip=10.0.0.9");  // kept by the checkpoint
  EXPECT_EQ(after.stats().raw_missing, 0u);
}

// temporal_ordered keeps one entry per (time, ref) (window.h): a repeat
// fed into a window restored from a checkpoint is left out as it is in a
// Correlator that ran through. Checkpointed after every hit in turn (so a
// repeat of a (time, ref) the restored window holds also comes right after
// a restore): the same alerts, contributors and raw lines; and the same as
// without the repeats at all.
CorrelationSet OrderedRepeatsSet() {
  CorrelationSet set = OneToOne({OrderedRule()});
  set.detection_routes = {{{0, 0}}, {{0, 1}}};  // detection rule r feeds ref r
  set.detection_silenced = {true, true};
  return set;
}

CorrelatorOptions OrderedRepeatsOptions() {
  CorrelatorOptions options = SmallOptions();
  options.lateness_ns = 60 * kSecond;  // OrderedRepeats goes back 40 s at most
  return options;
}

// Hit n of OrderedRepeats is event n; `first` and `end` are 0-based.
std::vector<std::string> FeedOrderedRepeats(Correlator& correlator, const CorrelationSet& set,
                                            size_t first, size_t end, bool with_repeats = true) {
  const std::vector<OrderedHit> hits = OrderedRepeats();
  std::vector<std::string> fired;
  for (size_t i = first; i < end; ++i) {
    if (hits[i].repeat && !with_repeats) continue;
    const std::string ip = "198.18.1." + std::to_string(hits[i].key);
    Batch batch;
    batch.Hit(hits[i].ref, i + 1, hits[i].seconds, {{"src_ip", ip}});
    for (const Alert& alert : Feed(correlator, set, batch)) {
      std::string text = GroupOf(alert) + " " +
                         std::to_string((alert.window_start_ns - kBase) / kSecond) + "-" +
                         std::to_string((alert.window_end_ns - kBase) / kSecond) + " count " +
                         std::to_string(alert.count) + ":";
      std::string lines;
      for (const AlertEvent& event : alert.events) {
        text += " " + std::to_string(event.id);
        lines += " [" + event.raw + "]";
      }
      fired.push_back(text + " | " + alert.rule.id + lines);
    }
  }
  return fired;
}

TEST(CorrelatorTest, OrderedRepeatsAtOneTimeRestoreFromEveryCheckpointToTheSameAlerts) {
  const CorrelationSet set = OrderedRepeatsSet();
  const size_t n = OrderedRepeats().size();
  Correlator through(OrderedRepeatsOptions(), {"mof"});
  const std::vector<std::string> all = FeedOrderedRepeats(through, set, 0, n);
  const std::vector<std::string> expected = OrderedRepeatsAlerts();
  ASSERT_EQ(all.size(), expected.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].substr(0, all[i].find(" | ")), expected[i]) << all[i];
  }
  Correlator unrepeated(OrderedRepeatsOptions(), {"mof"});
  EXPECT_EQ(FeedOrderedRepeats(unrepeated, set, 0, n, false), all);

  for (size_t cut = 0; cut <= n; ++cut) {
    Correlator before(OrderedRepeatsOptions(), {"mof"});
    std::vector<std::string> fired = FeedOrderedRepeats(before, set, 0, cut);
    std::string blob;
    before.Checkpoint(blob);
    Correlator after(OrderedRepeatsOptions(), {"mof"});
    std::string error;
    ASSERT_TRUE(after.Restore(set, blob, &error)) << error;
    for (std::string& alert : FeedOrderedRepeats(after, set, cut, n)) {
      fired.push_back(std::move(alert));
    }
    EXPECT_EQ(fired, all) << "checkpoint after hit " << cut;
  }
}

TEST(CorrelatorTest, CheckpointKeepsSuppressionState) {
  CorrelationRule rule = EventCount("brute", {"src_ip"}, 1);
  rule.suppress_ns = 100 * kSecond;
  const CorrelationSet set = OneToOne({rule});
  Correlator before(SmallOptions(), {"mof"});
  Batch first;
  first.Hit(0, 1, 0, {{"src_ip", "A"}});
  first.Hit(0, 2, 1, {{"src_ip", "A"}});  // suppressed
  ASSERT_EQ(Feed(before, set, first).size(), 1u);
  std::string blob;
  before.Checkpoint(blob);
  Correlator after(SmallOptions(), {"mof"});
  ASSERT_TRUE(after.Restore(set, blob, nullptr));
  Batch second;
  second.Hit(0, 3, 50, {{"src_ip", "A"}});  // still suppressed
  EXPECT_TRUE(Feed(after, set, second).empty());
  Batch third;
  third.Hit(0, 4, 110, {{"src_ip", "A"}});
  const std::vector<Alert> alerts = Feed(after, set, third);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].suppressed, 2u);
}

// gsocd checkpoints while its workers apply batches: the checkpoint takes
// the state lock a piece at a time, so sources are created and evicted
// (max_sources), and keys expire and come back, between two pieces. Every
// such checkpoint must restore: a key whose source was evicted meanwhile
// belongs to the orphan clock, never to another source that took its
// place, and a key written twice (erased and added again) is kept once.
void CheckpointWhileBatchesRun(size_t shards, double seconds_per_round, int64_t timespan_s) {
  const CorrelationSet set = OneToOne({EventCount("brute", {"src_ip"}, 1'000'000, timespan_s)});
  CorrelatorOptions options = SmallOptions();
  options.shards = shards;
  options.max_sources = 3;  // sources evicted all the time
  Correlator live(options, {"mof"});
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> batches{0};
  std::thread feeder([&] {
    uint64_t id = 1;
    for (uint64_t round = 0; !stop.load(); ++round) {
      Batch batch;
      const std::string host = "host" + std::to_string(round % 11);
      for (int hit = 0; hit < 32; ++hit, ++id) {
        const std::string ip = "10.0." + std::to_string(id / 256 % 64) + "." +
                               std::to_string(id % 256);  // 16,384 keys at most
        batch.Hit(0, id, static_cast<double>(round) * seconds_per_round, {{"src_ip", ip}}, 0, host);
      }
      Feed(live, set, batch);
      batches.fetch_add(1);
    }
  });
  struct StopFeeder {
    std::atomic<bool>& stop;
    std::thread& feeder;
    ~StopFeeder() {
      stop.store(true);
      feeder.join();
    }
  } stop_feeder{stop, feeder};
  while (batches.load() < 600) std::this_thread::yield();  // 19,200 hits: every key seen
  size_t restored_keys = 0;
  for (int i = 0; i < 30; ++i) {
    std::string blob;
    live.Checkpoint(blob);
    Correlator copy(options, {"mof"});
    std::string error;
    ASSERT_TRUE(copy.Restore(set, blob, &error)) << "checkpoint " << i << ": " << error;
    EXPECT_LE(copy.stats().sources, options.max_sources);
    restored_keys = copy.stats().live_keys;
  }
  EXPECT_GT(restored_keys, 0u);
}

TEST(CorrelatorTest, CheckpointsTakenWhileBatchesRunAlwaysRestore) {
  CheckpointWhileBatchesRun(16, 0.01, 60);
}

// One shard of up to 16,384 keys: a table is written in several pieces
// (kCheckpointPiece slots each) while batches add, expire (5 s windows, 1 s
// of event time a batch) and move keys between them.
TEST(CorrelatorTest, CheckpointsOfTablesInSeveralPiecesWhileKeysComeAndGoAlwaysRestore) {
  CheckpointWhileBatchesRun(1, 1.0, 5);
}

// Rewrites a version 3 checkpoint in the version 2 layout (sources first,
// each with an index; keys naming their owner by that index), as gsocd
// wrote them before: an upgrade must still restore its last checkpoint.
std::string AsVersion2(const std::string& v3) {
  std::string_view in(v3);
  const auto take = [&](size_t n) {
    const std::string_view bytes = in.substr(0, n);
    in.remove_prefix(n);
    return bytes;
  };
  const auto u32 = [](std::string_view bytes) {
    uint32_t value = 0;
    std::memcpy(&value, bytes.data(), sizeof(value));
    return value;
  };
  const auto u64 = [](std::string_view bytes) {
    uint64_t value = 0;
    std::memcpy(&value, bytes.data(), sizeof(value));
    return value;
  };
  const std::string_view magic = take(8);
  take(4);  // version
  const std::string_view stream_and_chain = take(16);
  const uint64_t sources_at = u64(take(8));
  std::string_view sources(v3.data() + sources_at, v3.size() - sources_at - 8);
  in = std::string_view(v3.data() + 36, sources_at - 36);
  // Sources: index n for the n-th, the orphan clock (key 0) first.
  std::string out(magic);
  const uint32_t version = 2;
  out.append(reinterpret_cast<const char*>(&version), 4);
  out.append(stream_and_chain);
  const uint32_t source_count = u32(sources.substr(0, 4));
  out.append(sources.substr(0, 4));
  std::map<uint64_t, uint32_t> index_of;
  for (uint32_t n = 0; n < source_count; ++n) {
    const std::string_view record = sources.substr(4 + n * 18, 18);
    index_of[u64(record.substr(0, 8))] = n;
    out.append(reinterpret_cast<const char*>(&n), 4);
    out.append(record);
  }
  const auto str = [&] { return take(4 + u32(in.substr(0, 4))); };
  const uint32_t shards = u32(take(4));
  out.append(reinterpret_cast<const char*>(&shards), 4);
  for (uint32_t s = 0; s < shards; ++s) {
    const std::string_view tables = take(4);
    out.append(tables);
    for (uint32_t t = 0; t < u32(tables); ++t) {
      out.append(str());  // table key
      const std::string_view keys = take(4);
      out.append(keys);
      for (uint32_t k = 0; k < u32(keys); ++k) {
        out.append(str());     // key
        out.append(take(14));  // suppress_until, suppressed, agency
        const uint32_t owner = index_of.at(u64(take(8)));
        out.append(reinterpret_cast<const char*>(&owner), 4);
        out.append(take(8));  // advanced
        out.append(str());    // window
      }
    }
    const std::string_view lines = take(4);
    out.append(lines);
    for (uint32_t l = 0; l < u32(lines); ++l) {
      out.append(take(16));
      out.append(str());
    }
  }
  EXPECT_TRUE(in.empty());
  const uint64_t checksum = HashBytes(out, kChecksumSeed);
  out.append(reinterpret_cast<const char*>(&checksum), 8);
  return out;
}

TEST(CorrelatorTest, AVersion2CheckpointStillRestores) {
  CorrelationRule rule = EventCount("brute", {"src_ip"}, 3);
  rule.suppress_ns = 0;
  const CorrelationSet set = OneToOne({rule});
  Correlator before(SmallOptions(), {"mof"});
  Batch first;
  first.Hit(0, 1, 0, {{"src_ip", "10.0.0.1"}}, 0, "web1");
  first.Hit(0, 2, 1, {{"src_ip", "10.0.0.1"}}, 0, "web1");
  first.Hit(0, 3, 1, {{"src_ip", "10.0.0.2"}}, 0, "web2");
  Feed(before, set, first);
  std::string blob;
  before.Checkpoint(blob);
  const std::string old = AsVersion2(blob);
  ASSERT_NE(old, blob);

  Correlator after(SmallOptions(), {"mof"});
  std::string error;
  ASSERT_TRUE(after.Restore(set, old, &error)) << error;
  EXPECT_EQ(after.stats().live_keys, 2u);
  EXPECT_EQ(after.stats().sources, 2u);
  EXPECT_EQ(after.source_time_ns(0, "web1"), before.source_time_ns(0, "web1"));
  Batch last;
  last.Hit(0, 4, 2, {{"src_ip", "10.0.0.1"}}, 0, "web1");
  const std::vector<Alert> alerts = Feed(after, set, last);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].count, 3u);
}

TEST(CorrelatorTest, RestoreRejectsGarbageAndLeavesNoState) {
  const CorrelationSet set = OneToOne({EventCount("brute", {"src_ip"}, 3)});
  Correlator source(SmallOptions(), {"mof"});
  Batch batch;
  for (uint64_t i = 0; i < 10; ++i) {
    batch.Hit(0, i + 1, static_cast<double>(i), {{"src_ip", "10.0.0." + std::to_string(i % 4)}});
  }
  Feed(source, set, batch);
  std::string blob;
  source.Checkpoint(blob);

  Correlator target(SmallOptions(), {"mof"});
  std::string error;
  EXPECT_FALSE(target.Restore(set, "", &error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(target.Restore(set, "definitely not a checkpoint at all", &error));
  for (size_t length = 0; length < blob.size(); length += 7) {  // every kind of truncation
    EXPECT_FALSE(target.Restore(set, std::string_view(blob).substr(0, length), &error)) << length;
  }
  std::string flipped = blob;
  flipped[flipped.size() / 2] ^= 0x40;
  EXPECT_FALSE(target.Restore(set, flipped, &error));
  EXPECT_NE(error.find("checksum"), std::string::npos) << error;

  // Body garbage behind a valid checksum: the parser itself must refuse it.
  std::mt19937_64 random(42);
  int refused = 0;
  for (int round = 0; round < 300; ++round) {
    std::string mutated = blob.substr(0, blob.size() - 8);
    const size_t flips = 1 + random() % 4;
    for (size_t f = 0; f < flips; ++f) {
      mutated[12 + random() % (mutated.size() - 12)] = static_cast<char>(random());
    }
    const uint64_t checksum = internal::HashBytes(mutated, 0x636b7074636b7375ULL);
    mutated.append(reinterpret_cast<const char*>(&checksum), sizeof(checksum));
    if (!target.Restore(set, mutated, &error)) {
      ++refused;
      EXPECT_EQ(target.stats().live_keys, 0u);
    }
  }
  EXPECT_GT(refused, 0);

  EXPECT_FALSE(target.Restore(set, flipped, &error));
  EXPECT_EQ(target.stats().live_keys, 0u);
  ASSERT_TRUE(target.Restore(set, blob, &error)) << error;
  EXPECT_EQ(target.stats().live_keys, source.stats().live_keys);
}

TEST(CorrelatorTest, RestoreDropsCorrelationsWhoseFingerprintChanged) {
  const CorrelationSet set = OneToOne({EventCount("brute", {"src_ip"}, 3)});
  Correlator source(SmallOptions(), {"mof"});
  Batch batch;
  batch.Hit(0, 1, 0, {{"src_ip", "A"}});
  Feed(source, set, batch);
  std::string blob;
  source.Checkpoint(blob);
  const CorrelationSet changed = OneToOne({EventCount("brute", {"src_ip"}, 4)});
  Correlator target(SmallOptions(), {"mof"});
  ASSERT_TRUE(target.Restore(changed, blob, nullptr));
  EXPECT_EQ(target.stats().live_keys, 0u);
}

TEST(CorrelatorTest, FileCheckpointStoreReportsThePathOnFailure) {
  FileCheckpointStore store("/nonexistent-dir-for-gsoc-test/correlator.ckpt");
  try {
    store.Save("blob");
    FAIL() << "Save should throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir-for-gsoc-test/correlator.ckpt"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
  std::string blob;
  EXPECT_FALSE(store.Load(&blob));
  const auto dir = std::filesystem::temp_directory_path();
  FileCheckpointStore unreadable(dir.string());  // a directory: open works, read fails
  EXPECT_THROW(unreadable.Load(&blob), std::runtime_error);
}

TEST(CorrelatorTest, ReloadKeepsStateWhenTheFingerprintIsUnchanged) {
  const CorrelationSet first = OneToOne({EventCount("brute", {"src_ip"}, 3)});
  Correlator correlator(SmallOptions(), {"mof"});
  Batch batch;
  batch.Hit(0, 1, 0, {{"src_ip", "A"}});
  batch.Hit(0, 2, 1, {{"src_ip", "A"}});
  Feed(correlator, first, batch);

  // A new set: another rule in front, a new title, the same fingerprint.
  CorrelationRule renamed = EventCount("brute", {"src_ip"}, 3);
  renamed.title = "Renamed";
  CorrelationSet second = OneToOne({EventCount("other", {"user"}, 2), renamed});
  second.detection_routes = {{{1, 0}}, {{0, 0}}};  // detection 0 still feeds brute
  Batch more;
  more.Hit(0, 3, 2, {{"src_ip", "A"}});
  const std::vector<Alert> alerts = Feed(correlator, second, more);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].count, 3u);
  EXPECT_EQ(alerts[0].rule.title, "Renamed");
  EXPECT_EQ(correlator.stats().evicted, 0u);
}

TEST(CorrelatorTest, ReloadDropsStateWhenTheFingerprintChanged) {
  const CorrelationSet first = OneToOne({EventCount("brute", {"src_ip"}, 3)});
  Correlator correlator(SmallOptions(), {"mof"});
  Batch batch;
  batch.Hit(0, 1, 0, {{"src_ip", "A"}});
  batch.Hit(0, 2, 1, {{"src_ip", "A"}});
  batch.Hit(0, 3, 1, {{"src_ip", "B"}});
  Feed(correlator, first, batch);
  EXPECT_EQ(correlator.stats().live_keys, 2u);

  const CorrelationSet second = OneToOne({EventCount("brute", {"src_ip"}, 3, 120)});
  std::vector<Alert> alerts;
  correlator.Tick(second, 0, alerts);  // every shard remaps, even untouched ones
  EXPECT_EQ(correlator.stats().live_keys, 0u);
  EXPECT_EQ(correlator.stats().evicted, 2u);
  Batch more;
  more.Hit(0, 4, 2, {{"src_ip", "A"}});
  EXPECT_TRUE(Feed(correlator, second, more).empty());
  EXPECT_EQ(correlator.stats().live_keys, 1u);
}

TEST(CorrelatorTest, StaleSetDoesNotDropTheNewSetsState) {
  const CorrelationSet old_set = OneToOne({EventCount("brute", {"src_ip"}, 3)});
  const CorrelationSet new_set =
      OneToOne({EventCount("brute", {"src_ip"}, 3), EventCount("fresh", {"user"}, 2)});
  Correlator correlator(SmallOptions(), {"mof"});
  Batch warm;
  warm.Hit(0, 1, 0, {{"src_ip", "A"}});
  Feed(correlator, old_set, warm);
  Batch fresh;
  fresh.Hit(1, 2, 1, {{"user", "u"}});
  Feed(correlator, new_set, fresh);
  Batch straggler;  // a batch still running on the old set
  straggler.Hit(0, 3, 2, {{"src_ip", "B"}});
  Feed(correlator, old_set, straggler);
  Batch again;
  again.Hit(1, 4, 3, {{"user", "u"}});
  const std::vector<Alert> alerts = Feed(correlator, new_set, again);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule.name, "fresh");
}

}  // namespace
}  // namespace gsoc::correlate
