#include "engine/event/field_access.h"

namespace gsoc {

namespace {

std::string_view SmallNumberText(int value) {
  static const char* const kText[] = {"0",  "1",  "2",  "3",  "4",  "5",  "6",  "7",
                                      "8",  "9",  "10", "11", "12", "13", "14", "15",
                                      "16", "17", "18", "19", "20", "21", "22", "23"};
  return value >= 0 && value < 24 ? std::string_view(kText[value]) : std::string_view();
}

FieldLookup Header(std::string_view value) { return {!value.empty(), value}; }

}  // namespace

FieldLookup GetField(const EventBatch& batch, const Event& event, std::string_view name) {
  // Extracted fields first: a JSON member or decoder field named like a
  // header field (e.g. JSON "host") is what the sender meant.
  for (const Field& field : batch.FieldsOf(event)) {
    if (field.name == name) return {true, field.value};
  }
  if (name == "message") return {true, event.message};
  if (name == "host") return Header(event.host);
  if (name == "program") return Header(event.program);
  if (name == "pid") return Header(event.pid);
  if (name == "msgid") return Header(event.msgid);
  if (name == "facility") return Header(SmallNumberText(event.facility));
  if (name == "severity") return Header(SmallNumberText(event.severity));
  return {};
}

}  // namespace gsoc
