// Fuzzes the Sigma parse cache's entry decoder (engine/rules/sigma_cache.h):
// what a cache file holds for one rule file is read back as that file's
// rules, filters and refusals, then compiled. The cache directory is this
// user's alone (engine/util/private_dir.h) and each file ends with a
// SHA-256, but a disk error, a truncated write or a bug in another build
// must still never crash a load. DecodeLoadResult either refuses or gives
// a result that encodes to bytes it decodes again to the same bytes; an
// accepted result with a few rules is compiled (the matcher must refuse
// what it cannot run, e.g. a condition naming a selection that is not
// there). Seeds: the encodings of shipped and SigmaHQ rule files.
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/match/matcher.h"
#include "engine/rules/sigma_cache.h"
#include "tests/fuzz/fuzz_util.h"

using gsoc::fuzz::Check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  gsoc::rules::LoadResult part;
  if (!gsoc::rules::internal::DecodeLoadResult(in, &part)) return 0;
  std::string encoded;
  gsoc::rules::internal::EncodeLoadResult(encoded, part);
  gsoc::rules::LoadResult again;
  Check(gsoc::rules::internal::DecodeLoadResult(encoded, &again));
  std::string reencoded;
  gsoc::rules::internal::EncodeLoadResult(reencoded, again);
  Check(reencoded == encoded);
  if (part.rules.empty() || part.rules.size() > 4) return 0;
  gsoc::match::CompileOptions options;  // no cache: the compile itself is under test
  const auto compiled = gsoc::match::Matcher::Compile(std::move(part.rules), options);
  Check(compiled.matcher != nullptr);
  return 0;
}
