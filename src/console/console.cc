#include "console/console.h"

#include "base/assert.h"
#include "console/status_json.h"

namespace tangelo::console {

Console::Console(ConsoleOptions options) : options_(options) {
  TG_ASSERT(options_.slo_engine != nullptr);
  TG_ASSERT(options_.window_ms > 0);
  if (options_.clock == nullptr) options_.clock = &io::SystemClock::Instance();
}

std::string Console::StatusJson() const {
  return BuildStatusJson(*options_.slo_engine, options_.clock->RealtimeNs() / 1'000'000,
                         options_.window_ms);
}

bool Console::Handle(const net::HttpRequest& request, net::HttpResponder& responder) const {
  const std::string_view path = request.path();
  const bool page = path == kConsolePath || path == "/console/";
  const bool status = path == kStatusPath;
  if (!page && !status) return false;
  if (request.method() != "GET" && request.method() != "HEAD") {
    responder.Respond(405, "method not allowed\n", "text/plain");
    return true;
  }
  if (page) {
    responder.Respond(200, IndexHtml(), "text/html; charset=utf-8");
  } else {
    responder.Respond(200, StatusJson(), "application/json");
  }
  return true;
}

}  // namespace tangelo::console
