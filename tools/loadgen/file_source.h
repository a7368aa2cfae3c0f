// --file replay: the lines of files as they are (CR/LF stripped, empty lines
// skipped), optionally wrapped with "<13>Mmm dd hh:mm:ss HOSTNAME ".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tools/loadgen/message_writer.h"
#include "tools/loadgen/timestamps.h"

namespace gsoc::loadgen {

// Appends the non-empty lines of `text` to `lines`.
void SplitLines(std::string_view text, std::vector<std::string>& lines);

// Reads all files in order. Returns false with `error` set if one can't be read.
bool ReadLines(const std::vector<std::string>& paths, std::vector<std::string>& lines,
               std::string& error);

// The line as a message: unchanged, or with a PRI + RFC 3164 header.
RenderedMessage LineMessage(std::string_view line, bool wrap, std::string_view hostname,
                            const TimestampSet& now);

}  // namespace gsoc::loadgen
