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
  fields_.push_back(Field{name, value});
  ++event.fields_count;
}

std::string_view EventBatch::FieldValue(const Event& event, std::string_view name) const {
  for (const Field& field : FieldsOf(event)) {
    if (field.name == name) return field.value;
  }
  return {};
}

void EventBatch::Clear() {
  events_.clear();
  fields_.clear();
  arena_.Reset();
}

}  // namespace gsoc
