// Router: matches (method, path) against a fixed table of patterns such as
// "/v1/cards/{}/status", where "{}" captures one path segment. No regex, no
// allocation per match: a pattern is pre-split into segments once, and a
// match walks the path's segments against each route in order (the table is
// a few dozen routes, so a linear scan is faster than anything cleverer).
// A path that matches some pattern under another method is reported so the
// caller can answer 405 with an Allow header.
//
// Thread safety: Add before use; Match is const and safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tangelo::api {

inline constexpr size_t kRouteSegmentsMax = 8;
inline constexpr size_t kRouteCapturesMax = 4;

struct RouteMatch {
  enum class Kind : uint8_t { kFound, kMethodNotAllowed, kNotFound };
  Kind kind = Kind::kNotFound;
  uint32_t route_id = 0;
  std::array<std::string_view, kRouteCapturesMax> captures{};
  std::string allow;  // Methods of the path, for 405 (only then).
};

class Router {
 public:
  // Precondition: pattern starts with '/', at most kRouteSegmentsMax
  // segments and kRouteCapturesMax captures.
  void Add(std::string_view method, std::string_view pattern, uint32_t route_id);
  RouteMatch Match(std::string_view method, std::string_view path) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{}" captures.
    uint32_t route_id;
  };
  std::vector<Route> routes_;
};

}  // namespace tangelo::api
