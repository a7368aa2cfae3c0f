// The e2e harness: temporary files, child processes (spawn, wait, stop,
// their stacks when they do not stop) and programs run to completion.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "tests/e2e/gsocd_harness.h"
#include "tests/util/sanitizer.h"

extern char** environ;

namespace gsoc::e2e {

namespace fs = std::filesystem;

bool UnderSanitizer() { return test::kAddressSanitizer; }

std::chrono::milliseconds Scaled(std::chrono::milliseconds timeout) {
  return UnderSanitizer() ? timeout * 4 : timeout;
}

// ---- files -------------------------------------------------------------------

TempDir::~TempDir() {
  if (std::getenv("GSOC_E2E_KEEP") != nullptr || ::testing::Test::HasFailure()) {
    std::fprintf(stderr, "[e2e] kept %s\n", path().c_str());
    Keep();
  }
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

size_t CountLines(const fs::path& path) {
  FILE* file = std::fopen(path.c_str(), "rbe");
  if (!file) return 0;
  static thread_local std::vector<char> buffer(1 << 20);
  size_t lines = 0;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), file)) > 0) {
    for (size_t i = 0; i < n; ++i) lines += buffer[i] == '\n';
  }
  std::fclose(file);
  return lines;
}

// ---- processes ------------------------------------------------------------------

Process::Process(const std::vector<std::string>& argv, const SpawnOptions& options) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string in = options.stdin_file.empty() ? "/dev/null" : options.stdin_file.string();
  const std::string out = options.stdout_file.empty() ? "/dev/null" : options.stdout_file.string();
  const std::string err = options.stderr_file.empty() ? out : options.stderr_file.string();
  posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (err == out) {
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  } else {
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  if (!options.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The child starts with default signal dispositions and an empty mask.
  sigset_t all;
  sigfillset(&all);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    ADD_FAILURE() << "posix_spawn " << argv[0] << ": " << std::strerror(rc);
    return;
  }
  pid_ = pid;
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    Wait(10s);
  }
}

Process::Process(Process&& other) noexcept : pid_(other.pid_), status_(other.status_) {
  other.pid_ = -1;
  other.status_.reset();
}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (running()) {
      ::kill(pid_, SIGKILL);
      Wait(10s);
    }
    pid_ = other.pid_;
    status_ = other.status_;
    other.pid_ = -1;
    other.status_.reset();
  }
  return *this;
}

void Process::Signal(int signal) {
  if (running()) ::kill(pid_, signal);
}

bool Process::Exited() {
  if (pid_ <= 0) return true;
  if (status_) return true;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) status_ = status;
  return status_.has_value();
}

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  const auto deadline = Clock::now() + timeout;
  while (!Exited()) {
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
  return status_;
}

// Every thread's stack of a running process, by gdb (a test package), so a
// process stuck on its way out says where. At most 64 KiB.
static std::string ThreadStacks(pid_t pid) {
  if (::access("/usr/bin/gdb", X_OK) != 0) return "(gdb is not installed)\n";
  const RunResult result = RunProgram(
      {"/usr/bin/gdb", "-p", std::to_string(pid), "-batch", "-ex", "thread apply all bt"}, 60s);
  std::string stacks = result.output;
  if (stacks.size() > 65536) stacks.resize(65536);
  return stacks;
}

int Process::Stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  if (!Exited()) {
    Signal(SIGTERM);
    if (!Wait(timeout)) {
      ADD_FAILURE() << "pid " << pid_ << " did not exit within " << timeout.count()
                    << " ms of SIGTERM; killing it. Its threads:\n"
                    << ThreadStacks(pid_);
      ::kill(pid_, SIGKILL);
      Wait(10s);
    }
  }
  return status_.value_or(-1);
}

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

RunResult RunProgram(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                     const fs::path& stdin_file) {
  TempDir dir;
  SpawnOptions options;
  options.stdin_file = stdin_file;
  options.stdout_file = dir / "output";
  Process process(argv, options);
  RunResult result;
  auto status = process.Wait(timeout);
  if (!status) {
    ADD_FAILURE() << argv[0] << " did not finish within " << timeout.count() << " ms";
    process.Signal(SIGKILL);
    process.Wait(10s);
  } else if (WIFEXITED(*status)) {
    result.exit_code = WEXITSTATUS(*status);
  }
  result.output = ReadFile(dir / "output");
  return result;
}

void ExpectNoSanitizerReport(const std::string& text, const std::string& what) {
  for (const char* marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"}) {
    EXPECT_EQ(text.find(marker), std::string::npos) << what << " reported a sanitizer error:\n"
                                                    << text;
  }
}

}  // namespace gsoc::e2e
