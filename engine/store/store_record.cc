// Records read back as alerts: the JSON of a record 3 is rendered from its
// binary detail (store_format.h, engine/alert/alert_codec.h).
#include <limits>

#include "engine/alert/alert_codec.h"
#include "engine/store/store_internal.h"

namespace gsoc::store {
namespace detail {

namespace {
// A record is the store's own: its counts are bounded by its bytes alone.
constexpr AlertDetailLimits kRecordLimits{std::numeric_limits<size_t>::max(),
                                          std::numeric_limits<size_t>::max(),
                                          std::numeric_limits<size_t>::max()};
}  // namespace

bool RenderRecordJson(uint64_t id, const RecordView& view, std::string& json) {
  json.clear();
  if (view.body_is_json) {
    json.assign(view.body);
    return true;
  }
  Alert alert;
  alert.id = id;
  alert.time_ns = view.time_ns;
  alert.kind = view.kind;
  alert.rule.level = view.level;
  alert.rule.id.assign(view.rule_id);
  alert.rule.name.assign(view.rule_name);
  alert.agency.assign(view.agency);
  wire::WireReader in(view.body);
  if (!ReadAlertDetail(in, alert, kRecordLimits) || !in.at_end()) {
    spdlog::warn("alert store: record {} does not decode: {} at byte {}", id,
                 in.ok() ? std::string_view("trailing bytes") : in.error().reason, in.offset());
    return false;
  }
  json.reserve(512 + view.body.size());
  AppendAlertJson(json, alert);
  return true;
}

bool FromView(uint64_t id, const RecordView& view, StoredAlert& out) {
  if (!RenderRecordJson(id, view, out.json)) return false;
  out.id = id;
  out.time_ns = view.time_ns;
  out.commit_ns = view.commit_ns;
  out.level = view.level;
  out.kind = view.kind;
  out.rule_id.assign(view.rule_id);
  out.rule_name.assign(view.rule_name);
  out.agency.assign(view.agency);
  return true;
}

}  // namespace detail
}  // namespace gsoc::store
