#include "engine/triage/triage_store.h"

#include <gtest/gtest.h>

#include <barrier>
#include <chrono>
#include <thread>

#include "tests/engine/triage/triage_test_util.h"

namespace gsoc::triage {
namespace {

std::vector<ChangeTarget> Targets(std::initializer_list<uint64_t> ids) {
  std::vector<ChangeTarget> out;
  for (uint64_t id : ids) out.push_back({id, "agency-a"});
  return out;
}

TEST(TriageStoreTest, UntouchedAlertIsNewVersionZero) {
  TempTriageDir dir;
  auto store = TriageStore::Open(dir.Options());
  const TriageState state = store->Get(42);
  EXPECT_EQ(state.status, Status::kNew);
  EXPECT_EQ(state.version, 0u);
  EXPECT_TRUE(store->History(42).empty());
}

TEST(TriageStoreTest, StateMachineAllowsAndRefusesTransitions) {
  TempTriageDir dir;
  auto store = TriageStore::Open(dir.Options());
  auto apply = [&](Change change) { return store->Apply(change, Targets({7})).at(0); };
  EXPECT_EQ(apply(MakeChange(Action::kAck)).state.status, Status::kAcknowledged);
  const ChangeResult again = apply(MakeChange(Action::kAck));
  EXPECT_EQ(again.error, ChangeError::kInvalidTransition);
  EXPECT_EQ(again.state.version, 1u);  // the current state, unchanged
  EXPECT_EQ(apply(MakeChange(Action::kStart)).state.status, Status::kInProgress);
  Change assign = MakeChange(Action::kAssign);
  assign.assignee = "bob";
  EXPECT_EQ(apply(assign).state.assignee, "bob");
  Change close = MakeChange(Action::kClose);
  close.reason = Reason::kFalsePositive;
  const ChangeResult closed = apply(close);
  EXPECT_EQ(closed.state.status, Status::kClosed);
  EXPECT_EQ(closed.state.reason, Reason::kFalsePositive);
  EXPECT_EQ(closed.state.version, 4u);
  EXPECT_EQ(apply(close).error, ChangeError::kInvalidTransition);
  EXPECT_EQ(apply(assign).error, ChangeError::kInvalidTransition);
  const ChangeResult reopened = apply(MakeChange(Action::kReopen));
  EXPECT_EQ(reopened.state.status, Status::kAcknowledged);
  EXPECT_EQ(reopened.state.reason, Reason::kNone);
  EXPECT_EQ(reopened.state.updated_by, "alice");
}

TEST(TriageStoreTest, ValidateChangeRefusesBadRequests) {
  TriageLimits limits;
  Change close = MakeChange(Action::kClose);
  EXPECT_TRUE(ValidateChange(close, limits));  // no reason
  close.reason = Reason::kBenign;
  EXPECT_FALSE(ValidateChange(close, limits));
  Change note = MakeChange(Action::kNote);
  EXPECT_TRUE(ValidateChange(note, limits));  // empty note
  note.note = std::string(limits.max_note_bytes + 1, 'x');
  EXPECT_NE(ValidateChange(note, limits)->find("note"), std::string::npos);
  note.note.resize(limits.max_note_bytes);
  EXPECT_FALSE(ValidateChange(note, limits));
  Change assign = MakeChange(Action::kAssign);
  assign.assignee = std::string(limits.max_assignee_bytes + 1, 'a');
  EXPECT_TRUE(ValidateChange(assign, limits));
  Change ack = MakeChange(Action::kAck);
  ack.reason = Reason::kBenign;
  EXPECT_TRUE(ValidateChange(ack, limits));
}

TEST(TriageStoreTest, HistoryHasEveryChangeWithAuthorTimeAndAction) {
  TempTriageDir dir;
  TriageOptions options = dir.Options();
  int64_t clock = 1000;
  options.clock_ns_for_test = [&clock] { return clock += 10; };
  auto store = TriageStore::Open(options);
  store->Apply(MakeChange(Action::kAck, "alice"), Targets({5}));
  Change note = MakeChange(Action::kNote, "bob");
  note.note = "looked at the source";
  store->Apply(note, Targets({5}));
  Change close = MakeChange(Action::kClose, "carol");
  close.reason = Reason::kTruePositive;
  close.note = "confirmed";
  store->Apply(close, Targets({5}));
  const auto history = store->History(5);
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].author, "alice");
  EXPECT_EQ(history[0].action, Action::kAck);
  EXPECT_EQ(history[1].author, "bob");
  EXPECT_EQ(history[1].note, "looked at the source");
  EXPECT_EQ(history[2].action, Action::kClose);
  EXPECT_EQ(history[2].reason, Reason::kTruePositive);
  EXPECT_EQ(history[2].note, "confirmed");
  for (size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(history[i].version, i + 1);
    if (i > 0) {
      EXPECT_GT(history[i].time_ns, history[i - 1].time_ns);
    }
  }
  EXPECT_EQ(store->Get(5).notes, 2u);
}

