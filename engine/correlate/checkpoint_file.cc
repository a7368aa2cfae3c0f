// FileCheckpointStore: one checkpoint file, replaced atomically
// (write <path>.tmp, fsync, rename over <path>, fsync the directory).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "engine/correlate/correlator.h"

namespace gsoc::correlate {

namespace {

[[noreturn]] void ThrowErrno(const std::string& what, const std::string& path, int error) {
  throw std::runtime_error("checkpoint " + what + " " + path + ": " + std::strerror(error));
}

// Closes on scope exit; Close() reports the error of an explicit close.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  bool Close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }

 private:
  int fd_;
};

void WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("write", path, errno);
    }
    bytes.remove_prefix(static_cast<size_t>(written));
  }
}

// Writes in pieces and has the kernel write each piece out behind us,
// waiting for the one before, so at most two pieces are dirty at a time. A
// checkpoint is tens of MiB: written at once and then fsynced, it queued
// all of that before the alert store's next WAL sync on the same disk, and
// alert commits stalled for up to ~150 ms every checkpoint. (sync_file_range
// is advice: its errors are left to the fsync that follows.)
void WriteBehind(int fd, std::string_view bytes, const std::string& path) {
  constexpr size_t kPiece = size_t{1} << 20;
  off_t offset = 0;
  while (!bytes.empty()) {
    const size_t piece = std::min(kPiece, bytes.size());
    WriteAll(fd, bytes.substr(0, piece), path);
    ::sync_file_range(fd, offset, static_cast<off_t>(piece), SYNC_FILE_RANGE_WRITE);
    if (offset >= static_cast<off_t>(kPiece)) {
      ::sync_file_range(
          fd, offset - static_cast<off_t>(kPiece), static_cast<off_t>(kPiece),
          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
    }
    offset += static_cast<off_t>(piece);
    bytes.remove_prefix(piece);
  }
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

void SyncDirectory(const std::string& directory) {
  FileDescriptor dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) ThrowErrno("open directory", directory, errno);
  if (::fsync(dir.get()) != 0) ThrowErrno("fsync directory", directory, errno);
}

}  // namespace

void FileCheckpointStore::Save(std::string_view blob) {
  const std::string tmp = path_ + ".tmp";
  FileDescriptor file(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  if (file.get() < 0) ThrowErrno("open", tmp, errno);
  WriteBehind(file.get(), blob, tmp);
  if (::fsync(file.get()) != 0) ThrowErrno("fsync", tmp, errno);
  if (!file.Close()) ThrowErrno("close", tmp, errno);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) ThrowErrno("rename to", path_, errno);
  SyncDirectory(DirectoryOf(path_));
}

bool FileCheckpointStore::Load(std::string* blob) {
  FileDescriptor file(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) {
    if (errno == ENOENT) return false;
    ThrowErrno("open", path_, errno);
  }
  struct stat info {};
  if (::fstat(file.get(), &info) != 0) ThrowErrno("stat", path_, errno);
  blob->clear();
  blob->reserve(static_cast<size_t>(info.st_size));
  char buffer[1 << 16];
  for (;;) {
    const ssize_t got = ::read(file.get(), buffer, sizeof(buffer));
    if (got < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("read", path_, errno);
    }
    if (got == 0) break;
    blob->append(buffer, static_cast<size_t>(got));
  }
  return true;
}

}  // namespace gsoc::correlate
