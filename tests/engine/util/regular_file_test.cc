// ReadRegularFile: the whole file or its chunks, only from a regular file
// of at most max_bytes; every refusal names the file and the reason.
#include "engine/util/regular_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/util/temp_dir.h"

namespace gsoc {
namespace {

namespace fs = std::filesystem;

class RegularFileTest : public ::testing::Test {
 protected:
  fs::path Write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
    return dir_ / name;
  }
  // The file through both forms; they must agree.
  std::string Read(const fs::path& file, uint64_t max_bytes, std::string* error) {
    std::string whole, chunks, chunk_error;
    const bool ok = ReadRegularFile(file, max_bytes, &whole, error);
    const bool chunk_ok = ReadRegularFile(
        file, max_bytes,
        [&](std::string_view chunk, std::string*) {
          chunks.append(chunk);
          return true;
        },
        &chunk_error);
    EXPECT_EQ(ok, chunk_ok);
    EXPECT_EQ(*error, chunk_error);
    if (ok) {
      EXPECT_EQ(whole, chunks);
    }
    return ok ? whole : "<refused>";
  }

  test::TempDir temp_{"regular-file"};
  const fs::path dir_ = temp_.path();
};

TEST_F(RegularFileTest, ReadsWholeFilesOfEverySize) {
  std::string error;
  EXPECT_EQ(Read(Write("empty", ""), 10, &error), "");
  EXPECT_EQ(Read(Write("small", "title: x\n"), 100, &error), "title: x\n");
  std::string big(300'000, 'a');
  for (size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('A' + i % 26);
  EXPECT_EQ(Read(Write("big", big), 1 << 20, &error), big);  // several 64 KiB chunks
  EXPECT_EQ(error, "");
}

TEST_F(RegularFileTest, TheBoundIsInclusive) {
  std::string error;
  const fs::path file = Write("ten", "0123456789");
  EXPECT_EQ(Read(file, 10, &error), "0123456789");
  EXPECT_EQ(Read(file, 9, &error), "<refused>");
  EXPECT_EQ(error, file.string() + ": larger than 9 bytes; refused");
}

TEST_F(RegularFileTest, RefusesWhatIsNotARegularFile) {
  std::string error;
  const fs::path fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(Read(fifo, 100, &error), "<refused>");
  EXPECT_EQ(error, fifo.string() + ": not a regular file (a FIFO); refused");
  EXPECT_EQ(Read(dir_, 100, &error), "<refused>");
  EXPECT_EQ(error, dir_.string() + ": not a regular file (a directory); refused");
  EXPECT_EQ(Read(dir_ / "missing", 100, &error), "<refused>");
  EXPECT_EQ(error, (dir_ / "missing").string() + ": cannot open: No such file or directory");
  EXPECT_EQ(WithoutFileName(error, (dir_ / "missing").string()),
            "cannot open: No such file or directory");
  EXPECT_EQ(WithoutFileName("other: text", "file"), "other: text");
}

}  // namespace
}  // namespace gsoc
