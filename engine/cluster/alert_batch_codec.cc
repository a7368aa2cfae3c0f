#include "engine/cluster/alert_batch_codec.h"

namespace gsoc {
namespace {

constexpr size_t kHeaderBytes = 10;  // magic, version, flags, u32 count
// The smallest alert: identity 16, time, kind, level, a one-byte rule id
// (2), name and agency at one byte each, and the smallest detail.
constexpr size_t kMinAlertBytes = 16 + 1 + 1 + 1 + 2 + 1 + 1 + kMinAlertDetailBytes;
constexpr uint8_t kMaxKind = static_cast<uint8_t>(AlertKind::kCorrelation);
constexpr uint8_t kMaxLevel = static_cast<uint8_t>(rules::Level::kCritical);

void AppendAlert(std::string& out, const ClusterAlert& item) {
  const Alert& alert = item.alert;
  wire::PutFixed(out, item.identity.high, 8);
  wire::PutFixed(out, item.identity.low, 8);
  wire::PutZigzag(out, alert.time_ns);
  out += static_cast<char>(alert.kind);
  out += static_cast<char>(alert.rule.level);
  wire::PutText(out, alert.rule.id);
  wire::PutText(out, alert.rule.name);
  wire::PutText(out, alert.agency);
  AppendAlertDetail(out, alert);
}

bool ReadAlert(wire::WireReader& in, ClusterAlert& item, const AlertBatchLimits& limits) {
  Alert& alert = item.alert;
  item.identity.high = in.Fixed(8);
  item.identity.low = in.Fixed(8);
  alert.time_ns = in.Zigzag();
  const uint8_t kind = in.U8();
  if (in.ok() && kind > kMaxKind) return in.Fail("unknown alert kind");
  alert.kind = static_cast<AlertKind>(kind);
  const uint8_t level = in.U8();
  if (in.ok() && level > kMaxLevel) return in.Fail("unknown level");
  alert.rule.level = static_cast<rules::Level>(level);
  in.Text(alert.rule.id);
  in.Text(alert.rule.name);
  in.Text(alert.agency);
  if (!ReadAlertDetail(in, alert, limits)) return false;
  if (alert.rule.id.empty()) return in.Fail("alert without a rule id");
  return true;
}

}  // namespace

size_t EncodeAlertBatch(std::span<const ClusterAlert> alerts, size_t first, size_t max_bytes,
                        std::string& out) {
  out.clear();
  out.append(kHeaderBytes, '\0');
  size_t n = 0;
  for (size_t i = first; i < alerts.size() && n < kMaxAlertsPerMessage; ++i) {
    const size_t before = out.size();
    AppendAlert(out, alerts[i]);
    if (out.size() > max_bytes) {
      out.resize(before);
      break;
    }
    ++n;
  }
  if (n == 0) {
    out.clear();
    return 0;
  }
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((kAlertBatchMagic >> (8 * i)) & 0xff);
  out[4] = static_cast<char>(kAlertBatchVersion);
  out[5] = 0;
  for (int i = 0; i < 4; ++i) out[6 + i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return n;
}

bool DecodeAlertBatch(std::string_view message, std::vector<ClusterAlert>& out, CodecError* error,
                      const AlertBatchLimits& limits) {
  const wire::BatchFormat format{kAlertBatchMagic,
                                 kAlertBatchVersion,
                                 kMaxAlertsPerMessage,
                                 kMinAlertBytes,
                                 "not an alert batch (magic)",
                                 "unknown alert batch version",
                                 "empty alert batch",
                                 "too many alerts in one message"};
  return wire::DecodeBatch(
      message, format, out, error,
      [&](wire::WireReader& in, ClusterAlert& item) { return ReadAlert(in, item, limits); });
}

}  // namespace gsoc
