#include "tools/loadgen/report.h"

#include <fmt/format.h>

namespace gsoc::loadgen {
namespace {

struct Rates {
  double messages_per_s = 0;
  double mb_per_s = 0;  // 10^6 bytes
  double handshakes_per_s = 0;
  double handshake_ms = 0;  // mean time of one reconnect (close, connect, handshake)
};

Rates RatesOf(const RunResult& result) {
  Rates rates;
  if (result.reconnects > 0) {
    rates.handshake_ms = result.reconnect_s * 1e3 / static_cast<double>(result.reconnects);
  }
  if (result.elapsed_s <= 0) return rates;
  rates.messages_per_s = static_cast<double>(result.messages) / result.elapsed_s;
  rates.mb_per_s = static_cast<double>(result.bytes) / 1e6 / result.elapsed_s;
  rates.handshakes_per_s = static_cast<double>(result.reconnects) / result.elapsed_s;
  return rates;
}

const char* TransportName(const Options& options) {
  switch (options.transport) {
    case Transport::kUdp:
      return "udp";
    case Transport::kTls:
      return "tls";
    case Transport::kTcp:
      break;
  }
  return "tcp";
}

const char* FramingName(const Options& options) {
  switch (EffectiveFraming(options)) {
    case Framing::kOctet:
      return "octet";
    case Framing::kLf:
      return "lf";
    case Framing::kNone:
      break;
  }
  return "datagram";
}

}  // namespace

std::string HumanSummary(const Options& options, const RunResult& result) {
  const Rates rates = RatesOf(result);
  std::string out;
  fmt::format_to(std::back_inserter(out), "messages sent   {}\n", result.messages);
  fmt::format_to(std::back_inserter(out), "bytes sent      {} ({:.1f} MB)\n", result.bytes,
                 static_cast<double>(result.bytes) / 1e6);
  fmt::format_to(std::back_inserter(out), "elapsed         {:.3f} s\n", result.elapsed_s);
  fmt::format_to(std::back_inserter(out), "rate            {:.0f} msg/s, {:.1f} MB/s\n",
                 rates.messages_per_s, rates.mb_per_s);
  fmt::format_to(
      std::back_inserter(out), "cpu             {:.3f} s while sending ({:.0f} ns a message)\n",
      result.send_cpu_s,
      result.messages ? result.send_cpu_s * 1e9 / static_cast<double>(result.messages) : 0.0);
  fmt::format_to(std::back_inserter(out), "connections     {} {} ({})\n", result.connections,
                 TransportName(options), FramingName(options));
  fmt::format_to(std::back_inserter(out), "connect errors  {}\nsend errors     {}\n",
                 result.connect_errors, result.send_errors);
  if (options.reconnect_every != 0 || options.handshakes) {
    fmt::format_to(std::back_inserter(out),
                   "handshakes      {} new connections, {:.0f}/s, {:.3f} ms each (mean)\n",
                   result.reconnects, rates.handshakes_per_s, rates.handshake_ms);
  }
  return out;
}

std::string CsvReport(const Options& options, const RunResult& result) {
  const Rates rates = RatesOf(result);
  return fmt::format(
      "transport,framing,connections,target_rate,messages,bytes,elapsed_s,msgs_per_s,mb_per_s,"
      "connect_errors,send_errors,handshakes,handshakes_per_s,handshake_ms,send_cpu_s\n"
      "{},{},{},{},{},{},{:.6f},{:.1f},{:.3f},{},{},{},{:.1f},{:.3f},{:.6f}\n",
      TransportName(options), FramingName(options), result.connections, options.rate,
      result.messages, result.bytes, result.elapsed_s, rates.messages_per_s, rates.mb_per_s,
      result.connect_errors, result.send_errors, result.reconnects, rates.handshakes_per_s,
      rates.handshake_ms, result.send_cpu_s);
}

}  // namespace gsoc::loadgen
