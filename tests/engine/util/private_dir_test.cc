// EnsurePrivateDirectory: a rule cache directory must be this user's alone
// (what is read back from it is used as compiled rules); UserRuleCacheDir:
// the user's own cache, never a name shared by all users.
#include "engine/util/private_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "tests/util/temp_dir.h"

namespace gsoc {
namespace {

namespace fs = std::filesystem;

class PrivateDirTest : public ::testing::Test {
 protected:
  static unsigned Mode(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0);
    return st.st_mode & 07777;
  }
  // The error for `path`, "" when it is accepted.
  static std::string Refusal(const fs::path& path) {
    std::string error;
    return EnsurePrivateDirectory(path, &error) ? "" : error;
  }

  test::TempDir temp_{"private-dir"};
  const fs::path dir_ = temp_.path();
};

TEST_F(PrivateDirTest, CreatesAMissingDirectoryForThisUserOnly) {
  const fs::path cache = dir_ / "a" / "b" / "cache";
  EXPECT_EQ(Refusal(cache), "");
  EXPECT_TRUE(fs::is_directory(cache));
  EXPECT_EQ(Mode(cache), 0700u);
  EXPECT_EQ(Refusal(cache), "");  // and accepts it again
}

TEST_F(PrivateDirTest, AcceptsAnOwnDirectoryOthersMayOnlyRead) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  EXPECT_EQ(Refusal(dir_), "");
}

TEST_F(PrivateDirTest, RefusesADirectoryOthersMayWrite) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0777), 0);
  EXPECT_EQ(Refusal(dir_), dir_.string() + ": writable by group or others (mode 0777)");
  ASSERT_EQ(::chmod(dir_.c_str(), 01777), 0);  // sticky, as /tmp: still shared
  EXPECT_EQ(Refusal(dir_), dir_.string() + ": writable by group or others (mode 1777)");
  ASSERT_EQ(::chmod(dir_.c_str(), 0770), 0);
  EXPECT_EQ(Refusal(dir_), dir_.string() + ": writable by group or others (mode 0770)");
}

TEST_F(PrivateDirTest, RefusesASymbolicLinkAndAFile) {
  fs::create_directories(dir_ / "real");
  ASSERT_EQ(::chmod((dir_ / "real").c_str(), 0700), 0);
  fs::create_directory_symlink(dir_ / "real", dir_ / "link");
  EXPECT_EQ(Refusal(dir_ / "link"), (dir_ / "link").string() + ": a symbolic link");
  std::ofstream(dir_ / "file") << "x";
  EXPECT_EQ(Refusal(dir_ / "file"), (dir_ / "file").string() + ": not a directory");
}

TEST_F(PrivateDirTest, RefusesAnotherUsersDirectory) {
  // Made by someone else first (as another user could in /tmp): only root
  // can set up that situation here.
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to another user";
  const fs::path planted = dir_ / "planted";
  fs::create_directories(planted);
  ASSERT_EQ(::chmod(planted.c_str(), 0700), 0);
  ASSERT_EQ(::chown(planted.c_str(), 65534, 65534), 0);
  EXPECT_EQ(Refusal(planted), planted.string() + ": owned by uid 65534, not by uid 0");
}

// Sets or clears an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(UserRuleCacheDir, IsTheUsersOwnCache) {
  {
    ScopedEnv xdg("XDG_CACHE_HOME", "/srv/cache");
    ScopedEnv home("HOME", "/home/analyst");
    EXPECT_EQ(UserRuleCacheDir(), fs::path("/srv/cache/gsoc"));
  }
  {
    ScopedEnv xdg("XDG_CACHE_HOME", "relative/cache");  // not absolute: ignored
    ScopedEnv home("HOME", "/home/analyst");
    EXPECT_EQ(UserRuleCacheDir(), fs::path("/home/analyst/.cache/gsoc"));
  }
  {
    ScopedEnv xdg("XDG_CACHE_HOME", nullptr);
    ScopedEnv home("HOME", nullptr);
    const fs::path dir = UserRuleCacheDir();
    EXPECT_EQ(dir.filename(), "gsoc-cache-" + std::to_string(::geteuid()));
  }
}

}  // namespace
}  // namespace gsoc
