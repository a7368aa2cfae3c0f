// LineReader hands out the lines std::getline would, across its 1 MiB reads.
#include "tools/gsocctl/line_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace gsoc::ctl {
namespace {

std::vector<std::string> ReadAll(const std::string& path) {
  LineReader reader;
  EXPECT_TRUE(reader.Open(path));
  std::vector<std::string> lines;
  for (std::string_view line; reader.Next(&line);) lines.emplace_back(line);
  EXPECT_FALSE(reader.error());
  return lines;
}

std::vector<std::string> GetlineAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class LineReaderTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& bytes) {
    std::ofstream(path_, std::ios::binary) << bytes;
    return path_;
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_ =
      (std::filesystem::temp_directory_path() / ("line_reader_test." + std::to_string(::getpid())))
          .string();
};

TEST_F(LineReaderTest, SameLinesAsGetlineAcrossReads) {
  std::mt19937 random(7);
  std::string bytes;
  while (bytes.size() < (size_t{3} << 20)) {  // three buffers and more
    const size_t length = random() % 3000;
    for (size_t i = 0; i < length; ++i) bytes.push_back(static_cast<char>('a' + random() % 26));
    if (random() % 5 == 0) bytes.push_back('\r');
    bytes.push_back('\n');
    if (random() % 7 == 0) bytes.push_back('\n');  // an empty line
  }
  bytes += std::string(size_t{2} << 20, 'L');  // longer than the buffer, the last, no '\n'
  const std::string path = Write(bytes);
  const std::vector<std::string> lines = ReadAll(path);
  EXPECT_EQ(lines, GetlineAll(path));
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().size(), size_t{2} << 20);
}

TEST_F(LineReaderTest, EdgeCases) {
  EXPECT_TRUE(ReadAll(Write("")).empty());
  EXPECT_EQ(ReadAll(Write("\n")), std::vector<std::string>{""});
  EXPECT_EQ(ReadAll(Write("a\nb")), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ReadAll(Write("a\n\nb\n")), (std::vector<std::string>{"a", "", "b"}));
  LineReader missing;
  EXPECT_FALSE(missing.Open(path_ + ".missing"));
}

}  // namespace
}  // namespace gsoc::ctl
