#include "telemetry/prometheus.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/random.h"
#include "telemetry/text.h"

namespace tangelo::telemetry {
namespace {

// A small registry whose exposition is pinned byte for byte below.
struct GoldenStats {
  explicit GoldenStats(Registry& registry)
      : approved(registry.AddCounter({
            .name = "tangelo_authorizer_decisions_total",
            .help = "Authorization decisions, by outcome.",
            .application = Application::kAuthorizer,
            .path = CriticalPath::kAuthorization,
            .labels = {{"outcome", "approved"}},
        })),
        declined(registry.AddCounter({
            .name = "tangelo_authorizer_decisions_total",
            .help = "Authorization decisions, by outcome.",
            .application = Application::kAuthorizer,
            .path = CriticalPath::kAuthorization,
            .labels = {{"outcome", "declined \"51\"\n\\"}},
        })),
        connections(registry.AddGauge({
            .name = "tangelo_gateway_open_connections",
            .help = "Open network connections.\nOne line of help with a \\ in it.",
            .application = Application::kGateway,
        })),
        latency(registry.AddHistogram({
            .name = "tangelo_authorizer_decision_latency_seconds",
            .help = "Time from request to decision.",
            .unit = Unit::kNanoseconds,
            .application = Application::kAuthorizer,
            .path = CriticalPath::kAuthorization,
            .histogram_bounds = {1'048'576, 50'000'000, 2'000'000'000},
        })),
        budget(registry.AddCallbackGauge(
            {
                .name = "tangelo_console_error_budget_remaining_ratio",
                .help = "Error budget left in the SLO window.",
                .unit = Unit::kRatio,
                .application = Application::kConsole,
                .path = CriticalPath::kTransaction,
            },
            [] { return 0.25; })) {}

  Counter& approved;
  Counter& declined;
  Gauge& connections;
  HistogramMetric& latency;
  CallbackGaugeHandle budget;
};

constexpr std::string_view kGolden =
    "# HELP tangelo_authorizer_decision_latency_seconds Time from request to decision.\n"
    "# TYPE tangelo_authorizer_decision_latency_seconds histogram\n"
    "tangelo_authorizer_decision_latency_seconds_bucket"
    "{application=\"authorizer\",path=\"authorization\",le=\"0.001048576\"} 2\n"
    "tangelo_authorizer_decision_latency_seconds_bucket"
    "{application=\"authorizer\",path=\"authorization\",le=\"0.05\"} 3\n"
    "tangelo_authorizer_decision_latency_seconds_bucket"
    "{application=\"authorizer\",path=\"authorization\",le=\"2\"} 3\n"
    "tangelo_authorizer_decision_latency_seconds_bucket"
    "{application=\"authorizer\",path=\"authorization\",le=\"+Inf\"} 4\n"
    "tangelo_authorizer_decision_latency_seconds_sum"
    "{application=\"authorizer\",path=\"authorization\"} 3.021049576\n"
    "tangelo_authorizer_decision_latency_seconds_count"
    "{application=\"authorizer\",path=\"authorization\"} 4\n"
    "# HELP tangelo_authorizer_decisions_total Authorization decisions, by outcome.\n"
    "# TYPE tangelo_authorizer_decisions_total counter\n"
    "tangelo_authorizer_decisions_total"
    "{application=\"authorizer\",path=\"authorization\",outcome=\"approved\"} 41\n"
    "tangelo_authorizer_decisions_total"
    "{application=\"authorizer\",path=\"authorization\",outcome=\"declined \\\"51\\\"\\n\\\\\"} 1\n"
    "# HELP tangelo_console_error_budget_remaining_ratio Error budget left in the SLO window.\n"
    "# TYPE tangelo_console_error_budget_remaining_ratio gauge\n"
    "tangelo_console_error_budget_remaining_ratio"
    "{application=\"console\",path=\"transaction\"} 0.25\n"
    "# HELP tangelo_gateway_open_connections Open network connections.\\n"
    "One line of help with a \\\\ in it.\n"
    "# TYPE tangelo_gateway_open_connections gauge\n"
    "tangelo_gateway_open_connections{application=\"gateway\"} -3\n";

void RecordGoldenValues(GoldenStats& stats) {
  stats.approved.Increment(41);
  stats.declined.Increment();
  stats.connections.Set(-3);
  stats.latency.Record(1'000);          // 1 µs
  stats.latency.Record(1'048'576);      // Exactly on the first bound.
  stats.latency.Record(20'000'000);     // 20 ms
  stats.latency.Record(3'000'000'000);  // 3 s, above every bound.
}

TEST(PrometheusTest, GoldenExposition) {
  Registry registry;
  GoldenStats stats(registry);
  RecordGoldenValues(stats);
  EXPECT_EQ(RenderPrometheus(registry), kGolden);
}

TEST(PrometheusTest, EmptyRegistryRendersNothing) {
  Registry registry;
  EXPECT_EQ(RenderPrometheus(registry), "");
}

TEST(PrometheusTest, ContentTypeIsVersion004) {
  EXPECT_EQ(kPrometheusContentType, "text/plain; version=0.0.4; charset=utf-8");
}

TEST(PrometheusTest, EscapesAndRepairsLabelValuesAndHelp) {
  std::string out;
  AppendPrometheusLabelValue(&out, "a\"b\\c\nd\xff" "e\xC3\xA9");
  EXPECT_EQ(out, "a\\\"b\\\\c\\nd\xEF\xBF\xBD" "e\xC3\xA9");
  out.clear();
  AppendPrometheusHelp(&out, "say \"hi\"\\\n");
  EXPECT_EQ(out, "say \"hi\"\\\\\\n");
}

// ---- A line-by-line reader of the exposition grammar ----------------------

// Undoes label-value escaping; false on a bad escape.
bool UnescapeLabelValue(std::string_view escaped, std::string* out) {
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] != '\\') {
      out->push_back(escaped[i]);
      continue;
    }
    if (++i == escaped.size()) return false;
    switch (escaped[i]) {
      case '\\': out->push_back('\\'); break;
      case '"': out->push_back('"'); break;
      case 'n': out->push_back('\n'); break;
      default: return false;
    }
  }
  return true;
}

struct ParsedSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  std::string value;
};

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// The longest prefix of line[at..] matching [a-zA-Z_(:)][a-zA-Z0-9_(:)]*
// (colons only in metric names), or "" if none.
std::string MatchIdentifier(const std::string& line, size_t at, bool allow_colon) {
  size_t end = at;
  while (end < line.size()) {
    const char c = line[end];
    const bool ok = IsAsciiLetter(c) || c == '_' || (allow_colon && c == ':') ||
                    (end > at && IsAsciiDigit(c));
    if (!ok) break;
    ++end;
  }
  return line.substr(at, end - at);
}

// A Go ParseFloat-style number as Prometheus writes it: [+-]digits[.digits]
// [e[+-]digits], or NaN, +Inf, -Inf.
bool IsPrometheusValue(const std::string& value) {
  if (value == "NaN" || value == "+Inf" || value == "-Inf") return true;
  size_t i = 0;
  if (i < value.size() && (value[i] == '+' || value[i] == '-')) ++i;
  size_t digits = 0;
  while (i < value.size() && IsAsciiDigit(value[i])) ++i, ++digits;
  if (i < value.size() && value[i] == '.') {
    ++i;
    while (i < value.size() && IsAsciiDigit(value[i])) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < value.size() && (value[i] == 'e' || value[i] == 'E')) {
    ++i;
    if (i < value.size() && (value[i] == '+' || value[i] == '-')) ++i;
    size_t exponent_digits = 0;
    while (i < value.size() && IsAsciiDigit(value[i])) ++i, ++exponent_digits;
    if (exponent_digits == 0) return false;
  }
  return i == value.size();
}

// Parses `name{l="v",...} value` strictly; returns false on any deviation.
bool ParseSampleLine(const std::string& line, ParsedSample* sample) {
  sample->name = MatchIdentifier(line, 0, /*allow_colon=*/true);
  if (sample->name.empty()) return false;
  size_t at = sample->name.size();
  if (at < line.size() && line[at] == '{') {
    ++at;
    while (true) {
      const std::string label = MatchIdentifier(line, at, /*allow_colon=*/false);
      if (label.empty()) return false;
      at += label.size();
      if (line.compare(at, 2, "=\"") != 0) return false;
      at += 2;
      std::string escaped;
      while (at < line.size() && line[at] != '"') {
        if (line[at] == '\\' && at + 1 < line.size()) escaped.push_back(line[at++]);
        escaped.push_back(line[at++]);
      }
      if (at >= line.size()) return false;
      ++at;  // Closing quote.
      std::string value;
      if (!UnescapeLabelValue(escaped, &value)) return false;
      sample->labels.emplace_back(label, value);
      if (at < line.size() && line[at] == ',') {
        ++at;
        continue;
      }
      if (at < line.size() && line[at] == '}') {
        ++at;
        break;
      }
      return false;
    }
  }
  if (at >= line.size() || line[at] != ' ') return false;
  sample->value = line.substr(at + 1);
  return IsPrometheusValue(sample->value);
}

double ParseValue(const std::string& value) {
  if (value == "+Inf") return INFINITY;
  return std::stod(value);
}

// Checks the whole exposition against the format's rules and returns the
// number of samples, failing the test on the first violation.
size_t CheckExpositionGrammar(const std::string& exposition) {
  EXPECT_TRUE(text::IsValidUtf8(exposition));
  if (exposition.empty()) return 0;
  EXPECT_EQ(exposition.back(), '\n') << "the last line must end in a newline";
  std::istringstream lines(exposition);
  std::string line;
  std::string family;
  std::string family_type;
  std::set<std::string> families_seen;
  std::set<std::string> series_seen;
  size_t samples = 0;
  // Histogram state for the current series (keyed by labels without le).
  std::map<std::string, double> last_bucket_bound;
  std::map<std::string, double> last_bucket_count;
  std::map<std::string, double> inf_count;
  while (std::getline(lines, line)) {
    EXPECT_FALSE(line.empty()) << "no blank lines";
    if (line.empty()) continue;
    EXPECT_NE(line.back(), '\r') << "lines end in \\n, not \\r\\n";
    if (line.starts_with("# HELP ")) {
      const std::string rest = line.substr(7);
      family = rest.substr(0, rest.find(' '));
      EXPECT_TRUE(families_seen.insert(family).second) << "family repeated: " << family;
      EXPECT_NE(rest.find(' '), std::string::npos) << "HELP needs text";
      // Only \\ and \n escapes are allowed in help text.
      const std::string help = rest.substr(rest.find(' ') + 1);
      for (size_t i = 0; i < help.size(); ++i) {
        if (help[i] == '\\') {
          EXPECT_LT(i + 1, help.size());
          if (i + 1 >= help.size()) break;
          EXPECT_TRUE(help[i + 1] == '\\' || help[i + 1] == 'n') << line;
          ++i;
        }
      }
      EXPECT_TRUE(std::getline(lines, line));
      EXPECT_EQ(line.rfind("# TYPE " + family + " ", 0), 0u) << "TYPE follows HELP: " << line;
      family_type = line.substr(7 + family.size() + 1);
      EXPECT_TRUE(family_type == "counter" || family_type == "gauge" ||
                  family_type == "histogram")
          << family_type;
      continue;
    }
    EXPECT_NE(line[0], '#') << "unexpected comment: " << line;
    ParsedSample sample;
    EXPECT_TRUE(ParseSampleLine(line, &sample)) << "bad sample line: " << line;
    ++samples;
    EXPECT_FALSE(family.empty()) << "sample before any HELP/TYPE";
    std::string suffix;
    if (family_type == "histogram") {
      EXPECT_TRUE(sample.name == family + "_bucket" || sample.name == family + "_sum" ||
                  sample.name == family + "_count")
          << sample.name;
      suffix = sample.name.substr(family.size());
    } else {
      EXPECT_EQ(sample.name, family) << "sample outside its family";
    }
    std::string series_key = sample.name;
    std::string le;
    std::set<std::string> label_names;
    std::string labels_without_le;
    for (const auto& [label, value] : sample.labels) {
      EXPECT_TRUE(label_names.insert(label).second) << "repeated label " << label;
      series_key += "|" + label + "=" + value;
      if (label == "le") {
        le = value;
      } else {
        labels_without_le += label + "=" + value + "|";
      }
    }
    EXPECT_TRUE(label_names.count("application")) << "every series names its application";
    EXPECT_TRUE(series_seen.insert(series_key).second) << "duplicate series: " << line;
    if (family_type == "counter") {
      EXPECT_GE(ParseValue(sample.value), 0.0);
      EXPECT_TRUE(family.ends_with("_total"));
    }
    if (suffix == "_bucket") {
      EXPECT_FALSE(le.empty()) << "bucket without le";
      const double bound = ParseValue(le);
      const double count = ParseValue(sample.value);
      if (last_bucket_bound.count(labels_without_le)) {
        EXPECT_GT(bound, last_bucket_bound[labels_without_le]) << "le must ascend: " << line;
        EXPECT_GE(count, last_bucket_count[labels_without_le]) << "buckets are cumulative";
      }
      last_bucket_bound[labels_without_le] = bound;
      last_bucket_count[labels_without_le] = count;
      if (le == "+Inf") inf_count[labels_without_le] = count;
    } else {
      EXPECT_TRUE(le.empty()) << "le only on buckets";
    }
    if (suffix == "_count") {
      EXPECT_TRUE(inf_count.count(labels_without_le)) << "+Inf bucket before _count";
      EXPECT_EQ(ParseValue(sample.value), inf_count[labels_without_le]) << "+Inf == _count";
      last_bucket_bound.erase(labels_without_le);
      inf_count.erase(labels_without_le);
    }
  }
  EXPECT_TRUE(inf_count.empty());
  return samples;
}

TEST(PrometheusGrammarTest, GoldenRegistryFollowsTheGrammar) {
  Registry registry;
  GoldenStats stats(registry);
  RecordGoldenValues(stats);
  EXPECT_EQ(CheckExpositionGrammar(RenderPrometheus(registry)), 4u + 2u + 1u + 1u + 2u);
}

TEST(PrometheusGrammarTest, RandomRegistriesFollowTheGrammar) {
  base::Random random(1234);
  const Unit units[] = {Unit::kNone, Unit::kBytes, Unit::kNanoseconds, Unit::kMicroseconds,
                        Unit::kMilliseconds, Unit::kSeconds};
  const char* suffixes[] = {"", "_bytes", "_seconds", "_seconds", "_seconds", "_seconds"};
  for (int round = 0; round < 20; ++round) {
    Registry registry;
    for (int m = 0; m < 10; ++m) {
      const size_t unit_index = random.Uniform(std::size(units));
      const auto application =
          static_cast<Application>(1 + random.Uniform(kApplicationCount));
      const auto path = static_cast<CriticalPath>(random.Uniform(3));
      std::vector<Label> labels;
      if (random.Chance(50)) {
        // Arbitrary bytes, including quotes, backslashes, newlines and
        // invalid UTF-8.
        std::string value;
        for (uint64_t i = random.Uniform(12); i > 0; --i) {
          value.push_back(static_cast<char>(random.Uniform(256)));
        }
        labels.push_back({"code", value});
      }
      const std::string stem = "tangelo_test_m" + std::to_string(m) + suffixes[unit_index];
      switch (random.Uniform(3)) {
        case 0:
          registry.AddCounter({.name = stem + "_total", .help = "A counter.\\ \n",
                               .unit = units[unit_index], .application = application,
                               .path = path, .labels = labels})
              .Increment(random.Next());
          break;
        case 1:
          registry.AddGauge({.name = stem, .help = "A gauge.", .unit = units[unit_index],
                             .application = application, .path = path, .labels = labels})
              .Set(static_cast<int64_t>(random.Next()));
          break;
        default: {
          HistogramMetric& histogram = registry.AddHistogram(
              {.name = stem, .help = "A histogram.", .unit = units[unit_index],
               .application = application, .path = path, .labels = labels});
          for (uint64_t i = random.Uniform(1000); i > 0; --i) {
            histogram.Record(random.Next() >> random.Uniform(64));
          }
          break;
        }
      }
    }
    const std::string exposition = RenderPrometheus(registry);
    EXPECT_GT(CheckExpositionGrammar(exposition), 0u);
    if (HasFailure()) {
      ADD_FAILURE() << exposition;
      return;
    }
  }
}

TEST(PrometheusGrammarTest, CheckerRejectsBrokenExpositions) {
  // The checker itself must be able to fail, or the grammar test proves
  // nothing.
  ParsedSample sample;
  EXPECT_FALSE(ParseSampleLine("name{a=\"b\" 1", &sample));
  EXPECT_FALSE(ParseSampleLine("name{a=b} 1", &sample));
  EXPECT_FALSE(ParseSampleLine("name 1.2.3", &sample));
  EXPECT_FALSE(ParseSampleLine("name{a=\"\\x\"} 1", &sample));
  EXPECT_FALSE(ParseSampleLine("9name 1", &sample));
  EXPECT_TRUE(ParseSampleLine("name{a=\"\\\"\"} +Inf", &sample));
  EXPECT_TRUE(ParseSampleLine("name 1e+21", &sample));
  EXPECT_TRUE(ParseSampleLine("name -0.000001024", &sample));
  EXPECT_FALSE(ParseSampleLine("name 1e", &sample));
  EXPECT_FALSE(ParseSampleLine("name Inf", &sample));
  EXPECT_FALSE(ParseSampleLine("name{1a=\"x\"} 1", &sample));
}

TEST(TextTest, FormatScaledIntegerIsExact) {
  EXPECT_EQ(text::FormatScaledInteger(1024, 1'000'000'000), "0.000001024");
  EXPECT_EQ(text::FormatScaledInteger(3, 1), "3");
  EXPECT_EQ(text::FormatScaledInteger(1500, 1000), "1.5");
  EXPECT_EQ(text::FormatScaledInteger(2'000'000'000, 1'000'000'000), "2");
  EXPECT_EQ(text::FormatScaledInteger(0, 1'000'000), "0");
  EXPECT_EQ(text::FormatScaledInteger(~uint64_t{0}, 1'000'000'000), "18446744073.709551615");
}

TEST(TextTest, FormatDoubleRoundTripsAndSpellsSpecials) {
  EXPECT_EQ(text::FormatDouble(0.1), "0.1");
  EXPECT_EQ(text::FormatDouble(17.0), "17");
  EXPECT_EQ(text::FormatDouble(-3.0), "-3");
  EXPECT_EQ(text::FormatDouble(NAN), "NaN");
  EXPECT_EQ(text::FormatDouble(INFINITY), "+Inf");
  EXPECT_EQ(text::FormatDouble(-INFINITY), "-Inf");
  EXPECT_EQ(std::stod(text::FormatDouble(1.0 / 3.0)), 1.0 / 3.0);
}

TEST(TextTest, Utf8Validation) {
  EXPECT_TRUE(text::IsValidUtf8("plain ascii"));
  EXPECT_TRUE(text::IsValidUtf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x92\xB3"));  // é € 💳
  EXPECT_FALSE(text::IsValidUtf8("\xC0\xAF"));          // Overlong '/'.
  EXPECT_FALSE(text::IsValidUtf8("\xE0\x80\xAF"));      // Overlong, 3 bytes.
  EXPECT_FALSE(text::IsValidUtf8("\xED\xA0\x80"));      // Surrogate.
  EXPECT_FALSE(text::IsValidUtf8("\xF4\x90\x80\x80"));  // Above U+10FFFF.
  EXPECT_FALSE(text::IsValidUtf8("\xE2\x82"));          // Truncated.
  EXPECT_FALSE(text::IsValidUtf8("\x80"));              // Lone continuation.
}

}  // namespace
}  // namespace tangelo::telemetry
