#include "tools/loadgen/templates.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

#include "tools/loadgen/catalog.h"
#include "tools/loadgen/message_buffer.h"
#include "tools/loadgen/timestamps.h"

namespace gsoc::loadgen {
namespace {

const TimestampSet kTime(1700000000, 123);  // 2023-11-14 22:13:20.123 UTC

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "<PRI>" with 0 <= PRI <= 191; returns the rest.
std::string_view SkipPri(std::string_view m) {
  const size_t close = m.find('>');
  EXPECT_EQ(m.substr(0, 1), "<") << m;
  if (close == std::string_view::npos || close < 2 || close > 4) {
    ADD_FAILURE() << "no PRI: " << m;
    return {};
  }
  const std::string_view pri = m.substr(1, close - 1);
  EXPECT_TRUE(AllDigits(pri)) << m;
  EXPECT_LE(std::stoi(std::string(pri)), 191) << m;
  return m.substr(close + 1);
}

void ExpectRfc3164Timestamp(std::string_view ts) {
  static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  ASSERT_EQ(ts.size(), 15u);
  EXPECT_EQ(kMonths.find(ts.substr(0, 3)) % 3, 0u) << ts;
  EXPECT_EQ(ts[3], ' ');
  EXPECT_TRUE(ts[4] == ' ' || std::isdigit(static_cast<unsigned char>(ts[4]))) << ts;
  EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(ts[5]))) << ts;
  EXPECT_EQ(ts[6], ' ');
  EXPECT_TRUE(AllDigits(ts.substr(7, 2)) && AllDigits(ts.substr(10, 2)) &&
              AllDigits(ts.substr(13, 2)))
      << ts;
  EXPECT_EQ(ts[9], ':');
  EXPECT_EQ(ts[12], ':');
}

void ExpectRfc3339Timestamp(std::string_view ts) {
  ASSERT_EQ(ts.size(), 24u);
  EXPECT_TRUE(AllDigits(ts.substr(0, 4)) && AllDigits(ts.substr(5, 2)) &&
              AllDigits(ts.substr(8, 2)))
      << ts;
  EXPECT_EQ(ts[4], '-');
  EXPECT_EQ(ts[7], '-');
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts[19], '.');
  EXPECT_TRUE(AllDigits(ts.substr(20, 3))) << ts;
  EXPECT_EQ(ts[23], 'Z');
}

// Splits off the next space-separated token.
std::string_view Token(std::string_view& rest) {
  const size_t space = rest.find(' ');
  const std::string_view token = rest.substr(0, space);
  rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
  return token;
}

void ExpectRfc3164(std::string_view m) {
  std::string_view rest = SkipPri(m);
  ASSERT_GE(rest.size(), 16u) << m;
  ExpectRfc3164Timestamp(rest.substr(0, 15));
  rest.remove_prefix(16);
  EXPECT_EQ(Token(rest), "web-01") << m;
  std::string_view tag = Token(rest);
  ASSERT_FALSE(tag.empty()) << m;
  ASSERT_EQ(tag.back(), ':') << m;
  tag.remove_suffix(1);
  if (tag.back() == ']') {
    const size_t open = tag.find('[');
    ASSERT_NE(open, std::string_view::npos) << m;
    EXPECT_TRUE(AllDigits(tag.substr(open + 1, tag.size() - open - 2))) << m;
    tag = tag.substr(0, open);
  }
  EXPECT_TRUE(std::all_of(tag.begin(), tag.end(), [](char c) { return std::isalnum(c); })) << m;
  EXPECT_FALSE(rest.empty()) << m;
}

void ExpectRfc5424(std::string_view m) {
  std::string_view rest = SkipPri(m);
  EXPECT_EQ(Token(rest), "1") << m;
  ExpectRfc3339Timestamp(Token(rest));
  EXPECT_EQ(Token(rest), "web-01") << m;
  EXPECT_FALSE(Token(rest).empty()) << m;  // APP-NAME
  const std::string_view procid = Token(rest);
  EXPECT_TRUE(procid == "-" || AllDigits(procid)) << m;
  EXPECT_EQ(Token(rest), "-") << m;  // MSGID
  EXPECT_EQ(Token(rest), "-") << m;  // STRUCTURED-DATA
  EXPECT_FALSE(rest.empty()) << m;
}

bool IsRfc5424(std::string_view m) { return m.substr(m.find('>') + 1, 2) == "1 "; }

