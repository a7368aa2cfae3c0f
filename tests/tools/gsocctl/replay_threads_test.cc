// gsocctl replay --threads N: batches are matched on N threads and taken
// back in input order for correlation and output, so the output must be the
// same, byte for byte, as with one thread — with correlations (the shipped
// pack over loghub's Linux.log, whose PAM failures make event_count
// correlations fire, RFC 3164 years rolling) and with the whole SigmaHQ
// corpus over Windows events (the OTRF LSASS dump data set).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "run_command.h"
#include "tests/util/sanitizer.h"

namespace {

namespace fs = std::filesystem;
using gsoc::ctl::test::RunCommand;

const std::string kGsocctl = GSOCCTL_PATH;
const fs::path kCorpus = GSOC_CORPUS_DIR;

size_t Count(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++count;
  return count;
}

TEST(GsocctlReplayThreads, ShippedPackWithCorrelationsSameOutputOnEveryThreadCount) {
  const std::string args =
      " --year 2005 " + (kCorpus / "loghub" / "Linux_full" / "Linux.log").string() + " " +
      (kCorpus / "loghub" / "OpenSSH" / "OpenSSH_2k.log").string() + " 2>/dev/null";
  const std::string one = RunCommand(kGsocctl + " replay --threads 1" + args);
  EXPECT_GT(Count(one, "\"kind\":\"detection\""), 1000u);
  EXPECT_GT(Count(one, "\"kind\":\"correlation\""), 5u);
  // "" is the default: one thread per core.
  for (const std::string threads : {"2", "3", "8", ""}) {
    const std::string option = threads.empty() ? "" : " --threads " + threads;
    const std::string many = RunCommand(kGsocctl + " replay" + option + args);
    EXPECT_TRUE(many == one) << "--threads " << threads << ": " << many.size() << " bytes against "
                             << one.size();
  }
}

TEST(GsocctlReplayThreads, SigmaHqCorpusOverWindowsEventsSameOutput) {
  std::string args = " --format json";
  for (const char* folder : {"rules", "rules-emerging-threats", "rules-threat-hunting"})
    args += " --rules " + (kCorpus / "sigmahq" / folder).string();
  const std::string otrf = (kCorpus / "otrf-security-datasets" / "windows_atomic_lsass_comsvcs" /
                            "psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json")
                               .string();
  // Sixty copies (11,040 events): several batches of 1,024 events in flight at once.
  for (int i = 0; i < 60; ++i) args += " " + otrf;
  args += " 2>/dev/null";
  const std::string one = RunCommand(kGsocctl + " replay --threads 1" + args);
  EXPECT_GT(Count(one, "\"kind\":\"detection\""), 1000u);
  const std::string two = RunCommand(kGsocctl + " replay --threads 2" + args);
  EXPECT_TRUE(two == one) << two.size() << " bytes against " << one.size();
}

// JSON lines are parsed on the matching threads, syslog lines on the
// reading one: a mixed file (`--format auto`) with malformed JSON gives the
// same output and the same parse error count on every thread count.
TEST(GsocctlReplayThreads, MixedLinesAndParseErrorsSameOnEveryThreadCount) {
  const fs::path file =
      fs::temp_directory_path() / ("gsoc-replay-mixed-" + std::to_string(::getpid()) + ".log");
  {
    std::ofstream out(file);
    for (int i = 0; i < 3000; ++i) {
      out << "<38>Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= "
             "uid=0 euid=0 tty=NODEVssh ruser= rhost=10.0.0."
          << i % 250 << "\n";
      out << R"({"host":"web1","program":"sshd","message":"Failed password for root from 10.1.0.)"
          << i % 250 << R"( port 22 ssh2"})"
          << "\n";
      if (i % 100 == 0) out << "{\"broken\": \n";  // a parse error
    }
  }
  const std::string args = " --format auto --year 2005 " + file.string() + " 2>&1";
  const std::string one = RunCommand(kGsocctl + " replay --threads 1" + args);
  EXPECT_NE(one.find("6030 event(s), 30 parse error(s)"), std::string::npos) << one.substr(0, 300);
  EXPECT_GT(Count(one, "\"kind\":\"detection\""), 3000u);
  for (const char* threads : {"2", "3"}) {
    const std::string many = RunCommand(kGsocctl + " replay --threads " + threads + args);
    // The summary's events/s differs: compare what comes before it.
    EXPECT_TRUE(many.substr(0, many.rfind(" alert(s), ")) ==
                one.substr(0, one.rfind(" alert(s), ")))
        << threads << " threads";
  }
  fs::remove(file);
}