TEST(TriageStoreTest, ExpectedVersionThatIsNotCurrentIsAConflict) {
  TempTriageDir dir;
  auto store = TriageStore::Open(dir.Options());
  store->Apply(MakeChange(Action::kAck), Targets({1, 2}));
  Change close = MakeChange(Action::kClose, "bob");
  close.reason = Reason::kBenign;
  close.expected_versions = {{1, 0}, {2, 1}};  // 1: stale; 2: current
  const auto results = store->Apply(close, Targets({1, 2}));
  EXPECT_EQ(results[0].error, ChangeError::kConflict);
  EXPECT_EQ(results[0].state.status, Status::kAcknowledged);
  EXPECT_EQ(results[0].state.version, 1u);
  EXPECT_EQ(results[1].error, ChangeError::kNone);
  EXPECT_EQ(store->Get(1).status, Status::kAcknowledged);
  EXPECT_EQ(store->Get(2).status, Status::kClosed);
  EXPECT_EQ(store->stats().conflicts, 1u);
}

TEST(TriageStoreTest, TwoThreadsClosingTheSameAlertExactlyOneWins) {
  TempTriageDir dir;
  auto store = TriageStore::Open(dir.Options());
  for (int round = 0; round < 50; ++round) {
    const uint64_t id = 100 + round;
    std::barrier start(2);
    ChangeResult results[2];
    auto close = [&](int who) {
      Change change = MakeChange(Action::kClose, who == 0 ? "alice" : "bob");
      change.reason = who == 0 ? Reason::kTruePositive : Reason::kFalsePositive;
      change.expected_versions[id] = 0;  // both saw the alert untouched
      std::vector<ChangeTarget> targets{{id, "a"}};
      start.arrive_and_wait();
      results[who] = store->Apply(change, targets).at(0);
    };
    std::thread first(close, 0), second(close, 1);
    first.join();
    second.join();
    const int wins =
        (results[0].error == ChangeError::kNone) + (results[1].error == ChangeError::kNone);
    ASSERT_EQ(wins, 1) << "round " << round;
    const ChangeResult& loser = results[0].error == ChangeError::kNone ? results[1] : results[0];
    const ChangeResult& winner = results[0].error == ChangeError::kNone ? results[0] : results[1];
    EXPECT_EQ(loser.error, ChangeError::kConflict);
    EXPECT_EQ(loser.state.version, 1u);  // the winner's state, not the loser's
    EXPECT_EQ(loser.state.updated_by, winner.state.updated_by);
    EXPECT_EQ(store->History(id).size(), 1u);
  }
}

TEST(TriageStoreTest, ConcurrentBulkRequestsLoseNoChange) {
  TempTriageDir dir;
  auto store = TriageStore::Open(dir.Options());
  constexpr int kThreads = 4;
  constexpr int kNotes = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kNotes; ++i) {
        Change note = MakeChange(Action::kNote, "user" + std::to_string(t));
        note.note = "n" + std::to_string(i);
        store->Apply(note, Targets({1, 65, 129, 2}));  // 1, 65, 129 share a stripe
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (uint64_t id : {1, 65, 129, 2}) {
    EXPECT_EQ(store->Get(id).version, uint64_t{kThreads * kNotes});
    EXPECT_EQ(store->History(id).size(), size_t{kThreads * kNotes});
  }
}

TEST(TriageStoreTest, PerAlertBoundsRefuseWithLimit) {
  TempTriageDir dir;
  TriageOptions options = dir.Options();
  options.limits.max_notes_per_alert = 2;
  options.limits.max_history_per_alert = 4;
  auto store = TriageStore::Open(options);
  Change note = MakeChange(Action::kNote);
  note.note = "x";
  EXPECT_EQ(store->Apply(note, Targets({9}))[0].error, ChangeError::kNone);
  EXPECT_EQ(store->Apply(note, Targets({9}))[0].error, ChangeError::kNone);
  const ChangeResult third = store->Apply(note, Targets({9}))[0];
  EXPECT_EQ(third.error, ChangeError::kLimit);
  EXPECT_NE(third.detail.find("max_notes_per_alert"), std::string::npos);
  EXPECT_EQ(store->Apply(MakeChange(Action::kAck), Targets({9}))[0].error, ChangeError::kNone);
  EXPECT_EQ(store->Apply(MakeChange(Action::kStart), Targets({9}))[0].error, ChangeError::kNone);
  const ChangeResult fifth = store->Apply(MakeChange(Action::kReopen), Targets({9}))[0];
  EXPECT_EQ(fifth.error, ChangeError::kLimit);
  EXPECT_EQ(store->History(9).size(), 4u);
}

