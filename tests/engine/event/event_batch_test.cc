#include "engine/event/event_batch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gsoc {
namespace {

TEST(EventBatchTest, StartsEmpty) {
  EventBatch batch;
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.size(), 0u);
  EXPECT_EQ(batch.bytes(), 0u);
}

TEST(EventBatchTest, AddEventAndFieldsAreContiguous) {
  EventBatch batch;
  Event& a = batch.AddEvent();
  EXPECT_EQ(a.fields_begin, 0u);
  batch.AddField(a, "a1", "v1");
  batch.AddField(a, "a2", "v2");
  Event& b = batch.AddEvent();
  EXPECT_EQ(b.fields_begin, 2u);
  Event& c = batch.AddEvent();  // no fields
  EXPECT_EQ(c.fields_begin, 2u);
  Event& d = batch.AddEvent();
  batch.AddField(d, "d1", "x");
  batch.AddField(d, "d2", "y");
  batch.AddField(d, "d3", "z");

  ASSERT_EQ(batch.size(), 4u);
  auto events = batch.events();
  EXPECT_EQ(events[0].fields_count, 2u);
  EXPECT_EQ(events[1].fields_count, 0u);
  EXPECT_EQ(events[2].fields_count, 0u);
  EXPECT_EQ(events[3].fields_begin, 2u);
  EXPECT_EQ(events[3].fields_count, 3u);

  auto fa = batch.FieldsOf(events[0]);
  ASSERT_EQ(fa.size(), 2u);
  EXPECT_EQ(fa[0].name, "a1");
  EXPECT_EQ(fa[0].value, "v1");
  EXPECT_EQ(fa[1].name, "a2");
  EXPECT_EQ(fa[1].value, "v2");
  EXPECT_TRUE(batch.FieldsOf(events[1]).empty());
  auto fd = batch.FieldsOf(events[3]);
  ASSERT_EQ(fd.size(), 3u);
  EXPECT_EQ(fd[0].name, "d1");
  EXPECT_EQ(fd[2].name, "d3");
  EXPECT_EQ(fd[2].value, "z");
  // Spans are slices of one array: contiguous and adjacent.
  EXPECT_EQ(fd.data(), fa.data() + 2);
}

// A later stage (decoders) adds fields to events that are not the last one:
// the event's fields move to the end of the table and every event keeps
// exactly its own fields.
TEST(EventBatchTest, AddFieldToAnEarlierEventKeepsEveryEventsFields) {
  EventBatch batch;
  Event& first = batch.AddEvent();
  batch.AddField(first, "f1", "a");
  Event& second = batch.AddEvent();
  batch.AddField(second, "s1", "b");
  batch.AddField(batch.events()[0], "f2", "c");  // not the last event
  batch.AddField(batch.events()[1], "s2", "d");
  const auto fields_of = [&](size_t i) {
    std::vector<std::string> out;
    for (const Field& field : batch.FieldsOf(batch.events()[i])) {
      out.push_back(std::string(field.name) + "=" + std::string(field.value));
    }
    return out;
  };
  EXPECT_EQ(fields_of(0), (std::vector<std::string>{"f1=a", "f2=c"}));
  EXPECT_EQ(fields_of(1), (std::vector<std::string>{"s1=b", "s2=d"}));
}

TEST(EventBatchTest, FieldValue) {
  EventBatch batch;
  Event& a = batch.AddEvent();
  batch.AddField(a, "user", "alice");
  batch.AddField(a, "src", "10.0.0.1");
  batch.AddField(a, "user", "bob");  // duplicate: first wins
  Event& b = batch.AddEvent();
  batch.AddField(b, "user", "carol");
  auto events = batch.events();
  EXPECT_EQ(batch.FieldValue(events[0], "user"), "alice");
  EXPECT_EQ(batch.FieldValue(events[0], "src"), "10.0.0.1");
  EXPECT_EQ(batch.FieldValue(events[0], "missing"), "");
  EXPECT_EQ(batch.FieldValue(events[1], "user"), "carol");
  EXPECT_EQ(batch.FieldValue(events[1], "src"), "");  // not another event's field
}

