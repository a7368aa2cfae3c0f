#include "tools/loadgen/options.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <cctype>
#include <cstdio>

#include "engine/util/ascii.h"

namespace gsoc::loadgen {
namespace {

// Enumerated options as typed (CLI11 2.1 prints enum maps poorly in --help).
struct Choices {
  std::string transport = "tcp";
  std::string framing = "octet";
  std::string template_kind = "mix";
  std::string tls_version;
};

void ApplyChoices(const Choices& choices, Options& o) {
  const std::string transport = AsciiLower(choices.transport);
  o.transport = transport == "udp"   ? Transport::kUdp
                : transport == "tls" ? Transport::kTls
                                     : Transport::kTcp;
  o.tls.version = choices.tls_version == "1.2" ? 12 : choices.tls_version == "1.3" ? 13 : 0;
  o.framing = AsciiLower(choices.framing) == "lf" ? Framing::kLf : Framing::kOctet;
  const std::string kind = AsciiLower(choices.template_kind);
  o.template_kind = kind == "rfc3164"   ? TemplateKind::kRfc3164
                    : kind == "rfc5424" ? TemplateKind::kRfc5424
                                        : TemplateKind::kMix;
}

void AddTargetOptions(CLI::App& app, Options& o, Choices& choices) {
  app.add_option("--host", o.host, "Destination host or address")->capture_default_str();
  app.add_option("-p,--port", o.port, "Destination port")->capture_default_str();
  app.add_option("--transport", choices.transport, "tcp, udp or tls (syslog over TLS, RFC 5425)")
      ->check(CLI::IsMember({"tcp", "udp", "tls"}, CLI::ignore_case))
      ->capture_default_str();
  app.add_option("--framing", choices.framing, "TCP framing: octet (RFC 6587) or lf")
      ->check(CLI::IsMember({"octet", "lf"}, CLI::ignore_case))
      ->capture_default_str();
  app.add_option("-c,--connections", o.connections,
                 "TCP connections / UDP sockets, one thread each")
      ->check(CLI::Range(1u, 4096u))
      ->capture_default_str();
  app.add_option("--reconnect-every", o.reconnect_every,
                 "TCP/TLS: close and reconnect after this many messages per connection")
      ->check(CLI::Range(uint64_t{1}, ~uint64_t{0}));
  app.add_flag("--handshakes", o.handshakes,
               "TCP/TLS: only connect (and handshake) and close, repeatedly; --count counts "
               "connections");
}

void AddTlsOptions(CLI::App& app, Options& o, Choices& choices) {
  app.add_option("--tls-ca", o.tls.ca, "CA certificates (PEM) to verify the server against")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-cert", o.tls.certificate, "Client certificate (PEM), for mutual TLS")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", o.tls.private_key, "Private key (PEM) of --tls-cert")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-version", choices.tls_version, "1.2 or 1.3 only (default: either)")
      ->check(CLI::IsMember({"1.2", "1.3"}));
  app.add_option("--tls-ciphers", o.tls.ciphers,
                 "TLS 1.3 suites (TLS_AES_128_GCM_SHA256:...) or TLS 1.2 ciphers (OpenSSL names)");
  app.add_option("--tls-server-name", o.tls.server_name,
                 "Name or address the server certificate must match (default: --host)");
  app.add_flag("--tls-insecure", o.tls.insecure, "Do not verify the server certificate");
}

void AddSourceOptions(CLI::App& app, Options& o, Choices& choices) {
  app.add_option("-t,--template", choices.template_kind, "rfc3164, rfc5424 or mix")
      ->check(CLI::IsMember({"rfc3164", "rfc5424", "mix"}, CLI::ignore_case))
      ->capture_default_str();
  app.add_option("-f,--file", o.files, "Replay the lines of this file (repeatable)")
      ->check(CLI::ExistingFile);
  app.add_flag("--wrap", o.wrap, "Prefix --file lines with a PRI and RFC 3164 header");
  app.add_option("--hostname", o.hostname, "HOSTNAME field (default: this machine's)");
  app.add_option("--seed", o.seed, "PRNG seed of the templates")->capture_default_str();
  app.add_option("--pool", o.pool_size, "Distinct template messages per connection")
      ->check(CLI::Range(1u, 1u << 22))
      ->capture_default_str();
}

void AddVolumeOptions(CLI::App& app, Options& o) {
  app.add_option("-r,--rate", o.rate, "Messages per second in total (0 = unlimited)")
      ->capture_default_str();
  app.add_option("-n,--count", o.count, "Total messages to send");
  app.add_option("-d,--duration", o.duration_s, "Seconds to send for")->check(CLI::PositiveNumber);
  app.add_flag("--csv", o.csv, "Print a CSV header and one result line");
  app.add_flag("-q,--quiet", o.quiet, "No summary (errors are still printed)");
}

// Options that contradict each other, or null.
const char* Inconsistency(const Options& o) {
  const TlsClientOptions& tls = o.tls;
  const bool any_tls = !tls.ca.empty() || !tls.certificate.empty() || !tls.private_key.empty() ||
                       tls.version != 0 || !tls.ciphers.empty() || tls.insecure ||
                       !tls.server_name.empty();
  if (any_tls && o.transport != Transport::kTls) return "--tls-* options need --transport tls";
  if (tls.certificate.empty() != tls.private_key.empty()) {
    return "--tls-cert and --tls-key go together";
  }
  if (tls.insecure && !tls.ca.empty()) return "--tls-insecure and --tls-ca exclude each other";
  if ((o.reconnect_every != 0 || o.handshakes) && o.transport == Transport::kUdp) {
    return "--reconnect-every and --handshakes need a connection (tcp or tls)";
  }
  if (o.reconnect_every != 0 && o.handshakes) {
    return "--reconnect-every and --handshakes exclude each other";
  }
  if (o.handshakes && !o.files.empty()) return "--handshakes sends no --file";
  return nullptr;
}

}  // namespace

Framing EffectiveFraming(const Options& options) {
  return options.transport == Transport::kUdp ? Framing::kNone : options.framing;
}

std::string MachineHostname() {
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0') return "localhost";
  return std::string(name.data());
}

ParseResult ParseOptions(int argc, const char* const* argv) {
  Options options;
  CLI::App app{"gsoc-loadgen: send syslog load over TCP, TLS or UDP", "gsoc-loadgen"};
  Choices choices;
  AddTargetOptions(app, options, choices);
  AddSourceOptions(app, options, choices);
  AddVolumeOptions(app, options);
  AddTlsOptions(app, options, choices);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help or the error
    return ParseResult{std::nullopt, code == 0 ? 0 : 2};
  }
  ApplyChoices(choices, options);
  if (options.rate != 0 && options.rate < options.connections) {
    std::fprintf(stderr, "--rate must be 0 or at least --connections\n");
    return ParseResult{std::nullopt, 2};
  }
  if (const char* problem = Inconsistency(options)) {
    std::fprintf(stderr, "%s\n", problem);
    return ParseResult{std::nullopt, 2};
  }
  if (options.hostname.empty()) options.hostname = MachineHostname();
  if (options.tls.server_name.empty()) options.tls.server_name = options.host;
  return ParseResult{std::move(options), 0};
}

}  // namespace gsoc::loadgen
