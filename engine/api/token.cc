// The API's bearer tokens: constant-time comparison and the token file.
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include "engine/api/api_server.h"

namespace gsoc::api {

namespace {

constexpr size_t kTokenBytes = 32;
constexpr size_t kMinTokenLength = 16;  // as api.tokens requires
constexpr off_t kMaxTokenFileBytes = 4096;

std::runtime_error FileError(const std::string& what, const std::string& file) {
  return std::runtime_error("api token file " + file + ": " + what + ": " + std::strerror(errno));
}

std::string Trim(std::string text) {
  const char* kSpace = " \t\r\n\v\f";
  const size_t first = text.find_first_not_of(kSpace);
  if (first == std::string::npos) return {};
  const size_t last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

std::string RandomToken() {
  unsigned char bytes[kTokenBytes];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    throw std::runtime_error("api: no random bytes for a token (OpenSSL RAND_bytes failed)");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char byte : bytes) {
    token.push_back(kHex[byte >> 4]);
    token.push_back(kHex[byte & 15]);
  }
  return token;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Refuses a token file that is not a regular file we own, that others can
// read, or that is too large to be a token file.
void CheckTokenFile(int fd, const std::string& file) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) throw FileError("cannot stat", file);
  if (!S_ISREG(info.st_mode)) {
    throw std::runtime_error("api token file " + file + " is not a regular file");
  }
  if (info.st_uid != ::geteuid()) {
    throw std::runtime_error("api token file " + file + " is owned by uid " +
                             std::to_string(info.st_uid) + ", not by gsocd's uid " +
                             std::to_string(::geteuid()));
  }
  if ((info.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(info.st_mode & 07777));
    throw std::runtime_error("api token file " + file + " has mode " + mode +
                             " (readable by others); run: chmod 600 " + file);
  }
  if (info.st_size > kMaxTokenFileBytes) {
    throw std::runtime_error("api token file " + file + " is larger than " +
                             std::to_string(kMaxTokenFileBytes) + " bytes");
  }
}

// The token in an existing file; false when the file is missing. A symlink
// is refused (O_NOFOLLOW), as is a token shorter than 16 characters.
bool ReadTokenFile(const std::string& file, std::string& token) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK));
  if (fd.get() < 0) {
    if (errno == ENOENT) return false;
    if (errno == ELOOP) {
      throw std::runtime_error("api token file " + file + " is a symbolic link (refused)");
    }
    throw FileError("cannot open", file);
  }
  CheckTokenFile(fd.get(), file);
  std::string content;
  char buffer[4096];
  ssize_t n = 0;
  while (content.size() <= static_cast<size_t>(kMaxTokenFileBytes) &&
         (n = ::read(fd.get(), buffer, sizeof(buffer))) > 0) {
    content.append(buffer, n);
  }
  if (n < 0) throw FileError("cannot read", file);
  token = Trim(std::move(content));
  if (token.empty()) throw std::runtime_error("api token file " + file + " is empty");
  if (token.size() < kMinTokenLength || token.find_first_of(" \t\r\n") != std::string::npos) {
    throw std::runtime_error("api token file " + file + " does not hold one token of at least " +
                             std::to_string(kMinTokenLength) + " characters");
  }
  return true;
}

void SyncParentDirectory(const std::string& file) {
  const size_t slash = file.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : file.substr(0, slash + 1);
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) ::fsync(fd.get());  // best effort: the file itself is synced
}

// Creates the file with a new token; false when it appeared meanwhile.
bool CreateTokenFile(const std::string& file, const std::string& token) {
  Fd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600));
  if (fd.get() < 0) {
    if (errno == EEXIST) return false;
    throw FileError("cannot create", file);
  }
  const std::string line = token + "\n";
  size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::write(fd.get(), line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw FileError("cannot write", file);
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) throw FileError("cannot sync", file);
  SyncParentDirectory(file);
  return true;
}

}  // namespace

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Every byte of the longer string is visited whatever the contents; only
  // the lengths decide the number of steps.
  const size_t length = std::max(a.size(), b.size());
  volatile unsigned char difference = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < length; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    difference = difference | static_cast<unsigned char>(x ^ y);
  }
  return difference == 0;
}

std::string LoadOrCreateToken(const std::string& configured, const std::string& file,
                              bool* created) {
  if (created) *created = false;
  if (!configured.empty()) return configured;
  if (file.empty()) throw std::runtime_error("api: no token configured and no token file");
  std::string token;
  if (ReadTokenFile(file, token)) return token;
  token = RandomToken();
  if (!CreateTokenFile(file, token)) {  // another process created it first
    if (!ReadTokenFile(file, token))
      throw std::runtime_error("api token file " + file + " vanished");
    return token;
  }
  if (created) *created = true;
  return token;
}

}  // namespace gsoc::api
