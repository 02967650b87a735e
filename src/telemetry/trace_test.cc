#include "telemetry/trace.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "io/clock.h"
#include "telemetry/redaction.h"

namespace tangelo::telemetry {
namespace {

class TracerTest : public ::testing::Test {
 protected:
  Tracer MakeTracer(double ratio, uint64_t slow_ns = 0) {
    return Tracer({.application = Application::kApi,
                   .head_sampling_ratio = ratio,
                   .slow_span_threshold_ns = slow_ns,
                   .id_seed = 7},
                  &buffer_, &clock_);
  }

  std::vector<SpanRecord> DrainAll() {
    std::vector<SpanRecord> spans;
    buffer_.Drain(&spans, buffer_.capacity());
    return spans;
  }

  io::ManualClock clock_;
  SpanBuffer buffer_{1024};
};

TEST_F(TracerTest, RootSpanRecordsItsLife) {
  Tracer tracer = MakeTracer(1.0);
  const uint64_t start_unix = clock_.RealtimeNs();
  Span span = tracer.StartSpan("POST /v1/authorizations", SpanKind::kServer, nullptr,
                               CriticalPath::kAuthorization);
  EXPECT_TRUE(span.active());
  EXPECT_TRUE(span.context().valid());
  EXPECT_TRUE(span.context().sampled());
  EXPECT_FALSE(span.context().remote);
  span.SetAttribute("http.response.status_code", 200);
  span.SetAttribute("http.route", "/v1/authorizations");
  span.SetAttribute("standin", false);
  span.SetAttribute("amount_ratio", 0.25);
  clock_.Advance(1500);
  span.SetStatus(SpanStatus::kOk);
  span.End();
  EXPECT_FALSE(span.active());
  span.End();  // Idempotent.

  const std::vector<SpanRecord> spans = DrainAll();
  ASSERT_EQ(spans.size(), 1u);
  const SpanRecord& record = spans[0];
  EXPECT_EQ(record.name.view(), "POST /v1/authorizations");
  EXPECT_EQ(record.application, Application::kApi);
  EXPECT_EQ(record.path, CriticalPath::kAuthorization);
  EXPECT_EQ(record.kind, SpanKind::kServer);
  EXPECT_EQ(record.status, SpanStatus::kOk);
  EXPECT_EQ(record.keep_reason, SpanKeepReason::kSampled);
  EXPECT_FALSE(record.parent_span_id.valid());
  EXPECT_EQ(record.start_unix_ns, start_unix);
  EXPECT_EQ(record.duration_ns(), 1500u);
  ASSERT_EQ(record.attribute_count, 4u);
  EXPECT_EQ(record.attributes[0].key.view(), "http.response.status_code");
  EXPECT_EQ(record.attributes[0].type, SpanAttribute::Type::kInt);
  EXPECT_EQ(record.attributes[0].int_value, 200);
  EXPECT_EQ(record.attributes[1].string_value.view(), "/v1/authorizations");
  EXPECT_EQ(record.attributes[2].type, SpanAttribute::Type::kBool);
  EXPECT_EQ(record.attributes[3].type, SpanAttribute::Type::kDouble);
  EXPECT_EQ(record.attributes[3].double_value, 0.25);
  EXPECT_EQ(tracer.spans_kept(), 1u);
}

TEST_F(TracerTest, ChildrenJoinTheTraceAndInheritSampling) {
  Tracer tracer = MakeTracer(1.0);
  Span root = tracer.StartSpan("root");
  Span child = tracer.StartSpan("child", SpanKind::kInternal, &root.context());
  EXPECT_EQ(child.context().trace_id, root.context().trace_id);
  EXPECT_NE(child.context().span_id, root.context().span_id);
  EXPECT_TRUE(child.context().sampled());
  child.End();
  root.End();
  const std::vector<SpanRecord> spans = DrainAll();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].parent_span_id, spans[1].context.span_id);
  EXPECT_FALSE(spans[0].parent_remote);

  // An unsampled parent makes an unsampled child even at ratio 1.
  SpanContext unsampled = spans[1].context;
  unsampled.trace_flags = 0;
  Span orphan = tracer.StartSpan("child", SpanKind::kInternal, &unsampled);
  EXPECT_FALSE(orphan.context().sampled());
  orphan.End();
  EXPECT_TRUE(DrainAll().empty());
  EXPECT_EQ(tracer.spans_discarded(), 1u);
}

