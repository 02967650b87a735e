// The names every telemetry signal carries: which application emitted it and
// which critical path (business flow) it belongs to.
//
// Every metric, log line and span names its application, so the console can
// drill down from a path's dashboard into each application on that path.
// The numbers are stable: they may be stored (journal, exported data) and
// must never be renumbered.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tangelo::telemetry {

// One per application in DESIGN.md. 0 is deliberately not a value, so a
// forgotten field in a designated initializer is caught at registration.
enum class Application : uint8_t {
  kGateway = 1,
  kApi = 2,
  kAuthorizer = 3,
  kLedger = 4,
  kClearing = 5,
  kNotifier = 6,
  kConsole = 7,
  kChaos = 8,
};
inline constexpr uint8_t kApplicationCount = 8;

// The critical paths. kNone: the signal is not tied to one path (for example
// a ledger gauge that serves both), so no `path` label is emitted.
enum class CriticalPath : uint8_t {
  kNone = 0,
  kAuthorization = 1,
  kTransaction = 2,
};

// "gateway", "api", ...; "" for a value outside the enum.
std::string_view ApplicationName(Application application);
bool IsValidApplication(Application application);
// Inverse of ApplicationName; nullopt for an unknown name (case-sensitive).
std::optional<Application> ApplicationFromName(std::string_view name);

// "authorization", "transaction"; "" for kNone or a value outside the enum.
std::string_view CriticalPathName(CriticalPath path);
std::optional<CriticalPath> CriticalPathFromName(std::string_view name);

}  // namespace tangelo::telemetry
