// Test helpers for gsoc_api: a fake AlertReader (in memory, its own filter
// code, the AlertReader semantics), alert factories, and small blocking
// clients on POSIX sockets with timeouts (no test can hang on a read).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/store/alert_store.h"
#include "engine/triage/triage_json.h"

namespace gsoc::api::testing {

// The alert ids of a reply body, in order.
inline std::vector<uint64_t> AlertIds(const std::string& body) {
  static const std::regex kAlertStart(R"re(\{"id":"(\d+)","time_ns")re");
  std::vector<uint64_t> ids;
  for (auto it = std::sregex_iterator(body.begin(), body.end(), kAlertStart);
       it != std::sregex_iterator(); ++it) {
    ids.push_back(std::stoull((*it)[1]));
  }
  return ids;
}

// An alert's JSON as the API serves it: with its "triage" object (untouched).
inline std::string Served(const store::StoredAlert& alert) {
  std::string json = alert.json;
  triage::TriageState state;
  state.id = alert.id;
  triage::AttachTriageJson(json, state);
  return json;
}

inline constexpr int64_t kBaseTimeNs = 1'795'600'000'000'000'000;  // 2026-11-25T09:46:40Z

inline const char* TestLevelName(rules::Level level) {
  static const char* kNames[] = {"informational", "low", "medium", "high", "critical"};
  return kNames[static_cast<int>(level)];
}

// Alert `id` with a JSON line that looks like the real schema.
inline store::StoredAlert MakeAlert(uint64_t id, int64_t time_ns, rules::Level level,
                                    std::string rule_id, std::string rule_name,
                                    std::string agency) {
  store::StoredAlert alert;
  alert.id = id;
  alert.time_ns = time_ns;
  alert.level = level;
  alert.rule_id = std::move(rule_id);
  alert.rule_name = std::move(rule_name);
  alert.agency = std::move(agency);
  alert.json = "{\"id\":\"" + std::to_string(id) + "\",\"time_ns\":" + std::to_string(time_ns) +
               ",\"kind\":\"detection\",\"rule\":{\"id\":\"" + alert.rule_id + "\",\"name\":\"" +
               alert.rule_name + "\",\"level\":\"" + TestLevelName(level) + "\"},\"agency\":\"" +
               alert.agency + "\",\"events\":[{\"id\":\"" + std::to_string(id * 10) +
               "\",\"raw\":\"<38>sshd: Failed password for Root-" + std::to_string(id % 7) +
               "\"}]}";
  return alert;
}

// A varied alert for id (deterministic): five levels, three rules, three agencies.
inline store::StoredAlert MakeVariedAlert(uint64_t id) {
  static const char* kRules[] = {"rule-a", "rule-b", "rule-c"};
  static const char* kNames[] = {"ssh_bruteforce", "port_scan", "malware_hash"};
  static const char* kAgencies[] = {"mof", "moh", "moj"};
  const auto level = static_cast<rules::Level>(id % 5);
  return MakeAlert(id, kBaseTimeNs + static_cast<int64_t>(id) * 1'000'000'000, level,
                   kRules[id % 3], kNames[id % 3], kAgencies[(id / 3) % 3]);
}

// In-memory AlertReader: alerts in id order, filters by its own code.
class FakeReader : public store::AlertReader {
 public:
  void Add(const store::StoredAlert& alert) {
    std::lock_guard lock(mutex_);
    alerts_.push_back(alert);
    last_id_ = alert.id;
  }
  void Add(const std::vector<store::StoredAlert>& alerts) {
    for (const auto& alert : alerts) Add(alert);
  }

  store::QueryResult Query(const store::QueryRequest& request) const override {
    ++queries_;
    std::lock_guard lock(mutex_);
    const size_t limit = std::min<size_t>(request.limit, 10000);
    store::QueryResult result;
    auto visit = [&](const store::StoredAlert& alert) {
      if (!Matches(request.filter, alert)) return true;
      if (result.alerts.size() == limit) {
        result.next_cursor = result.alerts.back().id;
        return false;
      }
      result.alerts.push_back(alert);
      return true;
    };
    if (request.newest_first) {
      for (auto it = alerts_.rbegin(); it != alerts_.rend() && visit(*it); ++it) {
      }
    } else {
      for (auto it = alerts_.begin(); it != alerts_.end() && visit(*it); ++it) {
      }
    }
    return result;
  }

  std::optional<store::StoredAlert> Get(uint64_t id) const override {
    std::lock_guard lock(mutex_);
    for (const auto& alert : alerts_) {
      if (alert.id == id) return alert;
    }
    return std::nullopt;
  }

  uint64_t last_id() const override {
    std::lock_guard lock(mutex_);
    return last_id_;
  }

  int queries() const { return queries_.load(); }

  static bool Matches(const store::AlertFilter& f, const store::StoredAlert& a) {
    auto lower = [](std::string s) {
      for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return s;
    };
    return a.time_ns >= f.since_ns && a.time_ns < f.until_ns && a.id > f.after_id &&
           a.id < f.before_id && (f.rule.empty() || f.rule == a.rule_id || f.rule == a.rule_name) &&
           (!f.min_level || a.level >= *f.min_level) &&
           (f.agency.empty() || f.agency == a.agency) && f.AgencyAllowed(a.agency) &&
           (f.q.empty() || lower(a.json).find(lower(f.q)) != std::string::npos);
  }

