#include "tests/e2e/gsocd_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <simdjson.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

extern char** environ;

namespace gsoc::e2e {

namespace fs = std::filesystem;

#if defined(__SANITIZE_ADDRESS__)
#define GSOC_E2E_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GSOC_E2E_ASAN 1
#endif
#endif

bool UnderSanitizer() {
#ifdef GSOC_E2E_ASAN
  return true;
#else
  return false;
#endif
}

std::chrono::milliseconds Scaled(std::chrono::milliseconds timeout) {
  return UnderSanitizer() ? timeout * 4 : timeout;
}

// ---- files -------------------------------------------------------------------

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/gsoc-e2e-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << pattern << ": " << std::strerror(errno);
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  const bool keep = std::getenv("GSOC_E2E_KEEP") != nullptr || ::testing::Test::HasFailure();
  if (keep) {
    std::fprintf(stderr, "[e2e] kept %s\n", path_.c_str());
    return;
  }
  std::error_code ignored;
  fs::remove_all(path_, ignored);
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

int Process::Stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  if (!Exited()) {
    Signal(SIGTERM);
    if (!Wait(timeout)) {
      ADD_FAILURE() << "pid " << pid_ << " did not exit within " << timeout.count()
                    << " ms of SIGTERM; killing it";
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

// ---- sockets ---------------------------------------------------------------------

Fd::~Fd() { Close(); }

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

void Fd::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

namespace {

sockaddr_in Loopback(uint16_t port, const char* address = "127.0.0.1") {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, address, &addr.sin_addr);
  return addr;
}

bool BindTo(int fd, const char* address) {
  if (address == nullptr) return true;
  sockaddr_in addr = Loopback(0, address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ADD_FAILURE() << "bind " << address << ": " << std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace

int ConnectTcp(uint16_t port, const char* bind_address) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ADD_FAILURE() << "socket: " << std::strerror(errno);
    return -1;
  }
  if (!BindTo(fd, bind_address)) {
    ::close(fd);
    return -1;
  }
  sockaddr_in addr = Loopback(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ADD_FAILURE() << "connect 127.0.0.1:" << port << ": " << std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

int UdpSocket(const char* bind_address) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ADD_FAILURE() << "socket: " << std::strerror(errno);
    return -1;
  }
  if (!BindTo(fd, bind_address)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, 100);
        continue;
      }
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool SendUdp(int fd, uint16_t port, std::string_view datagram) {
  sockaddr_in addr = Loopback(port);
  const ssize_t n = ::sendto(fd, datagram.data(), datagram.size(), 0,
                             reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  return n == static_cast<ssize_t>(datagram.size());
}

bool WaitPeerClosed(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  char buffer[4096];
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    const int r = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left)));
    if (r <= 0) continue;
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0 && errno != EAGAIN && errno != EINTR) return true;  // reset
  }
  return false;
}

uint64_t ProcStatusKiB(pid_t pid, const std::string& field) {
  if (pid <= 0) return 0;
  const std::string status = ReadFile("/proc/" + std::to_string(pid) + "/status");
  const size_t at = status.find(field + ":");
  if (at == std::string::npos) return 0;
  return std::strtoull(status.c_str() + at + field.size() + 1, nullptr, 10);
}

