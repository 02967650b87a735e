// Runs every tests/scenarios/authorization/*.scenario file (one behaviour per
// file, written for a payments reader; the language is in
// tests/scenarios/README.md). ctest runs tests from the repository root; set
// TANGELO_SCENARIO_DIR to run the binary from elsewhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "authorizer/scenario.h"

namespace tangelo::authorizer::testing {
namespace {

std::filesystem::path ScenarioDirectory() {
  if (const char* directory = std::getenv("TANGELO_SCENARIO_DIR")) return directory;
  return std::filesystem::path("tests") / "scenarios" / "authorization";
}

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(ScenarioDirectory(), error)) {
    if (entry.path().extension() == ".scenario") files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string Read(const std::string& file_name) {
  std::ifstream file(ScenarioDirectory() / file_name);
  EXPECT_TRUE(file.good()) << "cannot read " << file_name;
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string TestNameOf(const ::testing::TestParamInfo<std::string>& param_info) {
  std::string name = param_info.param.substr(0, param_info.param.rfind('.'));
  for (char& byte : name) {
    if (!std::isalnum(static_cast<unsigned char>(byte))) byte = '_';
  }
  return name;
}

class ScenarioTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioTest, Passes) {
  const ScenarioResult result = RunScenario(GetParam(), Read(GetParam()));
  for (const std::string& failure : result.failures) ADD_FAILURE() << failure;
  // A scenario that checks nothing cannot fail, so it does not count.
  EXPECT_GT(result.expectations_checked, 0) << GetParam() << " has no expectation";
}

INSTANTIATE_TEST_SUITE_P(Authorization, ScenarioTest, ::testing::ValuesIn(ScenarioFiles()),
                         TestNameOf);

// The same files with the client's decision over real HTTP (a local server
// playing the client, the production gateway); ctest runs these under the
// integration label.
class ScenarioOverHttpTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioOverHttpTest, Passes) {
  const ScenarioResult result =
      RunScenario(GetParam(), Read(GetParam()), ClientTransport::kHttp);
  for (const std::string& failure : result.failures) ADD_FAILURE() << failure;
  EXPECT_GT(result.expectations_checked, 0) << GetParam() << " has no expectation";
}

std::vector<std::string> ClientScenarioFiles() {
  std::vector<std::string> files;
  for (const std::string& file : ScenarioFiles()) {
    if (Read(file).find("\nclient ") != std::string::npos) files.push_back(file);
  }
  return files;
}

INSTANTIATE_TEST_SUITE_P(AuthorizationOverHttp, ScenarioOverHttpTest,
                         ::testing::ValuesIn(ClientScenarioFiles()), TestNameOf);

// The directory must hold scenarios: an empty run would pass silently.
TEST(ScenarioDirectoryTest, HasScenarios) {
  EXPECT_GE(ScenarioFiles().size(), 30u) << "no scenarios found under " << ScenarioDirectory();
}

// The language itself: a failing expectation is reported with its line.
TEST(ScenarioLanguageTest, ReportsFailuresWithLineNumbers) {
  const ScenarioResult result = RunScenario("inline", R"(tenant 1
program 10 currency=USD
user 100
account 1000 program=10 user=100
card 7 account=1000 user=100
fund account=1000 amount=50.00
authorize A1 card=7 amount=10.00
expect A1 declined reason=INSUFFICIENT_FUNDS
expect A1 approved code=00 available=40.00
)");
  // Line 8 is wrong twice (decision and reason); line 9 is right.
  ASSERT_EQ(result.failures.size(), 2u);
  for (const std::string& failure : result.failures) {
    EXPECT_NE(failure.find("inline:8:"), std::string::npos) << failure;
  }
  EXPECT_EQ(result.expectations_checked, 3);  // Two decisions and one amount.
}

TEST(ScenarioLanguageTest, RejectsUnknownVerbsAndBadValues) {
  const ScenarioResult result = RunScenario("bad", R"(tenant 1
frobnicate 3
advance 3x
program 10 currency=XYZ
)");
  EXPECT_EQ(result.failures.size(), 3u);
}

}  // namespace
}  // namespace tangelo::authorizer::testing