constexpr long kSanitizerSlackKiB = static_cast<long>(gsoc::test::kSanitizerRssSlack >> 10);

// `gsocctl replay ARGS...` with its output discarded: its peak RSS in KiB
// (-1 when it did not exit 0).
long ReplayMaxRssKiB(const std::vector<std::string>& args) {
  std::vector<std::string> argv_strings = {kGsocctl, "replay"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage usage {};
  if (pid < 0 || ::wait4(pid, &status, 0, &usage) != pid) return -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return usage.ru_maxrss;
}

// A batch closes at 128 events or 1 MiB, whichever comes first: a file of
// long lines must not put 128 of them into each batch in flight (6 MiB of
// these; with 2 threads up to 6 batches are in flight; batches of 1,024
// events without the byte bound once took ~1 GiB for 400 MB of 100 KB
// lines; 4 MiB batches take ~98 MiB here, 1 MiB ones ~53 MiB, the reader's
// 1 MiB blocks that the batches in flight point into included: the bound
// tells them apart; the shipped pack alone takes ~31 MiB).
TEST(GsocctlReplayThreads, BatchesOfLongLinesAreBoundedInBytes) {
  const fs::path file = fs::temp_directory_path() /
                        ("gsoc-replay-long-lines-" + std::to_string(::getpid()) + ".json");
  {
    std::ofstream out(file);
    const std::string line = R"({"EventID":4688,"Channel":"Security","Message":")" +
                             std::string(48 << 10, 'A') + "\"}\n";
    for (int i = 0; i < 3 * 1024; ++i) out << line;  // 147 MiB: ~36 batches by bytes
  }
  const long kib = ReplayMaxRssKiB({"--threads", "2", "--format", "json", file.string()});
  fs::remove(file);
  ASSERT_GT(kib, 0) << "replay failed";
  std::printf("replay of 3,072 lines of 48 KiB, 2 threads: max RSS %ld KiB\n", kib);
  EXPECT_LT(kib, (72 << 10) + kSanitizerSlackKiB);
}

// A line longer than --max-line-bytes (1 MiB by default) is skipped and
// reported with its file and line, not read whole: a 96 MiB line among
// events neither stops the replay nor costs its size in memory (read whole,
// it took its size twice over: the reader's buffer and the batch's copy).
TEST(GsocctlReplayThreads, ALineOverTheBoundIsSkippedAndReported) {
  const std::string stem =
      (fs::temp_directory_path() / ("gsoc-replay-huge-line-" + std::to_string(::getpid())))
          .string();
  const std::string file = stem + ".json", without = stem + ".without.json";
  const std::string event =
      R"({"host":"web1","program":"sshd","message":"Failed password for root from 10.1.0.7 port 22 ssh2"})"
      "\n";
  {
    std::ofstream out(file);
    out << event << event;
    out << R"({"message":")" << std::string(size_t{96} << 20, 'A') << "\"}\n";
    out << event;
    std::ofstream(without) << event << event << event;
  }
  const std::string run = RunCommand(kGsocctl + " replay " + file + " 2>&1");
  EXPECT_NE(run.find(file + ":3: 1 line(s) longer than --max-line-bytes skipped (the first here)"),
            std::string::npos)
      << run.substr(0, 500);
  EXPECT_NE(run.find("3 event(s), 0 parse error(s)"), std::string::npos) << run.substr(0, 500);
  const std::string kept =
      RunCommand(kGsocctl + " replay --max-line-bytes 200000000 " + file + " 2>&1");
  EXPECT_NE(kept.find("4 event(s), 0 parse error(s)"), std::string::npos) << kept.substr(0, 500);
  // Against the same replay without the line (the correlator's own memory
  // is most of either).
  const long kib = ReplayMaxRssKiB({file});
  const long base_kib = ReplayMaxRssKiB({without});
  fs::remove(file);
  fs::remove(without);
  ASSERT_GT(kib, 0) << "replay failed";
  ASSERT_GT(base_kib, 0) << "replay failed";
  std::printf("replay of a 96 MiB line among 3 events: max RSS %ld KiB (%ld KiB without it)\n", kib,
              base_kib);
  EXPECT_LT(kib, base_kib + (16 << 10) + kSanitizerSlackKiB);
}

}  // namespace
