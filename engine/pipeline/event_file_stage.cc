#include "engine/pipeline/event_file_stage.h"

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "engine/util/json_writer.h"
#include "engine/util/time_format.h"

namespace gsoc {

namespace {

// The peer address as text, in a caller's buffer (no allocation per event).
std::string_view PeerText(const PeerAddress& peer, char (&text)[INET6_ADDRSTRLEN]) {
  text[0] = '\0';
  if (peer.IsV4()) {
    inet_ntop(AF_INET, peer.bytes.data() + 12, text, sizeof(text));
  } else {
    inet_ntop(AF_INET6, peer.bytes.data(), text, sizeof(text));
  }
  return text;
}

void AppendKey(std::string& out, const char* key) {
  out += ",\"";
  out += key;
  out += "\":";
}

void AppendStringMember(std::string& out, const char* key, std::string_view value) {
  AppendKey(out, key);
  AppendJsonString(out, value);
}

const std::string& NameOr(const std::vector<std::string>& names, size_t index) {
  static const std::string kUnknown = "unknown";
  return index < names.size() ? names[index] : kUnknown;
}

}  // namespace

void AppendEventJson(std::string& out, const EventBatch& batch, const Event& event,
                     const std::vector<std::string>& listener_names,
                     const std::vector<std::string>& agency_names) {
  char time_text[32];
  out += "{\"time\":";
  AppendJsonString(out, FormatRfc3339Millis(event.event_time_ns, time_text));
  AppendStringMember(out, "receive_time", FormatRfc3339Millis(event.receive_time_ns, time_text));
  AppendStringMember(out, "agency", NameOr(agency_names, event.agency));
  AppendStringMember(out, "listener", NameOr(listener_names, event.listener));
  char peer_text[INET6_ADDRSTRLEN];
  AppendStringMember(out, "peer", PeerText(event.peer, peer_text));
  AppendStringMember(out, "format", FormatName(event.format));
  AppendKey(out, "parse_error");
  out += event.parse_error ? "true" : "false";
  if (event.facility != kNoValue) {
    AppendKey(out, "facility");
    out += std::to_string(event.facility);
  }
  if (event.severity != kNoValue) {
    AppendKey(out, "severity");
    out += std::to_string(event.severity);
  }
  if (!event.host.empty()) AppendStringMember(out, "host", event.host);
  if (!event.program.empty()) AppendStringMember(out, "program", event.program);
  if (!event.pid.empty()) AppendStringMember(out, "pid", event.pid);
  if (!event.msgid.empty()) AppendStringMember(out, "msgid", event.msgid);
  if (!event.structured_data.empty()) {
    AppendStringMember(out, "structured_data", event.structured_data);
  }
  AppendStringMember(out, "message", event.message);
  AppendKey(out, "fields");
  out.push_back('{');
  bool first = true;
  for (const Field& field : batch.FieldsOf(event)) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(out, field.name);
    out.push_back(':');
    AppendJsonString(out, field.value);
  }
  out.push_back('}');
  AppendStringMember(out, "raw", event.raw);
  out += "}\n";
}

EventFileStage::EventFileStage(const std::filesystem::path& path,
                               std::vector<std::string> listener_names,
                               std::vector<std::string> agency_names)
    : listener_names_(std::move(listener_names)), agency_names_(std::move(agency_names)) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  file_ = std::fopen(path.c_str(), "ae");
  if (!file_) {
    throw std::runtime_error("events_file: cannot open " + path.string() + ": " +
                             std::strerror(errno));
  }
}

EventFileStage::~EventFileStage() {
  if (file_) std::fclose(file_);
}

void EventFileStage::Process(EventBatch& batch) {
  thread_local std::string buffer;
  buffer.clear();
  for (const Event& event : batch.events()) {
    AppendEventJson(buffer, batch, event, listener_names_, agency_names_);
  }
  std::lock_guard lock(mutex_);
  std::fwrite(buffer.data(), 1, buffer.size(), file_);
  std::fflush(file_);  // one write per batch keeps the file current for readers
}

void EventFileStage::Flush() {
  std::lock_guard lock(mutex_);
  std::fflush(file_);
}

}  // namespace gsoc
