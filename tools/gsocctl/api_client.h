// ApiClient: gsocctl's side of the HTTP API (Boost.Beast, synchronous).
//
// Where gsocd is and the token: --url (default http://127.0.0.1:8080, or
// the api address of --config FILE), --token, else $GSOC_TOKEN, else the
// token file: <data_dir>/api-token of --config, or of the default config
// (deploy/gsoc.yaml of this source tree). https URLs use TLS (--insecure
// skips certificate verification, for self-signed test certificates).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace gsoc::ctl {

struct ApiEndpoint {
  bool tls = false;
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string token;
  bool insecure = false;
  std::chrono::milliseconds connect_timeout{10'000};  // resolve + connect + TLS handshake
  std::chrono::milliseconds read_timeout{30'000};     // Get: the whole reply
  // Stream: nothing at all (not even a keepalive comment, sent every 15 s)
  // for this long means the server or the path to it is dead.
  std::chrono::milliseconds stream_idle_timeout{45'000};
};

struct HttpReply {
  int status = 0;                              // 0: no reply (connection failed; see error)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string error;
};

class ApiClient {
 public:
  explicit ApiClient(ApiEndpoint endpoint) : endpoint_(std::move(endpoint)) {}

  // GET target (path + query); `accept` as the Accept header.
  HttpReply Get(const std::string& target, const std::string& accept = "application/json") const;
  // `method` (POST, DELETE...) target with a JSON body (may be empty).
  HttpReply Send(const std::string& method, const std::string& target,
                 const std::string& body) const;
  // POST target with a JSON body.
  HttpReply Post(const std::string& target, const std::string& body) const {
    return Send("POST", target, body);
  }

  // Follows an SSE stream: calls on_event(id, data) per event until it
  // returns false or the connection ends; returns the reply status (200 when
  // the stream ran) and sets `error` on a connection failure. Sends
  // `Last-Event-ID: last_event_id` (always: 0 asks for every stored alert
  // that matches, as after_id=0 does). On a status other than 200, `error`
  // is the reply body; when a 200 stream ends, it says why (server closed,
  // connection lost, nothing for stream_idle_timeout), unless on_event
  // stopped it. Named events other than "message" (event: triage) are
  // skipped: on_event sees alerts only.
  int Stream(const std::string& target, uint64_t last_event_id,
             const std::function<bool(uint64_t id, const std::string& data)>& on_event,
             std::string* error) const;

 private:
  ApiEndpoint endpoint_;
};

// Parses "http(s)://host[:port]"; false when it is not one.
bool ParseEndpointUrl(const std::string& url, ApiEndpoint* endpoint);

}  // namespace gsoc::ctl
