// The binary encoding of an alert's detail: everything of an Alert except
// its id, time, kind, level, rule id and name, and agency, which the
// containers keep themselves (the alert store's record head, the cluster's
// alerts message; each writes them before the detail). One encoding serves
// both, so an alert round-trips through either without JSON.
//
// Layout (wire_format.h primitives; text = varint length + bytes):
//   text title | varint n + n x text tag | u64 revision |
//   pairs group | zigzag window_start | zigzag window_end | varint count |
//   text correlation_type | u64 bits of value | text condition |
//   varint suppressed | pairs fields |
//   varint n + n x (varint id | zigzag time | text raw) events |
//   u64 aggregate_key | varint aggregate_version | zigzag opened | zigzag closes |
//   varint replaces
//   (pairs = varint n + n x (text name | text value))
//
// Reading checks every count and length against the input's own bounds and
// `limits` (the reader's failure sticks, wire::WireReader): a cluster
// message is untrusted, a store record is the store's own but may be torn.
// Decoding allocates per alert (it owns its strings). Pure functions.
#pragma once

#include <cstddef>
#include <string>

#include "engine/alert/alert.h"
#include "engine/util/wire_format.h"

namespace gsoc {

struct AlertDetailLimits {
  size_t max_pairs = 4096;   // group or field pairs of one alert, each
  size_t max_tags = 256;     // tags of one rule
  size_t max_events = 1024;  // contributing events of one alert
};

// The least bytes a detail takes (every member at its shortest).
inline constexpr size_t kMinAlertDetailBytes = 39;

void AppendAlertDetail(std::string& out, const Alert& alert);

// Reads what AppendAlertDetail wrote into `alert`'s detail members; false
// (with the reason in `in`) on malformed input.
bool ReadAlertDetail(wire::WireReader& in, Alert& alert, const AlertDetailLimits& limits);

}  // namespace gsoc
