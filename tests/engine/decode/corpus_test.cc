// The shipped pack against real logs: loghub OpenSSH_2k and Linux_2k (with
// their *_structured.csv templates as an independent oracle) and the Elastic
// examples auth.log. Prints the share of lines each file got a decoder for.
#include <arpa/inet.h>

#include <cstdio>

#include "tests/engine/decode/test_util.h"

namespace gsoc::decode::testing {
namespace {

struct CorpusRun {
  std::vector<std::string> lines;
  std::vector<Decoded> decoded;
  size_t matched = 0;
};

class CorpusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto result = DecoderSet::Load({PackDir()}, {}, {});
    ASSERT_TRUE(result.errors.empty());
    set_ = result.set.release();
  }
  static void TearDownTestSuite() {
    delete set_;
    set_ = nullptr;
  }

  static CorpusRun Run(const std::filesystem::path& file) {
    CorpusRun run;
    run.lines = ReadLines(file);
    auto scratch = set_->MakeScratch();
    for (const std::string& line : run.lines) {
      run.decoded.push_back(DecodeLine(*set_, *scratch, line));
      if (!run.decoded.back().decoder.empty()) ++run.matched;
    }
    std::printf("[ coverage ] %s: %zu of %zu lines decoded (%.1f%%)\n", file.filename().c_str(),
                run.matched, run.lines.size(),
                run.lines.empty() ? 0.0 : 100.0 * run.matched / run.lines.size());
    ::testing::Test::RecordProperty(file.filename().string() + "_coverage_pct",
                                    std::to_string(100.0 * run.matched / run.lines.size()));
    return run;
  }

  // EventId per line from a loghub *_structured.csv (LineId is 1-based).
  static std::vector<std::string> EventIds(const std::filesystem::path& csv, size_t lines) {
    std::vector<std::string> ids(lines);
    const std::vector<std::string> rows = ReadLines(csv);
    EXPECT_GT(rows.size(), 1u);
    const std::vector<std::string> header = SplitCsv(rows[0]);
    const size_t id_col = std::find(header.begin(), header.end(), "EventId") - header.begin();
    EXPECT_LT(id_col, header.size());
    for (size_t i = 1; i < rows.size(); ++i) {
      const std::vector<std::string> cells = SplitCsv(rows[i]);
      const size_t line_id = std::stoul(cells.at(0));
      EXPECT_EQ(line_id, i);
      if (line_id >= 1 && line_id <= lines) ids[line_id - 1] = cells.at(id_col);
    }
    return ids;
  }

  static DecoderSet* set_;
};
DecoderSet* CorpusTest::set_ = nullptr;