TEST(EventBatchTest, PopEventDropsItsFields) {
  EventBatch batch;
  Event& a = batch.AddEvent();
  batch.AddField(a, "k", "keep");
  Event& b = batch.AddEvent();
  batch.AddField(b, "x", "1");
  batch.AddField(b, "y", "2");
  batch.PopEvent();
  ASSERT_EQ(batch.size(), 1u);
  // A new event starts right after a's fields: b's fields are gone.
  Event& c = batch.AddEvent();
  EXPECT_EQ(c.fields_begin, 1u);
  batch.AddField(c, "z", "3");
  auto events = batch.events();
  ASSERT_EQ(batch.FieldsOf(events[1]).size(), 1u);
  EXPECT_EQ(batch.FieldsOf(events[1])[0].name, "z");
  EXPECT_EQ(batch.FieldValue(events[1], "x"), "");
  EXPECT_EQ(batch.FieldValue(events[0], "k"), "keep");
}

TEST(EventBatchTest, PopEventOnEmptyIsHarmless) {
  EventBatch batch;
  batch.PopEvent();
  EXPECT_TRUE(batch.empty());
  batch.AddEvent();
  batch.PopEvent();
  batch.PopEvent();
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.AddEvent().fields_begin, 0u);
}

TEST(EventBatchTest, ClearResetsEventsFieldsAndBytes) {
  EventBatch batch;
  for (int i = 0; i < 100; ++i) {
    Event& e = batch.AddEvent();
    e.message = batch.arena().Copy("message " + std::to_string(i));
    batch.AddField(e, batch.arena().Copy("n"), batch.arena().Copy(std::to_string(i)));
  }
  EXPECT_EQ(batch.size(), 100u);
  EXPECT_GT(batch.bytes(), 0u);
  EXPECT_EQ(batch.FieldValue(batch.events()[42], "n"), "42");
  batch.Clear();
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.bytes(), 0u);
  Event& e = batch.AddEvent();
  EXPECT_EQ(e.fields_begin, 0u);
  EXPECT_EQ(e.fields_count, 0u);
  EXPECT_TRUE(e.message.empty());
  EXPECT_EQ(e.format, EventFormat::kUnparsed);
  EXPECT_EQ(e.facility, kNoValue);
}

TEST(EventBatchTest, ArenaBytesBackEventViews) {
  EventBatch batch;
  std::string text = "<34>1 2003-10-11T22:14:15.003Z host app - - - msg";
  Event& e = batch.AddEvent();
  e.raw = batch.arena().Copy(text);
  text.assign(text.size(), '#');
  EXPECT_EQ(batch.events()[0].raw, "<34>1 2003-10-11T22:14:15.003Z host app - - - msg");
  EXPECT_EQ(batch.bytes(), e.raw.size());
}

TEST(EventTest, PeerAddressFromV4AndFormatName) {
  PeerAddress peer = PeerAddress::FromV4(0x0a000102, 514);
  EXPECT_TRUE(peer.IsV4());
  EXPECT_EQ(peer.bytes[12], 10);
  EXPECT_EQ(peer.bytes[15], 2);
  EXPECT_EQ(peer.port, 514);
  PeerAddress v6;
  v6.bytes[15] = 1;  // ::1
  EXPECT_FALSE(v6.IsV4());
  EXPECT_EQ(FormatName(EventFormat::kRfc5424), "rfc5424");
  EXPECT_EQ(FormatName(EventFormat::kRfc3164), "rfc3164");
  EXPECT_EQ(FormatName(EventFormat::kJson), "json");
  EXPECT_EQ(FormatName(EventFormat::kUnparsed), "unparsed");
}

}  // namespace
}  // namespace gsoc