uint16_t FreePort(bool udp) {
  Fd fd(::socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
  sockaddr_in addr = Loopback(0);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ADD_FAILURE() << "bind: " << std::strerror(errno);
    return 0;
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

bool WaitTcpListening(uint16_t port, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr = Loopback(port);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

size_t RaiseFileLimit(size_t n) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < n) {
    limit.rlim_cur = std::min<rlim_t>(n, limit.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

// ---- HTTP and Prometheus -------------------------------------------------------------

std::string HttpGet(uint16_t port, const std::string& path) {
  Fd fd(ConnectTcp(port));
  if (fd.get() < 0) return {};
  timeval tv{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  const std::string request =
      "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (!SendAll(fd.get(), request)) {
    ADD_FAILURE() << "HTTP request to port " << port << " failed";
    return {};
  }
  std::string response;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::recv(fd.get(), buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    response.append(buffer, static_cast<size_t>(n));
  }
  const size_t header_end = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || header_end == std::string::npos ||
      response.find(" 200 ") > response.find("\r\n")) {
    ADD_FAILURE() << "bad HTTP response from port " << port << ":\n" << response;
    return {};
  }
  std::string headers = response.substr(0, header_end);
  std::string body = response.substr(header_end + 4);
  for (char& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (headers.find("transfer-encoding: chunked") != std::string::npos) {
    std::string decoded;
    size_t pos = 0;
    while (pos < body.size()) {
      const size_t line_end = body.find("\r\n", pos);
      if (line_end == std::string::npos) break;
      const size_t size = std::stoul(body.substr(pos, line_end - pos), nullptr, 16);
      if (size == 0) break;
      decoded += body.substr(line_end + 2, size);
      pos = line_end + 2 + size + 2;
    }
    body = decoded;
  }
  return body;
}

namespace {

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Incremental HTTP/1.1 body decoding: identity or chunked.
class BodyDecoder {
 public:
  explicit BodyDecoder(bool chunked) : chunked_(chunked) {}
  // Appends the decoded part of `data` to `out`; false at the terminating chunk.
  bool Feed(std::string_view data, std::string& out) {
    if (!chunked_) {
      out.append(data);
      return true;
    }
    pending_.append(data);
    for (;;) {
      if (remaining_ == 0) {
        const size_t line_end = pending_.find("\r\n");
        if (line_end == std::string::npos) return true;
        const std::string size_text = pending_.substr(0, line_end);
        pending_.erase(0, line_end + 2);
        if (size_text.empty()) continue;  // the CRLF after a chunk
        remaining_ = std::stoul(size_text, nullptr, 16);
        if (remaining_ == 0) return false;
      }
      const size_t take = std::min(remaining_, pending_.size());
      out.append(pending_, 0, take);
      pending_.erase(0, take);
      remaining_ -= take;
      if (remaining_ > 0) return true;
    }
  }

 private:
  bool chunked_;
  std::string pending_;
  size_t remaining_ = 0;
};

int SendRequest(int fd, const std::string& method, const std::string& target,
                const std::vector<std::string>& headers, const std::string& body) {
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const std::string& header : headers) request += header + "\r\n";
  if (!body.empty() || method == "POST") {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "Connection: close\r\n\r\n" + body;
  return SendAll(fd, request) ? 0 : -1;
}

// Reads until the end of the header block; returns the status, fills the
// lower-cased headers and whatever body bytes came with them.
int ReadHead(int fd, std::string& headers, std::string& rest) {
  std::string data;
  char buffer[16384];
  size_t header_end;
  while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    data.append(buffer, static_cast<size_t>(n));
  }
  headers = Lower(data.substr(0, header_end));
  rest = data.substr(header_end + 4);
  if (headers.rfind("http/1.", 0) != 0 || headers.size() < 12) return 0;
  return std::atoi(headers.c_str() + 9);
}

}  // namespace

std::string ShippedPackConfig(const TempDir& dir, const std::string& extra) {
  const fs::path pack = fs::path(GSOC_SOURCE_DIR) / "rules";
  return "data_dir: " + (dir / "var").string() +
         "\nlisteners:\n  - {name: tcp, type: syslog_tcp, port: 0}\n"
         "pipeline: {workers: 1}\n"
         "rules:\n  sigma: [" +
         (pack / "sigma").string() + "]\n  decoders: [" + (pack / "decoders").string() +
         "]\n  logsources: " + (pack / "logsources.yaml").string() + "\n  lists:\n" +
         "    - {name: bad_ips, file: " + (pack / "lists/bad_ips.txt").string() + "}\n" +
         "    - {name: bad_domains, file: " + (pack / "lists/bad_domains.txt").string() + "}\n" +
         "  cache_dir: " + (dir / "hs-cache").string() + "\n" + extra;
}

HttpResult HttpRequest(uint16_t port, const std::string& method, const std::string& target,
                       const std::vector<std::string>& headers, const std::string& body) {
  HttpResult result;
  Fd fd(ConnectTcp(port));
  if (fd.get() < 0) return result;
  timeval tv{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (SendRequest(fd.get(), method, target, headers, body) != 0) return result;
  std::string rest;
  result.status = ReadHead(fd.get(), result.headers, rest);
  if (result.status == 0) return result;
  BodyDecoder decoder(result.headers.find("transfer-encoding: chunked") != std::string::npos);
  bool more = decoder.Feed(rest, result.body);
  char buffer[65536];
  while (more) {
    const ssize_t n = ::recv(fd.get(), buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    more = decoder.Feed(std::string_view(buffer, static_cast<size_t>(n)), result.body);
  }
  return result;
}

int ReadSse(uint16_t port, const std::string& target, const std::vector<std::string>& headers,
            std::chrono::milliseconds timeout,
            const std::function<bool(uint64_t id, const std::string& data)>& on_event) {
  Fd fd(ConnectTcp(port));
  if (fd.get() < 0) return 0;
  timeval tv{0, 200 * 1000};  // wake up to check the deadline
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (SendRequest(fd.get(), "GET", target, headers, "") != 0) return 0;
  std::string head, rest;
  const int status = ReadHead(fd.get(), head, rest);
  if (status != 200) return status;
  BodyDecoder decoder(head.find("transfer-encoding: chunked") != std::string::npos);
  std::string text;
  bool more = decoder.Feed(rest, text);
  uint64_t id = 0;
  std::string data;
  const auto deadline = Clock::now() + timeout;
  char buffer[65536];
  for (;;) {
    size_t line_end;
    while ((line_end = text.find('\n')) != std::string::npos) {
      std::string line = text.substr(0, line_end);
      text.erase(0, line_end + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) {
        if (!data.empty() && !on_event(id, data)) return status;
        data.clear();
      } else if (line.rfind("id:", 0) == 0) {
        id = std::stoull(line.substr(line.size() > 3 && line[3] == ' ' ? 4 : 3));
      } else if (line.rfind("data:", 0) == 0) {
        if (!data.empty()) data.push_back('\n');
        data += line.substr(line.size() > 5 && line[5] == ' ' ? 6 : 5);
      }
    }
    if (!more || Clock::now() > deadline) return status;
    const ssize_t n = ::recv(fd.get(), buffer, sizeof(buffer), 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n <= 0) return status;
    more = decoder.Feed(std::string_view(buffer, static_cast<size_t>(n)), text);
  }
}

namespace {

// Parses `{a="x",b="y"}` starting at text[pos] == '{'; returns the position after '}'.
size_t ParseLabels(std::string_view text, size_t pos, Labels& out) {
  ++pos;
  while (pos < text.size() && text[pos] != '}') {
    if (text[pos] == ',' || text[pos] == ' ') {
      ++pos;
      continue;
    }
    const size_t eq = text.find('=', pos);
    if (eq == std::string_view::npos || eq + 1 >= text.size() || text[eq + 1] != '"') {
      return std::string_view::npos;
    }
    std::string key(text.substr(pos, eq - pos));
    std::string value;
    pos = eq + 2;
    while (pos < text.size() && text[pos] != '"') {
      if (text[pos] == '\\' && pos + 1 < text.size()) {
        ++pos;
        value.push_back(text[pos] == 'n' ? '\n' : text[pos]);
      } else {
        value.push_back(text[pos]);
      }
      ++pos;
    }
    ++pos;  // closing quote
    out[key] = value;
  }
  return pos < text.size() ? pos + 1 : std::string_view::npos;
}

}  // namespace

std::optional<double> FindMetric(const std::string& text, const std::string& name,
                                 const Labels& labels) {
  std::optional<double> sum;
  for (const std::string& line : SplitLines(text)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t name_end = line.find_first_of("{ ");
    if (name_end == std::string::npos || line.compare(0, name_end, name) != 0 ||
        name_end != name.size()) {
      continue;
    }
    Labels found;
    size_t pos = name_end;
    if (line[pos] == '{') {
      pos = ParseLabels(line, pos, found);
      if (pos == std::string::npos) continue;
    }
    bool match = true;
    for (const auto& [key, value] : labels) {
      auto it = found.find(key);
      if (it == found.end() || it->second != value) {
        match = false;
        break;
      }
    }
    if (!match) continue;
    const double value = std::strtod(line.c_str() + pos, nullptr);
    sum = sum.value_or(0) + value;
  }
  return sum;
}

std::string Rfc3164Now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%b %e %H:%M:%S", &tm);
  return text;
}

std::string FailedPasswordLine(int n, const std::string& user) {
  return "<38>" + Rfc3164Now() + " bastion sshd[" + std::to_string(1000 + n % 5000) +
         "]: Failed password for " + user + " from 198.18." + std::to_string(n % 200) + "." +
         std::to_string(n % 250) + " port " + std::to_string(40000 + n % 20000) + " ssh2\n";
}

std::vector<uint64_t> StoredAlertIds(uint16_t port, const std::string& token) {
  std::vector<uint64_t> ids;
  std::string cursor;
  simdjson::dom::parser parser;
  for (int page = 0; page < 100000; ++page) {
    const std::string target = "/api/v1/alerts?order=asc&limit=10000" +
                               (cursor.empty() ? std::string() : "&cursor=" + cursor);
    const HttpResult reply = HttpRequest(port, "GET", target, {"Authorization: Bearer " + token});
    if (reply.status != 200) {
      ADD_FAILURE() << target << ": " << reply.status << " " << reply.body.substr(0, 300);
      return ids;
    }
    simdjson::dom::element root;
    if (parser.parse(reply.body).get(root) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not JSON: " << reply.body.substr(0, 200);
      return ids;
    }
    for (auto alert : simdjson::dom::array(root["alerts"])) {
      ids.push_back(std::stoull(std::string(std::string_view(alert["id"]))));
    }
    std::string_view next;
    if (root["next_cursor"].get(next) != simdjson::SUCCESS) break;  // null: the end
    cursor = std::string(next);
  }
  return ids;
}

// ---- JSON ---------------------------------------------------------------------------

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

namespace {

std::string ScalarText(simdjson::dom::element element) {
  switch (element.type()) {
    case simdjson::dom::element_type::STRING:
      return std::string(std::string_view(element.get_string().value()));
    case simdjson::dom::element_type::INT64:
      return std::to_string(int64_t(element.get_int64().value()));
    case simdjson::dom::element_type::UINT64:
      return std::to_string(uint64_t(element.get_uint64().value()));
    case simdjson::dom::element_type::DOUBLE:
      return std::to_string(double(element.get_double().value()));
    case simdjson::dom::element_type::BOOL:
      return element.get_bool().value() ? "true" : "false";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
    default:
      return simdjson::to_string(element);
  }
}

}  // namespace

JsonEvent ParseEventLine(std::string_view line) {
  JsonEvent event;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(simdjson::padded_string(line)).get(root) != simdjson::SUCCESS) return event;
  simdjson::dom::object object;
  if (root.get(object) != simdjson::SUCCESS) return event;
  for (auto [key, value] : object) {
    simdjson::dom::object fields;
    if (key == "fields" && value.get(fields) == simdjson::SUCCESS) {
      for (auto [field, field_value] : fields) {
        event.values["fields." + std::string(field)] = ScalarText(field_value);
      }
      continue;
    }
    event.values[std::string(key)] = ScalarText(value);
  }
  event.parse_ok = true;
  return event;
}

// ---- gsocd ---------------------------------------------------------------------------

std::string GsocdPath() {
  const char* path = std::getenv("GSOC_E2E_GSOCD");
  return path && *path ? path : GSOCD_PATH;
}

Gsocd::~Gsocd() {
  if (!stopped_ && process_.pid() > 0) {
    EXPECT_EQ(Stop(), 0) << "gsocd stderr:\n" << Stderr();
  }
}

void Gsocd::Launch(const GsocdConfig& config) {
  std::string yaml;
  if (config.yaml.find("data_dir:") == std::string::npos) {
    yaml += "data_dir: " + (dir_ / "var").string() + "\n";
  }
  yaml += "log_level: info\n";
  if (config.events_file) yaml += "events_file: " + events_path().string() + "\n";
  if (config.yaml.find("metrics:") == std::string::npos) {
    yaml += "metrics: {enabled: true, address: 127.0.0.1, port: 0}\n";
  }
  if (config.yaml.find("api:") == std::string::npos) {
    yaml += "api: {port: 0}\n";  // never the default 8080: tests run side by side
  }
  if (config.yaml.find("agencies:") == std::string::npos) {
    yaml += "agencies:\n  - name: local\n    cidrs: [127.0.0.0/8]\n";
  }
  yaml += config.yaml;
  WriteFile(config_path(), yaml);
  yaml_ = yaml;
  std::error_code ignored;
  fs::remove(dir_ / "ports.json", ignored);
  ports_.clear();
  stopped_ = false;

  SpawnOptions options;
  options.cwd = dir_.path();
  options.stdout_file = dir_ / "gsocd.stdout";
  options.stderr_file = dir_ / "gsocd.stderr";
  process_ = Process(
      {GsocdPath(), "-c", config_path().string(), "--ports-file", (dir_ / "ports.json").string()},
      options);
}

bool Gsocd::WaitReady(std::chrono::milliseconds timeout) {
  const fs::path ports_file = dir_ / "ports.json";
  const auto deadline = Clock::now() + timeout;
  while (!fs::exists(ports_file)) {
    if (process_.Exited() || Clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  JsonEvent ports = ParseEventLine(ReadFile(ports_file));
  if (!ports.parse_ok) {
    ADD_FAILURE() << "bad ports file: " << ReadFile(ports_file);
    return false;
  }
  for (const auto& [name, value] : ports.values) {
    ports_[name] = static_cast<uint16_t>(std::stoul(value));
  }
  return true;
}

bool Gsocd::Start(const GsocdConfig& config) {
  Launch(config);
  if (WaitReady(Scaled(15s))) return true;
  ADD_FAILURE() << "gsocd did not come up ("
                << (process_.Exited() ? DescribeStatus(*process_.status()) : "timeout")
                << "); config:\n"
                << yaml_ << "\nstderr:\n"
                << Stderr();
  return false;
}

std::optional<int> Gsocd::WaitExit(std::chrono::milliseconds timeout) {
  auto status = process_.Wait(timeout);
  if (status) stopped_ = true;
  return status;
}

uint64_t Gsocd::PeakRssKiB() const { return ProcStatusKiB(process_.pid(), "VmHWM"); }
uint64_t Gsocd::RssKiB() const { return ProcStatusKiB(process_.pid(), "VmRSS"); }

std::string Gsocd::ApiToken() const {
  std::string token = ReadFile(dir_ / "var/api-token");
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  return token;
}

uint16_t Gsocd::port(const std::string& listener) const {
  auto it = ports_.find(listener);
  if (it == ports_.end()) {
    ADD_FAILURE() << "no port for " << listener;
    return 0;
  }
  return it->second;
}

std::string Gsocd::Scrape() { return HttpGet(metrics_port(), "/metrics"); }

double Gsocd::Metric(const std::string& name, const Labels& labels) {
  const std::string text = Scrape();
  const auto value = FindMetric(text, name, labels);
  if (!value) {
    std::string wanted;
    for (const auto& [k, v] : labels) wanted += k + "=" + v + " ";
    ADD_FAILURE() << "metric " << name << " {" << wanted << "} not found in:\n" << text;
    return -1;
  }
  return *value;
}

bool Gsocd::WaitMetric(const std::string& name, const Labels& labels, double expected,
                       std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + Scaled(timeout);
  for (;;) {
    const auto value = FindMetric(Scrape(), name, labels);
    if (value && *value == expected) return true;
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

bool Gsocd::WaitMetricAtLeast(const std::string& name, const Labels& labels, double minimum,
                              std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + Scaled(timeout);
  for (;;) {
    const auto value = FindMetric(Scrape(), name, labels);
    if (value && *value >= minimum) return true;
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

size_t Gsocd::WaitEventLines(size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + Scaled(timeout);
  for (;;) {
    const size_t lines = CountLines(events_path());
    if (lines >= n || Clock::now() > deadline) return lines;
    std::this_thread::sleep_for(20ms);
  }
}

std::vector<JsonEvent> Gsocd::Events() {
  std::vector<JsonEvent> events;
  for (const std::string& line : SplitLines(ReadFile(events_path()))) {
    events.push_back(ParseEventLine(line));
    EXPECT_TRUE(events.back().parse_ok) << "events file line is not JSON: " << line;
  }
  return events;
}

int Gsocd::Stop(std::chrono::milliseconds timeout) {
  stopped_ = true;
  const int status = process_.Stop(Scaled(timeout));
  ExpectNoSanitizerReport(Stderr(), "gsocd");
  if (status < 0 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

void Gsocd::Kill() {
  stopped_ = true;
  process_.Signal(SIGKILL);
  process_.Wait(10s);
}

std::string Gsocd::Stderr() const { return ReadFile(dir_ / "gsocd.stderr"); }

}  // namespace gsoc::e2e
