#include "collectors/framing/stream_framer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace gsoc {
namespace {

using namespace std::string_literals;

struct Collected {
  std::vector<std::string> frames;
  int oversize = 0;
  FrameError error = FrameError::kNone;
  bool truncated = false;
  size_t max_tail = 0;  // largest unconsumed tail the caller had to keep
};

// Feeds `input` the way a TCP session does: `chunk` bytes per read appended to
// the unconsumed tail; then Finish.
Collected FrameAll(StreamFramer& framer, std::string_view input, size_t chunk, bool finish = true) {
  Collected out;
  std::string buffer;
  size_t offset = 0;
  while (offset < input.size()) {
    const size_t n = std::min(chunk, input.size() - offset);
    buffer.append(input.substr(offset, n));
    offset += n;
    const char* begin = buffer.data();
    const char* end = begin + buffer.size();
    const FeedResult result = framer.Feed(
        buffer,
        [&](std::string_view frame) {
          EXPECT_TRUE(frame.data() >= begin && frame.data() + frame.size() <= end)
              << "frames are views into the input";
          EXPECT_LE(frame.size(), framer.max_message_size());
          EXPECT_FALSE(frame.empty());
          out.frames.emplace_back(frame);
        },
        [&] { ++out.oversize; });
    EXPECT_LE(result.consumed, buffer.size());
    if (result.error != FrameError::kNone) {
      out.error = result.error;
      return out;
    }
    buffer.erase(0, result.consumed);
    out.max_tail = std::max(out.max_tail, buffer.size());
  }
  if (finish) {
    const std::string_view last = framer.Finish(buffer, &out.truncated);
    if (!last.empty()) out.frames.emplace_back(last);
  }
  return out;
}

Collected Frame(std::string_view input, FramingMode mode = FramingMode::kSyslog, size_t max = 8192,
                size_t chunk = SIZE_MAX) {
  StreamFramer framer(mode, max);
  return FrameAll(framer, input, chunk == SIZE_MAX ? std::max<size_t>(input.size(), 1) : chunk);
}

using Frames = std::vector<std::string>;

const std::string kMixed =
    "16 <1>1 - - - - - -"                // octet counted, no separator
    "<2>1 - - - - - - lf frame\n"        // LF
    "17 <3>1 - - - - - -x"               // octet counted right after
    "<4>1 - - - - - - crlf frame\r\n"    // CRLF, CR stripped
    "<5>1 - - - - - - nul frame\0"s      // NUL trailer
    "5 hello"                            // octet counted again
    "\n\r\n\0"s                          // empty frames are skipped
    "2024-01-05T10:00:00 host app: x\n"  // digits not followed by SP
    "12345678901234,csv,row\n"           // long digit run, no SP
    "<6>1 no final newline";             // returned by Finish
const Frames kMixedFrames = {"<1>1 - - - - - -",
                             "<2>1 - - - - - - lf frame",
                             "<3>1 - - - - - -x",
                             "<4>1 - - - - - - crlf frame",
                             "<5>1 - - - - - - nul frame",
                             "hello",
                             "2024-01-05T10:00:00 host app: x",
                             "12345678901234,csv,row",
                             "<6>1 no final newline"};

TEST(StreamFramer, BothFramingsMixedOnOneStream) {
  const Collected c = Frame(kMixed);
  EXPECT_EQ(c.error, FrameError::kNone);
  EXPECT_EQ(c.frames, kMixedFrames);
  EXPECT_EQ(c.oversize, 0);
  EXPECT_FALSE(c.truncated);
}

TEST(StreamFramer, ByteAtATime) {
  const Collected c = Frame(kMixed, FramingMode::kSyslog, 8192, 1);
  EXPECT_EQ(c.error, FrameError::kNone);
  EXPECT_EQ(c.frames, kMixedFrames);
}

TEST(StreamFramer, SplitAtEveryPosition) {
  for (size_t split = 0; split <= kMixed.size(); ++split) {
    StreamFramer framer(FramingMode::kSyslog, 8192);
    Collected c;
    std::string buffer = kMixed.substr(0, split);
    auto on_frame = [&](std::string_view f) { c.frames.emplace_back(f); };
    auto on_oversize = [&] { ++c.oversize; };
    FeedResult r = framer.Feed(buffer, on_frame, on_oversize);
    ASSERT_EQ(r.error, FrameError::kNone) << split;
    buffer.erase(0, r.consumed);
    buffer += kMixed.substr(split);
    r = framer.Feed(buffer, on_frame, on_oversize);
    ASSERT_EQ(r.error, FrameError::kNone) << split;
    buffer.erase(0, r.consumed);
    const std::string_view last = framer.Finish(buffer, &c.truncated);
    if (!last.empty()) c.frames.emplace_back(last);
    EXPECT_EQ(c.frames, kMixedFrames) << "split at " << split;
  }
}

// A caller that frames at most N at a time (a batch's room) gets every frame
// of the mixed stream, in order, with the rest presented again each time.
TEST(StreamFramer, MaxFramesStopsAfterTheLastAndTheRestComesAgain) {
  for (size_t max_frames = 1; max_frames <= 3; ++max_frames) {
    StreamFramer framer(FramingMode::kSyslog, 8192);
    Frames frames;
    std::string buffer = kMixed;
    for (int calls = 0; calls < 100; ++calls) {
      size_t framed = 0;
      const FeedResult r = framer.Feed(
          buffer,
          [&](std::string_view f) {
            frames.emplace_back(f);
            ++framed;
          },
          [] {}, max_frames);
      ASSERT_EQ(r.error, FrameError::kNone);
      ASSERT_LE(framed, max_frames);
      buffer.erase(0, r.consumed);
      if (framed < max_frames) break;  // not stopped by the limit: all framed
    }
    bool truncated = false;
    const std::string_view last = framer.Finish(buffer, &truncated);
    if (!last.empty()) frames.emplace_back(last);
    EXPECT_EQ(frames, kMixedFrames) << "max_frames " << max_frames;
  }
  // consumed ends right after the limit's frame: octet-counted and LF.
  StreamFramer framer(FramingMode::kSyslog, 8192);
  EXPECT_EQ(framer
                .Feed(
                    "5 hello5 world", [](std::string_view) {}, [] {}, 1)
                .consumed,
            7u);
  EXPECT_EQ(framer
                .Feed(
                    "ab\ncd\n", [](std::string_view) {}, [] {}, 1)
                .consumed,
            3u);
}

TEST(StreamFramer, NulTrailer) {
  EXPECT_EQ(Frame("<1>1 a\0<2>1 b\0"s).frames, (Frames{"<1>1 a", "<2>1 b"}));
  // In lines mode NUL is content.
  EXPECT_EQ(Frame("a\0b\n"s, FramingMode::kLinesOnly).frames, (Frames{"a\0b"s}));
}

TEST(StreamFramer, CrlfStripsOneCr) {
  EXPECT_EQ(Frame("a\r\nb\r\r\nc\r\0"s).frames, (Frames{"a", "b\r", "c\r"}));
  EXPECT_EQ(Frame("{\"a\":1}\r\n", FramingMode::kLinesOnly).frames, (Frames{"{\"a\":1}"}));
  EXPECT_EQ(Frame("\r\n\r\n").frames, Frames{});
}

TEST(StreamFramer, LinesOnlyHasNoOctetCounting) {
  const Collected c = Frame("16 <1>1 - - - - - -\n0 x\n", FramingMode::kLinesOnly);
  EXPECT_EQ(c.error, FrameError::kNone);
  EXPECT_EQ(c.frames, (Frames{"16 <1>1 - - - - - -", "0 x"}));
}

TEST(StreamFramer, NoFinalNewlineAndFinish) {
  Collected c = Frame("a\nb\r");
  EXPECT_EQ(c.frames, (Frames{"a", "b"}));
  EXPECT_FALSE(c.truncated);
  c = Frame("{\"x\":1}", FramingMode::kLinesOnly);
  EXPECT_EQ(c.frames, (Frames{"{\"x\":1}"}));
}

TEST(StreamFramer, IncompleteOctetFrameAtEof) {
  Collected c = Frame("5 hello16 <1>1");
  EXPECT_EQ(c.frames, (Frames{"hello"}));
  EXPECT_TRUE(c.truncated);
  c = Frame("5 hello16 ");
  EXPECT_EQ(c.frames, (Frames{"hello"}));
  EXPECT_TRUE(c.truncated);
}

TEST(StreamFramer, BadOctetCounts) {
  // Thousands of leading zeros.
  std::string zeros = "5 hello" + std::string(5000, '0') + "5 world";
  Collected c = Frame(zeros, FramingMode::kSyslog, 65536);
  EXPECT_EQ(c.error, FrameError::kBadOctetCount);
  EXPECT_EQ(c.frames, (Frames{"hello"}));
  c = Frame(zeros, FramingMode::kSyslog, 65536, 7);
  EXPECT_EQ(c.error, FrameError::kBadOctetCount);

  EXPECT_EQ(Frame("12345678901 x").error, FrameError::kBadOctetCount);  // 11 digits
  EXPECT_EQ(Frame("0 x").error, FrameError::kBadOctetCount);
  EXPECT_EQ(Frame("0000000000 x").error, FrameError::kBadOctetCount);
  EXPECT_EQ(Frame("8193 x").error, FrameError::kOctetCountTooLarge);
  EXPECT_EQ(Frame("9999999999 x").error, FrameError::kOctetCountTooLarge);  // 10 digits
  EXPECT_EQ(Frame("16 <1>1 - - - - - -", FramingMode::kSyslog, 10).error,
            FrameError::kOctetCountTooLarge);
  // Up to 10 digits with leading zeros is fine.
  c = Frame("0000000005 hello");
  EXPECT_EQ(c.error, FrameError::kNone);
  EXPECT_EQ(c.frames, (Frames{"hello"}));

  // consumed stops before the bad frame.
  StreamFramer framer(FramingMode::kSyslog, 100);
  const FeedResult r = framer.Feed(
      "a\n101 x", [](std::string_view) {}, [] {});
  EXPECT_EQ(r.error, FrameError::kOctetCountTooLarge);
  EXPECT_EQ(r.consumed, 2u);
  EXPECT_EQ(FrameErrorName(r.error), "octet_count_too_large");
  EXPECT_EQ(FrameErrorName(FrameError::kBadOctetCount), "bad_octet_count");
  EXPECT_EQ(FrameErrorName(FrameError::kNone), "none");
}

TEST(StreamFramer, MaxSizeBoundary) {
  const std::string max(100, 'm');
  for (size_t chunk : {1, 7, 100, 101, 1000}) {
    Collected c = Frame(max + "\n" + max + "x\nok\n", FramingMode::kSyslog, 100, chunk);
    EXPECT_EQ(c.frames, (Frames{max, "ok"})) << chunk;
    EXPECT_EQ(c.oversize, 1) << chunk;
    EXPECT_LE(c.max_tail, 101u);
    c = Frame(max + "\r\n" + max + "x\r\nok", FramingMode::kLinesOnly, 100, chunk);
    EXPECT_EQ(c.frames, (Frames{max, "ok"})) << chunk;
    EXPECT_EQ(c.oversize, 1) << chunk;
    c = Frame("100 " + max + "3 abc", FramingMode::kSyslog, 100, chunk);
    EXPECT_EQ(c.frames, (Frames{max, "abc"})) << chunk;
  }
}

TEST(StreamFramer, OversizeLineDiscardedAcrossCalls) {
  constexpr size_t kMax = 64 * 1024;
  for (FramingMode mode : {FramingMode::kSyslog, FramingMode::kLinesOnly}) {
    std::string input = "first\n" + std::string(10 * 1024 * 1024, 'x') + "\nafter\n";
    input += std::string(3 * kMax, 'y') + "\r\nlast";
    StreamFramer framer(mode, kMax);
    const Collected c = FrameAll(framer, input, 64 * 1024);
    EXPECT_EQ(c.error, FrameError::kNone);
    EXPECT_EQ(c.frames, (Frames{"first", "after", "last"}));
    EXPECT_EQ(c.oversize, 2);
    EXPECT_LE(c.max_tail, kMax + 1);
  }
  // Discarding at EOF: Finish returns nothing.
  StreamFramer framer(FramingMode::kLinesOnly, 16);
  const Collected c = FrameAll(framer, std::string(100, 'z'), 10);
  EXPECT_EQ(c.oversize, 1);
  EXPECT_TRUE(c.frames.empty());
  EXPECT_FALSE(c.truncated);
}

TEST(StreamFramer, OpenSshReplay) {
  std::ifstream in(GSOC_CORPUS_DIR "/loghub/OpenSSH/OpenSSH_2k.log", std::ios::binary);
  ASSERT_TRUE(in) << "corpus missing";
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_NE(log.back(), '\n') << "the corpus file has no final newline";
  for (FramingMode mode : {FramingMode::kSyslog, FramingMode::kLinesOnly}) {
    StreamFramer framer(mode, 64 * 1024);
    const Collected c = FrameAll(framer, log, 4096);
    EXPECT_EQ(c.error, FrameError::kNone);
    EXPECT_EQ(c.oversize, 0);
    ASSERT_EQ(c.frames.size(), 2000u);
    for (const std::string& frame : c.frames) {
      EXPECT_EQ(frame.find('\r'), std::string::npos);
      EXPECT_EQ(frame.find('\n'), std::string::npos);
    }
    EXPECT_EQ(c.frames.front().substr(0, 15), "Dec 10 06:55:46");
  }
}

TEST(StreamFramer, ManyNulFramesAreLinear) {
  // NUL-terminated frames with no LF anywhere must not rescan for LF per frame.
  std::string input;
  for (int i = 0; i < 200000; ++i) input += "<1>1 - - - - - - m\0"s;
  StreamFramer framer(FramingMode::kSyslog, 8192);
  size_t frames = 0;
  const FeedResult r = framer.Feed(
      input, [&](std::string_view) { ++frames; }, [] {});
  EXPECT_EQ(r.consumed, input.size());
  EXPECT_EQ(frames, 200000u);
}

}  // namespace
}  // namespace gsoc
