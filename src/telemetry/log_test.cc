#include "telemetry/log.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <thread>
#include <vector>

#include "base/random.h"
#include "io/clock.h"
#include "telemetry/metrics.h"
#include "telemetry/redaction.h"

namespace tangelo::telemetry {
namespace {

// 2023-11-14T22:13:20.123456789Z
constexpr uint64_t kStartNs = 1'700'000'000'123'456'789ULL;

class LoggerTest : public ::testing::Test {
 protected:
  LoggerTest() : clock_(kStartNs) {}

  Logger MakeLogger(LogLevel level = LogLevel::kDebug, uint32_t per_second = 0) {
    return Logger({.application = Application::kAuthorizer,
                   .level_min = level,
                   .lines_per_event_per_second_max = per_second},
                  &sink_, &clock_);
  }

  // Parses a line as JSON (it must be one object followed by '\n').
  simdjson::dom::element Parse(const std::string& line) {
    EXPECT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line per entry";
    simdjson::dom::element element;
    const auto error = parser_.parse(line).get(element);
    EXPECT_EQ(error, simdjson::SUCCESS) << line;
    EXPECT_TRUE(element.is_object()) << line;
    return element;
  }

  std::string StringField(simdjson::dom::element element, const char* key) {
    std::string_view value;
    if (element[key].get_string().get(value) != simdjson::SUCCESS) return "<missing>";
    return std::string(value);
  }

