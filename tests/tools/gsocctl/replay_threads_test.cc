// gsocctl replay --threads N: batches are matched on N threads and taken
// back in input order for correlation and output, so the output must be the
// same, byte for byte, as with one thread — with correlations (the shipped
// pack over loghub's Linux.log, whose PAM failures make event_count
// correlations fire, RFC 3164 years rolling) and with the whole SigmaHQ
// corpus over Windows events (the OTRF LSASS dump data set).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "run_command.h"

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

}  // namespace