TEST(TimestampSet, RendersFixedWidthUtc) {
  EXPECT_EQ(kTime.Get(TimestampKind::kRfc3164), "Nov 14 22:13:20");
  EXPECT_EQ(kTime.Get(TimestampKind::kRfc3339), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(kTime.Get(TimestampKind::kClf), "14/Nov/2023:22:13:20 +0000");
  const TimestampSet early(0, 5);
  EXPECT_EQ(early.Get(TimestampKind::kRfc3164), "Jan  1 00:00:00");
  EXPECT_EQ(early.Get(TimestampKind::kRfc3339), "1970-01-01T00:00:00.005Z");
}

TEST(Templates, Rfc3164Shape) {
  for (const auto& m : RenderTemplates(TemplateKind::kRfc3164, "web-01", 7, 2000, kTime)) {
    ExpectRfc3164(m.text);
  }
}

TEST(Templates, Rfc5424Shape) {
  for (const auto& m : RenderTemplates(TemplateKind::kRfc5424, "web-01", 7, 2000, kTime)) {
    ExpectRfc5424(m.text);
  }
}

TEST(Templates, MixHasBothHeadersAndRealisticContent) {
  size_t rfc5424 = 0, ssh_root_failures = 0, attacker_failures = 0, ufw = 0, nginx = 0;
  const auto messages = RenderTemplates(TemplateKind::kMix, "web-01", 42, 5000, kTime);
  for (const auto& m : messages) {
    if (IsRfc5424(m.text)) {
      ++rfc5424;
      ExpectRfc5424(m.text);
    } else {
      ExpectRfc3164(m.text);
    }
    const size_t failed = m.text.find("Failed password for root from ");
    if (failed != std::string::npos) {
      ++ssh_root_failures;
      std::string_view rest = std::string_view(m.text).substr(failed + 30);
      const std::string_view ip = Token(rest);
      EXPECT_EQ(std::count(ip.begin(), ip.end(), '.'), 3) << m.text;
      EXPECT_EQ(Token(rest), "port");
      EXPECT_TRUE(AllDigits(Token(rest))) << m.text;
      EXPECT_EQ(rest, "ssh2");
      const auto attackers = AttackerAddresses();
      if (std::find(attackers.begin(), attackers.end(), ip) != attackers.end()) {
        ++attacker_failures;
      }
    }
    if (m.text.find("[UFW BLOCK]") != std::string::npos) {
      ++ufw;
      for (const char* key : {" SRC=", " DST=", " PROTO=", " SPT=", " DPT="}) {
        EXPECT_NE(m.text.find(key), std::string::npos) << m.text;
      }
    }
    if (m.text.find("HTTP/1.1\" ") != std::string::npos) ++nginx;
  }
  EXPECT_GT(rfc5424, 500u);
  EXPECT_LT(rfc5424, 1500u);
  EXPECT_GT(ssh_root_failures, 50u);
  EXPECT_GT(attacker_failures * 100, ssh_root_failures * 70);  // mostly a few attackers
  EXPECT_GT(ufw, 500u);
  EXPECT_GT(nginx, 500u);
  for (const char* text : {"Accepted p", "Invalid user ",
                           "pam_unix(sshd:auth): authentication failure", "sudo", "CRON["}) {
    EXPECT_TRUE(std::any_of(messages.begin(), messages.end(), [&](const auto& m) {
      return m.text.find(text) != std::string::npos;
    })) << text;
  }
}

TEST(Templates, ReproducibleWithTheSameSeed) {
  const auto a = RenderTemplates(TemplateKind::kMix, "h", 99, 500, kTime);
  const auto b = RenderTemplates(TemplateKind::kMix, "h", 99, 500, kTime);
  const auto c = RenderTemplates(TemplateKind::kMix, "h", 100, 500, kTime);
  ASSERT_EQ(a.size(), 500u);
  size_t same_as_c = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].text, b[i].text);
    same_as_c += a[i].text == c[i].text ? 1 : 0;
  }
  EXPECT_LT(same_as_c, 50u);
}

TEST(Templates, TimestampSlotsPointAtTimestamps) {
  for (const auto& m : RenderTemplates(TemplateKind::kMix, "h", 3, 300, kTime)) {
    ASSERT_FALSE(m.slots.empty()) << m.text;
    for (const TimestampSlot& slot : m.slots) {
      EXPECT_EQ(m.text.substr(slot.offset, TimestampWidth(slot.kind)), kTime.Get(slot.kind));
    }
  }
}

TEST(MessageBuffer, PatchTimestampsRewritesEveryTimestamp) {
  const TimestampSet later(1700003723, 999);
  MessageBuffer buffer(Framing::kOctet);
  for (const auto& m : RenderTemplates(TemplateKind::kMix, "h", 5, 200, kTime)) buffer.Add(m);
  buffer.PatchTimestamps(later);
  const auto expected = RenderTemplates(TemplateKind::kMix, "h", 5, 200, later);
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(buffer.Payload(i), expected[i].text);
}

}  // namespace
}  // namespace gsoc::loadgen