TEST(TriageStoreTest, IndexesFindByStatusAndAssigneeInIdOrder) {
  TempTriageDir dir;
  auto store = TriageStore::Open(dir.Options());
  store->Apply(MakeChange(Action::kAck), Targets({3, 10, 20, 30}));
  Change close = MakeChange(Action::kClose);
  close.reason = Reason::kDuplicate;
  store->Apply(close, Targets({10}));
  Change assign = MakeChange(Action::kAssign);
  assign.assignee = "bob";
  store->Apply(assign, Targets({20, 3}));
  TriageFilter acked;
  acked.statuses = {Status::kAcknowledged};
  EXPECT_EQ(store->FindIds(acked, 0, UINT64_MAX, false, 100), (std::vector<uint64_t>{3, 20, 30}));
  EXPECT_EQ(store->FindIds(acked, 0, UINT64_MAX, true, 2), (std::vector<uint64_t>{30, 20}));
  EXPECT_EQ(store->FindIds(acked, 3, 30, false, 100), (std::vector<uint64_t>{20}));
  TriageFilter either;
  either.statuses = {Status::kClosed, Status::kAcknowledged};
  EXPECT_EQ(store->FindIds(either, 0, UINT64_MAX, true, 100),
            (std::vector<uint64_t>{30, 20, 10, 3}));
  TriageFilter bob;
  bob.assignee = "bob";
  EXPECT_EQ(store->FindIds(bob, 0, UINT64_MAX, false, 100), (std::vector<uint64_t>{3, 20}));
  assign.assignee = "";
  store->Apply(assign, Targets({3}));  // unassigned: leaves bob's index
  EXPECT_EQ(store->FindIds(bob, 0, UINT64_MAX, false, 100), (std::vector<uint64_t>{20}));
  TriageFilter bob_closed;
  bob_closed.assignee = "bob";
  bob_closed.statuses = {Status::kClosed};
  EXPECT_TRUE(store->FindIds(bob_closed, 0, UINT64_MAX, false, 100).empty());
  EXPECT_TRUE(bob.UsesIndex());
  TriageFilter fresh;
  fresh.statuses = {Status::kNew};
  EXPECT_FALSE(fresh.UsesIndex());
}

// The index entries carry the agency, so a scoped status or assignee query
// skips other agencies' alerts without reading them.
TEST(TriageStoreTest, IndexesSkipOtherAgencies) {
  TempTriageDir dir;
  auto store = TriageStore::Open(dir.Options());
  std::vector<ChangeTarget> targets{{1, "moj"}, {2, "moh"}, {3, "moj"}, {4, "mod"}};
  store->Apply(MakeChange(Action::kAck), targets);
  Change assign = MakeChange(Action::kAssign);
  assign.assignee = "carol";
  store->Apply(assign, targets);
  TriageFilter acked;
  acked.statuses = {Status::kAcknowledged};
  acked.agencies = std::vector<std::string>{"moj"};
  EXPECT_EQ(store->FindIds(acked, 0, UINT64_MAX, true, 100), (std::vector<uint64_t>{3, 1}));
  acked.agencies = std::vector<std::string>{"moh", "mod"};
  EXPECT_EQ(store->FindIds(acked, 0, UINT64_MAX, false, 100), (std::vector<uint64_t>{2, 4}));
  acked.agencies = std::vector<std::string>{};
  EXPECT_TRUE(store->FindIds(acked, 0, UINT64_MAX, false, 100).empty());
  TriageFilter carol;
  carol.assignee = "carol";
  carol.agencies = std::vector<std::string>{"mod"};
  EXPECT_EQ(store->FindIds(carol, 0, UINT64_MAX, false, 100), (std::vector<uint64_t>{4}));
  carol.agencies.reset();
  EXPECT_EQ(store->FindIds(carol, 0, UINT64_MAX, false, 100),
            (std::vector<uint64_t>{1, 2, 3, 4}));
}

