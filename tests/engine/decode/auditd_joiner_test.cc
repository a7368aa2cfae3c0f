// auditd records joined by serial into one event (engine/decode/auditd_joiner.h).
#include "engine/decode/auditd_joiner.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "engine/event/field_access.h"

namespace gsoc::decode {
namespace {

// An execve of `chattr -i /etc/passwd` as auditd writes it (a0 hex-encoded
// because auditd encodes any argument it considers unsafe; here forced).
const std::vector<std::string> kExecve = {
    R"(type=SYSCALL msg=audit(1700000000.123:4711): arch=c000003e syscall=59 success=yes )"
    R"(exit=0 a0=55d0c1e0 a1=55d0c200 a2=55d0c220 a3=8 items=2 ppid=1200 pid=1234 auid=1000 )"
    R"(uid=0 gid=0 euid=0 tty=pts0 ses=3 comm="chattr" exe="/usr/bin/chattr" key="immutable")",
    R"(type=EXECVE msg=audit(1700000000.123:4711): argc=3 a0=636861747472 a1="-i" )"
    R"(a2="/etc/passwd")",
    R"(type=CWD msg=audit(1700000000.123:4711): cwd="/root")",
    R"(type=PATH msg=audit(1700000000.123:4711): item=0 name="/usr/bin/chattr" inode=1 )"
    R"(nametype=NORMAL)",
    R"(type=PATH msg=audit(1700000000.123:4711): item=1 name="/lib64/ld-linux-x86-64.so.2" )"
    R"(nametype=NORMAL)",
    R"(type=PROCTITLE msg=audit(1700000000.123:4711): proctitle=636861747472002D69002F6574632F706173737764)",
    R"(type=EOE msg=audit(1700000000.123:4711): )",
};

std::map<std::string, std::string> Fields(const AuditEvent& event) {
  std::map<std::string, std::string> fields;
  for (const auto& [name, value] : event.fields) fields.emplace(name, value);
  return fields;
}

TEST(AuditRecord, ParsesTypeStampAndNode) {
  AuditRecord record;
  ASSERT_TRUE(
      ParseAuditRecord("node=web1 type=CWD msg=audit(1700000000.5:42): cwd=\"/\"", &record));
  EXPECT_EQ(record.node, "web1");
  EXPECT_EQ(record.type, "CWD");
  EXPECT_EQ(record.serial, 42u);
  EXPECT_EQ(record.time_ns, 1'700'000'000'500'000'000);
  EXPECT_EQ(record.fields, " cwd=\"/\"");
  // After a syslog tag (audisp-syslog).
  ASSERT_TRUE(ParseAuditRecord("audispd: type=EOE msg=audit(1.000:7): ", &record));
  EXPECT_EQ(record.type, "EOE");
  EXPECT_EQ(record.serial, 7u);
  // The first "msg=audit(" is found past other '(' (the search starts from
  // each '('), and of two the first is taken.
  ASSERT_TRUE(
      ParseAuditRecord("sshd(pam_unix) (x) type=USER_END msg=audit(2.5:8): a=(b)", &record));
  EXPECT_EQ(record.type, "USER_END");
  EXPECT_EQ(record.serial, 8u);
  EXPECT_EQ(record.fields, " a=(b)");
  ASSERT_TRUE(ParseAuditRecord("type=A msg=audit(3.0:9): type=B msg=audit(4.0:10):", &record));
  EXPECT_EQ(record.type, "A");
  EXPECT_EQ(record.serial, 9u);
  for (const char* other :
       {"Accepted password for root", "type=X msg=audit(1:)", "type=X msg=audit(abc:1):",
        "xtype=X msg=audit(1:1):", "type= msg=audit(1:1):", "type=X msg=audit(1:1",
        "msg=audit(1.0:1):", "(msg=audit(1.0:1):", "msg=audit"}) {
    EXPECT_FALSE(ParseAuditRecord(other, &record)) << other;
  }
}

TEST(AuditJoiner, JoinsASerialIntoOneEventAtEoe) {
  AuditJoiner joiner;
  std::vector<AuditEvent> out;
  const AuditSource source{3, 1, "host-a"};
  for (size_t i = 0; i + 1 < kExecve.size(); ++i) {
    ASSERT_TRUE(joiner.Add(source, kExecve[i], AuditJoiner::kRecordTime, out));
    EXPECT_TRUE(out.empty());
  }
  EXPECT_EQ(joiner.open(), 1u);
  ASSERT_TRUE(joiner.Add(source, kExecve.back(), AuditJoiner::kRecordTime, out));
  ASSERT_EQ(out.size(), 1u);
  const AuditEvent& event = out[0];
  EXPECT_TRUE(event.complete);
  EXPECT_EQ(event.agency, 3);
  EXPECT_EQ(event.host, "host-a");
  EXPECT_EQ(event.serial, 4711u);
  EXPECT_EQ(event.time_ns, 1'700'000'000'123'000'000);
  auto fields = Fields(event);
  EXPECT_EQ(fields["type"], "EXECVE");
  EXPECT_EQ(fields["record_types"], "SYSCALL EXECVE CWD PATH PATH PROCTITLE");
  EXPECT_EQ(fields["msg"], "audit(1700000000.123:4711)");
  EXPECT_EQ(fields["a0"], "chattr");  // hex decoded; SYSCALL's a0 does not shadow it
  EXPECT_EQ(fields["a1"], "-i");
  EXPECT_EQ(fields["syscall_a0"], "55d0c1e0");
  EXPECT_EQ(fields["cmdline"], "chattr -i /etc/passwd");
  EXPECT_EQ(fields["exe"], "/usr/bin/chattr");
  EXPECT_EQ(fields["cwd"], "/root");
  EXPECT_EQ(fields["name"], "/usr/bin/chattr");  // the first PATH record
  EXPECT_EQ(fields["proctitle"], "chattr -i /etc/passwd");
  EXPECT_EQ(fields["pid"], "1234");
  EXPECT_EQ(fields["key"], "immutable");
  EXPECT_EQ(event.fields.front().first, "type");
  EXPECT_EQ(event.text.find(kExecve[0]), 0u);
  EXPECT_EQ(joiner.open(), 0u);
  EXPECT_EQ(joiner.bytes(), 0u);
  EXPECT_EQ(joiner.stats().records, kExecve.size());
}

TEST(AuditJoiner, LongArgumentChunksAndUserRecords) {
  AuditJoiner joiner;
  std::vector<AuditEvent> out;
  joiner.Add({},
             R"(type=EXECVE msg=audit(5.0:9): argc=2 a0="sh" a1_len=8 a1[0]=6563686F a1[1]="0x41")",
             AuditJoiner::kRecordTime, out);
  joiner.Add({}, "type=EOE msg=audit(5.0:9):", AuditJoiner::kRecordTime, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Fields(out[0])["cmdline"], "sh echo0x41");
  EXPECT_EQ(Fields(out[0])["a1"], "echo0x41");
  // A user-space record (msg='...'): one record with no EOE, handed on at
  // once; its msg='...' pairs are fields.
  joiner.Add({},
             "type=USER_LOGIN msg=audit(10.0:77): pid=1 uid=0 msg='op=login acct=\"root\" "
             "exe=\"/usr/sbin/sshd\" res=failed'",
             AuditJoiner::kRecordTime, out);
  ASSERT_EQ(out.size(), 2u);
  auto fields = Fields(out[1]);
  EXPECT_TRUE(out[1].complete);
  EXPECT_EQ(fields["type"], "USER_LOGIN");
  EXPECT_EQ(fields["acct"], "root");
  EXPECT_EQ(fields["res"], "failed");
  EXPECT_EQ(joiner.stats().standalone, 1u);
  EXPECT_EQ(joiner.open(), 0u);
  // A kernel record without its EOE waits, and is handed on flush_after later.
  joiner.Add({}, "type=ANOM_ABEND msg=audit(12.5:78): pid=2 sig=11", AuditJoiner::kRecordTime, out);
  EXPECT_EQ(out.size(), 2u);
  joiner.Add({}, "type=SYSCALL msg=audit(15.0:79): pid=3", AuditJoiner::kRecordTime, out);
  ASSERT_EQ(out.size(), 3u);  // 2.5 s later: serial 78 timed out
  EXPECT_FALSE(out[2].complete);
  EXPECT_EQ(Fields(out[2])["type"], "ANOM_ABEND");
  EXPECT_EQ(joiner.stats().timed_out, 1u);
}

// Every record taken is in exactly one place: the first record of an event
// (emitted or open), folded into its serial's event (or an EOE), or dropped.
TEST(AuditJoiner, AccountsForEveryRecord) {
  AuditLimits limits;
  limits.max_records = 2;
  AuditJoiner joiner(limits);
  std::vector<AuditEvent> out;
  for (const std::string& record : kExecve) joiner.Add({}, record, 0, out);  // 7: 1 event
  joiner.Add({}, "type=EOE msg=audit(1.0:99):", 0, out);                     // no such serial
  joiner.Add({}, "type=SYSCALL msg=audit(1.0:100): pid=1", 0, out);          // open
  joiner.Add({}, "type=USER_CMD msg=audit(1.0:101): msg='cmd=6964'", 0, out);
  const AuditStats& stats = joiner.stats();
  EXPECT_EQ(stats.records, 10u);
  EXPECT_EQ(stats.events, 2u);
  EXPECT_EQ(joiner.open(), 1u);
  EXPECT_EQ(stats.records_dropped, 4u);        // the execve's records beyond 2 (its EOE ends it)
  EXPECT_EQ(stats.Folded(joiner.open()), 3u);  // its 2nd record, its EOE, the stray EOE
  joiner.FlushAll(out);
  EXPECT_EQ(stats.flushed, 1u);
  EXPECT_EQ(stats.Folded(joiner.open()), 3u);
}

// Open serials are bounded in bytes together: past max_open_bytes the oldest
// are handed on early.
TEST(AuditJoiner, OpenSerialsAreBoundedInBytes) {
  AuditLimits limits;
  limits.max_open_bytes = 1000;
  AuditJoiner joiner(limits);
  std::vector<AuditEvent> out;
  const std::string value(300, 'v');
  for (int serial = 1; serial <= 10; ++serial) {
    joiner.Add({}, "type=SYSCALL msg=audit(1.0:" + std::to_string(serial) + "): a=" + value, 0,
               out);
    EXPECT_LE(joiner.bytes(), limits.max_open_bytes);
  }
  EXPECT_EQ(joiner.open(), 3u);  // 333-334 bytes each
  EXPECT_EQ(joiner.stats().evicted, 7u);
  ASSERT_EQ(out.size(), 7u);
  EXPECT_EQ(out[0].serial, 1u);  // oldest first
}

// One agency's records never join another's, even with the same serial.
TEST(AuditJoiner, JoinsPerSource) {
  AuditJoiner joiner;
  std::vector<AuditEvent> out;
  const AuditSource a{1, 0, "h"}, b{2, 0, "h"}, c{1, 0, "other"};
  joiner.Add(a, "type=SYSCALL msg=audit(1.0:5): exe=\"/bin/a\"", AuditJoiner::kRecordTime, out);
  joiner.Add(b, "type=SYSCALL msg=audit(1.0:5): exe=\"/bin/b\"", AuditJoiner::kRecordTime, out);
  joiner.Add(c, "type=SYSCALL msg=audit(1.0:5): exe=\"/bin/c\"", AuditJoiner::kRecordTime, out);
  EXPECT_EQ(joiner.open(), 3u);
  joiner.Add(b, "type=EOE msg=audit(1.0:5):", AuditJoiner::kRecordTime, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].agency, 2);
  EXPECT_EQ(Fields(out[0])["exe"], "/bin/b");
  EXPECT_EQ(out[0].text.find("/bin/a"), std::string::npos);
  joiner.FlushAll(out);
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(joiner.open(), 0u);
}

TEST(AuditJoiner, BoundsRecordsBytesAndOpenSerials) {
  AuditLimits limits;
  limits.max_records = 3;
  limits.max_event_bytes = 200;
  limits.max_open = 2;
  AuditJoiner joiner(limits);
  std::vector<AuditEvent> out;
  for (int i = 0; i < 10; ++i)
    joiner.Add({}, "type=PATH msg=audit(1.0:1): item=" + std::to_string(i), 0, out);
  EXPECT_EQ(joiner.stats().records_dropped, 7u);
  const std::string big = "type=PATH msg=audit(1.0:2): name=\"" + std::string(500, 'x') + "\"";
  joiner.Add({}, big, 0, out);  // the first record of a serial is kept, cut to the bound
  joiner.Add({}, big, 0, out);  // a second one does not fit
  EXPECT_EQ(joiner.stats().records_dropped, 8u);
  EXPECT_LE(joiner.bytes(), 2 * limits.max_event_bytes);
  EXPECT_TRUE(out.empty());
  joiner.Add({}, "type=PATH msg=audit(1.0:3): item=0", 0, out);  // a third serial evicts serial 1
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].serial, 1u);
  EXPECT_EQ(Fields(out[0])["item"], "0");
  EXPECT_EQ(joiner.stats().evicted, 1u);
  EXPECT_EQ(joiner.open(), 2u);
  joiner.Expire(int64_t{5'000'000'000}, out);  // the caller's clock: both are older than 2 s
  EXPECT_EQ(out.size(), 3u);
  EXPECT_LE(out[1].text.size(), limits.max_event_bytes);
  EXPECT_EQ(joiner.bytes(), 0u);
}

// The batch hook: the records leave the batch, the joined event comes in.
TEST(AuditJoiner, BatchHookReplacesRecordsByTheJoinedEvent) {
  AuditJoiner joiner;
  EventBatch batch;
  uint64_t ids = 100;
  size_t appended = 0;
  for (const std::string& line : kExecve) {
    Event& event = batch.AddEvent();
    event.message = event.raw = batch.arena().Copy(line);
    event.agency = 4;
    appended += JoinAuditRecord(joiner, batch, AuditJoiner::kRecordTime, ids);
  }
  Event& other = batch.AddEvent();
  other.message = "sshd[1]: Accepted password for root";
  EXPECT_EQ(JoinAuditRecord(joiner, batch, AuditJoiner::kRecordTime, ids), 0u);
  EXPECT_EQ(appended, 1u);
  ASSERT_EQ(batch.size(), 2u);
  const Event& joined = batch.events()[0];
  EXPECT_EQ(joined.id, 101u);
  EXPECT_EQ(joined.agency, 4);
  EXPECT_EQ(GetField(batch, joined, "cmdline").value, "chattr -i /etc/passwd");
  EXPECT_EQ(GetField(batch, joined, "type").value, "EXECVE");
  EXPECT_EQ(joined.event_time_ns, 1'700'000'000'123'000'000);
}

// A joined event moved or copied (as a growing vector does) keeps its fields:
// short storage lives inside the string, so views must follow it.
TEST(AuditEvent, FieldsFollowTheStorageWhenMovedOrCopied) {
  AuditEvent event;
  event.storage = "a0x";  // short: kept inside the std::string
  event.fields = {
      {std::string_view(event.storage).substr(0, 2), std::string_view(event.storage).substr(2, 1)}};
  std::vector<AuditEvent> events;
  events.push_back(event);
  for (int i = 0; i < 20; ++i) events.push_back(AuditEvent{});  // reallocates
  AuditEvent moved = std::move(events.front());
  events.clear();
  ASSERT_EQ(moved.fields.size(), 1u);
  EXPECT_EQ(moved.fields[0].first, "a0");
  EXPECT_EQ(moved.fields[0].second, "x");
  EXPECT_GE(moved.fields[0].first.data(), moved.storage.data());
  EXPECT_LE(moved.fields[0].second.data(), moved.storage.data() + moved.storage.size());
  const AuditEvent copy = moved;
  EXPECT_EQ(copy.fields[0].first.data(), copy.storage.data());
}

}  // namespace
}  // namespace gsoc::decode