// Text between `after` and the next `until` (string search, not regex).
std::string Between(const std::string& text, const std::string& after, const std::string& until) {
  size_t b = text.find(after);
  if (b == std::string::npos) return {};
  b += after.size();
  const size_t e = text.find(until, b);
  return text.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

bool IsIpAddress(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

// sshd "Failed <method> for [invalid user ]U from IP port P": extraction by
// string search, independent of the decoder regex.
void CheckFailedLine(const std::string& line, const Decoded& d) {
  SCOPED_TRACE(line);
  EXPECT_EQ(d.decoder, "sshd-failed-auth");
  std::string rest = line.substr(line.find("Failed "));
  rest = rest.substr(rest.find(" for ") + 5);
  if (rest.rfind("invalid user ", 0) == 0) rest = rest.substr(13);
  const size_t from = rest.find(" from ");
  const std::string user = rest.substr(0, from);
  const std::string ip = Between(rest, " from ", " port ");
  std::string port = Between(rest, " port ", " ");
  while (!port.empty() && !isdigit(static_cast<unsigned char>(port.back()))) port.pop_back();
  EXPECT_TRUE(IsIpAddress(ip)) << ip;
  EXPECT_EQ(d.Get("user"), user);
  EXPECT_EQ(d.Has("user"), !user.empty());
  EXPECT_EQ(d.Get("src_ip"), ip);
  EXPECT_EQ(d.Get("src_port"), port);
  EXPECT_EQ(d.Get("action"), "failure");
}

TEST_F(CorpusTest, OpenSshMatchesTemplateOracle) {
  const auto dir = CorpusDir() / "loghub" / "OpenSSH";
  const CorpusRun run = Run(dir / "OpenSSH_2k.log");
  ASSERT_EQ(run.lines.size(), 2000u);
  const std::vector<std::string> ids = EventIds(dir / "OpenSSH_2k.log_structured.csv", 2000);
  // loghub template → the decoder that must take it ("" = none).
  const std::map<std::string, std::string> expected = {
      {"E1", "sshd-accepted"},
      {"E2", "sshd-connection-closed"},
      {"E3", "sshd-no-identification"},
      {"E4", "sshd-too-many-failures"},
      {"E5", "sshd-too-many-failures"},
      {"E6", "sshd-received-disconnect"},
      {"E7", "sshd-received-disconnect"},
      {"E8", "sshd-failed-auth"},
      {"E9", "sshd-failed-auth"},
      {"E10", "sshd-failed-auth"},
      {"E11", ""},
      {"E12", "sshd-invalid-user-preauth"},
      {"E13", "sshd-invalid-user"},
      {"E14", "sshd-failed-auth"},
      {"E15", "pam-more-failures"},
      {"E16", "pam-more-failures"},
      {"E17", "pam-more-failures"},
      {"E18", ""},
      {"E19", "pam-auth-failure"},
      {"E20", "pam-auth-failure"},
      {"E21", "pam-user-unknown"},
      {"E22", "pam-session-closed"},
      {"E23", "pam-session-opened"},
      {"E24", "sshd-received-disconnect"},
      {"E25", "sshd-received-disconnect"},
      {"E26", "sshd-received-disconnect"},
      {"E27", "sshd-reverse-mapping-failed"},
  };
  size_t failed_password = 0;
  size_t failed_password_decoded = 0;
  for (size_t i = 0; i < run.lines.size(); ++i) {
    const std::string& line = run.lines[i];
    const Decoded& d = run.decoded[i];
    auto it = expected.find(ids[i]);
    ASSERT_NE(it, expected.end()) << "template " << ids[i];
    EXPECT_EQ(d.decoder, it->second) << "line " << i + 1 << " (" << ids[i] << "): " << line;
    if (line.find("Failed password for") != std::string::npos) {
      ++failed_password;
      CheckFailedLine(line, d);
      if (d.Has("src_ip") && d.Has("src_port") && d.Has("user")) ++failed_password_decoded;
    }
    if (d.decoder == "pam-auth-failure" || d.decoder == "pam-more-failures") {
      std::string rhost = Between(line, "rhost=", " ");
      EXPECT_EQ(d.Get("rhost"), rhost) << line;
      EXPECT_EQ(d.Has("src_ip"), IsIpAddress(rhost)) << line;
      if (IsIpAddress(rhost)) {
        EXPECT_EQ(d.Get("src_ip"), rhost);
      }
    }
  }
  EXPECT_EQ(failed_password, 520u);
  EXPECT_EQ(failed_password_decoded, failed_password);
  // Spot checks by line number (1-based).
  const Decoded& l1 = run.decoded[0];
  EXPECT_EQ(l1.Get("rhost"), "ns.marryaldkfaczcz.com");
  EXPECT_EQ(l1.Get("src_ip"), "173.234.31.186");
  const Decoded& l2 = run.decoded[1];
  EXPECT_EQ(l2.Get("user"), "webmaster");
  EXPECT_EQ(l2.Get("src_ip"), "173.234.31.186");
  const Decoded& l6 = run.decoded[5];
  EXPECT_EQ(l6.Get("user"), "webmaster");
  EXPECT_EQ(l6.Get("src_port"), "38926");
  const Decoded& l956 = run.decoded[955];
  EXPECT_EQ(l956.decoder, "sshd-accepted");
  EXPECT_EQ(l956.Get("user"), "fztu");
  EXPECT_EQ(l956.Get("src_ip"), "119.137.62.142");
  EXPECT_EQ(l956.Get("src_port"), "49116");
  EXPECT_EQ(l956.Get("action"), "success");
}

TEST_F(CorpusTest, LinuxMatchesTemplateOracle) {
  const auto dir = CorpusDir() / "loghub" / "Linux";
  const CorpusRun run = Run(dir / "Linux_2k.log");
  ASSERT_EQ(run.lines.size(), 2000u);
  const std::vector<std::string> ids = EventIds(dir / "Linux_2k.log_structured.csv", 2000);
  const std::map<std::string, std::string> expected = {
      {"E9", "ftpd-anonymous-login"}, {"E13", "klogind-auth-failed"},
      {"E14", "klogind-auth-failed"}, {"E15", "pam-auth-failure"},
      {"E16", "pam-auth-failure"},    {"E17", "pam-auth-failure"},
      {"E18", "pam-auth-failure"},    {"E19", "pam-auth-failure"},
      {"E27", "pam-user-unknown"},    {"E29", "ftpd-connection"},
      {"E101", "pam-session-closed"}, {"E102", "pam-session-opened"},
      {"E103", "pam-session-opened"},
  };
  size_t pam_failures = 0;
  for (size_t i = 0; i < run.lines.size(); ++i) {
    const std::string& line = run.lines[i];
    const Decoded& d = run.decoded[i];
    auto it = expected.find(ids[i]);
    const std::string want = it == expected.end() ? "" : it->second;
    EXPECT_EQ(d.decoder, want) << "line " << i + 1 << " (" << ids[i] << "): " << line;
    if (want == "pam-auth-failure") {
      ++pam_failures;
      std::string rhost = Between(line, "rhost=", " ");
      EXPECT_EQ(d.Get("rhost"), rhost) << line;
      EXPECT_EQ(d.Has("src_ip"), IsIpAddress(rhost)) << line;
      if (IsIpAddress(rhost)) {
        EXPECT_EQ(d.Get("src_ip"), rhost);
      }
      EXPECT_EQ(d.Get("user"), Between(line, " user=", " ")) << line;
    }
    if (want == "pam-session-opened" || want == "pam-session-closed") {
      EXPECT_EQ(d.Get("user"), Between(line, "for user ", " ")) << line;
    }
    if (want == "ftpd-connection") {
      EXPECT_EQ(d.Get("src_ip"), Between(line, "connection from ", " ")) << line;
    }
  }
  EXPECT_GT(pam_failures, 300u);
  // Line 1: old PAM form, rhost an address.
  EXPECT_EQ(run.decoded[0].program, "sshd(pam_unix)");
  EXPECT_EQ(run.decoded[0].Get("src_ip"), "218.188.2.4");
  // Line 1748: anonymous FTP login.
  EXPECT_EQ(run.decoded[1747].Get("src_ip"), "84.102.20.2");
  EXPECT_EQ(run.decoded[1747].Get("user"), "anonymous");
}

TEST_F(CorpusTest, ElasticAuthLog) {
  const CorpusRun run = Run(CorpusDir() / "elastic-examples-auth" / "auth.log");
  ASSERT_GT(run.lines.size(), 7000u);
  size_t failed = 0, accepted = 0, sudo_commands = 0, new_users = 0, cron = 0;
  for (size_t i = 0; i < run.lines.size(); ++i) {
    const std::string& line = run.lines[i];
    const Decoded& d = run.decoded[i];
    if (line.find("Failed password for") != std::string::npos) {
      ++failed;
      CheckFailedLine(line, d);
    }
    if (line.find(" sshd[") != std::string::npos && line.find(": Accepted ") != std::string::npos) {
      ++accepted;
      EXPECT_EQ(d.decoder, "sshd-accepted") << line;
      EXPECT_EQ(d.Get("src_ip"), Between(line, " from ", " port ")) << line;
      EXPECT_EQ(d.Get("user"), Between(line, " for ", " from ")) << line;
    }
    if (line.find(" sudo: ") != std::string::npos &&
        line.find(" ; COMMAND=") != std::string::npos) {
      ++sudo_commands;
      EXPECT_EQ(d.decoder, "sudo-command") << line;
      EXPECT_EQ(d.Get("command"), line.substr(line.find(" ; COMMAND=") + 11)) << line;
      EXPECT_EQ(d.Get("target_user"), Between(line, "USER=", " ")) << line;
    }
    if (line.find("new user: name=") != std::string::npos) {
      ++new_users;
      EXPECT_EQ(d.decoder, "useradd-new-user") << line;
      EXPECT_EQ(d.Get("user"), Between(line, "name=", ",")) << line;
    }
    if (line.find(" CRON[") != std::string::npos) {
      ++cron;
      EXPECT_TRUE(d.decoder == "pam-session-opened" || d.decoder == "pam-session-closed" ||
                  d.decoder == "cron-command")
          << line;
      EXPECT_EQ(d.Get("service"), "cron") << line;
    }
  }
  EXPECT_EQ(failed, 713u);
  EXPECT_GT(accepted, 200u);
  EXPECT_GT(sudo_commands, 100u);
  EXPECT_EQ(new_users, 10u);
  EXPECT_EQ(cron, 1264u);
}

// The Hyperscan prefilter (required literals, regexes) chooses the same
// decoder and fields as trying every decoder on every line (Prefilter::kNone)
// on every corpus line, and the same lines with the program's case changed
// and a message's first byte dropped (so anchored regexes miss).
TEST(PrefilterDifferential, SameDecodingAsTryingEveryDecoder) {
  auto fast = DecoderSet::Load({PackDir()}, {}, {});
  auto every = DecoderSet::Load({PackDir()}, {}, {}, {}, DecoderSet::Prefilter::kNone);
  ASSERT_TRUE(fast.errors.empty() && every.errors.empty());
  auto fast_scratch = fast.set->MakeScratch();
  auto every_scratch = every.set->MakeScratch();
  std::vector<std::string> lines;
  for (const auto& file : {CorpusDir() / "loghub" / "OpenSSH" / "OpenSSH_2k.log",
                           CorpusDir() / "loghub" / "Linux_full" / "Linux.log",
                           CorpusDir() / "elastic-examples-auth" / "auth.log"}) {
    for (std::string& line : ReadLines(file)) {
      std::string upper = line;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      const size_t colon = line.find(": ");
      if (colon != std::string::npos && colon + 3 <= line.size())
        lines.push_back(line.substr(0, colon + 2) + line.substr(colon + 3));
      lines.push_back(std::move(upper));
      lines.push_back(std::move(line));
    }
  }
  ASSERT_GT(lines.size(), 90000u);
  size_t decoded = 0;
  for (const std::string& line : lines) {
    const Decoded a = DecodeLine(*fast.set, *fast_scratch, line);
    const Decoded b = DecodeLine(*every.set, *every_scratch, line);
    ASSERT_EQ(a.decoder, b.decoder) << line;
    ASSERT_EQ(a.names, b.names) << line;
    ASSERT_EQ(a.fields, b.fields) << line;
    if (!a.decoder.empty()) ++decoded;
  }
  EXPECT_GT(decoded, lines.size() / 8);  // not vacuous (18,422 of 102,960 when written)
}

}  // namespace
}  // namespace gsoc::decode::testing
