#include "engine/event/event_batch.h"

namespace gsoc {

Event& EventBatch::AddEvent() {
  Event& event = events_.emplace_back();
  event.fields_begin = static_cast<uint32_t>(fields_.size());
  return event;
}

void EventBatch::PopEvent() {
  if (events_.empty()) return;
  fields_.resize(events_.back().fields_begin);
  events_.pop_back();
}

void EventBatch::AddField(Event& event, std::string_view name, std::string_view value) {
  if (event.fields_begin + event.fields_count != fields_.size()) {
    // Not the last event's range (a later stage adds fields): move the
    // event's fields to the end first. Copies views only.
    const uint32_t begin = static_cast<uint32_t>(fields_.size());
    for (uint32_t i = 0; i < event.fields_count; ++i) {
      fields_.push_back(fields_[event.fields_begin + i]);
    }
    event.fields_begin = begin;
  }
  fields_.push_back(Field{name, value});
  ++event.fields_count;
}

std::string_view EventBatch::FieldValue(const Event& event, std::string_view name) const {
  for (const Field& field : FieldsOf(event)) {
    if (field.name == name) return field.value;
  }
  return {};
}

namespace {

// Clears `table`, and lets go of capacity far beyond what this fill used
// (8x: batches of a steady stream vary in size without reallocating).
template <typename T>
void ClearKeepingRecentUse(std::vector<T>& table) {
  const size_t used = table.size();
  table.clear();
  if (table.capacity() <= 8 * used + 256) return;
  std::vector<T> smaller;
  smaller.reserve(used);
  table.swap(smaller);
}

}  // namespace

void EventBatch::Clear() {
  ClearKeepingRecentUse(events_);
  ClearKeepingRecentUse(fields_);
  arena_.Reset();
}

}  // namespace gsoc