// gsocd opens triage.db under the alert store's write-buffer budget and block
// cache: its memtables count against the one budget.
TEST(TriageStoreTest, OpensUnderTheSharedMemoryBudget) {
  TempTriageDir dir;
  TriageOptions options = dir.Options();
  options.memory.block_cache = rocksdb::NewLRUCache(8 << 20);
  options.memory.write_buffers = std::make_shared<rocksdb::WriteBufferManager>(64 << 20);
  const size_t before = options.memory.write_buffers->memory_usage();
  auto store = TriageStore::Open(options);
  std::vector<ChangeTarget> targets;
  for (uint64_t id = 1; id <= 2000; ++id) targets.push_back({id, "moj"});
  Change note = MakeChange(Action::kNote);
  note.note = std::string(200, 'n');
  store->Apply(note, targets);
  EXPECT_GT(options.memory.write_buffers->memory_usage(), before + 2000 * 200);
  EXPECT_GT(options.memory.block_cache.use_count(), 1);  // held by the open table factory
}

TEST(TriageStoreTest, StateSurvivesReopen) {
  TempTriageDir dir;
  {
    auto store = TriageStore::Open(dir.Options());
    Change close = MakeChange(Action::kClose);
    close.reason = Reason::kBenign;
    store->Apply(close, Targets({77}));
  }
  auto store = TriageStore::Open(dir.Options());
  EXPECT_EQ(store->Get(77).status, Status::kClosed);
  EXPECT_EQ(store->History(77).size(), 1u);
  TriageFilter closed;
  closed.statuses = {Status::kClosed};
  EXPECT_EQ(store->FindIds(closed, 0, UINT64_MAX, false, 10), (std::vector<uint64_t>{77}));
}

TEST(TriageStoreTest, ReplacedAggregateAlertCarriesItsState) {
  TempTriageDir dir;
  auto store = TriageStore::Open(dir.Options());
  Change assign = MakeChange(Action::kAssign);
  assign.assignee = "dave";
  store->Apply(assign, Targets({50}));
  store->Apply(MakeChange(Action::kAck), Targets({50}));
  store::StoredAlert next;
  next.id = 60;
  next.replaces = 50;
  next.agency = "agency-a";
  next.json = R"({"id":"60","group":{}})";
  store->OnCommitted(std::span(&next, 1));
  EXPECT_EQ(store->Get(50).version, 0u);
  const TriageState carried = store->Get(60);
  EXPECT_EQ(carried.status, Status::kAcknowledged);
  EXPECT_EQ(carried.assignee, "dave");
  EXPECT_EQ(carried.version, 2u);
  EXPECT_EQ(store->History(60).size(), 2u);
  TriageFilter dave;
  dave.assignee = "dave";
  EXPECT_EQ(store->FindIds(dave, 0, UINT64_MAX, false, 10), (std::vector<uint64_t>{60}));
  dave.agencies = std::vector<std::string>{"agency-a"};  // the new id's entry keeps the agency
  EXPECT_EQ(store->FindIds(dave, 0, UINT64_MAX, false, 10), (std::vector<uint64_t>{60}));
  dave.agencies = std::vector<std::string>{"agency-b"};
  EXPECT_TRUE(store->FindIds(dave, 0, UINT64_MAX, false, 10).empty());
  EXPECT_EQ(store->stats().carried, 1u);
}

TEST(TriageStoreTest, ThousandAlertsInOneRequestWellUnderASecond) {
  TempTriageDir dir;
  TriageOptions options = dir.Options();
  options.sync = true;  // as gsocd runs it
  auto store = TriageStore::Open(options);
  std::vector<ChangeTarget> targets;
  for (uint64_t id = 1; id <= 1000; ++id) targets.push_back({id, "a"});
  Change close = MakeChange(Action::kClose);
  close.reason = Reason::kFalsePositive;
  const auto start = std::chrono::steady_clock::now();
  const auto results = store->Apply(close, targets);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("triage of 1000 alerts in one request: %.1f ms\n", seconds * 1000);
  ASSERT_EQ(results.size(), 1000u);
  for (const auto& result : results) ASSERT_EQ(result.error, ChangeError::kNone);
  EXPECT_LT(seconds, 1.0);
  TriageFilter closed;
  closed.statuses = {Status::kClosed};
  EXPECT_EQ(store->FindIds(closed, 0, UINT64_MAX, false, 5000).size(), 1000u);
}

}  // namespace
}  // namespace gsoc::triage