  io::ManualClock clock_;
  MemoryLogSink sink_;
  simdjson::dom::parser parser_;
};

TEST_F(LoggerTest, GoldenLine) {
  Logger logger = MakeLogger();
  base::Result<SpanContext> trace =
      ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(trace.ok());
  logger.Warn("client_decision_timeout", "Client did not answer in time",
              {{"deadline_ms", 2500},
               {"program", "demo"},
               {"standin", true},
               {"ratio", 0.5},
               {"card_id", uint64_t{42}},
               {"offset", -7}},
              &*trace);
  const std::vector<std::string> lines = sink_.Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            "{\"time\":\"2023-11-14T22:13:20.123Z\",\"level\":\"warn\","
            "\"application\":\"authorizer\",\"event\":\"client_decision_timeout\","
            "\"message\":\"Client did not answer in time\","
            "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"span_id\":\"00f067aa0ba902b7\","
            "\"trace_flags\":\"01\",\"deadline_ms\":2500,\"program\":\"demo\",\"standin\":true,"
            "\"ratio\":0.5,\"card_id\":42,\"offset\":-7}\n");
  Parse(lines[0]);
}

TEST_F(LoggerTest, NoTraceFieldsWithoutATrace) {
  Logger logger = MakeLogger();
  logger.Info("started", "up");
  SpanContext invalid;
  logger.Info("started", "again", {}, &invalid);
  for (const std::string& line : sink_.Lines()) {
    simdjson::dom::element element = Parse(line);
    EXPECT_EQ(StringField(element, "trace_id"), "<missing>");
    EXPECT_EQ(StringField(element, "level"), "info");
    EXPECT_EQ(StringField(element, "application"), "authorizer");
  }
}

TEST_F(LoggerTest, LevelThreshold) {
  Logger logger = MakeLogger(LogLevel::kWarn);
  EXPECT_FALSE(logger.Enabled(LogLevel::kInfo));
  EXPECT_TRUE(logger.Enabled(LogLevel::kError));
  logger.Debug("a", "hidden");
  logger.Info("b", "hidden");
  logger.Warn("c", "shown");
  logger.Error("d", "shown");
  EXPECT_EQ(sink_.Lines().size(), 2u);
  logger.SetLevel(LogLevel::kDebug);
  logger.Debug("a", "now shown");
  EXPECT_EQ(sink_.Lines().size(), 3u);
  EXPECT_EQ(StringField(Parse(sink_.Lines()[2]), "level"), "debug");
}

TEST_F(LoggerTest, EscapesEverythingIntoValidJson) {
  Logger logger = MakeLogger();
  const std::string nasty = std::string("quote\" backslash\\ newline\n tab\t bell\x07 nul") +
                            '\0' + " bad\xff\xfe utf8 é €";
  logger.Info(nasty, nasty, {{nasty, nasty}, {"level", "a field named like a reserved key"}});
  const std::string line = sink_.Lines().at(0);
  simdjson::dom::element element = Parse(line);
  const std::string expected_text =
      std::string("quote\" backslash\\ newline\n tab\t bell\x07 nul") + '\0' +
      " bad\xEF\xBF\xBD\xEF\xBF\xBD utf8 é €";
  EXPECT_EQ(StringField(element, "message"), expected_text);
  EXPECT_EQ(StringField(element, "event"), expected_text);
  EXPECT_EQ(StringField(element, "level"), "info");
  EXPECT_EQ(StringField(element, "field_level"), "a field named like a reserved key");
  EXPECT_NE(line.find("\\u0007"), std::string::npos);
  EXPECT_NE(line.find("\\u0000"), std::string::npos);
}

TEST_F(LoggerTest, NonFiniteDoublesAreStrings) {
  Logger logger = MakeLogger();
  logger.Info("x", "y", {{"nan", std::nan("")}, {"inf", 1.0 / 0.0}});
  simdjson::dom::element element = Parse(sink_.Lines().at(0));
  EXPECT_EQ(StringField(element, "nan"), "NaN");
  EXPECT_EQ(StringField(element, "inf"), "+Inf");
}

TEST_F(LoggerTest, BoundsFieldsAndValueLength) {
  Logger logger = MakeLogger();
  std::vector<std::string> keys;
  for (uint32_t i = 0; i < kLogFieldsMax + 3; ++i) keys.push_back("k" + std::to_string(i));
  const std::string huge(3 * kLogValueBytesMax, 'a');
  // Build an initializer list through a helper lambda per arity is awkward;
  // log twice instead: once with many fields, once with a huge value.
  logger.Info("many", "m",
              {{keys[0], 0},  {keys[1], 1},  {keys[2], 2},  {keys[3], 3},  {keys[4], 4},
               {keys[5], 5},  {keys[6], 6},  {keys[7], 7},  {keys[8], 8},  {keys[9], 9},
               {keys[10], 1}, {keys[11], 1}, {keys[12], 1}, {keys[13], 1}, {keys[14], 1},
               {keys[15], 1}, {keys[16], 1}, {keys[17], 1}, {keys[18], 1}, {keys[19], 1},
               {keys[20], 1}, {keys[21], 1}, {keys[22], 1}, {keys[23], 1}, {keys[24], 1},
               {keys[25], 1}, {keys[26], 1}});
  logger.Info("huge", huge);
  const std::vector<std::string> lines = sink_.Lines();
  simdjson::dom::element many = Parse(lines.at(0));
  int64_t dropped = 0;
  ASSERT_EQ(many["fields_dropped"].get_int64().get(dropped), simdjson::SUCCESS);
  EXPECT_EQ(dropped, 3);
  EXPECT_EQ(many["k23"].error(), simdjson::SUCCESS);
  EXPECT_NE(many["k24"].error(), simdjson::SUCCESS);
  const std::string message = StringField(Parse(lines.at(1)), "message");
  EXPECT_EQ(message.size(), kLogValueBytesMax);
  EXPECT_TRUE(message.ends_with("..."));
}

TEST_F(LoggerTest, RateLimitsEachEventAndCountsDrops) {
  Counter dropped_counter;
  Logger logger({.application = Application::kGateway,
                 .lines_per_event_per_second_max = 3,
                 .dropped_lines_counter = &dropped_counter},
                &sink_, &clock_);
  for (int i = 0; i < 10; ++i) logger.Info("storm", "again");
  for (int i = 0; i < 2; ++i) logger.Info("other", "independent");
  EXPECT_EQ(sink_.Lines().size(), 5u);
  EXPECT_EQ(logger.dropped_lines(), 7u);
  EXPECT_EQ(dropped_counter.Value(), 7u);

  // A second later the event may log again, and says how many were lost.
  clock_.Advance(1'000'000'000);
  logger.Info("storm", "recovered");
  const std::vector<std::string> lines = sink_.Lines();
  ASSERT_EQ(lines.size(), 6u);
  simdjson::dom::element element = Parse(lines.back());
  int64_t dropped = 0;
  ASSERT_EQ(element["dropped"].get_int64().get(dropped), simdjson::SUCCESS);
  EXPECT_EQ(dropped, 7);
  // Lines below the level are not counted as drops.
  logger.Debug("storm", "below threshold");
  EXPECT_EQ(logger.dropped_lines(), 7u);
}

TEST_F(LoggerTest, ManyDistinctEventNamesShareOneWindowPastTheBound) {
  Logger logger({.application = Application::kApi, .lines_per_event_per_second_max = 1},
                &sink_, &clock_);
  for (uint32_t i = 0; i < kLogEventNamesMax + 50; ++i) {
    logger.Info("event_" + std::to_string(i), "x");
  }
  // The first kLogEventNamesMax names get a window each; the rest share
  // one window with a budget of one line.
  EXPECT_EQ(sink_.Lines().size(), kLogEventNamesMax + 1);
  EXPECT_EQ(logger.dropped_lines(), 49u);
}

TEST_F(LoggerTest, ConcurrentLoggingKeepsLinesWhole) {
  Logger logger = MakeLogger();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&logger, t] {
      for (int i = 0; i < 200; ++i) logger.Info("work", "item", {{"thread", t}, {"i", i}});
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::vector<std::string> lines = sink_.Lines();
  ASSERT_EQ(lines.size(), 800u);
  for (const std::string& line : lines) Parse(line);
}

TEST(LogFormatTest, Rfc3339Millis) {
  EXPECT_EQ(FormatRfc3339Millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Millis(kStartNs), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(FormatRfc3339Millis(951'782'400'000'000'000ULL), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Millis(4'102'444'799'999'000'000ULL), "2099-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339Millis(1'709'251'199'001'999'999ULL), "2024-02-29T23:59:59.001Z");
}

TEST(LogFormatTest, LevelNames) {
  EXPECT_EQ(LogLevelName(LogLevel::kDebug), "debug");
  EXPECT_EQ(LogLevelName(LogLevel::kInfo), "info");
  EXPECT_EQ(LogLevelName(LogLevel::kWarn), "warn");
  EXPECT_EQ(LogLevelName(LogLevel::kError), "error");
}

// ---- No PAN, API key or secret ever reaches a line -------------------------

// True if any card number of `pans` appears in the digits of `line` (all
// non-digits removed, so separators and JSON escaping cannot hide one).
bool ContainsAnyPan(const std::string& line, const std::vector<std::string>& pans) {
  std::string digits;
  for (char c : line) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  for (const std::string& pan : pans) {
    if (digits.find(pan) != std::string::npos) return true;
  }
  return false;
}

TEST_F(LoggerTest, NoPanReachesALine) {
  Logger logger = MakeLogger();
  const std::vector<std::string> pans = {"4111111111111111", "5555555555554444",
                                         "378282246310005", "4222222222222",
                                         "4000000000000000006"};
  const base::Result<SpanContext> trace =
      ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  for (const std::string& pan : pans) {
    const std::string spaced = pan.substr(0, 4) + " " + pan.substr(4, 4) + " " + pan.substr(8);
    const std::string dashed = pan.substr(0, 4) + "-" + pan.substr(4, 4) + "-" + pan.substr(8);
    logger.Info("card_" + pan, "Declined card " + pan + " twice",
                {{"card", pan},
                 {"card_spaced", spaced},
                 {"card_dashed", dashed},
                 {"number", std::stoull(pan)},
                 {"signed", static_cast<int64_t>(std::stoll(pan))},
                 {"as_double", static_cast<double>(std::stoull(pan))},
                 {"key_with_" + pan, "x"},
                 {"track2", pan + "=29121010000000000000"},
                 {"note", "long text " + std::string(kLogValueBytesMax - 20, 'x') + pan}},
                &*trace);
  }
  const std::vector<std::string> lines = sink_.Lines();
  ASSERT_EQ(lines.size(), pans.size());
  for (const std::string& line : lines) {
    Parse(line);
    EXPECT_FALSE(ContainsAnyPan(line, pans)) << line;
    // The masked form is there, so the line still helps a human.
    EXPECT_NE(line.find("***"), std::string::npos);
  }
  // The checker can fail: a raw PAN is detected.
  EXPECT_TRUE(ContainsAnyPan("{\"x\":\"4111 1111 1111 1111\"}", pans));
}

TEST_F(LoggerTest, NoSecretReachesALine) {
  Logger logger = MakeLogger();
  const std::string secret = "sk_live_51HxQ2eLkdIwHu7ix";
  logger.Error("auth_failed", "bad credentials",
               {{"api_key", secret},
                {"X-API-Key", secret},
                {"Authorization", "Bearer " + secret},
                {"password", secret},
                {"client_secret", secret},
                {"access_token", secret},
                {"webhookSigningSecret", secret},
                {"pan", "not even a valid number"},
                {"pin", 1234},
                {"cvv", 123},
                {"user", "alice"}});
  const std::string line = sink_.Lines().at(0);
  simdjson::dom::element element = Parse(line);
  EXPECT_EQ(line.find(secret), std::string::npos) << line;
  EXPECT_EQ(line.find("not even a valid number"), std::string::npos);
  EXPECT_EQ(line.find("1234"), std::string::npos);
  EXPECT_EQ(StringField(element, "api_key"), kRedactedValue);
  EXPECT_EQ(StringField(element, "Authorization"), kRedactedValue);
  EXPECT_EQ(StringField(element, "pin"), kRedactedValue);
  EXPECT_EQ(StringField(element, "user"), "alice");
}

TEST_F(LoggerTest, PropertyRandomTextWithCardsNeverLeaks) {
  Logger logger = MakeLogger();
  base::Random random(2024);
  std::vector<std::string> pans;
  for (int round = 0; round < 300; ++round) {
    std::string pan;
    const size_t length = 13 + random.Uniform(7);
    for (size_t i = 0; i + 1 < length; ++i) {
      pan.push_back(static_cast<char>('0' + random.Uniform(10)));
    }
    for (char check = '0'; check <= '9'; ++check) {
      if (PassesLuhn(pan + check)) {
        pan.push_back(check);
        break;
      }
    }
    std::string text;
    for (uint64_t i = random.Uniform(40); i > 0; --i) {
      text.push_back(static_cast<char>(' ' + random.Uniform(95)));
    }
    // A card number glued to other digits is not a 13-19 digit run (the
    // documented limit of detection), so a delimiter always precedes it.
    static constexpr std::string_view kDelimiters = " :=\"(";
    text.push_back(kDelimiters[random.Uniform(kDelimiters.size())]);
    text += pan;
    text += random.Chance(50) ? "," : "";
    logger.Info("random", text, {{"value", text}});
    const std::string line = sink_.Lines().back();
    Parse(line);
    ASSERT_FALSE(ContainsAnyPan(line, {pan})) << line;
  }
}

TEST(LoggerDeathTest, NeedsAnApplication) {
  MemoryLogSink sink;
  EXPECT_DEATH(Logger({}, &sink), "application");
}

}  // namespace
}  // namespace tangelo::telemetry
