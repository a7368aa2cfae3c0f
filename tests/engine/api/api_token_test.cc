// API tokens: constant-time comparison and the token file's rules.
#include <gtest/gtest.h>

#include "tests/engine/api/api_server_fixture.h"

namespace gsoc::api {
namespace {

using namespace server_test;

// --- tokens -------------------------------------------------------------------

TEST(TokenTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "xbc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("ab", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0", 2), "a"));
}

TEST(TokenTest, CreatesA0600FileThenReusesIt) {
  TempDir dir;
  const std::string file = dir / "api.token";
  bool created = false;
  const std::string token = LoadOrCreateToken("", file, &created);
  EXPECT_TRUE(created);
  EXPECT_EQ(token.size(), 64u);
  EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos);
  struct stat info {};
  ASSERT_EQ(::stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(LoadOrCreateToken("", file, &created), token);
  EXPECT_FALSE(created);
  EXPECT_NE(LoadOrCreateToken("", dir / "other.token", nullptr), token);
}

TEST(TokenTest, ConfiguredTokenWinsAndFileIsTrimmed) {
  TempDir dir;
  bool created = true;
  EXPECT_EQ(LoadOrCreateToken("configured", dir / "never", &created), "configured");
  EXPECT_FALSE(created);
  EXPECT_FALSE(std::filesystem::exists(dir / "never"));
  const std::string file = dir / "manual.token";
  std::ofstream(file) << "  hand-written-token \n\n";
  ::chmod(file.c_str(), 0600);
  EXPECT_EQ(LoadOrCreateToken("", file, &created), "hand-written-token");
}

TEST(TokenTest, RefusesFilesOthersCanRead) {
  TempDir dir;
  const std::string file = dir / "open.token";
  std::ofstream(file) << "token-of-sixteen-chars\n";
  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    ::chmod(file.c_str(), mode);
    try {
      LoadOrCreateToken("", file, nullptr);
      FAIL() << "accepted mode " << mode;
    } catch (const std::runtime_error& error) {
      EXPECT_NE(std::string(error.what()).find("chmod 600"), std::string::npos) << error.what();
      EXPECT_NE(std::string(error.what()).find(file), std::string::npos) << error.what();
    }
  }
  ::chmod(file.c_str(), 0400);
  EXPECT_EQ(LoadOrCreateToken("", file, nullptr), "token-of-sixteen-chars");
  std::ofstream(dir / "empty.token") << "  \n";
  ::chmod((dir / "empty.token").c_str(), 0600);
  EXPECT_THROW(LoadOrCreateToken("", dir / "empty.token", nullptr), std::runtime_error);
  EXPECT_THROW(LoadOrCreateToken("", dir / "no-dir/x.token", nullptr), std::runtime_error);
  EXPECT_THROW(LoadOrCreateToken("", "", nullptr), std::runtime_error);
}

TEST(TokenTest, RefusesSymlinksShortTokensAndHugeFiles) {
  TempDir dir;
  const std::string target = dir / "real.token";
  std::ofstream(target) << "token-of-sixteen-chars\n";
  ::chmod(target.c_str(), 0600);
  const std::string link = dir / "link.token";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  EXPECT_THROW(LoadOrCreateToken("", link, nullptr), std::runtime_error);
  const std::string one_byte = dir / "short.token";
  std::ofstream(one_byte) << "x";
  ::chmod(one_byte.c_str(), 0600);
  EXPECT_THROW(LoadOrCreateToken("", one_byte, nullptr), std::runtime_error);
  const std::string huge = dir / "huge.token";
  std::ofstream(huge) << std::string(100000, 'a');
  ::chmod(huge.c_str(), 0600);
  EXPECT_THROW(LoadOrCreateToken("", huge, nullptr), std::runtime_error);
  const std::string fifo = dir / "fifo.token";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THROW(LoadOrCreateToken("", fifo, nullptr), std::runtime_error);  // and does not block
}

}  // namespace
}  // namespace gsoc::api