TEST_F(TracerTest, ContinuesAnIncomingTraceparent) {
  Tracer tracer = MakeTracer(0.0);
  Span span = tracer.StartSpanFromTraceparent(
      "authorize", SpanKind::kServer, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_EQ(span.context().trace_id.ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_TRUE(span.context().sampled());  // The caller sampled; head ratio 0 does not matter.
  // The outgoing header names this span as the parent.
  const std::string outgoing = FormatTraceparent(span.context());
  EXPECT_TRUE(outgoing.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
  EXPECT_TRUE(outgoing.ends_with("-01"));
  EXPECT_EQ(outgoing.find("00f067aa0ba902b7"), std::string::npos);
  span.End();
  const std::vector<SpanRecord> spans = DrainAll();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].parent_span_id.ToHex(), "00f067aa0ba902b7");
  EXPECT_TRUE(spans[0].parent_remote);
  EXPECT_EQ(tracer.invalid_traceparents(), 0u);
}

TEST_F(TracerTest, InvalidTraceparentStartsANewTraceAndIsCounted) {
  Tracer tracer = MakeTracer(1.0);
  for (std::string_view bad :
       {"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "nonsense"}) {
    Span span = tracer.StartSpanFromTraceparent("authorize", SpanKind::kServer, bad);
    EXPECT_TRUE(span.context().valid());
    EXPECT_NE(span.context().trace_id.ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_NE(span.context().trace_id.ToHex(), "00000000000000000000000000000000");
  }
  Span no_header = tracer.StartSpanFromTraceparent("authorize", SpanKind::kServer, "");
  EXPECT_TRUE(no_header.context().valid());
  EXPECT_EQ(tracer.invalid_traceparents(), 3u);
}

TEST_F(TracerTest, HeadSamplingFollowsTheRatio) {
  for (double ratio : {0.0, 0.1, 0.5, 1.0}) {
    Tracer tracer = MakeTracer(ratio);
    int sampled = 0;
    constexpr int kTraces = 20000;
    for (int i = 0; i < kTraces; ++i) {
      Span span = tracer.StartSpan("root");
      if (span.context().sampled()) ++sampled;
      EXPECT_EQ(span.context().sampled(), tracer.HeadSampled(span.context().trace_id));
    }
    const double observed = static_cast<double>(sampled) / kTraces;
    EXPECT_NEAR(observed, ratio, 0.015) << ratio;
    (void)DrainAll();
  }
}

TEST_F(TracerTest, TailKeepsErrorsAndSlowSpans) {
  Tracer tracer = MakeTracer(0.0, /*slow_ns=*/50'000'000);
  {
    Span fast_ok = tracer.StartSpan("fast");
    clock_.Advance(1'000'000);
  }  // Ends in the destructor; unsampled, fast, fine: discarded.
  Span failed = tracer.StartSpan("failed");
  failed.SetStatus(SpanStatus::kError, "ledger unavailable");
  failed.End();
  Span slow = tracer.StartSpan("slow");
  clock_.Advance(50'000'000);
  slow.End();
  Span almost = tracer.StartSpan("almost");
  clock_.Advance(49'999'999);
  almost.End();

  const std::vector<SpanRecord> spans = DrainAll();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].name.view(), "failed");
  EXPECT_EQ(spans[0].keep_reason, SpanKeepReason::kError);
  EXPECT_EQ(spans[0].status_message.view(), "ledger unavailable");
  EXPECT_FALSE(spans[0].context.sampled());
  EXPECT_EQ(spans[1].name.view(), "slow");
  EXPECT_EQ(spans[1].keep_reason, SpanKeepReason::kSlow);
  EXPECT_EQ(tracer.spans_kept(), 2u);
  EXPECT_EQ(tracer.spans_discarded(), 2u);
}

TEST_F(TracerTest, AttributesAreBoundedTruncatedAndRedacted) {
  Tracer tracer = MakeTracer(1.0);
  Span span = tracer.StartSpan(std::string(200, 'n'));
  span.SetAttribute("card", "4111111111111111");
  span.SetAttribute("value_int", int64_t{5555555555554444});
  span.SetAttribute("api_key", "sk_live_secret");
  span.SetAttribute("pin", 1234);
  span.SetAttribute(std::string(100, 'k'), std::string(300, 'v'));
  span.SetAttribute("long_with_card", std::string(55, 'x') + " 4111111111111111");
  for (int i = 0; i < 5; ++i) span.SetAttribute("extra", i);
  span.SetStatus(SpanStatus::kError, "card 378282246310005 declined");
  span.End();
  const std::vector<SpanRecord> spans = DrainAll();
  ASSERT_EQ(spans.size(), 1u);
  const SpanRecord& record = spans[0];
  EXPECT_EQ(record.name.view(), std::string(kSpanNameBytesMax, 'n'));
  ASSERT_EQ(record.attribute_count, kSpanAttributesMax);
  EXPECT_EQ(record.dropped_attributes_count, 3u);
  EXPECT_EQ(record.attributes[0].string_value.view(), "411111******1111");
  EXPECT_EQ(record.attributes[1].type, SpanAttribute::Type::kString);
  EXPECT_EQ(record.attributes[1].string_value.view(), "555555******4444");
  EXPECT_EQ(record.attributes[2].string_value.view(), kRedactedValue);
  EXPECT_EQ(record.attributes[3].type, SpanAttribute::Type::kString);
  EXPECT_EQ(record.attributes[3].string_value.view(), kRedactedValue);
  EXPECT_EQ(record.attributes[4].key.view(), std::string(kSpanAttributeKeyBytesMax, 'k'));
  EXPECT_EQ(record.attributes[4].string_value.view(),
            std::string(kSpanAttributeValueBytesMax, 'v'));
  // The cut would have left a partial card: the digits are dropped.
  EXPECT_EQ(record.attributes[5].string_value.view(), std::string(55, 'x') + " ");
  EXPECT_EQ(record.status_message.view(), "card 378282*****0005 declined");
}

TEST_F(TracerTest, MovedSpansEndOnce) {
  Tracer tracer = MakeTracer(1.0);
  Span first = tracer.StartSpan("moved");
  Span second = std::move(first);
  EXPECT_FALSE(first.active());  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(second.active());
  first.End();
  Span third;
  third = std::move(second);
  third.End();
  EXPECT_EQ(DrainAll().size(), 1u);

  Span inert;
  inert.SetAttribute("x", 1);
  inert.SetStatus(SpanStatus::kError);
  inert.End();
  EXPECT_FALSE(inert.context().valid());
  EXPECT_TRUE(DrainAll().empty());
}

TEST_F(TracerTest, IdsAreUniqueAndNonZero) {
  Tracer tracer = MakeTracer(0.0);
  std::set<std::string> trace_ids;
  std::set<std::string> span_ids;
  for (int i = 0; i < 5000; ++i) {
    Span span = tracer.StartSpan("x");
    EXPECT_TRUE(span.context().valid());
    EXPECT_TRUE(trace_ids.insert(span.context().trace_id.ToHex()).second);
    EXPECT_TRUE(span_ids.insert(span.context().span_id.ToHex()).second);
  }
}

TEST(SpanBufferTest, DropsAndCountsWhenFull) {
  SpanBuffer buffer(4);
  SpanRecord record;
  for (uint8_t i = 0; i < 6; ++i) {
    record.attribute_count = i;
    EXPECT_EQ(buffer.TryPush(record), i < 4) << static_cast<int>(i);
  }
  EXPECT_EQ(buffer.dropped(), 2u);
  SpanRecord out;
  for (uint8_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(buffer.TryPop(&out));
    EXPECT_EQ(out.attribute_count, i);  // FIFO.
  }
  EXPECT_FALSE(buffer.TryPop(&out));
  // Space again after popping.
  EXPECT_TRUE(buffer.TryPush(record));
}

TEST(SpanBufferTest, ConcurrentProducersAndConsumerLoseNothingButCountedDrops) {
  SpanBuffer buffer(256);
  constexpr int kPerProducer = 50'000;
  std::atomic<int> producers_done{0};
  std::atomic<uint64_t> pushed{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < 2; ++p) {
    producers.emplace_back([&, p] {
      SpanRecord record;
      for (int i = 0; i < kPerProducer; ++i) {
        record.start_unix_ns = static_cast<uint64_t>(p) << 32 | static_cast<uint64_t>(i);
        if (buffer.TryPush(record)) pushed.fetch_add(1);
      }
      producers_done.fetch_add(1);
    });
  }
  uint64_t popped = 0;
  uint64_t last_seen[2] = {0, 0};
  bool first_seen[2] = {true, true};
  SpanRecord record;
  while (true) {
    // Read before popping: if the producers were done and the pop finds
    // nothing, nothing more can come.
    const bool producers_finished = producers_done.load() == 2;
    if (!buffer.TryPop(&record)) {
      if (producers_finished) break;
      continue;
    }
    ++popped;
    // Each producer's records come out in the order it pushed them.
    const auto producer = static_cast<size_t>(record.start_unix_ns >> 32);
    const uint64_t sequence = record.start_unix_ns & 0xFFFFFFFFu;
    ASSERT_LT(producer, 2u);
    if (!first_seen[producer]) {
      EXPECT_GT(sequence, last_seen[producer]);
    }
    first_seen[producer] = false;
    last_seen[producer] = sequence;
  }
  for (std::thread& producer : producers) producer.join();
  EXPECT_FALSE(buffer.TryPop(&record));
  EXPECT_EQ(popped, pushed.load());
  EXPECT_EQ(pushed.load() + buffer.dropped(), 2u * kPerProducer);
}

TEST(TracerDeathTest, RejectsBadOptions) {
  SpanBuffer buffer(2);
  EXPECT_DEATH(Tracer({.head_sampling_ratio = 0.5}, &buffer), "application");
  EXPECT_DEATH(Tracer({.application = Application::kApi, .head_sampling_ratio = 1.5}, &buffer),
               "head_sampling_ratio");
  EXPECT_DEATH(SpanBuffer(3), "power of two");
  EXPECT_DEATH(SpanBuffer(0), "power of two");
}

}  // namespace
}  // namespace tangelo::telemetry
