#include "tools/loadgen/file_source.h"

#include <gtest/gtest.h>

namespace gsoc::loadgen {
namespace {

const std::string kOpenSsh = std::string(GSOC_CORPUS_DIR) + "/loghub/OpenSSH/OpenSSH_2k.log";

TEST(FileSource, SplitLinesStripsCrLfAndSkipsEmptyLines) {
  std::vector<std::string> lines;
  SplitLines("a\r\nb\n\n\r\nc d\re", lines);
  EXPECT_EQ(lines, (std::vector<std::string>{"a", "b", "c d", "e"}));
}

TEST(FileSource, ReadsCorpusFile) {
  std::vector<std::string> lines;
  std::string error;
  ASSERT_TRUE(ReadLines({kOpenSsh}, lines, error)) << error;
  ASSERT_EQ(lines.size(), 2000u);
  EXPECT_EQ(lines.front().substr(0, 16), "Dec 10 06:55:46 ");
  EXPECT_EQ(lines.back().substr(lines.back().size() - 5), " ssh2");
  for (const auto& line : lines) EXPECT_EQ(line.find_first_of("\r\n"), std::string::npos);
}

TEST(FileSource, MissingFileIsAnError) {
  std::vector<std::string> lines;
  std::string error;
  EXPECT_FALSE(ReadLines({"/nonexistent/file.log"}, lines, error));
  EXPECT_NE(error.find("/nonexistent/file.log"), std::string::npos);
}

TEST(FileSource, LineMessageAsIsOrWrapped) {
  const TimestampSet now(1700000000, 0);
  EXPECT_EQ(LineMessage("sshd[1]: hi", false, "h", now).text, "sshd[1]: hi");
  const RenderedMessage wrapped = LineMessage("sshd[1]: hi", true, "h", now);
  EXPECT_EQ(wrapped.text, "<13>Nov 14 22:13:20 h sshd[1]: hi");
  ASSERT_EQ(wrapped.slots.size(), 1u);
  EXPECT_EQ(wrapped.slots[0].offset, 4u);
}

}  // namespace
}  // namespace gsoc::loadgen
