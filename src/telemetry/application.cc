#include "telemetry/application.h"

#include <array>

namespace tangelo::telemetry {
namespace {

constexpr std::array<std::string_view, kApplicationCount + 1> kApplicationNames = {
    "", "gateway", "api", "authorizer", "ledger", "clearing", "notifier", "console", "chaos"};

}  // namespace

bool IsValidApplication(Application application) {
  const auto number = static_cast<uint8_t>(application);
  return number >= 1 && number <= kApplicationCount;
}

std::string_view ApplicationName(Application application) {
  if (!IsValidApplication(application)) return "";
  return kApplicationNames[static_cast<uint8_t>(application)];
}

std::optional<Application> ApplicationFromName(std::string_view name) {
  for (uint8_t number = 1; number <= kApplicationCount; ++number) {
    if (kApplicationNames[number] == name) return static_cast<Application>(number);
  }
  return std::nullopt;
}

std::string_view CriticalPathName(CriticalPath path) {
  switch (path) {
    case CriticalPath::kAuthorization:
      return "authorization";
    case CriticalPath::kTransaction:
      return "transaction";
    case CriticalPath::kNone:
      break;
  }
  return "";
}

std::optional<CriticalPath> CriticalPathFromName(std::string_view name) {
  if (name == "authorization") return CriticalPath::kAuthorization;
  if (name == "transaction") return CriticalPath::kTransaction;
  return std::nullopt;
}

}  // namespace tangelo::telemetry
