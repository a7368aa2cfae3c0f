// Hostile events and files against the decoders (issue 11, findings 15 and
// 16): a decoder regex crafted for catastrophic backtracking is bounded per
// event and its limit hits are counted per decoder; a decoder file that is
// a FIFO is refused at once instead of blocking the load.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <future>

#include "tests/engine/decode/test_util.h"

namespace gsoc::decode::testing {
namespace {

namespace fs = std::filesystem;

struct Dir {
  fs::path path = fs::temp_directory_path() / ("gsoc_decode_limits_" + std::to_string(::getpid()));
  Dir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Dir() { fs::remove_all(path); }
};

// Hyperscan can only prefilter this regex (a backreference), and its
// prefilter fires on the crafted messages ("aa!"), so PCRE2 runs it from
// the start of each, where the first branch backtracks exponentially. A
// decoder pack from a third party may hold such a regex.
const char* kRedosDecoder =
    "decoders:\n"
    "  - name: redos\n"
    "    regex: '(?<user>zz(\\w*\\s?)*$)|(?<b>(a)\\4!)'\n";

TEST(DecoderLimitsTest, CraftedMessagesAreBoundedAndCountedPerDecoder) {
  Dir dir;
  std::ofstream(dir.path / "d.yaml") << kRedosDecoder;
  auto loaded = DecoderSet::Load({dir.path / "d.yaml"}, {}, {});
  ASSERT_TRUE(loaded.errors.empty()) << loaded.errors[0].message;
  auto scratch = loaded.set->MakeScratch();
  constexpr int kMessages = 100;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kMessages; ++i) {
    const std::string line =
        "<13>Jan  1 00:00:00 host app: zz" + std::string(40 + i % 20, 'a') + "!";
    EXPECT_EQ(DecodeLine(*loaded.set, *scratch, line).decoder, "");
  }
  const double micros =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() /
      kMessages;
  std::printf("crafted messages: %.1f us each through the decoder\n", micros);
  EXPECT_LT(micros, 2000.0);  // without limits: ~10,000 us (JIT) or more
  const auto hits = loaded.set->limit_hits();
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].decoder, "redos");
  EXPECT_EQ(hits[0].hits, static_cast<uint64_t>(kMessages));
  // An ordinary message decodes as before.
  EXPECT_EQ(DecodeLine(*loaded.set, *scratch, "<13>Jan  1 00:00:00 host app: zz word").Get("user"),
            "zz word");
}

TEST(DecoderLimitsTest, LongMessagesNeedTheJitStackNotTheMachineStack) {
  // With PCRE2's default 32 KiB JIT stack this fails on a 4 KB message.
  Dir dir;
  std::ofstream(dir.path / "d.yaml") << "decoders:\n"
                                        "  - name: alt\n"
                                        "    regex: '(?<run>(a|b|c)+) (?<tail>foo)'\n";
  auto loaded = DecoderSet::Load({dir.path / "d.yaml"}, {}, {});
  ASSERT_TRUE(loaded.errors.empty());
  auto scratch = loaded.set->MakeScratch();
  const std::string run(4000, 'a');
  const Decoded decoded =
      DecodeLine(*loaded.set, *scratch, "<13>Jan  1 00:00:00 h app: " + run + " foo");
  EXPECT_EQ(decoded.decoder, "alt");
  EXPECT_EQ(decoded.Get("run").size(), run.size());
  EXPECT_TRUE(loaded.set->limit_hits().empty());
}

TEST(DecoderLimitsTest, FifoDecoderFileIsRefusedWithoutBlocking) {
  Dir dir;
  const fs::path fifo = dir.path / "d.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto future = std::async(std::launch::async, [&] { return DecoderSet::Load({fifo}, {}, {}); });
  if (future.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    // The old loader blocks in open(): give it a writer so the test can end.
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) ::close(fd);
    FAIL() << "loading a FIFO decoder file blocked";
  }
  const auto result = future.get();
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].message.find("not a regular file (a FIFO)"), std::string::npos)
      << result.errors[0].message;
  EXPECT_EQ(result.set, nullptr);
}

}  // namespace
}  // namespace gsoc::decode::testing
