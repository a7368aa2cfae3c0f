// The e2e harness: loopback sockets, HTTP requests and SSE streams, and
// Prometheus' text format.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/e2e/gsocd_harness.h"

namespace gsoc::e2e {

namespace fs = std::filesystem;

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

// A socket of `type`, bound to `bind_address` when it is given; -1 on failure.
int BoundSocket(int type, const char* bind_address) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
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

}  // namespace

int ConnectTcp(uint16_t port, const char* bind_address) {
  const int fd = BoundSocket(SOCK_STREAM, bind_address);
  if (fd < 0) return -1;
  sockaddr_in addr = Loopback(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ADD_FAILURE() << "connect 127.0.0.1:" << port << ": " << std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

int UdpSocket(const char* bind_address) { return BoundSocket(SOCK_DGRAM, bind_address); }

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

}  // namespace gsoc::e2e
