#include "tools/loadgen/options.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <cctype>
#include <cstdio>

namespace gsoc::loadgen {
namespace {

// Enumerated options as typed (CLI11 2.1 prints enum maps poorly in --help).
struct Choices {
  std::string transport = "tcp";
  std::string framing = "octet";
  std::string template_kind = "mix";
};

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

void ApplyChoices(const Choices& choices, Options& o) {
  o.transport = Lower(choices.transport) == "udp" ? Transport::kUdp : Transport::kTcp;
  o.framing = Lower(choices.framing) == "lf" ? Framing::kLf : Framing::kOctet;
  const std::string kind = Lower(choices.template_kind);
  o.template_kind = kind == "rfc3164"   ? TemplateKind::kRfc3164
                    : kind == "rfc5424" ? TemplateKind::kRfc5424
                                        : TemplateKind::kMix;
}

void AddTargetOptions(CLI::App& app, Options& o, Choices& choices) {
  app.add_option("--host", o.host, "Destination host or address")->capture_default_str();
  app.add_option("-p,--port", o.port, "Destination port")->capture_default_str();
  app.add_option("--transport", choices.transport, "tcp or udp")
      ->check(CLI::IsMember({"tcp", "udp"}, CLI::ignore_case))
      ->capture_default_str();
  app.add_option("--framing", choices.framing, "TCP framing: octet (RFC 6587) or lf")
      ->check(CLI::IsMember({"octet", "lf"}, CLI::ignore_case))
      ->capture_default_str();
  app.add_option("-c,--connections", o.connections,
                 "TCP connections / UDP sockets, one thread each")
      ->check(CLI::Range(1u, 4096u))
      ->capture_default_str();
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
  CLI::App app{"gsoc-loadgen: send syslog load over TCP or UDP", "gsoc-loadgen"};
  Choices choices;
  AddTargetOptions(app, options, choices);
  AddSourceOptions(app, options, choices);
  AddVolumeOptions(app, options);
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
  if (options.hostname.empty()) options.hostname = MachineHostname();
  return ParseResult{std::move(options), 0};
}

}  // namespace gsoc::loadgen
