// Helpers shared by the decoder tests: parse a syslog line, decode it, and
// return the decoder name and fields as plain strings.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/syslog/syslog_parser.h"
#include "engine/decode/decoder.h"

namespace gsoc::decode::testing {

struct Decoded {
  std::string decoder;
  std::map<std::string, std::string> fields;  // first value of each name
  std::vector<std::string> names;             // every field name in order
  std::string program;
  std::string message;

  bool Has(const std::string& name) const { return fields.count(name) != 0; }
  std::string Get(const std::string& name) const {
    auto it = fields.find(name);
    return it == fields.end() ? std::string() : it->second;
  }
};

inline Decoded DecodeLine(const DecoderSet& set, DecoderSet::Scratch& scratch,
                          std::string_view line, uint16_t listener = 0, uint16_t agency = 0) {
  EventBatch batch;
  const std::string_view frame = batch.arena().Copy(line);
  Event& event = batch.AddEvent();
  event.listener = listener;
  event.agency = agency;
  EventFormat failed = EventFormat::kUnparsed;
  ParseSyslog(frame, SyslogParseContext{}, event, batch, &failed);
  Decoded out;
  out.decoder = std::string(set.Decode(batch, event, scratch));
  for (const Field& field : batch.FieldsOf(event)) {
    out.names.emplace_back(field.name);
    out.fields.emplace(std::string(field.name), std::string(field.value));
  }
  out.program = std::string(event.program);
  out.message = std::string(event.message);
  return out;
}

// The decoder chosen for `text` logged by `program` (with its pid, e.g. "sshd[1]").
inline std::string DecoderOf(const DecoderSet& set, DecoderSet::Scratch& scratch,
                             const std::string& program, const std::string& text) {
  return DecodeLine(set, scratch, "<38>Nov 25 10:00:01 h " + program + ": " + text).decoder;
}

inline std::vector<std::string> ReadLines(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

// One CSV record (RFC 4180 quoting), no embedded newlines.
inline std::vector<std::string> SplitCsv(std::string_view line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cells.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cells.back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.emplace_back();
    } else {
      cells.back().push_back(c);
    }
  }
  return cells;
}

inline std::filesystem::path PackDir() {
  return std::filesystem::path(GSOC_SOURCE_DIR) / "rules" / "decoders";
}

inline std::filesystem::path CorpusDir() { return std::filesystem::path(GSOC_CORPUS_DIR); }

}  // namespace gsoc::decode::testing
