// LineReader hands out the lines std::getline would, across its 1 MiB reads.
#include "tools/gsocctl/line_reader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

namespace gsoc::ctl {
namespace {

std::vector<std::string> ReadAll(const std::string& path, LineReader& reader) {
  EXPECT_TRUE(reader.Open(path));
  std::vector<std::string> lines;
  for (std::string_view line; reader.Next(&line);) lines.emplace_back(line);
  EXPECT_FALSE(reader.error());
  return lines;
}

std::vector<std::string> ReadAll(const std::string& path) {
  LineReader reader;
  return ReadAll(path, reader);
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

// A line stays readable for as long as its block is held, however far the
// reader has gone on (replay's batches point into the blocks until their
// thread copies the lines in); lines cross block boundaries, and a line
// longer than a block makes a bigger one.
TEST_F(LineReaderTest, AHeldBlockKeepsItsLines) {
  std::mt19937 random(5);
  std::string bytes;
  std::vector<std::string> expected;
  while (bytes.size() < (size_t{5} << 20)) {
    const size_t length =
        random() % 50 == 0 ? (size_t{1} << 20) + random() % 100'000 : random() % 3000;
    std::string line(length, ' ');
    for (char& c : line) c = static_cast<char>('a' + random() % 26);
    bytes += line + '\n';
    expected.push_back(std::move(line));
  }
  LineReader reader;
  ASSERT_TRUE(reader.Open(Write(bytes)));
  std::vector<std::pair<std::string_view, std::shared_ptr<const LineBlock>>> held;
  for (std::string_view line; reader.Next(&line);) held.emplace_back(line, reader.block());
  ASSERT_EQ(held.size(), expected.size());
  for (size_t i = 0; i < held.size(); ++i) ASSERT_EQ(held[i].first, expected[i]) << "line " << i;
}

// Lines over the bound are passed over and counted; the others come as
// getline gives them, whatever side of a read boundary the long ones fall.
TEST_F(LineReaderTest, LinesOverTheBoundAreSkippedAndCounted) {
  constexpr size_t kMax = 1000;
  std::mt19937 random(11);
  std::string bytes;
  std::vector<std::string> kept;
  uint64_t skipped = 0, first_skipped = 0, number = 0;
  while (bytes.size() < (size_t{3} << 20)) {
    ++number;
    const size_t length = random() % 4 == 0 ? kMax + 1 + random() % 20'000 : random() % (kMax + 1);
    const std::string line(length, static_cast<char>('a' + number % 26));
    bytes += line + '\n';
    if (length <= kMax) {
      kept.push_back(line);
    } else if (++skipped == 1) {
      first_skipped = number;
    }
  }
  LineReader reader(kMax);
  EXPECT_EQ(ReadAll(Write(bytes), reader), kept);
  EXPECT_EQ(reader.too_long(), skipped);
  EXPECT_EQ(reader.first_too_long_line(), first_skipped);
  ASSERT_GT(skipped, 100u);
}

// A line of exactly the bound is kept; one byte more is not, also as the
// last line without '\n'; a line far longer than the buffer is dropped as
// it is read, so the buffer does not grow to hold it.
TEST_F(LineReaderTest, BoundEdgesAndAHugeLastLine) {
  LineReader exact(4);
  EXPECT_EQ(ReadAll(Write("abcd\nabcde\nab\nabcde"), exact),
            (std::vector<std::string>{"abcd", "ab"}));
  EXPECT_EQ(exact.too_long(), 2u);
  EXPECT_EQ(exact.first_too_long_line(), 2u);

  LineReader huge(size_t{64} << 10);
  EXPECT_EQ(ReadAll(Write("first\n" + std::string(size_t{24} << 20, 'H')), huge),
            std::vector<std::string>{"first"});
  EXPECT_EQ(huge.too_long(), 1u);
  EXPECT_EQ(huge.first_too_long_line(), 2u);
  EXPECT_LE(huge.buffer_bytes(), size_t{1} << 20);  // the 1 MiB it starts with

  LineReader unbounded;  // the default reads a line whole, however long
  EXPECT_EQ(ReadAll(Write(std::string(size_t{3} << 20, 'U')), unbounded).at(0).size(),
            size_t{3} << 20);
  EXPECT_EQ(unbounded.too_long(), 0u);
  EXPECT_GE(unbounded.buffer_bytes(), size_t{3} << 20);
}

// Each line is followed by LineBlock::kPadding readable bytes that do not
// change while its block is held: replay's workers parse the lines where
// they lie, and simdjson reads that far past a line's end. A FIFO written
// in random pieces gives short reads, so later reads land in the block
// right after lines already handed out (the last line, without '\n',
// reaches the block's end).
TEST_F(LineReaderTest, AHeldLinesPaddingStaysAsItWasHandedOut) {
  ASSERT_EQ(::mkfifo(path_.c_str(), 0600), 0);
  std::mt19937 random(3);
  std::string bytes;
  while (bytes.size() < (size_t{3} << 20)) {
    std::string line(random() % 200, ' ');
    for (char& c : line) c = static_cast<char>('a' + random() % 26);
    bytes += line + '\n';
  }
  bytes += std::string((size_t{1} << 20) - 10, 'Z');  // the last line, no '\n'
  std::thread writer([&] {
    std::ofstream out(path_, std::ios::binary);
    std::mt19937 pieces(4);
    for (size_t at = 0; at < bytes.size();) {
      const size_t n = std::min<size_t>(1 + pieces() % 300, bytes.size() - at);
      out.write(bytes.data() + at, static_cast<std::streamsize>(n));
      out.flush();
      at += n;
    }
  });
  LineReader reader;
  ASSERT_TRUE(reader.Open(path_));
  struct Held {
    std::string_view line;
    std::string padding;  // as it was when the line was handed out
    std::shared_ptr<const LineBlock> block;
  };
  std::vector<Held> held;
  for (std::string_view line; reader.Next(&line);) {
    held.push_back(
        {line, std::string(line.data() + line.size(), LineBlock::kPadding), reader.block()});
  }
  writer.join();
  ASSERT_GT(held.size(), 20'000u);
  EXPECT_EQ(held.back().line.size(), (size_t{1} << 20) - 10);
  size_t changed = 0;
  for (const Held& h : held) {
    changed += std::string_view(h.line.data() + h.line.size(), LineBlock::kPadding) != h.padding;
  }
  EXPECT_EQ(changed, 0u);
}

}  // namespace
}  // namespace gsoc::ctl
