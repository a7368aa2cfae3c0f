#include "engine/util/private_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>

namespace gsoc {

bool EnsurePrivateDirectory(const std::filesystem::path& dir, std::string* error) {
  const std::string name = dir.string();
  std::error_code ec;
  if (dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path(), ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    *error = name + ": cannot create: " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    *error = name + ": cannot stat: " + std::strerror(errno);
    return false;
  }
  if (S_ISLNK(st.st_mode)) {
    *error = name + ": a symbolic link";
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    *error = name + ": not a directory";
    return false;
  }
  if (st.st_uid != ::geteuid()) {
    *error = name + ": owned by uid " + std::to_string(st.st_uid) + ", not by uid " +
             std::to_string(::geteuid());
    return false;
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    *error = name + ": writable by group or others (mode " + mode + ")";
    return false;
  }
  return true;
}

std::filesystem::path UserRuleCacheDir() {
  auto absolute = [](const char* value) {
    return value != nullptr && value[0] == '/' ? std::filesystem::path(value)
                                               : std::filesystem::path();
  };
  if (auto xdg = absolute(std::getenv("XDG_CACHE_HOME")); !xdg.empty()) return xdg / "gsoc";
  if (auto home = absolute(std::getenv("HOME")); !home.empty()) return home / ".cache" / "gsoc";
  std::error_code ec;
  std::filesystem::path temp = std::filesystem::temp_directory_path(ec);
  if (ec) temp = "/tmp";
  return temp / ("gsoc-cache-" + std::to_string(::geteuid()));
}

}  // namespace gsoc
