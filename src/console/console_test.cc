#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "api/memory_core.h"
#include "console/console.h"
#include "console/instrumented_core.h"
#include "telemetry/registry.h"

namespace tangelo::console {
namespace {

TEST(ConsoleAssetsTest, PageIsEmbeddedAndPollsTheStatusEndpoint) {
  const std::string_view html = IndexHtml();
  EXPECT_EQ(html.substr(0, 15), "<!doctype html>");
  EXPECT_NE(html.find(kStatusPath), std::string_view::npos);
  // Served by the binary alone: no external scripts or styles.
  EXPECT_EQ(html.find("<script src"), std::string_view::npos);
  EXPECT_EQ(html.find("https://"), std::string_view::npos);
}

TEST(InstrumentedCoreTest, SystemErrorsAreOnlyOperatingFailures) {
  EXPECT_TRUE(IsSystemError(api::CoreStatus::kOverloaded));
  EXPECT_TRUE(IsSystemError(api::CoreStatus::kUnavailable));
  EXPECT_TRUE(IsSystemError(api::CoreStatus::kInternal));
  EXPECT_FALSE(IsSystemError(api::CoreStatus::kOk));
  EXPECT_FALSE(IsSystemError(api::CoreStatus::kNotFound));
  EXPECT_FALSE(IsSystemError(api::CoreStatus::kInsufficientFunds));
}

uint64_t CounterValue(const telemetry::MetricsSnapshot& snapshot, telemetry::CriticalPath path,
                      std::string_view outcome) {
  const telemetry::Label label{"outcome", std::string(outcome)};
  const telemetry::MetricSample* sample = snapshot.Find(
      telemetry::kRequestsTotalMetric, telemetry::Application::kApi, path, {&label, 1});
  return sample == nullptr ? 0 : sample->counter_value;
}

TEST(InstrumentedCoreTest, RecordsAuthorizationsOnThePathAndRepliesUnchanged) {
  api::MemoryCore inner;
  telemetry::Registry registry;
  io::ManualClock clock;
  InstrumentedCore core(&inner, registry, &clock);
  std::optional<api::CoreStatus> status;
  // An authorization on an unknown card: a business answer (not found), ok.
  api::AuthorizeRequest authorize{};
  authorize.tenant_id = 1;
  authorize.authorization_id = 7;
  authorize.card_id = 99;
  authorize.amount_minor = 100;
  authorize.currency_numeric = 978;
  authorize.channel = api::ChannelValue::kEcommerce;
  core.Submit(authorize, [&](api::CoreReply&& reply) { status = reply.status; });
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, api::CoreStatus::kNotFound);
  status.reset();
  core.Submit(api::GetTenantRequest{1}, [&](api::CoreReply&& reply) { status = reply.status; });
  ASSERT_TRUE(status.has_value());
  const telemetry::MetricsSnapshot snapshot = registry.Collect();
  EXPECT_EQ(CounterValue(snapshot, telemetry::CriticalPath::kAuthorization, "ok"), 1u);
  EXPECT_EQ(CounterValue(snapshot, telemetry::CriticalPath::kAuthorization, "error"), 0u);
  EXPECT_EQ(CounterValue(snapshot, telemetry::CriticalPath::kNone, "ok"), 1u);
}

TEST(ConsoleDeathTest, RequiresAnSloEngine) {
  EXPECT_DEATH(Console(ConsoleOptions{}), "");
}

}  // namespace
}  // namespace tangelo::console