namespace gsoc::triage {
namespace {

std::vector<uint64_t> LoggedIds(const ChangeLogPage& page) {
  std::vector<uint64_t> ids;
  for (const LoggedChange& change : page.changes) ids.push_back(change.state.id);
  return ids;
}

// The change log (stream resume): each change is logged with the newest
// committed alert id at its time, read back from a position, in order, in
// pages, and kept across a reopen with its sequence going on.
TEST(TriageChangeLogTest, ReplaysChangesFromAnAlertPositionInPagesAcrossReopen) {
  TempTriageDir dir;
  {
    auto store = TriageStore::Open(dir.Options());
    store->NoteAlertPosition(10);
    store->Apply(MakeChange(Action::kAck), Targets({1, 2}));
    std::vector<store::StoredAlert> committed(2);
    committed[0].id = 11;
    committed[1].id = 12;
    store->OnCommitted(committed);  // the position follows the alert store
    store->Apply(MakeChange(Action::kStart), Targets({3}));
    EXPECT_EQ(LoggedIds(store->ReadChangeLog(11, 0, 100)), (std::vector<uint64_t>{3}));
    const ChangeLogPage all = store->ReadChangeLog(10, 0, 100);
    ASSERT_EQ(LoggedIds(all), (std::vector<uint64_t>{1, 2, 3}));
    EXPECT_EQ(all.changes[0].seq, 1u);
    EXPECT_EQ(all.changes[2].seq, 3u);
    EXPECT_EQ(all.changes[2].position, 12u);
    EXPECT_EQ(all.changes[2].agency, "agency-a");
    EXPECT_EQ(all.changes[2].state.status, Status::kInProgress);
    EXPECT_FALSE(all.gap);
    const ChangeLogPage first = store->ReadChangeLog(10, 0, 2);
    ASSERT_EQ(first.changes.size(), 2u);
    const ChangeLogPage rest =
        store->ReadChangeLog(first.changes[1].position, first.changes[1].seq, 2);
    EXPECT_EQ(LoggedIds(rest), (std::vector<uint64_t>{3}));
  }
  auto reopened = TriageStore::Open(dir.Options());
  reopened->Apply(MakeChange(Action::kAck), Targets({4}));
  const ChangeLogPage after = reopened->ReadChangeLog(12, 0, 100);
  ASSERT_EQ(LoggedIds(after), (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(after.changes[1].seq, 4u);        // the sequence goes on
  EXPECT_EQ(after.changes[1].position, 12u);  // and so does the position
}

// Bounded: past max_log_changes the oldest entries go (a sixteenth at
// least at once), counted, and a read that needed them says "gap", also
// after a reopen; a read from after them does not.
TEST(TriageChangeLogTest, BoundDropsTheOldestAndSignalsTheGap) {
  TempTriageDir dir;
  TriageOptions options = dir.Options();
  options.limits.max_log_changes = 32;
  {
    auto store = TriageStore::Open(options);
    for (uint64_t id = 1; id <= 40; ++id) {
      store->NoteAlertPosition(id * 10);
      store->Apply(MakeChange(Action::kAck), Targets({id}));
    }
    const ChangeLogPage all = store->ReadChangeLog(0, 0, 1000);
    EXPECT_LE(all.changes.size(), 32u);
    EXPECT_GE(all.changes.size(), 30u);
    EXPECT_EQ(all.changes.back().state.id, 40u);
    EXPECT_TRUE(all.gap);
    EXPECT_EQ(store->stats().log_dropped, 40u - all.changes.size());
    const uint64_t oldest = all.changes.front().position;
    EXPECT_FALSE(store->ReadChangeLog(oldest, 0, 1000).gap);
    EXPECT_TRUE(store->ReadChangeLog(oldest - 10, 0, 1000).gap);
  }
  auto reopened = TriageStore::Open(options);
  EXPECT_TRUE(reopened->ReadChangeLog(50, 0, 1000).gap);
  EXPECT_FALSE(reopened->ReadChangeLog(400, 0, 1000).gap);
}

// Bounded in bytes too: long assignees fill max_log_bytes before the count.
TEST(TriageChangeLogTest, ByteBoundDropsTheOldest) {
  TempTriageDir dir;
  TriageOptions options = dir.Options();
  options.limits.max_log_bytes = 4096;
  auto store = TriageStore::Open(options);
  Change assign = MakeChange(Action::kAssign);
  assign.assignee = std::string(120, 'x');
  for (uint64_t id = 1; id <= 100; ++id) store->Apply(assign, Targets({id}));
  const ChangeLogPage all = store->ReadChangeLog(0, 0, 1000);
  EXPECT_LT(all.changes.size(), 4096u / 120);
  EXPECT_EQ(all.changes.back().state.id, 100u);
  EXPECT_GT(store->stats().log_dropped, 0u);
}

}  // namespace
}  // namespace gsoc::triage
