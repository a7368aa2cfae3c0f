// gsocctl tail / query / alert against a scripted HTTP server
// (scripted_api_server.h): the real gsocctl binary as a subprocess.
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

#include "tests/util/temp_dir.h"
#include "tools/gsocctl/api_client.h"

extern char** environ;
#include "tests/tools/gsocctl/scripted_api_server.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace gsoc::ctl::scripted;

// ---------------------------------------------------------------------------
// Running gsocctl.

struct Outcome {
  int exit_code = -1;  // -1: ended by a signal (tail -f, stopped by the test)
  std::string out;
  std::string err;
};

struct RunOptions {
  std::map<std::string, std::string> env;  // added to the environment
  // Stop gsocctl (SIGTERM) once its stdout satisfies this.
  std::function<bool(const std::string&)> done;
  bool terminal = false;  // stdout on a pseudo-terminal
  std::chrono::milliseconds timeout = 20s;
};

// The environment without GSOC_TOKEN and NO_COLOR, plus `extra`.
std::vector<std::string> Environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (!text.starts_with("GSOC_TOKEN=") && !text.starts_with("NO_COLOR=")) env.emplace_back(text);
  }
  for (const auto& [name, value] : extra) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& text : strings) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

Outcome Gsocctl(std::vector<std::string> args, const RunOptions& options = {}) {
  args.insert(args.begin(), GSOCCTL_PATH);
  std::vector<std::string> env = Environment(options.env);
  const std::vector<char*> argv = Pointers(args), envp = Pointers(env);
  int out[2], err[2];
  if (options.terminal) {
    EXPECT_EQ(::openpty(&out[0], &out[1], nullptr, nullptr, nullptr), 0);
  } else {
    EXPECT_EQ(::pipe(out), 0);
  }
  EXPECT_EQ(::pipe(err), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    ::close(out[0]);
    ::close(err[0]);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  Outcome run;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool out_open = true, err_open = true, stopped = false;
  while (out_open || err_open) {
    if (!stopped &&
        ((options.done && options.done(run.out)) || std::chrono::steady_clock::now() > deadline)) {
      ::kill(pid, SIGTERM);
      stopped = true;
    }
    pollfd fds[2] = {{out_open ? out[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0}};
    if (::poll(fds, 2, 50) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        (i == 0 ? run.out : run.err).append(buffer, static_cast<size_t>(n));
      } else {
        (i == 0 ? out_open : err_open) = false;
      }
    }
  }
  ::close(out[0]);
  ::close(err[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  // Under -DGSOC_SANITIZE=ON gsocctl reports there too (tail -f is stopped,
  // so its exit code says nothing).
  EXPECT_EQ(run.err.find("Sanitizer"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("runtime error:"), std::string::npos) << run.err;
  return run;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

// The "id=N" that ends each readable line.
std::vector<uint64_t> PrintedIds(const std::string& out) {
  static const std::regex kId(" id=([0-9]+)$");
  std::vector<uint64_t> ids;
  for (const auto& line : Lines(out)) {
    std::smatch match;
    if (std::regex_search(line, match, kId)) ids.push_back(std::stoull(match[1]));
  }
  return ids;
}

std::function<bool(const std::string&)> LinesPrinted(size_t count) {
  return [count](const std::string& out) { return Lines(out).size() >= count; };
}

// A gsocd config whose api is `port`, data_dir var/ (the default).
fs::path WriteConfig(const fs::path& dir, uint16_t port, const std::string& token_file_text) {
  std::ofstream(dir / "gsoc.yaml") << "data_dir: var\nlisteners: []\napi:\n  address: 127.0.0.1\n"
                                      "  port: "
                                   << port << "\n";
  if (!token_file_text.empty()) std::ofstream(dir / "var" / "api-token") << token_file_text;
  return dir / "gsoc.yaml";
}

// ---------------------------------------------------------------------------
// tail

TEST(GsocctlTail, PrintsTheLastNOldestFirstWithTheFilters) {
  ScriptedServer server("tok", [](const Request&, int fd) {
    Send(fd, Reply(200, "application/x-ndjson", Ndjson({9, 8, 7}), "X-Next-Cursor: 7\r\n"));
  });
  const Outcome run = Gsocctl({"tail", "-n", "3", "--level", "high+", "--rule", "ssh_failed",
                               "--agency", "mof", "--token", "tok", "--url", server.url()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(PrintedIds(run.out), (std::vector<uint64_t>{7, 8, 9})) << run.out;
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);  // three were asked for and given: no second page
  const Request& query = requests[0];
  EXPECT_EQ(query.target.substr(0, query.target.find('?')), "/api/v1/alerts");
  for (const char* param :
       {"level=high%2B", "rule=ssh_failed", "agency=mof", "order=desc", "limit=3"}) {
    EXPECT_TRUE(query.Has(param)) << param << " not in " << query.target;
  }
  EXPECT_EQ(query.Header("accept"), "application/x-ndjson");
  // The readable line: time, level, kind, title, agency, fields, id.
  const std::string first = Lines(run.out)[0];
  EXPECT_EQ(first,
            "2026-11-25T10:00:07.123Z  high      D  SSH failed password  agency=mof  "
            "src_ip=203.0.113.7 user=root  id=7");
}

TEST(GsocctlTail, FollowReconnectsAfterTheLastIdShown) {
  std::atomic<int> streams{0};
  ScriptedServer server("tok", [&](const Request& request, int fd) {
    if (!request.target.starts_with("/api/v1/alerts/stream")) {
      Send(fd, Reply(200, "application/x-ndjson", Ndjson({2, 1})));
      return;
    }
    Send(fd, ChunkedHead("text/event-stream"));
    if (++streams == 1) {
      Send(fd, Chunk(": connected\n\n"));
      Send(fd, Chunk(SseEvent(3)));
      const std::string four = SseEvent(4);
      Send(fd, Chunk(four.substr(0, 10)));  // an event split across chunks
      Send(fd, Chunk(four.substr(10)));
      const std::string five = SseEvent(5);
      Send(fd, Chunk(five.substr(0, five.size() / 2)));  // then the connection drops mid-event
      return;
    }
    // Like gsocd: every alert after Last-Event-ID, up to the newest (6).
    std::string events = ": keepalive\n\n";
    for (uint64_t id = std::stoull("0" + request.Header("last-event-id")) + 1; id <= 6; ++id) {
      events += SseEvent(id);
    }
    Send(fd, Chunk(events));
    server.HoldOpen(fd);
  });
  RunOptions options;
  options.done = LinesPrinted(6);
  const Outcome run =
      Gsocctl({"tail", "-f", "-n", "2", "--token", "tok", "--url", server.url()}, options);
  EXPECT_EQ(PrintedIds(run.out), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6})) << run.out << run.err;
  const auto stream_requests = server.requests_to("/api/v1/alerts/stream");
  ASSERT_EQ(stream_requests.size(), 2u);
  EXPECT_EQ(stream_requests[0].Header("last-event-id"), "2");
  EXPECT_EQ(stream_requests[1].Header("last-event-id"), "4");
  EXPECT_EQ(stream_requests[0].Header("accept"), "text/event-stream");
  EXPECT_NE(run.err.find("retrying in 0.5 s"), std::string::npos) << run.err;
}

TEST(GsocctlTail, FollowWaitsOutARefusalAndPassesTheFilters) {
  std::atomic<int> streams{0};
  ScriptedServer server("tok", [&](const Request& request, int fd) {
    if (!request.target.starts_with("/api/v1/alerts/stream")) {
      Send(fd, Reply(200, "application/x-ndjson", ""));  // nothing matches yet
      return;
    }
    if (++streams == 1) {
      Send(fd, Reply(503, "application/json", R"({"error":"too many streams"})"));
      return;
    }
    Send(fd, ChunkedHead("text/event-stream") + Chunk(SseEvent(11)));
    server.HoldOpen(fd);
  });
  RunOptions options;
  options.done = LinesPrinted(1);
  const Outcome run = Gsocctl({"tail", "-f", "--level", "critical", "--agency", "mof", "--token",
                               "tok", "--url", server.url()},
                              options);
  EXPECT_EQ(PrintedIds(run.out), (std::vector<uint64_t>{11})) << run.out << run.err;
  EXPECT_NE(run.err.find("too many streams"), std::string::npos) << run.err;
  const auto stream_requests = server.requests_to("/api/v1/alerts/stream");
  ASSERT_EQ(stream_requests.size(), 2u);
  // Nothing shown: resume after 0, i.e. every alert that matches from now on.
  EXPECT_EQ(stream_requests[1].Header("last-event-id"), "0");
  EXPECT_TRUE(stream_requests[1].Has("level=critical")) << stream_requests[1].target;
  EXPECT_TRUE(stream_requests[1].Has("agency=mof")) << stream_requests[1].target;
  EXPECT_FALSE(stream_requests[1].Has("limit=")) << stream_requests[1].target;
}

TEST(GsocctlTail, JsonPrintsEachAlertVerbatim) {
  ScriptedServer server("tok", [&](const Request& request, int fd) {
    if (!request.target.starts_with("/api/v1/alerts/stream")) {
      Send(fd, Reply(200, "application/x-ndjson", Ndjson({5, 4})));
      return;
    }
    Send(fd, ChunkedHead("text/event-stream") + Chunk(SseEvent(6)));
    server.HoldOpen(fd);
  });
  RunOptions options;
  options.done = LinesPrinted(3);
  const Outcome run =
      Gsocctl({"tail", "-f", "--json", "--token", "tok", "--url", server.url()}, options);
  const auto lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 3u) << run.out << run.err;
  EXPECT_EQ(lines[0], DetectionJson(4));
  EXPECT_EQ(lines[1], DetectionJson(5));
  EXPECT_EQ(lines[2], DetectionJson(6));
}

TEST(GsocctlTail, ColourOnlyOnATerminalWithoutNoColor) {
  ScriptedServer server("tok", [](const Request&, int fd) {
    Send(fd, Reply(200, "application/x-ndjson",
                   DetectionJson(2, "high") + "\n" + DetectionJson(1, "critical") + "\n"));
  });
  const std::vector<std::string> args = {"tail", "--token", "tok", "--url", server.url()};
  const Outcome piped = Gsocctl(args);
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.out.find('\x1b'), std::string::npos) << piped.out;

  RunOptions terminal;
  terminal.terminal = true;
  const Outcome on_terminal = Gsocctl(args, terminal);
  ASSERT_EQ(on_terminal.exit_code, 0) << on_terminal.err;
  EXPECT_NE(on_terminal.out.find("\x1b[31mhigh\x1b[0m"), std::string::npos) << on_terminal.out;
  EXPECT_NE(on_terminal.out.find("\x1b[1;31mcritical\x1b[0m"), std::string::npos);

  terminal.env["NO_COLOR"] = "1";
  const Outcome no_color = Gsocctl(args, terminal);
  ASSERT_EQ(no_color.exit_code, 0) << no_color.err;
  EXPECT_EQ(no_color.out.find('\x1b'), std::string::npos) << no_color.out;
  EXPECT_NE(no_color.out.find("critical"), std::string::npos) << no_color.out;
}

// ---------------------------------------------------------------------------
// query

TEST(GsocctlQuery, FollowsCursorsUpToTheLimit) {
  ScriptedServer server("tok", [](const Request& request, int fd) {
    if (request.Has("cursor=c2")) {
      Send(fd, Reply(200, "application/x-ndjson", Ndjson({6, 5}), "X-Next-Cursor: c3\r\n"));
    } else if (request.Has("cursor=c1")) {  // this page chunked
      Send(fd, ChunkedHead("application/x-ndjson", "X-Next-Cursor: c2\r\n") +
                   Chunk(DetectionJson(8) + "\n" + DetectionJson(7).substr(0, 20)) +
                   Chunk(DetectionJson(7).substr(20) + "\n") + std::string(kLastChunk));
    } else {
      Send(fd, Reply(200, "application/x-ndjson", Ndjson({10, 9}), "X-Next-Cursor: c1\r\n"));
    }
  });
  const Outcome run = Gsocctl({"query", "--since", "1h", "-q", "failed password", "--limit", "5",
                               "--token", "tok", "--url", server.url()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(PrintedIds(run.out), (std::vector<uint64_t>{10, 9, 8, 7, 6})) << run.out;
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  const char* const limits[] = {"limit=5", "limit=3", "limit=1"};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(requests[i].Has(limits[i])) << requests[i].target;
    EXPECT_TRUE(requests[i].Has("since=1h")) << requests[i].target;
    EXPECT_TRUE(requests[i].Has("q=failed%20password")) << requests[i].target;
    EXPECT_TRUE(requests[i].Has("order=desc")) << requests[i].target;
  }
  EXPECT_FALSE(requests[0].Has("cursor="));
  EXPECT_TRUE(requests[2].Has("cursor=c2"));
}

TEST(GsocctlQuery, JsonIsNdjsonAndStopsAtTheEnd) {
  ScriptedServer server("tok", [](const Request& request, int fd) {
    if (request.Has("cursor=next")) {
      Send(fd, Reply(200, "application/x-ndjson", Ndjson({3})));  // no cursor: the end
    } else {
      Send(fd, Reply(200, "application/x-ndjson", Ndjson({1, 2}), "X-Next-Cursor: next\r\n"));
    }
  });
  const Outcome run = Gsocctl({"query", "--order", "asc", "--until", "2026-11-25T11:00:00+07:00",
                               "--json", "--token", "tok", "--url", server.url()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, Ndjson({1, 2, 3}));
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_TRUE(requests[0].Has("order=asc")) << requests[0].target;
  EXPECT_TRUE(requests[0].Has("until=2026-11-25T11%3A00%3A00%2B07%3A00")) << requests[0].target;
  EXPECT_TRUE(requests[0].Has("limit=100")) << requests[0].target;
}

TEST(GsocctlQuery, AcceptsAJsonReplyToo) {
  ScriptedServer server("tok", [](const Request&, int fd) {
    Send(fd, Reply(200, "application/json",
                   R"({"alerts":[)" + DetectionJson(4) + "," + DetectionJson(3) +
                       R"(],"next_cursor":null})"));
  });
  const Outcome run = Gsocctl({"query", "--token", "tok", "--url", server.url()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(PrintedIds(run.out), (std::vector<uint64_t>{4, 3})) << run.out;
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(GsocctlQuery, ServerErrorIsShownAndExits1) {
  ScriptedServer server("tok", [](const Request&, int fd) {
    Send(fd, Reply(400, "application/json", R"({"error":"since: not a time or duration"})"));
  });
  const Outcome run =
      Gsocctl({"query", "--since", "yesterday", "--token", "tok", "--url", server.url()});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("400: since: not a time or duration"), std::string::npos) << run.err;
}

TEST(GsocctlQuery, RejectsAnUnknownLevelBeforeAsking) {
  const Outcome run = Gsocctl({"query", "--level", "severe", "--token", "tok"});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("informational, low, medium, high or critical"), std::string::npos)
      << run.err;
}

// ---------------------------------------------------------------------------
// alert

TEST(GsocctlAlert, ShowsHeaderFieldsAndContributingEvents) {
  ScriptedServer server("tok", [](const Request& request, int fd) {
    if (request.target == "/api/v1/alerts/42") {
      Send(fd, Reply(200, "application/json", kCorrelationJson));
    } else {
      Send(fd, Reply(404, "application/json", R"({"error":"no such alert"})"));
    }
  });
  const Outcome run = Gsocctl({"alert", "42", "--token", "tok", "--url", server.url()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const char* expected : {
           "id:          42\n",
           "time:        2026-11-25T10:00:05.123Z\n",
           "kind:        correlation\n",
           "rule:        SSH brute force\n",
           "rule id:     c-ssh-brute  (name ssh_bruteforce)\n",
           "level:       critical\n",
           "tags:        attack.t1110, attack.credential_access\n",
           "agency:      mof\n",
           "group:       src_ip=203.0.113.7\n",
           "window:      2026-11-25T10:00:00.000Z .. 2026-11-25T10:05:00.000Z\n",
           "count:       7\n",
           "correlation: event_count, value 7, condition gte 5\n",
           "fields:\n  src_ip = 203.0.113.7\n  user = root\n",
           "events (2):\n"
           "  2026-11-25T10:00:01.000Z  <38>Nov 25 10:00:01 bastion sshd[812]: Failed password "
           "for root from 203.0.113.7\n"
           "  2026-11-25T10:00:02.500Z  <38>Nov 25 10:00:02 bastion sshd[813]: Failed password "
           "for admin from 203.0.113.7\n",
       }) {
    EXPECT_NE(run.out.find(expected), std::string::npos) << expected << " not in:\n" << run.out;
  }
}

TEST(GsocctlAlert, JsonPrintsTheAlertAndAMissingOneExits1) {
  ScriptedServer server("tok", [](const Request& request, int fd) {
    if (request.target == "/api/v1/alerts/42") {
      Send(fd, Reply(200, "application/json", kCorrelationJson + "\n"));
    } else {
      Send(fd, Reply(404, "application/json", R"({"error":"no such alert"})"));
    }
  });
  const Outcome json = Gsocctl({"alert", "42", "--json", "--token", "tok", "--url", server.url()});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(json.out, kCorrelationJson + "\n");
  const Outcome missing = Gsocctl({"alert", "43", "--token", "tok", "--url", server.url()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no alert 43"), std::string::npos) << missing.err;
  const Outcome not_an_id = Gsocctl({"alert", "4x", "--token", "tok", "--url", server.url()});
  EXPECT_EQ(not_an_id.exit_code, 2);
  EXPECT_EQ(server.requests().size(), 2u);
}

// The rule's metadata the API joins in ("rule_detail"), escaped like every
// other text: a hostile reference cannot drive the terminal.
TEST(GsocctlAlert, ShowsTheRulesMetadataEscaped) {
  const std::string json =
      R"({"id":"5","time":"2026-11-25T10:00:05.123Z","kind":"detection",)"
      R"("rule":{"id":"r-1","title":"Whoami","level":"high","tags":["attack.t1033","cve.x"]},)"
      R"("rule_detail":{"id":"r-1","description":"Runs whoami","author":"Ana",)"
      R"("tags":["attack.discovery","attack.t1033","detection.threat_hunting"],)"
      R"("references":["https://a.test/1","https://b.test/\u001b]0;pwned\u0007"],)"
      R"("falsepositives":["Admin scripts"],"metadata_truncated":true,"kind":"detection"}})";
  ScriptedServer server("tok", [&](const Request& request, int fd) {
    Send(fd, Reply(200, "application/json", json));
    (void)request;
  });
  const Outcome run = Gsocctl({"alert", "5", "--token", "tok", "--url", server.url()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const char* expected : {
           "attack:      attack.discovery, attack.t1033\n",
           "description: Runs whoami\n",
           "author:      Ana\n",
           "references:  https://a.test/1\n             https://b.test/\\x1b]0;pwned\\x07\n",
           "false pos.:  Admin scripts\n",
           "note:        the rule's metadata was truncated by the loader\n",
       }) {
    EXPECT_NE(run.out.find(expected), std::string::npos) << expected << " not in:\n" << run.out;
  }
  EXPECT_EQ(run.out.find('\x1b'), std::string::npos);
}

// ---------------------------------------------------------------------------
// The token, the address, failures.

Outcome AlertWithToken(const std::vector<std::string>& extra, const RunOptions& options) {
  std::vector<std::string> args = {"alert", "42", "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  return Gsocctl(args, options);
}

TEST(GsocctlToken, FlagThenEnvironmentThenTheConfigsTokenFile) {
  const auto reply = [](const Request&, int fd) {
    Send(fd, Reply(200, "application/json", kCorrelationJson));
  };
  const gsoc::test::TempDir temp("gsocctl-alerts");
  const fs::path& dir = temp.path();
  fs::create_directories(dir / "var");
  {  // --token wins over GSOC_TOKEN and the file.
    ScriptedServer server("from-flag", reply);
    const fs::path config = WriteConfig(dir, server.port(), "from-file\n");
    RunOptions options;
    options.env["GSOC_TOKEN"] = "from-env";
    const Outcome run = AlertWithToken({"--token", "from-flag", "--config", config}, options);
    EXPECT_EQ(run.exit_code, 0) << run.err;
  }
  {  // GSOC_TOKEN wins over the file.
    ScriptedServer server("from-env", reply);
    const fs::path config = WriteConfig(dir, server.port(), "from-file\n");
    RunOptions options;
    options.env["GSOC_TOKEN"] = "from-env";
    const Outcome run = AlertWithToken({"--config", config}, options);
    EXPECT_EQ(run.exit_code, 0) << run.err;
  }
  {  // The token file of --config (trimmed), and its api address.
    ScriptedServer server("from-file", reply);
    const fs::path config = WriteConfig(dir, server.port(), "from-file\n");
    const Outcome run = AlertWithToken({"--config", config}, {});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    ASSERT_EQ(server.requests().size(), 1u);
    EXPECT_EQ(server.requests()[0].Header("authorization"), "Bearer from-file");
  }
}

TEST(GsocctlToken, MissingTokenSaysWhereItIsLookedFor) {
  const gsoc::test::TempDir temp("gsocctl-alerts");
  const fs::path& dir = temp.path();
  fs::create_directories(dir / "var");
  const fs::path config = WriteConfig(dir, 1, "");
  const Outcome run = Gsocctl({"query", "--config", config});
  EXPECT_EQ(run.exit_code, 1);
  const std::string token_file = (dir / "var" / "api-token").string();
  EXPECT_NE(run.err.find("no API token"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("--token, then $GSOC_TOKEN, then " + token_file), std::string::npos)
      << run.err;
}

TEST(GsocctlToken, RefusedTokenSaysWhereItCameFrom) {
  ScriptedServer server(
      "right", [](const Request&, int fd) { Send(fd, Reply(200, "application/x-ndjson", "")); });
  RunOptions options;
  options.env["GSOC_TOKEN"] = "wrong";
  for (const char* command : {"query", "tail"}) {
    const Outcome run = Gsocctl({command, "--url", server.url()}, options);
    EXPECT_EQ(run.exit_code, 1) << command;
    EXPECT_NE(run.err.find("refused the API token (401 Unauthorized)"), std::string::npos)
        << run.err;
    EXPECT_NE(run.err.find("came from $GSOC_TOKEN"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find("looked for in: --token, then $GSOC_TOKEN"), std::string::npos)
        << run.err;
  }
}

uint16_t UnusedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

TEST(GsocctlConnection, RefusedConnectionExits1WithAClearMessage) {
  const std::string url = "http://127.0.0.1:" + std::to_string(UnusedPort());
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"query"}, {"alert", "1"}, {"tail"}}) {
    std::vector<std::string> full = args;
    full.insert(full.end(), {"--token", "t", "--url", url});
    const Outcome run = Gsocctl(full);
    EXPECT_EQ(run.exit_code, 1) << args[0];
    EXPECT_NE(run.err.find("cannot reach gsocd at " + url), std::string::npos) << run.err;
    EXPECT_NE(run.err.find("Connection refused"), std::string::npos) << run.err;
  }
}

TEST(GsocctlConnection, BadUrlIsAUsageError) {
  const Outcome run = Gsocctl({"query", "--token", "t", "--url", "ftp://x"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("expected http(s)://HOST[:PORT]"), std::string::npos) << run.err;
}

}  // namespace
