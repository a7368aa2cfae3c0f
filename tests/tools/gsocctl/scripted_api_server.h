// A scripted HTTP server for the gsocctl alert commands' tests
// (alerts_commands_test.cc, api_client_test.cc): raw sockets on a free
// loopback port, one connection at a time, every request recorded, each
// answered by the test's handler (401 without the expected token); and the
// canned alerts those tests serve.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/util/loopback_listener.h"
#include "tools/gsocctl/api_client.h"

extern char** environ;

namespace gsoc::ctl::scripted {

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// The scripted server.

struct Request {
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names

  std::string Header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  bool Has(const std::string& text) const { return target.find(text) != std::string::npos; }
};

inline void Send(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
}

inline std::string Reply(int status, const std::string& type, const std::string& body,
                         const std::string& extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra_headers +
         "Connection: close\r\n\r\n" + body;
}

inline std::string ChunkedHead(const std::string& type, const std::string& extra_headers = "") {
  return "HTTP/1.1 200 OK\r\nContent-Type: " + type + "\r\nTransfer-Encoding: chunked\r\n" +
         extra_headers + "\r\n";
}

inline std::string Chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + std::string(data) + "\r\n";
}

constexpr std::string_view kLastChunk = "0\r\n\r\n";

// Accepts connections on 127.0.0.1 (a free port), one at a time: reads the
// request head, answers 401 unless it carries `Bearer <token>`, else calls
// the handler, which writes the reply; then closes the connection.
class ScriptedServer {
 public:
  using Handler = std::function<void(const Request&, int fd)>;

  ScriptedServer(std::string token, Handler handler)
      : token_(std::move(token)), handler_(std::move(handler)) {
    listener_ = test::ListenOnLoopback(16, &port_);
    if (listener_ < 0) throw std::runtime_error("scripted server: cannot listen");
    thread_ = std::thread([this] { Loop(); });
  }

  ~ScriptedServer() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  uint16_t port() const { return port_; }

  std::vector<Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<Request> requests_to(const std::string& path) const {
    std::vector<Request> matching;
    for (const auto& request : requests()) {
      if (request.target.substr(0, request.target.find('?')) == path) matching.push_back(request);
    }
    return matching;
  }

  // Keeps the connection open until the client closes it or the server stops.
  void HoldOpen(int fd) const {
    while (!stop_) {
      pollfd waiting{fd, POLLIN, 0};
      if (::poll(&waiting, 1, 50) > 0) {
        char byte;
        if (::recv(fd, &byte, 1, 0) <= 0) return;
      }
    }
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd waiting{listener_, POLLIN, 0};
      if (::poll(&waiting, 1, 50) <= 0) continue;
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      Serve(fd);
      ::close(fd);
    }
  }

  void Serve(int fd) {
    std::string head;
    char buffer[4096];
    while (head.find("\r\n\r\n") == std::string::npos && !stop_) {
      pollfd waiting{fd, POLLIN, 0};
      if (::poll(&waiting, 1, 50) <= 0) continue;
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) return;
      head.append(buffer, static_cast<size_t>(n));
    }
    const Request request = Parse(head);
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    if (request.Header("authorization") != "Bearer " + token_) {
      Send(fd, Reply(401, "application/json", R"({"error":"unauthorized"})",
                     "WWW-Authenticate: Bearer\r\n"));
      return;
    }
    handler_(request, fd);
  }

  static Request Parse(const std::string& head) {
    Request request;
    const size_t line_end = head.find("\r\n");
    const std::string first = head.substr(0, line_end);
    const size_t space = first.find(' ');
    request.target = first.substr(space + 1, first.rfind(' ') - space - 1);
    for (size_t start = line_end + 2; start < head.size();) {
      const size_t end = head.find("\r\n", start);
      const std::string line = head.substr(start, end - start);
      start = end + 2;
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    return request;
  }

  std::string token_;
  Handler handler_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<Request> requests_;
};

// ---------------------------------------------------------------------------
// Canned alerts.

inline std::string Time(uint64_t id) {
  char text[40];
  std::snprintf(text, sizeof text, "2026-11-25T10:%02d:%02d.123Z", static_cast<int>(id / 60 % 60),
                static_cast<int>(id % 60));
  return text;
}

inline std::string DetectionJson(uint64_t id, const std::string& level = "high") {
  const std::string time = Time(id);
  return R"({"id":")" + std::to_string(id) + R"(","time":")" + time +
         R"(","kind":"detection","rule":{"id":"r-ssh-fail","name":"ssh_failed","title":"SSH failed password","level":")" +
         level + R"(","tags":["attack.t1110"]},"agency":"mof","group":{},"window":{"start":")" +
         time + R"(","end":")" + time +
         R"("},"count":1,"fields":{"src_ip":"203.0.113.7","user":"root"},"events":[{"id":"7)" +
         std::to_string(id) + R"(","time":")" + time +
         R"(","raw":"<38>Nov 25 10:00:01 bastion sshd[812]: Failed password for root"}]})";
}

inline const std::string kCorrelationJson =
    R"({"id":"42","time":"2026-11-25T10:00:05.123Z","kind":"correlation",)"
    R"("rule":{"id":"c-ssh-brute","name":"ssh_bruteforce","title":"SSH brute force",)"
    R"("level":"critical","tags":["attack.t1110","attack.credential_access"]},)"
    R"("agency":"mof","group":{"src_ip":"203.0.113.7"},)"
    R"("window":{"start":"2026-11-25T10:00:00.000Z","end":"2026-11-25T10:05:00.000Z"},)"
    R"("count":7,"correlation":{"type":"event_count","value":7,"condition":"gte 5",)"
    R"("suppressed":0},"fields":{"src_ip":"203.0.113.7","user":"root"},)"
    R"("events":[{"id":"101","time":"2026-11-25T10:00:01.000Z",)"
    R"("raw":"<38>Nov 25 10:00:01 bastion sshd[812]: Failed password for root from 203.0.113.7"},)"
    R"({"id":"102","time":"2026-11-25T10:00:02.500Z",)"
    R"("raw":"<38>Nov 25 10:00:02 bastion sshd[813]: Failed password for admin from 203.0.113.7"}]})";

inline std::string Ndjson(std::initializer_list<uint64_t> ids) {
  std::string body;
  for (const uint64_t id : ids) body += DetectionJson(id) + "\n";
  return body;
}

inline std::string SseEvent(uint64_t id) {
  return "id: " + std::to_string(id) + "\ndata: " + DetectionJson(id) + "\n\n";
}

}  // namespace gsoc::ctl::scripted
