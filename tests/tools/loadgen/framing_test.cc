#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tools/loadgen/message_buffer.h"
#include "tools/loadgen/templates.h"

namespace gsoc::loadgen {
namespace {

const TimestampSet kTime(1700000000, 0);

std::vector<RenderedMessage> Messages(size_t n) {
  return RenderTemplates(TemplateKind::kMix, "host", 11, n, kTime);
}

MessageBuffer BufferOf(Framing framing, const std::vector<RenderedMessage>& messages) {
  MessageBuffer buffer(framing);
  for (const auto& m : messages) buffer.Add(m);
  return buffer;
}

// Parses "LEN SP MSG" frames until the input is used up.
std::vector<std::string> ParseOctetFrames(std::string_view bytes) {
  std::vector<std::string> frames;
  while (!bytes.empty()) {
    const size_t space = bytes.find(' ');
    EXPECT_NE(space, std::string_view::npos);
    EXPECT_LE(space, 10u);
    const size_t length = std::stoul(std::string(bytes.substr(0, space)));
    EXPECT_LE(space + 1 + length, bytes.size());
    frames.emplace_back(bytes.substr(space + 1, length));
    bytes.remove_prefix(std::min(bytes.size(), space + 1 + length));
  }
  return frames;
}

TEST(Framing, OctetCountingRoundTrip) {
  const auto messages = Messages(3000);
  const MessageBuffer buffer = BufferOf(Framing::kOctet, messages);
  ASSERT_EQ(buffer.size(), messages.size());
  const auto frames = ParseOctetFrames(buffer.Frames(0, buffer.size()));
  ASSERT_EQ(frames.size(), messages.size());
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i], messages[i].text);
    EXPECT_EQ(buffer.Payload(i), messages[i].text);
  }
  // Any sub-range is whole frames too.
  EXPECT_EQ(ParseOctetFrames(buffer.Frames(100, 200)).size(), 100u);
}

TEST(Framing, LfFramingOneLinePerMessage) {
  const auto messages = Messages(3000);
  const MessageBuffer buffer = BufferOf(Framing::kLf, messages);
  const std::string_view bytes = buffer.Frames(0, buffer.size());
  ASSERT_EQ(bytes.back(), '\n');
  EXPECT_EQ(static_cast<size_t>(std::count(bytes.begin(), bytes.end(), '\n')), messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    EXPECT_EQ(buffer.Payload(i), messages[i].text);
    EXPECT_EQ(buffer.Frames(i, i + 1), messages[i].text + "\n");
  }
}

TEST(Framing, LfFramingReplacesEmbeddedLineBreaks) {
  std::string out;
  AppendFramed(Framing::kLf, "a\nb\r\nc", out);
  EXPECT_EQ(out, "a b  c\n");
}

TEST(Framing, OctetAndBareAppend) {
  std::string out;
  EXPECT_EQ(AppendFramed(Framing::kOctet, "hello", out), 2u);
  EXPECT_EQ(AppendFramed(Framing::kNone, "bye", out), 7u);
  EXPECT_EQ(out, "5 hellobye");
}

TEST(MessageBuffer, MessagesWithinRespectsByteLimit) {
  MessageBuffer buffer(Framing::kNone);
  for (int i = 0; i < 10; ++i) buffer.Add(RenderedMessage{std::string(100, 'x'), {}});
  EXPECT_EQ(buffer.MessagesWithin(0, 10, 1000), 10u);
  EXPECT_EQ(buffer.MessagesWithin(0, 10, 999), 9u);
  EXPECT_EQ(buffer.MessagesWithin(5, 10, 250), 2u);
  EXPECT_EQ(buffer.MessagesWithin(5, 3, 10000), 3u);
  EXPECT_EQ(buffer.MessagesWithin(9, 10, 10), 1u);  // always at least one
}

}  // namespace
}  // namespace gsoc::loadgen
