// The web console's built files (web/console), embedded into gsocd by the
// build: web/console/cmake/embed.cmake writes the table from the files the
// front-end build produced (an empty table when GSOC_CONSOLE is OFF).
#pragma once

#include <span>
#include <string_view>

namespace gsoc::api {

struct ConsoleAsset {
  std::string_view path;          // "/index.html", "/assets/app-3FQ2LX7A.js"
  std::string_view content_type;  // "text/html; charset=utf-8" ...
  std::string_view data;
  bool immutable;  // the name carries a content hash: cache it for a year
};

std::span<const ConsoleAsset> ConsoleAssets();

}  // namespace gsoc::api
