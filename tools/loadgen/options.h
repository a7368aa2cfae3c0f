// Command-line options of gsoc-loadgen (parsed with CLI11).
//
// ParseOptions never throws: on --help or a usage error it prints what CLI11
// prints and returns an exit code for main() in ParseResult::exit_code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gsoc::loadgen {

enum class Transport : uint8_t { kTcp, kUdp, kTls };
enum class Framing : uint8_t { kOctet, kLf, kNone };  // kNone: UDP datagrams
enum class TemplateKind : uint8_t { kRfc3164, kRfc5424, kMix };

// --transport tls: the client side of TLS (OpenSSL).
struct TlsClientOptions {
  std::string ca;           // verify the server against these CA certificates (PEM)
  std::string certificate;  // client certificate (PEM) for mutual TLS
  std::string private_key;  // its key (PEM)
  int version = 0;          // 12 or 13: only that version; 0: 1.2 or 1.3
  std::string ciphers;      // TLS 1.3 suites when they start with "TLS_", else 1.2 ciphers
  bool insecure = false;    // do not verify the server certificate
  std::string server_name;  // name (or address) to verify and send as SNI; default --host
};

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 514;
  Transport transport = Transport::kTcp;
  Framing framing = Framing::kOctet;  // TCP only; UDP always sends kNone
  TemplateKind template_kind = TemplateKind::kMix;
  std::vector<std::string> files;  // replay these instead of templates
  bool wrap = false;               // add "<PRI>Mmm dd hh:mm:ss host " to file lines
  std::string hostname;            // HOSTNAME field; default gethostname()
  uint64_t rate = 0;               // messages/s in total; 0 = unlimited
  uint32_t connections = 1;
  TlsClientOptions tls;
  // Each connection closes and reconnects (a new full handshake with TLS)
  // after this many messages; 0: never.
  uint64_t reconnect_every = 0;
  // Connection-rate mode: each connection connects (and handshakes), closes
  // and repeats, sending nothing; --count counts connections.
  bool handshakes = false;
  std::optional<uint64_t> count;     // total messages
  std::optional<double> duration_s;  // stop after this many seconds
  uint64_t seed = 42;
  uint32_t pool_size = 4096;  // distinct template messages per connection
  bool csv = false;
  bool quiet = false;
};

struct ParseResult {
  std::optional<Options> options;  // set when the program should run
  int exit_code = 0;               // when options is empty
};

ParseResult ParseOptions(int argc, const char* const* argv);

// The effective framing for a transport (UDP is unframed).
Framing EffectiveFraming(const Options& options);

// Default machine hostname (gethostname), "localhost" if unavailable.
std::string MachineHostname();

}  // namespace gsoc::loadgen
