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

enum class Transport : uint8_t { kTcp, kUdp };
enum class Framing : uint8_t { kOctet, kLf, kNone };  // kNone: UDP datagrams
enum class TemplateKind : uint8_t { kRfc3164, kRfc5424, kMix };

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