 private:
  mutable std::mutex mutex_;
  mutable std::atomic<int> queries_{0};
  std::vector<store::StoredAlert> alerts_;
  uint64_t last_id_ = 0;
};

// ---------------------------------------------------------------------------
// Clients.

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool Has(const std::string& name) const { return headers.count(name) != 0; }
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

inline std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Parses "HTTP/1.1 200 OK\r\nName: value\r\n...\r\n\r\n" (the head only).
inline HttpReply ParseHead(const std::string& head) {
  HttpReply reply;
  size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  const size_t space = status_line.find(' ');
  if (space != std::string::npos) reply.status = std::atoi(status_line.c_str() + space + 1);
  size_t pos = line_end + 2;
  while (pos < head.size()) {
    line_end = head.find("\r\n", pos);
    if (line_end == std::string::npos || line_end == pos) break;
    const std::string line = head.substr(pos, line_end - pos);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      size_t value_start = colon + 1;
      while (value_start < line.size() && line[value_start] == ' ') ++value_start;
      reply.headers[Lower(line.substr(0, colon))] = line.substr(value_start);
    }
    pos = line_end + 2;
  }
  return reply;
}

// A blocking TCP connection to 127.0.0.1 with poll() timeouts.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect failed");
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~RawConnection() { Close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // False when the peer is gone.
  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Appends what arrives within `timeout` to buffer_; false on EOF/error/timeout.
  bool ReadMore(std::chrono::milliseconds timeout) {
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  // Reads one response with a Content-Length body (the API's replies).
  std::optional<HttpReply> ReadResponse(
      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadMore(Remaining(deadline))) return std::nullopt;
    }
    HttpReply reply = ParseHead(buffer_.substr(0, head_end + 4));
    const size_t length =
        std::stoul(reply.Has("content-length") ? reply.Header("content-length") : "0");
    while (buffer_.size() < head_end + 4 + length) {
      if (!ReadMore(Remaining(deadline))) return std::nullopt;
    }
    reply.body = buffer_.substr(head_end + 4, length);
    buffer_.erase(0, head_end + 4 + length);
    return reply;
  }

  // Reads the response head only (a stream); leaves the rest buffered.
  std::optional<HttpReply> ReadHead(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadMore(Remaining(deadline))) return std::nullopt;
    }
    HttpReply reply = ParseHead(buffer_.substr(0, head_end + 4));
    buffer_.erase(0, head_end + 4);
    return reply;
  }

  // True when the server closes the connection within `timeout`.
  bool WaitClosed(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!eof_ && std::chrono::steady_clock::now() < deadline) ReadMore(Remaining(deadline));
    return eof_;
  }

  std::string& buffer() { return buffer_; }
  bool eof() const { return eof_; }
  int fd() const { return fd_; }

  static std::chrono::milliseconds Remaining(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return std::max(left, std::chrono::milliseconds(1));
  }

 private:
  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
};

inline std::string BuildRequest(const std::string& method, const std::string& target,
                                const std::vector<std::string>& headers,
                                const std::string& body = "") {
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n";
  for (const auto& header : headers) request += header + "\r\n";
  if (!body.empty() || method == "POST") {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return request + "\r\n" + body;
}

// One request on a new connection.
inline HttpReply Fetch(uint16_t port, const std::string& method, const std::string& target,
                       const std::vector<std::string>& headers = {}, const std::string& body = "") {
  RawConnection connection(port);
  connection.Send(BuildRequest(method, target, headers, body));
  auto reply = connection.ReadResponse();
  if (!reply) throw std::runtime_error("no reply to " + method + " " + target);
  return *reply;
}

struct SseEvent {
  uint64_t id = 0;
  std::string type;  // the event: line ("" for none: an alert)
  std::string data;
  bool comment = false;
};

// Reads Server-Sent Events from a stream connection (after its head).
class SseReader {
 public:
  explicit SseReader(RawConnection& connection) : connection_(connection) {}

  // The next event (comments included when asked), or nullopt at timeout/EOF.
  std::optional<SseEvent> Next(std::chrono::milliseconds timeout, bool comments = false) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      std::string& buffer = connection_.buffer();
      const size_t end = buffer.find("\n\n");
      if (end != std::string::npos) {
        SseEvent event = Parse(buffer.substr(0, end + 1));
        buffer.erase(0, end + 2);
        if (!event.comment || comments) return event;
        continue;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      if (!connection_.ReadMore(RawConnection::Remaining(deadline)) && connection_.eof()) {
        return std::nullopt;
      }
    }
  }

 private:
  static SseEvent Parse(const std::string& block) {
    SseEvent event;
    event.comment = true;
    size_t pos = 0;
    while (pos < block.size()) {
      const size_t end = block.find('\n', pos);
      const std::string line = block.substr(pos, end - pos);
      pos = end + 1;
      if (line.rfind("id: ", 0) == 0) {
        event.id = std::stoull(line.substr(4));
        event.comment = false;
      } else if (line.rfind("event: ", 0) == 0) {
        event.type = line.substr(7);
        event.comment = false;
      } else if (line.rfind("data: ", 0) == 0) {
        event.data += line.substr(6);
        event.comment = false;
      } else if (line.rfind(":", 0) == 0) {
        event.data += line;
      }
    }
    return event;
  }

  RawConnection& connection_;
};

}  // namespace gsoc::api::testing
