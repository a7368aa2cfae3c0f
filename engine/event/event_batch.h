// EventBatch: the unit that crosses every stage boundary.
//
// Owns its events, their fields and the bytes they point to (one ByteArena).
// Clear() keeps the capacity the last fill used, so a pooled batch allocates
// nothing once warm, and a batch once filled big does not stay big.
// Fields of an event are contiguous. Adding a field to the last event is an
// append; adding one to an earlier event (a later stage, e.g. decoders) first
// moves that event's field views to the end of the table. Not thread-safe;
// handed from thread to thread through the queue.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "engine/event/byte_arena.h"
#include "engine/event/event.h"

namespace gsoc {

class EventBatch {
 public:
  EventBatch() = default;
  EventBatch(const EventBatch&) = delete;
  EventBatch& operator=(const EventBatch&) = delete;

  // Appends a default event and returns it; fields_begin is set.
  Event& AddEvent();
  // Drops the last event (and its fields), e.g. when a collector refuses it.
  void PopEvent();
  // Appends a field to `event` (an event of this batch).
  void AddField(Event& event, std::string_view name, std::string_view value);

  std::span<Event> events() { return events_; }
  std::span<const Event> events() const { return events_; }
  std::span<const Field> FieldsOf(const Event& event) const {
    return {fields_.data() + event.fields_begin, event.fields_count};
  }
  // For a stage that renames fields in place (names and values stay views).
  std::span<Field> MutableFieldsOf(const Event& event) {
    return {fields_.data() + event.fields_begin, event.fields_count};
  }
  // Value of the first field named `name`, or empty.
  std::string_view FieldValue(const Event& event, std::string_view name) const;

  ByteArena& arena() { return arena_; }
  size_t size() const { return events_.size(); }
  bool empty() const { return events_.empty(); }
  size_t bytes() const { return arena_.bytes_used(); }
  // The memory the batch holds: arena blocks and the event and field tables.
  size_t memory() const {
    return arena_.bytes_reserved() + events_.capacity() * sizeof(Event) +
           fields_.capacity() * sizeof(Field);
  }
  void Clear();

 private:
  std::vector<Event> events_;
  std::vector<Field> fields_;
  ByteArena arena_;
};

}  // namespace gsoc
