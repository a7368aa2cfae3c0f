// Fuzzes the indicator list loader (engine/indicators) with arbitrary file
// contents: the input is written to a regular file and loaded; the first
// byte picks tight or default limits and the one-value-a-line or the CSV
// form (column `indicator`). A refusal must be a std::runtime_error that
// names the file; a loaded list must respect its limits, and looking up
// every line of the input (exact and substring) must not crash.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "engine/indicators/indicator_list.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using gsoc::fuzz::Check;
using gsoc::fuzz::Sink;

void RemoveListFile();

// A file of this process under the temp folder, removed at exit (registered
// after the path is built, so the handler runs before its destructor).
const std::filesystem::path& ListFile() {
  static const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                            ("gsoc-fuzz-list-" + std::to_string(getpid()) + ".txt");
  static const bool registered = std::atexit(RemoveListFile) == 0;
  (void)registered;
  return path;
}

void RemoveListFile() {
  std::error_code ignored;
  std::filesystem::remove(ListFile(), ignored);
}

void Write(std::string_view bytes) {
  FILE* file = std::fopen(ListFile().c_str(), "wb");
  Check(file != nullptr);
  Check(std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size());
  Check(std::fclose(file) == 0);
}

void LookUpLines(const gsoc::indicators::IndicatorList& list, std::string_view text) {
  auto scratch = list.MakeScratch();
  unsigned hits = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    const bool exact = list.Matches(line);
    const bool inside = list.ContainsSubstring(line, *scratch);
    hits += static_cast<unsigned>(exact) + static_cast<unsigned>(inside);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  Sink(hits);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  Write(body);
  gsoc::indicators::ListSource source{.name = "fuzz", .file = ListFile(), .csv_column = {}};
  if (mode & 1) source.csv_column = "indicator";
  gsoc::indicators::ListLimits limits;
  if (mode & 2) limits = {.max_bytes = 4096, .max_entries = 16, .max_entry_bytes = 64};
  try {
    const auto list = gsoc::indicators::IndicatorList::Load(source, limits);
    Check(list != nullptr);
    Check(list->size() <= limits.max_entries);
    Check(body.size() <= limits.max_bytes);
    Check(list->name() == "fuzz");
    LookUpLines(*list, body);
  } catch (const std::runtime_error& error) {
    Check(std::string_view(error.what()).find(ListFile().filename().string()) !=
          std::string_view::npos);
  }
  return 0;
}
