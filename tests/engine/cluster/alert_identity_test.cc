// Cluster alert identity and the alerts message codec: the identity is a
// function of (rule, key, window, input position) only; every truncation
// and corruption of an alerts message is refused or decodes within bounds.
#include "engine/cluster/alert_identity.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "engine/cluster/alert_batch_codec.h"

namespace gsoc {
namespace {

Alert SampleAlert(int n = 0) {
  Alert alert;
  alert.time_ns = 1'700'000'000'000'000'000 + n;
  alert.kind = AlertKind::kDetection;
  alert.rule = {"6f6b3f1e-2d1a-4c52-9a61-0c1f6f0d0a01",
                "ssh_failure",
                "SSH Authentication Failure",
                rules::Level::kMedium,
                {"attack.t1110", "attack.credential_access"},
                0x1234abcd};
  alert.agency = "mof";
  alert.group = {{"src_ip", "198.18.0.7"}};
  alert.window_start_ns = alert.window_end_ns = alert.time_ns;
  alert.count = 1;
  alert.value = 2.5;
  alert.fields = {{"host", "bastion"}, {"user", "root"}, {"src_ip", "198.18.0.7"}};
  alert.events.push_back(
      {42u + n, alert.time_ns, "<38>Nov 25 10:00:01 bastion sshd[812]: Failed password for root"});
  return alert;
}

TEST(AlertIdentityTest, SameInputSameIdentityAnyOtherInputChangesIt) {
  const Alert alert = SampleAlert();
  const AlertIdentity identity = ComputeAlertIdentity(alert, {17, 3});
  EXPECT_EQ(identity, ComputeAlertIdentity(alert, {17, 3}));
  EXPECT_EQ(identity.Text().size(), 32u);
  // What is not part of it: fields, events, count, the id, the time shown.
  Alert other = alert;
  other.fields.clear();
  other.events.clear();
  other.count = 9;
  other.id = 77;
  other.rule.title = "renamed";
  EXPECT_EQ(identity, ComputeAlertIdentity(other, {17, 3}));
  // Each input on its own changes it.
  std::set<std::string> seen{identity.Text()};
  const auto differs = [&](const Alert& changed, InputPosition position) {
    EXPECT_TRUE(seen.insert(ComputeAlertIdentity(changed, position).Text()).second);
  };
  differs(alert, {18, 3});
  differs(alert, {17, 4});
  other = alert;
  other.rule.id += "x";
  differs(other, {17, 3});
  other = alert;
  other.agency = "moj";
  differs(other, {17, 3});
  other = alert;
  other.group[0].second = "198.18.0.8";
  differs(other, {17, 3});
  other = alert;
  other.group = {{"src_ip1", "98.18.0.7"}};  // the same bytes, split elsewhere
  differs(other, {17, 3});
  other = alert;
  other.window_end_ns += 1;
  differs(other, {17, 3});
  other = alert;
  other.kind = AlertKind::kCorrelation;
  differs(other, {17, 3});
}

TEST(AlertIdentityTest, AnAggregatesVersionsDifferAndOtherAlertsKeepTheirIdentity) {
  Alert alert = SampleAlert();
  const AlertIdentity plain = ComputeAlertIdentity(alert, {7, 3});
  alert.aggregate_key = 0x9f0c;
  alert.aggregate_opened_ns = 5;
  const AlertIdentity v0 = ComputeAlertIdentity(alert, {7, 3});
  EXPECT_NE(v0, plain);
  alert.aggregate_version = 1;  // the same window and newest hit: still another version
  const AlertIdentity v1 = ComputeAlertIdentity(alert, {7, 3});
  EXPECT_NE(v1, v0);
  EXPECT_EQ(ComputeAlertIdentity(alert, {7, 3}), v1);
  alert.aggregate_opened_ns = 6;  // the next aggregate of the key
  EXPECT_NE(ComputeAlertIdentity(alert, {7, 3}), v1);
  alert.aggregate_key = 0;  // not an aggregate: the members are not read
  alert.aggregate_version = 0;
  EXPECT_EQ(ComputeAlertIdentity(alert, {7, 3}), plain);
}

TEST(AlertIdentityTest, MessageIdFollowsTheIdentitiesInOrder) {
  const AlertIdentity a = ComputeAlertIdentity(SampleAlert(), {1, 0});
  const AlertIdentity b = ComputeAlertIdentity(SampleAlert(), {1, 1});
  const std::vector<AlertIdentity> ab{a, b}, ba{b, a}, only_a{a};
  EXPECT_EQ(AlertMessageId(ab), AlertMessageId(std::vector<AlertIdentity>{a, b}));
  EXPECT_NE(AlertMessageId(ab), AlertMessageId(ba));
  EXPECT_NE(AlertMessageId(ab), AlertMessageId(only_a));
  EXPECT_EQ(AlertMessageId(ab).size(), 34u);  // "a-" + 32 hex digits
}

TEST(AlertIdentityTest, WindowIsFirstInFirstOutAndBounded) {
  IdentityWindow window(3);
  std::vector<AlertIdentity> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(ComputeAlertIdentity(SampleAlert(), {1, uint32_t(i)}));
  EXPECT_TRUE(window.Insert(ids[0]));
  EXPECT_FALSE(window.Insert(ids[0]));
  EXPECT_TRUE(window.Insert(ids[1]));
  EXPECT_TRUE(window.Insert(ids[2]));
  EXPECT_TRUE(window.Insert(ids[3]));  // evicts ids[0]
  EXPECT_EQ(window.size(), 3u);
  EXPECT_EQ(window.bytes(), 3 * IdentityWindow::kBytesPerEntry);
  EXPECT_FALSE(window.Contains(ids[0]));
  EXPECT_TRUE(window.Contains(ids[3]));
  EXPECT_TRUE(window.Insert(ids[0]));  // beyond the window: new again
}

std::vector<ClusterAlert> SampleBatch(size_t n) {
  std::vector<ClusterAlert> alerts;
  for (size_t i = 0; i < n; ++i) {
    Alert alert = SampleAlert(static_cast<int>(i));
    if (i % 2 == 1) {
      alert.kind = AlertKind::kCorrelation;
      alert.correlation_type = "event_count";
      alert.condition = "gte 5";
      alert.suppressed = 3;
      alert.window_start_ns -= 60'000'000'000;
      alert.count = 7;
    }
    const AlertIdentity identity = ComputeAlertIdentity(alert, {9, static_cast<uint32_t>(i)});
    alerts.push_back({identity, std::move(alert)});
  }
  return alerts;
}

void ExpectSame(const ClusterAlert& a, const ClusterAlert& b) {
  EXPECT_EQ(a.identity, b.identity);
  std::string ja, jb;
  AppendAlertJson(ja, a.alert);
  AppendAlertJson(jb, b.alert);
  EXPECT_EQ(ja, jb);
  EXPECT_EQ(a.alert.rule.revision, b.alert.rule.revision);
}

TEST(AlertBatchCodecTest, RoundTripsAndSplitsByBytesAndCount) {
  const std::vector<ClusterAlert> alerts = SampleBatch(5);
  std::string message;
  ASSERT_EQ(EncodeAlertBatch(alerts, 0, 1 << 20, message), 5u);
  std::vector<ClusterAlert> decoded;
  CodecError error;
  ASSERT_TRUE(DecodeAlertBatch(message, decoded, &error)) << error.reason << " @" << error.offset;
  ASSERT_EQ(decoded.size(), 5u);
  for (size_t i = 0; i < 5; ++i) ExpectSame(alerts[i], decoded[i]);
  // A bound that holds two: two, then the rest from there.
  const size_t two = message.size() * 2 / 5 + 20;
  EXPECT_EQ(EncodeAlertBatch(alerts, 0, two, message), 2u);
  EXPECT_LE(message.size(), two);
  EXPECT_EQ(EncodeAlertBatch(alerts, 2, two, message), 2u);
  EXPECT_EQ(EncodeAlertBatch(alerts, 0, 40, message), 0u);  // one alone does not fit
  EXPECT_TRUE(message.empty());
  // At most kMaxAlertsPerMessage per message (the store's id spacing).
  const std::vector<ClusterAlert> many = SampleBatch(kMaxAlertsPerMessage + 5);
  EXPECT_EQ(EncodeAlertBatch(many, 0, 1 << 20, message), kMaxAlertsPerMessage);
  ASSERT_TRUE(DecodeAlertBatch(message, decoded, &error));
  EXPECT_EQ(decoded.size(), kMaxAlertsPerMessage);
}

TEST(AlertBatchCodecTest, EveryTruncationIsRefused) {
  const std::vector<ClusterAlert> alerts = SampleBatch(3);
  std::string message;
  ASSERT_EQ(EncodeAlertBatch(alerts, 0, 1 << 20, message), 3u);
  std::vector<ClusterAlert> decoded;
  for (size_t size = 0; size < message.size(); ++size) {
    CodecError error;
    EXPECT_FALSE(DecodeAlertBatch(std::string_view(message).substr(0, size), decoded, &error))
        << size;
    EXPECT_FALSE(error.reason.empty());
    EXPECT_LE(error.offset, size);
    EXPECT_TRUE(decoded.empty());
  }
  CodecError error;
  EXPECT_FALSE(DecodeAlertBatch(message + "x", decoded, &error));
  EXPECT_EQ(error.reason, "trailing bytes");
}

TEST(AlertBatchCodecTest, EveryCorruptedByteIsRefusedOrDecodedWithinBounds) {
  const std::vector<ClusterAlert> alerts = SampleBatch(3);
  std::string message;
  ASSERT_EQ(EncodeAlertBatch(alerts, 0, 1 << 20, message), 3u);
  size_t refused = 0;
  for (size_t i = 0; i < message.size(); ++i) {
    for (const uint8_t flip : {0x01, 0x5a, 0x80, 0xff}) {
      std::string corrupt = message;
      corrupt[i] = static_cast<char>(corrupt[i] ^ flip);
      std::vector<ClusterAlert> decoded;
      CodecError error;
      if (!DecodeAlertBatch(corrupt, decoded, &error)) {
        refused += i < 10 ? 1 : 0;
        EXPECT_FALSE(error.reason.empty());
        EXPECT_LE(error.offset, corrupt.size());
        EXPECT_TRUE(decoded.empty());
        continue;
      }
      EXPECT_GE(i, 10u) << "a corrupted header byte was accepted";
      ASSERT_LE(decoded.size(), kMaxAlertsPerMessage);
      size_t bytes = 0;
      for (const ClusterAlert& item : decoded) {
        EXPECT_FALSE(item.alert.rule.id.empty());
        EXPECT_LE(static_cast<int>(item.alert.kind), 1);
        EXPECT_LE(static_cast<int>(item.alert.rule.level), 4);
        bytes += item.alert.rule.id.size() + item.alert.agency.size();
        for (const AlertEvent& event : item.alert.events) bytes += event.raw.size();
        for (const auto& [name, value] : item.alert.fields) bytes += name.size() + value.size();
      }
      EXPECT_LE(bytes, corrupt.size());
    }
  }
  EXPECT_EQ(refused, 10u * 4);  // every corrupted header byte
}

TEST(AlertBatchCodecTest, HostileHeadersAndCountsAreRefusedWithAReason) {
  const std::vector<ClusterAlert> alerts = SampleBatch(1);
  std::string message;
  ASSERT_EQ(EncodeAlertBatch(alerts, 0, 1 << 20, message), 1u);
  std::vector<ClusterAlert> decoded;
  const auto refusal = [&](std::string bytes) {
    CodecError error;
    EXPECT_FALSE(DecodeAlertBatch(bytes, decoded, &error));
    return std::string(error.reason);
  };
  std::string bad = message;
  bad[0] = 'X';
  EXPECT_EQ(refusal(bad), "not an alert batch (magic)");
  bad = message;
  bad[4] = 1;  // before the shared alert detail
  EXPECT_EQ(refusal(bad), "unknown alert batch version");
  bad[4] = 3;
  EXPECT_EQ(refusal(bad), "unknown alert batch version");
  bad = message;
  bad[5] = 1;
  EXPECT_EQ(refusal(bad), "reserved flags set");
  bad = message;
  bad[6] = bad[7] = bad[8] = bad[9] = 0;
  EXPECT_EQ(refusal(bad), "empty alert batch");
  bad = message;
  bad[6] = static_cast<char>(0xe9);  // 1001
  bad[7] = 0x03;
  EXPECT_EQ(refusal(bad), "too many alerts in one message");
  bad = message;
  bad[6] = 100;  // more alerts than the bytes could hold
  EXPECT_EQ(refusal(bad), "count beyond the message");
  // A pair count of 2^40 and a 10-byte varint that overflows.
  std::string header = message.substr(0, 10);
  std::string body(16, '\0');  // identity
  body += '\0';                // time
  body += '\0';                // kind
  body += '\x09';              // level 9
  body += std::string(60, '\0');
  EXPECT_EQ(refusal(header + body), "unknown level");
  body[18] = '\0';
  body[16] = static_cast<char>(0xff);
  for (int i = 17; i < 25; ++i) body[i] = static_cast<char>(0xff);
  body[25] = static_cast<char>(0x81);  // a continuation bit on the tenth byte
  EXPECT_EQ(refusal(header + body), "varint longer than 10 bytes");
}

}  // namespace
}  // namespace gsoc
